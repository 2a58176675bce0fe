/*
 * HTTP/2 client bytes: frames, with HPACK header blocks written by hand (one
 * representation each) or by nghttp2's deflater (Huffman, indexing).
 */
#include <stdio.h>
#include <string.h>
#include <nghttp2/nghttp2.h>
#include "tests/corpus/gen.h"

#define P "http2"
#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

struct msg {
	unsigned char b[8192];
	size_t len;
};

static void put(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void frame(struct msg *m, int type, int flags, unsigned stream, const void *p, size_t n)
{
	unsigned char h[9] = { n >> 16, n >> 8, n, type, flags,
			       (stream >> 24) & 0x7f, stream >> 16, stream >> 8, stream };

	put(m, h, 9);
	put(m, p, n);
}

/* HEADERS, END_STREAM | END_HEADERS, on stream 1. */
static void headers(struct msg *m, const void *block, size_t n)
{
	frame(m, 1, 0x5, 1, block, n);
}

static void settings3(struct msg *m)
{
	static const unsigned char s[] = { 0, 3, 0, 0, 0, 100, 0, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0 };

	frame(m, 4, 0, 0, s, sizeof(s));
}

static void save(const char *name, const struct msg *m)
{
	corpus_put(P, name, m->b, m->len);
}

/* One message: [preface] [settings] HEADERS(block). */
static void one(const char *name, int pre, const void *block, size_t n)
{
	struct msg m = { .len = 0 };

	if (pre) {
		put(&m, PREFACE, 24);
		settings3(&m);
	}
	headers(&m, block, n);
	save(name, &m);
}

#define ONE(name, pre, ...) do {					\
	static const unsigned char blk_[] = { __VA_ARGS__ };		\
	one(name, pre, blk_, sizeof(blk_));				\
} while (0)

/* A request's headers through nghttp2's deflater (Huffman, indexing). */
static size_t deflate(nghttp2_hd_deflater *d, unsigned char *out, size_t cap, int variant)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0 },
		{ (uint8_t *)":scheme", (uint8_t *)"https", 7, 5, 0 },
		{ (uint8_t *)":path", (uint8_t *)"/api/v1/items?id=42", 5, 19, 0 },
		{ (uint8_t *)":authority", (uint8_t *)"www.example.org", 10, 15, 0 },
		{ (uint8_t *)"user-agent", (uint8_t *)"offloadlab-corpus/1.0", 10, 21, 0 },
		{ (uint8_t *)"x-request-id", (uint8_t *)"c0ffee-0042", 12, 11, 0 },
		{ (uint8_t *)"cookie", (uint8_t *)"secret=1", 6, 8, NGHTTP2_NV_FLAG_NO_INDEX },
	};
	ssize_t n;

	nv[2].value = (uint8_t *)(variant ? "/api/v1/items?id=43" : "/api/v1/items?id=42");
	n = nghttp2_hd_deflate_hd(d, out, cap, nv, sizeof(nv) / sizeof(nv[0]));
	return n < 0 ? 0 : (size_t)n;
}

static void deflated(void)
{
	unsigned char blk[512];
	nghttp2_hd_deflater *d;
	struct msg m = { .len = 0 };
	size_t n;

	nghttp2_hd_deflate_new(&d, 4096);
	n = deflate(d, blk, sizeof(blk), 0);
	put(&m, PREFACE, 24);
	settings3(&m);
	headers(&m, blk, n);
	save("nghttp2-huffman", &m);
	/* The same connection's second request refers to the dynamic table. */
	n = deflate(d, blk, sizeof(blk), 1);
	frame(&m, 1, 0x5, 3, blk, n);
	save("nghttp2-dynamic", &m);
	nghttp2_hd_deflate_del(d);
}

/* n fields: :method GET (indexed), then literals "x-fN: N" without indexing. */
static void many_fields(const char *name, int n)
{
	unsigned char blk[1024];
	size_t len = 0;

	blk[len++] = 0x82;
	for (int i = 1; i < n; i++)
		len += sprintf((char *)blk + len, "%c%cx-f%02d%c%02d", 0x00, 5, i, 2, i);
	one(name, 0, blk, len);
}

