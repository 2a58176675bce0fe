/*
 * The compatibility checks against the running kernel: each passes here
 * (or is an xfail naming its kernel bug, or skips with a reason); each one
 * sabotaged (its XDP program left out, its nft rule without its statement,
 * ...) or given a wrong expectation reports fail with expected and
 * observed; the time limit holds; the JSON parses and the JUnit validates.
 *
 * This file also registers a check of its own (selftest-hang) with
 * DEFINE_CHECK, which is how any file adds one: it exists only in this
 * binary and hangs on request, for the time-limit test.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/kver.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/netns.h"
#include "tests/test.h"

#define MIN_CHECKS     15
#define SELFTEST_NAME  "selftest-hang"
#define HANG_ENV       "OLAB_TEST_CHECK_HANG"
#define ALL_CHECKS_S   60

/* ---- a check that only this binary has ---- */

struct hang_priv {
	struct netns ns;
};

static int hang_setup(struct check_ctx *ctx)
{
	struct hang_priv *p = ctx->priv;

	return netns_create("hang", &p->ns);
}

/* Passes, or (HANG_ENV set) sleeps past its limit ignoring SIGTERM's flag;
 * HANG_ENV=kill also blocks SIGTERM, so only SIGKILL ends it. */
static int hang_run(struct check_ctx *ctx)
{
	const char *hang = getenv(HANG_ENV);

	if (hang && !strcmp(hang, "kill")) {
		sigset_t term;

		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, NULL);
	}
	if (hang)
		for (int i = 0; i < 600; i++)
			sleep_ns(100 * 1000000ull);
	check_observe(ctx, "selftest", "ok=1");
	return 0;
}

static void hang_teardown(struct check_ctx *ctx)
{
	struct hang_priv *p = ctx->priv;

	netns_destroy(&p->ns);
}

DEFINE_CHECK(selftest_hang,
	.name = SELFTEST_NAME,
	.summary = "test-only: hangs when asked, to prove the time limit",
	.expected = "selftest: ok=1",
	.priv_size = sizeof(struct hang_priv),
	.setup = hang_setup,
	.run = hang_run,
	.teardown = hang_teardown,
	.order = 10000,
	.timeout_ms = 2000);

/* Needs what this machine may lack: a feature env probes, a binary. */
static int trivial_run(struct check_ctx *ctx)
{
	check_observe(ctx, "selftest", "ok=1");
	return 0;
}

DEFINE_CHECK(selftest_needs_fentry,
	.name = "selftest-needs-fentry",
	.summary = "test-only: needs fentry (skips where env says no)",
	.features = CHECK_FEAT(FEAT_FENTRY),
	.expected = "selftest: ok=1",
	.run = trivial_run,
	.order = 10001);

DEFINE_CHECK(selftest_needs_tool,
	.name = "selftest-needs-tool",
	.summary = "test-only: needs a binary nobody has",
	.tools = "conntrack olab-no-such-tool",
	.expected = "selftest: ok=1",
	.run = trivial_run,
	.order = 10002);

static bool real_check(const struct check *c)
{
	return strncmp(c->name, "selftest-", 9) != 0;
}

/* "phase: k=v k=v; phase: ..." with at least one k=v per phase. */
static bool well_formed(const char *s)
{
	char buf[CHECK_TEXT_LEN], *save = NULL;
	int phases = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *it = strtok_r(buf, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(it, ':');

		if (!colon || !strchr(colon, '='))
			return false;
		phases++;
	}
	return phases > 0;
}

OLAB_TEST(checks_registry)
{
	size_t n = check_count(), real = 0;

	for (size_t i = 0; i < n; i++) {
		const struct check *c = check_get(i);

		if (!ASSERT_OK_PTR(c, "check_get"))
			return;
		real += real_check(c);
		ASSERT_TRUE(c->name && c->summary && c->summary[0] && c->run, c->name);
		ASSERT_TRUE(well_formed(c->expected), c->name);
		ASSERT_TRUE(check_by_name(c->name) == c, "by name");
		for (size_t j = 0; j < i; j++)
			ASSERT_TRUE(strcmp(check_get(j)->name, c->name), "unique names");
		if (i)
			ASSERT_LE(check_get(i - 1)->order, c->order, "sorted by order");
	}
	ASSERT_GE(real, MIN_CHECKS, "checks registered");
	ASSERT_TRUE(check_matches(check_by_name("tcx-order"), "tcx-*"), "glob");
	ASSERT_FALSE(check_matches(check_by_name("tcx-order"), "xdp-*"), "glob mismatch");
}

