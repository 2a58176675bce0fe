/*
 * bench share: kernel -> user channels (issue 12, item 2).  At xdp, tc and
 * sk-skb-verdict, bpf/share.bpf.c drops every request and shares a 64 B
 * record of it (with its bpf_ktime_get_ns() time) through one channel: the
 * shrunk packet itself, an ARRAY or HASH polled by syscall, a
 * BPF_F_MMAPABLE ring busy-polled, a RINGBUF with epoll or busy poll,
 * AF_XDP (xdp only), and USER_RINGBUF the other way (user space feeds the
 * program commands, drained per packet).  A consumer thread on the app CPU
 * drains the channel (bench/share_consume.c).  Per trial: records/s
 * delivered, % lost, delivery latency p50/p99, the consumer's CPU ns and
 * its access ns per record (the paper's Table 4 figure).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench/share.h"
#include "lib/log.h"
#include "lib/util.h"
#include "share.skel.h"

#define SHARE_MIN_PACKET (14 + 20 + 8 + 64) /* the packet channel's shrunk frame */
#define SHARE_PACED_RATE 50000ull            /* requests/s of the paced arm */

struct share_cell {
	struct share_result r;   /* first: bench_share_result() */
	struct topo t;
	struct share *skel;
	struct hook_inst *hi;
	struct rt_app *app;
	struct share_io *io;
};

const struct share_result *bench_share_result(const struct bench_cell *c)
{
	return c->priv;
}

/* Why a channel has no cell at a hook, or NULL. */
static const char *absent_why(const struct hook_desc *h, enum bench_channel ch)
{
	if (ch == CHAN_AF_XDP && strcmp(h->name, "xdp"))
		return "AF_XDP sockets receive only frames an XDP program redirects (xdp only)";
	if (ch == CHAN_PACKET && hook_on_sockmap(h))
		return "sk_skb sees a TCP byte stream: a shrunk 'packet' would be re-framed by the "
		       "stream, not read as one datagram (not built)";
	return NULL;
}

static bool share_applies(const struct bench_cell *c)
{
	const char *n = c->hook->name;

	if (strcmp(n, "xdp") && strcmp(n, "tc") && strcmp(n, "sk-skb-verdict"))
		return false;
	return !absent_why(c->hook, c->channel) && c->tcp == hook_is_tcp(c->hook);
}

static void share_plan(struct bench_cell *c)
{
	c->variant = bench_channel_names[c->channel];
	c->arms |= ARM_BIT(ARM_POST1);
	if (c->quick && c->trials_default && !c->trials)
		c->trials = 3;
	if (c->quick && !c->duration_ms)
		c->duration_ms = 200;
	if (!c->quick && !c->duration_ms)
		c->duration_ms = 300; /* bench all within 25 min */
	if (!c->quick && !c->warmup_ms)
		c->warmup_ms = 100;
}

/* The request bytes every record must carry: the generator's frame from the IP header on. */
static int expected_bytes(const struct share_cell *sc, uint64_t size, uint8_t *out)
{
	struct gen_frame_spec spec;
	uint8_t frame[GEN_MAX_FRAME];
	int err = gen_frame_spec_topo(&sc->t, 4, (unsigned)size, GEN_DPORT, &spec);

	if (!err)
		err = gen_build_frame(&spec, frame, sizeof(frame), NULL);
	if (!err)
		memcpy(out, frame + SHARE_DATA_OFF, SHARE_DATA_LEN);
	return err;
}

/* Load the object with only the hook's program, attach it, open the channel. */
static int load_and_attach(struct bench_cell *c, struct share_cell *sc)
{
	struct hook_prog hp;
	uint8_t expect[SHARE_DATA_LEN] = { 0 };
	char why[160] = "";
	int err;

	sc->skel = share__open();
	if (!sc->skel)
		return -errno;
	sc->skel->rodata->bench_port = GEN_DPORT;
	sc->skel->rodata->channel = (uint32_t)c->channel;
	err = hook_pick_progs(c->hook, sc->skel->obj, "share", &hp);
	if (err)
		return err;
	err = share__load(sc->skel);
	if (err) {
		snprintf(sc->r.why, sizeof(sc->r.why), "the kernel refused the program: %s",
			 strerror(-err));
		return 0;
	}
	hp.sockmap_fd = bpf_map__fd(sc->skel->maps.sockmap);
	if (!c->tcp)
		err = expected_bytes(sc, c->size, expect);
	if (!err)
		err = share_io_open(sc->skel, (int)c->channel, &sc->t.dut, sc->t.if_dut, expect,
				    !c->tcp, &sc->io, why, sizeof(why));
	if (err == -EOPNOTSUPP || err == -EINVAL || err == -EPERM) {
		snprintf(sc->r.why, sizeof(sc->r.why), "%s", why);
		return 0;
	}
	if (!err)
		err = hook_attach_prog(c->hook, &hp, &sc->t.dut, sc->t.if_dut, &sc->hi);
	if (!err && c->tcp) /* accepted sockets go in the object's sockhash */
		err = bench_cell_app(c, &sc->t, APP_TCP_SINK, 1, sc->hi, &sc->app);
	if (err && why[0])
		pr_warn("share %s %s: %s\n", c->hook->name, c->variant, why);
	return err;
}

