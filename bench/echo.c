/*
 * bench echo: request/response latency.  One client in the gen namespace on
 * CPU 0 does closed-loop ping-pong with the DUT (bench/echo_client.c).  The
 * reply is made at the hook (XDP_TX, bpf_redirect back out, sk redirect to
 * the socket's egress) or, for the baselines, by the udp-echo / tcp-echo
 * app on CPU 1.  Each trial gives p50, p99 and p99.9 of its round trips.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bench/echo.h"
#include "lib/log.h"
#include "lib/util.h"
#include "netns/cpu.h"

struct echo_cell {
	struct echo_result r;         /* first: bench_echo_result() */
	struct topo t;
	struct hook_inst *hi, *peer;
	struct rt_app *app;
	struct echo_client *client;
	struct counters_snap snap[2]; /* the program's, around the trials */
	struct app_stats a0;
};

const struct echo_result *bench_echo_result(const struct bench_cell *c)
{
	return c->priv;
}

static bool echo_applies(const struct bench_cell *c)
{
	return !hook_has_program(c->hook) || hook_has_action(c->hook, HOOK_ECHO);
}

static void echo_plan(struct bench_cell *c)
{
	c->variant = c->cpu_idle == CPUIDLE_DEFAULT ? "cpu-idle-default" : NULL;
}

/* With a program the app must get nothing: a sink shows it. */
static enum app_kind app_for(const struct bench_cell *c)
{
	if (!hook_has_program(c->hook))
		return c->tcp ? APP_TCP_ECHO : APP_UDP_ECHO;
	return c->tcp ? APP_TCP_SINK : APP_UDP_SINK;
}

static void app_delta(const struct app_stats *a, const struct app_stats *b, struct app_stats *d)
{
	size_t off = offsetof(struct app_stats, packets);

	*d = *b;
	for (; off + sizeof(uint64_t) <= sizeof(*d); off += sizeof(uint64_t)) {
		uint64_t x, y;

		memcpy(&x, (const char *)a + off, sizeof(x));
		memcpy(&y, (const char *)b + off, sizeof(y));
		y -= x;
		memcpy((char *)d + off, &y, sizeof(y));
	}
}

static int attach_echo(struct bench_cell *c, struct echo_cell *e, uint64_t size)
{
	const struct hook_desc *h = c->hook;
	struct hook_opts ho = { .port = GEN_DPORT };
	int err = 0;

	/* Native XDP_TX frames reach gen only when it runs XDP too. */
	if (h->peer_needs_xdp)
		err = hook_attach(h, HOOK_EMPTY, &e->t.gen, e->t.if_gen, 0, &e->peer);
	if (err || !hook_has_program(h))
		return err;
	ho.msg_size = h->parser ? (uint32_t)size : 0; /* one verdict a request */
	return hook_attach_opts(h, HOOK_ECHO, &e->t.dut, e->t.if_dut, &ho, &e->hi);
}

static int echo_setup(struct bench_cell *c)
{
	struct echo_cell *e = c->priv;
	uint64_t size = c->size < 64 ? 64 : c->size > 1500 ? 1500 : c->size;
	size_t len = c->tcp ? size : size > ECHO_UDP_HDRS ? size - ECHO_UDP_HDRS : 1;
	int err;

	c->size = size;
	err = bench_topo_up(LAYOUT_RX_CPU1, &e->t);
	if (!err)
		err = attach_echo(c, e, size);
	if (!err)
		err = bench_cell_app(c, &e->t, app_for(c), 1, e->hi, &e->app);
	if (!err)
		err = echo_client_new(&e->t, e->app, c->tcp, hook_on_sockmap(c->hook), len,
				      &e->client);
	e->r.len = len;
	e->r.prog_cpu = -1;
	e->r.layout = bench_layout_json(LAYOUT_RX_CPU1, &e->t);
	return err;
}

