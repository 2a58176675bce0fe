/*
 * bench drop and bench pass: a socket sink app behind a program at the
 * hook, parameterised by the program's action.
 *  - drop, the maximum benefit: requests per second the program drops,
 *    against a socket app that receives and drops them in user space, with
 *    the app sharing the receive CPU and on its own CPU;
 *  - pass, the minimum cost: requests per second the app reads when the
 *    program counts and passes, paired with no program; the cost in %.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bench/bench.h"
#include "lib/counters.h"
#include "lib/log.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/link.h"


struct sink_cell {
	struct topo t;
	uint64_t sent, counted, app_received; /* over the kept trials */
};

struct sink_snaps {
	struct hook_inst *hi;
	struct rt_app *app;
	struct counters_snap c[3], before;  /* in the window; before the traffic */
	struct app_stats a[3], abefore;
};

static void sink_snap(void *arg, int when)
{
	struct sink_snaps *s = arg;

	if (s->hi)
		counters_snap(hook_counters(s->hi), &s->c[when]);
	rt_app_read(s->app, &s->a[when]);
}

static json_t *per_cpu_json(const uint64_t *per_cpu)
{
	json_t *a = json_array();

	for (int c = 0; c < cpu_count() && c < OLAB_MAX_CPUS; c++)
		json_array_append_new(a, json_integer((json_int_t)per_cpu[c]));
	return a;
}

/* Drop: the program's count (or the baseline app's), in the window and in all. */
static void drop_figures(struct bench_cell *c, struct sink_snaps *s, struct gen_result *r,
			 uint64_t win_ns, uint64_t arrived, struct bench_trial *t)
{
	struct sink_cell *sc = c->priv;
	uint64_t size = c->size, in_window, counted, per_cpu[OLAB_MAX_CPUS] = { 0 };
	uint64_t app_packets = s->a[2].packets - s->abefore.packets;
	int cpu;

	if (s->hi) {
		struct cpu_counters d = counters_delta(&s->c[0], &s->c[1], per_cpu);

		cpu = counters_busiest_cpu(&s->c[0], &s->c[1]);
		/* Stream hooks: requests of size bytes; packet hooks: packets. */
		in_window = c->tcp ? d.bytes / size : d.dropped;
		d = counters_delta(&s->before, &s->c[2], NULL);
		counted = c->tcp ? d.bytes / size : d.dropped;
	} else {
		in_window = c->tcp ? (s->a[1].bytes - s->a[0].bytes) / size
				   : s->a[1].packets - s->a[0].packets;
		counted = c->tcp ? (s->a[2].bytes - s->abefore.bytes) / size : app_packets;
		for (int k = 0; k < OLAB_MAX_CPUS; k++)
			per_cpu[k] = s->a[1].cpu_packets[k] - s->a[0].cpu_packets[k];
		cpu = s->a[1].cpu;
	}
	t->v[0] = win_ns ? in_window * 1e9 / (double)win_ns : 0;
	t->detail = json_pack("{s:f, s:I, s:I, s:I, s:I, s:i, s:o}", "pps", t->v[0],
			      "sent", (json_int_t)r->sent, "arrived", (json_int_t)arrived,
			      "dropped", (json_int_t)counted, "app_received", (json_int_t)app_packets,
			      "cpu", cpu, "per_cpu", per_cpu_json(per_cpu));
	if (!t->warmup) {
		sc->sent += r->sent;
		sc->counted += counted;
		sc->app_received += app_packets;
	}
}

/* Pass: what the app read. */
static void pass_figures(struct bench_cell *c, struct sink_snaps *s, struct gen_result *r,
			 uint64_t win_ns, struct bench_trial *t)
{
	uint64_t app_bytes = s->a[2].bytes;
	/* TCP: every byte written reached the app (UDP may overflow the socket). */
	bool delivered = !c->tcp || app_bytes == r->bytes;

	if (c->tcp)
		t->v[0] = (s->a[1].bytes - s->a[0].bytes) / (double)c->size * 1e9 / (double)win_ns;
	else
		t->v[0] = (s->a[1].packets - s->a[0].packets) * 1e9 / (double)win_ns;
	t->detail = json_pack("{s:I, s:I, s:I, s:b}", "sent_bytes", (json_int_t)r->bytes,
			      "app_bytes", (json_int_t)app_bytes, "program_passed",
			      (json_int_t)(s->hi ? hook_counters_sum(s->hi).passed : 0),
			      "delivered_all", delivered);
}

