// SPDX-License-Identifier: GPL-2.0
/*
 * An HTTP/1.1 request parser (bpf/parse.h: struct http1_result): the request
 * line, up to PARSE_MAX_HEADERS headers of up to PARSE_MAX_HEADER_LEN bytes,
 * Content-Length, and Transfer-Encoding: chunked framing.  One request per
 * message: bytes after its end are MALFORMED.  Lines end with CRLF; no
 * obs-fold, no trailers (TOO_BIG/UNSUPPORTED).  Methods: GET HEAD POST PUT
 * DELETE OPTIONS PATCH TRACE; the version is HTTP/d.d.
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
	__type(value, struct http1_result);
} parse_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct parse_buf);
} parse_msg SEC(".maps");

#define M(a, b, c, d) (((__u64)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define M8(a, b, c, d, e, f, g, h) ((M(a, b, c, d) << 32) | M(e, f, g, h))

/* The known methods, packed big-endian into 8 bytes. */
static __always_inline int known_method(__u64 m)
{
	return m == M(0, 'G', 'E', 'T') || m == M('H', 'E', 'A', 'D') ||
	       m == M('P', 'O', 'S', 'T') || m == M(0, 'P', 'U', 'T') ||
	       m == M8(0, 0, 'D', 'E', 'L', 'E', 'T', 'E') ||
	       m == M8(0, 'O', 'P', 'T', 'I', 'O', 'N', 'S') ||
	       m == M8(0, 0, 0, 'P', 'A', 'T', 'C', 'H') ||
	       m == M8(0, 0, 0, 'T', 'R', 'A', 'C', 'E');
}

/* RFC 9110 tchar. */
static __always_inline int is_tchar(__u32 c)
{
	if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
		return 1;
	return c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' ||
	       c == '*' || c == '+' || c == '-' || c == '.' || c == '^' || c == '_' ||
	       c == '`' || c == '|' || c == '~';
}

/* A byte of a header value: HT, visible, SP or obs-text. */
static __always_inline int is_vchar(__u32 c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static __always_inline int hexval(__u32 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The LF of the CRLF whose CR is at p; returns the next line's offset. */
static __always_inline int crlf(const struct parse_buf *s, struct http1_result *r,
				__u32 p, __u32 len)
{
	if (p + 1 >= len)
		return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
	if (parse_at(s, p + 1) != '\n')
		return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, p + 1);
	return p + 2;
}

/* Power-of-two sizes: an index masked to the size stays inside. */
#define CL_LEN 14
#define TE_LEN 17
#define CHUNKED_LEN 7
/* One object, so that it lands in .rodata (not in a .rodata.cstN section). */
static const struct {
	char cl[16], te[32], chunked[8], pad[8];
} names = { "content-length", "transfer-encoding", "chunked" };

/*
 * One line's scan state, and what a header line says about the framing.
 * The line functions keep their state here, through a volatile pointer: the
 * verifier does not track values in memory, so the states of one loop
 * iteration are all alike and pruned, whatever bytes came before.
 */
struct framing {
	__u32 field, start, digits, ext;
	__u64 m, v, size;
	__u32 is_cl, is_te;     /* the name matches so far */
	__u32 cl_digits, cl_end, te_match;
	__u64 cl;
	struct http1_header hd; /* the name and value */
};

/* Method SP target SP version CRLF, from 0.  Returns the end, or -1. */
PARSE_STEP int request_line(const struct parse_buf *s, struct http1_result *r, __u32 len,
			    struct framing *fp)
{
	volatile struct framing *f = fp;
	__u32 p = 0, c = 0;
	__u64 v;

	if (!s || !r || !fp)
		return -1;
	f->field = f->start = 0;
	f->m = f->v = 0;
	for (__u32 j = 0; j < PARSE_MAX_HEADER_LEN - 1; j++, p++) {
		if (p >= len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		c = parse_at(s, p);
		if (c == '\r')
			break;
		if (f->field == 0 && c == ' ' && p > 0) {
			r->method.len = p;
			f->field = 1;
			f->start = p + 1;
		} else if (f->field == 0 && c >= 'A' && c <= 'Z' && p < 8) {
			f->m = f->m << 8 | c;
		} else if (f->field == 1 && c == ' ' && p > f->start) {
			r->target.off = f->start;
			r->target.len = p - f->start;
			f->field = 2;
			f->start = p + 1;
		} else if (f->field == 1 && c > 0x20 && c != 0x7f &&
			   (p > f->start || c == '/' || c == '*')) {
			continue;
		} else if (f->field == 2 && p - f->start < 8) {
			f->v = f->v << 8 | c;
		} else {
			return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, p);
		}
	}
	if (c != '\r')
		return parse_fail(&r->h, PARSE_TOO_BIG, PW_LINE, p);
	v = f->v;
	if (f->field != 2 || p - f->start != 8 || !known_method(f->m) ||
	    (v >> 24) != M8(0, 0, 0, 'H', 'T', 'T', 'P', '/') || ((v >> 8) & 0xff) != '.' ||
	    ((v >> 16) & 0xff) - '0' > 9 || (v & 0xff) - '0' > 9)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, p);
	r->version.off = f->start;
	r->version.len = 8;
	r->ver_major = ((v >> 16) & 0xff) - '0';
	r->ver_minor = (v & 0xff) - '0';
	return crlf(s, r, p, len);
}

