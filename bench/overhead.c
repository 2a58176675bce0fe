/*
 * bench overhead: ns per packet to enter and leave a hook with an empty
 * program, three ways, each with its 95% CI:
 *  - delta: per-packet cost on the saturated receive CPU with the program
 *    minus without it, same path, same CPU.  Packet hooks: in one stream of
 *    live frames the loaded program is attached and detached every window,
 *    so each pair of adjacent windows shares the machine's state; stream
 *    hooks: paired phases;
 *  - bpf_stats: run_time_ns / run_cnt with BPF_ENABLE_STATS on (the program
 *    alone, plus the accounting's own cost);
 *  - test_run: BPF_PROG_TEST_RUN with a large repeat (the program alone).
 * Packet hooks get live frames of an EtherType no protocol handles: the
 * cheapest complete receive path, so the program's share is largest (they
 * end right after the tc hook, counted as rx_nohandler); stream hooks
 * measure TCP requests through the app sharing the receive CPU.
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bench/bench.h"
#include "bench/overhead.h"
#include "lib/counters.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "lib/stats.h"

#define NOSOCK_PORT 7778 /* no socket listens here */
#define RAW_ETHERTYPE 0x88b5 /* IEEE local experimental: no protocol handler */
#define TEST_RUN_REPEAT 1000000
#define LEAD_MS 100          /* generator and NAPI at full speed */
#define MIN_BUSY 0.95        /* a saturated NAPI kthread runs >= 95% of the time */
#define TARGET_HALFWIDTH_NS 5.0 /* the CI wanted for the packet hooks' delta */

struct phase_snaps {
	struct hook_inst *hi;
	struct rt_app *app;
	bool failed;             /* a counter could not be read */
	struct app_stats a[3];
	struct bpf_prog_info info[3];
};

static void phase_snap(void *arg, int when)
{
	struct phase_snaps *s = arg;
	uint32_t len = sizeof(s->info[0]);

	rt_app_read(s->app, &s->a[when]);
	if (s->hi && bpf_obj_get_info_by_fd(hook_prog_fd(s->hi), &s->info[when], &len))
		s->failed = true;
}

struct phase_out {
	double ns_per_pkt;      /* wall time per request on the saturated receive CPU */
	double stats_ns;        /* run_time_ns / run_cnt (when stats were on) */
	bool saturated;
	bool delivered_all;     /* every byte reached the app */
};

/* One TCP phase: no program, the empty program, or it with bpf_stats on. */
static int overhead_phase(struct bench_cell *c, const struct topo *t, bool program, bool stats,
			  uint64_t ms, struct phase_out *out)
{
	struct phase_snaps *s = calloc(1, sizeof(*s));
	struct gen_result *r = calloc(1, sizeof(*r));
	struct hook_opts ho = { .port = GEN_DPORT };
	uint64_t size = c->size, win = 0, got = 0;
	int stats_fd = -1, err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!s || !r)
		goto out;
	if (program) {
		err = hook_attach_opts(c->hook, HOOK_EMPTY, &t->dut, t->if_dut, &ho, &s->hi);
		if (err)
			goto out;
	}
	err = bench_cell_app(c, t, APP_TCP_SINK, 1, s->hi, &s->app);
	if (err)
		goto out;
	if (stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			err = -errno;
			goto out;
		}
	}
	err = bench_measure(t, GEN_MODE_TCP, size, ms, phase_snap, s, r, &win);
	if (err)
		goto out;
	got = (s->a[1].bytes - s->a[0].bytes) / size;
	out->delivered_all = s->a[2].bytes == r->bytes;
	out->saturated = true; /* closed loop: the app and rx share CPU 1 */
	if (s->failed || !got) {
		err = -EIO; /* unreadable, or nothing arrived: not a measurement */
		goto out;
	}
	out->ns_per_pkt = (double)win / (double)got;
	if (stats && s->info[1].run_cnt <= s->info[0].run_cnt) {
		err = -EIO; /* the program did not run: no bpf_stats figure */
		goto out;
	}
	if (stats)
		out->stats_ns = (double)(s->info[1].run_time_ns - s->info[0].run_time_ns) /
				(double)(s->info[1].run_cnt - s->info[0].run_cnt);
out:
	if (stats_fd >= 0)
		close(stats_fd);
	if (s) {
		rt_app_free(s->app);
		hook_detach(s->hi);
	}
	free(s);
	free(r);
	return err;
}


