/*
 * bench drop: the maximum benefit.  Packets per second when a program at the
 * hook drops every request, against a socket app that receives and drops in
 * user space, with the app sharing the receive CPU and on its own CPU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/bench.h"
#include "lib/counters.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/link.h"

static bool drop_applies(const struct hook_desc *h)
{
	return h != NULL; /* every hook, and both socket baselines */
}

struct drop_trial {
	double pps;
	uint64_t sent, counted, app_packets;
	uint64_t arrived;              /* frames the DUT veth took in (packet hooks) */
	int cpu;                       /* CPU that did the dropping */
	uint64_t per_cpu[OLAB_MAX_CPUS];
};

static json_t *per_cpu_json(const uint64_t *per_cpu)
{
	json_t *a = json_array();

	for (int c = 0; c < cpu_count() && c < OLAB_MAX_CPUS; c++)
		json_array_append_new(a, json_integer((json_int_t)per_cpu[c]));
	return a;
}

struct drop_snaps {
	struct hook_inst *hi;
	struct bench_app *app;
	struct counters_snap c[3];
	struct app_stats a[3];
};

static void drop_snap(void *arg, int when)
{
	struct drop_snaps *s = arg;

	if (s->hi)
		counters_snap(hook_counters(s->hi), &s->c[when]);
	bench_app_read(s->app, &s->a[when]);
}

/* One trial: rate over the measurement window; totals over the whole send. */
static int drop_trial(struct bench_ctx *ctx, const struct topo *t, struct hook_inst *hi,
		      struct bench_app *app, uint64_t duration_ms, struct drop_trial *out)
{
	bool tcp = bench_hook_is_tcp(ctx->hook);
	struct drop_snaps *s = calloc(1, sizeof(*s));
	uint64_t size = ctx->cfg->size, win_ns = 0, in_window;
	struct gen_result *r = calloc(1, sizeof(*r));
	struct counters_snap before;
	struct app_stats abefore;
	uint64_t rx0 = 0, rx1 = 0;
	struct cpu_counters d;
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!s || !r)
		goto out;
	s->hi = hi;
	s->app = app;
	if (hi)
		counters_snap(hook_counters(hi), &before);
	bench_app_read(app, &abefore);
	err = link_get_rx_stats(&t->dut, t->if_dut, &rx0, NULL);
	if (err)
		goto out;
	err = bench_measure(t, tcp ? GEN_MODE_TCP : GEN_MODE_LIVE, size, duration_ms, drop_snap, s,
			    r, &win_ns);
	if (err)
		goto out;
	err = link_get_rx_stats(&t->dut, t->if_dut, &rx1, NULL);
	if (err)
		goto out;
	out->arrived = rx1 - rx0;
	out->sent = r->sent;
	out->app_packets = s->a[2].packets - abefore.packets;
	if (hi) {
		d = counters_delta(&s->c[0], &s->c[1], out->per_cpu);
		out->cpu = counters_busiest_cpu(&s->c[0], &s->c[1]);
		/* Stream hooks: requests of size bytes; packet hooks: packets. */
		in_window = tcp ? d.bytes / size : d.dropped;
		d = counters_delta(&before, &s->c[2], NULL);
		out->counted = tcp ? d.bytes / size : d.dropped;
	} else {
		in_window = tcp ? (s->a[1].bytes - s->a[0].bytes) / size : s->a[1].packets - s->a[0].packets;
		out->counted = tcp ? (s->a[2].bytes - abefore.bytes) / size : out->app_packets;
		for (int c = 0; c < OLAB_MAX_CPUS; c++)
			out->per_cpu[c] = s->a[1].cpu_packets[c] - s->a[0].cpu_packets[c];
		out->cpu = s->a[1].cpu;
	}
	out->pps = win_ns ? in_window * 1e9 / (double)win_ns : 0;
out:
	free(s);
	free(r);
	return err;
}

