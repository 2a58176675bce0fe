// SPDX-License-Identifier: GPL-2.0
/*
 * The scenario engine's example offload (scenarios/udp-echo-xdp.yaml and the
 * tests' fixtures): it offloads nothing, it counts.  XDP on ingress counts
 * every packet and the UDP ones to port; tc egress counts what leaves; the
 * per-CPU array "stats" holds [0] UDP packets to port, [1] their bytes.
 * Counters are global variables, which `scenario` expectations read as
 * counter.NAME.VAR.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP 0x0800
#define IPPROTO_UDP 17

const volatile __u16 port = 11211;

__u64 rx_packets;
__u64 rx_udp_port;
__u64 tx_packets;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline bool udp_to_port(void *data, void *end, __u32 *len)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return false;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end || udp->dest != bpf_htons(port))
		return false;
	*len = (__u32)(end - data);
	return true;
}

static __always_inline void count_stat(__u32 idx, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &idx);

	if (c)
		*c += v;
}

SEC("xdp")
int count_rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 len;

	__sync_fetch_and_add(&rx_packets, 1);
	if (udp_to_port(data, end, &len)) {
		__sync_fetch_and_add(&rx_udp_port, 1);
		count_stat(0, 1);
		count_stat(1, len);
	}
	return XDP_PASS;
}

SEC("tc")
int count_tx(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&tx_packets, 1);
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