struct overhead_cell {
	struct topo t;
	bool raw;                 /* the hook sees frames: one toggled stream */
	/* raw: the stream, the program (toggled), the clock */
	struct bench_traffic *tr;
	struct gen_result *gen;
	struct rx_clock clk;
	struct hook_inst *hi;
	uint64_t t_first;
	int stats_fd;
	cpu_set_t saved_cpus;
	bool pinned;
	int traffic_err;          /* the stream did not cover every window */
	double busy;              /* NAPI CPU time / wall time over every window */
	uint64_t xmit_errors;
};

/* Stream hooks: requests through the app sharing the receive CPU. */
static bool overhead_applies(const struct bench_cell *c)
{
	return hook_has_program(c->hook);
}

/*
 * This VM's receive path switches between a fast and a slow state for
 * seconds to minutes at a time (about 365 vs 500 ns per frame here, with
 * the hook's own cost several times larger in the slow one); steal, DAMON
 * and CPU sharing stay flat across the switch.  Trials are split by their
 * no-program cost (the framework's regime split); the figure is the quiet
 * state's, the slow state's is reported beside it.
 */
static void overhead_plan(struct bench_cell *c)
{
	bool raw = hook_on_device(c->hook);

	c->arms = ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF) | ARM_BIT(ARM_POST1);
	if (c->hook->test_run)
		c->arms |= ARM_BIT(ARM_POST2);
	c->compare = CMP_DELTA;
	if (raw) {
		/* Many short windows in one stream, extended when the CI is wide. */
		c->pairing = PAIR_SANDWICH;
		c->regime_split = true;
		c->ci_target = TARGET_HALFWIDTH_NS;
		c->trials = c->trials ? c->trials : c->quick ? 9 : 30;
		c->duration_ms = c->duration_ms ? c->duration_ms : 50;
	} else {
		/* Each phase is its own TCP stream: fewer, longer. */
		c->pairing = PAIR_ALTERNATE;
		c->trials = c->trials ? c->trials : c->quick ? 3 : 15;
		c->duration_ms = c->duration_ms ? c->duration_ms : c->quick ? 300 : 250;
	}
}

/* The toggles and reads run on CPU 0, beside the generator, so CPU 1 stays
 * the NAPI kthread's alone; the program is loaded, off; frames flow. */
static int raw_setup(struct bench_cell *c, struct overhead_cell *o)
{
	struct hook_opts ho = { .port = NOSOCK_PORT };
	/* Up to 6x the trials of 3 windows (extended), the bpf_stats ones, warm-up. */
	size_t windows = c->trials * (6 * 3 + 1);
	uint64_t ms = c->duration_ms, max_ms;
	int err;

	if (!sched_getaffinity(0, sizeof(o->saved_cpus), &o->saved_cpus)) {
		err = pin_thread_cpu(0);
		if (err)
			return err;
		o->pinned = true;
	}
	o->clk.n = link_napi_threads(o->t.if_dut, o->clk.pids, MAX_NAPI_THREADS);
	if (o->clk.n <= 0)
		return o->clk.n ? o->clk.n : -ESRCH;
	err = link_stats_open(&o->t.dut, o->t.if_dut, &o->clk.stats);
	if (!err)
		err = hook_attach_opts(c->hook, HOOK_EMPTY, &o->t.dut, o->t.if_dut, &ho, &o->hi);
	if (!err)
		err = hook_set_attached(o->hi, false);
	if (err)
		return err;
	/* A bound, not the plan: the stream is stopped when the windows are
	 * done.  Generous (slow toggles, valgrind), still finite. */
	max_ms = 4 * (LEAD_MS + 2 * c->warmup_ms + windows * (ms + TOGGLE_SETTLE_MS + 100)) + 60000;
	err = bench_traffic_start(&o->t, c->size, RAW_ETHERTYPE, max_ms, o->gen, &o->tr);
	if (err)
		return err;
	sleep_ns(LEAD_MS * 1000000ull);
	err = wait_frames(&o->clk);
	o->t_first = now_ns();
	return err;
}

static int overhead_setup(struct bench_cell *c)
{
	struct overhead_cell *o = c->priv;
	int err;

	o->raw = hook_on_device(c->hook);
	o->stats_fd = -1;
	o->gen = calloc(1, sizeof(*o->gen));
	if (!o->gen)
		return -ENOMEM;
	err = bench_topo_up(LAYOUT_RX_CPU1, &o->t);
	if (!err && o->raw)
		err = raw_setup(c, o);
	return err;
}

