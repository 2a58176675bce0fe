/*
 * bench summarize: pct % of each request reaches the app as its summary.
 *  - offload (main): bpf/summarize.bpf.c at the hook shrinks or drops the
 *    request, the app reads the summaries;
 *  - user space (ref): no program, the app receives whole requests and
 *    copies pct % of each into a buffer (and checksums it);
 *  - none (post1, at pct 100 only): whole requests, nothing done.
 * UDP at the packet hooks and at sk-skb-verdict (requests over 1464 B span
 * several datagrams: the program keeps per-flow state and passes one
 * summary per request); TCP at the stream hooks.  A hook below TCP must
 * not change sizes or drop (the research plan), so xdp/tc have no TCP
 * cells; a stream parser needs TCP, so sk-skb-parser has no UDP cells.
 * Per trial: requests/s the app finished, CPU ns per request on each CPU
 * and the app's; per pair of trials the speedup offload / user space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bench/cpu_time.h"
#include "bench/summarize.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "summarize.skel.h"

#define LEAD_MS      10
#define APP_CPU      1
#define COUNT_WINDOW 32   /* requests in flight in a fixed-count UDP run */

enum { M_RPS, M_CPU0, M_CPU1, M_APP };

struct sum_cell {
	struct topo t;
	struct summarize *skel;
	struct hook_prog hp;
	struct hook_inst *hi;
};

static struct sum_counters prog_sum(const struct sum_cell *sc)
{
	struct sum_counters out = { 0 };
	uint64_t *o = (uint64_t *)&out;

	for (int k = 0; k < OLAB_MAX_CPUS; k++) {
		const volatile uint64_t *v = (const volatile uint64_t *)&sc->skel->bss->counters[k];

		for (size_t i = 0; i < sizeof(out) / sizeof(uint64_t); i++)
			o[i] += v[i];
	}
	return out;
}

/* TCP at the verdict without a parser: summaries of skbs, not requests. */
static bool stream_unframed(const struct bench_cell *c)
{
	return hook_on_sockmap(c->hook) && !c->hook->parser && c->tcp;
}

static bool sum_applies(const struct bench_cell *c)
{
	const struct hook_desc *h = c->hook;

	if (!hook_has_program(h))
		return false; /* the user-space arm is the baseline */
	/* A hook below TCP must not change sizes or drop (the plan's rule). */
	if (hook_on_device(h))
		return !c->tcp;
	/* UDP sockets in a sockhash: a verdict per datagram, no parser. */
	if (!c->tcp)
		return !h->parser;
	/* TCP without a parser has no requests to summarize (per-skb summaries):
	 * measured when asked for by --hook or --proto. */
	return h->parser || c->given[AXIS_HOOK] || c->given[AXIS_PROTO];
}

static void sum_plan(struct bench_cell *c)
{
	c->variant = bench_layout_name(c->layout);
	c->arms = ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF);
	if (c->pct == 100)
		c->arms |= ARM_BIT(ARM_POST1);
	c->pairing = PAIR_ALTERNATE;
	c->compare = CMP_NONE;
	/* 336 cells in the full run: short windows keep it near 5 minutes. */
	if (c->trials_default)
		c->trials = c->quick ? 2 : 3;
	if (!c->duration_ms)
		c->duration_ms = c->quick ? 120 : 60;
	if (!c->warmup_ms || c->warmup_ms > 100)
		c->warmup_ms = 20;
}

static int sum_setup(struct bench_cell *c)
{
	struct sum_cell *sc = c->priv;
	const struct hook_desc *h = c->hook;
	int err = bench_topo_up(c->layout, &sc->t);

	if (err)
		return err;
	sc->skel = summarize__open();
	if (!sc->skel)
		return -errno ? -errno : -ENOMEM;
	sc->skel->rodata->bench_port = GEN_DPORT;
	sc->skel->rodata->pct = c->pct;
	sc->skel->rodata->req_size = (uint32_t)c->size;
	sc->skel->rodata->parser_on = h->parser;
	sc->skel->rodata->udp_sock = hook_on_sockmap(h) && !c->tcp;
	err = hook_pick_progs(h, sc->skel->obj, "summarize", &sc->hp);
	if (!err)
		err = summarize__load(sc->skel);
	if (err) {
		pr_warn("summarize: loading the %s program: %s\n", h->name, strerror(-err));
		return err;
	}
	sc->hp.sockmap_fd = bpf_map__fd(sc->skel->maps.sockmap);
	return hook_attach_prog(h, &sc->hp, &sc->t.dut, sc->t.if_dut, &sc->hi);
}

