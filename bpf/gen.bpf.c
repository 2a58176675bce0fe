// SPDX-License-Identifier: GPL-2.0
/*
 * The traffic generator and its sink.
 *
 * gen_xdp is run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on a
 * frame built in user space and returns XDP_TX, so the kernel transmits every
 * run out of the ingress veth.  Live mode copies the frame into page-pool
 * pages once and then recycles them *without* re-copying, so the program
 * writes the source port and the UDP checksum absolutely (from rodata), never
 * incrementally from what is in the page.
 *
 * Each test_run call adds the program to the XDP dispatcher and removes it
 * again, two synchronize_rcu() (~26 ms here) per call, unless the program is
 * already there: so user space also attaches it to lo in the gen namespace.
 *
 * sink_xdp sits on the DUT end of the veth: it counts (per CPU) and drops the
 * generator's UDP datagrams and marks the source ports it saw.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"
#include "gen.h"

#define ETH_P_IP   0x0800
#define ETH_P_IPV6 0x86DD

char LICENSE[] SEC("license") = "GPL";

/* Generator parameters, set before load. */
const volatile __u32 gen_family = 4;
const volatile __u32 gen_nflows = 1;
const volatile __u32 gen_csum_partial;  /* see gen_udp_csum_with_port() */
const volatile __u32 gen_ifindex;       /* the gen veth: test_run's ingress_ifindex */

/* Sink parameters: UDP port to count (0: any), pass instead of drop. */
const volatile __u16 sink_dport = GEN_DPORT;
const volatile __u8 sink_pass;

struct cpu_counters gen_cnt[OLAB_MAX_CPUS];
struct cpu_counters sink_cnt[OLAB_MAX_CPUS];
__u8 sink_port_seen[65536];

SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cpu_counters *c = counters_this_cpu(gen_cnt);
	struct udphdr *udp;
	__u16 sport;

	/* Also attached (generic XDP) to the gen namespace's lo, only to keep it
	 * in the kernel's XDP dispatcher: frames seen there pass untouched. */
	if (ctx->ingress_ifindex != gen_ifindex)
		return XDP_PASS;
	if (!c)
		return XDP_DROP;
	udp = data + (gen_family == 6 ? GEN_L4_OFF(6) : GEN_L4_OFF(4));
	if ((void *)(udp + 1) > data_end) {
		c->errors++;
		return XDP_DROP;
	}
	if (gen_nflows > 1) {
		/* Each CPU walks the flows in turn, by its own sequence number. */
		sport = bpf_htons(gen_flow_sport(c->packets % gen_nflows));
		udp->source = sport;
		udp->check = gen_udp_csum_with_port(gen_csum_partial, sport);
	}
	c->packets++;
	c->bytes += data_end - data;
	return XDP_TX;
}

SEC("xdp")
int sink_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cpu_counters *c = counters_this_cpu(sink_cnt);
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u16 sport;

	if (!c)
		return XDP_PASS;
	if ((void *)(eth + 1) > data_end)
		goto other;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl < 5)
			goto other;
		udp = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			goto other;
		udp = (void *)(ip6 + 1);
	} else {
		goto other;
	}
	if ((void *)(udp + 1) > data_end)
		goto other;
	if (sink_dport && udp->dest != bpf_htons(sink_dport))
		goto other;

	c->packets++;
	c->bytes += data_end - data;
	sport = bpf_ntohs(udp->source);
	if (!sink_port_seen[sport])
		sink_port_seen[sport] = 1;
	if (sink_pass) {
		c->passed++;
		return XDP_PASS;
	}
	c->dropped++;
	return XDP_DROP;
other:
	c->passed++;
	return XDP_PASS;
}