/* Counters before the first kept trial and after the last. */
static void echo_snap(struct bench_cell *c, struct echo_cell *e, int when)
{
	struct app_stats a1;

	bench_settle();
	if (e->hi)
		counters_snap(hook_counters(e->hi), &e->snap[when]);
	cpuidle_usage_read(&e->r.idle[when]);
	if (when == 0) {
		rt_app_read(e->app, &e->a0);
		return;
	}
	if (e->hi) {
		e->r.prog = counters_delta(&e->snap[0], &e->snap[1], e->r.prog_per_cpu);
		e->r.prog_cpu = counters_busiest_cpu(&e->snap[0], &e->snap[1]);
	}
	rt_app_read(e->app, &a1);
	app_delta(&e->a0, &a1, &e->r.app);
	e->r.connections = echo_client_connections(e->client);
}

static int echo_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct echo_cell *e = c->priv;
	struct echo_trial *tr;
	int err;

	if (t->warmup) {
		err = echo_client_trial(e->client, t->ms);
		e->r.warmup_requests += echo_client_requests(e->client);
		return err;
	}
	if (e->r.ntrials >= ECHO_MAX_TRIALS)
		return -E2BIG;
	if (e->r.ntrials == 0)
		echo_snap(c, e, 0);
	err = echo_client_trial(e->client, t->ms);
	if (err)
		return err;
	tr = &e->r.trial[e->r.ntrials++];
	echo_client_summary(e->client, &e->r, tr);
	if (!echo_client_replies(e->client)) {
		pr_warn("bench echo %s: no replies in trial %zu (%llu requests)\n", c->hook->name,
			t->index + 1, (unsigned long long)tr->requests);
		return -ETIMEDOUT;
	}
	t->v[0] = tr->p50_us;
	t->v[1] = tr->p99_us;
	t->v[2] = tr->p999_us;
	if (t->index + 1 == c->trials)
		echo_snap(c, e, 1);
	return 0;
}

static void echo_teardown(struct bench_cell *c)
{
	struct echo_cell *e = c->priv;

	echo_client_free(e->client);
	rt_app_free(e->app);
	hook_detach(e->hi);
	hook_detach(e->peer);
	topo_down(&e->t);
	json_decref(e->r.layout);
}

static json_t *hist_json(const struct echo_result *r)
{
	json_t *a = json_array();
	int lo = -1, hi = -1;

	for (int k = 0; k < ECHO_HIST_BUCKETS; k++) {
		if (!r->hist[k])
			continue;
		if (lo < 0)
			lo = k;
		hi = k;
	}
	for (int k = lo; lo >= 0 && k <= hi; k++)
		json_array_append_new(a, json_pack("{s:I, s:I}", "le_ns", (json_int_t)1 << k,
						   "count", (json_int_t)r->hist[k]));
	return a;
}

static json_t *trials_json(const struct echo_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->ntrials; i++) {
		const struct echo_trial *tr = &r->trial[i];

		json_array_append_new(a, json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
			"requests", (json_int_t)tr->requests, "replies", (json_int_t)tr->replies,
			"lost", (json_int_t)tr->lost, "bad", (json_int_t)tr->bad,
			"late", (json_int_t)tr->late, "p50_us", tr->p50_us, "p99_us", tr->p99_us,
			"p999_us", tr->p999_us, "min_us", tr->min_us, "max_us", tr->max_us,
			"mean_us", tr->mean_us, "round_trips_per_s", tr->rate));
	}
	return a;
}

/* What shows that the reply was made where it says. */
static json_t *where_json(const struct hook_desc *h, const struct echo_result *r)
{
	if (!hook_has_program(h))
		return json_pack("{s:I, s:I, s:I, s:I, s:i}",
				 "app_received", (json_int_t)r->app.packets,
				 "app_sent", (json_int_t)r->app.sent_packets,
				 "app_sent_bytes", (json_int_t)r->app.sent_bytes,
				 "app_missed_wakeup_bytes", (json_int_t)r->app.missed_wakeup_bytes,
				 "app_cpu", r->app.cpu);
	json_t *per_cpu = json_array();

	for (int k = 0; k < cpu_count() && k < OLAB_MAX_CPUS; k++)
		json_array_append_new(per_cpu, json_integer((json_int_t)r->prog_per_cpu[k]));
	return json_pack("{s:I, s:I, s:I, s:I, s:i, s:o, s:I}",
			 "prog_packets", (json_int_t)r->prog.packets,
			 "prog_bytes", (json_int_t)r->prog.bytes,
			 "prog_redirected", (json_int_t)r->prog.redirected,
			 "prog_errors", (json_int_t)r->prog.errors,
			 "prog_cpu", r->prog_cpu, "prog_per_cpu", per_cpu,
			 "app_received_bytes", (json_int_t)r->app.bytes);
}

