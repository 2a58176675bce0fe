// SPDX-License-Identifier: GPL-2.0
/*
 * Packet programs for the checks: tc_slot0..3, 6, 7 (tc cls_bpf direct-action and
 * tcx, whose return codes are the same numbers) and xdp_slot4..5.  See
 * bpf/checks.h for what a slot does.  Packets outside the flow get the
 * "carry on" verdict of the hook (TC_ACT_UNSPEC / TCX_NEXT, XDP_PASS).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "checks.h"

#define ETH_P_IP      0x0800
#define PROTO_UDP     17
#define TC_ACT_UNSPEC (-1)

char LICENSE[] SEC("license") = "GPL";

__u16 flow_port;                 /* host order; 0 matches nothing */
__s32 verdict[CHECK_SLOTS];
__u32 set_mark[CHECK_SLOTS];
__u64 packets[CHECK_SLOTS];
__u64 marked[CHECK_SLOTS];       /* packets that arrived with CHECK_MARK */
__u32 log_n;
__u32 log_slot[CHECK_LOG_MAX];

static __always_inline bool flow_udp(void *data, void *data_end)
{
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

/* Not atomic (clang 14 without -mcpu=v3 has no fetch-and-add value): the
 * order checks send one packet at a time. */
static __always_inline void log_run(__u32 slot)
{
	__u32 i = log_n;

	if (i < CHECK_LOG_MAX)
		log_slot[i] = slot;
	log_n = i + 1;
}

static __always_inline int tc_slot(struct __sk_buff *skb, __u32 slot)
{
	if (!flow_udp((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_UNSPEC;
	__sync_fetch_and_add(&packets[slot], 1);
	if (skb->mark == CHECK_MARK)
		__sync_fetch_and_add(&marked[slot], 1);
	if (set_mark[slot])
		skb->mark = CHECK_MARK;
	log_run(slot);
	return verdict[slot];
}

SEC("tc") int tc_slot0(struct __sk_buff *skb) { return tc_slot(skb, 0); }
SEC("tc") int tc_slot1(struct __sk_buff *skb) { return tc_slot(skb, 1); }
SEC("tc") int tc_slot2(struct __sk_buff *skb) { return tc_slot(skb, 2); }
SEC("tc") int tc_slot3(struct __sk_buff *skb) { return tc_slot(skb, 3); }
SEC("tc") int tc_slot6(struct __sk_buff *skb) { return tc_slot(skb, 6); }
SEC("tc") int tc_slot7(struct __sk_buff *skb) { return tc_slot(skb, 7); }

static __always_inline int xdp_slot(struct xdp_md *ctx, __u32 slot)
{
	if (!flow_udp((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_PASS;
	__sync_fetch_and_add(&packets[slot], 1);
	log_run(slot);
	return verdict[slot] & 0xff;
}

SEC("xdp") int xdp_slot4(struct xdp_md *ctx) { return xdp_slot(ctx, 4); }
SEC("xdp") int xdp_slot5(struct xdp_md *ctx) { return xdp_slot(ctx, 5); }

/* tc ingress: send the flow to redirect_ifindex, into its peer's ingress
 * (bpf_redirect_peer) or out of it (bpf_redirect), with the MACs of the
 * new link, as a container network plugin does. */
__u32 redirect_ifindex;
__u32 redirect_peer;
__u32 redirect_mark;          /* set on the skb before redirecting, 0: leave */
__u8 redirect_src_mac[6];
__u8 redirect_dst_mac[6];
__u64 redirect_packets;

SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
	if (!flow_udp((void *)(long)skb->data, (void *)(long)skb->data_end) || !redirect_ifindex)
		return TC_ACT_UNSPEC;
	__sync_fetch_and_add(&redirect_packets, 1);
	if (redirect_mark)
		skb->mark = redirect_mark;
	bpf_skb_store_bytes(skb, 0, redirect_dst_mac, 6, 0);
	bpf_skb_store_bytes(skb, 6, redirect_src_mac, 6, 0);
	if (redirect_peer)
		return bpf_redirect_peer(redirect_ifindex, 0);
	return bpf_redirect(redirect_ifindex, 0);
}

/* Forwarding in XDP: rewrite the MACs and redirect the flow to fwd_ifindex
 * (counted in slot 5).  The IP header is left alone: no TTL decrement. */
__u32 fwd_ifindex;
__u8 fwd_src_mac[6];
__u8 fwd_dst_mac[6];

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (!flow_udp(data, data_end) || !fwd_ifindex)
		return XDP_PASS;
	__sync_fetch_and_add(&packets[5], 1);
	__builtin_memcpy(eth->h_source, fwd_src_mac, 6);
	__builtin_memcpy(eth->h_dest, fwd_dst_mac, 6);
	return bpf_redirect(fwd_ifindex, 0);
}
