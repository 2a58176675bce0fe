/*
 * bench echo against the real kernel: for each hook a short run of the same
 * code the bench uses, checking that every request came back byte for byte,
 * that the RTT figures are sane, and that the reply was made where the bench
 * says (the program's counters, the app's); and the command's JSON.
 */
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>
#include "bench/echo.h"
#include "lib/util.h"
#include "tests/test.h"

static bool skip_unsupported(const struct hook_desc *h)
{
	char why[256];

	if (!hook_supported(h, why, sizeof(why)))
		return false;
	test_skip("%s: %s", h->name, why);
	return true;
}

static void check_result(const struct hook_desc *h, uint64_t size, const struct echo_result *r)
{
	bool tcp = hook_is_tcp(h);
	uint64_t in_hist = 0;

	fprintf(stderr, "  %s size %llu: %llu requests, p50 %.1f us, p99.9 %.1f us\n", h->name,
		(unsigned long long)size, (unsigned long long)r->requests, r->trial[0].p50_us,
		r->trial[0].p999_us);
	ASSERT_EQ(r->ntrials, 2, "trials");
	ASSERT_EQ(r->len, tcp ? size : size - ECHO_UDP_HDRS, "request bytes");
	ASSERT_GT(r->requests, 0, "requests");
	ASSERT_GT(r->warmup_requests, 0, "warm-up requests");
	ASSERT_EQ(r->replies, r->requests, "every request got a reply");
	ASSERT_EQ(r->lost, 0, "lost");
	ASSERT_EQ(r->bad, 0, "replies with other bytes");
	ASSERT_EQ(r->late, 0, "late replies");
	ASSERT_EQ(r->connections, 1, "one connection (one socket) for the whole run");
	ASSERT_TRUE(r->layout != NULL, "layout");
	for (size_t i = 0; i < r->ntrials && i < ECHO_MAX_TRIALS; i++) {
		const struct echo_trial *t = &r->trial[i];

		ASSERT_EQ(t->replies, t->requests, "trial replies");
		ASSERT_TRUE(t->min_us > 0, "RTTs > 0");
		ASSERT_TRUE(t->min_us <= t->p50_us, "min <= p50");
		ASSERT_TRUE(t->p50_us <= t->p99_us, "p50 <= p99");
		ASSERT_TRUE(t->p99_us <= t->p999_us, "p99 <= p99.9");
		ASSERT_TRUE(t->p999_us <= t->max_us, "p99.9 <= max");
		/* Loopback through a veth: well under the 200 ms timeout. */
		ASSERT_TRUE(t->p50_us < 10000, "p50 below 10 ms");
	}
	for (int k = 0; k < ECHO_HIST_BUCKETS; k++)
		in_hist += r->hist[k];
	ASSERT_EQ(in_hist, r->replies, "histogram holds every RTT");

	/* Where the reply was made, and on which CPU (the layout's). */
	if (hook_has_program(h)) {
		ASSERT_EQ(r->prog_cpu, 1, "program ran on CPU 1 (DUT NAPI thread)");
		ASSERT_EQ(r->prog_per_cpu[1], r->prog.packets, "all of it on CPU 1");
	}
	if (hook_on_device(h)) {
		ASSERT_EQ(r->prog.packets, r->requests, "program saw every request");
		ASSERT_EQ(r->prog.redirected, r->requests, "program echoed every request");
		ASSERT_EQ(r->prog.bytes, r->requests * size, "program frame bytes");
		ASSERT_EQ(r->prog.errors, 0, "redirect errors");
		ASSERT_EQ(r->app.packets, 0, "the app got nothing");
	} else if (hook_on_sockmap(h)) {
		ASSERT_EQ(r->prog.bytes, r->requests * size, "program saw every request byte");
		ASSERT_EQ(r->prog.redirected, r->prog.packets, "every verdict redirected");
		if (h->parser)
			ASSERT_EQ(r->prog.packets, r->requests, "one verdict per request");
		ASSERT_EQ(r->prog.errors, 0, "redirect errors");
		ASSERT_EQ(r->app.bytes, 0, "the app got nothing");
		ASSERT_EQ(r->app.sockmap_errors, 0, "sockmap insert errors");
	} else {
		ASSERT_EQ(r->prog.packets, 0, "no program");
		if (tcp) {
			ASSERT_EQ(r->app.bytes, r->requests * size, "app read every request");
			ASSERT_EQ(r->app.sent_bytes, r->requests * size, "app wrote every reply");
		} else {
			ASSERT_EQ(r->app.packets, r->requests, "app received every request");
			ASSERT_EQ(r->app.sent_packets, r->requests, "app sent every reply");
		}
		ASSERT_EQ(r->app.cpu, 1, "app on CPU 1");
	}
}

