/*
 * bench objects against the real kernel: every place loads at xdp and tc
 * for sizes up to its limit, each run wrote every word of the object once
 * (a zeroed object too: zeroing is not counted as writing), and the stack
 * past its limit is a reason, not a number.
 */
#include <string.h>
#include <jansson.h>
#include "bench/bench.h"
#include "tests/integ/bench_kit.h"
#include "tests/test.h"

static void measure(const struct bench *b, const char *hook, unsigned op, uint64_t size)
{
	struct bench_cell c;
	struct bench_series s;
	json_t *d;
	size_t i;

	bench_cell_init(&c, b, hook_by_name(hook));
	c.op = op;
	c.size = size;
	c.trials = 2;
	if (!ASSERT_OK(bench_cell_measure(&c, &s), "measure"))
		goto out;
	if (op <= 1 && size > 496) {
		ASSERT_STRCONTAINS(c.refused, "does not fit", "the stack's limit is the reason");
		ASSERT_EQ(s.n[ARM_MAIN], 0, "no trials");
		goto out;
	}
	if (!ASSERT_STREQ(c.refused, "", "the verifier accepts it"))
		goto out;
	ASSERT_EQ(s.n[ARM_MAIN], 2, "trials");
	json_array_foreach(s.detail[ARM_MAIN], i, d) {
		ASSERT_EQ(detail_num(d, "runs"), detail_num(d, "repeat"), "one object per run");
		ASSERT_EQ(detail_num(d, "words_written"), detail_num(d, "runs") * (double)(size / 8),
			  "every word written once a run");
	}
out:
	bench_cell_finish(&c, &s);
}

OLAB_TEST(bench_objects)
{
	const struct bench *b = bench_by_name("objects");
	static const char *const hooks[] = { "xdp", "tc" };
	static const uint64_t sizes[] = { 64, 496, 512, 65536 };

	if (!ASSERT_OK_PTR(b, "bench objects registered"))
		return;
	for (size_t h = 0; h < 2; h++)
		for (unsigned op = 0; b->ops[op]; op++)
			for (size_t k = 0; k < 4; k++) {
				if (op <= 1 && sizes[k] > 512)
					continue;
				if (test_subtest("%s/%s/%llu", hooks[h], b->ops[op],
						 (unsigned long long)sizes[k]))
					measure(b, hooks[h], op, sizes[k]);
			}
}
