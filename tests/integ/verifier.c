/*
 * The verifier study on a small slice, against the real kernel and clang 14:
 * each parser loads at the defaults (-O2, v3) and parses its samples right;
 * a knob search's limit loads and the next value does not, with a reason;
 * an absent compiler is a skip with its reason; the temp dir goes away.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench/verifier.h"
#include "lib/util.h"
#include "tests/test.h"

OLAB_TEST_TIMEOUT(verifier, 120);

static const struct vf_limits lim = {
	.compile_ms = 20000, .load_ms = 10000, .trials = 3, .repeat = 100,
};

static struct vf_point def_point(int parser)
{
	return (struct vf_point){ parser, VF_DEFAULT_COMPILER, VF_DEFAULT_OPT, VF_DEFAULT_MCPU,
				  -1, 0 };
}

static void check_defaults(struct vf_ctx *ctx, int parser)
{
	struct vf_point p = def_point(parser);
	struct vf_outcome o;

	if (!ASSERT_OK(vf_try(ctx, &p, true, &o), "vf_try"))
		return;
	if (!ASSERT_EQ(o.stage, VF_LOADED, o.reason))
		return;
	ASSERT_GT(o.verified_insns, 0, "verified_insns");
	ASSERT_GT(o.xlated_bytes, 0, "xlated bytes");
	ASSERT_GT(o.jited_bytes, 0, "jited bytes");
	ASSERT_TRUE(o.have_stats, "the verifier's statistics line");
	ASSERT_GT(o.processed_insns, 0, "processed insns");
	ASSERT_GT(o.peak_states, 0, "peak states");
	ASSERT_GE(o.n_samples, 2, "samples run");
	for (int i = 0; i < o.n_samples; i++) {
		ASSERT_TRUE(o.samples[i].ok, o.samples[i].name);
		ASSERT_EQ(o.samples[i].ns.n, lim.trials, "trials per sample");
		ASSERT_GT(o.samples[i].ns.median, 0, "ns per request");
	}
}

/* A knob's search: its limit loads, the next grid value does not, and says
 * why.  True when the verifier (not clang, not a map) refused the next. */
static bool check_one_limit(struct vf_ctx *ctx, int pa, int k)
{
	struct vf_point p = def_point(pa);
	struct vf_limit l;
	struct vf_outcome a, b;

	if (!ASSERT_OK(vf_limit_search(ctx, &p, k, true, 0, &l), "search") || l.capped)
		return false;
	fprintf(stderr, "  %s %s: limit %ld, next %ld (%s)\n", vf_parsers[pa].name,
		vf_knobs[k].macro, l.limit, l.next, l.next_reason);
	ASSERT_GT(l.limit, 0, "some value loads");
	ASSERT_GT(l.next, l.limit, "next above the limit");
	ASSERT_TRUE(l.next_reason[0], "a reason for the next value");
	p.knob = k;
	p.value = l.limit;
	ASSERT_OK(vf_try(ctx, &p, false, &a), "load the limit");
	ASSERT_EQ(a.stage, VF_LOADED, a.reason);
	p.value = l.next;
	ASSERT_OK(vf_try(ctx, &p, false, &b), "load next");
	ASSERT_NE(b.stage, VF_LOADED, "the next value does not load");
	ASSERT_TRUE(b.reason[0], "its reason");
	return b.stage == VF_LOAD && b.have_stats;
}

/* Knobs of the parsers until one stops below the cap at the verifier. */
static void check_limit(struct vf_ctx *ctx)
{
	for (int pa = 0; pa < VF_PARSERS; pa++)
		for (int k = 0; k < VF_KNOBS; k++)
			if (vf_knob_applies(pa, k) && !vf_knobs[k].flag && check_one_limit(ctx, pa, k))
				return;
	test_fail(__FILE__, __LINE__, "no knob makes the verifier refuse below %d", VF_KNOB_CAP);
}

static void check_absent(void)
{
	char empty[] = "/tmp/olab-test-nocc-XXXXXX", why[256];
	struct vf_ctx *ctx = NULL;
	struct vf_point p = def_point(0);
	struct vf_outcome o;
	const char *reason = NULL;

	if (!ASSERT_TRUE(mkdtemp(empty) != NULL, "mkdtemp"))
		return;
	if (ASSERT_OK(vf_ctx_open(&ctx, empty, &lim, why, sizeof(why)), why)) {
		for (int c = 0; c < VF_COMPILERS; c++) {
			char want[64];

			snprintf(want, sizeof(want), "clang-%d not installed: make deps-extra",
				 vf_clang_versions[c]);
			ASSERT_TRUE(vf_compiler(ctx, c, &reason) == NULL, "no compiler found");
			ASSERT_STREQ(reason, want, "the reason names the package target");
		}
		if (ASSERT_OK(vf_try(ctx, &p, false, &o), "vf_try")) {
			ASSERT_EQ(o.stage, VF_SKIPPED, "skipped");
			ASSERT_TRUE(strstr(o.reason, "make deps-extra") != NULL, o.reason);
		}
	}
	vf_ctx_close(ctx);
	rmdir(empty);
}

OLAB_TEST(verifier)
{
	struct vf_ctx *ctx = NULL;
	char why[256], dir[64];

	for (int pa = 0; pa < VF_PARSERS; pa++)
		if (!vf_parser_present(pa)) {
			test_skip("bpf/%s is not in this build", vf_parsers[pa].file);
			return;
		}
	if (!ASSERT_OK(vf_ctx_open(&ctx, NULL, &lim, why, sizeof(why)), why))
		return;
	if (!vf_compiler(ctx, VF_DEFAULT_COMPILER, NULL)) {
		vf_ctx_close(ctx);
		test_skip("no clang-14");
		return;
	}
	snprintf(dir, sizeof(dir), "%s", vf_ctx_dir(ctx));
	for (int pa = 0; pa < VF_PARSERS; pa++)
		if (test_subtest("defaults-load/%s", vf_parsers[pa].name))
			check_defaults(ctx, pa);
	if (test_subtest("limit"))
		check_limit(ctx);
	if (test_subtest("absent-compiler"))
		check_absent();
	if (test_subtest("temp-dir-removed")) {
		ASSERT_OK(access(dir, F_OK), "the temp dir while open");
		vf_ctx_close(ctx);
		ctx = NULL;
		ASSERT_NE(access(dir, F_OK), 0, "the temp dir after close");
	}
	vf_ctx_close(ctx);
}
