// SPDX-License-Identifier: GPL-2.0
/*
 * An HTTP/2 parser (bpf/parse.h: struct http2_result) for what a client
 * sends: an optional connection preface, then whole frames (RFC 9113), at
 * most PARSE_MAX_FRAMES.  Every frame header is recorded; SETTINGS pairs are
 * recorded and checked; HEADERS blocks are decoded with HPACK (RFC 7541):
 * integers, the static table, literals with and without indexing, never
 * indexed, Huffman strings when PARSE_HUFFMAN is 1.  The dynamic table is
 * not kept: a literal with incremental indexing only counts an insertion, a
 * reference to an entry that would be there is TOO_BIG/PW_DYNAMIC, one past
 * the insertions is MALFORMED (evictions are not modelled).  No CONTINUATION
 * (a HEADERS frame without END_HEADERS is TOO_BIG/PW_UNSUPPORTED), no
 * stream states.  Frame size limit: the default 16384.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "parse.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http2_result);
} parse_out SEC(".maps");

/* The Huffman decoder's state, in memory (see struct framing in
 * parse_http1.bpf.c: a verifier that tracks no value prunes every bit alike). */
struct huff_state {
	__u32 code, bits, out;
};

struct h2_scratch {
	struct parse_buf msg;
	struct huff_state hs;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct h2_scratch);
} parse_msg SEC(".maps");

#define H2_STATIC_LEN 61        /* RFC 7541 Appendix A */
#define H2_MAX_FRAME 16384      /* SETTINGS_MAX_FRAME_SIZE's default */
#define H2_TABLE_MAX 4096       /* SETTINGS_HEADER_TABLE_SIZE's default */

enum { T_DATA, T_HEADERS, T_PRIORITY, T_RST, T_SETTINGS, T_PUSH, T_PING, T_GOAWAY,
       T_WINDOW, T_CONTINUATION };
#define F_END_HEADERS 0x4
#define F_PADDED 0x8
#define F_PRIORITY 0x20
#define F_ACK 0x1

#if PARSE_HUFFMAN
/*
 * The HPACK Huffman code (RFC 7541 Appendix B) is canonical: it follows from
 * the code lengths alone.  For each length: its first code, the index of its
 * first symbol in syms (symbols sorted by length, then value), how many.
 * EOS (256) is the last symbol, one past syms.  Generated from the RFC's
 * code lengths (the codes were checked against the RFC's).
 */
static const struct {
	__u32 first[32];
	__u16 base[32];
	__u8 cnt[32];
	__u8 syms[256];
} huff_tab = {
	.first = {
		0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x14, 0x5c,
		0xf8, 0x0, 0x3f8, 0x7fa, 0xffa, 0x1ff8, 0x3ffc, 0x7ffc,
		0x0, 0x0, 0x0, 0x7fff0, 0xfffe6, 0x1fffdc, 0x3fffd2, 0x7fffd8,
		0xffffea, 0x1ffffec, 0x3ffffe0, 0x7ffffde, 0xfffffe2, 0x0, 0x3ffffffc, 0x0,
	},
	.base = {
		0, 0, 0, 0, 0, 0, 10, 36, 68, 0, 74, 79, 82, 84, 90, 92,
		0, 0, 0, 95, 98, 106, 119, 145, 174, 186, 190, 205, 224, 0, 253, 0,
	},
	.cnt = {
		0, 0, 0, 0, 0, 10, 26, 32, 6, 0, 5, 3, 2, 6, 2, 3,
		0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4, 0,
	},
	.syms = {
		48, 49, 50, 97, 99, 101, 105, 111, 115, 116, 32, 37, 45, 46, 47, 51,
		52, 53, 54, 55, 56, 57, 61, 65, 95, 98, 100, 102, 103, 104, 108, 109,
		110, 112, 114, 117, 58, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
		77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 89, 106, 107, 113, 118,
		119, 120, 121, 122, 38, 42, 44, 59, 88, 90, 33, 34, 40, 41, 63, 39,
		43, 124, 35, 62, 0, 36, 64, 91, 93, 126, 94, 125, 60, 96, 123, 92,
		195, 208, 128, 130, 131, 162, 184, 194, 224, 226, 153, 161, 167, 172, 176, 177,
		179, 209, 216, 217, 227, 229, 230, 129, 132, 133, 134, 136, 146, 154, 156, 160,
		163, 164, 169, 170, 173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232,
		233, 1, 135, 137, 138, 139, 140, 141, 143, 147, 149, 150, 151, 152, 155, 157,
		158, 165, 166, 168, 174, 175, 180, 182, 183, 188, 191, 197, 231, 239, 9, 142,
		144, 145, 148, 159, 171, 206, 215, 225, 236, 237, 199, 207, 234, 235, 192, 193,
		200, 201, 202, 205, 210, 213, 218, 219, 238, 240, 242, 243, 255, 203, 204, 211,
		212, 214, 221, 222, 223, 241, 244, 245, 246, 247, 248, 250, 251, 252, 253, 254,
		2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20,
		21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 220, 249, 10, 13, 22,
	},
};

