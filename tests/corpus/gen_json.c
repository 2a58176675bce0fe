/* JSON documents: valid, over the default knobs, truncated, malformed. */
#include <stdio.h>
#include <string.h>
#include "tests/corpus/gen.h"

#define P "json"

static const struct {
	const char *name, *text;
} fixed[] = {
	{ "flat", "{\"a\":1,\"b\":\"two\",\"c\":true,\"d\":false,\"e\":null}" },
	{ "empty-object", "{}" },
	{ "spaces", " \t\r\n{ \"k\" : 42 , \"s\" :\"v\" }\n " },
	{ "nested", "{\"user\":{\"id\":7,\"name\":\"ann\",\"tags\":{\"x\":1}},\"ok\":true}" },
	{ "negative", "{\"n\":-12,\"z\":0,\"nz\":-0}" },
	{ "int-limits", "{\"max\":9223372036854775807,\"min\":-9223372036854775808}" },
	{ "reals", "{\"f\":1.5,\"e\":2e3,\"E\":-4.25E-2,\"p\":1e+2}" },
	{ "escapes", "{\"q\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}" },
	{ "unicode", "{\"u\":\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"k\\u0041\":1}" },
	{ "utf8-raw", "{\"cafe\":\"caf\xc3\xa9\"}" },
	{ "array-values", "{\"arr\":[1,\"x\",{\"in\":2},[true,null]],\"after\":3}" },
	{ "empty-array", "{\"a\":[],\"o\":{}}" },
	{ "depth-4", "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}" },
	{ "empty-key", "{\"\":\"\"}" },
	{ "escaped-key", "{\"a\\nb\":\"\\u0001\"}" },
	/* Over the default knobs. */
	{ "depth-5", "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}" },
	{ "depth-5-array", "{\"a\":[[[[1]]]]}" },
	/* Truncated. */
	{ "cut-key", "{\"ab" },
	{ "cut-value", "{\"a\":12" },
	{ "cut-nested", "{\"a\":{\"b\":1}" },
	{ "cut-escape", "{\"a\":\"x\\" },
	{ "cut-literal", "{\"a\":tru" },
	{ "empty", "" },
	/* Malformed. */
	{ "unbalanced-close", "{\"a\":1}}" },
	{ "wrong-close", "{\"a\":[1}" },
	{ "trailing-comma", "{\"a\":1,}" },
	{ "missing-colon", "{\"a\" 1}" },
	{ "missing-comma", "{\"a\":1 \"b\":2}" },
	{ "bare-key", "{a:1}" },
	{ "single-quotes", "{'a':1}" },
	{ "bad-escape", "{\"a\":\"\\x41\"}" },
	{ "bad-unicode", "{\"a\":\"\\u12g4\"}" },
	{ "lone-surrogate", "{\"a\":\"\\ud800x\"}" },
	{ "low-surrogate", "{\"a\":\"\\udc00\"}" },
	{ "nul-escape", "{\"a\":\"\\u0000\"}" },
	{ "ctl-in-string", "{\"a\":\"x\ty\"}" },
	{ "leading-zero", "{\"a\":012}" },
	{ "lone-minus", "{\"a\":-}" },
	{ "bad-fraction", "{\"a\":1.}" },
	{ "bad-exponent", "{\"a\":1e}" },
	{ "int-overflow", "{\"a\":9223372036854775808}" },
	{ "neg-overflow", "{\"a\":-9223372036854775809}" },
	{ "bad-literal", "{\"a\":nul}" },
	{ "plus-number", "{\"a\":+1}" },
	{ "trailing-data", "{\"a\":1} x" },
	{ "two-objects", "{}{}" },
	{ "top-array", "[1,2]" },
	{ "top-string", "\"s\"" },
};

/* n keys "kN": N. */
static void many_keys(const char *name, int n)
{
	char buf[1024];
	size_t len = 0;

	corpus_cat(buf, sizeof(buf), &len, "{");
	for (int i = 0; i < n; i++)
		corpus_cat(buf, sizeof(buf), &len, "%s\"k%d\":%d", i ? "," : "", i, i * 1000 - 7);
	corpus_cat(buf, sizeof(buf), &len, "}");
	corpus_put(P, name, buf, len);
}

/* An object of `len` bytes: {"pad":"xxx..."}. */
static void long_doc(const char *name, size_t total)
{
	char buf[1024];
	size_t len = 0;

	corpus_cat(buf, sizeof(buf), &len, "{\"pad\":\"");
	while (len < total - 2)
		buf[len++] = 'x';
	corpus_cat(buf, sizeof(buf), &len, "\"}");
	corpus_put(P, name, buf, len);
}

/* Seeded variants: cut short, and one byte changed. */
static void variants(uint32_t seed)
{
	static const char base[] = "{\"id\":-42,\"name\":\"a\\u00e9\\n\",\"sub\":{\"f\":0.5,"
		"\"l\":[1,{\"t\":true}]},\"n\":null}";
	static const char set[] = "{}[]:,\"\\ 0-eE.a\x01";

	corpus_variants(P, base, set, 12, seed);
}

void corpus_json(void)
{
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		corpus_puts(P, fixed[i].name, fixed[i].text);
	many_keys("keys-16", 16);
	many_keys("keys-17", 17);
	long_doc("len-512", 512);
	long_doc("len-513", 513);
	variants(0x6a736f6e);
}
