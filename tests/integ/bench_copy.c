/*
 * bench copy against the real kernel: every way loads at xdp and tc, and
 * each run copied exactly N bytes (no copy failed), for the smallest and
 * the largest N (a frame's payload; 4 KB for memcpy, which alone applies).
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
	if (ASSERT_OK(bench_cell_measure(&c, &s), "measure") &&
	    ASSERT_STREQ(c.refused, "", "the verifier accepts it")) {
		ASSERT_EQ(s.n[ARM_MAIN], 2, "trials");
		json_array_foreach(s.detail[ARM_MAIN], i, d) {
			ASSERT_EQ(detail_num(d, "runs"), detail_num(d, "repeat"), "one copy per run");
			ASSERT_EQ(detail_num(d, "bytes_copied"), detail_num(d, "runs") * (double)size,
				  "N bytes each run");
			ASSERT_EQ(detail_num(d, "failed_copies"), 0, "no copy failed");
		}
	}
	bench_cell_finish(&c, &s);
}

OLAB_TEST(bench_copy)
{
	const struct bench *b = bench_by_name("copy");
	static const char *const hooks[] = { "xdp", "tc" };
	static const uint64_t sizes[] = { 16, 1472, 4096 };
	struct bench_cell probe;

	if (!ASSERT_OK_PTR(b, "bench copy registered"))
		return;
	for (size_t h = 0; h < 2; h++)
		for (unsigned op = 0; b->ops[op]; op++)
			for (size_t k = 0; k < 3; k++) {
				bool memcpy_op = !strncmp(b->ops[op], "memcpy-", 7);

				bench_cell_init(&probe, b, hook_by_name(hooks[h]));
				probe.op = op;
				probe.size = sizes[k];
				if (!ASSERT_EQ(b->applies(&probe), memcpy_op || sizes[k] <= 1472,
					       "memcpy to 4 KB, packets to 1472 B") ||
				    !b->applies(&probe))
					continue;
				if (test_subtest("%s/%s/%llu", hooks[h], b->ops[op],
						 (unsigned long long)sizes[k]))
					measure(b, hooks[h], op, sizes[k]);
			}
}