static void sum_teardown(struct bench_cell *c)
{
	struct sum_cell *sc = c->priv;

	hook_detach(sc->hi);
	sc->hi = NULL;
	summarize__destroy(sc->skel);
	sc->skel = NULL;
	topo_down(&sc->t);
}

/* The program only in the offload arm: packet hooks come off the device,
 * stream hooks stay (the app puts its sockets in the sockhash only then). */
static int arm_program(struct bench_cell *c, enum bench_arm arm)
{
	struct sum_cell *sc = c->priv;

	return hook_on_device(c->hook) ? hook_set_attached(sc->hi, arm == ARM_MAIN) : 0;
}

static int start_app(struct bench_cell *c, enum bench_arm arm, struct sum_app **app)
{
	struct sum_cell *sc = c->priv;
	struct sum_app_cfg cfg = {
		.tcp = c->tcp, .req_size = (uint32_t)c->size, .pct = c->pct,
		.framed = c->hook->parser, .port = GEN_DPORT, .cpu = APP_CPU,
		.sockmap_fd = arm == ARM_MAIN && hook_on_sockmap(c->hook) ? sc->hp.sockmap_fd : -1,
		.mode = arm == ARM_MAIN ? SUM_APP_SUMMARY : arm == ARM_REF ? SUM_APP_EXTRACT
									: SUM_APP_NONE,
	};
	int err = arm_program(c, arm);

	if (!err)
		err = sum_app_start(&cfg, &sc->t.dut, app);
	if (!err)
		err = sum_app_wait_ready(*app, 2000);
	return err;
}

/* Requests finished between two readings: the app's, plus the program's
 * p = 0 drops (offload).  Unframed TCP (verdict, no parser): the summary
 * bytes the app read / (pct % of a request), at p = 0 the program's bytes
 * / size. */
static uint64_t finished(const struct bench_cell *c, enum bench_arm arm,
			 const struct sum_app_stats *a0, const struct sum_app_stats *a1,
			 const struct sum_counters *p0, const struct sum_counters *p1)
{
	if (arm != ARM_MAIN)
		return a1->requests - a0->requests;
	if (stream_unframed(c) && !sum_len_of((uint32_t)c->size, c->pct))
		return (p1->bytes_in - p0->bytes_in) / c->size;
	if (stream_unframed(c))
		return (a1->summary_bytes - a0->summary_bytes) / sum_len_of((uint32_t)c->size, c->pct);
	return a1->requests - a0->requests + p1->requests_dropped - p0->requests_dropped;
}

struct count_ctx {
	const struct bench_cell *c;
	struct sum_app *app;
	enum bench_arm arm;
};

/* Requests finished so far: the closed loop's measure. */
static uint64_t count_done(void *arg)
{
	struct count_ctx *x = arg;
	struct sum_counters p0 = { 0 }, p1 = prog_sum(x->c->priv);
	struct sum_app_stats a0 = { 0 }, a1;

	sum_app_read(x->app, &a1);
	return finished(x->c, x->arm, &a0, &a1, &p0, &p1);
}


/* Requests in flight: UDP 256 datagrams (the veth ring's size), TCP 256 KiB. */
static uint32_t window_of(const struct bench_cell *c)
{
	uint32_t w = c->tcp ? (256u << 10) / (uint32_t)c->size : 256 / sum_segments((uint32_t)c->size);

	return w ? w : 1;
}

struct sum_win {
	struct sum_app_stats a[3];
	struct sum_counters p[3];
	struct cpu_times ct[2];
	uint64_t t0, t1;
	struct sum_send_result sent;
};

static void snap(struct sum_cell *sc, struct sum_app *app, struct sum_win *w, int when)
{
	sum_app_read(app, &w->a[when]);
	w->p[when] = prog_sum(sc);
	if (when < 2)
		cpu_times_read(app->proc.pid, &w->ct[when]);
}