/* n frames: SETTINGS, then PINGs. */
static void many_frames(const char *name, int n)
{
	static const unsigned char ping[8] = "olab-png";
	struct msg m = { .len = 0 };

	settings3(&m);
	for (int i = 1; i < n; i++)
		frame(&m, 6, 0, 0, ping, 8);
	save(name, &m);
}

/* A literal value of n raw bytes (indexed name :path). */
static void long_value(const char *name, int n)
{
	unsigned char blk[600];
	size_t len = 0;

	blk[len++] = 0x04;                      /* without indexing, name 4 */
	blk[len++] = 0x7f;                      /* n: 7-bit prefix, 2 more bytes */
	blk[len++] = 0x80 | ((n - 127) & 0x7f);
	blk[len++] = (n - 127) >> 7;
	for (int i = 0; i < n; i++)
		blk[len++] = '/' + i % 60;
	one(name, 0, blk, len);
}

static void frame_cases(void)
{
	static const unsigned char ping[8] = "12345678", s9[54] = { 0, 1 }, rst[4] = { 0, 0, 0, 8 };
	static const unsigned char prio[5] = { 0, 0, 0, 0, 16 }, away[8] = { 0 }, win[4] = { 0, 1, 0, 0 };
	static const unsigned char padded[] = { 2, 0x82, 0x84, 0, 0 };
	static const unsigned char prio_hdr[] = { 3, 0x80, 0, 0, 0, 200, 0x82, 0x86, 0x84, 0, 0, 0 };
	static const unsigned char data[] = { 3, 'h', 'i', 0, 0, 0 };
	struct msg m = { .len = 0 };

	frame(&m, 4, 0, 0, NULL, 0);
	frame(&m, 4, 1, 0, NULL, 0);            /* ACK */
	frame(&m, 8, 0, 0, win, 4);
	frame(&m, 6, 0, 0, ping, 8);
	frame(&m, 2, 0, 1, prio, 5);
	frame(&m, 1, 0x2c, 1, prio_hdr, sizeof(prio_hdr)); /* PADDED PRIORITY END_HEADERS */
	frame(&m, 0, 0x9, 1, data, sizeof(data));           /* PADDED END_STREAM */
	frame(&m, 0x20, 0xff, 5, ping, 3);      /* unknown type */
	save("control-frames", &m);
	m.len = 0;
	frame(&m, 3, 0, 1, rst, 4);
	frame(&m, 7, 0, 0, away, 8);
	frame(&m, 1, 0xc, 3, padded, sizeof(padded));
	save("rst-goaway-padded", &m);
	m.len = 0;
	frame(&m, 4, 0, 0, s9, sizeof(s9));
	save("settings-9", &m);
}

static void bad_frames(void)
{
	static const unsigned char ping[8] = { 0 }, s1[6] = { 0, 2, 0, 0, 0, 2 }, blk[1] = { 0x82 };
	static const unsigned char padbad[] = { 9, 0x82 }, cont[1] = { 0x84 };
	struct msg m = { .len = 0 };

#define BAD(name, ...) do { m.len = 0; __VA_ARGS__; save(name, &m); } while (0)
	BAD("bad-preface", put(&m, "PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", 24));
	BAD("cut-preface", put(&m, "PRI * HT", 8));
	BAD("cut-frame-header", put(&m, "\0\0\x08\x06\0", 5));
	BAD("cut-payload", frame(&m, 6, 0, 0, ping, 8); m.len -= 3);
	BAD("frame-too-long", put(&m, "\0\x4e\x20\x06\0\0\0\0\0", 9));
	BAD("settings-stream", frame(&m, 4, 0, 1, s1, 6));
	BAD("settings-length", frame(&m, 4, 0, 0, s1, 5));
	BAD("settings-ack-payload", frame(&m, 4, 1, 0, s1, 6));
	BAD("settings-push-2", frame(&m, 4, 0, 0, s1, 6));
	BAD("headers-stream-0", frame(&m, 1, 0x4, 0, blk, 1));
	BAD("headers-pad-long", frame(&m, 1, 0xc, 1, padbad, sizeof(padbad)));
	BAD("push-promise", frame(&m, 5, 0x4, 1, ping, 8));
	BAD("continuation-alone", frame(&m, 9, 0x4, 1, cont, 1));
	BAD("ping-length", frame(&m, 6, 0, 0, ping, 7));
	BAD("headers-continued", frame(&m, 1, 0x1, 1, blk, 1); frame(&m, 9, 0x4, 1, cont, 1));
#undef BAD
}

