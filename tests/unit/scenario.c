/* The scenario engine's pure parts: encodings, address ranges, the client
 * parsers on real tools' output, and expectations over synthetic trials. */
#include <string.h>
#include <jansson.h>
#include "scenarios/internal.h"
#include "tests/test.h"

OLAB_TEST(scenario_bytes_encodings)
{
	struct scn_bytes b;
	char why[128];
	const uint8_t lpm[] = { 24, 0, 0, 0, 198, 18, 0, 0 }, u32[] = { 7, 0, 0, 0 };

	ASSERT_OK(scn_bytes_parse("u32", "7", &b, why, sizeof(why)), "u32");
	ASSERT_TRUE(b.len == 4 && !memcmp(b.b, u32, 4), "u32 little endian");
	ASSERT_OK(scn_bytes_parse("lpm4", "198.18.0.0/24", &b, why, sizeof(why)), "lpm4");
	ASSERT_TRUE(b.len == 8 && !memcmp(b.b, lpm, 8), "lpm4: prefixlen then address");
	ASSERT_OK(scn_bytes_parse("hex", "0a0B", &b, why, sizeof(why)), "hex");
	ASSERT_TRUE(b.len == 2 && b.b[0] == 10 && b.b[1] == 11, "hex bytes");
	ASSERT_EQ(scn_bytes_parse("u32", "4294967296", &b, why, sizeof(why)), -EINVAL, "u32 range");
	ASSERT_EQ(scn_bytes_parse("ipv4", "198.18.0.1/24", &b, why, sizeof(why)), -EINVAL,
		  "ipv4 with a prefix");
	ASSERT_EQ(scn_bytes_parse("hex", "abc", &b, why, sizeof(why)), -EINVAL, "odd hex");
	ASSERT_EQ(scn_bytes_parse("u16", "1", &b, why, sizeof(why)), -EINVAL, "unknown kind");
}

OLAB_TEST(scenario_address_ranges)
{
	char why[64];

	ASSERT_TRUE(scn_addr_ok("198.18.0.1/24", why, sizeof(why)), "198.18/15 low");
	ASSERT_TRUE(scn_addr_ok("198.19.255.1/16", why, sizeof(why)), "198.18/15 high");
	ASSERT_TRUE(scn_addr_ok("2001:2::1/64", why, sizeof(why)), "2001:2::/48");
	ASSERT_FALSE(scn_addr_ok("198.20.0.1/24", why, sizeof(why)), "198.20 is outside");
	ASSERT_FALSE(scn_addr_ok("198.18.0.1/8", why, sizeof(why)), "prefix wider than the range");
	ASSERT_FALSE(scn_addr_ok("2001:3::1/64", why, sizeof(why)), "2001:3:: is outside");
	ASSERT_FALSE(scn_addr_ok("198.18.0.1", why, sizeof(why)), "no prefix length");
}

static double fig(json_t *f, const char *name)
{
	return json_number_value(json_object_get(f, name));
}

OLAB_TEST(scenario_client_parsers)
{
	struct scn_client c = { .parser = scn_parser_by_name("memcaslap") };
	const char *memcaslap = "Get Statistics (57848 events)\n   Min:         9\n   Avg:        61\n"
		"cmd_get: 57848\ncmd_set: 6430\nget_misses: 3\n\n"
		"Run time: 2.0s Ops: 64278 TPS: 32139 Net_rate: 71.9M/s\n";
	const char *wrk = "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
		"    Latency     1.50ms  200.00us   5.00ms   90.00%\n"
		"  12345 requests in 1.00s, 1.23MB read\nRequests/sec:  12345.67\n";
	const char *h2 = "finished in 1.00s, 2000.50 req/s, 1.23MB/s\n"
		"requests: 2001 total, 2001 started, 2000 done, 1999 succeeded, 1 failed, 0 errored\n"
		"time for request:      123us      4.56ms       250us       100us    90.00%\n";
	const char *redis = "\"test\",\"rps\",\"avg_latency_ms\"\n\"SET\",\"10000.00\",\"0.500\"\n"
		"\"GET\",\"20000.00\",\"0.250\"\n";
	json_t *f = scn_client_figures(&c, memcaslap);

	ASSERT_DBL_NEAR(fig(f, "ops"), 64278, 0, "memcaslap ops");
	ASSERT_DBL_NEAR(fig(f, "ops_per_s"), 32139, 0, "memcaslap TPS");
	ASSERT_DBL_NEAR(fig(f, "get_ops_per_s"), 28924, 0, "cmd_get / run time");
	ASSERT_DBL_NEAR(fig(f, "get_misses"), 3, 0, "get misses");
	ASSERT_DBL_NEAR(fig(f, "get_latency_avg_us"), 61, 0, "get latency");
	json_decref(f);
	c.parser = scn_parser_by_name("wrk");
	f = scn_client_figures(&c, wrk);
	ASSERT_DBL_NEAR(fig(f, "requests_per_s"), 12345.67, 1e-9, "wrk rps");
	ASSERT_DBL_NEAR(fig(f, "requests"), 12345, 0, "wrk requests");
	ASSERT_DBL_NEAR(fig(f, "latency_avg_us"), 1500, 1e-9, "wrk latency in us");
	ASSERT_TRUE(json_is_number(json_object_get(f, "errors")), "wrk errors 0 when not printed");
	ASSERT_DBL_NEAR(fig(f, "errors"), 0, 0, "wrk errors");
	json_decref(f);
	f = scn_client_figures(&c, "  Socket errors: connect 1, read 2, write 3, timeout 4\n"
			       "  Non-2xx or 3xx responses: 5\nRequests/sec:  10.00\n");
	ASSERT_DBL_NEAR(fig(f, "errors"), 15, 0, "wrk errors: socket errors + non-2xx");
	json_decref(f);
	c.parser = scn_parser_by_name("h2load");
	f = scn_client_figures(&c, h2);
	ASSERT_DBL_NEAR(fig(f, "requests_per_s"), 2000.5, 1e-9, "h2load rps");
	ASSERT_DBL_NEAR(fig(f, "succeeded"), 1999, 0, "h2load succeeded");
	ASSERT_DBL_NEAR(fig(f, "failed"), 1, 0, "h2load failed");
	ASSERT_DBL_NEAR(fig(f, "latency_avg_us"), 250, 1e-9, "h2load mean time for request");
	json_decref(f);
	c.parser = scn_parser_by_name("redis-benchmark");
	f = scn_client_figures(&c, redis);
	ASSERT_DBL_NEAR(fig(f, "get_requests_per_s"), 20000, 0, "redis GET");
	ASSERT_DBL_NEAR(fig(f, "requests_per_s"), 10000, 0, "redis: the first test");
	ASSERT_DBL_NEAR(fig(f, "latency_avg_us"), 500, 1e-9, "redis latency in us");
	ASSERT_TRUE(scn_client_has_figure(&c, "lpush_requests_per_s"), "any test's figure");
	ASSERT_FALSE(scn_client_has_figure(&c, "ops"), "not a redis figure");
	json_decref(f);
}

