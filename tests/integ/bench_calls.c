/*
 * bench calls against the real kernel: for every style and medium at xdp
 * and tc, every run went through exactly K stages (the stages' count is K
 * per run, a tail-call chain reached its last stage once per run) and the
 * state came through every hand-off intact (the final value is the fold of
 * K stages computed here); the reference arm too.  Cells that cannot exist
 * are not planned; freplace is measured or gives the kernel's reason.
 * At sk-skb-verdict (live TCP), two call styles and both tail chains at
 * K = 32: exactly K stages per whole run over the trial, no chain that fell
 * through, and the fold of each run's own seed; a tail chain with its state
 * in cb carries the verifier's refusal (no cb writes at sk_skb).
 */
#include <string.h>
#include <jansson.h>
#include <linux/types.h>
#include "bench/bench.h"
#include "bpf/calls.h"
#include "lib/util.h"
#include "tests/integ/bench_kit.h"
#include "tests/test.h"

#define SEED 64   /* the frame's length: the first state */

static __u64 fold(__u64 acc, unsigned k)
{
	for (unsigned i = 0; i < k; i++)
		acc = calls_mix(acc, i);
	return acc;
}

static void check_arm(json_t *details, unsigned k, const char *arm)
{
	json_t *d;
	size_t i;

	json_array_foreach(details, i, d) {
		double runs = detail_num(d, "runs");

		ASSERT_EQ(runs, detail_num(d, "repeat"), arm);
		ASSERT_EQ(detail_num(d, "stages_run"), runs * k, arm);
		ASSERT_EQ(detail_num(d, "failures"), 0, arm);
		ASSERT_EQ(detail_num(d, "last_seed"), SEED, arm);
		ASSERT_EQ((__u64)json_integer_value(json_object_get(d, "last_acc")), fold(SEED, k),
			  arm);
	}
}

/* Live skbs (sk-skb-verdict): any length seeds the state; the stages and
 * runs_trial count the whole trial (runs: its window). */
static void check_live_arm(json_t *details, unsigned k, const char *arm)
{
	json_t *d;
	size_t i;

	json_array_foreach(details, i, d) {
		double runs = detail_num(d, "runs"), stages = detail_num(d, "stages_run");

		ASSERT_GT(runs, 0, arm);
		ASSERT_GE(stages, runs * k, arm);
		ASSERT_EQ(stages, detail_num(d, "runs_trial") * k, arm);
		ASSERT_EQ(detail_num(d, "failures"), 0, arm);
		ASSERT_EQ((__u64)json_integer_value(json_object_get(d, "last_acc")),
			  fold((__u64)detail_num(d, "last_seed"), k), arm);
	}
}

static void measure(const struct bench *b, const char *hook, unsigned op, unsigned k)
{
	struct bench_cell c;
	struct bench_series s;

	bench_cell_init(&c, b, hook_by_name(hook));
	c.op = op;
	c.stages = k;
	c.trials = 1;
	if (!ASSERT_OK(bench_cell_measure(&c, &s), "measure"))
		goto out;
	if (!strncmp(b->ops[op], "freplace", 8) && c.refused[0]) {
		ASSERT_STRCONTAINS(c.refused, "freplace refused by this kernel: ", "the reason");
		ASSERT_EQ(s.n[ARM_MAIN], 0, "no trials");
		goto out;
	}
	if (!strcmp(hook, "sk-skb-verdict") && strstr(b->ops[op], "/cb")) {
		ASSERT_STRCONTAINS(c.refused, "verifier: ", "the verifier's reason");
		ASSERT_EQ(s.n[ARM_MAIN], 0, "no trials");
		goto out;
	}
	if (!ASSERT_STREQ(c.refused, "", "the verifier accepts it"))
		goto out;
	ASSERT_EQ(s.n[ARM_MAIN], 1, "trials");
	if (!strcmp(hook, "sk-skb-verdict")) {
		check_live_arm(s.detail[ARM_MAIN], k, "the stages");
		check_live_arm(s.detail[ARM_REF], k, "the inlined reference");
		goto out;
	}
	check_arm(s.detail[ARM_MAIN], k, "the stages");
	check_arm(s.detail[ARM_REF], k, "the inlined reference");
out:
	bench_cell_finish(&c, &s);
}

/* The planner leaves out what cannot exist. */
static void check_applies(const struct bench *b, const char *hook, unsigned op)
{
	struct bench_cell c;
	const char *name = b->ops[op];
	bool xdp = !strcmp(hook, "xdp");
	bool never = (!strncmp(name, "tail-", 5) && strstr(name, "/stack")) ||
		     (xdp && strstr(name, "/cb")) || (!xdp && strstr(name, "/meta"));

	bench_cell_init(&c, b, hook_by_name(hook));
	c.op = op;
	ASSERT_EQ(b->applies(&c), !never, name);
}

OLAB_TEST(bench_calls)
{
	const struct bench *b = bench_by_name("calls");
	static const char *const hooks[] = { "xdp", "tc" };
	static const unsigned ks[] = { 1, 7, CALLS_STAGES_MAX };
	struct bench_cell c;

	if (!ASSERT_OK_PTR(b, "bench calls registered"))
		return;
	for (size_t h = 0; h < 2; h++)
		for (unsigned op = 0; b->ops[op]; op++) {
			if (test_subtest("%s/%s/applies", hooks[h], b->ops[op]))
				check_applies(b, hooks[h], op);
			bench_cell_init(&c, b, hook_by_name(hooks[h]));
			c.op = op;
			if (!b->applies(&c))
				continue;
			for (size_t i = 0; i < ARRAY_SIZE(ks); i++)
				if (test_subtest("%s/%s/K=%u", hooks[h], b->ops[op], ks[i]))
					measure(b, hooks[h], op, ks[i]);
		}
	/* Live TCP: no meta or freplace; calls with stack or per-CPU state, tail
	 * chains with per-CPU or cb (refused); one style per kind of call. */
	for (unsigned op = 0; b->ops[op]; op++) {
		const char *n = b->ops[op];
		bool tail = !strncmp(n, "tail-", 5), live = strncmp(n, "freplace", 8) &&
			    (strstr(n, "/percpu") || strstr(n, tail ? "/cb" : "/stack"));

		bench_cell_init(&c, b, hook_by_name("sk-skb-verdict"));
		c.op = op;
		c.stages = 1;
		if (test_subtest("sk-skb-verdict/%s/applies", n))
			ASSERT_EQ(b->applies(&c), live, n);
		if (live && (tail || !strcmp(n, "global/percpu") || !strcmp(n, "bpf-loop/stack")) &&
		    test_subtest("sk-skb-verdict/%s/K=%u", n, CALLS_STAGES_MAX))
			measure(b, "sk-skb-verdict", op, CALLS_STAGES_MAX);
	}
}