/* The real checks whose needs env and PATH say this machine meets. */
static size_t checks_runnable_here(void)
{
	char reason[CHECK_REASON_LEN];
	size_t n = 0;

	for (size_t i = 0; i < check_count(); i++) {
		const struct check *c = check_get(i);

		n += real_check(c) && !check_needs_met(c, APP_RT_NETNS, reason, sizeof(reason));
	}
	return n;
}

/* A machine where every check skips proves nothing: at least one must have
 * run.  The rest of the checks whose needs are met skipped at run time (with
 * a reason, e.g. libxdp without its dispatcher): said, not failed. */
static void assert_some_ran(size_t ran, size_t runnable, const char *what)
{
	fprintf(stderr, "    %zu checks %s, of %zu whose needs are met here\n", ran, what, runnable);
	ASSERT_GT(ran, 0, what);
}

OLAB_TEST(checks_pass_here)
{
	size_t runnable = checks_runnable_here(), ran = 0;
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < check_count(); i++) {
		const struct check *c = check_get(i);
		struct check_result r;

		if (!real_check(c))
			continue;
		check_run(c, NULL, &r);
		if (r.status == CHECK_SKIP) {
			ASSERT_TRUE(r.reason[0], "a skip says why");
			fprintf(stderr, "    %s: skip: %s\n", c->name, r.reason);
		} else if (r.status == CHECK_XFAIL) {
			/* only for a documented kernel bug, named with its reference */
			bool ok = ASSERT_STRCONTAINS(r.reason, "kernel bug", c->name);

			ran += ok & ASSERT_TRUE(strcmp(r.expected, r.observed), "an xfail differs");
		} else if (!ASSERT_EQ(r.status, CHECK_PASS, c->name)) {
			fprintf(stderr, "    %s: %s\n    expected: %s\n    observed: %s\n", c->name,
				r.reason, r.expected, r.observed);
		} else {
			bool ok = ASSERT_STREQ(r.observed, r.expected, c->name);

			ran += ok & ASSERT_TRUE(json_is_object(r.counters) && json_object_size(r.counters),
						"counters recorded");
		}
		check_result_free(&r);
	}
	ASSERT_LT((now_ns() - t0) / 1e9, ALL_CHECKS_S, "all checks within 60 s");
	assert_some_ran(ran, runnable, "ran and passed");
}

/* Sabotaged setup: every check must notice and fail, with both sides shown. */
OLAB_TEST(checks_sabotage_fails)
{
	struct check_run_opts o = { .sabotage = true };
	size_t runnable = checks_runnable_here(), failed = 0;

	for (size_t i = 0; i < check_count(); i++) {
		const struct check *c = check_get(i);
		struct check_result r;

		if (!real_check(c))
			continue;
		check_run(c, &o, &r);
		if (r.status == CHECK_SKIP) {
			fprintf(stderr, "    %s: skip: %s\n", c->name, r.reason);
			check_result_free(&r);
			continue;
		}
		if (ASSERT_EQ(r.status, CHECK_FAIL, c->name)) {
			bool ok = ASSERT_TRUE(r.sabotage, "marked sabotaged");

			ok &= ASSERT_STRCONTAINS(r.reason, "observed differs", c->name);
			ok &= ASSERT_TRUE(r.expected[0] && r.observed[0], "expected and observed");
			ok &= ASSERT_TRUE(strcmp(r.expected, r.observed), "they differ");
			ok &= ASSERT_TRUE(well_formed(r.observed), "observed is phase: k=v");
			ok &= ASSERT_TRUE(json_is_object(r.counters) && json_object_size(r.counters),
					  "counters recorded");
			failed += ok;
		} else {
			fprintf(stderr, "    %s sabotaged: %s\n    observed: %s\n", c->name,
				check_status_name(r.status), r.observed);
		}
		check_result_free(&r);
	}
	assert_some_ran(failed, runnable, "sabotaged ran and failed");
}