/* One trial: the app (and the program, in the main arm) for one window. */
static int sink_trial(struct bench_cell *c, struct bench_trial *t, enum hook_action action)
{
	struct sink_cell *sc = c->priv;
	struct sink_snaps *s = calloc(1, sizeof(*s));
	struct gen_result *r = calloc(1, sizeof(*r));
	uint64_t win_ns = 0, rx0 = 0, rx1 = 0;
	int err = -ENOMEM;

	if (!s || !r)
		goto out;
	err = 0;
	if (t->arm == ARM_MAIN && hook_has_program(c->hook))
		err = hook_attach(c->hook, action, &sc->t.dut, sc->t.if_dut, GEN_DPORT, &s->hi);
	/* The app listens even when the hook drops: it must get nothing. */
	if (!err)
		err = bench_cell_app(c, &sc->t, c->tcp ? APP_TCP_SINK : APP_UDP_SINK, 1, s->hi,
				     &s->app);
	if (!err)
		err = link_get_rx_stats(&sc->t.dut, sc->t.if_dut, &rx0, NULL);
	if (!err) {
		sink_snap(s, 0);
		s->before = s->c[0];
		s->abefore = s->a[0];
	}
	if (!err)
		err = bench_measure(&sc->t, c->tcp ? GEN_MODE_TCP : GEN_MODE_LIVE, c->size, t->ms,
				    sink_snap, s, r, &win_ns);
	if (!err)
		err = link_get_rx_stats(&sc->t.dut, sc->t.if_dut, &rx1, NULL);
	if (err)
		goto out;
	if (action == HOOK_DROP)
		drop_figures(c, s, r, win_ns, rx1 - rx0, t);
	else
		pass_figures(c, s, r, win_ns, t);
out:
	if (s) {
		rt_app_free(s->app);
		hook_detach(s->hi);
	}
	free(s);
	free(r);
	return err;
}

static int sink_setup(struct bench_cell *c)
{
	struct sink_cell *sc = c->priv;

	return bench_topo_up(c->layout, &sc->t);
}

static void sink_teardown(struct bench_cell *c)
{
	struct sink_cell *sc = c->priv;

	topo_down(&sc->t);
}

static json_t *sink_extra(struct bench_cell *c)
{
	struct sink_cell *sc = c->priv;

	return json_pack("{s:o, s:s, s:s}", "layout", bench_layout_json(c->layout, &sc->t),
			 "attach_mode", c->hook->attach_mode, "traffic",
			 c->tcp ? "TCP clients, 4 connections, fixed-size requests" : "live-frames UDP");
}

/* A sink bench's own methods p_applies, p_plan, p_trial, p_report. */
#define SINK_METHODS(p) \
	.priv_size = sizeof(struct sink_cell), .applies = p##_applies, .plan = p##_plan, \
	.setup = sink_setup, .trial = p##_trial, .report = p##_report, .teardown = sink_teardown

/* ---- drop ---------------------------------------------------------------- */

/* Every hook and both baselines; a program's drops on the receive CPU. */
static bool drop_applies(const struct bench_cell *c)
{
	return !hook_has_program(c->hook) || c->layout == LAYOUT_RX_CPU1 || c->given[AXIS_LAYOUT];
}

static void drop_plan(struct bench_cell *c)
{
	c->variant = hook_has_program(c->hook) ? NULL : bench_layout_name(c->layout);
	if (!c->warmup_ms)
		c->warmup_ms = 50; /* connections up, queues filled */
}

static int drop_trial(struct bench_cell *c, struct bench_trial *t)
{
	return sink_trial(c, t, HOOK_DROP);
}

static int drop_report(struct bench_cell *c, const struct bench_series *s)
{
	struct sink_cell *sc = c->priv;
	const struct hook_desc *h = c->hook;
	bool program = hook_has_program(h);
	json_t *extra = sink_extra(c);

	json_object_update_new(extra, json_pack("{s:I, s:I, s:I, s:b, s:O}",
		"sent", (json_int_t)sc->sent, "dropped", (json_int_t)sc->counted,
		"app_received", (json_int_t)sc->app_received,
		"app_got_nothing", !program || sc->app_received == 0,
		"per_trial", s->detail[ARM_MAIN]));
	if (program && sc->app_received)
		pr_warn("drop %s: the app received %llu packets although the hook drops\n", h->name,
			(unsigned long long)sc->app_received);
	bench_figure(c, c->variant, "pps", c->tcp ? "requests/s" : "packets/s",
		     !program ? "app counts what it receives and drops it, per second of sending"
		     : c->tcp ? "bytes the verdict dropped / request size, per second of sending"
			      : "program's per-CPU drop counter, per second of sending",
		     s->v[ARM_MAIN][0], s->n[ARM_MAIN], extra);
	return 0;
}

