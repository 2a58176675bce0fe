// SPDX-License-Identifier: GPL-2.0
/*
 * A JSON parser (bpf/parse.h: struct json_result): one object or array
 * (RFC 8259, what jansson's json_loads() takes by default), nested to
 * PARSE_JSON_DEPTH levels, at most PARSE_JSON_LEN bytes; the first
 * PARSE_MAX_KEYS keys in document order with their depth and value: type,
 * raw span, integer value (int64; an integer out of range is MALFORMED),
 * decoded string length.  Fractions and exponents are checked and typed
 * JT_REAL, not converted.  Escapes are decoded (\u0000 and unpaired
 * surrogates are MALFORMED); raw UTF-8 bytes are not validated.
 * One byte loop, a state machine: states in enum js below.
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
	__type(value, struct json_result);
} parse_out SEC(".maps");

enum js {
	S_TOP,        /* before the top-level '{' or '[' */
	S_VALUE,      /* a value (after ':' or an array's ',') */
	S_ARR_FIRST,  /* a value or ']' */
	S_OBJ_FIRST,  /* a key or '}' */
	S_KEY,        /* a key (after an object's ',') */
	S_COLON,
	S_AFTER,      /* ',' or the closer, after a value */
	S_STR,
	S_ESC,        /* after a backslash */
	S_HEX,        /* \uXXXX digits */
	S_LOW_BS,     /* the '\' of a low surrogate */
	S_LOW_U,      /* its 'u' */
	S_NUM,
	S_LIT,        /* true, false, null */
	S_END,        /* after the top-level closer */
};

enum num {
	N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_EXP, N_ESIGN, N_EXPD,
};

/* The parse state: everything the byte loop carries. */
struct jstate {
	__u32 state, depth, nkeys;
	int vk;                 /* key whose value is being read, or -1 */
	__u32 start, is_key, esc, dlen, hexn, u, hi;
	__u32 num, neg, ovf;
	__u64 mag;
	__u32 lit, litn, litpos;
	__u64 litword;
};

/* A power of two > PARSE_JSON_DEPTH: a masked index stays inside. */
#define JSON_STACK (PARSE_JSON_DEPTH < 8 ? 8 : PARSE_JSON_DEPTH < 64 ? 64 : \
		    PARSE_JSON_DEPTH < 512 ? 512 : 4096)
#define LEVEL(d) ((d) & (JSON_STACK - 1))

struct json_scratch {
	struct parse_buf msg;
	struct jstate j;        /* in memory: the verifier tracks no value */
	__u8 is_array[JSON_STACK];  /* per open level, 1..PARSE_JSON_DEPTH */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct json_scratch);
} parse_msg SEC(".maps");

#define IMAX_TENTH 922337203685477580ull

static __always_inline int is_ws(__u32 c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
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

/* Key k, or NULL (k is -1 or past the knob).  The barrier after the check
 * keeps clang from computing the address before it. */
static __always_inline struct json_key *key_at(struct json_result *r, int k)
{
	__u32 u = k;

	if (u >= PARSE_MAX_KEYS)
		return 0;
	u = parse_opaque(u);
	return &r->keys[u];
}

/* Open '{' or '[' at i, as the value of key vk. */
static __always_inline int open(struct json_scratch *s, struct json_result *r,
				struct jstate *j, __u32 i, __u32 arr)
{
	struct json_key *k = key_at(r, j->vk);

	if (k) {
		k->type = arr ? JT_ARRAY : JT_OBJECT;
		k->val.off = i;
		k->val.len = 1;
	}
	if (j->depth >= PARSE_JSON_DEPTH)
		return parse_fail(&r->h, PARSE_TOO_BIG, PW_DEPTH, i);
	j->depth++;
	if (j->depth > r->max_depth)
		r->max_depth = j->depth;
	s->is_array[LEVEL(j->depth)] = arr;
	j->state = arr ? S_ARR_FIRST : S_OBJ_FIRST;
	j->vk = -1;
	return 0;
}

/* Close with '}' or ']' at i. */
static __always_inline int close(struct json_scratch *s, struct json_result *r,
				 struct jstate *j, __u32 i, __u32 arr)
{
	if (!j->depth || s->is_array[LEVEL(j->depth)] != arr)
		return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, i);
	j->depth--;
	j->state = j->depth ? S_AFTER : S_END;
	return 0;
}

/* The first byte of a value. */
static __always_inline int value(struct json_scratch *s, struct json_result *r,
				 struct jstate *j, __u32 i, __u32 c)
{
	struct json_key *k = key_at(r, j->vk);

