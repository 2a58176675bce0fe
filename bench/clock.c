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
	char refused[256];         /* the kernel refused to load the clock */
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
	int err;

	o->skel = clock__open();
	if (!o->skel)
		return -errno;
	o->skel->rodata->clock_kind = kind;
	o->skel->rodata->calls = live(c) ? CALLS_LIVE : CALLS_TEST_RUN;
	err = hook_pick_progs(c->hook, o->skel->obj, "clock", &o->hp);
	if (!err)
		err = clock__load(o->skel);
	if (err) {
		snprintf(why, len, "loading %s at %s: %s", kind == CLOCK_KIND_NONE ? "the empty loop"
			 : clock_ops[kind], c->hook->name, strerror(-err));
		return err;
	}
	o->hp.sockmap_fd = bpf_map__fd(o->skel->maps.clock_sockmap);
	return 0;
}

static int clock_setup(struct bench_cell *c)
{
	struct clock_cell *cc = c->priv;
	int err;

	err = obj_load(c, &cc->arm[1], CLOCK_KIND_NONE, cc->refused, sizeof(cc->refused));
	if (err)
		return err;
	/* A clock this kernel lacks: the cell reports the refusal. */
	if (obj_load(c, &cc->arm[0], c->op, cc->refused, sizeof(cc->refused)))
		return 0;
	cc->refused[0] = 0;
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

/* The counters the program keeps, before and after a window. */
struct prog_snap {
	uint64_t in_prog_ns, runs, run_time_ns, run_cnt;
};

static void prog_snap(struct clock_obj *o, struct prog_snap *s)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	s->in_prog_ns = o->skel->bss->in_prog_ns;
	s->runs = o->skel->bss->runs;
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(o->hp.prog), &info, &len)) {
		s->run_time_ns = info.run_time_ns;
		s->run_cnt = info.run_cnt;
	}
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

/* xdp, tc: one test_run of REPEAT runs. */
static int trial_test_run(struct bench_cell *c, struct clock_obj *o, struct prog_snap *a,
			  struct prog_snap *b, double *run_ns, char *why, size_t len)
{
	struct micro_run r;
	int err;

	prog_snap(o, a);
	err = micro_test_run(bpf_program__fd(o->hp.prog), ((struct clock_cell *)c->priv)->frame,
			     64, REPEAT, &r, why, len);
	prog_snap(o, b);
	*run_ns = r.ns_per_run;
	return err;
}

struct live_snaps {
	struct clock_obj *o;
	struct prog_snap *a, *b;
};

static void live_snap(void *arg, int when)
{
	struct live_snaps *ls = arg;

	if (when < 2)
		prog_snap(ls->o, when == 0 ? ls->a : ls->b);
}

/* sk_skb: the program on the verdict, TCP to a sink app for the window. */
static int trial_live(struct bench_cell *c, struct clock_obj *o, struct bench_trial *t,
		      struct prog_snap *a, struct prog_snap *b, double *run_ns)
{
	struct clock_cell *cc = c->priv;
	struct hook_inst *hi = NULL;
	struct rt_app *app = NULL;
	struct gen_result r;
	struct live_snaps ls = { o, a, b };
	uint64_t win_ns = 0;
	int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	int err = stats_fd < 0 ? -errno : 0;

	if (!err)
		err = hook_attach_prog(c->hook, &o->hp, &cc->t.dut, cc->t.if_dut, &hi);
	if (!err)
		err = bench_cell_app(c, &cc->t, APP_TCP_SINK, 1, hi, &app);
	if (!err)
		err = bench_measure(&cc->t, GEN_MODE_TCP, 64, t->ms, live_snap, &ls, &r, &win_ns);
	rt_app_free(app);
	hook_detach(hi);
	if (stats_fd >= 0)
		close(stats_fd);
	*run_ns = b->run_cnt > a->run_cnt ? (double)(b->run_time_ns - a->run_time_ns) /
					    (double)(b->run_cnt - a->run_cnt) : 0;
	if (!err && b->runs == a->runs)
		err = -ENODATA;
	return err;
}

static int clock_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct clock_cell *cc = c->priv;
	struct clock_obj *o = &cc->arm[t->arm == ARM_MAIN ? 0 : 1];
	struct prog_snap a = { 0 }, b = { 0 };
	double run_ns = 0, calls = live(c) ? CALLS_LIVE : CALLS_TEST_RUN, p50 = 0, p99 = 0;
	int err;

	if (cc->refused[0])
		return -EOPNOTSUPP;
	o->skel->bss->ndeltas = 0;
	err = live(c) ? trial_live(c, o, t, &a, &b, &run_ns)
		      : trial_test_run(c, o, &a, &b, &run_ns, t->why, sizeof(t->why));
	if (err)
		return err;
	t->v[0] = run_ns / calls;
	t->v[1] = (double)(b.in_prog_ns - a.in_prog_ns) / (double)(b.runs - a.runs) / calls;
	if (t->arm == ARM_MAIN)
		t->detail = json_pack("{s:o, s:I, s:I}", "deltas", deltas_json(o, &p50, &p99), "runs",
				      (json_int_t)(b.runs - a.runs), live(c) ? "run_cnt" : "repeat",
				      (json_int_t)(live(c) ? b.run_cnt - a.run_cnt : REPEAT));
	t->v[2] = p50;
	t->v[3] = p99;
	return 0;
}

/* The two methods agree when their per-call costs' CIs overlap. */
static const char *agreement(const double *a, const double *b, size_t n)
{
	struct summary sa, sb;

	if (summarize(a, n, &sa) || summarize(b, n, &sb))
		return "no data";
	return sa.ci_lo <= sb.ci_hi && sb.ci_lo <= sa.ci_hi ? "agree (CIs overlap)" : "differ";
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

	if (cc->refused[0]) {
		bench_figure(c, clock_ops[c->op], "ns_per_call", "ns", cc->refused, NULL, 0,
			     json_pack("{s:s}", "refused", cc->refused));
		return 0;
	}
	extra = json_pack("{s:O, s:s, s:i, s:O}", "program", cc->facts, "methods_agree",
			  agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]), "reads_per_run",
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