/* A deliberately wrong expectation: same setup, the comparison must fail. */
OLAB_TEST(checks_wrong_expectation_fails)
{
	for (size_t i = 0; i < check_count(); i++) {
		const struct check *c = check_get(i);
		char wrong[CHECK_TEXT_LEN];
		struct check_run_opts o = { .expected = wrong };
		struct check_result r;
		const char *eq, *end;

		if (!real_check(c))
			continue;
		/* the first value of the first phase, changed */
		eq = strchr(c->expected, '=');
		if (!ASSERT_OK_PTR(eq, "a value to change"))
			continue;
		end = eq + 1 + strcspn(eq + 1, " ;");
		snprintf(wrong, sizeof(wrong), "%.*smistaken%s", (int)(eq + 1 - c->expected),
			 c->expected, end);
		check_run(c, &o, &r);
		if (r.status != CHECK_SKIP && ASSERT_EQ(r.status, CHECK_FAIL, c->name)) {
			ASSERT_STREQ(r.expected, wrong, "the wrong expectation is reported");
			ASSERT_TRUE(r.observed[0], "observed reported");
		}
		check_result_free(&r);
	}
}

/* No "-hang" namespace of a dead run is left. */
static void assert_no_hang_ns(void)
{
	struct dirent *de;
	DIR *d = opendir(NETNS_RUN_DIR);

	while (d && (de = readdir(d))) {
		pid_t pid = run_prefix_pid(de->d_name);

		if (pid && strstr(de->d_name, "-hang") && !run_owner_alive(pid))
			ASSERT_TRUE(false, de->d_name);
	}
	if (d)
		closedir(d);
}

OLAB_TEST(checks_time_limit)
{
	const struct check *c = check_by_name(SELFTEST_NAME);
	struct check_result r;
	uint64_t t0 = now_ns();

	if (!ASSERT_OK_PTR(c, "selftest check registered from this file"))
		return;
	check_run(c, NULL, &r);
	ASSERT_EQ(r.status, CHECK_PASS, "selftest passes when not asked to hang");
	check_result_free(&r);

	setenv(HANG_ENV, "1", 1);
	check_run(c, NULL, &r);
	unsetenv(HANG_ENV);
	ASSERT_EQ(r.status, CHECK_FAIL, "a hang is a fail");
	ASSERT_STRCONTAINS(r.reason, "time limit", "reason");
	ASSERT_LT((now_ns() - t0) / 1e9, 12, "bounded by the limit plus the kill sequence");
	check_result_free(&r);
	/* Its namespace went with it. */
	assert_no_hang_ns();
}

/* A check that must be SIGKILLed leaves its namespace: the framework removes
 * it from the check's manifest (the same sweep as `clean`). */
OLAB_TEST(checks_killed_check_swept)
{
	const struct check *c = check_by_name(SELFTEST_NAME);
	struct check_result r;

	if (!ASSERT_OK_PTR(c, "selftest check registered from this file"))
		return;
	setenv(HANG_ENV, "kill", 1);
	check_run(c, NULL, &r);
	unsetenv(HANG_ENV);
	ASSERT_EQ(r.status, CHECK_FAIL, "a hang is a fail");
	check_result_free(&r);
	assert_no_hang_ns();
}

/* A missing need is a skip that says which, with env's own reason. */
OLAB_TEST(checks_skip_reasons)
{
	const struct feature_status *st = feature_probe(FEAT_FENTRY);
	struct check_result r;

	check_run(check_by_name("selftest-needs-fentry"), NULL, &r);
	if (st->supported) {
		ASSERT_EQ(r.status, CHECK_PASS, "fentry supported: runs");
	} else {
		ASSERT_EQ(r.status, CHECK_SKIP, "fentry unsupported: skip");
		ASSERT_STRCONTAINS(r.reason, "needs fentry: ", "names the feature");
		ASSERT_STRCONTAINS(r.reason, st->reason, "env's reason");
	}
	check_result_free(&r);
	check_run(check_by_name("selftest-needs-tool"), NULL, &r);
	ASSERT_EQ(r.status, CHECK_SKIP, "missing binary: skip");
	ASSERT_STREQ(r.reason, "needs the olab-no-such-tool binary: not found in PATH", "reason");
	check_result_free(&r);
}

