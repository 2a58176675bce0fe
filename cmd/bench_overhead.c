/*
 * bench overhead: ns per packet to enter and leave a hook with an empty
 * program, three ways, each with its 95% CI:
 *  - delta: per-packet cost on the saturated receive CPU with the program
 *    minus without it, same path, same CPU, in paired phases;
 *  - bpf_stats: run_time_ns / run_cnt with BPF_ENABLE_STATS on (the program
 *    alone, plus the accounting's own cost);
 *  - test_run: BPF_PROG_TEST_RUN with a large repeat (the program alone).
 * Packet hooks get live frames of an EtherType no protocol handles: the
 * cheapest complete receive path, so the program's share is largest (they
 * end right after the tc hook, counted as rx_nohandler); stream hooks
 * measure TCP requests through the app sharing the receive CPU.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/bench.h"
#include "lib/counters.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/link.h"

#define NOSOCK_PORT 7778 /* no socket listens here */
#define RAW_ETHERTYPE 0x88b5 /* IEEE local experimental: no protocol handler */
#define TEST_RUN_REPEAT 1000000

static bool overhead_applies(const struct hook_desc *h)
{
	return h->kind != HOOK_BASELINE;
}

struct phase_snaps {
	const struct topo *t;
	struct hook_inst *hi;
	struct bench_app *app;
	bool tcp;
	uint64_t rx[3];          /* rx_packets of the DUT veth: frames its NAPI took in */
	int64_t napi_ns[3];      /* CPU time of the DUT veth's NAPI kthread */
	uint64_t rx_before;      /* before the traffic started */
	bool failed;             /* a counter could not be read */
	struct app_stats a[3];
	struct bpf_prog_info info[3];
};

static void phase_snap(void *arg, int when)
{
	struct phase_snaps *s = arg;
	uint32_t len = sizeof(s->info[0]);

	if (s->tcp)
		bench_app_read(s->app, &s->a[when]);
	else
	{
		if (link_get_rx_stats(&s->t->dut, s->t->if_dut, &s->rx[when], NULL))
			s->failed = true;
		s->napi_ns[when] = link_napi_runtime_ns(s->t->if_dut);
	}
	if (s->hi && hook_prog_fd(s->hi) >= 0 &&
	    bpf_obj_get_info_by_fd(hook_prog_fd(s->hi), &s->info[when], &len))
		s->failed = true;
}

struct phase_out {
	double ns_per_pkt;      /* 1e9 / received rate on the saturated CPU */
	double stats_ns;        /* run_time_ns / run_cnt (when stats were on) */
	bool saturated;         /* the generator offered more than was received */
	bool delivered_all;     /* stream: every byte reached the app */
};

/* One phase: no program (h NULL), the empty program, or it with bpf_stats on. */
static int overhead_phase(struct bench_ctx *ctx, const struct topo *t, const struct hook_desc *h,
			  bool stats, struct phase_out *out)
{
	bool tcp = bench_hook_is_tcp(ctx->hook);
	struct phase_snaps *s = calloc(1, sizeof(*s));
	struct gen_result *r = calloc(1, sizeof(*r));
	struct hook_opts ho = { .port = tcp ? GEN_DPORT : NOSOCK_PORT };
	uint64_t size = ctx->cfg->size, win = 0, got = 0;
	int stats_fd = -1, err = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!s || !r)
		goto out;
	s->t = t;
	s->tcp = tcp;
	if (h) {
		err = hook_attach_opts(h, HOOK_EMPTY, &t->dut, t->if_dut, &ho, &s->hi);
		if (err)
			goto out;
	}
	if (tcp) {
		err = bench_app_start(ctx, t, APP_TCP_SINK, 1, size, s->hi, &s->app);
		if (err)
			goto out;
	}
	if (stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			err = -errno;
			goto out;
		}
	}
	if (!tcp && link_get_rx_stats(&t->dut, t->if_dut, &s->rx_before, NULL)) {
		err = -EIO;
		goto out;
	}
	err = tcp ? bench_measure(t, GEN_MODE_TCP, size, ctx->cfg->duration_ms, phase_snap, s, r, &win)
		  : bench_measure_raw(t, size, RAW_ETHERTYPE, ctx->cfg->duration_ms, phase_snap, s, r, &win);
	if (err)
		goto out;
	if (tcp) {
		got = (s->a[1].bytes - s->a[0].bytes) / size;
		out->delivered_all = s->a[2].bytes == r->bytes;
		out->saturated = true; /* closed loop: the app and rx share CPU 1 */
	} else {
		got = s->rx[1] - s->rx[0];
		/* Saturated: the veth ring overflowed, so the receive CPU set the pace. */
		out->saturated = r->xmit_errors > 0 || r->sent > s->rx[2] - s->rx_before;
		out->delivered_all = true;
		/* The receive kthread's own CPU time: immune to whatever else
		 * shares CPU 1, and exact even below saturation.  Never mixed
		 * with wall time: no reading, no phase. */
		if (s->napi_ns[0] < 0 || s->napi_ns[1] <= s->napi_ns[0]) {
			err = -EIO;
			goto out;
		}
		win = (uint64_t)(s->napi_ns[1] - s->napi_ns[0]);
	}
	if (s->failed) {
		err = -EIO;
		goto out;
	}
	if (!got) {
		err = -EIO; /* nothing arrived: not a measurement */
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
	if (s)
		bench_app_free(s->app);
	if (s)
		hook_detach(s->hi);
	free(s);
	free(r);
	return err;
}

