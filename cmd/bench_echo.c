/*
 * bench echo: request/response latency.  One client in the gen namespace on
 * CPU 0 does closed-loop ping-pong with the DUT: send a request, wait for the
 * whole reply, check it is the same bytes, next.  The reply is made at the
 * hook (XDP_TX, bpf_redirect back out, sk redirect to the socket's egress)
 * or, for the baselines, by the udp-echo / tcp-echo app on CPU 1.  Each
 * trial gives p50, p99 and p99.9 of its round-trip times.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cmd/bench.h"
#include "cmd/bench_echo.h"
#include "lib/counters.h"
#include "lib/gen.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/link.h"

#define REPLY_BUF 2048
#define CONNECT_TIMEOUT_MS 1000

enum { REPLY_OK, REPLY_LOST, REPLY_BAD };

const char *bench_echo_reply_at(const struct hook_desc *h)
{
	return h->reply_at ? h->reply_at : h->summary;
}

static bool echo_applies(const struct hook_desc *h)
{
	return h && (h->kind == HOOK_BASELINE || hook_has_action(h, HOOK_ECHO));
}

/* ---- the client ------------------------------------------------------ */

struct echo_client {
	const struct topo *t;
	struct bench_app *app;        /* stream hooks: wait until it has mapped the socket */
	bool tcp, sockmap;
	size_t len;             /* bytes a request */
	int fd;                 /* kept across trials; -1: connect first */
	uint32_t seq;
	uint64_t conns;
	uint8_t req[REPLY_BUF], rep[REPLY_BUF];
	double *rtt;            /* ns, one per reply of this trial */
	size_t n, cap;
	/* The current trial. */
	uint64_t duration_ns;
	uint64_t requests, replies, lost, bad, late;
	uint64_t elapsed_ns;
	int err;
	struct counters_snap snap[2]; /* the program's, around the trials */
};

static void fill_request(struct echo_client *c)
{
	size_t k = c->len < sizeof(c->seq) ? c->len : sizeof(c->seq);

	memcpy(c->req, &c->seq, k);
	if (c->len > k)
		app_pattern_fill(c->req + k, c->len - k, (uint64_t)c->seq * c->len);
}

/* Wait until fd is readable, up to deadline: true when it is. */
static bool wait_in(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t now = now_ns();

	if (now >= deadline)
		return false;
	return poll(&p, 1, (int)((deadline - now + 999999) / 1000000)) > 0;
}

static int client_connect(struct echo_client *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(GEN_DPORT) };
	struct timeval rto = { .tv_usec = ECHO_TIMEOUT_MS * 1000 };
	struct timeval sto = { .tv_sec = CONNECT_TIMEOUT_MS / 1000 };
	int one = 1, fd, err;

	if (inet_pton(AF_INET, c->t->ip4_dut, &sa.sin_addr) != 1)
		return -EINVAL;
	/* The calling thread is in the gen namespace. */
	fd = socket(AF_INET, (c->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rto, sizeof(rto)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sto, sizeof(sto)) ||
	    (c->tcp && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto fail;
	}
	c->conns++;
	/* Stream hooks: the program must see the first request. */
	if (c->sockmap) {
		err = bench_app_wait_count(c->app, offsetof(struct app_stats, sockmap_added), c->conns,
				     CONNECT_TIMEOUT_MS);
		if (err) {
			pr_warn("bench echo: the app did not put the socket in the sockhash\n");
			goto fail;
		}
	}
	c->fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

static void client_close(struct echo_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* UDP: the datagram carrying this request's bytes; older replies are skipped. */
static int udp_reply(struct echo_client *c, uint64_t deadline)
{
	size_t k = c->len < sizeof(c->seq) ? c->len : sizeof(c->seq);

	for (int i = 0; i < 64; i++) {
		uint32_t seq = 0;
		ssize_t n;

		/* The first wait is the socket's own timeout (one syscall). */
		if (i && !wait_in(c->fd, deadline))
			return REPLY_LOST;
		n = recv(c->fd, c->rep, sizeof(c->rep), i ? MSG_DONTWAIT : 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED)
				continue;
			return -errno;
		}
		memcpy(&seq, c->rep, k);
		if ((size_t)n == c->len && k == sizeof(seq) && seq != c->seq &&
		    c->seq - seq < (1u << 31)) {
			c->late++;
			continue;
		}
		if ((size_t)n != c->len || memcmp(c->rep, c->req, c->len))
			return REPLY_BAD;
		return REPLY_OK;
	}
	return REPLY_LOST;
}

/* TCP: exactly len bytes back. */
static int tcp_reply(struct echo_client *c, uint64_t deadline)
{
	size_t got = 0;

	for (int i = 0; got < c->len && i < 4096; i++) {
		ssize_t n;

		if (i && !wait_in(c->fd, deadline))
			return REPLY_LOST;
		n = recv(c->fd, c->rep + got, c->len - got, i ? MSG_DONTWAIT : 0);
		if (n == 0)
			return REPLY_LOST; /* closed */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return REPLY_LOST; /* reset */
		}
		got += n;
	}
	if (got < c->len)
		return REPLY_LOST;
	return memcmp(c->rep, c->req, c->len) ? REPLY_BAD : REPLY_OK;
}