static int share_setup(struct bench_cell *c)
{
	struct share_cell *sc = c->priv;
	int err;

	if ((c->channel == CHAN_PACKET || c->channel == CHAN_AF_XDP) && c->size < SHARE_MIN_PACKET) {
		snprintf(sc->r.why, sizeof(sc->r.why), "the channel puts the record in a frame of %d B: "
			 "requests of %llu B are smaller", SHARE_MIN_PACKET,
			 (unsigned long long)c->size);
		return 0;
	}
	err = bench_topo_up(c->layout, &sc->t);
	return err ? err : load_and_attach(c, sc);
}

static void share_teardown(struct bench_cell *c)
{
	struct share_cell *sc = c->priv;

	rt_app_free(sc->app);
	hook_detach(sc->hi);
	share_io_close(sc->io);
	share__destroy(sc->skel);
	topo_down(&sc->t);
}

/* ---- one trial --------------------------------------------------------- */

struct share_snaps {
	struct share_cell *sc;
	struct share_consumer *k;
	bool urb;
	struct share_stats st[3];
	struct share_cpu prog[3], before; /* window snaps; before the trial */
	const struct gen_result *gen;     /* each measurement attempt's */
	uint64_t sent, xmit_errors, sent_bytes; /* summed over the attempts */
};

static void prog_sum(const struct share *skel, struct share_cpu *out)
{
	int n = cpu_count() < SHARE_MAX_CPUS ? cpu_count() : SHARE_MAX_CPUS;

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < n; c++) {
		const struct share_cpu *p = &skel->bss->cpus[c];

		out->seen += __atomic_load_n(&p->seen, __ATOMIC_RELAXED);
		out->lost += __atomic_load_n(&p->lost, __ATOMIC_RELAXED);
		out->errors += __atomic_load_n(&p->errors, __ATOMIC_RELAXED);
		out->cmds += __atomic_load_n(&p->cmds, __ATOMIC_RELAXED);
		out->cmd_bad += __atomic_load_n(&p->cmd_bad, __ATOMIC_RELAXED);
	}
}

static void share_snap(void *arg, int when)
{
	struct share_snaps *s = arg;

	prog_sum(s->sc->skel, &s->prog[when]);
	share_consumer_read(s->k, &s->st[when]);
	if (when == 1 && s->urb) /* the traffic's tail drains what is left */
		share_consumer_quiesce(s->k);
	if (when == 2) { /* bench_measure may measure again: the program counts on */
		s->sent += s->gen->sent;
		s->xmit_errors += s->gen->xmit_errors;
		s->sent_bytes += s->gen->bytes;
	}
}

/* The program's command latency histogram (user ringbuf), summed over CPUs. */
static void cmd_hist(const struct share *skel, uint64_t *out)
{
	int n = cpu_count() < SHARE_MAX_CPUS ? cpu_count() : SHARE_MAX_CPUS;

	memset(out, 0, SHARE_HIST * sizeof(*out));
	for (int c = 0; c < n; c++)
		for (int b = 0; b < SHARE_HIST; b++)
			out[b] += skel->bss->cmd_hist[c][b];
}

static double per(double num, double den)
{
	return den > 0 ? num / den : NAN;
}

/* Metrics of a trial: v[] and its detail. */
static void trial_figures(struct bench_cell *c, struct share_snaps *s,
			  const struct share_stats *fin, const uint64_t *hist, uint64_t win_ns,
			  struct bench_trial *t)
{
	struct share_cpu d = { .seen = s->prog[2].seen - s->before.seen };
	uint64_t got = s->urb ? s->prog[1].cmds - s->prog[0].cmds
			      : s->st[1].delivered - s->st[0].delivered;
	uint64_t used = s->st[1].delivered - s->st[0].delivered; /* urb: submitted */
	uint64_t lost = s->urb ? fin->failed : fin->gaps + fin->tail_missing;
	double total = s->urb ? (double)(fin->delivered + fin->failed) : (double)d.seen;

