/*
 * bench helpers against the real kernel: each helper's program ran as often
 * as its method says, no helper call failed (the paired calls restore the
 * packet), and a helper the hook does not offer is refused with the
 * verifier's own reason instead of a number.
 */
#include <math.h>
#include <string.h>
#include <jansson.h>
#include "bench/bench.h"
#include "tests/integ/bench_kit.h"
#include "tests/test.h"

static unsigned op_index(const struct bench *b, const char *name)
{
	unsigned i = 0;

	while (b->ops[i] && strcmp(b->ops[i], name))
		i++;
	return i;
}

static void measure(const struct bench *b, const char *hook, const char *op, const char *refusal)
{
	struct bench_cell c;
	struct bench_series s;
	json_t *d;
	size_t i;

	bench_cell_init(&c, b, hook_by_name(hook));
	c.op = op_index(b, op);
	c.trials = 2;
	if (!ASSERT_TRUE(b->ops[c.op] != NULL, "op exists") ||
	    !ASSERT_OK(bench_cell_measure(&c, &s), "measure"))
		goto out;
	if (refusal) {
		ASSERT_STRCONTAINS(c.refused, refusal, "the verifier's reason");
		ASSERT_EQ(s.n[ARM_MAIN], 0, "no trials of a refused helper");
		goto out;
	}
	ASSERT_STREQ(c.refused, "", "not refused");
	ASSERT_EQ(s.n[ARM_MAIN], 2, "trials");
	json_array_foreach(s.detail[ARM_MAIN], i, d) {
		bool live = c.hook->kind == HOOK_STREAM;

		ASSERT_GT(detail_num(d, "runs"), 0, "runs");
		/* Live: a run may end between the two counters' reads at each end. */
		ASSERT_LE(fabs(detail_num(d, "runs") - detail_num(d, live ? "run_cnt" : "repeat")), live ? 2 : 0,
			  "one loop per run");
		/* Live skbs vary (sk_skb_change_tail refuses some): failures are
		 * counted and named; test_run's frame is the same every run. */
		if (live)
			ASSERT_EQ(detail_num(d, "failed_calls") > 0, json_object_get(d, "failed_with") != NULL,
				  "failures name their error");
		else
			ASSERT_EQ(detail_num(d, "failed_calls"), 0, "every helper call succeeded");
	}
out:
	bench_cell_finish(&c, &s);
}

OLAB_TEST(bench_helpers)
{
	const struct bench *b = bench_by_name("helpers");
	static const struct { const char *hook, *op, *refusal; } cases[] = {
		{ "xdp", "xdp_adjust_tail", NULL },
		{ "xdp", "fib_lookup", NULL },
		{ "xdp", "map_lookup_elem", NULL },
		{ "tc", "skb_adjust_room", NULL },
		{ "tc", "l4_csum_replace", NULL },
		{ "sk-skb-verdict", "skb_change_tail", NULL },
		{ "sk-skb-verdict", "get_smp_processor_id", NULL },
		{ "sk-skb-verdict", "fib_lookup", "cannot use helper bpf_fib_lookup" },
	};

	if (!ASSERT_OK_PTR(b, "bench helpers registered"))
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (test_subtest("%s/%s", cases[i].hook, cases[i].op))
			measure(b, cases[i].hook, cases[i].op, cases[i].refusal);
}
