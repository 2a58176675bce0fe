/*
 * The eBPF HTTP/1.1 parser (bpf/parse_http1.bpf.c) against libhttp-parser,
 * field by field, on every input of tests/corpus/http1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <http_parser.h>
#include "parse_http1.skel.h"
#include "tests/integ/parse_kit.h"
#include "tests/test.h"

/* Known, deliberate differences: http-parser as Debian builds it is not
 * strict (HTTP_PARSER_STRICT 0); the eBPF parser follows RFC 9112. */
static const struct parse_allow allow[] = {
	{ "bare-lf", "http-parser takes a bare LF as a line end; the eBPF parser wants CRLF" },
	{ "seed-byte-37-09", "a bare LF ends a header line for http-parser" },
	{ "space-in-name", "http-parser takes SP in a header name (not a tchar)" },
	{ "seed-byte-13-7f", "http-parser does not check the letters after the H of HTTP/" },
	{ "seed-byte-87-7f", "http-parser takes any byte for the LF after chunk data" },
	{ "trailer", "trailer fields after the last chunk: not supported (TOO_BIG/UNSUPPORTED)" },
};

#define MAXH 64

/* What http-parser saw. */
struct ref {
	const unsigned char *base;
	int begins, completes, nfields, nvalues, last_value;
	unsigned url_off, url_len, chunks, last_chunk;
	struct { unsigned off, len; } name[MAXH], value[MAXH];
	uint64_t body, content_length;
	int has_cl, chunked, method, major, minor;
};

static struct ref *ref_of(http_parser *p)
{
	return p->data;
}

static int on_begin(http_parser *p)
{
	ref_of(p)->begins++;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct ref *r = ref_of(p);

	if (!r->url_len)
		r->url_off = (const unsigned char *)at - r->base;
	r->url_len += len;
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct ref *r = ref_of(p);

	if (r->nfields == 0 || r->last_value) {
		if (r->nfields == MAXH)
			return 1;
		r->name[r->nfields].off = (const unsigned char *)at - r->base;
		r->name[r->nfields++].len = 0;
		r->last_value = 0;
	}
	r->name[r->nfields - 1].len += len;
	return 0;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct ref *r = ref_of(p);
	int i = r->nfields - 1;

	if (!r->last_value) {
		r->value[i].off = (const unsigned char *)at - r->base;
		r->value[i].len = 0;
		r->last_value = 1;
	}
	r->value[i].len += len;
	return 0;
}

static int on_headers(http_parser *p)
{
	struct ref *r = ref_of(p);

	r->method = p->method;
	r->major = p->http_major;
	r->minor = p->http_minor;
	r->chunked = !!(p->flags & F_CHUNKED);
	r->has_cl = !!(p->flags & F_CONTENTLENGTH);
	r->content_length = p->content_length;
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	ref_of(p)->body += len;
	return 0;
}

static int on_chunk(http_parser *p)
{
	if (p->content_length)
		ref_of(p)->chunks++;
	else
		ref_of(p)->last_chunk = 1;
	return 0;
}

static int on_complete(http_parser *p)
{
	ref_of(p)->completes++;
	return 0;
}

/* Is the request over a knob (lines, headers, chunks), as far as it goes? */
static int over_knob(const struct corpus_file *f, const struct ref *r)
{
	size_t pos = 0;

	if (r->chunks + r->last_chunk > PARSE_MAX_CHUNKS)
		return 1;
	for (int line = 0; pos < f->len; line++) {
		const unsigned char *cr = memmem(f->data + pos, f->len - pos, "\r\n", 2);
		size_t end = cr ? (size_t)(cr - f->data) + 2 : f->len;

		if (line > 0 && end - pos == 2)
			return 0;                       /* the blank line */
		if (line > PARSE_MAX_HEADERS)
			return 1;
		if (end - pos > PARSE_MAX_HEADER_LEN || (!cr && end - pos >= PARSE_MAX_HEADER_LEN - 1))
			return 1;
		pos = end;
	}
	return 0;
}