/* One window of open-loop sending with the arm's app (and program). */
static int run_window(struct bench_cell *c, enum bench_arm arm, uint64_t ms, struct sum_win *w)
{
	struct sum_cell *sc = c->priv;
	struct count_ctx x = { .c = c, .arm = arm };
	struct sum_send_cfg sc_cfg = { .t = &sc->t, .tcp = c->tcp, .req_size = (uint32_t)c->size,
				       .max_ms = LEAD_MS + ms + 500, .window = window_of(c),
				       .done = count_done, .done_arg = &x };
	struct sum_sender *snd = NULL;
	struct sum_app *app = NULL;
	int err = start_app(c, arm, &app);

	x.app = app;
	if (!err && c->tcp && arm == ARM_MAIN)
		sc_cfg.wait_sockmap = app;
	if (!err)
		err = sum_send_start(&sc_cfg, &snd);
	if (!err) {
		sleep_ns(LEAD_MS * 1000000ull);
		w->t0 = now_ns();
		snap(sc, app, w, 0);
		run_sleep_ns(ms * 1000000ull);
		snap(sc, app, w, 1);
		w->t1 = now_ns();
		err = sum_send_stop(snd, &w->sent);
		sleep_ns(5000000); /* what is in flight, for the totals */
		snap(sc, app, w, 2);
	}
	sum_app_free(app);
	if (!err && run_stopping())
		err = -EINTR;
	return err;
}

static double cpu_ns(const struct cpu_times *a, const struct cpu_times *b, int cpu)
{
	return (double)(b->user_ns[cpu] - a->user_ns[cpu] + b->system_ns[cpu] - a->system_ns[cpu] +
			b->softirq_ns[cpu] - a->softirq_ns[cpu]);
}

static json_t *win_detail(const struct bench_cell *c, const struct sum_win *w, uint64_t req)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
		"requests_in_window", (json_int_t)req, "sent_requests", (json_int_t)w->sent.requests,
		"sent_datagrams", (json_int_t)w->sent.datagrams,
		"window_timeouts", (json_int_t)w->sent.window_timeouts,
		"app_requests", (json_int_t)w->a[2].requests,
		"app_summary_bytes", (json_int_t)w->a[2].summary_bytes,
		"app_incomplete", (json_int_t)w->a[2].incomplete,
		"app_missed_wakeups", (json_int_t)w->a[2].missed_wakeups,
		"prog_requests_done", (json_int_t)w->p[2].requests_done,
		"prog_requests_dropped", (json_int_t)w->p[2].requests_dropped,
		"prog_capped", (json_int_t)w->p[2].capped, "prog_errors", (json_int_t)w->p[2].errors,
		"cpu_per_request", cpu_times_per_request(&w->ct[0], &w->ct[1], req));
}

static int sum_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct sum_cell *sc = c->priv;
	struct sum_win *w = calloc(1, sizeof(*w));
	uint64_t req, win;
	int err;

	if (!w)
		return -ENOMEM;
	memset(sc->skel->bss->counters, 0, sizeof(sc->skel->bss->counters));
	err = run_window(c, t->arm, t->ms, w);
	if (err)
		goto out;
	req = finished(c, t->arm, &w->a[0], &w->a[1], &w->p[0], &w->p[1]);
	win = w->t1 - w->t0;
	t->v[M_RPS] = win ? req * 1e9 / (double)win : 0;
	t->v[M_CPU0] = req ? cpu_ns(&w->ct[0], &w->ct[1], 0) / req : 0;
	t->v[M_CPU1] = req ? cpu_ns(&w->ct[0], &w->ct[1], 1) / req : 0;
	t->v[M_APP] = req ? (double)(w->ct[1].task_ns - w->ct[0].task_ns) / req : 0;
	t->detail = win_detail(c, w, req);
	if (!req && !t->warmup)
		pr_warn("summarize %s size %llu pct %u: no request finished in the %s arm\n",
			c->hook->name, (unsigned long long)c->size, c->pct,
			t->arm == ARM_MAIN ? "offload" : "user-space");
out:
	free(w);
	return err;
}

static json_t *sum_extra(const struct bench_cell *c)
{
	const struct sum_cell *sc = c->priv;
	uint32_t size = (uint32_t)c->size, sum = sum_len_of(size, c->pct);
	uint32_t cap = c->tcp ? size : sum_final_chunk(size);

	return json_pack("{s:o, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:b, s:s}",
		"layout", bench_layout_json(c->layout, &sc->t), "attach_mode", c->hook->attach_mode,
		"proto", c->tcp ? "tcp" : "udp",
		"traffic", c->tcp ? "TCP, one connection from CPU 0, requests back to back; closed "
				    "loop: at most 256 KiB of requests not yet finished"
				  : "UDP from one socket on CPU 0 (sendmmsg); closed loop: at most "
				    "256 datagrams of requests not yet finished (a wait gives up "
				    "after 2 ms); each datagram starts with an 8-byte header (id, "
				    "segment, count)",
		"summary", c->tcp ? (c->hook->parser ? "parser cuts summary and rest; verdict "
						       "redirects the summary to the socket's ingress"
						     : "each skb shrunk to pct % (bpf_skb_change_tail), "
						       "no request framing")
				  : hook_on_sockmap(c->hook)
				  ? "verdict on the app's UDP socket: header + pct % of the request "
				    "(bpf_skb_change_tail), SK_PASS; multi-datagram requests: one summary "
				    "when the last segment arrives; a read may return several summaries"
				  : "header + pct % of the request; multi-datagram requests: "
				    "one summary when the last segment arrives",
		"request_bytes", (int)size, "segments", c->tcp ? 0 : (int)sum_segments(size),
		"summary_bytes_per_request", (int)(sum > cap ? cap : sum), "capped", sum > cap,
		"xdp_frags", "not needed: MTU 1500 and every datagram <= MTU (no multi-buffer)");
}

