/*
 * The eBPF HTTP/2 parser (bpf/parse_http2.bpf.c) on tests/corpus/http2:
 * frame headers and SETTINGS against a decoding by hand here (RFC 9113
 * section 6), header blocks against nghttp2's HPACK inflater, field by field.
 * What the parser leaves out by design is expected as TOO_BIG: a reference
 * into the dynamic table (nghttp2 keeps one), a HEADERS frame without
 * END_HEADERS (CONTINUATION), and, like every knob, more frames, SETTINGS
 * pairs or fields, or a longer string, than its knobs allow.
 */
#include <stdlib.h>
#include <string.h>
#include <nghttp2/nghttp2.h>
#include "parse_http2.skel.h"
#include "tests/integ/parse_kit.h"
#include "tests/test.h"

/* Known, deliberate differences (none on this corpus). */
static const struct parse_allow allow[] = {};

#define MAXF 64
#define STATIC_LEN 61

struct field {
	int rep, frame, never;
	const uint8_t *name, *value;
	size_t namelen, valuelen;
	char buf[600];          /* name then value, copied out of nghttp2 */
};

/* What the reference decoding saw. */
struct ref {
	int nframes, nsettings, nfields, preface;
	struct h2_frame frames[MAXF];
	struct h2_setting settings[MAXF];
	struct field fields[MAXF];
};

static struct { char name[64], value[64]; } static_tab[STATIC_LEN + 1];

/* The static table as nghttp2 decodes it: entry i is block { 0x80 | i }. */
static int load_static_table(void)
{
	for (int i = 1; i <= STATIC_LEN; i++) {
		nghttp2_hd_inflater *inf;
		uint8_t b = 0x80 | i;
		nghttp2_nv nv;
		int flags = 0;

		if (nghttp2_hd_inflate_new(&inf))
			return -1;
		if (nghttp2_hd_inflate_hd2(inf, &nv, &flags, &b, 1, 1) != 1 ||
		    !(flags & NGHTTP2_HD_INFLATE_EMIT)) {
			nghttp2_hd_inflate_del(inf);
			return -1;
		}
		snprintf(static_tab[i].name, sizeof(static_tab[i].name), "%.*s", (int)nv.namelen, nv.name);
		snprintf(static_tab[i].value, sizeof(static_tab[i].value), "%.*s",
			 (int)nv.valuelen, nv.value);
		nghttp2_hd_inflate_del(inf);
	}
	return 0;
}

/* An HPACK integer with an n-bit prefix at *p (< end); -1 if cut. */
static long hpack_int(const uint8_t *b, size_t *p, size_t end, int n)
{
	long mask = (1 << n) - 1, v = b[(*p)++] & mask;

	if (v < mask)
		return v;
	for (int shift = 0; *p < end && shift < 35; shift += 7) {
		v += (long)(b[*p] & 0x7f) << shift;
		if (!(b[(*p)++] & 0x80))
			return v;
	}
	return -1;
}

/* A string literal's encoded length at *p, which moves past it. */
static long str_len(const uint8_t *b, size_t *p, size_t end)
{
	long n = *p < end ? hpack_int(b, p, end, 7) : -1;

	if (n >= 0)
		*p += n;
	return n;
}

/* The representation of the field in [p, end) (after any size updates);
 * *limit: it uses the dynamic table or a string over the knob. */
static int classify(const uint8_t *b, size_t p, size_t end, int *limit)
{
	long idx, n1 = 0, n2;
	int rep;

	while (p < end && (b[p] & 0xe0) == 0x20)
		hpack_int(b, &p, end, 5);
	if (p >= end)
		return 0;
	rep = b[p] & 0x80 ? H2_INDEXED : b[p] & 0x40 ? H2_INCREMENTAL :
	      b[p] & 0x10 ? H2_NEVER : H2_WITHOUT;
	idx = hpack_int(b, &p, end, rep == H2_INDEXED ? 7 : rep == H2_INCREMENTAL ? 6 : 4);
	*limit = idx > STATIC_LEN;
	if (rep == H2_INDEXED)
		return rep;
	if (idx == 0)
		n1 = str_len(b, &p, end);
	n2 = str_len(b, &p, end);
	*limit |= n1 > PARSE_MAX_HEADER_LEN || n2 > PARSE_MAX_HEADER_LEN;
	return rep;
}

