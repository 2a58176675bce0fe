/*
 * bench helpers: ns per call of the helpers an offload leans on, at each
 * hook that has them.  A program calls one helper `iters` times in a
 * bpf_loop (calls that change the packet are paired with the call that
 * changes it back); the cost per call is its run minus the same loop
 * without the helper (paired trials), by two methods: the run's time
 * (BPF_PROG_TEST_RUN at xdp and tc, bpf_stats at sk_skb on live TCP) and
 * the loop timed inside the program.  A helper the hook does not offer
 * gets the verifier's refusal as its reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bench/bench.h"
#include "bench/micro.h"
#include "lib/log.h"
#include "bpf/helper_cost.h"
#include "helper_cost.skel.h"

#define ITERS_TEST_RUN 500
#define ITERS_LIVE     32
#define REPEAT         1000

static const char *const helper_ops[] = {
	"xdp_adjust_head", "xdp_adjust_tail", "skb_adjust_room", "skb_change_tail", "redirect",
	"redirect_map", "fib_lookup", "csum_diff", "l4_csum_replace", "map_lookup_elem",
	"get_smp_processor_id", NULL
};

struct helpers_cell {
	struct micro_cell m;
};

/* xdp_* ops at xdp only, skb_* ops not at xdp; the rest everywhere. */
static bool helpers_applies(const struct bench_cell *c)
{
	const char *h = c->hook->name, *op = helper_ops[c->op];
	bool xdp = !strcmp(h, "xdp");

	if (!xdp && strcmp(h, "tc") && strcmp(h, "sk-skb-verdict"))
		return false;
	if (!strncmp(op, "xdp_", 4))
		return xdp;
	if (!strncmp(op, "skb_", 4) || !strcmp(op, "l4_csum_replace"))
		return !xdp;
	return true;
}

static void helpers_plan(struct bench_cell *c)
{
	micro_plan(c, helper_ops[c->op]);
}

static void helpers_configure(void *skel, const struct bench_cell *c, bool empty)
{
	struct helper_cost *k = skel;

	k->rodata->op = empty ? HOP_NONE : c->op;
	k->rodata->iters = micro_live(c) ? ITERS_LIVE : ITERS_TEST_RUN;
}
MICRO_SKEL_OPS(helper_cost, helpers_configure);

static int helpers_setup(struct bench_cell *c)
{
	return micro_setup(c, &((struct helpers_cell *)c->priv)->m, &helper_cost_micro_ops, 64);
}

static void helpers_teardown(struct bench_cell *c)
{
	micro_teardown(&((struct helpers_cell *)c->priv)->m);
}

static int helpers_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct helpers_cell *hc = c->priv;
	struct helper_cost *k = micro_skel(&hc->m, t);
	double calls = (micro_live(c) ? ITERS_LIVE : ITERS_TEST_RUN) *
		       (double)helper_op_calls((int)c->op);
	int64_t failures0 = k->bss->failures;
	int err = micro_trial(c, &hc->m, t, REPEAT, calls);

	if (err)
		return err;
	json_object_set_new(t->detail, "failed_calls", json_integer(k->bss->failures - failures0));
	if (k->bss->failures != failures0)
		json_object_set_new(t->detail, "failed_with",
				    json_string(strerror((int)-k->bss->last_error)));
	return 0;
}

/* Helper calls that returned an error over the trials, and the last error. */
static json_int_t failed_calls(const struct bench_series *s, const char **with)
{
	json_int_t n = 0;
	json_t *d;
	size_t i;

	json_array_foreach(s->detail[ARM_MAIN], i, d) {
		n += json_integer_value(json_object_get(d, "failed_calls"));
		if (json_object_get(d, "failed_with"))
			*with = json_string_value(json_object_get(d, "failed_with"));
	}
	return n;
}

static int helpers_report(struct bench_cell *c, const struct bench_series *s)
{
	struct helpers_cell *hc = c->priv;
	const char *op = helper_ops[c->op];
	const char *failed_with = NULL;
	char in_prog[48];
	json_int_t failed;
	json_t *extra;

	extra = json_pack("{s:O, s:s, s:i, s:i, s:O}", "program", hc->m.facts, "methods_agree",
			  micro_agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]), "loop_iterations",
			  micro_live(c) ? ITERS_LIVE : ITERS_TEST_RUN, "calls_per_iteration",
			  helper_op_calls((int)c->op), "per_trial", s->detail[ARM_MAIN]);
	failed = failed_calls(s, &failed_with);
	json_object_set_new(extra, "failed_calls", json_integer(failed));
	if (failed) {
		json_object_set_new(extra, "failed_with", json_string(failed_with));
		pr_warn("helpers %s %s: %lld calls failed (%s): the figure is the cost of a mix of "
			"calls that worked and calls that failed\n", c->hook->name, op,
			(long long)failed, failed_with);
	}
	snprintf(in_prog, sizeof(in_prog), "%s in-program", op);
	bench_figure(c, op, "ns_per_call", "ns", micro_live(c)
		     ? "bpf_stats run_time_ns / run_cnt / calls per skb, minus the empty loop "
		       "(paired trials; live TCP, sk_skb has no test_run)"
		     : "BPF_PROG_TEST_RUN duration / calls per run, minus the empty loop "
		       "(paired trials)", s->cmp[0], s->n[ARM_MAIN], extra);
	bench_figure(c, in_prog, "ns_per_call", "ns", "bpf_ktime_get_ns around the bpf_loop inside "
		     "the program / calls, minus the empty loop (paired trials)", s->cmp[1],
		     s->n[ARM_MAIN], NULL);
	return 0;
}

static const struct bench bench_helpers = {
	.name = "helpers",
	.summary = "ns per call of the helpers an offload uses, at each hook",
	.order = 160,
	.ops = helper_ops,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc,sk-skb-verdict", "xdp,tc,sk-skb-verdict" },
		[AXIS_OP] = { NULL, "xdp_adjust_tail,skb_adjust_room,redirect,fib_lookup" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "helper", [ARM_REF] = "empty loop" },
	BENCH_METHODS(helpers, struct helpers_cell),
};
DEFINE_BENCH(bench_helpers);
