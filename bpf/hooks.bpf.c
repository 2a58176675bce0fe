// SPDX-License-Identifier: GPL-2.0
/*
 * The offloaded app at each hook, one program per hook family and action:
 *
 *   empty       return "pass" and touch nothing (the hook's bare overhead)
 *   count_pass  count the benchmark flow per CPU, pass it on
 *   drop        count it, drop it
 *   echo        make the reply at the hook: XDP swaps MACs, IPs and UDP
 *               ports and returns XDP_TX; tc/tcx swap and bpf_redirect() to
 *               the same device's egress; sk_skb redirects the data back out
 *               of the socket it arrived on
 *
 * Packet programs act only on UDP to bench_port (0: any UDP), over IPv4 or
 * IPv6 without extension headers; everything else passes uncounted.  Stream
 * programs act on sockets whose local port is bench_port (0: any).
 * Swapping addresses and ports leaves the IP and UDP checksums valid, as
 * long as the request carried a complete one: a veth peer with tx checksum
 * offload sends a partial one, which only an skb-based path (xdp-generic,
 * tc, tcx) carries back intact.  Native XDP_TX on a veth also needs an XDP
 * program on the peer, or the replies sit in its ring.
 *
 * Behind a stream parser (sk_parser) the verdict program sees the skb the
 * message was cut from, so stream counters count msg_size bytes a message.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"
#include "hooks.h"

#define ETH_P_IP   0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_ALEN   6
#define PROTO_UDP  17

/* uapi pkt_cls.h; tcx's TCX_PASS/TCX_DROP/TCX_REDIRECT have the same values. */
#define TC_ACT_OK       0
#define TC_ACT_SHOT     2
#define TC_ACT_REDIRECT 7

char LICENSE[] SEC("license") = "GPL";

/* Set before load. */
const volatile __u16 bench_port;     /* host order; 0: every UDP datagram / socket */
const volatile __u32 msg_size;       /* sk_parser: message size, 0: whole skb */

struct cpu_counters counters[OLAB_MAX_CPUS];

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, HOOK_SOCKMAP_MAX);
	__type(key, hook_sock_key_t);
	__type(value, __u64);
} sockmap SEC(".maps");

/* ---- packet hooks ---------------------------------------------------- */

/* Headers of a benchmark datagram, when [data, data_end) is one. */
struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip4;
	struct ipv6hdr *ip6;
	struct udphdr *udp;
};

static __always_inline bool bench_udp(void *data, void *data_end, struct pkt *p)
{
	struct ethhdr *eth = data;
	struct udphdr *udp;

	if ((void *)(eth + 1) > data_end)
		return false;
	p->eth = eth;
	p->ip4 = NULL;
	p->ip6 = NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != PROTO_UDP ||
		    (ip->frag_off & bpf_htons(0x3fff)))
			return false;
		p->ip4 = ip;
		udp = (void *)(ip + 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != PROTO_UDP)
			return false;
		p->ip6 = ip6;
		udp = (void *)(ip6 + 1);
	} else {
		return false;
	}
	if ((void *)(udp + 1) > data_end)
		return false;
	if (bench_port && udp->dest != bpf_htons(bench_port))
		return false;
	p->udp = udp;
	return true;
}

/* Turn a request into its reply in place: swap MACs, addresses and ports. */
static __always_inline void swap_reply(struct pkt *p)
{
	__u8 mac[ETH_ALEN];
	__be16 port;

	__builtin_memcpy(mac, p->eth->h_source, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, p->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(p->eth->h_dest, mac, ETH_ALEN);
	if (p->ip4) {
		__be32 a = p->ip4->saddr;

		p->ip4->saddr = p->ip4->daddr;
		p->ip4->daddr = a;
	} else if (p->ip6) {
		struct in6_addr a = p->ip6->saddr;

		p->ip6->saddr = p->ip6->daddr;
		p->ip6->daddr = a;
	}
	port = p->udp->source;
	p->udp->source = p->udp->dest;
	p->udp->dest = port;
}

static __always_inline struct cpu_counters *count(__u64 len)
{
	struct cpu_counters *c = counters_this_cpu(counters);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
	return c;
}

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_count_pass(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct cpu_counters *c;
	struct pkt p;

	if (!bench_udp(data, data_end, &p))
		return XDP_PASS;
	c = count(data_end - data);
	if (c)
		c->passed++;
	return XDP_PASS;
}

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct cpu_counters *c;
	struct pkt p;

	if (!bench_udp(data, data_end, &p))
		return XDP_PASS;
	c = count(data_end - data);
	if (c)
		c->dropped++;
	return XDP_DROP;
}

