/*
 * bench batch: is batching requests at the hook worth it?  The program
 * (bpf/batch.bpf.c) holds requests and passes B of them as one packet, a
 * bpf_timer flushing a partial batch after T to a ringbuf the app also
 * reads (UDP at xdp, tc and sk-skb-verdict, whose UDP socket is in the
 * sockhash); at sk-skb-parser the parser frames B TCP requests as one
 * message.  Each trial, paired with no program (ref):
 *  - throughput: the sender (CPU 0) as fast as it can; requests the app
 *    unpacked per second, and the DUT's CPU ns per request;
 *  - latency: the sender paced at BATCH_LAT_RATE; p50/p99 of each request's
 *    time from its stamp to the app (the wait in the batch included).
 * The app and sender are bench/batch_app.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench/batch.h"
#include "batch.skel.h"
#include "bench/bench.h"
#include "bench/cpu_time.h"
#include "bpf/gen.h"
#include "lib/log.h"
#include "lib/stats.h"
#include "lib/util.h"

#define BATCH_FLUSH_US  200      /* T: the timer's flush */
#define BATCH_LAT_RATE  50000    /* requests/s in the latency phase */
#define LEAD_MS         50       /* traffic before the throughput window */
#define TAIL_MS         20
#define DRAIN_MAX_MS    500
#define APP_CPU         1
#define TPUT_FIRST_ID   (1u << 22) /* after the paced phase's ids */

struct batch_cell {
	struct topo t;
	struct batch *skel;
	struct hook_prog hp;
	struct hook_inst *hi;
	const char *why;            /* not measured: why */
	/* Over the kept trials. */
	uint64_t sent[ARM__COUNT], received[ARM__COUNT], dups, bad;
	struct batch_cpu_stats prog;
};

/* What one trial saw. */
struct batch_phase {
	uint64_t sent, received, window_ns;
	struct cpu_times ct[2];
};

/* ---- the program ----------------------------------------------------- */

static void prog_sum(const struct batch *skel, struct batch_cpu_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int k = 0; skel && k < OLAB_MAX_CPUS; k++) {
		const volatile struct batch_cpu_stats *s = &skel->bss->stats[k];

		out->held += s->held;
		out->batches += s->batches;
		out->batched_reqs += s->batched_reqs;
		out->flushed_reqs += s->flushed_reqs;
		out->flushes += s->flushes;
		out->errors += s->errors;
		out->other += s->other;
		out->ring_batches += s->ring_batches;
	}
}

static void prog_delta(const struct batch_cpu_stats *a, const struct batch_cpu_stats *b,
		       struct batch_cpu_stats *acc)
{
	acc->held += b->held - a->held;
	acc->batches += b->batches - a->batches;
	acc->batched_reqs += b->batched_reqs - a->batched_reqs;
	acc->flushed_reqs += b->flushed_reqs - a->flushed_reqs;
	acc->flushes += b->flushes - a->flushes;
	acc->errors += b->errors - a->errors;
	acc->other += b->other - a->other;
	acc->ring_batches += b->ring_batches - a->ring_batches;
}

/* Load batch.bpf.c for h with B and T, attach it on the DUT. */
static int prog_up(const struct hook_desc *h, bool tcp, const struct topo *t, unsigned batch,
		   uint64_t flush_us, struct batch **skel_out, struct hook_prog *hp,
		   struct hook_inst **hi)
{
	struct batch *skel = batch__open();
	int err;

	*skel_out = skel;
	if (!skel)
		return -errno;
	skel->rodata->batch_size = batch;
	skel->rodata->flush_ns = flush_us * 1000;
	skel->rodata->bench_port = GEN_DPORT;
	/* UDP at a verdict holds like the packet hooks: its own program. */
	err = hook_pick_progs(h, skel->obj, hook_on_sockmap(h) && !tcp ? "batchv" : "batch", hp);
	if (!err && (err = batch__load(skel)))
		pr_warn("bench batch %s: loading the program failed: %s\n", h->name,
			strerror(-err));
	if (err)
		return err;
	hp->sockmap_fd = bpf_map__fd(skel->maps.sockmap);
	err = hook_attach_prog(h, hp, &t->dut, t->if_dut, hi);
	if (err)
		pr_warn("bench batch %s: attaching failed: %s\n", h->name, strerror(-err));
	return err;
}

static void prog_down(struct batch **skel, struct hook_inst **hi)
{
	hook_detach(*hi);
	*hi = NULL;
	batch__destroy(*skel);
	*skel = NULL;
}

