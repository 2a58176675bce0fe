/*
 * Real requests for the parsers, each the UDP payload of an
 * Ethernet/IPv4/UDP frame (byte 42 on): well-formed ones the parser must
 * pass (XDP_PASS) and a cut one it must drop (XDP_DROP).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bench/verifier.h"
#include <linux/types.h>
#include "bpf/gen.h"
#include "lib/gen.h"

#define PAYLOAD_OFF 42

struct payload {
	const char *name;
	bool valid;
	const char *bytes;
	size_t len;         /* 0: strlen(bytes) */
	size_t cut;         /* HTTP/2: bytes of the block missing at the end */
};

#define HTTP1_HDR(n) "X-Header-" #n ": value-" #n "\r\n"

static const struct payload http1[] = {
	{ "get-3-headers", true,
	  "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: offloadlab/0.1\r\n"
	  "Accept: */*\r\n\r\n" },
	{ "get-12-headers", true,
	  "GET /api/v1/items?id=42 HTTP/1.1\r\nHost: example.com\r\n"
	  "User-Agent: offloadlab/0.1\r\nAccept: application/json\r\n"
	  "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n"
	  HTTP1_HDR(1) HTTP1_HDR(2) HTTP1_HDR(3) HTTP1_HDR(4) HTTP1_HDR(5) HTTP1_HDR(6)
	  HTTP1_HDR(7) "\r\n" },
	{ "cut-in-a-header", false, "GET /index.html HTTP/1.1\r\nHost: exa" },
};

/* HPACK blocks of HEADERS frames (END_STREAM | END_HEADERS, stream 1; the
 * frame header is added): indexed fields and literals without Huffman. */
#define H2_POST "\x83\x87\x44\x0d" "/api/v1/items" "\x41\x0b" "example.com" \
	"\x5f\x10" "application/json" "\x7a\x0e" "offloadlab/0.1" "\x53\x03" "*/*"
static const struct payload http2[] = {
	{ "headers-get-4-fields", true, "\x82\x86\x84\x41\x0b" "example.com" },
	{ "headers-post-7-fields", true, H2_POST },
	{ "cut-in-the-block", false, H2_POST, 0, 40 },
};

static const struct payload json[] = {
	{ "object-3-keys", true, "{\"id\":42,\"name\":\"widget\",\"ok\":true}" },
	{ "object-depth-3", true,
	  "{\"user\":{\"id\":7,\"tags\":[\"a\",\"b\"],\"addr\":{\"city\":\"Paris\","
	  "\"zip\":\"75001\"}},\"n\":3.5,\"z\":null}" },
	{ "unterminated", false, "{\"id\":42,\"name\":\"widget\",\"ok\":tr" },
};

static const struct {
	const struct payload *p;
	size_t n;
} by_parser[VF_PARSERS] = {
	{ http1, sizeof(http1) / sizeof(http1[0]) },
	{ http2, sizeof(http2) / sizeof(http2[0]) },
	{ json, sizeof(json) / sizeof(json[0]) },
};

/* The message: the payload, with its HTTP/2 frame header for HTTP/2. */
static size_t message(int parser, const struct payload *p, uint8_t *buf, size_t cap)
{
	size_t len = p->len ? p->len : strlen(p->bytes), hdr = parser == 1 ? 9 : 0;

	if (hdr + len > cap)
		return 0;
	if (hdr) {
		buf[0] = (uint8_t)(len >> 16);
		buf[1] = (uint8_t)(len >> 8);
		buf[2] = (uint8_t)len;
		buf[3] = 0x01;                          /* HEADERS */
		buf[4] = 0x05;                          /* END_STREAM | END_HEADERS */
		memcpy(buf + 5, "\x00\x00\x00\x01", 4);  /* stream 1 */
	}
	memcpy(buf + hdr, p->bytes, len);
	return hdr + len - p->cut;
}

static int frame(int parser, const struct payload *p, struct vf_sample *s)
{
	struct gen_frame_spec spec = {
		.family = 4, .src_mac = { 0x02, 0, 0, 0, 0, 1 }, .dst_mac = { 0x02, 0, 0, 0, 0, 2 },
		.src_ip = { 198, 18, 0, 1 }, .dst_ip = { 198, 18, 0, 2 },
		.sport = GEN_SPORT_BASE, .dport = GEN_DPORT,
	};
	uint8_t msg[1024];
	size_t len = message(parser, p, msg, sizeof(msg));
	int err;

	/* No padding: the frame ends where the message does. */
	if (PAYLOAD_OFF + len < GEN_MIN_FRAME || PAYLOAD_OFF + len > sizeof(s->frame))
		return -EINVAL;
	spec.size = (unsigned)(PAYLOAD_OFF + len);
	err = gen_build_frame(&spec, s->frame, sizeof(s->frame), NULL);
	if (err)
		return err;
	memcpy(s->frame + PAYLOAD_OFF, msg, len);
	s->frame[40] = s->frame[41] = 0;                /* no UDP checksum (IPv4) */
	s->len = spec.size;
	s->name = p->name;
	s->valid = p->valid;
	return 0;
}

int vf_samples(int parser, struct vf_sample *out, size_t cap)
{
	size_t n = 0;

	if (parser < 0 || parser >= VF_PARSERS)
		return -EINVAL;
	for (size_t i = 0; i < by_parser[parser].n && n < cap; i++) {
		int err = frame(parser, &by_parser[parser].p[i], &out[n]);

		if (err)
			return err;
		n++;
	}
	return (int)n;
}
