/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Protocol parsers in eBPF (bpf/parse_{http1,http2,json}.bpf.c): result
 * layouts shared with user space, and the size knobs.
 *
 * Each parser is one XDP program; its input is an Ethernet/IPv4 (IHL 5)/UDP
 * frame and the message is the UDP payload (byte 42 on, bounded by the UDP
 * length).  It returns XDP_PASS when the message is well-formed and fully
 * parsed, XDP_DROP otherwise, and overwrites the one entry of its array map
 * `parse_out` on every run: status (enum parse_status), why (enum parse_why),
 * and the fields, as offsets/lengths into the message or decoded values.
 *
 * Knobs (compile-time, -DNAME=value; every loop is bounded by them, so a
 * bigger knob makes a bigger program that takes the verifier longer):
 *   PARSE_MAX_HEADERS    16  HTTP/1.1 header lines; HTTP/2 HPACK fields
 *                            (over it: TOO_BIG)
 *   PARSE_MAX_HEADER_LEN 256 bytes of one HTTP/1.1 line with its CRLF
 *                            (request line, header, chunk-size line);
 *                            bytes of one HPACK string literal
 *   PARSE_MAX_CHUNKS     8   HTTP/1.1 chunks, the last (size 0) one included
 *   PARSE_MAX_FRAMES     8   HTTP/2 frames
 *   PARSE_MAX_SETTINGS   8   HTTP/2 SETTINGS pairs, over all frames
 *   PARSE_HUFFMAN        1   1: HPACK Huffman strings are decoded (in a
 *                            global function); 0: they give TOO_BIG/HUFFMAN
 *   PARSE_INLINE         0   0: the per-line (HTTP/1.1), per-field (HPACK)
 *                            and per-byte (JSON) steps are global functions,
 *                            each verified once; 1: everything is inlined into
 *                            one body, so every loop iteration is verified
 *                            (the verifier stops much earlier)
 *   PARSE_JSON_DEPTH     4   JSON nesting (objects and arrays) levels
 *   PARSE_JSON_LEN       512 JSON message bytes scanned (longer: TOO_BIG)
 *   PARSE_MAX_KEYS       16  JSON keys recorded, in document order
 * A message is copied to a per-CPU buffer of PARSE_BUF bytes (a power of
 * two >= 2048 and >= (PARSE_MAX_HEADERS + 2) * PARSE_MAX_HEADER_LEN); a
 * longer one gives TOO_BIG/PW_LEN.
 */
#ifndef OLAB_BPF_PARSE_H
#define OLAB_BPF_PARSE_H

#ifndef PARSE_MAX_HEADERS
#define PARSE_MAX_HEADERS 16
#endif
#ifndef PARSE_MAX_HEADER_LEN
#define PARSE_MAX_HEADER_LEN 256
#endif
#ifndef PARSE_MAX_CHUNKS
#define PARSE_MAX_CHUNKS 8
#endif
#ifndef PARSE_MAX_FRAMES
#define PARSE_MAX_FRAMES 8
#endif
#ifndef PARSE_MAX_SETTINGS
#define PARSE_MAX_SETTINGS 8
#endif
#ifndef PARSE_HUFFMAN
#define PARSE_HUFFMAN 1
#endif
#ifndef PARSE_INLINE
#define PARSE_INLINE 0
#endif
#ifndef PARSE_JSON_DEPTH
#define PARSE_JSON_DEPTH 4
#endif
#ifndef PARSE_JSON_LEN
#define PARSE_JSON_LEN 512
#endif
#ifndef PARSE_MAX_KEYS
#define PARSE_MAX_KEYS 16
#endif

/* The smallest power of two >= n, from 2048 to 65536. */
#define PARSE_POW2(n) ((n) <= 2048 ? 2048 : (n) <= 4096 ? 4096 : (n) <= 8192 ? 8192 : \
		       (n) <= 16384 ? 16384 : (n) <= 32768 ? 32768 : 65536)
#define PARSE_MAX2(a, b) ((a) > (b) ? (a) : (b))
#define PARSE_BUF PARSE_POW2(PARSE_MAX2(PARSE_JSON_LEN, (PARSE_MAX_HEADERS + 2) * PARSE_MAX_HEADER_LEN))
/* Decoded Huffman bytes of one message (8/5 of the encoded ones at most). */
#define PARSE_HUFF_BUF 1024

