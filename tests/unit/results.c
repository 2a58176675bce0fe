#include <math.h>
#include <string.h>
#include "results/results.h"
#include "tests/test.h"

static void add_overhead(struct results *r, const char *hook, double v, double state_ns)
{
	double trials[] = { v - 1, v, v + 1 };
	struct result res = {
		.bench = "overhead", .hook = hook, .metric = "ns_per_packet", .unit = "ns",
		.method = "test", .trials = trials, .n = 3,
		.extra = json_pack("{s:{s:f}}", "regimes", "quiet_no_program_ns", state_ns),
	};

	results_add(r, &res);
}

static json_t *ratio(json_t *refs, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(refs, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "name")), name))
			return o;
	return NULL;
}

/* Ratios beside the seed: formed from this run's medians, but only between
 * figures measured in the same state of the machine. */
OLAB_TEST(results_reference_ratio_same_state)
{
	struct results r = { .list = json_array() };
	json_t *refs = NULL, *o;

	add_overhead(&r, "tc", 60, 350);
	add_overhead(&r, "xdp", 12, 360);
	refs = results_reference_json(&r);
	o = ratio(refs, "TC overhead / XDP overhead");
	if (!ASSERT_OK_PTR(o, "the TC/XDP overhead ratio is defined"))
		goto cleanup;
	ASSERT_DBL_NEAR(json_number_value(json_object_get(o, "here")), 5.0, 1e-9, "60 / 12");
	ASSERT_TRUE(json_number_value(json_object_get(o, "seed")) > 1, "seed ratio from reference.json");
	ASSERT_TRUE(!json_object_get(o, "note"), "no note within one state");
	json_decref(refs);

	/* The same figures, xdp measured in the slow state: no ratio. */
	json_array_clear(r.list);
	add_overhead(&r, "tc", 60, 350);
	add_overhead(&r, "xdp", 80, 480);
	refs = results_reference_json(&r);
	o = ratio(refs, "TC overhead / XDP overhead");
	if (!ASSERT_OK_PTR(o, "ratio row"))
		goto cleanup;
	ASSERT_TRUE(json_is_null(json_object_get(o, "here")), "no ratio across states");
	ASSERT_TRUE(json_object_get(o, "note") &&
		    strstr(json_string_value(json_object_get(o, "note")), "different states"),
		    "the row says why");
cleanup:
	json_decref(refs);
	json_decref(r.list);
}
