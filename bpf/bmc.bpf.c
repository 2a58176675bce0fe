// SPDX-License-Identifier: GPL-2.0
/*
 * A BMC-style look-aside cache in front of memcached's UDP protocol
 * (bpf/bmc.h).  bmc_rx (XDP) answers single-key UDP GET hits with XDP_TX
 * and invalidates the keys of SET-like commands (TCP or UDP) on ingress;
 * bmc_tx (tc egress) fills the cache from memcached's own VALUE replies.
 * bmc_rx_allow is bmc_rx that answers only sources in the LPM trie allow4
 * and passes the others to the stack, so netfilter decides.
 * Each cache entry has its own bpf_spin_lock; all loops are bounded.
 * Limits, as in BMC: a SET that lands between memcached building a GET reply
 * and bmc_tx seeing it leaves the old value cached until the next SET; SET
 * lines past the first BMC_PKT_MAX payload bytes of a packet are not seen.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bmc.h"

#define ETH_P_IP      0x0800
#define PROTO_TCP     6
#define PROTO_UDP     17
#define TC_ACT_OK     0
#define ETH_ALEN      6
#define L4_OFF        (sizeof(struct ethhdr) + sizeof(struct iphdr))
#define UDP_DATA_OFF  (L4_OFF + sizeof(struct udphdr))
#define PKT_MASK      (BMC_PKT_MAX - 1)
/* buf[i] of a BMC_PKT_MAX buffer; the empty asm keeps clang from dropping the
 * mask the verifier needs when it can prove i in range by itself. */
#define AT_MASK(buf, i, mask) ({ __u32 ___i = (i); asm volatile("" : "+r"(___i)); (buf)[___i & (mask)]; })
#define AT(buf, i) AT_MASK(buf, i, PKT_MASK)

char LICENSE[] SEC("license") = "GPL";

/* Counters (the scenario reads them as counter.bmc.X). */
__u64 gets;            /* single-key UDP GETs seen at XDP */
__u64 hits;            /* ... answered with XDP_TX */
__u64 misses;          /* ... passed to memcached */
__u64 fills;           /* VALUE replies stored by bmc_tx */
__u64 fill_skips;      /* VALUE replies too big or malformed to store */
__u64 sets;            /* SET-like commands seen (TCP or UDP) */
__u64 invalidations;   /* valid entries they cleared */
__u64 outside_hits;    /* hits sent to sources outside home_net/home_plen */
__u64 refused;         /* GETs bmc_rx_allow passed: source not in allow4 */
__u64 tx_errors;       /* hits that could not be turned into a reply */

/* The clients' own network, for outside_hits (network order). */
const volatile __u32 home_net = bpf_htonl(0xc6120000); /* 198.18.0.0 */
const volatile __u32 home_plen = 24;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BMC_ENTRIES);
	__type(key, __u32);
	__type(value, struct bmc_entry);
} cache SEC(".maps");

/* GET replies sent from XDP, per client address (IPv4, network order). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} replies_by_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bmc_lpm4);
	__type(value, __u32);
} allow4 SEC(".maps");

/* Per-CPU scratch: the payload as loaded, and the reply being built. */
struct bmc_scratch {
	__u8 pkt[BMC_PKT_MAX];
	__u8 reply_hdr[BMC_HDR_LEN];   /* immediately followed by blob.data */
	struct bmc_blob blob;
	__u8 slack[8];                 /* blob.data[i & 511] stays inside */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bmc_scratch);
} scratch SEC(".maps");

static __always_inline struct bmc_scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/*
 * The loops live in global functions: the verifier checks each once, not
 * once per path into it (inlined, every key length was a path of its own).
 */

/* FNV-1a over s->pkt[off, off + len), len <= BMC_KEY_MAX. */
__noinline __u32 bmc_key_hash(const struct bmc_scratch *s, __u32 off, __u32 len)
{
	const __u8 *buf;
	__u32 h = 2166136261u;

	if (!s)
		return 0;
	buf = s->pkt;

	for (__u32 i = 0; i < BMC_KEY_MAX; i++) {
		if (i >= len)
			break;
		h ^= AT(buf, off + i);
		h *= 16777619u;
	}
	return h;
}

/* Length of the key at s->pkt[off...]: up to a space or CR, 0 if none, empty or too long. */
__noinline __u32 bmc_key_len(const struct bmc_scratch *s, __u32 off, __u32 end)
{
	const __u8 *buf;

	if (!s)
		return 0;
	buf = s->pkt;
	for (__u32 i = 0; i <= BMC_KEY_MAX; i++) {
		__u8 c;

		if (off + i >= end)
			return 0;
		c = AT(buf, off + i);
		/* memcached splits on spaces only (memaslap's keys start with 8 binary bytes). */
		if (c == ' ' || c == '\r')
			return i;
		if (c == '\n' || c == 0)
			return 0;
	}
	return 0;
}