/* Offset of the message in the frame: Ethernet 14 + IPv4 20 + UDP 8. */
#define PARSE_MSG_OFF 42

enum parse_status {
	PARSE_UNSET = 0,      /* not written (the program did not run) */
	PARSE_OK = 1,         /* well-formed, fully parsed: XDP_PASS */
	PARSE_MALFORMED = 2,  /* a syntax or value error at err_off */
	PARSE_TOO_BIG = 3,    /* over a knob, or a feature left out (why) */
	PARSE_INCOMPLETE = 4, /* valid so far, the message ends too early */
};

enum parse_why {
	PW_NONE = 0,
	PW_FRAME,      /* not an Ethernet/IPv4/UDP frame (MALFORMED) */
	PW_LEN,        /* message longer than PARSE_BUF / PARSE_JSON_LEN */
	PW_SYNTAX,     /* an unexpected byte */
	PW_VALUE,      /* a bad value: Content-Length, chunk size, number, index */
	PW_TRUNCATED,  /* the message ends inside an element (INCOMPLETE) */
	PW_TRAILING,   /* bytes after the end of the message */
	PW_HEADERS,    /* over PARSE_MAX_HEADERS */
	PW_LINE,       /* a line or string over PARSE_MAX_HEADER_LEN */
	PW_CHUNKS,     /* over PARSE_MAX_CHUNKS */
	PW_FRAMES,     /* over PARSE_MAX_FRAMES */
	PW_SETTINGS,   /* over PARSE_MAX_SETTINGS */
	PW_DEPTH,      /* over PARSE_JSON_DEPTH */
	PW_KEYS,       /* over PARSE_MAX_KEYS */
	PW_DYNAMIC,    /* HPACK dynamic table reference: not supported */
	PW_HUFFMAN,    /* HPACK Huffman string with PARSE_HUFFMAN 0 */
	PW_UNSUPPORTED, /* HTTP/1.1 trailers, HTTP/2 CONTINUATION */
};

/* Bytes [off, off + len) of the message. */
struct parse_span {
	__u16 off;
	__u16 len;
};

/* Every result starts with this. */
struct parse_head {
	__u32 status;   /* enum parse_status */
	__u32 why;      /* enum parse_why */
	__u32 err_off;  /* where parsing stopped (not OK) */
	__u32 msg_len;  /* UDP payload bytes */
};

/* --- HTTP/1.1 requests --- */
struct http1_header {
	struct parse_span name;
	struct parse_span value; /* without leading SP/HT, up to the CR */
};

struct http1_result {
	struct parse_head h;
	struct parse_span method, target, version;
	__u8 ver_major, ver_minor;
	__u8 chunked;          /* Transfer-Encoding: chunked */
	__u8 last_chunk;       /* the size-0 chunk was seen */
	__u32 nheaders;
	__u32 has_content_length;
	__u32 chunks;          /* chunks with data (the last one not counted) */
	__u64 content_length;
	__u32 body_len;        /* body bytes: Content-Length or sum of chunks */
	__u32 head_len;        /* request line + headers + the blank line */
	struct http1_header hdr[PARSE_MAX_HEADERS];
};

/* --- HTTP/2: frames (a client preface first is optional) --- */
enum h2_rep {           /* HPACK representation (RFC 7541 6.1-6.2) */
	H2_INDEXED = 1, H2_INCREMENTAL, H2_WITHOUT, H2_NEVER,
};
enum h2_src {           /* where a name or value is */
	H2_STATIC = 1,  /* static table entry `index` */
	H2_LITERAL,     /* span of the message */
	H2_HUFF,        /* span of http2_result.huff (decoded) */
};

struct h2_frame {
	__u32 len;              /* payload length (24 bits) */
	__u32 stream;           /* stream id (31 bits) */
	__u8 type, flags;
	__u16 off;              /* payload offset in the message */
};

struct h2_setting {
	__u16 id;
	__u16 frame;            /* index of its frame */
	__u32 value;
};

struct h2_field {
	__u8 rep;               /* enum h2_rep */
	__u8 name_src, value_src; /* enum h2_src */
	__u8 frame;             /* index of its HEADERS frame */
	__u16 index;            /* static table index (name, or name+value) */
	__u16 pad;
	struct parse_span name, value;
};

