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

struct clock_cell {
	struct micro_cell m;
};

static bool clock_applies(const struct bench_cell *c)
{
	const char *n = c->hook->name;

	return !strcmp(n, "xdp") || !strcmp(n, "tc") || !strcmp(n, "sk-skb-verdict");
}

static void clock_plan(struct bench_cell *c)
{
	micro_plan(c, clock_ops[c->op]);
}

static void clock_configure(void *skel, const struct bench_cell *c, bool empty)
{
	struct clock *k = skel;

	k->rodata->clock_kind = empty ? CLOCK_KIND_NONE : c->op;
	k->rodata->calls = micro_live(c) ? CALLS_LIVE : CALLS_TEST_RUN;
}
MICRO_SKEL_OPS(clock, clock_configure);

static int clock_setup(struct bench_cell *c)
{
	return micro_setup(c, &((struct clock_cell *)c->priv)->m, &clock_micro_ops, 64);
}

static void clock_teardown(struct bench_cell *c)
{
	micro_teardown(&((struct clock_cell *)c->priv)->m);
}

/* Deltas of the sample taken in the window: percentiles into detail. */
static json_t *deltas_json(struct clock *o, double *p50, double *p99)
{
	uint32_t n = o->bss->ndeltas, zero = 0, backwards = 0;
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
		int64_t delta = (int64_t)o->bss->deltas[i];

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
	struct clock *k = micro_skel(&cc->m, t);
	double calls = micro_live(c) ? CALLS_LIVE : CALLS_TEST_RUN, p50 = 0, p99 = 0;
	int err;

	k->bss->ndeltas = 0;
	err = micro_trial(c, &cc->m, t, REPEAT, calls);
	if (err || t->arm != ARM_MAIN)
		return err;
	json_object_set_new(t->detail, "deltas", deltas_json(k, &p50, &p99));
	t->v[2] = p50;
	t->v[3] = p99;
	return 0;
}

static int clock_report(struct bench_cell *c, const struct bench_series *s)
{
	struct clock_cell *cc = c->priv;
	const char *unit = c->op == CLOCK_KIND_JIFFIES ? "jiffies" : "ns", *op = clock_ops[c->op];
	char in_prog[32], deltas[32];
	const char *run_method = micro_live(c) ? "bpf_stats run_time_ns / run_cnt / reads per skb, minus "
		"the empty loop (paired trials; live TCP, sk_skb has no test_run)"
		: "BPF_PROG_TEST_RUN duration / reads per run, minus the empty loop (paired trials)";
	json_t *extra;

	extra = json_pack("{s:O, s:s, s:i, s:O}", "program", cc->m.facts, "methods_agree",
			  micro_agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]), "reads_per_run",
			  micro_live(c) ? CALLS_LIVE : CALLS_TEST_RUN, "per_trial", s->detail[ARM_MAIN]);
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
	.order = 150,
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