/* The program alone: BPF_PROG_TEST_RUN, average ns per run. */
static int overhead_test_run(struct bench_ctx *ctx, const struct topo *t, double *ns)
{
	struct gen_frame_spec spec;
	struct hook_inst *hi = NULL;
	struct hook_opts ho = { .port = NOSOCK_PORT };
	uint8_t frame[1514];
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .repeat = TEST_RUN_REPEAT);

	err = gen_frame_spec_topo(t, 4, ctx->cfg->size, NOSOCK_PORT, &spec);
	if (!err)
		err = gen_build_frame(&spec, frame, sizeof(frame), NULL);
	if (err)
		return err;
	o.data_size_in = ctx->cfg->size;
	err = hook_attach_opts(ctx->hook, HOOK_EMPTY, &t->dut, t->if_dut, &ho, &hi);
	if (err)
		return err;
	err = bpf_prog_test_run_opts(hook_prog_fd(hi), &o);
	if (err)
		err = -errno;
	*ns = o.duration;
	hook_detach(hi);
	return err;
}

static bool overlap(double m1, double h1, double m2, double h2)
{
	return m1 - h1 <= m2 + h2 && m2 - h2 <= m1 + h1;
}

static double halfwidth(const double *x, size_t n, double *med)
{
	struct summary s;

	summarize(x, n, &s);
	*med = s.median;
	return (s.ci_hi - s.ci_lo) / 2;
}