/* Seeded variants of one message: cut short, and one byte changed. */
static void variants(uint32_t seed)
{
	static const unsigned char blk[] = { 0x82, 0x87, 0x04, 0x05, '/', 'i', 'n', 'f', 'o',
					     0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b,
					     0xa0, 0xab, 0x90, 0xf4, 0xff, 0x00, 0x01, 'x', 0x01, 'y' };
	struct msg m = { .len = 0 }, v;
	char name[64];

	settings3(&m);
	headers(&m, blk, sizeof(blk));
	save("base", &m);
	for (int i = 0; i < 6; i++) {
		size_t cut = corpus_rand(&seed) % m.len;

		snprintf(name, sizeof(name), "seed-cut-%zu", cut);
		corpus_put(P, name, m.b, cut);
	}
	for (int i = 0; i < 12; i++) {
		size_t at = corpus_rand(&seed) % m.len;
		unsigned char c = corpus_rand(&seed);

		v = m;
		v.b[at] = c;
		snprintf(name, sizeof(name), "seed-byte-%zu-%02x", at, c);
		save(name, &v);
	}
}

void corpus_http2(void)
{
	/* :method GET, :scheme https, :path /, :authority example.com (name 1, raw). */
	ONE("request", 1, 0x82, 0x87, 0x84, 0x01, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm');
	ONE("frames-only", 0, 0x82, 0x86, 0x84);
	ONE("literal-new-name", 0, 0x82, 0x00, 8, 'x', '-', 'c', 'u', 's', 't', 'o', 'm', 1, 'v');
	ONE("never-indexed", 0, 0x83, 0x1f, 0x08, 5, 's', 'e', 'c', 'r', 't');
	ONE("incremental", 0, 0x40, 3, 'a', 'b', 'c', 3, 'd', 'e', 'f', 0x7a, 2, 'h', 'i');
	ONE("size-update", 0, 0x3f, 0xe1, 0x1f, 0x82);
	ONE("size-update-zero", 0, 0x20, 0x82);
	ONE("empty-block", 0);
	/* "www.example.com" Huffman-coded (RFC 7541 C.4.1) as :authority. */
	ONE("huffman-rfc", 0, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab,
	    0x90, 0xf4, 0xff);
	ONE("huffman-empty", 0, 0x01, 0x80);
	ONE("dynamic-ref", 0, 0x40, 1, 'k', 1, 'v', 0xbe);
	ONE("index-zero", 0, 0x80);
	ONE("index-70", 0, 0xbf, 0x07);
	ONE("name-index-62", 0, 0x0f, 0x2f, 1, 'v');
	ONE("string-past-block", 0, 0x04, 10, '/', 'a');
	ONE("huffman-zero-padding", 0, 0x04, 0x81, 0x00);
	ONE("huffman-eos", 0, 0x04, 0x84, 0xff, 0xff, 0xff, 0xff);
	ONE("huffman-long-padding", 0, 0x04, 0x82, 0x63, 0xff);
	ONE("update-after-field", 0, 0x82, 0x20);
	ONE("update-too-big", 0, 0x3f, 0xe2, 0x1f);
	ONE("int-too-long", 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
	ONE("int-cut", 0, 0x82, 0xbf);
	deflated();
	frame_cases();
	bad_frames();
	many_fields("fields-16", 16);
	many_fields("fields-17", 17);
	many_frames("frames-8", 8);
	many_frames("frames-9", 9);
	long_value("value-256", 256);
	long_value("value-257", 257);
	variants(0x68327632);
}