SEC("xdp")
int xdp_echo(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct cpu_counters *c;
	struct pkt p;

	if (!bench_udp(data, data_end, &p))
		return XDP_PASS;
	swap_reply(&p);
	c = count(data_end - data);
	if (c)
		c->redirected++;
	return XDP_TX;
}

/*
 * tc and tcx: data starts at the MAC header at ingress.  Headers not in the
 * linear area are pulled in once (only for packets that need it).
 */
static __always_inline bool tc_bench_udp(struct __sk_buff *skb, struct pkt *p)
{
	const __u32 hdrs = sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + sizeof(struct udphdr);
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;

	if (data + hdrs > data_end && skb->len > data_end - data) {
		if (bpf_skb_pull_data(skb, skb->len < hdrs ? skb->len : hdrs))
			return false;
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	return bench_udp(data, data_end, p);
}

SEC("tc")
int tc_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int tc_count_pass(struct __sk_buff *skb)
{
	struct cpu_counters *c;
	struct pkt p;

	if (!tc_bench_udp(skb, &p))
		return TC_ACT_OK;
	c = count(skb->len);
	if (c)
		c->passed++;
	return TC_ACT_OK;
}

SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	struct cpu_counters *c;
	struct pkt p;

	if (!tc_bench_udp(skb, &p))
		return TC_ACT_OK;
	c = count(skb->len);
	if (c)
		c->dropped++;
	return TC_ACT_SHOT;
}

SEC("tc")
int tc_echo(struct __sk_buff *skb)
{
	struct cpu_counters *c;
	struct pkt p;
	long ret;

	if (!tc_bench_udp(skb, &p))
		return TC_ACT_OK;
	swap_reply(&p);
	c = count(skb->len);
	ret = bpf_redirect(skb->ifindex, 0);
	if (c) {
		if (ret == TC_ACT_REDIRECT)
			c->redirected++;
		else
			c->errors++;
	}
	return ret == TC_ACT_REDIRECT ? TC_ACT_REDIRECT : TC_ACT_SHOT;
}

/* ---- stream hooks (sockmap) ----------------------------------------- */

static __always_inline bool bench_sock(struct __sk_buff *skb)
{
	return !bench_port || skb->local_port == bench_port;
}

/* Behind a parser skb->len is the whole skb's, so a message is msg_size bytes. */
static __always_inline struct cpu_counters *count_msg(struct __sk_buff *skb)
{
	return count(msg_size ? msg_size : skb->len);
}

SEC("sk_skb/stream_parser")
int sk_parser(struct __sk_buff *skb)
{
	return msg_size ? msg_size : skb->len;
}

SEC("sk_skb/stream_verdict")
int sk_empty(struct __sk_buff *skb)
{
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int sk_count_pass(struct __sk_buff *skb)
{
	struct cpu_counters *c;

	if (!bench_sock(skb))
		return SK_PASS;
	c = count_msg(skb);
	if (c)
		c->passed++;
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int sk_drop(struct __sk_buff *skb)
{
	struct cpu_counters *c;

	if (!bench_sock(skb))
		return SK_PASS;
	c = count_msg(skb);
	if (c)
		c->dropped++;
	return SK_DROP;
}

SEC("sk_skb/stream_verdict")
int sk_echo(struct __sk_buff *skb)
{
	hook_sock_key_t key;
	struct cpu_counters *c;
	long ret;

	if (!bench_sock(skb))
		return SK_PASS;
	key = bpf_get_socket_cookie(skb);
	c = count_msg(skb);
	/* flags 0: out of the socket's send side (egress). */
	ret = bpf_sk_redirect_hash(skb, &sockmap, &key, 0);
	if (c) {
		if (ret == SK_PASS)
			c->redirected++;
		else
			c->errors++;
	}
	return ret;
}