static int overhead_run(struct bench_ctx *octx)
{
	/* The hook's cost does not depend on where the app runs: always bare. */
	struct bench_cfg bare = *octx->cfg;
	struct bench_ctx lctx = *octx, *ctx = &lctx;
	const struct bench_cfg *cfg = &bare;
	const struct hook_desc *h = ctx->hook;
	size_t n = cfg->trials;
	double *delta = calloc(n, sizeof(double)), *stats = calloc(n, sizeof(double));
	double *tr = calloc(n, sizeof(double)), *base = calloc(n, sizeof(double));
	json_t *phases = json_array(), *extra;
	bool saturated = true, delivered = true, have_test_run = true;
	struct phase_out pa, pb, pc;
	char tr_reason[128] = "";
	struct topo t = { 0 };
	int err = -ENOMEM;

	bare.runtime = RUNTIME_NETNS;
	lctx.cfg = &bare;
	if (!delta || !stats || !tr || !base)
		goto out;
	err = bench_topo_up(LAYOUT_RX_CPU1, &t);
	if (err)
		goto out;
	bench_progress(ctx, "warm-up");
	err = overhead_phase(ctx, &t, h, false, &pb);
	for (size_t i = 0; !err && i < n && !run_stopping(); i++) {
		bench_progress(ctx, "trial %zu/%zu", i + 1, n);
		/* Alternate the order (AB, BA, ...) so drift cancels in the median;
		 * a pair in which nothing arrived is measured again, once. */
		for (int attempt = 0; attempt < 2; attempt++) {
			if (i % 2 == 0) {
				err = overhead_phase(ctx, &t, NULL, false, &pa);
				if (!err)
					err = overhead_phase(ctx, &t, h, false, &pb);
			} else {
				err = overhead_phase(ctx, &t, h, false, &pb);
				if (!err)
					err = overhead_phase(ctx, &t, NULL, false, &pa);
			}
			if (!err)
				err = overhead_phase(ctx, &t, h, true, &pc);
			if (err != -EIO)
				break;
			pr_debug("overhead %s: a phase had no usable reading; measuring again\n", h->name);
		}
		if (err)
			break;
		base[i] = pa.ns_per_pkt;
		delta[i] = pb.ns_per_pkt - pa.ns_per_pkt;
		stats[i] = pc.stats_ns;
		saturated &= pa.saturated && pb.saturated;
		delivered &= pa.delivered_all && pb.delivered_all;
		if (have_test_run && h->kind == HOOK_PACKET) {
			int e = overhead_test_run(ctx, &t, &tr[i]);

			if (e) {
				have_test_run = false;
				snprintf(tr_reason, sizeof(tr_reason), "BPF_PROG_TEST_RUN: %s", strerror(-e));
			}
		}
		json_array_append_new(phases, json_pack("{s:f, s:f, s:f, s:b, s:b}",
			"no_program_ns_per_pkt", pa.ns_per_pkt, "program_ns_per_pkt", pb.ns_per_pkt,
			"bpf_stats_ns_per_run", pc.stats_ns, "saturated", pa.saturated && pb.saturated,
			"delivered_all", pa.delivered_all && pb.delivered_all));
	}
	if (err || run_stopping())
		goto out;
	if (h->kind != HOOK_PACKET) {
		have_test_run = false;
		snprintf(tr_reason, sizeof(tr_reason),
			 "BPF_PROG_TEST_RUN does not run %s programs (no test_run for sk_skb)", h->name);
	}
	{
		double md, ms, mt = 0, hd = halfwidth(delta, n, &md), hs = halfwidth(stats, n, &ms);
		double ht = have_test_run ? halfwidth(tr, n, &mt) : 0;
		bool agree = overlap(md, hd, ms, hs);
		bool agree_prog = have_test_run && overlap(ms, hs, mt, ht);

		extra = json_pack("{s:o, s:s, s:s, s:b, s:b, s:f, s:{s:s, s:f}, s:o}",
			"layout", bench_layout_json(LAYOUT_RX_CPU1, &t), "attach_mode", h->attach_mode,
			"path", h->kind == HOOK_PACKET ? "live frames of EtherType 0x88b5, counted by the DUT veth (rx_packets), dropped for want of a handler after the hook"
						       : "TCP requests to the sink app on the receive CPU",
			"saturated", saturated, "delivered_all", delivered, "ci_halfwidth_ns", hd,
			"agreement", "delta_vs_bpf_stats", agree ? "agree (CIs overlap)" : "differ",
			"difference_ns", md - ms, "phases", phases);
		/* Two methods of the program alone; bpf_stats also pays for its
		 * own accounting (two clock reads per run). */
		if (have_test_run)
			json_object_set_new(json_object_get(extra, "agreement"), "bpf_stats_vs_test_run",
				json_pack("{s:s, s:f}", "verdict", agree_prog ? "agree (CIs overlap)" : "differ",
					  "difference_ns", ms - mt));
		phases = NULL;
		if (!saturated)
			pr_warn("overhead %s: the receive CPU was not saturated; delta is a lower bound\n",
				h->name);
		if (!delivered)
			pr_warn("overhead %s: the app did not get every byte (stalled stream)%s\n", h->name,
				h->parser ? ": sk-skb-parser with SK_PASS stalls on this kernel (tcp_bpf_strp_read_sock copied_seq bug, fix posted Nov 2025)" : "");
		bench_add(ctx, NULL, "ns_per_packet", "ns",
			  h->kind == HOOK_PACKET
		  ? "delta: CPU time of the receive kthread per packet (schedstat), empty program minus none, paired phases"
		  : "delta: time per request on the saturated receive CPU, empty program minus none, paired phases",
			  delta, n, extra);
		bench_add(ctx, NULL, "ns_per_run", "ns",
			  "bpf_stats: run_time_ns / run_cnt with BPF_ENABLE_STATS (program alone + accounting)",
			  stats, n, json_pack("{s:b}", "primary", 0));
		bench_add(ctx, NULL, "ns_per_packet_no_program", "ns",
			  "per-packet cost of the whole path with no program (context for the delta)",
			  base, n, json_pack("{s:b}", "primary", 0));
		if (have_test_run)
			bench_add(ctx, NULL, "ns_per_run_test_run", "ns",
				  "BPF_PROG_TEST_RUN, repeat 1000000 (program alone)", tr, n,
				  json_pack("{s:b}", "primary", 0));
		else
			bench_add(ctx, NULL, "ns_per_run_test_run", "ns", tr_reason, NULL, 0,
				  json_pack("{s:b, s:s}", "primary", 0, "unsupported", tr_reason));
	}
out:
	json_decref(phases);
	topo_down(&t);
	free(delta);
	free(stats);
	free(tr);
	free(base);
	return err;
}

static const struct bench bench_overhead = {
	.name = "overhead",
	.summary = "ns per packet to enter and leave each hook with an empty program",
	.applies = overhead_applies,
	.run = overhead_run,
	.order = 10,
	/* Many short pairs: the CI of a median of differences narrows with n. */
	.trials = 15,
	.duration_ms = 250,
};
DEFINE_BENCH(bench_overhead);
