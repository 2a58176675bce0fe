/*
 * bench clock: what reading a clock costs a program, and how fine it is.
 * For each clock (bpf_ktime_get_ns, _boot_ns, _coarse_ns, _tai_ns,
 * bpf_jiffies64) a program reads it `calls` times in a bpf_loop:
 *  - cost per call, two methods, each minus the same loop without the
 *    clock (paired trials): the run's time from BPF_PROG_TEST_RUN (xdp, tc)
 *    or bpf_stats (sk_skb, live TCP: it has no test_run), and the loop's
 *    own time measured inside the program;
 *  - back-to-back deltas of the first run: min, p50, p99, max and the
 *    share of zero deltas (a clock that did not move).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bench/bench.h"
#include "bench/micro.h"
#include "lib/log.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "bpf/clock.h"
#include "clock.skel.h"

#define CALLS_TEST_RUN 1000   /* clock reads per run (xdp, tc) */
#define CALLS_LIVE     64     /* per skb (sk_skb): keeps the TCP flow moving */
#define REPEAT         2000   /* test_run repeat */

static const char *const clock_ops[] = { "ktime", "boot", "coarse", "tai", "jiffies", NULL };

struct clock_obj {
	struct clock *skel;
	struct hook_prog hp;
};

struct clock_cell {
	struct clock_obj arm[2];   /* [0] the clock, [1] the empty loop */
	struct topo t;             /* sk_skb only */
	bool topo_up;
	uint8_t frame[MICRO_FRAME_MAX];
	json_t *facts;
};

static bool live(const struct bench_cell *c)
{
	return c->hook->kind == HOOK_STREAM;
}

static bool clock_applies(const struct bench_cell *c)
{
	const char *n = c->hook->name;

	return !strcmp(n, "xdp") || !strcmp(n, "tc") || !strcmp(n, "sk-skb-verdict");
}

static void clock_plan(struct bench_cell *c)
{
	c->variant = clock_ops[c->op];
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

static int obj_load(struct bench_cell *c, struct clock_obj *o, enum clock_kind kind, char *why,
		    size_t len)
{
	char *log;
	int err;

	o->skel = clock__open();
	if (!o->skel)
		return -errno;
	o->skel->rodata->clock_kind = kind;
	o->skel->rodata->calls = live(c) ? CALLS_LIVE : CALLS_TEST_RUN;
	err = hook_pick_progs(c->hook, o->skel->obj, "clock", &o->hp);
	if (err)
		return err;
	log = micro_log_attach(o->hp.prog);
	err = clock__load(o->skel);
	micro_log_done(log, err, why, len);
	if (!err)
		o->hp.sockmap_fd = bpf_map__fd(o->skel->maps.clock_sockmap);
	return err;
}

static int clock_setup(struct bench_cell *c)
{
	struct clock_cell *cc = c->priv;
	int err;

	/* What this kernel refuses: the cell records the verifier's reason. */
	if (obj_load(c, &cc->arm[1], CLOCK_KIND_NONE, c->refused, sizeof(c->refused)) ||
	    obj_load(c, &cc->arm[0], c->op, c->refused, sizeof(c->refused)))
		return 0;
	c->refused[0] = 0;
	cc->facts = micro_prog_facts(bpf_program__fd(cc->arm[0].hp.prog));
	if (!live(c))
		return micro_frame(cc->frame, 64);
	err = bench_topo_up(c->layout, &cc->t);
	cc->topo_up = !err;
	return err;
}

static void clock_teardown(struct bench_cell *c)
{
	struct clock_cell *cc = c->priv;

	if (cc->topo_up)
		topo_down(&cc->t);
	for (int i = 0; i < 2; i++)
		clock__destroy(cc->arm[i].skel);
	json_decref(cc->facts);
}

/* Deltas of the sample taken in the window: percentiles into detail. */
static json_t *deltas_json(struct clock_obj *o, double *p50, double *p99)
{
	uint32_t n = o->skel->bss->ndeltas, zero = 0, backwards = 0;
	double *d;
	json_t *j;

	if (n > CLOCK_MAX_DELTAS)
		n = CLOCK_MAX_DELTAS;
	d = calloc(n ? n : 1, sizeof(*d));
	if (!d || !n) {
		free(d);
		return json_null();
	}
	for (uint32_t i = 0; i < n; i++) {
		int64_t delta = (int64_t)o->skel->bss->deltas[i];

		d[i] = (double)delta;
		zero += delta == 0;
		backwards += delta < 0;
	}
	sort_doubles(d, n);
	*p50 = percentile_sorted(d, n, 50);
	*p99 = percentile_sorted(d, n, 99);
	j = json_pack("{s:i, s:f, s:f, s:f, s:f, s:f, s:i}", "n", n, "min", d[0], "p50", *p50,
		      "p99", *p99, "max", d[n - 1], "zero_share", (double)zero / n, "backwards",
		      backwards);
	free(d);
	return j;
}

static int clock_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct clock_cell *cc = c->priv;
	struct clock_obj *o = &cc->arm[t->arm == ARM_MAIN ? 0 : 1];
	struct micro_snap a = { 0 }, b = { 0 };
	double run_ns = 0, calls = live(c) ? CALLS_LIVE : CALLS_TEST_RUN, p50 = 0, p99 = 0;
	int err;

	o->skel->bss->ndeltas = 0;
	if (live(c))
		err = micro_window_live(c, &cc->t, &o->hp, &o->skel->bss->loop_stats, t->ms, &a, &b,
					&run_ns);
	else
		err = micro_window_test_run(bpf_program__fd(o->hp.prog), &o->skel->bss->loop_stats,
					    cc->frame, 64, REPEAT, &a, &b, &run_ns, t->why,
					    sizeof(t->why));
	if (err)
		return err;
	t->v[0] = run_ns / calls;
	t->v[1] = micro_in_prog_ns(&a, &b) / calls;
	if (t->arm == ARM_MAIN)
		t->detail = json_pack("{s:o, s:I, s:I}", "deltas", deltas_json(o, &p50, &p99), "runs",
				      (json_int_t)(b.runs - a.runs), live(c) ? "run_cnt" : "repeat",
				      (json_int_t)(live(c) ? b.run_cnt - a.run_cnt : REPEAT));
	t->v[2] = p50;
	t->v[3] = p99;
	return 0;
}

