/*
 * The echo bench's client: one thread in the gen namespace on CPU 0 does
 * closed-loop ping-pong with the DUT: send a request, wait for the whole
 * reply, check it is the same bytes, next.  Each trial gives the
 * percentiles of its round-trip times.
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
#include "bench/echo.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "netns/cpu.h"

#define REPLY_BUF 2048
#define CONNECT_TIMEOUT_MS 1000

enum { REPLY_OK, REPLY_LOST, REPLY_BAD };

struct echo_client {
	const struct topo *t;
	struct rt_app *app;     /* stream hooks: wait until it has mapped the socket */
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
		err = rt_app_wait_count(c->app, offsetof(struct app_stats, sockmap_added), c->conns,
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

void echo_client_close(struct echo_client *c)
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
			echo_client_close(c);
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

int echo_client_trial(struct echo_client *c, uint64_t duration_ms)
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

static unsigned hist_bucket(double ns)
{
	uint64_t v = ns < 1 ? 1 : (uint64_t)ns;
	unsigned k = v <= 1 ? 0 : 64 - __builtin_clzll(v - 1);

	return k < ECHO_HIST_BUCKETS ? k : ECHO_HIST_BUCKETS - 1;
}

void echo_client_summary(struct echo_client *c, struct echo_result *r, struct echo_trial *tr)
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

int echo_client_new(const struct topo *t, struct rt_app *app, bool tcp, bool sockmap, size_t len,
		    struct echo_client **out)
{
	struct echo_client *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	*c = (struct echo_client){ .t = t, .app = app, .tcp = tcp, .sockmap = sockmap, .len = len,
				   .fd = -1, .cap = ECHO_MAX_REQUESTS };
	c->rtt = malloc(c->cap * sizeof(*c->rtt));
	if (!c->rtt) {
		free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

uint64_t echo_client_requests(const struct echo_client *c)
{
	return c->requests;
}

uint64_t echo_client_replies(const struct echo_client *c)
{
	return c->n;
}

uint64_t echo_client_connections(const struct echo_client *c)
{
	return c->conns;
}

void echo_client_free(struct echo_client *c)
{
	if (!c)
		return;
	echo_client_close(c);
	free(c->rtt);
	free(c);
}