static __always_inline bool has_word(const __u8 *buf, __u32 off, __u32 end,
				     const char *w, __u32 n)
{
	if (off + n > end)
		return false;
	for (__u32 i = 0; i < n; i++)
		if (AT(buf, off + i) != (__u8)w[i])
			return false;
	return true;
}

#define WORD(buf, off, end, s) (has_word(buf, off, end, s, sizeof(s) - 1) ? sizeof(s) - 1 : 0)

/* Length of a SET-like command word (with its space) at off, 0 if none. */
static __always_inline __u32 update_word(const __u8 *buf, __u32 off, __u32 end)
{
	__u32 n;

	if ((n = WORD(buf, off, end, "set ")) || (n = WORD(buf, off, end, "add ")) ||
	    (n = WORD(buf, off, end, "cas ")) || (n = WORD(buf, off, end, "delete ")) ||
	    (n = WORD(buf, off, end, "replace ")) || (n = WORD(buf, off, end, "append ")) ||
	    (n = WORD(buf, off, end, "prepend ")) || (n = WORD(buf, off, end, "incr ")) ||
	    (n = WORD(buf, off, end, "decr ")) || (n = WORD(buf, off, end, "touch ")))
		return n;
	return 0;
}

static __always_inline void invalidate(__u32 hash)
{
	__u32 slot = hash % BMC_ENTRIES;
	struct bmc_entry *e = bpf_map_lookup_elem(&cache, &slot);
	bool cleared = false;

	if (!e)
		return;
	bpf_spin_lock(&e->lock);
	if (e->valid && e->hash == hash) {
		e->valid = 0;
		cleared = true;
	}
	bpf_spin_unlock(&e->lock);
	if (cleared)
		__sync_fetch_and_add(&invalidations, 1);
}

struct scan_ctx {
	struct bmc_scratch *s;
	__u32 start, end;
};

/* bpf_loop callback: at each line start, invalidate a SET-like command's key. */
static long scan_line(__u32 i, void *data)
{
	struct scan_ctx *c = data;
	__u32 off = c->start + i, word, klen;
	const __u8 *buf = c->s->pkt;

	if (off >= c->end)
		return 1;
	if (i && AT(buf, off - 1) != '\n')
		return 0;
	word = update_word(buf, off, c->end);
	if (!word)
		return 0;
	__sync_fetch_and_add(&sets, 1);
	klen = bmc_key_len(c->s, off + word, c->end);
	if (klen && klen <= BMC_KEY_MAX)
		invalidate(bmc_key_hash(c->s, off + word, klen));
	return 0;
}

static __always_inline void scan_updates(struct bmc_scratch *s, __u32 start, __u32 end)
{
	struct scan_ctx c = { .s = s, .start = start, .end = end };

	if (start < end)
		bpf_loop(BMC_PKT_MAX, scan_line, &c, 0);
}

/* Load up to BMC_PKT_MAX payload bytes at off; returns how many. */
static __always_inline __u32 load_payload(struct xdp_md *ctx, struct bmc_scratch *s,
					  __u32 off, __u32 len)
{
	__u64 n = len > BMC_PKT_MAX ? BMC_PKT_MAX : len;

	asm volatile("" : "+r"(n));	/* 64-bit, checked in the register the helper gets */
	if (n < 1 || n > BMC_PKT_MAX || bpf_xdp_load_bytes(ctx, off, s->pkt, n))
		return 0;
	return n;
}

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* The frame's headers, 2 bytes in so that the IP header is 4-byte aligned. */
struct frame_hdrs {
	__u8 pad[2];
	__u8 eth_dst[ETH_ALEN], eth_src[ETH_ALEN];
	__be16 eth_proto;
	struct iphdr ip;
	struct udphdr udp;
};

/* The reply's headers from the request's: addresses and ports swapped, lengths
 * for a len-byte payload whose checksum (as it lies in memory) is part. */