/* Two pairs: ops none 10, 20 / offload 30, 40; counter hits none 0 / offload 5+7. */
static json_t *trials(void)
{
	json_t *t = json_array();
	double none[] = { 10, 20 }, off[] = { 30, 40 };
	int hits[] = { 5, 7 };

	for (int p = 0; p < 2; p++) {
		json_array_append_new(t, json_pack("{s:s, s:{s:{s:f}}, s:{s:i}}", "arm", "none",
			"clients", "c", "ops", none[p], "values", "counter.o.hits", 0));
		json_array_append_new(t, json_pack("{s:s, s:{s:{s:f}}, s:{s:i}}", "arm", "offload",
			"clients", "c", "ops", off[p], "values", "counter.o.hits", hits[p]));
	}
	return t;
}

static bool eval(struct scenario *s, struct scn_results *r, const char *text, double *v)
{
	struct scn_expect *e = &s->expect[0];
	char why[128];
	bool pass = false;

	memset(e, 0, sizeof(*e));
	snprintf(e->text, sizeof(e->text), "%s", text);
	if (scn_expect_parse(s, e) || !scn_expect_eval(s, r, e, v, &pass, why, sizeof(why)))
		return false;
	return pass;
}

OLAB_TEST(scenario_expectations)
{
	static struct scenario s = { .path = "unit.yaml", .nexpect = 1 };
	struct scn_results r = { .trials = trials() };
	struct scn_expect *e = &s.expect[0];
	double v = 0;

	ASSERT_TRUE(eval(&s, &r, "client.c.ops.ratio > 2.4", &v), "ratio passes");
	ASSERT_DBL_NEAR(v, 2.5, 1e-12, "median of paired ratios 3 and 2");
	ASSERT_FALSE(eval(&s, &r, "client.c.ops.none >= 16", &v), "none median 15 fails");
	ASSERT_DBL_NEAR(v, 15, 1e-12, "none median");
	ASSERT_TRUE(eval(&s, &r, "counter.o.hits.offload == 12", &v), "summed over the arm");
	ASSERT_TRUE(eval(&s, &r, "counter.o.hits.none == 0", &v), "none arm sum");
	ASSERT_TRUE(eval(&s, &r, "ratio(counter.o.hits.offload, client.c.ops.offload) < 0.35", &v),
		    "ratio of two references");
	ASSERT_DBL_NEAR(v, 12.0 / 35, 1e-12, "12 / 35");
	snprintf(e->text, sizeof(e->text), "map.o.m[ipv4:198.18.1.2].offload != 0");
	ASSERT_OK(scn_expect_parse(&s, e), "map key with dots");
	ASSERT_TRUE(e->lhs.key.len == 4 && e->lhs.key.b[3] == 2, "ipv4 key bytes");
	snprintf(e->text, sizeof(e->text), "client.c.ops.ratio => 1");
	ASSERT_EQ(scn_expect_parse(&s, e), -EINVAL, "=> is not an operator");
	snprintf(e->text, sizeof(e->text), "program.o.p.calls.offload > 1");
	ASSERT_EQ(scn_expect_parse(&s, e), -EINVAL, "programs have runs and run_time_ns");
	json_decref(r.trials);
}