/* ---- one trial ------------------------------------------------------- */

/* Until the app's count stops moving (a backlog read), at most DRAIN_MAX_MS. */
static void app_drain(struct batch_app *a, uint64_t flush_us)
{
	uint64_t last = a->st->requests;

	sleep_ns(flush_us * 2000 + 10000000ull);
	for (int i = 0; i < DRAIN_MAX_MS / 10; i++) {
		sleep_ns(10000000ull);
		if (a->st->requests == last)
			return;
		last = a->st->requests;
	}
}

/* The DUT's CPU: CPU 1 (app; receive too when it shares), CPU 0's softirq. */
static double dut_ns(const struct cpu_times *a, const struct cpu_times *b)
{
	double ns = 0;

	if (b->ncpu > APP_CPU)
		ns += (double)(b->user_ns[APP_CPU] - a->user_ns[APP_CPU]) +
		      (double)(b->system_ns[APP_CPU] - a->system_ns[APP_CPU]) +
		      (double)(b->softirq_ns[APP_CPU] - a->softirq_ns[APP_CPU]);
	return ns + (double)(b->softirq_ns[0] - a->softirq_ns[0]);
}

/* Saturating load: requests the app unpacked per second of the window. */
static int tput_phase(struct bench_cell *c, struct batch_app *app, uint64_t ms,
		      struct batch_phase *ph)
{
	struct batch_cell *bc = c->priv;
	struct batch_send_opts o = { .tcp = c->tcp, .duration_ms = LEAD_MS + ms + TAIL_MS,
				     .first_id = TPUT_FIRST_ID,
				     .gate = &app->st->conns, .gate_at = app->st->conns + 1 };
	struct batch_sender *s;
	uint64_t r0, t0;
	int err = batch_send_start(&bc->t, &o, &s);

	if (err)
		return err;
	sleep_ns(LEAD_MS * 1000000ull);
	cpu_times_read(app->proc.pid, &ph->ct[0]);
	r0 = app->st->requests;
	t0 = now_ns();
	sleep_ns(ms * 1000000ull);
	ph->received = app->st->requests - r0;
	ph->window_ns = now_ns() - t0;
	cpu_times_read(app->proc.pid, &ph->ct[1]);
	err = batch_send_finish(s, (int)(ms + 3000), &ph->sent);
	if (err)
		pr_warn("bench batch %s: sender: %s\n", c->hook->name, strerror(-err));
	return err;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Paced load: p50/p99 (us) of the latencies the app took meanwhile. */
static int lat_phase(struct bench_cell *c, struct batch_app *app, uint64_t ms, uint32_t first_id,
		     struct bench_trial *t, json_t *detail)
{
	struct batch_cell *bc = c->priv;
	struct batch_send_opts o = { .tcp = c->tcp, .rate = BATCH_LAT_RATE,
				     .duration_ms = ms / 3 > 100 ? ms / 3 : 100,
				     .first_id = first_id, .gate = &app->st->conns,
				     .gate_at = app->st->conns + 1, .linger_ms = 50 };
	uint64_t n0 = app->st->lat_n, r0 = app->st->requests, n, sent = 0;
	struct batch_sender *s;
	uint32_t *lat;
	int err = batch_send_start(&bc->t, &o, &s);

	if (!err)
		err = batch_send_finish(s, (int)(o.duration_ms + 3000), &sent);
	if (err)
		return err;
	app_drain(app, BATCH_FLUSH_US);
	n = app->st->lat_n - n0;
	if (n > BATCH_LAT_CAP)
		n = BATCH_LAT_CAP;
	if (!n)
		return -EIO;
	lat = malloc(n * sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		lat[i] = app->st->lat_ns[(app->st->lat_n - n + i) % BATCH_LAT_CAP];
	qsort(lat, n, sizeof(*lat), cmp_u32);
	t->v[1] = lat[n / 2] / 1e3;
	t->v[2] = lat[(size_t)((double)(n - 1) * 0.99)] / 1e3;
	json_object_update_new(detail, json_pack("{s:I, s:I, s:I, s:f, s:f}",
		"lat_sent", (json_int_t)sent, "lat_received", (json_int_t)(app->st->requests - r0),
		"lat_samples", (json_int_t)n, "lat_max_us", lat[n - 1] / 1e3,
		"lat_min_us", lat[0] / 1e3));
	free(lat);
	return 0;
}

static json_t *prog_json(const struct batch_cpu_stats *p)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"held", (json_int_t)p->held, "batches_in_packets", (json_int_t)p->batches,
		"batches_in_ringbuf", (json_int_t)p->ring_batches,
		"batched_reqs", (json_int_t)p->batched_reqs,
		"flushed_reqs", (json_int_t)p->flushed_reqs, "flushes", (json_int_t)p->flushes,
		"errors", (json_int_t)p->errors, "other", (json_int_t)p->other);
}