static __always_inline void swap_headers(struct frame_hdrs *h, __u32 len, long part)
{
	__u8 mac[ETH_ALEN];
	__u16 *w = (__u16 *)&h->ip;
	__u64 sum = 0;
	__u32 addr;
	__u16 port;

	__builtin_memcpy(mac, h->eth_src, ETH_ALEN);
	__builtin_memcpy(h->eth_src, h->eth_dst, ETH_ALEN);
	__builtin_memcpy(h->eth_dst, mac, ETH_ALEN);
	addr = h->ip.saddr;
	h->ip.saddr = h->ip.daddr;
	h->ip.daddr = addr;
	h->ip.tot_len = bpf_htons(sizeof(h->ip) + sizeof(h->udp) + len);
	h->ip.check = 0;
	for (int i = 0; i < (int)sizeof(h->ip) / 2; i++)
		sum += w[i];
	h->ip.check = csum_fold(sum);
	port = h->udp.source;
	h->udp.source = h->udp.dest;
	h->udp.dest = port;
	h->udp.len = bpf_htons(sizeof(h->udp) + len);
	h->udp.check = 0;
	/* Pseudo-header and UDP header, summed as they lie in memory, as the payload was. */
	sum = (__u32)part;
	sum += (h->ip.saddr & 0xffff) + (h->ip.saddr >> 16);
	sum += (h->ip.daddr & 0xffff) + (h->ip.daddr >> 16);
	sum += bpf_htons(PROTO_UDP) + h->udp.len;
	sum += h->udp.source + h->udp.dest + h->udp.len;
	h->udp.check = csum_fold(sum) ?: 0xffff;
}

/* Make the frame UDP_DATA_OFF + len bytes long.  Growing uses the headroom first
 * (a veth runs XDP on the skb in place, with little tailroom), then the tailroom. */
static __always_inline int resize_frame(struct xdp_md *ctx, __u32 len)
{
	int delta = (int)(UDP_DATA_OFF + len) - (int)(ctx->data_end - ctx->data);

	if (delta > 0 && !bpf_xdp_adjust_head(ctx, -delta))
		return 0;
	return delta ? bpf_xdp_adjust_tail(ctx, delta) : 0;
}

/* Turn the request into the reply: payload from s (len bytes), headers swapped.
 * -1: failed, frame unchanged; -2: failed after resizing it. */
static __always_inline int write_reply(struct xdp_md *ctx, struct bmc_scratch *s, __u32 len)
{
	struct frame_hdrs h;
	__u32 padded = (len + 3) & ~3u;
	long part;

	if (len > BMC_HDR_LEN + BMC_DATA_MAX || padded > 512 ||
	    bpf_xdp_load_bytes(ctx, 0, h.eth_dst, UDP_DATA_OFF))
		return -1;
	part = bpf_csum_diff(NULL, 0, (__be32 *)s->reply_hdr, padded, 0);
	if (part < 0 || resize_frame(ctx, len))
		return -1;
	swap_headers(&h, len, part);
	if (bpf_xdp_store_bytes(ctx, 0, h.eth_dst, UDP_DATA_OFF) ||
	    bpf_xdp_store_bytes(ctx, UDP_DATA_OFF, s->reply_hdr, len))
		return -2;	/* resized: no longer the request */
	return 0;
}

static __always_inline void count_reply(__u32 saddr)
{
	__u64 one = 1, *n;
	__u32 mask = home_plen ? bpf_htonl(~0u << (32 - home_plen)) : 0;

	if ((saddr & mask) != (home_net & mask))
		__sync_fetch_and_add(&outside_hits, 1);
	n = bpf_map_lookup_elem(&replies_by_src, &saddr);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&replies_by_src, &saddr, &one, BPF_NOEXIST);
}

/* The request's key (pkt[12, 12 + klen)) against the copied entry's "VALUE key ". */
__noinline int bmc_key_matches(const struct bmc_scratch *s, __u32 klen)
{
	const __u8 *v;

	if (!s)
		return 0;
	v = s->blob.data;

	if (klen > BMC_KEY_MAX || s->blob.len < 6 + klen + 1 || AT_MASK(v, 6 + klen, 511) != ' ')
		return false;
	for (__u32 i = 0; i < BMC_KEY_MAX; i++) {
		if (i >= klen)
			break;
		if (AT_MASK(v, 6 + i, 511) != AT(s->pkt, BMC_HDR_LEN + 4 + i))
			return false;
	}
	return true;
}

