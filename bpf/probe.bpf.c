// SPDX-License-Identifier: GPL-2.0
/*
 * Feature probes for `offloadlab env`: one tiny program per feature.  User
 * space (lib/features.c) opens the skeleton afresh for every probe and loads
 * only the program under test (and only the maps it uses), so one feature the
 * kernel lacks never hides another.  Each program counts its runs in .bss so
 * a probe can prove the hook really fired, not only that it attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define TC_ACT_OK 0
#define NF_ACCEPT 1
#define PROBE_RB_MAGIC 0x0ff10adULL
#define PROBE_LOOP_N 16

char LICENSE[] SEC("license") = "GPL";

__u64 xdp_hits;
__u64 tc_hits;
__u64 tcx_hits;
__u64 nf_hits;
__u64 parser_hits;
__u64 verdict_hits;
__u64 msg_hits;
__u64 cg_hits;
__u64 fentry_hits;
__u64 loop_sum;
__u64 urb_sum;
__u64 urb_samples;

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} sock_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} sock_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} urb SEC(".maps");

struct lock_val {
	struct bpf_spin_lock lock;
	__u64 cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lock_val);
} lock_map SEC(".maps");

/* xdp_native, xdp_generic */
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&xdp_hits, 1);
	return XDP_PASS;
}

/* xdp_live_frames: every injected frame is dropped after being counted. */
SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&xdp_hits, 1);
	return XDP_DROP;
}

/* tc_clsact */
SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tc_hits, 1);
	return TC_ACT_OK;
}

/* tcx: the same program type, attached through a tcx link. */
SEC("tc")
int tcx_pass(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tcx_hits, 1);
	return TCX_PASS;
}

/*
 * netfilter_link: libbpf 1.1 does not know SEC("netfilter"); user space sets
 * BPF_PROG_TYPE_NETFILTER and BPF_NETFILTER before loading.
 */
SEC("netfilter")
int nf_accept(struct bpf_nf_ctx *ctx)
{
	__sync_fetch_and_add(&nf_hits, 1);
	return NF_ACCEPT;
}

/* sk_skb_parser: one message per skb. */
SEC("sk_skb/stream_parser")
int skb_parser(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&parser_hits, 1);
	return skb->len;
}

/* sk_skb_verdict */
SEC("sk_skb/stream_verdict")
int skb_verdict(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&verdict_hits, 1);
	return SK_PASS;
}

/* sk_msg */
SEC("sk_msg")
int msg_verdict(struct sk_msg_md *msg)
{
	__sync_fetch_and_add(&msg_hits, 1);
	return SK_PASS;
}

/* cgroup_skb */
SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&cg_hits, 1);
	return 1;
}

/* fentry: bpf_fentry_test1 only runs under BPF_PROG_TEST_RUN of this program. */
SEC("fentry/bpf_fentry_test1")
int BPF_PROG(fentry_probe, int a)
{
	__sync_fetch_and_add(&fentry_hits, 1);
	return 0;
}

/* ringbuf: one record per run. */
SEC("xdp")
int rb_output(struct xdp_md *ctx)
{
	__u64 v = PROBE_RB_MAGIC;

	bpf_ringbuf_output(&rb, &v, sizeof(v), 0);
	return XDP_PASS;
}

/* user_ringbuf: sums the u64 samples user space produced. */
static long urb_cb(struct bpf_dynptr *dynptr, void *ctx)
{
	__u64 v = 0;

	if (bpf_dynptr_read(&v, sizeof(v), dynptr, 0, 0))
		return 1;
	urb_sum += v;
	urb_samples++;
	return 0;
}

SEC("xdp")
int urb_drain(struct xdp_md *ctx)
{
	bpf_user_ringbuf_drain(&urb, urb_cb, NULL, 0);
	return XDP_PASS;
}

/* bpf_loop: sum of 0..PROBE_LOOP_N-1 through a callback. */
static long loop_cb(__u32 i, void *ctx)
{
	*(__u64 *)ctx += i;
	return 0;
}

SEC("xdp")
int loop_prog(struct xdp_md *ctx)
{
	__u64 sum = 0;
	long n;

	n = bpf_loop(PROBE_LOOP_N, loop_cb, &sum, 0);
	loop_sum = sum;
	return n == PROBE_LOOP_N ? XDP_PASS : XDP_ABORTED;
}

/* spin_lock: counts runs under the lock in a map value. */
SEC("xdp")
int lock_prog(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct lock_val *v;

	v = bpf_map_lookup_elem(&lock_map, &key);
	if (!v)
		return XDP_ABORTED;
	bpf_spin_lock(&v->lock);
	v->cnt++;
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}