/* Name ':' OWS value CRLF, at p, into f. Returns the end, or -1. */
PARSE_STEP int header_line(const struct parse_buf *s, struct http1_result *r,
			   __u32 p, __u32 len, struct framing *fp)
{
	volatile struct framing *f = fp;
	__u32 c = 0, lc, k;

	if (!s || !r || !fp)
		return -1;
	f->field = 0;
	f->start = p;
	f->is_cl = f->is_te = 1;
	f->cl_digits = f->cl_end = f->te_match = 0;
	f->cl = 0;
	for (__u32 j = 0; j < PARSE_MAX_HEADER_LEN - 1; j++, p++) {
		if (p >= len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		c = parse_at(s, p);
		if (c == '\r')
			break;
		lc = c >= 'A' && c <= 'Z' ? c | 0x20 : c;
		k = p - f->start;
		if (f->field == 0 && c == ':' && k) {
			f->hd.name.off = f->start;
			f->hd.name.len = k;
			f->is_cl &= k == CL_LEN;
			f->is_te &= k == TE_LEN;
			f->field = 1;
			f->start = p + 1;
		} else if (f->field == 0 && is_tchar(c)) {
			f->is_cl &= k < CL_LEN && names.cl[parse_opaque(k) & 15] == lc;
			f->is_te &= k < TE_LEN && names.te[parse_opaque(k) & 31] == lc;
		} else if (f->field == 1 && (c == ' ' || c == '\t')) {
			f->start = p + 1;
		} else if (f->field != 0 && is_vchar(c)) {
			f->field = 2;
			if (f->is_cl && c >= '0' && c <= '9' && !f->cl_end && f->cl_digits < 18) {
				f->cl = f->cl * 10 + c - '0';
				f->cl_digits++;
			} else if (f->is_cl && c == ' ' && f->cl_digits) {
				f->cl_end = 1;
			} else if (f->is_cl) {
				return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
			}
			f->te_match = k < CHUNKED_LEN && names.chunked[parse_opaque(k) & 7] == lc &&
				      (k == 0 || f->te_match);
		} else {
			return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, p);
		}
	}
	if (c != '\r')
		return parse_fail(&r->h, PARSE_TOO_BIG, PW_LINE, p);
	if (f->field == 0 || (f->is_cl && !f->cl_digits))
		return parse_fail(&r->h, PARSE_MALFORMED, f->field ? PW_VALUE : PW_SYNTAX, p);
	f->hd.value.off = f->start;
	f->hd.value.len = p - f->start;
	f->te_match &= p - f->start == CHUNKED_LEN;
	return crlf(s, r, p, len);
}

