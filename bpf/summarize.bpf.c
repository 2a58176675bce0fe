// SPDX-License-Identifier: GPL-2.0
/*
 * bench summarize: pass pct % of each request to the app as its summary.
 *
 *   summarize_xdp, summarize_tc  UDP requests (struct sum_hdr at the start
 *       of each datagram's payload).  A request in one datagram is shrunk
 *       to header + summary (bpf_xdp_adjust_tail / bpf_skb_change_tail),
 *       IP total length, IP checksum and UDP length fixed, UDP checksum 0.
 *       A request over several datagrams: per-flow state (source port +
 *       request id) adds up its bytes; non-final segments are dropped, the
 *       one that completes it passes shrunk to the summary, capped at the
 *       request bytes that datagram carries.  pct 0: every datagram dropped.
 *       MTU 1500 and segments <= MTU: no XDP multi-buffer (frags) needed.
 *   summarize_parser + summarize_sk  TCP behind a stream parser: the parser
 *       cuts each request of req_size into two messages, its summary and the
 *       rest (per-socket phase in a map keyed by socket cookie); the verdict
 *       redirects the summary to the socket's own ingress (bpf_sk_redirect_hash
 *       BPF_F_INGRESS) and drops the rest.
 *   summarize_sk alone (no parser)  each skb shrunk to pct % of its bytes
 *       (bpf_skb_change_tail; for GRO-merged skbs, which it refuses with
 *       -EINVAL, bpf_skb_adjust_room from the head) and passed (SK_PASS):
 *       no request framing, a per-skb summary.  UDP sockets: one verdict a
 *       datagram, decided as at the packet hooks, SK_PASS.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"
#include "hooks.h"
#include "summarize.h"

#define ETH_P_IP    0x0800
#define PROTO_UDP   17
#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define BPF_F_INGRESS_FLAG 1
#define L3_OFF      14
#define L4_OFF      (L3_OFF + 20)
#define PAY_OFF     (L4_OFF + 8)
#define E2BIG_      7

char LICENSE[] SEC("license") = "GPL";

const volatile __u16 bench_port;   /* host order; 0: any */
const volatile __u32 pct;          /* summary % of each request */
const volatile __u32 req_size;     /* request bytes */
const volatile __u32 parser_on;    /* the verdict runs behind summarize_parser */
const volatile __u32 udp_sock;     /* the verdict runs on UDP sockets */

struct sum_counters counters[OLAB_MAX_CPUS];

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SUM_FLOWS_MAX);
	__type(key, struct sum_flow_key);
	__type(value, struct sum_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, HOOK_SOCKMAP_MAX);
	__type(key, hook_sock_key_t);
	__type(value, __u64);
} sockmap SEC(".maps");

/* The calling CPU's counters (the empty asm: see bpf/counters.h). */
static __always_inline struct sum_counters *this_cpu(void)
{
	__u64 cpu = bpf_get_smp_processor_id();

	if (cpu >= OLAB_MAX_CPUS)
		return NULL;
	asm volatile("" : "+r"(cpu));
	return &counters[cpu];
}

/* Parser phase per socket: which part of a request the current message is. */
enum { PART_WHOLE, PART_SUMMARY, PART_REST };
struct sum_phase {
	__u32 cur;       /* PART_* of the message the parser cut last */
	__u32 next_rest; /* the next message is a request's rest */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, HOOK_SOCKMAP_MAX);
	__type(key, hook_sock_key_t);
	__type(value, struct sum_phase);
} phases SEC(".maps");

/* ---- UDP: the decision, shared by xdp and tc ------------------------- */

/*
 * One datagram with header h and chunk request bytes: 0 drop it, else pass
 * it with *keep request bytes after the header.
 */