static json_t *phase_json(const struct batch_phase *ph, const struct batch_cpu_stats *p)
{
	return json_pack("{s:I, s:I, s:f, s:o, s:o}",
		"sent", (json_int_t)ph->sent, "received", (json_int_t)ph->received,
		"window_ms", ph->window_ns / 1e6,
		"cpu_per_request", cpu_times_per_request(&ph->ct[0], &ph->ct[1], ph->received),
		"program", prog_json(p));
}

/* The app (and, in the main arm, the program) for both phases. */
/* The paced phase first: the saturating one can leave a backlog behind
 * (a sockmap ingress queue has no backpressure) that would delay it. */
static int run_arm(struct bench_cell *c, struct bench_trial *t, struct batch_app *app)
{
	struct batch_cell *bc = c->priv;
	struct batch_cpu_stats p0, p1, d = { 0 };
	struct batch_phase ph = { 0 };
	json_t *detail = t->warmup ? NULL : json_object();
	int err = 0;

	prog_sum(bc->skel, &p0);
	if (detail)
		err = lat_phase(c, app, t->ms, 0, t, detail);
	if (!err)
		err = tput_phase(c, app, t->ms, &ph);
	if (err) {
		json_decref(detail);
		return err;
	}
	app_drain(app, BATCH_FLUSH_US);
	t->v[0] = ph.window_ns ? ph.received * 1e9 / (double)ph.window_ns : 0;
	t->v[3] = ph.received ? dut_ns(&ph.ct[0], &ph.ct[1]) / (double)ph.received : NAN;
	if (!detail)
		return 0;
	prog_sum(bc->skel, &p1);
	if (t->arm == ARM_MAIN) {
		prog_delta(&p0, &p1, &d);
		prog_delta(&p0, &p1, &bc->prog);
	}
	json_object_update_new(detail, phase_json(&ph, &d));
	t->detail = detail;
	bc->sent[t->arm] += ph.sent;
	bc->received[t->arm] += app->st->requests;
	bc->dups += app->st->dups;
	bc->bad += app->st->bad;
	return 0;
}

static int batch_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct batch_cell *bc = c->priv;
	bool main = t->arm == ARM_MAIN, dev = hook_on_device(c->hook);
	struct batch_app *app = NULL;
	int err = 0;

	if (bc->why) {
		for (int m = 0; m < BENCH_MAX_METRICS; m++)
			t->v[m] = NAN;
		return 0;
	}
	if (dev)
		err = hook_set_attached(bc->hi, main);
	if (!err)
		err = batch_app_start(&bc->t, c->tcp,
				      main && !c->tcp ? bpf_map__fd(bc->skel->maps.flushed) : -1,
				      main && !dev ? bc->hp.sockmap_fd : -1, APP_CPU, &app);
	if (!err)
		err = run_arm(c, t, app);
	batch_app_free(app);
	return err;
}

/* ---- cells ----------------------------------------------------------- */

static bool batch_applies(const struct bench_cell *c)
{
	const char *n = c->hook->name;

	if (!strcmp(n, "xdp") || !strcmp(n, "tc"))
		return !c->tcp;
	if (!strcmp(n, "sk-skb-parser"))
		return c->tcp;
	return !strcmp(n, "sk-skb-verdict");
}

/* Cells that are not measured, and why. */
static const char *not_measured(const struct bench_cell *c)
{
	if (c->batch > BATCH_MAX)
		return "B over 32: 32 requests of 32 B fill what one 1500 B frame carries";
	if (!strcmp(c->hook->name, "sk-skb-verdict") && c->tcp)
		return "not built: a verdict without a parser sees TCP skbs of any length (segments "
		       "split requests), so it cannot hold whole requests; sk-skb-parser frames them";
	return NULL;
}

static void batch_plan(struct bench_cell *c)
{
	static char variants[65][LAYOUT__COUNT][2][48];
	unsigned b = c->batch < 65 ? c->batch : 64;
	char *v = variants[b][c->layout][c->tcp];

	snprintf(v, sizeof(variants[0][0][0]), "b%u %s %s", c->batch, bench_layout_name(c->layout),
		 c->tcp ? "tcp" : "udp");
	c->variant = v;
	c->arms |= ARM_BIT(ARM_REF);
	c->pairing = PAIR_ALTERNATE;
	c->compare = CMP_NONE;
	if (!c->warmup_ms)
		c->warmup_ms = 100;
	/* Each trial is two phases of each arm: the full run stays in minutes. */
	if (c->trials_default && !c->quick)
		c->trials = 3;
	if (!c->duration_ms)
		c->duration_ms = 200;
}