/* Everything behind a cell's p50 figure: where the reply was made, the traffic, proof. */
static json_t *echo_details_json(const struct hook_desc *h, const struct echo_result *r)
{
	return json_pack("{s:O, s:s, s:{s:s, s:I, s:s, s:I, s:i, s:b}, s:I, s:I, s:I, s:o, s:o,"
			 " s:o, s:o}",
		"layout", r->layout, "attach_mode", h->attach_mode,
		"traffic", "proto", hook_is_tcp(h) ? "tcp" : "udp",
		"request_bytes", (json_int_t)r->len,
		"client", "1 thread, gen netns, pinned to CPU 0, closed loop; each reply matched "
			  "to its request by sequence number and bytes",
		"timeout_ms", (json_int_t)ECHO_TIMEOUT_MS, "connections", (int)r->connections,
		"gen_tx_csum_offload", false,
		"bad_replies", (json_int_t)r->bad, "late_replies", (json_int_t)r->late,
		"warmup_requests", (json_int_t)r->warmup_requests,
		"counters", where_json(h, r), "histogram", hist_json(r),
		"per_trial", trials_json(r),
		"idle_state_entries", cpuidle_usage_delta_json(&r->idle[0], &r->idle[1]));
}

/* The three percentile figures of the cell. */
static int echo_report(struct bench_cell *c, const struct bench_series *s)
{
	static const struct {
		const char *metric, *what;
	} m[] = {
		{ "p50_us", "p50" }, { "p99_us", "p99" }, { "p999_us", "p99.9" },
	};
	const struct echo_result *r = bench_echo_result(c);
	const struct hook_desc *h = c->hook;
	bool verified = r->bad == 0 && r->replies > 0;
	char method[256];

	for (int k = 0; k < 3; k++) {
		json_t *extra = json_pack("{s:s, s:I, s:I, s:I, s:b}",
			"reply_made_at", h->reply_at,
			"requests", (json_int_t)r->requests, "replies", (json_int_t)r->replies,
			"lost", (json_int_t)r->lost, "replies_verified", verified);

		if (k == 0)
			json_object_update_missing_new(extra, echo_details_json(h, r));
		snprintf(method, sizeof(method), "%s of each trial's round trips, 1-client "
			 "ping-pong; reply: %s", m[k].what, h->reply_at);
		bench_figure(c, c->variant, m[k].metric, "us", method, s->v[ARM_MAIN][k],
			     s->n[ARM_MAIN], extra);
	}
	if (r->lost)
		pr_warn("echo %s: %llu of %llu requests got no reply within %d ms\n", h->name,
			(unsigned long long)r->lost, (unsigned long long)r->requests,
			ECHO_TIMEOUT_MS);
	if (r->bad)
		pr_warn("echo %s: %llu replies were not the bytes sent\n", h->name,
			(unsigned long long)r->bad);
	return r->bad || !r->replies ? -EBADMSG : 0;
}

static const struct bench bench_echo = {
	.name = "echo",
	.summary = "request/response latency (p50/p99/p99.9) when the hook makes the reply",
	.order = 40,
	.latency = true,
	.axes = {
		/* The full run also shows what an untuned host adds. */
		[AXIS_CPU_IDLE] = { "poll,default", "poll" },
		[AXIS_RUNTIME] = { "netns" },
	},
	BENCH_METHODS(echo, struct echo_cell),
};
DEFINE_BENCH(bench_echo);