/*
 * Decode the n Huffman-coded bytes at p into r->huff.  Returns the offset of
 * the decoded bytes in r->huff (their length: r->huff_len - offset), or -1.
 */
PARSE_STEP int huff_decode(struct h2_scratch *s, struct http2_result *r, __u32 p, __u32 n)
{
	volatile struct huff_state *h;
	__u32 start, byte, code, bits, k, out;

	if (!s || !r)
		return -1;
	h = &s->hs;
	start = r->huff_len;
	h->code = h->bits = 0;
	h->out = start;
	for (__u32 i = 0; i < PARSE_MAX_HEADER_LEN * 8; i++) {
		if (i >= n * 8)
			break;
		byte = parse_at(&s->msg, p + (i >> 3));
		code = h->code << 1 | ((byte >> (7 - (i & 7))) & 1);
		bits = h->bits + 1;
		h->code = code;
		h->bits = bits;
		bits = parse_opaque(bits) & 31;
		if (code - huff_tab.first[bits] >= huff_tab.cnt[bits])
			continue;
		k = huff_tab.base[bits] + code - huff_tab.first[bits];
		if (k >= 256)           /* EOS */
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
		out = h->out;
		if (out >= PARSE_HUFF_BUF)
			return parse_fail(&r->h, PARSE_TOO_BIG, PW_LINE, p);
		r->huff[parse_opaque(out) & (PARSE_HUFF_BUF - 1)] = huff_tab.syms[parse_opaque(k) & 255];
		h->out = out + 1;
		h->code = h->bits = 0;
	}
	/* Padding: fewer than 8 bits, all ones (a prefix of EOS). */
	bits = h->bits;
	if (bits > 7 || h->code != (1u << bits) - 1)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	r->huff_len = h->out;
	return start;
}
#endif

/* An HPACK integer with an N-bit prefix (mask 2^N - 1) at *pp, at most 4
 * continuation bytes.  Returns it, or -1 (the block ends, or too long). */
static __always_inline long hpack_int(const struct parse_buf *s, __u32 *pp, __u32 end, __u32 mask)
{
	__u32 p = *pp, v, b;

	if (p >= end)
		return -1;
	v = parse_at(s, p++) & mask;
	if (v == mask) {
		for (int k = 0; k < 5; k++) {
			if (k == 4 || p >= end)
				return -1;
			b = parse_at(s, p++);
			v += (b & 0x7f) << (7 * k);
			if (!(b & 0x80))
				break;
		}
	}
	*pp = p;
	return v;
}

/* A string literal at *pp: its source and span.  Returns 0 or -1. */
static __always_inline int hpack_string(struct h2_scratch *s, struct http2_result *r,
					__u32 *pp, __u32 end, struct parse_span *sp)
{
	__u32 p = *pp;
	int huff, n;

	if (p >= end)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	huff = parse_at(&s->msg, p) & 0x80;
	n = hpack_int(&s->msg, &p, end, 0x7f);
	if (n < 0 || n > end - p)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, *pp);
	if (n > PARSE_MAX_HEADER_LEN)
		return parse_fail(&r->h, PARSE_TOO_BIG, PW_LINE, *pp);
	*pp = p + n;
	sp->off = p;
	sp->len = n;
	if (!huff)
		return H2_LITERAL;
#if PARSE_HUFFMAN
	n = huff_decode(s, r, p, n);
	if (n < 0)
		return -1;
	sp->off = n;
	sp->len = r->huff_len - n;
	return H2_HUFF;
#else
	return parse_fail(&r->h, PARSE_TOO_BIG, PW_HUFFMAN, p);
#endif
}

/* An index into the static table (>= 1): 0, or -1 if it is not there. */
static __always_inline int static_index(struct http2_result *r, long idx, __u32 p)
{
	if (idx > 0 && idx <= H2_STATIC_LEN)
		return 0;
	if (idx > H2_STATIC_LEN && idx <= H2_STATIC_LEN + r->dyn_inserts)
		return parse_fail(&r->h, PARSE_TOO_BIG, PW_DYNAMIC, p);
	return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
}