/* Stop the stream: the windows are done.  Its coverage is kept for the report. */
static void raw_stop(struct overhead_cell *o)
{
	if (!o->tr)
		return;
	o->traffic_err = bench_traffic_stop(o->tr, o->t_first, now_ns());
	o->tr = NULL;
	o->xmit_errors = o->gen->xmit_errors;
	o->busy = o->clk.wall_sum > 0 ? o->clk.cpu_sum / o->clk.wall_sum : 0;
	pr_debug("overhead: NAPI busy %.3f, ring overflows %llu, slowest rx read %llu ns\n", o->busy,
		 (unsigned long long)o->xmit_errors, (unsigned long long)o->clk.max_span_ns);
}

/* bpf_stats windows with the program on, then the stream ends. */
static int raw_stats(struct bench_cell *c, struct overhead_cell *o, struct bench_trial *t)
{
	struct window w;
	int err = 0;

	if (o->stats_fd < 0) {
		err = hook_set_attached(o->hi, true);
		if (!err && (o->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME)) < 0)
			err = -errno;
		sleep_ns(TOGGLE_SETTLE_MS * 1000000ull);
	}
	if (!err)
		err = window_measure(&o->clk, t->ms, hook_prog_fd(o->hi), &w);
	t->v[0] = w.stats_ns;
	if (err || t->index + 1 == c->trials) {
		close(o->stats_fd);
		o->stats_fd = -1;
		raw_stop(o);
	}
	return err;
}

/* The program alone: BPF_PROG_TEST_RUN of the loaded program, ns per run. */
static int test_run(struct bench_cell *c, struct overhead_cell *o, struct bench_trial *t)
{
	struct gen_frame_spec spec;
	uint8_t frame[1514];
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .repeat = TEST_RUN_REPEAT);

	err = gen_frame_spec_topo(&o->t, 4, c->size, NOSOCK_PORT, &spec);
	if (!err)
		err = gen_build_frame(&spec, frame, sizeof(frame), NULL);
	if (err)
		return err;
	opts.data_size_in = c->size;
	if (bpf_prog_test_run_opts(hook_prog_fd(o->hi), &opts)) {
		err = -errno;
		snprintf(t->why, sizeof(t->why), "BPF_PROG_TEST_RUN: %s", strerror(-err));
		return -EOPNOTSUPP;
	}
	t->v[0] = opts.duration;
	return 0;
}

static int overhead_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct overhead_cell *o = c->priv;
	struct phase_out p;
	struct window w;
	int err;

	if (t->arm == ARM_POST2)
		return test_run(c, o, t);
	if (o->raw && t->arm == ARM_POST1)
		return raw_stats(c, o, t);
	if (o->raw) {
		err = toggled_window(o->hi, &o->clk, t->ms, t->arm == ARM_MAIN, &w);
		t->v[0] = w.ns_per_pkt;
		return err;
	}
	err = overhead_phase(c, &o->t, t->arm != ARM_REF, t->arm == ARM_POST1, t->ms, &p);
	t->v[0] = t->arm == ARM_POST1 ? p.stats_ns : p.ns_per_pkt;
	t->detail = json_pack("{s:b, s:b}", "saturated", p.saturated, "delivered_all",
			      p.delivered_all);
	return err;
}

static void overhead_teardown(struct bench_cell *c)
{
	struct overhead_cell *o = c->priv;

	if (o->tr)
		bench_traffic_stop(o->tr, 0, 0);
	if (o->stats_fd >= 0)
		close(o->stats_fd);
	link_stats_close(o->clk.stats);
	hook_detach(o->hi);
	if (o->pinned)
		sched_setaffinity(0, sizeof(o->saved_cpus), &o->saved_cpus);
	topo_down(&o->t);
	free(o->gen);
}

static bool overlap(double m1, double h1, double m2, double h2)
{
	return m1 - h1 <= m2 + h2 && m2 - h2 <= m1 + h1;
}

static double halfwidth(const double *x, size_t n, double *med)
{
	struct summary s;

	if (summarize(x, n, &s)) {
		*med = NAN;
		return INFINITY;
	}
	*med = s.median;
	return (s.ci_hi - s.ci_lo) / 2;
}