static int sum_report(struct bench_cell *c, const struct bench_series *s)
{
	return summarize_report(c, s, sum_extra(c));
}

static const struct bench bench_summarize = {
	.name = "summarize",
	.summary = "pass p % of each request as its summary: at the hook vs in user space",
	.order = 60,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc,sk-skb-verdict,sk-skb-parser",
				"xdp,tc,sk-skb-verdict,sk-skb-parser" },
		[AXIS_LAYOUT] = { "app-shares-rx-cpu,app-own-cpu", "app-shares-rx-cpu" },
		[AXIS_PROTO] = { "udp,tcp" },
		[AXIS_SIZE] = { "64,256,1024,2048,4096,8192", "256,4096" },
		[AXIS_PCT] = { "0,10,25,50,75,90,100", "0,50,100" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.size_max = 8192,
	.arm_names = { [ARM_MAIN] = "offload", [ARM_REF] = "user space", [ARM_POST1] = "none" },
	BENCH_METHODS(sum, struct sum_cell),
};
DEFINE_BENCH(bench_summarize);

/* ---- a fixed-count run (tests) ----------------------------------------- */

/* A fixed-count run is over: every request finished (unframed TCP: the
 * program saw every byte and the app read all it passed). */
static bool all_arrived(struct count_ctx *x, uint64_t nreq)
{
	struct sum_counters p = prog_sum(x->c->priv);
	struct sum_app_stats a;

	if (x->arm != ARM_MAIN || !stream_unframed(x->c))
		return count_done(x) >= nreq;
	sum_app_read(x->app, &a);
	return p.bytes_in >= nreq * x->c->size && a.summary_bytes == p.summary_bytes;
}

static int count_send(struct bench_cell *c, struct count_ctx *x, uint64_t nreq,
		      struct sum_count_result *out)
{
	struct sum_cell *sc = c->priv;
	struct sum_send_cfg cfg = {
		.t = &sc->t, .tcp = c->tcp, .req_size = (uint32_t)c->size, .max_requests = nreq,
		.max_ms = 10000, .window = c->tcp ? 0 : COUNT_WINDOW, .window_wait_us = 1000000,
		.done = count_done,
		.done_arg = x, .wait_sockmap = c->tcp && x->arm == ARM_MAIN ? x->app : NULL,
	};
	struct sum_sender *snd;
	uint64_t end;
	int err = sum_send_start(&cfg, &snd);

	if (!err)
		err = sum_send_join(snd, &out->sent);
	end = now_ns() + 3000000000ull;
	while (!err && !all_arrived(x, nreq) && now_ns() < end)
		sleep_ns(1000000);
	bench_settle();
	return err;
}

int summarize_count_run(const struct hook_desc *h, enum bench_layout l, bool tcp, uint32_t size,
			unsigned pct, enum bench_arm arm, uint64_t nreq, struct sum_count_result *out)
{
	struct bench_cell c;
	struct count_ctx x = { .c = &c, .arm = arm };
	uint32_t sum = sum_len_of(size, pct), cap;
	int err;

	memset(out, 0, sizeof(*out));
	bench_cell_init(&c, bench_by_name("summarize"), h);
	c.layout = l;
	c.tcp = tcp;
	c.size = size;
	c.pct = pct;
	c.priv = calloc(1, sizeof(struct sum_cell));
	if (!c.priv)
		return -ENOMEM;
	err = sum_setup(&c);
	if (!err)
		err = start_app(&c, arm, &x.app);
	if (!err)
		err = count_send(&c, &x, nreq, out);
	if (x.app)
		sum_app_read(x.app, &out->app);
	if (!err)
		out->prog = prog_sum(c.priv);
	sum_app_free(x.app);
	sum_teardown(&c);
	free(c.priv);
	cap = c.tcp ? size : sum_final_chunk(size);
	out->capped = sum > cap;
	out->expect_summary = sum > cap ? cap : sum;
	return err;
}
