// SPDX-License-Identifier: GPL-2.0
/*
 * percpu-in-sk-skb: a stream verdict that counts every run twice, once
 * exactly (an atomic add on a global) and once in a per-CPU slot the way
 * `mode` says:
 *   UNPROTECTED  read, a busy gap (bpf_loop), write the value + 1
 *   ATOMIC       the busy gap, then __sync_fetch_and_add on the slot
 *   SPIN_LOCK    the busy gap, then the update under bpf_spin_lock (an
 *                ARRAY value: spin locks are not allowed in per-CPU maps)
 * A run that starts while another is in flight on its CPU (depth > 0) is
 * counted as nested: the verdict runs from process context (socket
 * backlog, BH enabled) and from softirq, and only migration is disabled.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum { MODE_UNPROTECTED, MODE_ATOMIC, MODE_SPIN_LOCK };

__u32 mode;          /* set by user space between phases */
__u32 gap_iters = 200;
__u64 runs;          /* exact: atomic */
__u64 nested;        /* runs that began inside another run on their CPU */
__u64 sink;

struct slot {
	__u64 count;
	__u64 depth;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot);
} percpu SEC(".maps");

struct locked {
	struct bpf_spin_lock lock;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} shared SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 8);
	__type(key, __u64);
	__type(value, __u64);
} socks SEC(".maps");

static int spin(__u32 i, void *ctx)
{
	sink += i;
	return 0;
}

SEC("sk_skb/stream_verdict")
int percpu_verdict(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct slot *s = bpf_map_lookup_elem(&percpu, &key);
	struct locked *l = bpf_map_lookup_elem(&shared, &key);
	__u64 v;

	if (!s || !l)
		return SK_PASS;
	__sync_fetch_and_add(&runs, 1);
	if (s->depth)
		__sync_fetch_and_add(&nested, 1);
	s->depth++;
	switch (mode) {
	case MODE_UNPROTECTED:
		v = s->count;
		bpf_loop(gap_iters, spin, NULL, 0);
		s->count = v + 1;
		break;
	case MODE_ATOMIC:
		bpf_loop(gap_iters, spin, NULL, 0);
		__sync_fetch_and_add(&s->count, 1);
		break;
	default:
		bpf_loop(gap_iters, spin, NULL, 0);
		bpf_spin_lock(&l->lock);
		l->count++;
		bpf_spin_unlock(&l->lock);
	}
	s->depth--;
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