static const struct bench bench_drop = {
	.name = "drop",
	.summary = "max benefit: pps when the hook drops every request, vs a socket app",
	.order = 20,
	.axes = {
		[AXIS_LAYOUT] = { "app-shares-rx-cpu,app-own-cpu" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "drop" },
	SINK_METHODS(drop),
};
DEFINE_BENCH(bench_drop);

/* ---- pass ---------------------------------------------------------------- */

/* Programs with the app on its own CPU, TCP (and UDP below the stream
 * hooks); the baselines with their own protocol in both layouts. */
static bool pass_applies(const struct bench_cell *c)
{
	const struct hook_desc *h = c->hook;

	if (!hook_has_program(h))
		return hook_sees_proto(h, c->tcp ? HOOK_PROTO_TCP : HOOK_PROTO_UDP);
	return (c->layout == LAYOUT_APP_OWN_CPU || c->given[AXIS_LAYOUT]) &&
	       hook_sees_proto(h, c->tcp ? HOOK_PROTO_TCP : HOOK_PROTO_UDP);
}

static void pass_plan(struct bench_cell *c)
{
	if (!hook_has_program(c->hook)) {
		c->variant = bench_layout_name(c->layout);
		return;
	}
	/* TCP is the seed's figure (no variant). */
	c->variant = c->tcp ? NULL : "udp";
	c->arms |= ARM_BIT(ARM_REF);
	c->pairing = PAIR_REF_FIRST;
	c->compare = CMP_COST_PCT;
}

static int pass_trial(struct bench_cell *c, struct bench_trial *t)
{
	return sink_trial(c, t, HOOK_COUNT_PASS);
}

static bool all_delivered(const struct bench_series *s, enum bench_arm a)
{
	bool all = true;

	for (size_t i = 0; i < json_array_size(s->detail[a]); i++)
		all &= json_is_true(json_object_get(json_array_get(s->detail[a], i), "delivered_all"));
	return all;
}

static json_t *pass_pairs(const struct bench_series *s)
{
	json_t *pairs = json_array();

	for (size_t i = 0; i < s->n[ARM_MAIN]; i++) {
		json_t *p = json_pack("{s:f, s:f, s:f}", "no_program_pps", s->v[ARM_REF][0][i],
				      "program_pps", s->v[ARM_MAIN][0][i], "cost_pct", s->cmp[0][i]);

		json_object_update(p, json_array_get(s->detail[ARM_MAIN], i));
		json_array_append_new(pairs, p);
	}
	return pairs;
}

static int pass_report(struct bench_cell *c, const struct bench_series *s)
{
	bool program = c->arms & ARM_BIT(ARM_REF);
	bool delivered = all_delivered(s, ARM_MAIN) && (!program || all_delivered(s, ARM_REF));
	const char *unit = c->tcp ? "requests/s" : "packets/s";
	json_t *extra = sink_extra(c);

	if (!delivered)
		pr_warn("pass %s: the app did not get every byte that was sent (see delivered_all)%s%s\n",
			c->hook->name, c->hook->known_issue ? "; " : "",
			c->hook->known_issue ? c->hook->known_issue : "");
	json_object_set_new(extra, "delivered_all", json_boolean(delivered));
	bench_figure(c, c->variant, "pps", unit,
		     c->tcp ? "bytes the app read / request size, per second"
			    : "datagrams the app read per second",
		     s->v[ARM_MAIN][0], s->n[ARM_MAIN], extra);
	if (!program)
		return 0;
	bench_figure(c, c->variant ? c->variant : "tcp", "pps_no_program", unit,
		     "the same app with no program, paired trials", s->v[ARM_REF][0], s->n[ARM_REF],
		     json_pack("{s:b}", "primary", 0));
	bench_figure(c, c->variant, "cost_pct", "%",
		     "1 - program pps / no-program pps, per pair of trials", s->cmp[0], s->n[ARM_MAIN],
		     json_pack("{s:o}", "pairs", pass_pairs(s)));
	return 0;
}

static const struct bench bench_pass = {
	.name = "pass",
	.summary = "min cost: pps of a socket app when the hook just passes, vs no program",
	.order = 30,
	.axes = {
		[AXIS_LAYOUT] = { "app-shares-rx-cpu,app-own-cpu" },
		[AXIS_PROTO] = { "tcp,udp" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "program", [ARM_REF] = "no program" },
	SINK_METHODS(pass),
};
DEFINE_BENCH(bench_pass);