static __always_inline int decide(__u16 sport, const struct sum_hdr *h, __u32 chunk, __u32 *keep)
{
	struct sum_counters *c = this_cpu();
	__u32 sum = sum_len_of(req_size, pct), avail = chunk;

	if (!c)
		return 0;
	c->datagrams++;
	c->bytes_in += chunk;
	if (h->nseg > 1) {
		struct sum_flow_key k = { .sport = sport, .id = h->id };
		struct sum_flow zero = {}, *f = bpf_map_lookup_elem(&flows, &k);
		__u32 bytes, segs;

		if (!f) {
			bpf_map_update_elem(&flows, &k, &zero, BPF_NOEXIST);
			f = bpf_map_lookup_elem(&flows, &k);
			if (!f) {
				c->errors++;
				return 0;
			}
		}
		/* A flow's datagrams are received on one CPU (one rx queue). */
		bytes = f->bytes += chunk;
		segs = ++f->segs;
		if (segs < h->nseg) {
			c->segs_held++;
			return 0;
		}
		bpf_map_delete_elem(&flows, &k);
		if (bytes != req_size) {
			c->errors++;
			return 0;
		}
	} else if (chunk != req_size) {
		c->errors++;
		return 0;
	}
	c->requests_done++;
	if (!sum) {
		c->requests_dropped++;
		return 0;
	}
	if (sum > avail) {
		sum = avail;
		c->capped++;
	}
	c->summary_bytes += sum;
	*keep = sum;
	return 1;
}

/* RFC 1624 incremental update of the IPv4 header checksum for a new total length. */
static __always_inline __u16 ip_csum_new_len(__u16 check, __u16 old_len, __u16 new_len)
{
	__u32 s = (~bpf_ntohs(check) & 0xffff) + (~old_len & 0xffff) + new_len;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return bpf_htons(~s & 0xffff);
}

static __always_inline void count_error(void)
{
	struct sum_counters *c = this_cpu();

	if (c)
		c->errors++;
}

/* ---- xdp -------------------------------------------------------------- */

struct xdp_view {
	struct iphdr *ip;
	struct udphdr *udp;
	struct sum_hdr *h;
};

/* The benchmark flow's IPv4/UDP headers and sum_hdr, or false. */
static __always_inline bool xdp_parse(struct xdp_md *ctx, struct xdp_view *v)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return false;
	v->ip = (void *)(eth + 1);
	if ((void *)(v->ip + 1) > end || v->ip->ihl != 5 || v->ip->protocol != PROTO_UDP ||
	    (v->ip->frag_off & bpf_htons(0x3fff)))
		return false;
	v->udp = (void *)(v->ip + 1);
	if ((void *)(v->udp + 1) > end || (bench_port && v->udp->dest != bpf_htons(bench_port)))
		return false;
	v->h = (void *)(v->udp + 1);
	return (void *)(v->h + 1) <= end;
}

SEC("xdp")
int summarize_xdp(struct xdp_md *ctx)
{
	struct xdp_view v;
	struct sum_hdr h;
	__u32 plen, keep = 0;
	__u16 ip_len;

	if (!xdp_parse(ctx, &v))
		return XDP_PASS;
	plen = bpf_ntohs(v.udp->len);
	if (plen < sizeof(struct udphdr) + SUM_HDR_LEN) {
		count_error();
		return XDP_PASS;
	}
	h = *v.h;
	plen -= sizeof(struct udphdr) + SUM_HDR_LEN;
	if (!decide(v.udp->source, &h, plen, &keep))
		return XDP_DROP;
	if (keep < plen) {
		if (bpf_xdp_adjust_tail(ctx, -(int)(plen - keep))) {
			count_error();
			return XDP_DROP;
		}
		if (!xdp_parse(ctx, &v)) {
			count_error();
			return XDP_DROP;
		}
		ip_len = sizeof(struct iphdr) + sizeof(struct udphdr) + SUM_HDR_LEN + keep;
		v.ip->check = ip_csum_new_len(v.ip->check, bpf_ntohs(v.ip->tot_len), ip_len);
		v.ip->tot_len = bpf_htons(ip_len);
		v.udp->len = bpf_htons(ip_len - sizeof(struct iphdr));
		v.udp->check = 0;
	}
	return XDP_PASS;
}