/* ---- the command ---- */

static json_t *check_json(const char *args, const char *env, int *rc)
{
	static char out[1 << 20];
	json_error_t jerr;
	json_t *doc;

	*rc = test_sh(out, sizeof(out), "%s %s/offloadlab check %s --json 2>/dev/null",
		      env ? env : "", test_build_dir(), args);
	doc = json_loads(out, 0, &jerr);
	if (!ASSERT_OK_PTR(doc, "check --json parses"))
		fprintf(stderr, "    line %d: %s\n", jerr.line, jerr.text);
	return doc;
}

OLAB_TEST(checks_cli_json)
{
	const char *keys[] = { "name", "status", "expected", "observed", "runtime" };
	json_t *doc, *arr, *e;
	size_t i, fails = 0;
	int rc;

	doc = check_json("", NULL, &rc);
	if (!doc)
		return;
	arr = json_object_get(doc, "checks");
	if (!ASSERT_TRUE(json_is_array(arr), "checks array"))
		goto out;
	ASSERT_GE(json_array_size(arr), MIN_CHECKS, "every check reported");
	json_array_foreach(arr, i, e) {
		const char *st = json_string_value(json_object_get(e, "status"));

		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			ASSERT_TRUE(json_is_string(json_object_get(e, keys[k])), keys[k]);
		ASSERT_TRUE(st && (!strcmp(st, "pass") || !strcmp(st, "fail") ||
				   !strcmp(st, "skip") || !strcmp(st, "xfail")), "status value");
		ASSERT_STREQ(json_string_value(json_object_get(e, "runtime")), "netns", "runtime");
		fails += st && !strcmp(st, "fail");
	}
	ASSERT_EQ(rc, fails ? 1 : 0, "exit status 0 iff nothing failed");
	ASSERT_EQ(fails, 0, "no check fails on this machine");
out:
	json_decref(doc);
}

OLAB_TEST(checks_cli_sabotage_env)
{
	json_t *doc, *e;
	int rc;

	doc = check_json("xdp-drop-bypasses-netfilter", CHECK_SABOTAGE_ENV "=xdp-drop-*", &rc);
	if (!doc)
		return;
	ASSERT_EQ(rc, 1, "a failed check exits 1");
	e = json_array_get(json_object_get(doc, "checks"), 0);
	ASSERT_STREQ(json_string_value(json_object_get(e, "status")), "fail", "status");
	ASSERT_TRUE(json_is_true(json_object_get(e, "sabotage")), "sabotage flagged");
	ASSERT_TRUE(json_is_object(json_object_get(e, "counters")), "counters");
	ASSERT_TRUE(strcmp(json_string_value(json_object_get(e, "expected")) ?: "",
			   json_string_value(json_object_get(e, "observed")) ?: ""), "differ");
	json_decref(doc);
}

OLAB_TEST(checks_cli_junit)
{
	char path[128], out[4096];
	int rc;

	snprintf(path, sizeof(path), "/tmp/%s-junit.xml", run_prefix());
	rc = test_sh(NULL, 0, "%s/offloadlab check 'cls-*' sockmap-attach --junit %s >/dev/null 2>&1",
		     test_build_dir(), path);
	ASSERT_EQ(rc, 0, "check --junit");
	rc = test_sh(out, sizeof(out), "xmllint --noout %s 2>&1", path);
	ASSERT_EQ(rc, 0, out);
	rc = test_sh(out, sizeof(out), "grep -c '<testcase' %s", path);
	ASSERT_EQ(atoi(out), 2, "two testcases");

	/* A failure is a <failure> carrying expected and observed, still valid XML. */
	rc = test_sh(NULL, 0, CHECK_SABOTAGE_ENV "=cls-bpf-priority %s/offloadlab check "
		     "cls-bpf-priority --junit %s >/dev/null 2>&1", test_build_dir(), path);
	ASSERT_EQ(rc, 1, "sabotaged run exits 1");
	rc = test_sh(out, sizeof(out), "xmllint --noout %s 2>&1", path);
	ASSERT_EQ(rc, 0, out);
	rc = test_sh(out, sizeof(out), "xmllint --xpath 'string(//failure)' %s", path);
	ASSERT_STRCONTAINS(out, "expected: ", "failure text");
	ASSERT_STRCONTAINS(out, "observed: ", "failure text");
	unlink(path);
}

