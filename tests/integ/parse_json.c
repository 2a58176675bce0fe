/*
 * The eBPF JSON parser (bpf/parse_json.bpf.c) against jansson, field by
 * field, on every input of tests/corpus/json.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "parse_json.skel.h"
#include "tests/integ/parse_kit.h"
#include "tests/test.h"

/* Known, deliberate differences: none on this corpus. Not checked by it:
 * jansson validates raw UTF-8 and rejects reals out of double range; the
 * eBPF parser does neither. */
static const struct parse_allow allow[] = {};

#define MAXK 64

/* One key as jansson sees it, in document order. */
struct rkey {
	int depth;
	const char *key;
	json_t *val;
};

struct ref {
	struct rkey k[MAXK];
	int nkeys, max_depth;
};

/* Keys of the container v at depth d, and of what it holds. */
static void walk(json_t *v, int d, struct ref *r)
{
	const char *key;
	json_t *x;
	size_t i;

	if (d > r->max_depth)
		r->max_depth = d;
	if (json_is_object(v)) {
		json_object_foreach(v, key, x) {
			if (r->nkeys < MAXK)
				r->k[r->nkeys] = (struct rkey){ d, key, x };
			r->nkeys++;
			if (json_is_object(x) || json_is_array(x))
				walk(x, d + 1, r);
		}
	} else {
		json_array_foreach(v, i, x)
			if (json_is_object(x) || json_is_array(x))
				walk(x, d + 1, r);
	}
}

/* Did jansson fail only because the input ends too early?  It fails at the
 * end, on the end ("premature end of input", "'}' expected near end of
 * file") or on a token the end cut ("invalid token near 'tru'"). */
static bool cut_short(const struct corpus_file *f, const json_error_t *err)
{
	if ((size_t)err->position != f->len)
		return false;
	return strstr(err->text, "premature end of input") ||
	       strstr(err->text, "expected near end of file") ||
	       strstr(err->text, "invalid token near") || strstr(err->text, "invalid escape near");
}

/* jansson's status in the eBPF parser's terms; *root is the document. */
static __u32 reference(const struct corpus_file *f, struct ref *r, json_t **root)
{
	json_error_t err;

	memset(r, 0, sizeof(*r));
	*root = json_loadb((const char *)f->data, f->len, 0, &err);
	if (f->len > PARSE_JSON_LEN)
		return PARSE_TOO_BIG;
	if (!*root)
		return cut_short(f, &err) ? PARSE_INCOMPLETE : PARSE_MALFORMED;
	walk(*root, 1, r);
	if (r->max_depth > PARSE_JSON_DEPTH || r->nkeys > PARSE_MAX_KEYS)
		return PARSE_TOO_BIG;
	return PARSE_OK;
}

static int type_of(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return JT_OBJECT;
	case JSON_ARRAY: return JT_ARRAY;
	case JSON_STRING: return JT_STRING;
	case JSON_INTEGER: return JT_INT;
	case JSON_REAL: return JT_REAL;
	case JSON_TRUE: return JT_TRUE;
	case JSON_FALSE: return JT_FALSE;
	default: return JT_NULL;
	}
}

/* Raw text equals s (no escapes), or its decoded length is len. */
static bool text_eq(const struct corpus_file *f, struct parse_span sp, int esc, int dlen,
		    const char *s, size_t len)
{
	if (esc)
		return (size_t)dlen == len;
	return sp.len == len && sp.off + len <= f->len && !memcmp(f->data + sp.off, s, len);
}

static void compare_key(const struct corpus_file *f, const struct json_key *e, const struct rkey *k)
{
	json_t *v = k->val;
	char num[64];

	ASSERT_EQ(e->depth, k->depth, "depth");
	ASSERT_TRUE(text_eq(f, e->key, e->key_esc, e->key_dlen, k->key, strlen(k->key)), k->key);
	if (!ASSERT_EQ(e->type, type_of(v), "type"))
		return;
	if (json_is_integer(v))
		ASSERT_EQ(e->ival, json_integer_value(v), "integer");
	if (json_is_real(v) && ASSERT_LT(e->val.len, sizeof(num), "number length")) {
		memcpy(num, f->data + e->val.off, e->val.len);
		num[e->val.len] = 0;
		ASSERT_TRUE(strtod(num, NULL) == json_real_value(v), "real");
	}
	if (json_is_string(v))
		ASSERT_TRUE(text_eq(f, e->val, e->val_esc, e->val_dlen, json_string_value(v),
				    json_string_length(v)), "string value");
}

static void compare(const struct corpus_file *f, const struct json_result *e, const struct ref *r)
{
	ASSERT_EQ(e->nkeys, r->nkeys, "key count");
	ASSERT_EQ(e->max_depth, r->max_depth, "depth");
	for (int i = 0; i < r->nkeys && i < PARSE_MAX_KEYS; i++)
		compare_key(f, &e->keys[i], &r->k[i]);
}

OLAB_TEST(parse_json_diff)
{
	struct corpus_file *files = NULL;
	struct parse_json *skel;
	struct json_result e;
	json_t *root;
	struct ref r;
	struct parse_tally tally = { 0 };
	__u32 xdp, want;
	int n;

	n = corpus_load("json", &files);
	if (!ASSERT_GE(n, 30, "corpus files"))
		return;
	skel = parse_json__open_and_load();
	if (!ASSERT_OK_PTR(skel, "parse_json load"))
		goto out;
	for (int i = 0; i < n; i++) {
		if (!test_subtest("%s", files[i].name))
			continue;
		want = reference(&files[i], &r, &root);
		if (ASSERT_OK(parse_run(bpf_program__fd(skel->progs.parse_json),
					bpf_map__fd(skel->maps.parse_out), files[i].data,
					files[i].len, &e, sizeof(e), &xdp), "test_run") &&
		    ASSERT_EQ(e.h.msg_len, files[i].len, "message length") &&
		    parse_check_status(&files[i], e.h.status, xdp, want,
				       parse_allowed(allow, sizeof(allow) / sizeof(allow[0]), &files[i])) &&
		    want == PARSE_OK)
			compare(&files[i], &e, &r);
		parse_tally_add(&tally, e.h.status);
		json_decref(root);
	}
	if (!test_subtest("statuses"))
		goto done;
	parse_tally_check(&tally, "json");
done:
	parse_json__destroy(skel);
out:
	corpus_free(files, n);
}