static int drop_layout(struct bench_ctx *ctx, enum bench_layout layout, const char *variant)
{
	const struct bench_cfg *cfg = ctx->cfg;
	const struct hook_desc *h = ctx->hook;
	bool tcp = bench_hook_is_tcp(h);
	struct hook_inst *hi = NULL;
	struct bench_app *app = NULL;
	struct drop_trial tr;
	double *pps = calloc(cfg->trials, sizeof(*pps));
	json_t *trials_detail = json_array(), *extra;
	uint64_t app_total = 0, sent_total = 0, counted_total = 0;
	struct topo t = { 0 };
	int err, app_cpu = 1;

	if (!pps)
		return -ENOMEM;
	err = bench_topo_up(layout, &t);
	if (err)
		goto cleanup;
	if (h->kind != HOOK_BASELINE) {
		err = hook_attach(h, HOOK_DROP, &t.dut, t.if_dut, GEN_DPORT, &hi);
		if (err)
			goto cleanup;
	}
	/* The app listens even when the hook drops: it must get nothing. */
	err = bench_app_start(ctx, &t, tcp ? APP_TCP_SINK : APP_UDP_SINK, app_cpu, cfg->size, hi, &app);
	if (err)
		goto cleanup;

	bench_progress(ctx, "%s warm-up", variant ? variant : "");
	err = drop_trial(ctx, &t, hi, app, cfg->warmup_ms ? cfg->warmup_ms : 50, &tr);
	for (uint64_t i = 0; !err && i < cfg->trials && !run_stopping(); i++) {
		bench_progress(ctx, "%s trial %llu/%llu", variant ? variant : "",
			       (unsigned long long)i + 1, (unsigned long long)cfg->trials);
		err = drop_trial(ctx, &t, hi, app, cfg->duration_ms, &tr);
		if (err)
			break;
		pps[i] = tr.pps;
		sent_total += tr.sent;
		counted_total += tr.counted;
		app_total += tr.app_packets;
		json_array_append_new(trials_detail,
			json_pack("{s:f, s:I, s:I, s:I, s:I, s:i, s:o}", "pps", tr.pps,
				  "sent", (json_int_t)tr.sent, "arrived", (json_int_t)tr.arrived,
				  "dropped", (json_int_t)tr.counted,
				  "app_received", (json_int_t)tr.app_packets, "cpu", tr.cpu,
				  "per_cpu", per_cpu_json(tr.per_cpu)));
	}
	if (err || run_stopping())
		goto cleanup;

	extra = json_pack("{s:o, s:s, s:s, s:I, s:I, s:I, s:b, s:o}",
		"layout", bench_layout_json(layout, &t), "attach_mode", h->attach_mode,
		"traffic", tcp ? "TCP clients, 4 connections, fixed-size requests" : "live-frames UDP",
		"sent", (json_int_t)sent_total, "dropped", (json_int_t)counted_total,
		"app_received", (json_int_t)app_total,
		"app_got_nothing", h->kind == HOOK_BASELINE || app_total == 0,
		"per_trial", trials_detail);
	trials_detail = NULL;
	if (h->kind != HOOK_BASELINE && app_total)
		pr_warn("drop %s: the app received %llu packets although the hook drops\n", h->name,
			(unsigned long long)app_total);
	bench_add(ctx, variant, "pps", tcp ? "requests/s" : "packets/s",
		  h->kind == HOOK_BASELINE ? "app counts what it receives and drops it, per second of sending"
		  : tcp ? "bytes the verdict dropped / request size, per second of sending"
			: "program's per-CPU drop counter, per second of sending",
		  pps, cfg->trials, extra);
cleanup:
	json_decref(trials_detail);
	bench_app_free(app);
	hook_detach(hi);
	topo_down(&t);
	free(pps);
	return err;
}

static int drop_run(struct bench_ctx *ctx)
{
	int err;

	if (ctx->hook->kind != HOOK_BASELINE)
		return drop_layout(ctx, LAYOUT_RX_CPU1, NULL);
	err = drop_layout(ctx, LAYOUT_RX_CPU1, bench_layout_name(LAYOUT_RX_CPU1));
	if (!err)
		err = drop_layout(ctx, LAYOUT_APP_OWN_CPU, bench_layout_name(LAYOUT_APP_OWN_CPU));
	return err;
}

static const struct bench bench_drop = {
	.name = "drop",
	.summary = "max benefit: pps when the hook drops every request, vs a socket app",
	.applies = drop_applies,
	.run = drop_run,
	.order = 20,
};
DEFINE_BENCH(bench_drop);
