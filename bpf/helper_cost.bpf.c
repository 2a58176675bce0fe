// SPDX-License-Identifier: GPL-2.0
/*
 * bench helpers: each run calls one helper `iters` times in a bpf_loop
 * (pairs that change the packet change it back), timed (bpf/micro.h).
 * op HOP_NONE is the same loop without the helper.  The packet passes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "helper_cost.h"
#include "micro.h"

#define AF_INET 2
#define BPF_ADJ_ROOM_NET 0
#define UDP_CSUM_OFF (14 + 20 + 6)

const volatile __u32 op = HOP_NONE;
const volatile __u32 iters = 1000;

struct micro_loop loop_stats;
__u64 sink;
__s64 failures;   /* helper calls that returned an error */
__s64 last_error; /* the last such error (-errno) */

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} devmap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} array SEC(".maps");

MICRO_SOCKMAP;

static __always_inline void note(long ret)
{
	if (ret < 0) {
		failures++;
		last_error = ret;
	}
}

/* Helpers every hook has: ctx is the program's context. */
static __always_inline void common_op(void *ctx)
{
	struct bpf_fib_lookup fib = { .family = AF_INET, .ifindex = 1,
				      .ipv4_src = bpf_htonl(0xc6120001),
				      .ipv4_dst = bpf_htonl(0xc6120002) };
	__u32 words[5] = { 1, 2, 3, 4, 5 }, key = 0;

	switch (op) {
	case HOP_FIB_LOOKUP:
		sink += bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
		break;
	case HOP_CSUM_DIFF:
		sink += bpf_csum_diff(0, 0, words, sizeof(words), 0);
		break;
	case HOP_MAP_LOOKUP:
		sink += bpf_map_lookup_elem(&array, &key) != NULL;
		break;
	case HOP_SMP_PROCESSOR_ID:
		sink += bpf_get_smp_processor_id();
		break;
	case HOP_REDIRECT:
		sink += bpf_redirect(1, 0);
		break;
	case HOP_REDIRECT_MAP:
		sink += bpf_redirect_map(&devmap, 0, 0);
		break;
	}
}

struct xdp_loop { struct xdp_md *ctx; };

static int xdp_step(__u32 i, void *arg)
{
	struct xdp_md *ctx = ((struct xdp_loop *)arg)->ctx;

	switch (op) {
	case HOP_XDP_ADJUST_HEAD:
		note(bpf_xdp_adjust_head(ctx, 8));
		note(bpf_xdp_adjust_head(ctx, -8));
		break;
	case HOP_XDP_ADJUST_TAIL:
		note(bpf_xdp_adjust_tail(ctx, -8));
		note(bpf_xdp_adjust_tail(ctx, 8));
		break;
	default:
		common_op(ctx);
	}
	return 0;
}

SEC("xdp")
int helper_cost_xdp(struct xdp_md *ctx)
{
	struct xdp_loop l = { ctx };

	MICRO_TIMED(loop_stats, bpf_loop(iters, xdp_step, &l, 0));
	return XDP_PASS;
}

struct skb_loop { struct __sk_buff *skb; };

static int skb_step(__u32 i, void *arg)
{
	struct __sk_buff *skb = ((struct skb_loop *)arg)->skb;
	__u32 len = skb->len;

	switch (op) {
	case HOP_SKB_ADJUST_ROOM:
		note(bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0));
		note(bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, 0));
		break;
	case HOP_SKB_CHANGE_TAIL:
		note(bpf_skb_change_tail(skb, len + 8, 0));
		note(bpf_skb_change_tail(skb, len, 0));
		break;
	case HOP_L4_CSUM_REPLACE:
		note(bpf_l4_csum_replace(skb, UDP_CSUM_OFF, 1, 2, 2));
		note(bpf_l4_csum_replace(skb, UDP_CSUM_OFF, 2, 1, 2));
		break;
	default:
		common_op(skb);
	}
	return 0;
}

SEC("tc")
int helper_cost_tc(struct __sk_buff *skb)
{
	struct skb_loop l = { skb };

	MICRO_TIMED(loop_stats, bpf_loop(iters, skb_step, &l, 0));
	return 0; /* TC_ACT_OK */
}

SEC("sk_skb/stream_verdict")
int helper_cost_sk(struct __sk_buff *skb)
{
	struct skb_loop l = { skb };

	MICRO_TIMED(loop_stats, bpf_loop(iters, skb_step, &l, 0));
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