	t->v[0] = per(got * 1e9, (double)win_ns);
	t->v[1] = share_hist_pct(hist, 0.50) / 1e3;
	t->v[2] = share_hist_pct(hist, 0.99) / 1e3;
	t->v[3] = per((double)(s->st[1].access_ns - s->st[0].access_ns), (double)used);
	t->detail = json_pack("{s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			      " s:I, s:I, s:I}",
		"lost_pct", per(lost * 100.0, total),
		"consumer_cpu_ns", per((double)(s->st[1].cpu_ns - s->st[0].cpu_ns), (double)used),
		"reads_per_record", per((double)(s->st[1].reads - s->st[0].reads), (double)used),
		"sent", (json_int_t)s->sent, "seen", (json_int_t)d.seen,
		"delivered", (json_int_t)fin->delivered, "gaps", (json_int_t)fin->gaps,
		"tail_missing", (json_int_t)fin->tail_missing,
		"prog_lost", (json_int_t)(s->prog[2].lost - s->before.lost),
		"prog_errors", (json_int_t)(s->prog[2].errors - s->before.errors),
		"ext_lost", (json_int_t)fin->ext_lost, "bad", (json_int_t)fin->bad,
		"disorder", (json_int_t)fin->disorder,
		"cmds_drained", (json_int_t)(s->prog[2].cmds - s->before.cmds),
		"cmds_failed", (json_int_t)fin->failed, "window_ns", (json_int_t)win_ns);
}

static void keep_totals(struct share_cell *sc, const struct share_snaps *s,
			const struct share_stats *fin)
{
	struct share_result *r = &sc->r;

	r->sent += s->sent;
	r->xmit_errors += s->xmit_errors;
	r->sent_bytes += s->sent_bytes;
	r->st.bytes += fin->bytes;
	r->seen += s->prog[2].seen - s->before.seen;
	r->prog_lost += s->prog[2].lost - s->before.lost;
	r->prog_errors += s->prog[2].errors - s->before.errors;
	r->cmds += s->prog[2].cmds - s->before.cmds;
	r->cmd_bad += s->prog[2].cmd_bad - s->before.cmd_bad;
	r->st.delivered += fin->delivered;
	r->st.gaps += fin->gaps;
	r->st.tail_missing += fin->tail_missing;
	r->st.bad += fin->bad;
	r->st.disorder += fin->disorder;
	r->st.failed += fin->failed;
	r->st.ext_lost += fin->ext_lost;
	for (int b = 0; b < SHARE_HIST; b++)
		r->st.hist[b] += fin->hist[b];
	r->trials++;
}

static int saturated_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct share_cell *sc = c->priv;
	struct share_snaps *s = calloc(1, sizeof(*s));
	struct share_stats *fin = calloc(1, sizeof(*fin));
	struct gen_result *r = calloc(1, sizeof(*r));
	uint64_t *h0 = calloc(2 * SHARE_HIST, sizeof(*h0)), win_ns = 0;
	int err = -ENOMEM;

	if (!s || !fin || !r || !h0)
		goto out;
	s->sc = sc;
	s->urb = c->channel == CHAN_USER_RINGBUF;
	s->gen = r;
	cmd_hist(sc->skel, h0);
	prog_sum(sc->skel, &s->before);
	err = share_consumer_start(sc->io, 1, 0, 0, &s->k);
	if (err)
		goto out;
	err = bench_measure(&sc->t, c->tcp ? GEN_MODE_TCP : GEN_MODE_LIVE, c->size, t->ms,
			    share_snap, s, r, &win_ns);
	share_consumer_stop(s->k, fin);
	if (err)
		goto out;
	prog_sum(sc->skel, &s->prog[2]);
	if (s->urb) {
		cmd_hist(sc->skel, h0 + SHARE_HIST);
		for (int b = 0; b < SHARE_HIST; b++)
			h0[b] = h0[SHARE_HIST + b] - h0[b];
	}
	trial_figures(c, s, fin, s->urb ? h0 : fin->hist, win_ns, t);
	if (!t->warmup)
		keep_totals(sc, s, fin);