static bool send_request(struct echo_client *c)
{
	size_t sent = 0;

	for (int i = 0; sent < c->len && i < 16; i++) {
		ssize_t n = send(c->fd, c->req + sent, c->len - sent, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		sent += n;
	}
	return sent == c->len;
}

/* One trial: ping-pong until duration_ns, the count cap or a stop signal. */
static int client_loop(struct echo_client *c)
{
	uint64_t start = now_ns(), end = start + c->duration_ns;
	int rc, err;

	while (now_ns() < end && c->n < c->cap && !run_stopping()) {
		uint64_t t0, t1;

		if (c->fd < 0) {
			err = client_connect(c);
			if (err)
				return err;
		}
		c->seq++;
		fill_request(c);
		t0 = now_ns();
		c->requests++;
		if (!send_request(c)) {
			rc = REPLY_LOST;
		} else {
			rc = c->tcp ? tcp_reply(c, t0 + ECHO_TIMEOUT_MS * 1000000ull)
				    : udp_reply(c, t0 + ECHO_TIMEOUT_MS * 1000000ull);
			if (rc < 0)
				return rc;
		}
		t1 = now_ns();
		switch (rc) {
		case REPLY_OK:
			c->rtt[c->n++] = (double)(t1 - t0);
			c->replies++;
			break;
		case REPLY_LOST:
			c->lost++;
			break;
		default:
			c->bad++;
			break;
		}
		/* A stream out of step is not resumed: a new connection. */
		if (rc != REPLY_OK && c->tcp)
			client_close(c);
	}
	c->elapsed_ns = now_ns() - start;
	return 0;
}

static void *client_main(void *arg)
{
	struct echo_client *c = arg;
	struct nstoken *tok = netns_enter(&c->t->gen);

	if (!tok) {
		c->err = -errno;
		return NULL;
	}
	c->err = pin_thread_cpu(0);
	if (!c->err)
		c->err = client_loop(c);
	netns_leave(tok);
	return NULL;
}

/* Run one trial (or the warm-up) in a client thread. */
static int client_trial(struct echo_client *c, uint64_t duration_ms)
{
	pthread_t th;
	int err;

	c->duration_ns = duration_ms * 1000000ull;
	c->n = 0;
	c->requests = c->replies = c->lost = c->bad = c->late = 0;
	c->elapsed_ns = 0;
	c->err = 0;
	err = pthread_create(&th, NULL, client_main, c);
	if (err)
		return -err;
	pthread_join(th, NULL);
	return c->err;
}

/* ---- one hook -------------------------------------------------------- */

static unsigned hist_bucket(double ns)
{
	uint64_t v = ns < 1 ? 1 : (uint64_t)ns;
	unsigned k = v <= 1 ? 0 : 64 - __builtin_clzll(v - 1);

	return k < ECHO_HIST_BUCKETS ? k : ECHO_HIST_BUCKETS - 1;
}

static void trial_summary(struct echo_client *c, struct echo_result *r, struct echo_trial *tr)
{
	double sum = 0;

	tr->requests = c->requests;
	tr->replies = c->replies;
	tr->lost = c->lost;
	tr->bad = c->bad;
	tr->late = c->late;
	tr->rate = c->elapsed_ns ? c->replies * 1e9 / (double)c->elapsed_ns : 0;
	sort_doubles(c->rtt, c->n);
	for (size_t i = 0; i < c->n; i++) {
		r->hist[hist_bucket(c->rtt[i])]++;
		sum += c->rtt[i];
	}
	tr->p50_us = percentile_sorted(c->rtt, c->n, 50) / 1e3;
	tr->p99_us = percentile_sorted(c->rtt, c->n, 99) / 1e3;
	tr->p999_us = percentile_sorted(c->rtt, c->n, 99.9) / 1e3;
	tr->min_us = c->n ? c->rtt[0] / 1e3 : NAN;
	tr->max_us = c->n ? c->rtt[c->n - 1] / 1e3 : NAN;
	tr->mean_us = c->n ? sum / (double)c->n / 1e3 : NAN;
	r->requests += c->requests;
	r->replies += c->replies;
	r->lost += c->lost;
	r->bad += c->bad;
	r->late += c->late;
}

/* b - a for every counter of struct app_stats (all uint64_t from packets on). */
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

static enum app_kind app_for(const struct hook_desc *h)
{
	bool tcp = bench_hook_is_tcp(h);

	/* With a program the app must get nothing: a sink shows it. */
	if (h->kind == HOOK_BASELINE)
		return tcp ? APP_TCP_ECHO : APP_UDP_ECHO;
	return tcp ? APP_TCP_SINK : APP_UDP_SINK;
}

int bench_echo_measure(const struct hook_desc *h, const struct bench_cfg *cfg,
		       const struct bench_ctx *ctx, struct echo_result *r)
{
	struct hook_opts ho = { .port = GEN_DPORT };
	struct hook_inst *hi = NULL, *peer = NULL;
	bool tcp = bench_hook_is_tcp(h);
	uint64_t size = cfg->size < 64 ? 64 : cfg->size > 1500 ? 1500 : cfg->size;
	struct echo_client *c = calloc(1, sizeof(*c));
	struct app_stats a0, a1;
	struct bench_app *app = NULL;
	struct topo t = { 0 };
	size_t ntrials = cfg->trials < ECHO_MAX_TRIALS ? cfg->trials : ECHO_MAX_TRIALS;
	int err = -ENOMEM;

	memset(r, 0, sizeof(*r));
	if (!c)
		return err;
	c->fd = -1;
	c->cap = ECHO_MAX_REQUESTS;
	c->rtt = malloc(c->cap * sizeof(*c->rtt));
	if (!c->rtt)
		goto cleanup;
	err = bench_topo_up(LAYOUT_RX_CPU1, &t);
	if (err)
		goto cleanup;
	/*
	 * Tx checksum offload (and with it TSO) off on gen, for every hook:
	 * native XDP_TX needs complete checksums, and from a TSO-capable veth
	 * socket skbs skip the peer's NAPI (netif_rx on the sending CPU), so
	 * the DUT's receive processing would not be on CPU 1.
	 */
	err = link_set_tx_csum(&t.gen, t.if_gen, false);
	if (err) {
		pr_warn("bench echo: tx checksum offload off on %s: %s\n", t.if_gen,
			strerror(-err));
		goto cleanup;
	}
	if (!strcmp(h->name, "xdp")) {
		/* Native XDP_TX frames reach gen only when it runs XDP too. */
		err = hook_attach(h, HOOK_EMPTY, &t.gen, t.if_gen, 0, &peer);
		if (err)
			goto cleanup;
	}
	if (h->kind == HOOK_PACKET) {
		err = hook_attach(h, HOOK_ECHO, &t.dut, t.if_dut, GEN_DPORT, &hi);
	} else if (h->kind == HOOK_STREAM) {
		ho.msg_size = h->parser ? (uint32_t)size : 0; /* one verdict a request */
		err = hook_attach_opts(h, HOOK_ECHO, &t.dut, NULL, &ho, &hi);
	}
	if (err)
		goto cleanup;
	err = bench_app_start(ctx, &t, app_for(h), 1, size, hi, &app);
	if (err)
		goto cleanup;

	c->t = &t;
	c->app = app;
	c->tcp = tcp;
	c->sockmap = h->kind == HOOK_STREAM;
	c->len = tcp ? size : size > ECHO_UDP_HDRS ? size - ECHO_UDP_HDRS : 1;
	r->len = c->len;

	if (ctx)
		bench_progress(ctx, "warm-up");
	if (cfg->warmup_ms) {
		err = client_trial(c, cfg->warmup_ms);
		if (err)
			goto cleanup;
		r->warmup_requests = c->requests;
	}
	bench_settle();
	if (hi)
		counters_snap(hook_counters(hi), &c->snap[0]);
	bench_app_read(app, &a0);
	cpuidle_usage_read(&r->idle[0]);
	for (size_t i = 0; i < ntrials && !run_stopping(); i++) {
		if (ctx)
			bench_progress(ctx, "trial %zu/%zu", i + 1, ntrials);
		err = client_trial(c, cfg->duration_ms);
		if (err)
			goto cleanup;
		trial_summary(c, r, &r->trial[r->ntrials++]);
		if (!c->n) {
			pr_warn("bench echo %s: no replies in trial %zu (%llu requests)\n", h->name,
				i + 1, (unsigned long long)c->requests);
			err = -EIO;
			goto cleanup;
		}
	}
	cpuidle_usage_read(&r->idle[1]);
	bench_settle();
	r->prog_cpu = -1;
	if (hi) {
		counters_snap(hook_counters(hi), &c->snap[1]);
		r->prog = counters_delta(&c->snap[0], &c->snap[1], r->prog_per_cpu);
		r->prog_cpu = counters_busiest_cpu(&c->snap[0], &c->snap[1]);
	}
	bench_app_read(app, &a1);
	app_delta(&a0, &a1, &r->app);
	r->connections = c->conns;
	r->layout = bench_layout_json(LAYOUT_RX_CPU1, &t);
	if (run_stopping())
		err = -EINTR;
cleanup:
	if (c)
		client_close(c);
	bench_app_free(app);
	hook_detach(hi);
	hook_detach(peer);
	topo_down(&t);
	if (c)
		free(c->rtt);
	free(c);
	if (err)
		bench_echo_release(r);
	return err;
}

void bench_echo_release(struct echo_result *r)
{
	json_decref(r->layout);
	r->layout = NULL;
}

/* ---- the bench ------------------------------------------------------- */

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
	if (h->kind == HOOK_BASELINE)
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
		"traffic", "proto", bench_hook_is_tcp(h) ? "tcp" : "udp",
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

/* The three percentile figures of one measured cell. */
static void echo_report(struct bench_ctx *ctx, const char *variant, const struct echo_result *r,
			double *const v[3])
{
	static const struct {
		const char *metric, *what;
	} m[] = {
		{ "p50_us", "p50" }, { "p99_us", "p99" }, { "p999_us", "p99.9" },
	};
	const struct hook_desc *h = ctx->hook;
	bool verified = r->bad == 0 && r->replies > 0;
	char method[256];

	for (size_t i = 0; i < r->ntrials; i++) {
		v[0][i] = r->trial[i].p50_us;
		v[1][i] = r->trial[i].p99_us;
		v[2][i] = r->trial[i].p999_us;
	}
	for (int k = 0; k < 3; k++) {
		json_t *extra = json_pack("{s:s, s:I, s:I, s:I, s:b}",
			"reply_made_at", bench_echo_reply_at(h),
			"requests", (json_int_t)r->requests, "replies", (json_int_t)r->replies,
			"lost", (json_int_t)r->lost, "replies_verified", verified);

		if (k == 0)
			json_object_update_missing_new(extra, echo_details_json(h, r));
		snprintf(method, sizeof(method), "%s of each trial's round trips, 1-client "
			 "ping-pong; reply: %s", m[k].what, bench_echo_reply_at(h));
		bench_add(ctx, variant, m[k].metric, "us", method, v[k], r->ntrials, extra);
	}
}

/* Measure and report the cell in the current cpu-idle mode. */
static int echo_cell(struct bench_ctx *ctx, struct echo_result *r, double *const v[3])
{
	const struct hook_desc *h = ctx->hook;
	const char *variant = cpuidle_current() == CPUIDLE_DEFAULT ? "cpu-idle-default" : NULL;
	int err = bench_echo_measure(h, ctx->cfg, ctx, r);

	if (err)
		return err;
	echo_report(ctx, variant, r, v);
	if (r->lost)
		pr_warn("echo %s: %llu of %llu requests got no reply within %d ms\n", h->name,
			(unsigned long long)r->lost, (unsigned long long)r->requests,
			ECHO_TIMEOUT_MS);
	if (r->bad)
		pr_warn("echo %s: %llu replies were not the bytes sent\n", h->name,
			(unsigned long long)r->bad);
	err = r->bad || !r->replies ? -EBADMSG : 0;
	bench_echo_release(r);
	return err;
}

static int echo_run(struct bench_ctx *ctx)
{
	struct echo_result *r = calloc(1, sizeof(*r));
	double *v[3] = { NULL };
	int err = -ENOMEM;

	for (int k = 0; k < 3; k++)
		v[k] = calloc(ECHO_MAX_TRIALS, sizeof(double));
	if (!r || !v[0] || !v[1] || !v[2])
		goto out;
	err = echo_cell(ctx, r, v);
	/* The full run also shows what an untuned host adds. */
	if (!err && ctx->cfg->cpu_idle == CPUIDLE_UNSET && !ctx->cfg->quick && !run_stopping()) {
		bench_progress(ctx, "cpu-idle default");
		cpuidle_set(CPUIDLE_DEFAULT);
		memset(r, 0, sizeof(*r));
		err = echo_cell(ctx, r, v);
		cpuidle_set(CPUIDLE_POLL);
	}
out:
	for (int k = 0; k < 3; k++)
		free(v[k]);
	free(r);
	return err;
}

static const struct bench bench_echo = {
	.name = "echo",
	.summary = "request/response latency (p50/p99/p99.9) when the hook makes the reply",
	.applies = echo_applies,
	.run = echo_run,
	.order = 40,
	.latency = true,
};
DEFINE_BENCH(bench_echo);