/* The echo bench's cells for h, measured by the framework without a run. */
static void echo_hook(const struct bench *b, const struct hook_desc *h)
{
	static const uint64_t sizes[] = { 64, 1500 };
	struct bench_series s;
	struct bench_cell c;

	if (skip_unsupported(h))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		bench_cell_init(&c, b, h);
		c.size = sizes[i];
		c.trials = 2;
		c.duration_ms = 200;
		c.warmup_ms = 50;
		if (ASSERT_OK(bench_cell_measure(&c, &s), "bench_cell_measure")) {
			check_result(h, sizes[i], bench_echo_result(&c));
			ASSERT_EQ(s.n[ARM_MAIN], 2, "the framework kept both trials");
		}
		bench_cell_finish(&c, &s);
	}
}

/* Every hook of the table the bench applies to, as a subtest. */
OLAB_TEST(bench_echo_hooks)
{
	const struct bench *b = bench_by_name("echo");
	size_t measured = 0;

	if (!ASSERT_OK_PTR(b, "echo bench"))
		return;
	for (size_t i = 0; i < hook_count(); i++) {
		struct bench_cell c;

		bench_cell_init(&c, b, hook_get(i));
		if (b->applies(&c) && test_subtest("%s", hook_get(i)->name)) {
			echo_hook(b, hook_get(i));
			measured++;
		}
	}
	ASSERT_GT(measured, 0, "hooks measured");
}
OLAB_TEST_TIMEOUT(bench_echo_hooks, 300);

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : -1;
}

/* The command: three figures with their trials, and the extra JSON. */
OLAB_TEST(bench_echo_cli_json)
{
	const size_t len = 1 << 20;
	char dir[] = "/tmp/olab-test-echo-XXXXXX";
	char *out = malloc(len);
	const char *want[] = { "p50_us", "p99_us", "p999_us" };
	double med[3] = { 0 };
	json_t *doc = NULL, *list, *o;
	json_error_t jerr;
	size_t i;
	int rc;

	if (!ASSERT_OK_PTR(out, "malloc") || !ASSERT_OK_PTR(mkdtemp(dir), "mkdtemp"))
		goto cleanup;
	rc = test_sh(out, len, "%s/offloadlab bench echo --hook tc --quick -t 2 -d 200ms --json "
		     "-o %s 2>/dev/null", test_build_dir(), dir);
	if (!ASSERT_EQ(rc, 0, "exit status"))
		goto cleanup;
	doc = json_loads(out, 0, &jerr);
	if (!ASSERT_OK_PTR(doc, jerr.text))
		goto cleanup;
	list = json_object_get(doc, "results");
	if (!ASSERT_EQ(json_array_size(list), 3, "figures"))
		goto cleanup;
	json_array_foreach(list, i, o) {
		json_t *trials = json_object_get(o, "trials");
		json_t *hist = json_object_get(o, "histogram");

		ASSERT_STREQ(json_string_value(json_object_get(o, "bench")), "echo", "bench");
		ASSERT_STREQ(json_string_value(json_object_get(o, "hook")), "tc", "hook");
		ASSERT_STREQ(json_string_value(json_object_get(o, "metric")), want[i], "metric");
		ASSERT_STREQ(json_string_value(json_object_get(o, "unit")), "us", "unit");
		ASSERT_EQ(json_array_size(trials), 2, "trials");
		ASSERT_TRUE(num(o, "median") > 0, "median > 0");
		ASSERT_TRUE(num(o, "requests") > 100, "requests");
		ASSERT_EQ(num(o, "lost"), 0, "lost");
		ASSERT_EQ(num(o, "replies"), num(o, "requests"), "replies");
		ASSERT_TRUE(json_is_true(json_object_get(o, "replies_verified")), "verified");
		ASSERT_STRCONTAINS(json_string_value(json_object_get(o, "reply_made_at")),
				   "bpf_redirect", "reply_made_at");
		ASSERT_STRCONTAINS(json_string_value(json_object_get(o, "method")), "bpf_redirect",
				   "method");
		med[i] = num(o, "median");
		if (i == 0) {
			json_t *b;
			size_t k;
			double sum = 0, prev = 0;

			ASSERT_TRUE(json_is_object(json_object_get(o, "layout")), "layout");
			ASSERT_EQ(num(json_object_get(o, "counters"), "prog_redirected"),
				  num(o, "requests"), "program echoed every request");
			ASSERT_GT(json_array_size(hist), 0, "histogram");
			json_array_foreach(hist, k, b) {
				ASSERT_TRUE(num(b, "le_ns") > prev, "buckets ascend");
				prev = num(b, "le_ns");
				sum += num(b, "count");
			}
			ASSERT_EQ(sum, num(o, "replies"), "histogram holds every RTT");
			ASSERT_EQ(json_array_size(json_object_get(o, "per_trial")), 2, "per_trial");
		}
	}
	ASSERT_TRUE(med[0] <= med[1] && med[1] <= med[2], "median p50 <= p99 <= p99.9");
cleanup:
	json_decref(doc);
	free(out);
	if (dir[sizeof(dir) - 2] != 'X')
		remove_tree(dir);
}
