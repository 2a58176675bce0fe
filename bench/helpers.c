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

struct helper_obj {
	struct helper_cost *skel;
	struct hook_prog hp;
};

struct helpers_cell {
	struct helper_obj arm[2];  /* [0] the helper, [1] the empty loop */
	struct topo t;
	bool topo_up;
	uint8_t frame[MICRO_FRAME_MAX];
	json_t *facts;
};

static bool live(const struct bench_cell *c)
{
	return c->hook->kind == HOOK_STREAM;
}

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
	c->variant = helper_ops[c->op];
	c->arms = ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF);
	c->pairing = PAIR_ALTERNATE;
	c->compare = CMP_DELTA;
	if (!c->trials)
		c->trials = c->quick ? 5 : 11;
	if (!live(c) && !c->duration_ms)
		c->duration_ms = 1; /* a test_run call: the repeat sets the length */
	if (live(c) && c->quick && !c->duration_ms)
		c->duration_ms = 150;
}

static int obj_load(struct bench_cell *c, struct helper_obj *o, enum helper_op op, char *why,
		    size_t len)
{
	char *log;
	int err;

	o->skel = helper_cost__open();
	if (!o->skel)
		return -errno;
	o->skel->rodata->op = op;
	o->skel->rodata->iters = live(c) ? ITERS_LIVE : ITERS_TEST_RUN;
	err = hook_pick_progs(c->hook, o->skel->obj, "helper_cost", &o->hp);
	if (err)
		return err;
	log = micro_log_attach(o->hp.prog);
	err = helper_cost__load(o->skel);
	micro_log_done(log, err, why, len);
	if (!err)
		o->hp.sockmap_fd = bpf_map__fd(o->skel->maps.helper_cost_sockmap);
	return err;
}

static int helpers_setup(struct bench_cell *c)
{
	struct helpers_cell *hc = c->priv;
	int err;

	/* What this kernel refuses: the cell records the verifier's reason. */
	if (obj_load(c, &hc->arm[1], HOP_NONE, c->refused, sizeof(c->refused)) ||
	    obj_load(c, &hc->arm[0], c->op, c->refused, sizeof(c->refused)))
		return 0;
	c->refused[0] = 0;
	hc->facts = micro_prog_facts(bpf_program__fd(hc->arm[0].hp.prog));
	if (!live(c))
		return micro_frame(hc->frame, 64);
	err = bench_topo_up(c->layout, &hc->t);
	hc->topo_up = !err;
	return err;
}

static void helpers_teardown(struct bench_cell *c)
{
	struct helpers_cell *hc = c->priv;

	if (hc->topo_up)
		topo_down(&hc->t);
	for (int i = 0; i < 2; i++)
		helper_cost__destroy(hc->arm[i].skel);
	json_decref(hc->facts);
}

static int helpers_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct helpers_cell *hc = c->priv;
	struct helper_obj *o = &hc->arm[t->arm == ARM_MAIN ? 0 : 1];
	volatile struct micro_loop *l = &o->skel->bss->loop_stats;
	struct micro_snap a = { 0 }, b = { 0 };
	double run_ns = 0, calls = (live(c) ? ITERS_LIVE : ITERS_TEST_RUN) *
				   (double)helper_op_calls((int)c->op);
	int64_t failures0 = o->skel->bss->failures;
	int err;

	if (live(c))
		err = micro_window_live(c, &hc->t, &o->hp, l, t->ms, &a, &b, &run_ns);
	else
		err = micro_window_test_run(bpf_program__fd(o->hp.prog), l, hc->frame, 64, REPEAT,
					    &a, &b, &run_ns, t->why, sizeof(t->why));
	if (err)
		return err;
	t->v[0] = run_ns / calls;
	t->v[1] = micro_in_prog_ns(&a, &b) / calls;
	t->detail = json_pack("{s:I, s:I, s:I}", "runs", (json_int_t)(b.runs - a.runs),
			      live(c) ? "run_cnt" : "repeat",
			      (json_int_t)(live(c) ? b.run_cnt - a.run_cnt : REPEAT), "failed_calls",
			      (json_int_t)(o->skel->bss->failures - failures0));
	if (o->skel->bss->failures != failures0)
		json_object_set_new(t->detail, "failed_with", json_string(strerror(
			(int)-o->skel->bss->last_error)));
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

	extra = json_pack("{s:O, s:s, s:i, s:i, s:O}", "program", hc->facts, "methods_agree",
			  micro_agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]), "loop_iterations",
			  live(c) ? ITERS_LIVE : ITERS_TEST_RUN, "calls_per_iteration",
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
	bench_figure(c, op, "ns_per_call", "ns", live(c)
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
	.order = 120,
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
