// SPDX-License-Identifier: GPL-2.0
/*
 * head-of-line: two programs chained at one tcx ingress hook.  tc_slow
 * spends a fixed number of bpf_loop rounds on every packet of the flow and
 * says TCX_NEXT; tc_pass counts the flow and lets it through.
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

static __always_inline bool flow_udp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return false;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != PROTO_UDP)
		return false;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return false;
	return flow_port && udp->dest == bpf_htons(flow_port);
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
	__u64 acc = 1;

	if (!flow_udp(skb))
		return TCX_NEXT;
	bpf_loop(slow_iters, spin, &acc, 0);
	sink = acc;
	__sync_fetch_and_add(&slow_packets, 1);
	return TCX_NEXT;
}

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	if (flow_udp(skb))
		__sync_fetch_and_add(&pass_packets, 1);
	return TCX_PASS;
}
