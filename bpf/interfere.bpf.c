// SPDX-License-Identifier: GPL-2.0
/*
 * bench interfere: one flow is served entirely at the hook, the other goes
 * to a socket app.  A request to fast_port (UDP over IPv4, payload a
 * struct ifr_msg) costs `cost` bpf_loop rounds of hashing, is marked
 * made_at = IFR_MADE_AT_HOOK and sent back (XDP_TX, or tc bpf_redirect to
 * the device's egress) with addresses and ports swapped and the UDP
 * checksum cleared (0: none, valid for IPv4).  Everything else passes.
 * Per CPU: packets seen, fast-path replies made (redirected, bytes), passed,
 * failed redirects (errors).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"
#include "interfere.h"

#define ETH_P_IP        0x0800
#define ETH_ALEN        6
#define PROTO_UDP       17
#define TC_ACT_OK       0
#define TC_ACT_SHOT     2
#define TC_ACT_REDIRECT 7

char LICENSE[] SEC("license") = "GPL";

const volatile __u16 fast_port;  /* host order; 0 matches nothing */
const volatile __u32 cost;       /* bpf_loop rounds per fast-path request */

struct cpu_counters counters[OLAB_MAX_CPUS];
__u64 sink;                      /* keeps the work observable */

struct fast_req {
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	struct ifr_msg *msg;
};

/* [data, data_end) is a fast-path request: fill r. */
static __always_inline bool fast_request(void *data, void *data_end, struct fast_req *r)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct ifr_msg *msg = (void *)(udp + 1);

	if ((void *)(msg + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != PROTO_UDP || (ip->frag_off & bpf_htons(0x3fff)))
		return false;
	if (!fast_port || udp->dest != bpf_htons(fast_port) || msg->magic != IFR_MAGIC)
		return false;
	*r = (struct fast_req){ .eth = eth, .ip = ip, .udp = udp, .msg = msg };
	return true;
}

struct work {
	__u64 h, seed;
};

static long work_step(__u32 i, void *arg)
{
	struct work *w = arg;

	w->h = (w->h ^ (w->seed >> (i & 31)) ^ i) * 0x100000001b3ULL; /* FNV-style */
	return 0;
}

/* The request's work, then it becomes its own reply. */
static __always_inline void serve(struct fast_req *r)
{
	struct work w = { .h = 0xcbf29ce484222325ULL };
	__u8 mac[ETH_ALEN];
	__be32 addr;
	__be16 port;

	w.seed = r->msg->sent_ns ^ r->msg->seq;
	if (cost)
		bpf_loop(cost, work_step, &w, 0);
	sink = w.h;
	__builtin_memcpy(mac, r->eth->h_source, ETH_ALEN);
	__builtin_memcpy(r->eth->h_source, r->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(r->eth->h_dest, mac, ETH_ALEN);
	addr = r->ip->saddr;
	r->ip->saddr = r->ip->daddr;
	r->ip->daddr = addr;
	port = r->udp->source;
	r->udp->source = r->udp->dest;
	r->udp->dest = port;
	r->udp->check = 0;
	r->msg->made_at = IFR_MADE_AT_HOOK;
}

static __always_inline struct cpu_counters *seen(void)
{
	struct cpu_counters *c = counters_this_cpu(counters);

	if (c)
		c->packets++;
	return c;
}

SEC("xdp")
int interfere_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct cpu_counters *c = seen();
	struct fast_req r;

	if (!fast_request(data, data_end, &r)) {
		if (c)
			c->passed++;
		return XDP_PASS;
	}
	serve(&r);
	if (c) {
		c->redirected++;
		c->bytes += data_end - data;
	}
	return XDP_TX;
}

SEC("tc")
int interfere_tc(struct __sk_buff *skb)
{
	const __u32 need = sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr) +
			   sizeof(struct ifr_msg);
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct cpu_counters *c = seen();
	struct fast_req r;
	long ret;

	if (data + need > data_end && skb->len >= need)
		bpf_skb_pull_data(skb, need);
	if (!fast_request((void *)(long)skb->data, (void *)(long)skb->data_end, &r)) {
		if (c)
			c->passed++;
		return TC_ACT_OK;
	}
	serve(&r);
	ret = bpf_redirect(skb->ifindex, 0);
	if (c) {
		if (ret == TC_ACT_REDIRECT) {
			c->redirected++;
			c->bytes += skb->len;
		} else {
			c->errors++;
		}
	}
	return ret == TC_ACT_REDIRECT ? TC_ACT_REDIRECT : TC_ACT_SHOT;
}