out:
	free(s);
	free(fin);
	free(r);
	free(h0);
	return err;
}

/* ---- the paced arm ------------------------------------------------------ */

/* Latency of a channel that keeps up: requests (and commands) at
 * SHARE_PACED_RATE a second from CPU 0, the consumer on CPU 1. */
static int paced_run(struct bench_cell *c, uint64_t ms, struct share_stats *fin, uint64_t *h,
		     struct share_cpu *d, struct gen_result *r)
{
	struct share_cell *sc = c->priv;
	bool urb = c->channel == CHAN_USER_RINGBUF;
	uint64_t n = SHARE_PACED_RATE * ms / 1000;
	struct share_consumer *k;
	struct share_cpu before;
	struct gen_cfg g;
	int err;

	gen_cfg_init(&g);
	g.size = (unsigned)c->size;
	g.cpus = 1;
	g.threads = 1;
	g.count = n;
	g.rate_pps = SHARE_PACED_RATE;
	g.dport = GEN_DPORT;
	cmd_hist(sc->skel, h);
	prog_sum(sc->skel, &before);
	/* Commands stop a tenth early: the last packets drain them. */
	err = share_consumer_start(sc->io, 1, urb ? SHARE_PACED_RATE : 0, n * 9 / 10, &k);
	if (err)
		return err;
	err = gen_run(&sc->t, c->tcp ? GEN_MODE_TCP : GEN_MODE_LIVE, &g, r);
	bench_settle();
	share_consumer_stop(k, fin);
	prog_sum(sc->skel, d);
	d->seen -= before.seen;
	d->cmds -= before.cmds;
	if (urb) {
		cmd_hist(sc->skel, h + SHARE_HIST);
		for (int b = 0; b < SHARE_HIST; b++)
			h[b] = h[SHARE_HIST + b] - h[b];
	} else {
		memcpy(h, fin->hist, sizeof(fin->hist));
	}
	return err;
}

static int paced_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct share_stats *fin = calloc(1, sizeof(*fin));
	struct gen_result *r = calloc(1, sizeof(*r));
	uint64_t *h = calloc(2 * SHARE_HIST, sizeof(*h));
	uint64_t cap = c->quick ? 100 : 500, ms = t->ms > cap ? cap : t->ms; /* 5k, 25k requests */
	struct share_cpu d;
	int err = -ENOMEM;

	if (fin && r && h)
		err = paced_run(c, ms, fin, h, &d, r);
	if (!err) {
		bool urb = c->channel == CHAN_USER_RINGBUF;
		uint64_t missing = fin->gaps + fin->tail_missing;

		t->v[0] = share_hist_pct(h, 0.50) / 1e3;
		t->v[1] = share_hist_pct(h, 0.99) / 1e3;
		t->v[2] = urb ? per(fin->failed * 100.0, (double)(fin->delivered + fin->failed))
			      : per(missing * 100.0, (double)d.seen);
		t->detail = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "sent", (json_int_t)r->sent,
				      "seen", (json_int_t)d.seen, "delivered",
				      (json_int_t)(urb ? d.cmds : fin->delivered),
				      "missing", (json_int_t)(urb ? fin->failed : missing),
				      "bad", (json_int_t)fin->bad, "ms", (json_int_t)ms);
	}
	free(fin);
	free(r);
	free(h);
	return err;
}

static int share_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct share_cell *sc = c->priv;

	if (sc->r.why[0]) {  /* not measurable here: the report says why */
		for (int m = 0; m < BENCH_MAX_METRICS; m++)
			t->v[m] = NAN;
		return 0;
	}
	return t->arm == ARM_POST1 ? paced_trial(c, t) : saturated_trial(c, t);
}

/* ---- report ------------------------------------------------------------ */

/* Published figures (anchor-figures.md): Table 4 access ns; throughput Mpps. */
static double published_access_ns(enum bench_channel ch)
{
	static const double ns[CHAN__COUNT] = {
		[CHAN_ARRAY] = 485, [CHAN_HASH] = 495, [CHAN_MMAP_RING] = 2,
		[CHAN_RINGBUF_EPOLL] = 10, [CHAN_RINGBUF_POLL] = 10, [CHAN_AF_XDP] = 14,
	};
	return ns[ch];
}

