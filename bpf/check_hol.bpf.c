// SPDX-License-Identifier: GPL-2.0
/*
 * head-of-line: two programs chained at one tcx ingress hook.  tc_slow
 * spends a fixed number of bpf_loop rounds on every packet of the flow and
 * says TCX_NEXT; tc_pass counts the flow and lets it through.  Each request
 * carries a sequence number: tc_pass counts a packet as having waited when
 * tc_slow finished with that very request before tc_pass saw it, and adds
 * up how long after tc_slow's start that was (the in-kernel wait).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP   0x0800
#define PROTO_UDP  17
#define TCX_NEXT   (-1)
#define TCX_PASS   0

char LICENSE[] SEC("license") = "GPL";

__u16 flow_port;                 /* host order; 0 matches nothing */
__u32 slow_iters;                /* bpf_loop rounds per packet */
__u64 slow_packets;
__u64 pass_packets;
__u64 sink;                      /* keeps the loop's work observable */
/* The last request tc_slow finished with, and when it started on it. */
__u32 slow_done_seq;
__u64 slow_start_ns;
/* tc_pass: packets that reached it after tc_slow was done with them. */
__u64 waited_packets;
__u64 waited_ns;                 /* sum of (tc_pass start - tc_slow start) */

/* The flow's request sequence number (first 4 payload bytes), -1: not ours. */
static __always_inline long flow_seq(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != PROTO_UDP)
		return -1;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) + sizeof(__u32) > data_end)
		return -1;
	if (!flow_port || udp->dest != bpf_htons(flow_port))
		return -1;
	return *(__u32 *)(udp + 1);
}

static long spin(__u32 i, void *arg)
{
	__u64 *acc = arg;

	*acc = *acc * 6364136223846793005ULL + i;
	return 0;
}

SEC("tc")
int tc_slow(struct __sk_buff *skb)
{
	__u64 acc = 1, start = bpf_ktime_get_ns();
	long seq = flow_seq(skb);

	if (seq < 0)
		return TCX_NEXT;
	bpf_loop(slow_iters, spin, &acc, 0);
	sink = acc;
	slow_start_ns = start;
	slow_done_seq = (__u32)seq;
	__sync_fetch_and_add(&slow_packets, 1);
	return TCX_NEXT;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	__u64 now = bpf_ktime_get_ns();
	long seq = flow_seq(skb);

	if (seq < 0)
		return TCX_PASS;
	__sync_fetch_and_add(&pass_packets, 1);
	if (slow_done_seq == (__u32)seq && slow_start_ns && now >= slow_start_ns) {
		__sync_fetch_and_add(&waited_packets, 1);
		__sync_fetch_and_add(&waited_ns, now - slow_start_ns);
	}
	return TCX_PASS;
}