/* ---- tc --------------------------------------------------------------- */

SEC("tc")
int summarize_tc(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;
	struct sum_hdr h;
	__u32 plen, keep = 0;
	__u16 ip_len;
	__be16 be;

	if (skb->protocol != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, L3_OFF, &ip, sizeof(ip)) || ip.ihl != 5 ||
	    ip.protocol != PROTO_UDP || (ip.frag_off & bpf_htons(0x3fff)) ||
	    bpf_skb_load_bytes(skb, L4_OFF, &udp, sizeof(udp)) ||
	    (bench_port && udp.dest != bpf_htons(bench_port)))
		return TC_ACT_OK;
	plen = bpf_ntohs(udp.len);
	if (plen < sizeof(udp) + SUM_HDR_LEN || bpf_skb_load_bytes(skb, PAY_OFF, &h, sizeof(h))) {
		count_error();
		return TC_ACT_OK;
	}
	plen -= sizeof(udp) + SUM_HDR_LEN;
	if (!decide(udp.source, &h, plen, &keep))
		return TC_ACT_SHOT;
	if (keep >= plen)
		return TC_ACT_OK;
	ip_len = sizeof(ip) + sizeof(udp) + SUM_HDR_LEN + keep;
	if (bpf_skb_change_tail(skb, L3_OFF + ip_len, 0))
		goto fail;
	be = bpf_htons(ip_len);
	if (bpf_l3_csum_replace(skb, L3_OFF + offsetof(struct iphdr, check), ip.tot_len, be, 2) ||
	    bpf_skb_store_bytes(skb, L3_OFF + offsetof(struct iphdr, tot_len), &be, 2, 0))
		goto fail;
	be = bpf_htons(ip_len - sizeof(ip));
	if (bpf_skb_store_bytes(skb, L4_OFF + offsetof(struct udphdr, len), &be, 2, 0))
		goto fail;
	be = 0;
	if (bpf_skb_store_bytes(skb, L4_OFF + offsetof(struct udphdr, check), &be, 2, 0))
		goto fail;
	return TC_ACT_OK;
fail:
	count_error();
	return TC_ACT_SHOT;
}

/* ---- sk_skb (TCP) ------------------------------------------------------ */

static __always_inline bool bench_sock(struct __sk_buff *skb)
{
	return !bench_port || skb->local_port == bench_port;
}

SEC("sk_skb/stream_parser")
int summarize_parser(struct __sk_buff *skb)
{
	__u32 sum = sum_len_of(req_size, pct);
	hook_sock_key_t key = bpf_get_socket_cookie(skb);
	struct sum_phase zero = {}, *ph;

	ph = bpf_map_lookup_elem(&phases, &key);
	if (!ph) {
		bpf_map_update_elem(&phases, &key, &zero, BPF_NOEXIST);
		ph = bpf_map_lookup_elem(&phases, &key);
		if (!ph)
			return req_size;
	}
	if (!sum || sum >= req_size) {
		ph->cur = PART_WHOLE;
		return req_size;
	}
	if (ph->next_rest) {
		ph->next_rest = 0;
		ph->cur = PART_REST;
		return req_size - sum;
	}
	ph->next_rest = 1;
	ph->cur = PART_SUMMARY;
	return sum;
}

/* Redirect to the socket's own ingress (a plain SK_PASS behind a parser
 * stalls on 6.18). */
static __always_inline int to_own_ingress(struct __sk_buff *skb, struct sum_counters *c)
{
	hook_sock_key_t key = bpf_get_socket_cookie(skb);
	long ret = bpf_sk_redirect_hash(skb, &sockmap, &key, BPF_F_INGRESS_FLAG);

	if (ret != SK_PASS)
		c->errors++;
	return ret;
}