/* One header block through the connection's inflater. */
static __u32 hpack(nghttp2_hd_inflater *inf, const uint8_t *b, size_t len, int frame, struct ref *r)
{
	size_t p = 0;

	for (;;) {
		int flags = 0, limit = 0;
		nghttp2_nv nv;
		ssize_t n = nghttp2_hd_inflate_hd2(inf, &nv, &flags, (uint8_t *)b + p, len - p, 1);
		struct field *f;

		if (n < 0)
			return PARSE_MALFORMED;
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(inf);
			return PARSE_OK;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT)) {
			p += n;
			continue;
		}
		if (r->nfields >= MAXF)
			return PARSE_TOO_BIG;
		f = &r->fields[r->nfields];
		f->rep = classify(b, p, p + n, &limit);
		if (limit || r->nfields == PARSE_MAX_HEADERS || nv.namelen + nv.valuelen > sizeof(f->buf))
			return PARSE_TOO_BIG;
		f->frame = frame;
		f->never = !!(nv.flags & NGHTTP2_NV_FLAG_NO_INDEX);
		memcpy(f->buf, nv.name, nv.namelen);
		memcpy(f->buf + nv.namelen, nv.value, nv.valuelen);
		f->name = (uint8_t *)f->buf;
		f->namelen = nv.namelen;
		f->value = (uint8_t *)f->buf + nv.namelen;
		f->valuelen = nv.valuelen;
		r->nfields++;
		p += n;
	}
}

static __u32 settings(const uint8_t *b, const struct h2_frame *f, int i, struct ref *r)
{
	for (__u32 k = 0; k < f->len; k += 6) {
		const uint8_t *s = b + f->off + k;
		__u32 id = s[0] << 8 | s[1], v = (__u32)s[2] << 24 | s[3] << 16 | s[4] << 8 | s[5];

		if (r->nsettings == PARSE_MAX_SETTINGS)
			return PARSE_TOO_BIG;
		if ((id == 2 && v > 1) || (id == 4 && v > 0x7fffffff) ||
		    (id == 5 && (v < 16384 || v > 0xffffff)))
			return PARSE_MALFORMED;
		r->settings[r->nsettings++] = (struct h2_setting){ .id = id, .value = v, .frame = i };
	}
	return PARSE_OK;
}

/* RFC 9113 section 6, per frame type, as far as one client's bytes go. */
static __u32 frame_rules(nghttp2_hd_inflater *inf, const uint8_t *b, const struct h2_frame *f,
			 int i, struct ref *r)
{
	__u32 pad = 0, skip = 0, len = f->len;

	switch (f->type) {
	case 0: case 1:                         /* DATA, HEADERS */
		if (!f->stream || ((f->flags & 0x8) && !len))
			return PARSE_MALFORMED;
		if (f->flags & 0x8) {
			pad = b[f->off];
			skip = 1;
		}
		skip += f->type == 1 && (f->flags & 0x20) ? 5 : 0;
		if (skip + pad > len)
			return PARSE_MALFORMED;
		if (f->type == 0)
			return PARSE_OK;
		if (!(f->flags & 0x4))
			return PARSE_TOO_BIG;   /* CONTINUATION: left out */
		return hpack(inf, b + f->off + skip, len - skip - pad, i, r);
	case 2: return f->stream && len == 5 ? PARSE_OK : PARSE_MALFORMED;
	case 3: return f->stream && len == 4 ? PARSE_OK : PARSE_MALFORMED;
	case 4:
		if (f->stream || len % 6 || ((f->flags & 1) && len))
			return PARSE_MALFORMED;
		return settings(b, f, i, r);
	case 6: return !f->stream && len == 8 ? PARSE_OK : PARSE_MALFORMED;
	case 7: return !f->stream && len >= 8 ? PARSE_OK : PARSE_MALFORMED;
	case 8: return len == 4 ? PARSE_OK : PARSE_MALFORMED;
	case 5: case 9: return PARSE_MALFORMED; /* PUSH_PROMISE, CONTINUATION */
	default: return PARSE_OK;               /* unknown types are ignored */
	}
}

static __u32 reference(const struct corpus_file *fl, struct ref *r)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	const uint8_t *b = fl->data;
	nghttp2_hd_inflater *inf;
	size_t p = 0, len = fl->len;
	__u32 st = PARSE_OK;

	memset(r, 0, sizeof(*r));
	if (len && b[0] == 'P') {
		if (memcmp(b, preface, len < 24 ? len : 24))
			return PARSE_MALFORMED;
		if (len < 24)
			return PARSE_INCOMPLETE;
		r->preface = 1;
		p = 24;
	}
	if (nghttp2_hd_inflate_new(&inf))
		return PARSE_UNSET;
	for (int i = 0; p < len && st == PARSE_OK; i++) {
		struct h2_frame *f = &r->frames[i];

		if (i == PARSE_MAX_FRAMES || i == MAXF)
			st = PARSE_TOO_BIG;
		else if (p + 9 > len)
			st = PARSE_INCOMPLETE;
		if (st != PARSE_OK)
			break;
		f->len = b[p] << 16 | b[p + 1] << 8 | b[p + 2];
		f->type = b[p + 3];
		f->flags = b[p + 4];
		f->stream = (b[p + 5] & 0x7f) << 24 | b[p + 6] << 16 | b[p + 7] << 8 | b[p + 8];
		f->off = p + 9;
		r->nframes = i + 1;
		st = f->len > 16384 ? PARSE_MALFORMED : p + 9 + f->len > len ? PARSE_INCOMPLETE :
		     frame_rules(inf, b, f, i, r);
		p += 9 + f->len;
	}
	nghttp2_hd_inflate_del(inf);
	return st;
}

