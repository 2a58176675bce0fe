/*
 * bench clock against the real kernel: each hook's program ran exactly as
 * often as the method says (test_run's repeat; bpf_stats' run_cnt on live
 * sk_skb traffic), kept the deltas of one run, and no clock went backwards.
 */
#include <math.h>
#include <string.h>
#include <jansson.h>
#include "bench/bench.h"
#include "tests/integ/bench_kit.h"
#include "tests/test.h"

static void check_trials(const struct bench_cell *c, const struct bench_series *s)
{
	bool live = c->hook->kind == HOOK_STREAM;
	json_t *d;
	size_t i;

	ASSERT_EQ(s->n[ARM_MAIN], c->trials, "trials of the clock");
	ASSERT_EQ(s->n[ARM_REF], c->trials, "trials of the empty loop");
	json_array_foreach(s->detail[ARM_MAIN], i, d) {
		json_t *deltas = json_object_get(d, "deltas");

		/* Live: a run may end between the two counters' reads at each end. */
		if (live)
			ASSERT_LE(fabs(detail_num(d, "runs") - detail_num(d, "run_cnt")), 2, "one loop per verdict run");
		else
			ASSERT_EQ(detail_num(d, "runs"), detail_num(d, "repeat"), "one loop per test_run repeat");
		ASSERT_GT(detail_num(d, "runs"), 0, "runs");
		ASSERT_EQ(detail_num(deltas, "n"), live ? 63 : 999, "deltas of one run (reads - 1)");
		ASSERT_EQ(detail_num(deltas, "backwards"), 0, "the clock never went backwards");
		if (!strcmp(c->bench->ops[c->op], "ktime"))
			ASSERT_DBL_LT(detail_num(deltas, "zero_share"), 1, "ktime moved within a run");
		else
			ASSERT_DBL_GT(detail_num(deltas, "zero_share"), 0.9, "jiffies mostly still within a run");
	}
}

OLAB_TEST(bench_clock)
{
	const struct bench *b = bench_by_name("clock");
	static const char *const hooks[] = { "xdp", "tc", "sk-skb-verdict" };

	if (!ASSERT_OK_PTR(b, "bench clock registered"))
		return;
	for (size_t h = 0; h < 3; h++) {
		for (unsigned op = 0; op < 5; op += 4) { /* ktime, jiffies */
			struct bench_cell c;
			struct bench_series s;

			if (!test_subtest("%s/%s", hooks[h], b->ops[op]))
				continue;
			bench_cell_init(&c, b, hook_by_name(hooks[h]));
			c.op = op;
			c.trials = 2;
			if (ASSERT_OK(bench_cell_measure(&c, &s), "measure"))
				check_trials(&c, &s);
			bench_cell_finish(&c, &s);
		}
	}
}