/* Behind the parser: one call per message (a summary, a rest, or whole). */
static __always_inline int verdict_framed(struct __sk_buff *skb, struct sum_counters *c)
{
	__u32 sum = sum_len_of(req_size, pct);
	hook_sock_key_t key = bpf_get_socket_cookie(skb);
	struct sum_phase *ph = bpf_map_lookup_elem(&phases, &key);

	c->datagrams++;
	if (!ph) {
		c->errors++;
		return SK_DROP;
	}
	if (ph->cur == PART_SUMMARY) {
		c->summary_bytes += sum;
		c->bytes_in += sum;
		return to_own_ingress(skb, c);
	}
	c->requests_done++;
	if (ph->cur == PART_REST) {
		c->bytes_in += req_size - sum;
		return SK_DROP;
	}
	c->bytes_in += req_size;
	if (!sum) {
		c->requests_dropped++;
		return SK_DROP;
	}
	c->summary_bytes += req_size;
	return to_own_ingress(skb, c);
}

/* Cut n bytes off the head, 4095 at a time (sk_skb_adjust_room's limit). */
static __always_inline long cut_head(struct __sk_buff *skb, __u32 n)
{
	for (int i = 0; i < 17 && n; i++) {
		__u32 k = n > 0xfff ? 0xfff : n;
		long r = bpf_skb_adjust_room(skb, -(__s32)k, 0, 0);

		if (r)
			return r;
		n -= k;
	}
	return n ? -E2BIG_ : 0;
}

/*
 * No parser: each skb shrunk to pct % of its bytes and passed (SK_PASS:
 * the psock queues it for the socket without the backlog worker).
 * bpf_skb_change_tail refuses (-EINVAL) GRO-merged skbs here; those are
 * cut from the head with bpf_skb_adjust_room instead (counted in capped).
 */
static __always_inline int verdict_skb(struct __sk_buff *skb, struct sum_counters *c)
{
	__u32 len = skb->len, keep = sum_len_of(len, pct);
	long r = 0;

	if (!len)
		return SK_PASS; /* nothing to summarize */
	c->datagrams++;
	c->bytes_in += len;
	if (!keep) {
		c->requests_dropped++;
		return SK_DROP;
	}
	if (keep < len && bpf_skb_change_tail(skb, keep, 0)) {
		c->capped++;
		r = cut_head(skb, len - keep);
	}
	if (r) {
		c->errors++;
		return SK_DROP;
	}
	c->summary_bytes += keep;
	return SK_PASS; /* no parser: passing does not stall */
}

/*
 * UDP sockets (no parser): each skb is one datagram, struct sum_hdr at
 * data + 0; per-flow state as at the packet hooks (source port unknown
 * here: key 0, one sender).  Shrunk with bpf_skb_change_tail, SK_PASS.
 */
static __always_inline int verdict_udp(struct __sk_buff *skb)
{
	struct sum_hdr h;
	__u32 keep = 0, len = skb->len;

	if (len < SUM_HDR_LEN || bpf_skb_load_bytes(skb, 0, &h, sizeof(h))) {
		count_error();
		return SK_PASS;
	}
	if (!decide(0, &h, len - SUM_HDR_LEN, &keep))
		return SK_DROP;
	if (SUM_HDR_LEN + keep < len && bpf_skb_change_tail(skb, SUM_HDR_LEN + keep, 0)) {
		count_error();
		return SK_DROP;
	}
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int summarize_sk(struct __sk_buff *skb)
{
	struct sum_counters *c = this_cpu();

	if (!bench_sock(skb))
		return SK_PASS;
	if (!c)
		return SK_DROP;
	if (udp_sock)
		return verdict_udp(skb);
	return parser_on ? verdict_framed(skb, c) : verdict_skb(skb, c);
}