/* The bytes of an eBPF name or value. */
static const uint8_t *text(const struct corpus_file *f, const struct http2_result *e,
			   int src, int idx, int value, struct parse_span sp, size_t *len)
{
	if (src == H2_STATIC && idx >= 1 && idx <= STATIC_LEN) {
		const char *s = value ? static_tab[idx].value : static_tab[idx].name;

		*len = strlen(s);
		return (const uint8_t *)s;
	}
	*len = sp.len;
	if (src == H2_LITERAL && sp.off + sp.len <= f->len)
		return f->data + sp.off;
	if (src == H2_HUFF && sp.off + sp.len <= PARSE_HUFF_BUF)
		return e->huff + sp.off;
	return NULL;
}

static bool bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a && alen == blen && !memcmp(a, b, alen);
}

static void compare(const struct corpus_file *fl, const struct http2_result *e, const struct ref *r)
{
	ASSERT_EQ(e->preface, r->preface, "preface");
	ASSERT_EQ(e->nframes, r->nframes, "frames");
	for (int i = 0; i < r->nframes && i < PARSE_MAX_FRAMES; i++) {
		ASSERT_EQ(e->frames[i].len, r->frames[i].len, "frame length");
		ASSERT_EQ(e->frames[i].type, r->frames[i].type, "frame type");
		ASSERT_EQ(e->frames[i].flags, r->frames[i].flags, "frame flags");
		ASSERT_EQ(e->frames[i].stream, r->frames[i].stream, "frame stream");
		ASSERT_EQ(e->frames[i].off, r->frames[i].off, "frame payload offset");
	}
	ASSERT_EQ(e->nsettings, r->nsettings, "settings");
	for (int i = 0; i < r->nsettings && i < PARSE_MAX_SETTINGS; i++) {
		ASSERT_EQ(e->settings[i].id, r->settings[i].id, "setting id");
		ASSERT_EQ(e->settings[i].value, r->settings[i].value, "setting value");
		ASSERT_EQ(e->settings[i].frame, r->settings[i].frame, "setting frame");
	}
	ASSERT_EQ(e->nfields, r->nfields, "header fields");
	for (int i = 0; i < r->nfields && i < PARSE_MAX_HEADERS; i++) {
		const struct h2_field *x = &e->fields[i];
		const struct field *y = &r->fields[i];
		const uint8_t *s;
		size_t n;

		ASSERT_EQ(x->rep, y->rep, "representation");
		ASSERT_EQ(x->rep == H2_NEVER, y->never, "never indexed");
		ASSERT_EQ(x->frame, y->frame, "field frame");
		s = text(fl, e, x->name_src, x->index, 0, x->name, &n);
		ASSERT_TRUE(bytes_eq(s, n, y->name, y->namelen), "field name");
		s = text(fl, e, x->value_src, x->index, 1, x->value, &n);
		ASSERT_TRUE(bytes_eq(s, n, y->value, y->valuelen), "field value");
	}
}

OLAB_TEST(parse_http2_diff)
{
	struct corpus_file *files = NULL;
	struct parse_http2 *skel;
	static struct http2_result e;
	static struct ref r;
	struct parse_tally tally = { 0 };
	__u32 xdp, want;
	int n;

	n = corpus_load("http2", &files);
	if (!ASSERT_GE(n, 30, "corpus files") || !ASSERT_OK(load_static_table(), "static table"))
		goto out;
	skel = parse_http2__open_and_load();
	if (!ASSERT_OK_PTR(skel, "parse_http2 load"))
		goto out;
	for (int i = 0; i < n; i++) {
		if (!test_subtest("%s", files[i].name))
			continue;
		want = reference(&files[i], &r);
		if (ASSERT_OK(parse_run(bpf_program__fd(skel->progs.parse_http2),
					bpf_map__fd(skel->maps.parse_out), files[i].data,
					files[i].len, &e, sizeof(e), &xdp), "test_run") &&
		    ASSERT_EQ(e.h.msg_len, files[i].len, "message length") &&
		    parse_check_status(&files[i], e.h.status, xdp, want,
				       parse_allowed(allow, sizeof(allow) / sizeof(allow[0]), &files[i])) &&
		    want == PARSE_OK)
			compare(&files[i], &e, &r);
		parse_tally_add(&tally, e.h.status);
	}
	if (!test_subtest("statuses"))
		goto done;
	parse_tally_check(&tally, "http2");
done:
	parse_http2__destroy(skel);
out:
	corpus_free(files, n);
}