#define PACKET_METHOD "delta: wall time per frame on the saturated receive CPU (threaded NAPI alone on CPU 1), empty program minus none; the program attached and detached every window of one live-frames stream"
#define STREAM_METHOD "delta: time per request on the saturated receive CPU, empty program minus none, paired phases"

/* Each trial's windows or phases, as measured. */
static json_t *phases_json(const struct overhead_cell *o, const struct bench_series *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n[ARM_MAIN]; i++) {
		double np = s->v[ARM_REF][0][i], p = s->v[ARM_MAIN][0][i];
		json_t *d0 = json_array_get(s->detail[ARM_MAIN], i);
		json_t *d1 = json_array_get(s->detail[ARM_REF], i);

		if (o->raw)
			json_array_append_new(a, json_pack("{s:s, s:[f, f, f], s:f, s:f}",
				"order", s->main_first[i] ? "on,off,on" : "off,on,off",
				"ns_per_pkt", s->seq[i][0], s->seq[i][1], s->seq[i][2],
				"no_program_ns_per_pkt", np, "program_ns_per_pkt", p));
		else
			json_array_append_new(a, json_pack("{s:f, s:f, s:f, s:b, s:b}",
				"no_program_ns_per_req", np, "program_ns_per_req", p,
				"bpf_stats_ns_per_run", i < s->n[ARM_POST1] ? s->v[ARM_POST1][0][i] : NAN,
				"saturated", json_is_true(json_object_get(d0, "saturated")) &&
					     json_is_true(json_object_get(d1, "saturated")),
				"delivered_all", json_is_true(json_object_get(d0, "delivered_all")) &&
						 json_is_true(json_object_get(d1, "delivered_all"))));
	}
	return a;
}

static bool all_true(const json_t *phases, const char *key)
{
	bool all = true;

	for (size_t i = 0; i < json_array_size(phases); i++)
		all &= json_is_true(json_object_get(json_array_get(phases, i), key));
	return all;
}

static json_t *regime_json(const struct bench_cell *c, const struct bench_series *s)
{
	json_t *r = json_pack("{s:i, s:I, s:I, s:I, s:f, s:f, s:f, s:b, s:b}",
		"states", s->regime.two_states ? 2 : 1, "trials", (json_int_t)s->n[ARM_MAIN],
		"quiet_trials", (json_int_t)s->regime.nquiet, "slow_trials", (json_int_t)s->regime.nslow,
		"threshold_ns", s->regime.threshold, "quiet_no_program_ns", s->regime.quiet_ref,
		"target_halfwidth_ns", c->ci_target, "extended", s->n[ARM_MAIN] > s->planned,
		"target_met", s->regime.target_met);

	if (s->regime.two_states)
		json_object_set_new(r, "slow_no_program_ns", json_real(s->regime.slow_ref));
	return r;
}

/* How the methods agree: delta vs bpf_stats; bpf_stats vs test_run. */
static json_t *agreement_json(const struct bench_series *s, double *hd)
{
	double md, ms, mt, hs, ht;
	json_t *a;

	*hd = halfwidth(s->regime.quiet, s->regime.nquiet, &md);
	hs = halfwidth(s->v[ARM_POST1][0], s->n[ARM_POST1], &ms);
	a = json_pack("{s:s, s:f}", "delta_vs_bpf_stats",
		      overlap(md, *hd, ms, hs) ? "agree (CIs overlap)" : "differ", "difference_ns",
		      md - ms);
	/* Two methods of the program alone; bpf_stats also pays for its own
	 * accounting (two clock reads per run). */
	if (s->n[ARM_POST2]) {
		ht = halfwidth(s->v[ARM_POST2][0], s->n[ARM_POST2], &mt);
		json_object_set_new(a, "bpf_stats_vs_test_run", json_pack("{s:s, s:f}", "verdict",
			overlap(ms, hs, mt, ht) ? "agree (CIs overlap)" : "differ",
			"difference_ns", ms - mt));
	}
	return a;
}