	if (c == '{' || c == '[')
		return open(s, r, j, i, c == '[');
	if (k)
		k->val.off = i;
	if (c == '"') {
		j->state = S_STR;
		j->is_key = 0;
		j->start = i + 1;
		j->esc = j->dlen = j->hi = 0;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		j->state = S_NUM;
		j->neg = c == '-';
		j->num = c == '-' ? N_MINUS : c == '0' ? N_ZERO : N_INT;
		j->mag = c == '-' ? 0 : c - '0';
		j->ovf = 0;
	} else if (c == 't' || c == 'f' || c == 'n') {
		j->state = S_LIT;
		j->lit = c == 't' ? JT_TRUE : c == 'f' ? JT_FALSE : JT_NULL;
		j->litword = c == 't' ? 0x74727565 : c == 'f' ? 0x66616c7365 : 0x6e756c6c;
		j->litn = c == 'f' ? 5 : 4;
		j->litpos = 1;
	} else {
		return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, i);
	}
	return 0;
}

/* A string's closing quote at i. */
static __always_inline int string_end(struct json_result *r, struct jstate *j, __u32 i)
{
	struct json_key *k;

	if (j->is_key) {
		if (j->nkeys >= PARSE_MAX_KEYS)
			return parse_fail(&r->h, PARSE_TOO_BIG, PW_KEYS, j->start - 1);
		k = key_at(r, j->nkeys);
		if (!k)
			return -1;
		k->key.off = j->start;
		k->key.len = i - j->start;
		k->key_esc = j->esc;
		k->key_dlen = j->dlen;
		k->depth = j->depth;
		j->vk = j->nkeys++;
		r->nkeys = j->nkeys;
		j->state = S_COLON;
		return 0;
	}
	k = key_at(r, j->vk);
	if (k) {
		k->type = JT_STRING;
		k->val.off = j->start;
		k->val.len = i - j->start;
		k->val_esc = j->esc;
		k->val_dlen = j->dlen;
	}
	j->state = S_AFTER;
	return 0;
}

/* A byte inside a string (S_STR, S_ESC, S_HEX, S_LOW_*). */
static __always_inline int string_byte(struct json_result *r, struct jstate *j, __u32 i, __u32 c)
{
	int h;

	switch (j->state) {
	case S_STR:
		if (c == '"' && !j->hi)
			return string_end(r, j, i);
		if (c < 0x20 || j->hi)
			break;
		if (c == '\\') {
			j->state = S_ESC;
			j->esc = 1;
		} else {
			j->dlen++;
		}
		return 0;
	case S_ESC:
		if (c == 'u') {
			j->state = S_HEX;
			j->hexn = j->u = 0;
			return 0;
		}
		if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' &&
		    c != 'n' && c != 'r' && c != 't')
			break;
		j->dlen++;
		j->state = S_STR;
		return 0;
	case S_LOW_BS:
		if (c != '\\')
			break;
		j->state = S_LOW_U;
		return 0;
	case S_LOW_U:
		if (c != 'u')
			break;
		j->state = S_HEX;
		j->hexn = j->u = 0;
		return 0;
	default: /* S_HEX */
		h = hexval(c);
		if (h < 0)
			break;
		j->u = j->u << 4 | h;
		if (++j->hexn < 4)
			return 0;
		j->state = S_STR;
		if (j->hi) {            /* the low half of a pair */
			if (j->u < 0xdc00 || j->u > 0xdfff)
				break;
			j->hi = 0;
			j->dlen += 4;
		} else if (j->u >= 0xd800 && j->u <= 0xdbff) {
			j->hi = 1;
			j->state = S_LOW_BS;
		} else if ((j->u >= 0xdc00 && j->u <= 0xdfff) || j->u == 0) {
			break;
		} else {
			j->dlen += j->u < 0x80 ? 1 : j->u < 0x800 ? 2 : 3;
		}
		return 0;
	}
	return parse_fail(&r->h, PARSE_MALFORMED, j->state == S_STR ? PW_SYNTAX : PW_VALUE, i);
}

/* A byte in a number: 1 if it ends the number (c is not part of it). */
static __always_inline int number_byte(struct json_result *r, struct jstate *j, __u32 i, __u32 c)
{
	__u32 d = c - '0', digit = d <= 9, n = j->num;

	if (digit && (n == N_MINUS || n == N_INT)) {
		if (n == N_MINUS && d == 0) {
			j->num = N_ZERO;
			return 0;
		}
		if (j->mag > IMAX_TENTH || (j->mag == IMAX_TENTH && d > 7 + j->neg))
			j->ovf = 1;
		j->mag = j->mag * 10 + d;
		j->num = N_INT;
		return 0;
	}
	if (digit && (n == N_DOT || n == N_FRAC)) {
		j->num = N_FRAC;
		return 0;
	}
	if (digit && n >= N_EXP) {
		j->num = N_EXPD;
		return 0;
	}
	if (c == '.' && (n == N_ZERO || n == N_INT)) {
		j->num = N_DOT;
		return 0;
	}
	if ((c | 0x20) == 'e' && (n == N_ZERO || n == N_INT || n == N_FRAC)) {
		j->num = N_EXP;
		return 0;
	}
	if ((c == '+' || c == '-') && n == N_EXP) {
		j->num = N_ESIGN;
		return 0;
	}
	if ((n != N_ZERO && n != N_INT && n != N_FRAC && n != N_EXPD) || digit ||
	    ((n == N_ZERO || n == N_INT) && j->ovf))
		return parse_fail(&r->h, PARSE_MALFORMED, PW_VALUE, i);
	return 1;
}