/* http-parser's status in the eBPF parser's terms. */
static __u32 reference(const struct corpus_file *f, struct ref *r)
{
	http_parser_settings cb = {
		.on_message_begin = on_begin, .on_url = on_url,
		.on_header_field = on_field, .on_header_value = on_value,
		.on_headers_complete = on_headers, .on_body = on_body,
		.on_chunk_header = on_chunk, .on_message_complete = on_complete,
	};
	http_parser p;
	size_t parsed;

	memset(r, 0, sizeof(*r));
	r->base = f->data;
	http_parser_init(&p, HTTP_REQUEST);
	p.data = r;
	parsed = http_parser_execute(&p, &cb, (const char *)f->data, f->len);
	if (HTTP_PARSER_ERRNO(&p) != HPE_OK || r->begins > 1)
		return PARSE_MALFORMED;
	if (over_knob(f, r))
		return PARSE_TOO_BIG;
	return r->completes == 1 && parsed == f->len ? PARSE_OK : PARSE_INCOMPLETE;
}

#define SPAN_EQ(span, o, l, what) do { ASSERT_EQ((span).off, o, what); ASSERT_EQ((span).len, l, what); } while (0)

static void compare(const struct corpus_file *f, const struct http1_result *e, const struct ref *r)
{
	const char *m = http_method_str(r->method);

	ASSERT_TRUE(e->method.off == 0 && e->method.len == strlen(m) &&
		    !memcmp(f->data, m, e->method.len), "method");
	SPAN_EQ(e->target, r->url_off, r->url_len, "target");
	ASSERT_EQ(e->ver_major, r->major, "major version");
	ASSERT_EQ(e->ver_minor, r->minor, "minor version");
	ASSERT_EQ(e->nheaders, r->nfields, "header count");
	for (int i = 0; i < r->nfields && i < PARSE_MAX_HEADERS; i++) {
		SPAN_EQ(e->hdr[i].name, r->name[i].off, r->name[i].len, "header name");
		ASSERT_EQ(e->hdr[i].value.len, r->value[i].len, "header value length");
		if (r->value[i].len)
			ASSERT_EQ(e->hdr[i].value.off, r->value[i].off, "header value offset");
	}
	ASSERT_EQ(e->has_content_length, r->has_cl, "has Content-Length");
	if (r->has_cl)
		ASSERT_EQ(e->content_length, r->content_length, "Content-Length");
	ASSERT_EQ(e->chunked, r->chunked, "chunked");
	ASSERT_EQ(e->chunks, r->chunks, "chunks");
	ASSERT_EQ(e->last_chunk, r->last_chunk, "last chunk");
	ASSERT_EQ(e->body_len, r->body, "body bytes");
}

OLAB_TEST(parse_http1_diff)
{
	struct corpus_file *files = NULL;
	struct parse_http1 *skel;
	struct http1_result e;
	struct ref r;
	int n;
	struct parse_tally tally = { 0 };
	__u32 xdp, want;

	n = corpus_load("http1", &files);
	if (!ASSERT_GE(n, 30, "corpus files"))
		return;
	skel = parse_http1__open_and_load();
	if (!ASSERT_OK_PTR(skel, "parse_http1 load"))
		goto out;
	for (int i = 0; i < n; i++) {
		if (!test_subtest("%s", files[i].name))
			continue;
		want = reference(&files[i], &r);
		if (!ASSERT_OK(parse_run(bpf_program__fd(skel->progs.parse_http1),
					 bpf_map__fd(skel->maps.parse_out), files[i].data,
					 files[i].len, &e, sizeof(e), &xdp), "test_run"))
			continue;
		ASSERT_EQ(e.h.msg_len, files[i].len, "message length");
		if (parse_check_status(&files[i], e.h.status, xdp, want,
				       parse_allowed(allow, sizeof(allow) / sizeof(allow[0]), &files[i])) &&
		    want == PARSE_OK)
			compare(&files[i], &e, &r);
		parse_tally_add(&tally, e.h.status);
	}
	if (!test_subtest("statuses"))
		goto done;
	parse_tally_check(&tally, "http1");
done:
	parse_http1__destroy(skel);
out:
	corpus_free(files, n);
}
