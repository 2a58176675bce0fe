// SPDX-License-Identifier: GPL-2.0
/*
 * bench maps: each run does MAPS_OPS_PER_RUN operations (bpf/maps.h `op`)
 * on the keys of an access sequence user space wrote into `seq` (uniform or
 * Zipf), from where the last run stopped; timed (bpf/micro.h).  The target
 * map's type, size, key size and flags are set before load; the contention
 * ops work on one key of their own maps.  MOP_NONE walks the same sequence
 * without the map operation: the reference that is subtracted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "micro.h"

const volatile __u32 op = MOP_NONE;
const volatile __u32 seq_mask = MAPS_SEQ_MIN - 1;

struct micro_loop loop_stats;
__u64 sink;
__u64 ops_done;     /* operations done (sequence steps walked) */
__u64 hits;         /* lookups that found their key, updates that succeeded */
__u32 pos;          /* where the next run starts in the sequence */

/* Type, entries, key size and flags set by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, 8);
} target SEC(".maps");

/* The access sequence: a key index per slot, written through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, MAPS_SEQ_MIN);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct maps_locked);
} locked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu_counter SEC(".maps");

MICRO_SOCKMAP;

/* The contention ops on key 0: 1 when done. */
static __always_inline __u32 contend(void)
{
	__u32 zero = 0;
	struct maps_locked *l;
	volatile __u64 *v;

	switch (op) {
	case MOP_RMW:
		v = bpf_map_lookup_elem(&counter, &zero);
		if (!v)
			return 0;
		*v = *v + 1; /* load, add, store: another CPU may write in between */
		return 1;
	case MOP_ATOMIC:
		v = bpf_map_lookup_elem(&counter, &zero);
		if (!v)
			return 0;
		__sync_fetch_and_add(v, 1);
		return 1;
	case MOP_SPIN_LOCK:
		l = bpf_map_lookup_elem(&locked, &zero);
		if (!l)
			return 0;
		bpf_spin_lock(&l->lock);
		l->n++;
		bpf_spin_unlock(&l->lock);
		return 1;
	case MOP_PERCPU:
		v = bpf_map_lookup_elem(&percpu_counter, &zero);
		if (!v)
			return 0;
		*v = *v + 1;
		return 1;
	}
	return 0;
}

static __always_inline __u32 one(__u32 *key, __u64 idx, __u64 *acc)
{
	__u64 *v, val = idx;

	key[0] = (__u32)idx;
	switch (op) {
	case MOP_LOOKUP:
		v = bpf_map_lookup_elem(&target, key);
		if (!v)
			return 0;
		*acc += *v;
		return 1;
	case MOP_UPDATE:
		return bpf_map_update_elem(&target, key, &val, BPF_ANY) == 0;
	case MOP_NONE:
		*acc += key[0];
		return 0;
	}
	return contend();
}

static __always_inline void walk(void)
{
	__u32 key[MAPS_KEY_MAX / 4] = {};
	__u32 start = pos, i, n = 0;
	__u64 acc = 0;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAPS_OPS_PER_RUN; i++) {
		__u32 at = (start + i) & seq_mask;
		__u64 *k = bpf_map_lookup_elem(&seq, &at);

		if (!k)
			break;
		n += one(key, *k, &acc);
	}
	pos = start + i;
	sink += acc;
	__sync_fetch_and_add(&ops_done, i);
	__sync_fetch_and_add(&hits, n);
}

SEC("xdp")
int maps_xdp(struct xdp_md *ctx)
{
	MICRO_TIMED(loop_stats, walk());
	return XDP_PASS;
}

SEC("tc")
int maps_tc(struct __sk_buff *skb)
{
	MICRO_TIMED(loop_stats, walk());
	return 0; /* TC_ACT_OK */
}

SEC("sk_skb/stream_verdict")
int maps_sk(struct __sk_buff *skb)
{
	MICRO_TIMED(loop_stats, walk());
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