/* The number that ended before i. */
static __always_inline void number_end(struct json_result *r, struct jstate *j, __u32 i)
{
	struct json_key *k = key_at(r, j->vk);

	if (!k)
		return;
	k->val.len = i - k->val.off;
	if (j->num == N_ZERO || j->num == N_INT) {
		k->type = JT_INT;
		k->ival = j->neg ? (__s64)(0 - j->mag) : (__s64)j->mag;
	} else {
		k->type = JT_REAL;
	}
}

/* A byte of true/false/null. */
static __always_inline int literal_byte(struct json_result *r, struct jstate *j, __u32 i, __u32 c)
{
	struct json_key *k;

	if (c != ((j->litword >> (8 * (j->litn - 1 - j->litpos))) & 0xff))
		return parse_fail(&r->h, PARSE_MALFORMED, PW_SYNTAX, i);
	if (++j->litpos < j->litn)
		return 0;
	k = key_at(r, j->vk);
	if (k) {
		k->type = j->lit;
		k->val.len = j->litn;
	}
	j->state = S_AFTER;
	return 0;
}

/* A byte between tokens (every state but the string, number, literal ones). */
static __always_inline int structure_byte(struct json_scratch *s, struct json_result *r,
					  struct jstate *j, __u32 i, __u32 c)
{
	__u32 st = j->state;

	if (is_ws(c))
		return 0;
	switch (st) {
	case S_TOP:
		if (c == '{' || c == '[')
			return open(s, r, j, i, c == '[');
		break;
	case S_ARR_FIRST:
		if (c == ']')
			return close(s, r, j, i, 1);
		return value(s, r, j, i, c);
	case S_VALUE:
		return value(s, r, j, i, c);
	case S_OBJ_FIRST:
	case S_KEY:
		if (c == '}' && st == S_OBJ_FIRST)
			return close(s, r, j, i, 0);
		if (c != '"')
			break;
		j->state = S_STR;
		j->is_key = 1;
		j->start = i + 1;
		j->esc = j->dlen = j->hi = 0;
		return 0;
	case S_COLON:
		if (c != ':')
			break;
		j->state = S_VALUE;
		return 0;
	case S_AFTER:
		if (c == '}' || c == ']')
			return close(s, r, j, i, c == ']');
		if (c != ',')
			break;
		if (s->is_array[LEVEL(j->depth)]) {
			j->state = S_VALUE;
			j->vk = -1;
		} else {
			j->state = S_KEY;
		}
		return 0;
	}
	return parse_fail(&r->h, PARSE_MALFORMED, st == S_END ? PW_TRAILING : PW_SYNTAX, i);
}

/* One byte of the message: 0, or -1 with the status set. */
PARSE_STEP int json_byte(struct json_scratch *s, struct json_result *r, __u32 i)
{
	struct jstate *j;
	__u32 c;
	int err;

	if (!s || !r)
		return -1;
	j = &s->j;
	c = parse_at(&s->msg, i);
	if (j->state >= S_STR && j->state <= S_LOW_U)
		return string_byte(r, j, i, c);
	if (j->state == S_LIT)
		return literal_byte(r, j, i, c);
	if (j->state == S_NUM) {
		err = number_byte(r, j, i, c);
		if (err <= 0)
			return err;
		number_end(r, j, i);
		j->state = S_AFTER;
	}
	return structure_byte(s, r, j, i, c);
}

static __always_inline int parse(struct json_scratch *s, struct json_result *r, __u32 len)
{
	__builtin_memset(&s->j, 0, sizeof(s->j));
	s->j.state = S_TOP;
	s->j.vk = -1;
	for (__u32 i = 0; i < PARSE_JSON_LEN; i++) {
		if (i >= len)
			break;
		if (json_byte(s, r, i))
			return -1;
	}
	if (s->j.state != S_END)
		return parse_fail(&r->h, PARSE_INCOMPLETE, PW_TRUNCATED, len);
	return 0;
}

SEC("xdp")
int parse_json(struct xdp_md *ctx)
{
	struct json_scratch *s;
	struct json_result *r;
	__u32 zero = 0;
	int len;

	r = bpf_map_lookup_elem(&parse_out, &zero);
	s = bpf_map_lookup_elem(&parse_msg, &zero);
	if (!r || !s)
		return XDP_ABORTED;
	__builtin_memset(r, 0, sizeof(*r));
	len = parse_load(ctx, &s->msg, &r->h, PARSE_JSON_LEN);
	if (len < 0 || parse(s, r, len) < 0)
		return XDP_DROP;
	r->h.status = PARSE_OK;
	return XDP_PASS;
}