/* A single-key GET in s->pkt[0, len): answer it from the cache or pass it. */
static __always_inline int answer_get(struct xdp_md *ctx, struct bmc_scratch *s,
				      __u32 klen, __u32 saddr)
{
	__u32 hash = bmc_key_hash(s, BMC_HDR_LEN + 4, klen), slot = hash % BMC_ENTRIES;
	struct bmc_entry *e = bpf_map_lookup_elem(&cache, &slot);
	bool found = false;
	__u32 n;
	int err;

	__sync_fetch_and_add(&gets, 1);
	if (!e)
		goto miss;
	bpf_spin_lock(&e->lock);
	if (e->valid && e->hash == hash) {
		s->blob = e->blob;
		found = true;
	}
	bpf_spin_unlock(&e->lock);
	if (!found || !bmc_key_matches(s, klen))
		goto miss;
	n = s->blob.len;
	if (n > BMC_BLOB_CAP)
		goto miss;
	/* Reply frame header: the request's id, sequence 0 of 1 datagram. */
	s->reply_hdr[0] = s->pkt[0];
	s->reply_hdr[1] = s->pkt[1];
	*(__u32 *)&s->reply_hdr[2] = 0;
	s->reply_hdr[5] = 1;
	s->reply_hdr[6] = 0;
	s->reply_hdr[7] = 0;
	__builtin_memcpy(&s->blob.data[n], "END\r\n\0\0\0", 8);
	err = write_reply(ctx, s, BMC_HDR_LEN + n + 5);
	if (err) {
		__sync_fetch_and_add(&tx_errors, 1);
		return err == -1 ? XDP_PASS : XDP_DROP;	/* -1: frame unchanged */
	}
	__sync_fetch_and_add(&hits, 1);
	count_reply(saddr);
	return XDP_TX;
miss:
	__sync_fetch_and_add(&misses, 1);
	return XDP_PASS;
}

static __always_inline bool allowed(__u32 saddr)
{
	struct bmc_lpm4 key = { .prefixlen = 32 };

	__builtin_memcpy(key.addr, &saddr, 4);
	return bpf_map_lookup_elem(&allow4, &key) != NULL;
}

/* UDP to memcached: s->pkt holds len payload bytes (frame header first). */
static __always_inline int rx_udp(struct xdp_md *ctx, struct bmc_scratch *s, __u32 len,
				  __u32 saddr, bool use_allow)
{
	const __u8 *p = s->pkt;
	__u32 klen;

	if (len < BMC_HDR_LEN + 4)
		return XDP_PASS;
	/* One datagram per request, as memcached requires. */
	if (p[4] != 0 || p[5] != 1)
		return XDP_PASS;
	if (!has_word(p, BMC_HDR_LEN, len, "get ", 4)) {
		scan_updates(s, BMC_HDR_LEN, len);
		return XDP_PASS;
	}
	klen = bmc_key_len(s, BMC_HDR_LEN + 4, len);
	/* Exactly "get <key>\r\n": multi-key GETs and junk go to memcached. */
	if (!klen || klen > BMC_KEY_MAX || BMC_HDR_LEN + 4 + klen + 2 != len ||
	    AT(p, BMC_HDR_LEN + 4 + klen) != '\r' ||
	    AT(p, BMC_HDR_LEN + 5 + klen) != '\n')
		return XDP_PASS;
	if (use_allow && !allowed(saddr)) {
		__sync_fetch_and_add(&refused, 1);
		return XDP_PASS;
	}
	return answer_get(ctx, s, klen, saddr);
}

static __always_inline int bmc_rx_common(struct xdp_md *ctx, bool use_allow)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct bmc_scratch *s;
	__u32 tot, l4len, hlen, n;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < sizeof(*ip) || (void *)ip + tot > data_end)
		return XDP_PASS;
	l4len = tot - sizeof(*ip);
	s = scratch_get();
	if (!s)
		return XDP_PASS;
	if (ip->protocol == PROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(BMC_PORT) ||
		    bpf_ntohs(udp->len) != l4len)
			return XDP_PASS;
		n = load_payload(ctx, s, UDP_DATA_OFF, l4len - sizeof(*udp));
		return n == l4len - sizeof(*udp) ? rx_udp(ctx, s, n, ip->saddr, use_allow) : XDP_PASS;
	}
	if (ip->protocol == PROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);

		if ((void *)(tcp + 1) > data_end || tcp->dest != bpf_htons(BMC_PORT))
			return XDP_PASS;
		hlen = tcp->doff * 4;
		if (hlen < sizeof(*tcp) || hlen >= l4len)
			return XDP_PASS;
		n = load_payload(ctx, s, L4_OFF + hlen, l4len - hlen);
		scan_updates(s, 0, n);
	}
	return XDP_PASS;
}

SEC("xdp")
int bmc_rx(struct xdp_md *ctx)
{
	return bmc_rx_common(ctx, false);
}

SEC("xdp")
int bmc_rx_allow(struct xdp_md *ctx)
{
	return bmc_rx_common(ctx, true);
}

/* For the clients' end of a veth: native XDP_TX frames reach a veth peer only
 * when it runs XDP itself (its NAPI ring); this one passes everything. */