/* One field representation at *pp into fl (a size update: fl->rep 0). */
PARSE_STEP int hpack_field(struct h2_scratch *s, struct http2_result *r, __u32 *pp, __u32 end,
			   struct h2_field *fl)
{
	__u32 at, b, mask;
	long idx;
	int src;

	if (!s || !r || !pp || !fl)
		return -1;
	at = *pp;
	b = parse_at(&s->msg, at);

	if ((b & 0xe0) == 0x20) {               /* dynamic table size update */
		idx = hpack_int(&s->msg, pp, end, 0x1f);
		if (idx < 0 || idx > H2_TABLE_MAX)
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, at);
		if (idx == 0)
			r->dyn_inserts = 0;
		fl->rep = 0;
		return 0;
	}
	fl->rep = b & 0x80 ? H2_INDEXED : b & 0x40 ? H2_INCREMENTAL : b & 0x10 ? H2_NEVER : H2_WITHOUT;
	mask = b & 0x80 ? 0x7f : b & 0x40 ? 0x3f : 0x0f;
	idx = hpack_int(&s->msg, pp, end, mask);
	if (idx < 0)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, at);
	if (idx && static_index(r, idx, at))
		return -1;
	fl->index = idx;
	if (fl->rep == H2_INDEXED) {
		if (!idx)
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, at);
		fl->name_src = fl->value_src = H2_STATIC;
		return 0;
	}
	fl->name_src = H2_STATIC;
	if (!idx) {
		src = hpack_string(s, r, pp, end, &fl->name);
		if (src < 0)
			return -1;
		fl->name_src = src;
	}
	src = hpack_string(s, r, pp, end, &fl->value);
	if (src < 0)
		return -1;
	fl->value_src = src;
	if (fl->rep == H2_INCREMENTAL)
		r->dyn_inserts++;
	return 0;
}

/* A header block [p, end) of HEADERS frame `frame`.  Returns 0 or -1. */
PARSE_STEP int hpack_block(struct h2_scratch *s, struct http2_result *r, __u32 p, __u32 end,
			   __u32 frame)
{
	struct h2_field fl;
	__u32 nf;

	if (!s || !r)
		return -1;
	/* Up to 2 size updates first, then the fields. */
	for (int k = 0; k < PARSE_MAX_HEADERS + 2; k++) {
		if (p >= end)
			return 0;
		__builtin_memset(&fl, 0, sizeof(fl));
		fl.frame = frame;
		if (k >= 2 && (parse_at(&s->msg, p) & 0xe0) == 0x20)
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
		if (hpack_field(s, r, &p, end, &fl))
			return -1;
		if (!fl.rep)
			continue;
		k = k < 2 ? 2 : k;
		nf = r->nfields;
		if (nf >= PARSE_MAX_HEADERS)
			return parse_fail(&r->h, PARSE_TOO_BIG, PW_HEADERS, p);
		nf = parse_opaque(nf);  /* after the check: see key_at() in parse_json */
		r->fields[nf] = fl;
		r->nfields = nf + 1;
	}
	if (p >= end)
		return 0;
	return parse_fail(&r->h, PARSE_TOO_BIG, PW_HEADERS, p);
}

/* The SETTINGS pairs of a frame's payload [p, p + len). */
static __always_inline int settings(const struct parse_buf *s, struct http2_result *r,
				    __u32 p, __u32 len, __u32 frame)
{
	struct h2_setting *st;
	__u32 n, id, v;

	for (int k = 0; k < PARSE_MAX_SETTINGS + 1; k++) {
		if (k * 6 >= len)
			return 0;
		n = r->nsettings;
		if (n >= PARSE_MAX_SETTINGS)
			return parse_fail(&r->h, PARSE_TOO_BIG, PW_SETTINGS, p);
		n = parse_opaque(n);
		id = parse_at(s, p) << 8 | parse_at(s, p + 1);
		v = parse_at(s, p + 2) << 24 | parse_at(s, p + 3) << 16 |
		    parse_at(s, p + 4) << 8 | parse_at(s, p + 5);
		/* ENABLE_PUSH 0/1, INITIAL_WINDOW_SIZE <= 2^31-1, MAX_FRAME_SIZE range */
		if ((id == 2 && v > 1) || (id == 4 && v > 0x7fffffff) ||
		    (id == 5 && (v < H2_MAX_FRAME || v > 0xffffff)))
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
		st = &r->settings[n];
		st->id = id;
		st->value = v;
		st->frame = frame;
		r->nsettings = n + 1;
		p += 6;
	}
	return parse_fail(&r->h, PARSE_TOO_BIG, PW_SETTINGS, p);
}