static void overhead_warnings(const struct bench_cell *c, const struct bench_series *s,
			      bool saturated, bool delivered, double hd)
{
	const struct hook_desc *h = c->hook;

	if (!saturated)
		pr_warn("overhead %s: the receive CPU was not saturated; delta is a lower bound\n",
			h->name);
	if (!delivered)
		pr_warn("overhead %s: the app did not get every byte (stalled stream)%s%s\n", h->name,
			h->known_issue ? ": " : "", h->known_issue ? h->known_issue : "");
	if (s->regime.two_states)
		pr_info("overhead %s: %zu of %zu trials ran in the machine's slow state (no-program cost above %.0f ns); reported apart\n",
			h->name, s->regime.nslow, s->n[ARM_MAIN], s->regime.threshold);
	if (c->ci_target > 0 && !s->regime.target_met && !c->quick && c->trials_default)
		pr_warn("overhead %s: CI half-width %.1f ns, above the %.0f ns target\n", h->name, hd,
			c->ci_target);
}

static void other_methods(struct bench_cell *c, const struct bench_series *s)
{
	char why[160];

	bench_figure(c, NULL, "ns_per_run", "ns",
		     "bpf_stats: run_time_ns / run_cnt with BPF_ENABLE_STATS (program alone + accounting)",
		     s->v[ARM_POST1][0], s->n[ARM_POST1], json_pack("{s:b}", "primary", 0));
	bench_figure(c, NULL, "ns_per_packet_no_program", "ns",
		     "per-packet cost of the whole path with no program, every trial (context for the delta)",
		     s->v[ARM_REF][0], s->n[ARM_REF], json_pack("{s:b}", "primary", 0));
	if (s->n[ARM_POST2]) {
		bench_figure(c, NULL, "ns_per_run_test_run", "ns",
			     "BPF_PROG_TEST_RUN, repeat 1000000 (program alone)", s->v[ARM_POST2][0],
			     s->n[ARM_POST2], json_pack("{s:b}", "primary", 0));
		return;
	}
	if (s->unsupported[ARM_POST2][0])
		snprintf(why, sizeof(why), "%s", s->unsupported[ARM_POST2]);
	else
		snprintf(why, sizeof(why), "%s", c->hook->no_test_run);
	bench_figure(c, NULL, "ns_per_run_test_run", "ns", why, NULL, 0,
		     json_pack("{s:b, s:s}", "primary", 0, "unsupported", why));
}

static int overhead_report(struct bench_cell *c, const struct bench_series *s)
{
	struct overhead_cell *o = c->priv;
	json_t *phases = phases_json(o, s), *extra;
	bool saturated = o->raw ? o->busy >= MIN_BUSY && o->xmit_errors > 0 : all_true(phases, "saturated");
	bool delivered = o->raw || all_true(phases, "delivered_all");
	double hd;

	if (o->traffic_err) {
		json_decref(phases);
		return o->traffic_err;
	}
	extra = json_pack("{s:o, s:s, s:s, s:b, s:b, s:o}",
		"layout", bench_layout_json(LAYOUT_RX_CPU1, &o->t), "attach_mode", c->hook->attach_mode,
		"path", o->raw ? "live frames of EtherType 0x88b5, counted by the DUT veth (rx_packets), dropped for want of a handler after the hook"
			       : "TCP requests to the sink app on the receive CPU",
		"saturated", saturated, "delivered_all", delivered, "phases", phases);
	json_object_set_new(extra, "agreement", agreement_json(s, &hd));
	json_object_set_new(extra, "ci_halfwidth_ns", json_real(hd));
	if (o->raw) {
		json_object_set_new(extra, "regimes", regime_json(c, s));
		json_object_set_new(extra, "napi_busy", json_real(o->busy));
	}
	overhead_warnings(c, s, saturated, delivered, hd);
	bench_figure(c, NULL, "ns_per_packet", "ns",
		     !o->raw ? STREAM_METHOD : s->regime.two_states ?
		     PACKET_METHOD "; trials in the quiet state" : PACKET_METHOD,
		     s->regime.quiet, s->regime.nquiet, extra);
	if (s->regime.two_states)
		bench_figure(c, "slow-state", "ns_per_packet", "ns",
			     PACKET_METHOD "; trials in the slow state", s->regime.slow,
			     s->regime.nslow, json_pack("{s:b}", "primary", 0));
	other_methods(c, s);
	return 0;
}

static const struct bench bench_overhead = {
	.name = "overhead",
	.summary = "ns per packet to enter and leave each hook with an empty program",
	.order = 10,
	.arm_names = { [ARM_MAIN] = "program", [ARM_REF] = "no program",
		       [ARM_POST1] = "bpf_stats", [ARM_POST2] = "test_run" },
	BENCH_METHODS(overhead, struct overhead_cell),
};
DEFINE_BENCH(bench_overhead);