static int batch_setup(struct bench_cell *c)
{
	struct batch_cell *bc = c->priv;
	int err;

	bc->why = not_measured(c);
	if (bc->why)
		return 0;
	err = bench_topo_up(c->layout, &bc->t);
	if (!err)
		err = prog_up(c->hook, c->tcp, &bc->t, c->batch, BATCH_FLUSH_US, &bc->skel,
			      &bc->hp, &bc->hi);
	return err;
}

static void batch_teardown(struct bench_cell *c)
{
	struct batch_cell *bc = c->priv;

	prog_down(&bc->skel, &bc->hi);
	topo_down(&bc->t);
}

/* ---- the exactly-once check ------------------------------------------ */

static int exact_traffic(bool tcp, const struct topo *t, struct batch_app *app, uint64_t n,
			 uint64_t rate, struct batch_exact *out)
{
	struct batch_send_opts o = { .tcp = tcp, .rate = rate, .count = n,
				     .duration_ms = 20000, .gate = &app->st->conns,
				     .gate_at = app->st->conns + 1, .linger_ms = 300 };
	struct batch_sender *s;
	int err = batch_send_start(t, &o, &s);

	if (!err)
		err = batch_send_finish(s, 25000, &out->sent);
	return err;
}

int batch_exact_run(const struct hook_desc *h, bool tcp, unsigned batch, uint64_t n,
		    uint64_t rate, uint64_t flush_us, struct batch_exact *out)
{
	bool dev = hook_on_device(h);
	struct topo t = { 0 };
	struct batch *skel = NULL;
	struct hook_prog hp;
	struct hook_inst *hi = NULL;
	struct batch_app *app = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	err = bench_topo_up(LAYOUT_RX_CPU1, &t);
	if (!err)
		err = prog_up(h, tcp, &t, batch, flush_us, &skel, &hp, &hi);
	if (!err)
		err = batch_app_start(&t, tcp, tcp ? -1 : bpf_map__fd(skel->maps.flushed),
				      dev ? -1 : hp.sockmap_fd, APP_CPU, &app);
	if (!err)
		err = exact_traffic(tcp, &t, app, n, rate, out);
	if (!err) {
		/* Stream hooks: a partial batch never leaves the parser. */
		batch_app_wait(app, !tcp ? out->sent : out->sent - out->sent % batch,
			       (int)(flush_us / 1000) + 3000);
		sleep_ns(flush_us * 2000 + 100000000ull); /* anything more would be extra */
		out->app_requests = app->st->requests;
		out->dups = app->st->dups;
		out->bad = app->st->bad;
		out->datagrams = app->st->datagrams;
		out->ring_records = app->st->ring_records;
		out->ring_requests = app->st->ring_requests;
		prog_sum(skel, &out->prog);
	}
	batch_app_free(app);
	prog_down(&skel, &hi);
	topo_down(&t);
	return err;
}

/* ---- figures --------------------------------------------------------- */

/* Published: UDP, batch 15, 1024 B requests; batched req/s over the socket's. */
static double published_speedup(const struct bench_cell *c)
{
	bool own = c->layout == LAYOUT_APP_OWN_CPU;

	if (c->batch != 16)
		return NAN;
	if (!strcmp(c->hook->name, "xdp"))
		return own ? 166.0 / 105 : 128.0 / 101;
	if (!strcmp(c->hook->name, "tc"))
		return own ? 162.0 / 105 : 120.0 / 101;
	return own ? 100.0 / 105 : 78.0 / 101;
}

static const char *prog_name(const struct bench_cell *c)
{
	if (c->tcp)
		return "batch_parser + batch_sk";
	if (hook_on_sockmap(c->hook))
		return "batchv_sk";
	return strcmp(c->hook->name, "xdp") ? "batch_tc" : "batch_xdp";
}

