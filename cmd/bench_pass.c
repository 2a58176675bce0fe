/*
 * bench pass: the minimum cost.  Packets (requests) per second of a TCP and a
 * UDP socket app when a program at the hook just counts and passes, against
 * the same app with no program, in paired trials (no program, then program),
 * with the app on its own CPU; the cost in % comes from each pair.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/bench.h"
#include "lib/counters.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

static bool pass_applies(const struct hook_desc *h)
{
	return h != NULL; /* every hook; the baselines give the plain app's figure */
}

struct pass_phase {
	double pps;
	uint64_t sent_bytes, app_bytes, prog_passed;
	bool delivered_all;
};

struct pass_snaps {
	struct bench_app *app;
	struct app_stats a[3];
};

static void pass_snap(void *arg, int when)
{
	struct pass_snaps *s = arg;

	bench_app_read(s->app, &s->a[when]);
}

/* One phase: the app on CPU 1, with h's count_pass program or none. */
static int pass_phase(struct bench_ctx *ctx, const struct topo *t, const struct hook_desc *h,
		      bool tcp, struct pass_phase *out)
{
	uint64_t size = ctx->cfg->size, win_ns = 0;
	struct pass_snaps s = { 0 };
	struct hook_inst *hi = NULL;
	struct gen_result *r = calloc(1, sizeof(*r));
	int err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!r)
		return err;
	if (h && h->kind != HOOK_BASELINE) {
		err = hook_attach(h, HOOK_COUNT_PASS, &t->dut, t->if_dut, GEN_DPORT, &hi);
		if (err)
			goto out;
	}
	err = bench_app_start(ctx, t, tcp ? APP_TCP_SINK : APP_UDP_SINK, 1, size, hi, &s.app);
	if (err)
		goto out;
	err = bench_measure(t, tcp ? GEN_MODE_TCP : GEN_MODE_LIVE, size, ctx->cfg->duration_ms,
			    pass_snap, &s, r, &win_ns);
	if (err)
		goto out;
	if (tcp)
		out->pps = (s.a[1].bytes - s.a[0].bytes) / (double)size * 1e9 / (double)win_ns;
	else
		out->pps = (s.a[1].packets - s.a[0].packets) * 1e9 / (double)win_ns;
	out->sent_bytes = r->bytes;
	out->app_bytes = s.a[2].bytes;
	if (hi)
		out->prog_passed = hook_counters_sum(hi).passed;
	/* TCP: every byte written reached the app (UDP may overflow the socket). */
	out->delivered_all = !tcp || out->app_bytes == out->sent_bytes;
out:
	bench_app_free(s.app);
	hook_detach(hi);
	free(r);
	return err;
}