struct http2_result {
	struct parse_head h;
	__u32 preface;          /* the 24-byte client preface came first */
	__u32 nframes, nsettings, nfields;
	__u32 dyn_inserts;      /* fields added to the dynamic table */
	__u32 huff_len;         /* bytes used in huff[] */
	struct h2_frame frames[PARSE_MAX_FRAMES];
	struct h2_setting settings[PARSE_MAX_SETTINGS];
	struct h2_field fields[PARSE_MAX_HEADERS];
	__u8 huff[PARSE_HUFF_BUF];
};

/* --- JSON: an object, nested objects and arrays --- */
enum json_type {
	JT_OBJECT = 1, JT_ARRAY, JT_STRING, JT_INT, JT_REAL, JT_TRUE, JT_FALSE, JT_NULL,
};

struct json_key {
	struct parse_span key;  /* raw text between the quotes */
	struct parse_span val;  /* raw value: a string without its quotes,
				 * a number or literal; a container's bracket */
	__u8 depth;             /* 1: a key of the top-level object */
	__u8 type;              /* enum json_type of the value */
	__u8 key_esc, val_esc;  /* the raw text has escapes */
	__u16 key_dlen, val_dlen; /* decoded (UTF-8) string lengths */
	__u32 pad;
	__s64 ival;             /* JT_INT value */
};

struct json_result {
	struct parse_head h;
	__u32 nkeys;
	__u32 max_depth;
	struct json_key keys[PARSE_MAX_KEYS];
};

#ifdef __bpf__
/* The program side: the message copy and its byte reads. */
#if PARSE_INLINE
#define PARSE_STEP static __always_inline
#else
/* A global function: verified once, on its own, for any argument values. */
#define PARSE_STEP __attribute__((noinline))
#endif

struct parse_buf {
	__u8 b[PARSE_BUF];
};

/* x, which the compiler can no longer reason about: a mask after it stays
 * (clang drops a mask it can prove useless, which the verifier may not). */
static __always_inline __u32 parse_opaque(__u32 x)
{
	asm volatile("" : "+r"(x));
	return x;
}

/* Byte i of the message (the mask keeps every read inside the buffer). */
static __always_inline __u32 parse_at(const struct parse_buf *s, __u32 i)
{
	return s->b[parse_opaque(i) & (PARSE_BUF - 1)];
}

static __always_inline int parse_fail(struct parse_head *h, __u32 status, __u32 why, __u32 off)
{
	h->status = status;
	h->why = why;
	h->err_off = off;
	return -1;
}

/*
 * Check the Ethernet/IPv4/UDP headers and copy the UDP payload (at most
 * `cap` bytes) into s.  Returns the message length, or -1 with h set.
 */
static __always_inline int parse_load(struct xdp_md *ctx, struct parse_buf *s,
				      struct parse_head *h, __u32 cap)
{
	__u8 hdr[PARSE_MSG_OFF];
	__u32 frame_len, len, n;

	frame_len = bpf_xdp_get_buff_len(ctx);
	if (frame_len < PARSE_MSG_OFF || bpf_xdp_load_bytes(ctx, 0, hdr, sizeof(hdr)))
		return parse_fail(h, PARSE_MALFORMED, PW_FRAME, 0);
	/* EtherType IPv4, version 4 IHL 5, protocol UDP. */
	if (hdr[12] != 0x08 || hdr[13] != 0x00 || hdr[14] != 0x45 || hdr[23] != 17)
		return parse_fail(h, PARSE_MALFORMED, PW_FRAME, 0);
	len = ((__u32)hdr[38] << 8 | hdr[39]);
	if (len < 8 || len - 8 > frame_len - PARSE_MSG_OFF)
		return parse_fail(h, PARSE_MALFORMED, PW_FRAME, 0);
	len -= 8;
	h->msg_len = len;
	if (len > cap || len > PARSE_BUF)
		return parse_fail(h, PARSE_TOO_BIG, PW_LEN, 0);
	if (!len)
		return 0;
	/* 1..PARSE_BUF bytes, in a form every clang keeps for the verifier. */
	n = (parse_opaque(len - 1) & (PARSE_BUF - 1)) + 1;
	if (bpf_xdp_load_bytes(ctx, PARSE_MSG_OFF, s->b, n))
		return parse_fail(h, PARSE_MALFORMED, PW_FRAME, 0);
	return len;
}
#endif

#endif