SEC("xdp")
int bmc_peer_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Digits at buf[off...] up to the byte stop: their value, and *next past stop. */
static __always_inline bool parse_num(const __u8 *buf, __u32 off, __u32 end, __u8 stop,
				      __u64 *val, __u32 *next)
{
	__u64 v = 0;

	for (__u32 i = 0; i < 21; i++) {
		__u8 c;

		if (off + i >= end)
			return false;
		c = AT(buf, off + i);
		if (c == stop && i > 0) {
			*val = v;
			*next = off + i + 1;
			return true;
		}
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	return false;
}

/* "VALUE <key> <flags> <bytes>\r\n<data>\r\n" exactly fills buf[0, len)?  Key length. */
__noinline __u32 bmc_parse_value(const struct bmc_scratch *s, __u32 len)
{
	const __u8 *buf;
	__u32 klen, off;
	__u64 flags, bytes;

	if (!s)
		return 0;
	buf = s->pkt;

	if (!has_word(buf, 0, len, "VALUE ", 6))
		return 0;
	klen = bmc_key_len(s, 6, len);
	if (!klen || klen > BMC_KEY_MAX || AT(buf, 6 + klen) != ' ')
		return 0;
	if (!parse_num(buf, 7 + klen, len, ' ', &flags, &off) ||
	    !parse_num(buf, off, len, '\r', &bytes, &off))
		return 0;
	if (off >= len || AT(buf, off) != '\n')
		return 0;
	if ((__u64)off + 1 + bytes + 2 != len ||
	    AT(buf, len - 2) != '\r' || AT(buf, len - 1) != '\n')
		return 0;
	return klen;
}

static __always_inline void fill(struct bmc_scratch *s, __u32 hash)
{
	__u32 slot = hash % BMC_ENTRIES;
	struct bmc_entry *e = bpf_map_lookup_elem(&cache, &slot);

	if (!e)
		return;
	bpf_spin_lock(&e->lock);
	e->blob = s->blob;
	e->hash = hash;
	e->valid = 1;
	bpf_spin_unlock(&e->lock);
	__sync_fetch_and_add(&fills, 1);
}

/* memcached's UDP reply to one GET hit: "VALUE ...\r\n<data>\r\nEND\r\n" in one datagram. */
SEC("tc")
int bmc_tx(struct __sk_buff *skb)
{
	struct iphdr ip;
	struct udphdr udp;
	__u8 mc[BMC_HDR_LEN];
	struct bmc_scratch *s;
	__u32 plen, blen, klen;
	__be16 proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2) || proto != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, sizeof(struct ethhdr), &ip, sizeof(ip)) ||
	    ip.ihl != 5 || ip.protocol != PROTO_UDP || (ip.frag_off & bpf_htons(0x3fff)) ||
	    bpf_skb_load_bytes(skb, L4_OFF, &udp, sizeof(udp)) ||
	    udp.source != bpf_htons(BMC_PORT) ||
	    bpf_skb_load_bytes(skb, UDP_DATA_OFF, mc, sizeof(mc)))
		return TC_ACT_OK;
	plen = bpf_ntohs(udp.len);
	if (plen != bpf_ntohs(ip.tot_len) - sizeof(ip) ||
	    plen < sizeof(udp) + BMC_HDR_LEN + 5 + 6)
		return TC_ACT_OK;
	/* One datagram of one, or memcached split the reply: not ours to keep. */
	if (mc[2] || mc[3] || mc[4] || mc[5] != 1)
		return TC_ACT_OK;
	blen = plen - sizeof(udp) - BMC_HDR_LEN - 5;	/* without "END\r\n" */
	s = scratch_get();
	if (!s)
		return TC_ACT_OK;
	if (blen > BMC_BLOB_CAP) {
		__sync_fetch_and_add(&fill_skips, 1);
		return TC_ACT_OK;
	}
	/* The body, and its "END\r\n" after it in pkt. */
	if (bpf_skb_load_bytes(skb, UDP_DATA_OFF + BMC_HDR_LEN, s->pkt, blen + 5))
		return TC_ACT_OK;
	if (!has_word(s->pkt, blen, blen + 5, "END\r\n", 5))
		return TC_ACT_OK;
	klen = bmc_parse_value(s, blen);
	if (!klen || klen > BMC_KEY_MAX) {
		__sync_fetch_and_add(&fill_skips, 1);
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, UDP_DATA_OFF + BMC_HDR_LEN, s->blob.data, blen))
		return TC_ACT_OK;
	s->blob.len = blen;
	fill(s, bmc_key_hash(s, 6, klen));
	return TC_ACT_OK;
}