/* Paired trials for one protocol: no program, then the hook's program. */
static int pass_proto(struct bench_ctx *ctx, const struct topo *t, enum bench_layout layout,
		      bool tcp, const char *variant)
{
	const struct bench_cfg *cfg = ctx->cfg;
	const struct hook_desc *h = ctx->hook;
	bool baseline = h->kind == HOOK_BASELINE;
	double *base = calloc(cfg->trials, sizeof(double));
	double *with = calloc(cfg->trials, sizeof(double));
	double *cost = calloc(cfg->trials, sizeof(double));
	json_t *pairs = json_array(), *extra;
	struct pass_phase pb, ph;
	bool all_delivered = true;
	int err = -ENOMEM;

	if (!base || !with || !cost)
		goto out;
	bench_progress(ctx, "%s warm-up", tcp ? "tcp" : "udp");
	err = pass_phase(ctx, t, h, tcp, &ph);
	for (uint64_t i = 0; !err && i < cfg->trials && !run_stopping(); i++) {
		bench_progress(ctx, "%s trial %llu/%llu", tcp ? "tcp" : "udp",
			       (unsigned long long)i + 1, (unsigned long long)cfg->trials);
		if (!baseline) {
			err = pass_phase(ctx, t, NULL, tcp, &pb);
			if (err)
				break;
		}
		err = pass_phase(ctx, t, h, tcp, &ph);
		if (err)
			break;
		with[i] = ph.pps;
		if (baseline)
			continue;
		base[i] = pb.pps;
		cost[i] = pb.pps > 0 ? (1 - ph.pps / pb.pps) * 100 : 0;
		all_delivered &= ph.delivered_all && pb.delivered_all;
		json_array_append_new(pairs, json_pack("{s:f, s:f, s:f, s:I, s:I, s:I, s:b}",
			"no_program_pps", pb.pps, "program_pps", ph.pps, "cost_pct", cost[i],
			"sent_bytes", (json_int_t)ph.sent_bytes, "app_bytes", (json_int_t)ph.app_bytes,
			"program_passed", (json_int_t)ph.prog_passed, "delivered_all", ph.delivered_all));
	}
	if (err || run_stopping())
		goto out;
	if (!all_delivered)
		pr_warn("pass %s: the app did not get every byte that was sent (see delivered_all)%s\n",
			h->name, h->parser ? "; sk-skb-parser with SK_PASS stalls on this kernel "
			"(tcp_bpf_strp_read_sock copied_seq bug, fix posted Nov 2025)" : "");
	extra = json_pack("{s:o, s:s, s:s, s:b}",
		"layout", bench_layout_json(layout, t), "attach_mode", h->attach_mode,
		"traffic", tcp ? "TCP clients, 4 connections, fixed-size requests" : "live-frames UDP",
		"delivered_all", all_delivered);
	bench_add(ctx, variant, "pps", tcp ? "requests/s" : "packets/s",
		  tcp ? "bytes the app read / request size, per second" : "datagrams the app read per second",
		  with, cfg->trials, extra);
	if (!baseline) {
		bench_add(ctx, variant ? variant : "tcp", "pps_no_program", tcp ? "requests/s" : "packets/s",
			  "the same app with no program, paired trials", base, cfg->trials,
			  json_pack("{s:b}", "primary", 0));
		bench_add(ctx, variant, "cost_pct", "%",
			  "1 - program pps / no-program pps, per pair of trials", cost, cfg->trials,
			  json_pack("{s:o}", "pairs", pairs));
		pairs = NULL;
	}
out:
	json_decref(pairs);
	free(base);
	free(with);
	free(cost);
	return err;
}

static int pass_run(struct bench_ctx *ctx)
{
	const struct hook_desc *h = ctx->hook;
	struct topo t = { 0 };
	int err;

	if (h->kind == HOOK_BASELINE) {
		/* The plain app, with the app sharing the rx CPU and on its own CPU. */
		bool tcp = bench_hook_is_tcp(h);

		err = bench_topo_up(LAYOUT_RX_CPU1, &t);
		if (!err)
			err = pass_proto(ctx, &t, LAYOUT_RX_CPU1, tcp, bench_layout_name(LAYOUT_RX_CPU1));
		topo_down(&t);
		if (err)
			return err;
		err = bench_topo_up(LAYOUT_APP_OWN_CPU, &t);
		if (!err)
			err = pass_proto(ctx, &t, LAYOUT_APP_OWN_CPU, tcp,
					 bench_layout_name(LAYOUT_APP_OWN_CPU));
		topo_down(&t);
		return err;
	}
	err = bench_topo_up(LAYOUT_APP_OWN_CPU, &t);
	if (err)
		return err;
	/* TCP is the seed's figure (no variant); packet hooks also carry UDP. */
	err = pass_proto(ctx, &t, LAYOUT_APP_OWN_CPU, true, NULL);
	if (!err && h->kind == HOOK_PACKET)
		err = pass_proto(ctx, &t, LAYOUT_APP_OWN_CPU, false, "udp");
	topo_down(&t);
	return err;
}

static const struct bench bench_pass = {
	.name = "pass",
	.summary = "min cost: pps of a socket app when the hook just passes, vs no program",
	.applies = pass_applies,
	.run = pass_run,
	.order = 30,
};
DEFINE_BENCH(bench_pass);