/* Checks of frame i by type; HEADERS blocks and SETTINGS pairs. */
PARSE_STEP int frame_body(struct h2_scratch *s, struct http2_result *r, const struct h2_frame *f,
			  __u32 i)
{
	__u32 p, len, pad = 0, skip = 0;

	if (!s || !r || !f)
		return -1;
	p = f->off;
	len = f->len;

	switch (f->type) {
	case T_DATA:
	case T_HEADERS:
		if (!f->stream)
			break;
		if (f->flags & F_PADDED) {
			if (!len)
				break;
			pad = parse_at(&s->msg, p);
			skip = 1;
		}
		if (f->type == T_HEADERS && (f->flags & F_PRIORITY))
			skip += 5;
		if (skip + pad > len)
			break;
		if (f->type == T_DATA)
			return 0;
		if (!(f->flags & F_END_HEADERS))
			return parse_fail(&r->h, PARSE_TOO_BIG, PW_UNSUPPORTED, p);
		return hpack_block(s, r, p + skip, p + len - pad, i);
	case T_PRIORITY:
		return f->stream && len == 5 ? 0 : parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	case T_RST:
		return f->stream && len == 4 ? 0 : parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	case T_SETTINGS:
		if (f->stream || len % 6 || ((f->flags & F_ACK) && len))
			break;
		return settings(&s->msg, r, p, len, i);
	case T_PING:
		return !f->stream && len == 8 ? 0 : parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	case T_GOAWAY:
		return !f->stream && len >= 8 ? 0 : parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	case T_WINDOW:
		return len == 4 ? 0 : parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	case T_PUSH:            /* a client never sends it */
	case T_CONTINUATION:    /* only after a HEADERS without END_HEADERS */
		break;
	default:                /* unknown types are ignored */
		return 0;
	}
	return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
}

static const struct {
	char preface[24];
	char pad[16];   /* 40 bytes: in .rodata, not a .rodata.cst32 section */
} h2 = { "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" };

/* The client preface, if the message starts with its first byte. */
static __always_inline int preface(const struct parse_buf *s, struct http2_result *r, __u32 len)
{
	if (!len || parse_at(s, 0) != 'P')
		return 0;
	for (__u32 i = 0; i < sizeof(h2.preface); i++) {
		if (i >= len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		if (parse_at(s, i) != h2.preface[i])
			return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, i);
	}
	r->preface = 1;
	return sizeof(h2.preface);
}

static __always_inline int parse(struct h2_scratch *s, struct http2_result *r, __u32 len)
{
	struct h2_frame *f;
	int p = preface(&s->msg, r, len);

	if (p < 0)
		return p;
	for (__u32 i = 0; i <= PARSE_MAX_FRAMES; i++) {
		if (p >= len)
			return 0;
		if (i >= PARSE_MAX_FRAMES)
			return parse_fail(&r->h, PARSE_TOO_BIG, PW_FRAMES, p);
		if (p + 9 > len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		f = &r->frames[parse_opaque(i)];
		f->len = parse_at(&s->msg, p) << 16 | parse_at(&s->msg, p + 1) << 8 |
			 parse_at(&s->msg, p + 2);
		f->type = parse_at(&s->msg, p + 3);
		f->flags = parse_at(&s->msg, p + 4);
		f->stream = (parse_at(&s->msg, p + 5) & 0x7f) << 24 | parse_at(&s->msg, p + 6) << 16 |
			    parse_at(&s->msg, p + 7) << 8 | parse_at(&s->msg, p + 8);
		f->off = p + 9;
		r->nframes = i + 1;
		if (f->len > H2_MAX_FRAME)
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
		if (p + 9 + f->len > len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		if (frame_body(s, r, f, i))
			return -1;
		p += 9 + f->len;
	}
	return -1;
}

SEC("xdp")
int parse_http2(struct xdp_md *ctx)
{
	struct http2_result *r;
	struct h2_scratch *s;
	__u32 zero = 0;
	int len;

	r = bpf_map_lookup_elem(&parse_out, &zero);
	s = bpf_map_lookup_elem(&parse_msg, &zero);
	if (!r || !s)
		return XDP_ABORTED;
	__builtin_memset(r, 0, __builtin_offsetof(struct http2_result, huff));
	len = parse_load(ctx, &s->msg, &r->h, PARSE_BUF);
	if (len < 0 || parse(s, r, len) < 0)
		return XDP_DROP;
	r->h.status = PARSE_OK;
	return XDP_PASS;
}