/* Under runc: nothing fails; a check with an app (c->runc) puts it in a
 * container and passes, the others skip with their own reason. */
OLAB_TEST(checks_cli_runc_and_usage)
{
	json_t *doc, *e;
	size_t i, ran = 0;
	int rc;
	char out[4096];

	doc = check_json("--runtime runc", NULL, &rc);
	if (!doc)
		return;
	ASSERT_EQ(rc, 0, "no check fails under runc");
	json_array_foreach(json_object_get(doc, "checks"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *st = json_string_value(json_object_get(e, "status")) ?: "?";
		const char *reason = json_string_value(json_object_get(e, "reason")) ?: "";
		const struct check *c = check_by_name(name);

		if (!ASSERT_OK_PTR(c, name))
			continue;
		ASSERT_STREQ(json_string_value(json_object_get(e, "runtime")), "runc", "runtime");
		if (!ASSERT_TRUE(strcmp(st, "fail"), name))
			fprintf(stderr, "    %s: %s\n    observed: %s\n", name, reason,
				json_string_value(json_object_get(e, "observed")) ?: "");
		if (!c->runc) {
			ASSERT_STREQ(st, "skip", name);
			ASSERT_STREQ(reason, c->runc_skip ?: CHECK_RUNC_REASON, "its runc reason");
			continue;
		}
		/* the app checks (or a check skipped for a missing feature, said so) */
		if (!strcmp(st, "skip")) {
			fprintf(stderr, "    %s under runc: skip: %s\n", name, reason);
			ASSERT_TRUE(strncmp(reason, "runc runtime", 12), "not the runc skip");
			continue;
		}
		ASSERT_STREQ(st, "pass", name);
		ran++;
	}
	ASSERT_GE(ran, 4, "the app checks run under runc");
	json_decref(doc);

	rc = test_sh(out, sizeof(out), "%s/offloadlab check no-such-check 2>&1", test_build_dir());
	ASSERT_EQ(rc, 2, "unknown name is a usage error");
	ASSERT_STRCONTAINS(out, "no check matches 'no-such-check'", "message");
	rc = test_sh(out, sizeof(out), "%s/offloadlab check --list 'xdp-*'", test_build_dir());
	ASSERT_EQ(rc, 0, "--list");
	ASSERT_STRCONTAINS(out, "xdp-drop-bypasses-netfilter", "listed");
	ASSERT_TRUE(!strstr(out, "tcx-order"), "glob filters the list");
}

/* The checks that run their app in a container can still fail there. */
OLAB_TEST(checks_runc_sabotage_fails)
{
	struct check_run_opts o = { .runtime = APP_RT_RUNC, .sabotage = true };

	for (size_t i = 0; i < check_count(); i++) {
		const struct check *c = check_get(i);
		struct check_result r;

		if (!real_check(c) || !c->runc)
			continue;
		check_run(c, &o, &r);
		if (r.status == CHECK_SKIP) {
			fprintf(stderr, "    %s (runc): skip: %s\n", c->name, r.reason);
		} else if (ASSERT_EQ(r.status, CHECK_FAIL, c->name)) {
			ASSERT_STRCONTAINS(r.reason, "observed differs", c->name);
			ASSERT_TRUE(strcmp(r.expected, r.observed), "they differ");
		} else {
			fprintf(stderr, "    %s sabotaged under runc: %s: %s\n    observed: %s\n",
				c->name, check_status_name(r.status), r.reason, r.observed);
		}
		check_result_free(&r);
	}
}

/* The dispatcher works (pass) or libxdp's fallback is named (skip), never
 * a pass on one program; head-of-line reports its figures. */
OLAB_TEST(checks_libxdp_and_head_of_line)
{
	struct check_result r;
	json_t *hol;

	check_run(check_by_name("xdp-multiprog-libxdp"), NULL, &r);
	if (r.status == CHECK_SKIP) {
		ASSERT_STRCONTAINS(r.reason, "libxdp fell back to a single program: "
				   "dispatcher load failed: ", "names the fallback");
		ASSERT_STRCONTAINS(r.observed, "legacy=yes programs=1", "one legacy program");
	} else {
		ASSERT_EQ(r.status, CHECK_PASS, r.reason);
	}
	check_result_free(&r);

	check_run(check_by_name("head-of-line"), NULL, &r);
	if (r.status != CHECK_SKIP && ASSERT_EQ(r.status, CHECK_PASS, r.reason)) {
		hol = json_object_get(r.counters, "head_of_line");
		/* Every request of the on phases waited for the slow program. */
		ASSERT_STRCONTAINS(r.observed, "waited=all", "order");
		if (!json_integer_value(json_object_get(hol, "lost")))
			ASSERT_EQ(json_integer_value(json_object_get(hol, "waited_packets")),
				  json_integer_value(json_object_get(hol, "pairs")) * 100,
				  "waited: one per request of the on phases (100 a phase)");
		ASSERT_GT(json_integer_value(json_object_get(hol, "slow_ns")), 0, "slow_ns");
		ASSERT_TRUE(json_is_integer(json_object_get(hol, "added_ns")), "added_ns");
		ASSERT_TRUE(json_is_integer(json_object_get(hol, "kernel_wait_ns")), "kernel_wait_ns");
		ASSERT_LE(json_integer_value(json_object_get(hol, "added_ns")),
			  json_integer_value(json_object_get(hol, "bound_ns")), "within the bound");
		/* A latency check: run with the CPUs held in POLL. */
		ASSERT_STREQ(json_string_value(json_object_get(r.cpu_idle, "mode")), "poll",
			     "cpu-idle poll");
	}
	check_result_free(&r);
}

/* Run c as if the kernel were version (KVER_ENV, lib/kver.h): its status. */
static enum check_status run_as_kernel(const char *name, const char *version,
				       struct check_result *r)
{
	if (version)
		setenv(KVER_ENV, version, 1);
	check_run(check_by_name(name), NULL, r);
	unsetenv(KVER_ENV);
	return r->status;
}

/* Kernel ranges decide on real runs: this kernel as it is, then told it is
 * 5.15.180, outside both ranges: the strparser stall (xfail here) becomes a
 * fail, and caps-in-container's working tcx attach becomes a fail too
 * (before 6.6 it must be EINVAL). */
OLAB_TEST(checks_kernel_range_flips)
{
	struct check_result r;

	if (test_subtest("strparser-delivery")) {
		if (run_as_kernel("strparser-delivery", NULL, &r) != CHECK_XFAIL) {
			test_skip("no stall on this kernel (%s): nothing to flip",
				  check_status_name(r.status));
		} else {
			check_result_free(&r);
			ASSERT_EQ(run_as_kernel("strparser-delivery", "5.15.180", &r), CHECK_FAIL,
				  "5.15.180: fail");
			ASSERT_STRCONTAINS(r.reason, "outside the bug's ranges", "says why");
		}
		check_result_free(&r);
	}
	if (test_subtest("caps-in-container")) {
		if (run_as_kernel("caps-in-container", NULL, &r) != CHECK_PASS) {
			test_skip("caps-in-container %s here: %s", check_status_name(r.status),
				  r.reason);
		} else {
			check_result_free(&r);
			ASSERT_EQ(run_as_kernel("caps-in-container", "5.15.180", &r), CHECK_FAIL,
				  "5.15.180: fail");
			ASSERT_STRCONTAINS(r.expected, "tcx=EINVAL", "5.15 expects EINVAL");
			ASSERT_STRCONTAINS(r.observed, "tcx=works", "this kernel has tcx");
		}
		check_result_free(&r);
	}
}