static json_t *cell_extra(struct bench_cell *c, const struct bench_series *s)
{
	struct batch_cell *bc = c->priv;

	return json_pack("{s:o, s:s, s:s, s:i, s:i, s:i, s:i, s:s, s:o,"
			 " s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:O}",
		"layout", bench_layout_json(c->layout, &bc->t), "proto", c->tcp ? "tcp" : "udp",
		"program_name", prog_name(c),
		"request_bytes", BATCH_REQ_SIZE, "flush_us", c->tcp ? 0 : BATCH_FLUSH_US,
		"latency_rate", BATCH_LAT_RATE, "app_cpu", APP_CPU,
		"flush", c->tcp ? "none: the parser waits for B requests' bytes"
				: "bpf_timer -> ringbuf record the app reads",
		"program", prog_json(&bc->prog),
		"sent_saturating_main", (json_int_t)bc->sent[ARM_MAIN],
		"sent_saturating_ref", (json_int_t)bc->sent[ARM_REF],
		"app_requests_main", (json_int_t)bc->received[ARM_MAIN],
		"app_requests_ref", (json_int_t)bc->received[ARM_REF],
		"duplicates", (json_int_t)bc->dups, "bad", (json_int_t)bc->bad,
		"per_trial_main", s->detail[ARM_MAIN], "per_trial_ref", s->detail[ARM_REF]);
}

static void speedup_figure(struct bench_cell *c, const struct bench_series *s)
{
	double sp[BENCH_MAX_TRIALS], pub = published_speedup(c);
	size_t n = s->n[ARM_MAIN] < s->n[ARM_REF] ? s->n[ARM_MAIN] : s->n[ARM_REF];
	json_t *extra = json_object();
	struct summary sum;

	for (size_t i = 0; i < n && i < BENCH_MAX_TRIALS; i++)
		sp[i] = s->v[ARM_REF][0][i] > 0 ? s->v[ARM_MAIN][0][i] / s->v[ARM_REF][0][i] : NAN;
	if (!isnan(pub) && !summarize(sp, n, &sum))
		json_object_update_new(extra, json_pack("{s:f, s:f, s:s}", "published", pub,
			"ratio", sum.median / pub, "published_setup",
			"bare metal, UDP batch 15 of 1024 B requests, batched / socket req/s "
			"(artifact batching/); ours: B 16 of 32 B"));
	bench_figure(c, c->variant, "speedup", "x",
		     "batched req/s / unbatched req/s, per pair of trials", sp, n, extra);
}

static int batch_report(struct bench_cell *c, const struct bench_series *s)
{
	static const struct {
		const char *metric, *unit, *method;
	} m[BENCH_MAX_METRICS] = {
		{ "rps", "requests/s", "requests the app unpacked per second, sender saturating" },
		{ "p50_us", "us", "p50 of stamp-to-app time per request, sender paced" },
		{ "p99_us", "us", "p99 of stamp-to-app time per request, sender paced" },
		{ "cpu_ns_per_req", "ns", "DUT CPU (CPU 1 all, CPU 0 softirq) per request, saturating" },
	};
	struct batch_cell *bc = c->priv;
	char name[64];

	if (bc->why) {
		bench_figure(c, c->variant, "unsupported", "", bc->why, NULL, 0, NULL);
		return 0;
	}
	if (bc->dups || bc->bad)
		pr_warn("batch %s: %llu duplicate and %llu malformed requests\n", c->hook->name,
			(unsigned long long)bc->dups, (unsigned long long)bc->bad);
	for (int k = 0; k < BENCH_MAX_METRICS; k++) {
		bench_figure(c, c->variant, m[k].metric, m[k].unit, m[k].method, s->v[ARM_MAIN][k],
			     s->n[ARM_MAIN], k == 0 ? cell_extra(c, s) : NULL);
		snprintf(name, sizeof(name), "%s_no_batching", m[k].metric);
		bench_figure(c, c->variant, name, m[k].unit, "the same, no program (paired trials)",
			     s->v[ARM_REF][k], s->n[ARM_REF], json_pack("{s:b}", "primary", 0));
	}
	speedup_figure(c, s);
	return bc->dups || bc->bad ? -EBADMSG : 0;
}

static const struct bench bench_batch = {
	.name = "batch",
	.summary = "batching at the hook: B requests as one packet (bpf_timer flush), vs none",
	.order = 130,
	.latency = true,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc,sk-skb-verdict,sk-skb-parser" },
		[AXIS_LAYOUT] = { "app-shares-rx-cpu,app-own-cpu", "app-shares-rx-cpu" },
		[AXIS_PROTO] = { "udp,tcp" },
		[AXIS_BATCH] = { "1,2,4,8,16,32", "32" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "batching", [ARM_REF] = "no program" },
	BENCH_METHODS(batch, struct batch_cell),
};
DEFINE_BENCH(bench_batch);
