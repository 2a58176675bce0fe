/* HTTP/1.1 requests: valid, over the default knobs, truncated, malformed. */
#include <stdio.h>
#include <string.h>
#include "tests/corpus/gen.h"

#define P "http1"

static const struct {
	const char *name, *text;
} fixed[] = {
	{ "get", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n" },
	{ "get-headers", "GET /index.html HTTP/1.1\r\nHost: a.example\r\nUser-Agent: olab/1\r\n"
	  "Accept: */*\r\nX-Trace: 12345\r\n\r\n" },
	{ "post-length", "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world" },
	{ "post-chunked", "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" },
	{ "chunk-ext", "PUT /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "a;name=value\r\n0123456789\r\n0\r\n\r\n" },
	{ "head-10", "HEAD /status HTTP/1.0\r\n\r\n" },
	{ "empty-value", "PUT /p HTTP/1.1\r\nX-Empty:\r\nHost: h\r\n\r\n" },
	{ "query-fragment", "DELETE /a/b?c=d&e=%20f#frag HTTP/1.1\r\nHost: h\r\n\r\n" },
	{ "options-star", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n" },
	{ "length-zero", "PATCH /z HTTP/1.1\r\nContent-Length: 0\r\n\r\n" },
	{ "value-ws", "GET / HTTP/1.1\r\nHost:   \t spaced.example\r\nX-Tab:\tv\r\n\r\n" },
	{ "upper-names", "POST / HTTP/1.1\r\nCONTENT-LENGTH: 3\r\nhOsT: h\r\n\r\nabc" },
	{ "upper-chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" },
	{ "trace", "TRACE /t HTTP/1.1\r\nMax-Forwards: 0\r\n\r\n" },
	{ "obs-text", "GET / HTTP/1.1\r\nX-Latin: caf\xc3\xa9\r\n\r\n" },
	{ "length-ws", "POST / HTTP/1.1\r\nContent-Length: 2  \r\n\r\nok" },
	{ "chunk-hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "0000F\r\n0123456789abcde\r\n00\r\n\r\n" },
	/* Truncated. */
	{ "cut-request-line", "GET /index.ht" },
	{ "cut-headers", "GET / HTTP/1.1\r\nHost: h\r\n" },
	{ "cut-body", "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello" },
	{ "cut-chunk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nabc" },
	{ "no-last-chunk", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n" },
	{ "cut-cr", "GET / HTTP/1.1\r" },
	{ "empty", "" },
	{ "huge-length", "POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\nabc" },
	/* Malformed. */
	{ "lower-method", "get / HTTP/1.1\r\nHost: h\r\n\r\n" },
	{ "unknown-method", "FETCH / HTTP/1.1\r\nHost: h\r\n\r\n" },
	{ "bad-version", "GET / HTTP/1.x\r\nHost: h\r\n\r\n" },
	{ "bad-protocol", "GET / HTTPS/1.1\r\nHost: h\r\n\r\n" },
	{ "space-in-name", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n" },
	{ "no-colon", "GET / HTTP/1.1\r\nHost\r\n\r\n" },
	{ "ctl-in-value", "GET / HTTP/1.1\r\nX-A: a\x01z\r\n\r\n" },
	{ "length-alpha", "POST / HTTP/1.1\r\nContent-Length: 1a\r\n\r\na" },
	{ "length-twice", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na" },
	{ "length-and-chunked", "POST / HTTP/1.1\r\nContent-Length: 3\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" },
	{ "bad-chunk-size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n" },
	{ "chunk-size-short", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "2\r\nabcd\r\n0\r\n\r\n" },
	{ "chunk-size-long", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "5\r\nab\r\n0\r\n\r\n" },
	{ "te-gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" },
	{ "cr-without-lf", "GET / HTTP/1.1\rX\nHost: h\r\n\r\n" },
	{ "target-space", "GET / x HTTP/1.1\r\nHost: h\r\n\r\n" },
	{ "trailing-garbage", "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGARBAGE" },
	{ "empty-name", "GET / HTTP/1.1\r\n: v\r\n\r\n" },
	{ "no-target", "GET  HTTP/1.1\r\n\r\n" },
	{ "relative-target", "GET index.html HTTP/1.1\r\n\r\n" },
	{ "del-in-name", "GET / HTTP/1.1\r\nX\x7f: v\r\n\r\n" },
	{ "bare-lf", "GET / HTTP/1.1\nHost: h\n\n" },
	{ "trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n" },
};

static const char nul_target[] = "GET /a\0b HTTP/1.1\r\n\r\n";

/* n headers "X-Hn: vn". */
static void many_headers(const char *name, int n)
{
	char buf[4096];
	size_t len = 0;

	corpus_cat(buf, sizeof(buf), &len, "GET /many HTTP/1.1\r\n");
	for (int i = 0; i < n; i++)
		corpus_cat(buf, sizeof(buf), &len, "X-H%d: v%d\r\n", i, i);
	corpus_cat(buf, sizeof(buf), &len, "\r\n");
	corpus_put(P, name, buf, len);
}

/* One header line of exactly `line` bytes with its CRLF. */
static void long_header(const char *name, int line)
{
	char buf[4096];
	size_t len = 0;

	corpus_cat(buf, sizeof(buf), &len, "GET / HTTP/1.1\r\nX-Long: ");
	for (int i = 0; i < line - 10; i++)
		buf[len++] = 'a' + i % 26;
	corpus_cat(buf, sizeof(buf), &len, "\r\n\r\n");
	corpus_put(P, name, buf, len);
}

/* n chunks of 1..n bytes, then the last one. */
static void many_chunks(const char *name, int n)
{
	char buf[4096];
	size_t len = 0;

	corpus_cat(buf, sizeof(buf), &len, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 1; i <= n; i++) {
		corpus_cat(buf, sizeof(buf), &len, "%x\r\n", i);
		for (int j = 0; j < i; j++)
			buf[len++] = 'A' + j;
		corpus_cat(buf, sizeof(buf), &len, "\r\n");
	}
	corpus_cat(buf, sizeof(buf), &len, "0\r\n\r\n");
	corpus_put(P, name, buf, len);
}

/* Seeded variants of one request: cut short, and one byte changed to a
 * byte of a small set (letters, separators, controls). */
static void variants(uint32_t seed)
{
	static const char base[] = "POST /v?q=1 HTTP/1.1\r\nHost: h.example\r\n"
		"Transfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n";
	static const char set[] = "aZ0 :;\t\r\n\x01\x7f/";

	corpus_variants(P, base, set, 10, seed);
}

void corpus_http1(void)
{
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		corpus_puts(P, fixed[i].name, fixed[i].text);
	corpus_put(P, "nul-in-target", nul_target, sizeof(nul_target) - 1);
	many_headers("headers-16", 16);
	many_headers("headers-17", 17);
	long_header("line-256", 256);
	long_header("line-257", 257);
	many_chunks("chunks-7", 7);
	many_chunks("chunks-8", 8);
	variants(0x6f6c6162);
}