/* Header lines up to the blank line; sets the framing fields. */
static __always_inline int headers(const struct parse_buf *s, struct http1_result *r,
				   __u32 p, __u32 len)
{
	struct framing f;
	int te = 0, i, end;

	for (i = 0; i <= PARSE_MAX_HEADERS; i++) {
		if (p >= len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		if (parse_at(s, p) == '\r')
			break;
		if (i >= PARSE_MAX_HEADERS)
			return parse_fail(&r->h, PARSE_TOO_BIG, PW_HEADERS, p);
		end = header_line(s, r, p, len, &f);
		if (end < 0)
			return end;
		r->hdr[parse_opaque(i)] = f.hd;
		r->nheaders = i + 1;
		if (f.is_cl && r->has_content_length)
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
		if (f.is_cl) {
			r->has_content_length = 1;
			r->content_length = f.cl;
		}
		if (f.is_te && (te || !f.te_match))
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
		te |= f.is_te;
		p = end;
	}
	if (te && r->has_content_length)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	r->chunked = te;
	return crlf(s, r, p, len);
}

/* hex [; ext] CRLF at fp->start: the chunk size (at most PARSE_BUF), or
 * -1; fp->start moves past the line. */
PARSE_STEP int chunk_size(const struct parse_buf *s, struct http1_result *r, __u32 len,
			  struct framing *fp)
{
	volatile struct framing *f = fp;
	__u32 p, c = 0;
	__u64 size;
	int h, end;

	if (!s || !r || !fp)
		return -1;
	p = f->start;
	f->digits = f->ext = 0;
	f->size = 0;
	for (__u32 j = 0; j < PARSE_MAX_HEADER_LEN - 1; j++, p++) {
		if (p >= len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		c = parse_at(s, p);
		if (c == '\r')
			break;
		h = hexval(c);
		if (!f->ext && h >= 0 && f->digits < 15) {
			f->size = f->size << 4 | h;
			f->digits++;
		} else if (!f->ext && c == ';' && f->digits) {
			f->ext = 1;
		} else if (!f->ext || !is_vchar(c)) {
			return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
		}
	}
	if (c != '\r')
		return parse_fail(&r->h, PARSE_TOO_BIG, PW_LINE, p);
	if (!f->digits)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, p);
	end = crlf(s, r, p, len);
	if (end < 0)
		return end;
	f->start = end;
	size = f->size;
	return size > PARSE_BUF ? PARSE_BUF : size;
}

/* Chunks up to the last one and its blank line. Returns the end, or -1. */
static __always_inline int chunked_body(const struct parse_buf *s, struct http1_result *r,
					__u32 p, __u32 len)
{
	struct framing f;
	int size;

	for (int k = 0; k < PARSE_MAX_CHUNKS; k++) {
		f.start = p;
		size = chunk_size(s, r, len, &f);
		if (size < 0)
			return -1;
		p = f.start;
		if (size == 0) {
			r->last_chunk = 1;
			if (p < len && parse_at(s, p) != '\r')
				return parse_fail(&r->h, PARSE_TOO_BIG, PW_UNSUPPORTED, p);
			return crlf(s, r, p, len);
		}
		if (p + size + 2 > len)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		p += size;
		r->chunks++;
		r->body_len += size;
		if (parse_at(s, p) != '\r' || parse_at(s, p + 1) != '\n')
			return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, p);
		p += 2;
	}
	return parse_fail(&r->h, PARSE_TOO_BIG, PW_CHUNKS, p);
}

static __always_inline int parse(const struct parse_buf *s, struct http1_result *r, __u32 len)
{
	struct framing f;
	int p;

	p = request_line(s, r, len, &f);
	if (p < 0)
		return p;
	p = headers(s, r, p, len);
	if (p < 0)
		return p;
	r->head_len = p;
	if (r->chunked) {
		p = chunked_body(s, r, p, len);
		if (p < 0)
			return p;
	} else if (r->has_content_length) {
		if (r->content_length > len - p)
			return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
		r->body_len = r->content_length;
		p += r->content_length;
	}
	if (p != len)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_TRAILING, p);
	return 0;
}

SEC("xdp")
int parse_http1(struct xdp_md *ctx)
{
	struct http1_result *r;
	struct parse_buf *s;
	__u32 zero = 0;
	int len;

	r = bpf_map_lookup_elem(&parse_out, &zero);
	s = bpf_map_lookup_elem(&parse_msg, &zero);
	if (!r || !s)
		return XDP_ABORTED;
	__builtin_memset(r, 0, sizeof(*r));
	len = parse_load(ctx, s, &r->h, PARSE_BUF);
	if (len < 0 || parse(s, r, len) < 0)
		return XDP_DROP;
	r->h.status = PARSE_OK;
	return XDP_PASS;
}