static double published_mpps(const struct bench_cell *c, const char **src)
{
	int h = !strcmp(c->hook->name, "xdp") ? 0 : !strcmp(c->hook->name, "tc") ? 1 : 2;
	static const double mmap_ring[3] = { 4.8, 2.3, 1.0 }, ringbuf[3] = { 2.09, 1.68, 0.67 };

	*src = "communication/bpf_channel_tput (artifact), per hook";
	if (c->channel == CHAN_MMAP_RING)
		return mmap_ring[h];
	if (c->channel == CHAN_RINGBUF_EPOLL || c->channel == CHAN_RINGBUF_POLL)
		return ringbuf[h];
	*src = "paper Fig. 13 (hook not stated)";
	if (h == 0 && c->channel == CHAN_ARRAY)
		return 0.95;
	if (h == 0 && c->channel == CHAN_AF_XDP)
		return 13.4;
	return 0;
}

/* Median of a detail field over the kept trials, and the per-trial array. */
static size_t detail_array(const struct bench_series *s, const char *key, double *out)
{
	size_t n = 0;

	for (size_t i = 0; i < json_array_size(s->detail[ARM_MAIN]) && n < BENCH_MAX_TRIALS; i++) {
		json_t *v = json_object_get(json_array_get(s->detail[ARM_MAIN], i), key);

		out[n++] = json_is_number(v) ? json_number_value(v) : NAN;
	}
	return n;
}

static double median_arr(const double *x, size_t n)
{
	double *y = malloc(n * sizeof(*y)), m;
	size_t k = 0;

	for (size_t i = 0; y && i < n; i++)
		if (!isnan(x[i]))
			y[k++] = x[i];
	for (size_t i = 1; i < k; i++) /* insertion sort: a few trials */
		for (size_t j = i; j > 0 && y[j - 1] > y[j]; j--) {
			m = y[j];
			y[j] = y[j - 1];
			y[j - 1] = m;
		}
	m = k ? (k % 2 ? y[k / 2] : (y[k / 2 - 1] + y[k / 2]) / 2) : NAN;
	free(y);
	return m;
}

/* The channels this hook has no cell for, and why. */
static json_t *absent_json(const struct hook_desc *h)
{
	json_t *o = json_object();

	for (int ch = 0; ch < CHAN__COUNT; ch++)
		if (absent_why(h, (enum bench_channel)ch))
			json_object_set_new(o, bench_channel_names[ch],
					    json_string(absent_why(h, (enum bench_channel)ch)));
	return o;
}

static json_t *totals_json(const struct bench_cell *c, const struct share_cell *sc)
{
	const struct share_result *r = &sc->r;

	return json_pack("{s:o, s:o, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:I, s:b}",
		"layout", bench_layout_json(c->layout, &sc->t),
		"channels_absent_at_this_hook", absent_json(c->hook),
		"attach_mode", c->hook->attach_mode,
		"traffic", c->tcp ? "TCP, 4 connections, fixed-size requests; one record per verdict"
				  : "live-frames UDP, one record per frame",
		"seen", (json_int_t)r->seen, "delivered", (json_int_t)r->st.delivered,
		"gaps", (json_int_t)r->st.gaps, "tail_missing", (json_int_t)r->st.tail_missing,
		"prog_lost", (json_int_t)r->prog_lost, "prog_errors", (json_int_t)r->prog_errors,
		"ext_lost", (json_int_t)r->st.ext_lost, "bad", (json_int_t)r->st.bad,
		"disorder", (json_int_t)r->st.disorder, "cmds_drained", (json_int_t)r->cmds,
		"cmds_submitted", (json_int_t)(c->channel == CHAN_USER_RINGBUF ? r->st.delivered : 0),
		"accounted", c->channel == CHAN_USER_RINGBUF ? r->cmds == r->st.delivered
			: r->st.delivered + r->st.gaps + r->st.tail_missing == r->seen);
}

static json_t *with_published(json_t *extra, double ours, double published, const char *src)
{
	if (published > 0 && !isnan(ours))
		json_object_update_new(extra, json_pack("{s:f, s:f, s:s}", "published", published,
							"ratio", ours / published,
							"published_source", src));
	return extra;
}