static int clock_report(struct bench_cell *c, const struct bench_series *s)
{
	struct clock_cell *cc = c->priv;
	const char *unit = c->op == CLOCK_KIND_JIFFIES ? "jiffies" : "ns", *op = clock_ops[c->op];
	char in_prog[32], deltas[32];
	const char *run_method = live(c) ? "bpf_stats run_time_ns / run_cnt / reads per skb, minus "
		"the empty loop (paired trials; live TCP, sk_skb has no test_run)"
		: "BPF_PROG_TEST_RUN duration / reads per run, minus the empty loop (paired trials)";
	json_t *extra;

	extra = json_pack("{s:O, s:s, s:i, s:O}", "program", cc->facts, "methods_agree",
			  micro_agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]), "reads_per_run",
			  live(c) ? CALLS_LIVE : CALLS_TEST_RUN, "per_trial", s->detail[ARM_MAIN]);
	snprintf(in_prog, sizeof(in_prog), "%s in-program", op);
	snprintf(deltas, sizeof(deltas), "%s deltas", op);
	bench_figure(c, op, "ns_per_call", "ns", run_method, s->cmp[0], s->n[ARM_MAIN], extra);
	bench_figure(c, in_prog, "ns_per_call", "ns", "bpf_ktime_get_ns around the bpf_loop "
		     "inside the program / reads, minus the empty loop (paired trials)", s->cmp[1],
		     s->n[ARM_MAIN], NULL);
	bench_figure(c, deltas, "delta_p50", unit, "back-to-back reads in one run, p50 per trial",
		     s->v[ARM_MAIN][2], s->n[ARM_MAIN], NULL);
	bench_figure(c, deltas, "delta_p99", unit, "back-to-back reads in one run, p99 per trial",
		     s->v[ARM_MAIN][3], s->n[ARM_MAIN], NULL);
	return 0;
}

static const struct bench bench_clock = {
	.name = "clock",
	.summary = "cost per call and resolution of the clocks a program can read",
	.order = 110,
	.ops = clock_ops,
	.axes = {
		[AXIS_OP] = { NULL, "ktime,coarse,jiffies" },
		[AXIS_HOOK] = { "xdp,tc,sk-skb-verdict", "xdp,tc,sk-skb-verdict" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "clock", [ARM_REF] = "empty loop" },
	BENCH_METHODS(clock, struct clock_cell),
};
DEFINE_BENCH(bench_clock);