/* Latency at SHARE_PACED_RATE, where the channel keeps up. */
static int paced_report(struct bench_cell *c, const struct bench_series *s)
{
	size_t n = s->n[ARM_POST1];
	char what[160];

	if (!n)
		return 0;
	snprintf(what, sizeof(what), "as latency_p50_us, at %llu requests/s%s (open loop, paced "
		 "in bursts every 200 us)", SHARE_PACED_RATE,
		 c->channel == CHAN_USER_RINGBUF ? " and commands/s" : "");
	bench_figure(c, c->variant, "paced_latency_p50_us", "us", what, s->v[ARM_POST1][0], n,
		     json_pack("{s:I, s:f, s:O}", "offered_per_s", (json_int_t)SHARE_PACED_RATE,
			       "lost_pct", median_arr(s->v[ARM_POST1][2], n),
			       "per_trial", s->detail[ARM_POST1]));
	bench_figure(c, c->variant, "paced_latency_p99_us", "us", what, s->v[ARM_POST1][1], n,
		     NULL);
	return 0;
}

static int share_report(struct bench_cell *c, const struct bench_series *s)
{
	struct share_cell *sc = c->priv;
	bool urb = c->channel == CHAN_USER_RINGBUF;
	const char *unit = urb ? "commands" : "records", *src;
	double lost[BENCH_MAX_TRIALS], cpu[BENCH_MAX_TRIALS], mpps = published_mpps(c, &src);
	size_t n = s->n[ARM_MAIN];
	char u[64];

	if (sc->r.why[0]) {
		bench_figure(c, c->variant, "records_per_s", "records/s", "not measured", NULL, 0,
			     json_pack("{s:s}", "not_measured", sc->r.why));
		pr_warn("share %s %s: not measured: %s\n", c->hook->name, c->variant, sc->r.why);
		return 0;
	}
	detail_array(s, "lost_pct", lost);
	detail_array(s, "consumer_cpu_ns", cpu);
	snprintf(u, sizeof(u), "%s/s", unit);
	bench_figure(c, c->variant, "records_per_s", u, urb
		     ? "commands the program drained (bpf_user_ringbuf_drain per packet) per second"
		     : "records the consumer read intact and in sequence, per second of sending",
		     s->v[ARM_MAIN][0], n,
		     with_published(totals_json(c, sc), median_arr(s->v[ARM_MAIN][0], n) / 1e6,
				    mpps, src));
	bench_figure(c, c->variant, "lost_pct", "%", urb
		     ? "user_ring_buffer__reserve failures (ring full) / commands tried"
		     : "records not read (seq gaps, program-side losses) / requests the program saw",
		     lost, n, json_pack("{s:O}", "per_trial", s->detail[ARM_MAIN]));
	bench_figure(c, c->variant, "latency_p50_us", "us", urb
		     ? "command: user CLOCK_MONOTONIC at submit to bpf_ktime_get_ns at drain"
		     : "record: bpf_ktime_get_ns to the consumer's CLOCK_MONOTONIC after its read",
		     s->v[ARM_MAIN][1], n, NULL);
	bench_figure(c, c->variant, "latency_p99_us", "us", "as latency_p50_us, 99th percentile",
		     s->v[ARM_MAIN][2], n, NULL);
	snprintf(u, sizeof(u), "ns/%s", urb ? "command" : "record");
	bench_figure(c, c->variant, "consumer_cpu_ns", u,
		     "the consumer thread's CPU time (CLOCK_THREAD_CPUTIME_ID, = schedstat run "
		     "time) in the window / records it read", cpu, n, NULL);
	bench_figure(c, c->variant, "access_ns", u,
		     "time in the consumer's reads that returned records / records (paper Table 4)",
		     s->v[ARM_MAIN][3], n,
		     with_published(json_object(), median_arr(s->v[ARM_MAIN][3], n),
				    published_access_ns(c->channel), "paper Table 4"));
	return paced_report(c, s);
}

static const struct bench bench_share = {
	.name = "share",
	.summary = "kernel->user channels: records/s, loss, latency, consumer CPU, access ns",
	.order = 120,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc,sk-skb-verdict", "xdp,sk-skb-verdict" },
		[AXIS_LAYOUT] = { "app-own-cpu" },
		[AXIS_SIZE] = { "256" },
		[AXIS_RUNTIME] = { "netns" },
		[AXIS_CHANNEL] = { "packet,array,hash,mmap-ring,ringbuf-epoll,ringbuf-poll,af-xdp,"
				   "user-ringbuf", "array,mmap-ring,ringbuf-epoll,af-xdp,user-ringbuf" },
	},
	.arm_names = { [ARM_MAIN] = "saturated", [ARM_POST1] = "paced" },
	BENCH_METHODS(share, struct share_cell),
};
DEFINE_BENCH(bench_share);
