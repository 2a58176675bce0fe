/*
 * bench interfere's client: a window of IFR_WINDOW requests in flight from
 * CPU 0 in the gen namespace, a fraction ω to the fast-path port (served at
 * the hook, or by a user-space echo without the offload) and the rest to
 * the socket app.  Replies are matched to their slot, checked byte for
 * byte and timed; a slot whose reply is IFR_TIMEOUT_MS late is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench/interfere_client.h"
#include "lib/apps.h"
#include "lib/run.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "netns/cpu.h"

#define IFR_BUF   2048
#define IFR_BATCH 16 /* replies read per recvmmsg */

struct ifr_slot {
	bool busy;
	uint8_t flow;
	uint32_t seq;
	uint64_t sent_ns;
};

struct ifr_client {
	const struct topo *t;
	unsigned pct;
	size_t len;
	int fd[2];                       /* by flow, connected */
	unsigned acc;                    /* ω accumulator: exact fractions */
	uint32_t seq;
	struct ifr_slot slot[IFR_WINDOW];
	unsigned in_flight;
	uint8_t req[IFR_WINDOW][IFR_BUF], rep[IFR_BATCH][IFR_BUF];
	double *rtt[2];
	size_t n[2];
	struct ifr_flow f[2];
	uint64_t elapsed_ns, duration_ns, max_requests;
	int err;
};

static int flow_socket(const struct topo *t, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int buf = 1 << 20, fd, err;

	if (inet_pton(AF_INET, t->ip4_dut, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int pick_flow(struct ifr_client *c)
{
	c->acc += c->pct;
	if (c->acc >= 100) {
		c->acc -= 100;
		return IFR_FLOW_FAST;
	}
	return IFR_FLOW_APP;
}

/* Fill slot k with a new request; its flow. */
static int new_request(struct ifr_client *c, int k)
{
	struct ifr_msg *m = (struct ifr_msg *)c->req[k];
	struct ifr_slot *s = &c->slot[k];
	int flow = pick_flow(c);

	*s = (struct ifr_slot){ .busy = true, .flow = flow, .seq = ++c->seq, .sent_ns = now_ns() };
	*m = (struct ifr_msg){ .magic = IFR_MAGIC, .flow = flow, .slot = k, .seq = s->seq,
			       .sent_ns = s->sent_ns };
	app_pattern_fill(c->req[k] + sizeof(*m), c->len - sizeof(*m), s->seq);
	c->f[flow].sent++;
	c->in_flight++;
	return flow;
}

/* Every free slot gets a request; one sendmmsg per flow.  A request the
 * socket did not take is lost. */
static void send_window(struct ifr_client *c, uint64_t budget)
{
	struct mmsghdr mm[2][IFR_WINDOW];
	struct iovec iov[IFR_WINDOW];
	int slots[2][IFR_WINDOW], n[2] = { 0, 0 };

	for (int k = 0; k < IFR_WINDOW && budget; k++) {
		int flow;

		if (c->slot[k].busy)
			continue;
		budget--;
		flow = new_request(c, k);
		iov[k] = (struct iovec){ .iov_base = c->req[k], .iov_len = c->len };
		mm[flow][n[flow]] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[k],
								   .msg_iovlen = 1 } };
		slots[flow][n[flow]++] = k;
	}
	for (int flow = 0; flow < 2; flow++) {
		int sent = n[flow] ? sendmmsg(c->fd[flow], mm[flow], n[flow], 0) : 0;

		for (int i = sent < 0 ? 0 : sent; i < n[flow]; i++) {
			c->slot[slots[flow][i]].busy = false;
			c->in_flight--;
			c->f[flow].lost++;
		}
	}
}

/* A reply read on flow's socket. */
static void take_reply(struct ifr_client *c, int flow, const uint8_t *rep, size_t n,
		       uint64_t now)
{
	struct ifr_msg m;
	struct ifr_slot *s;
	uint8_t want[IFR_BUF];

	memset(&m, 0, sizeof(m));
	memcpy(&m, rep, n < sizeof(m) ? n : sizeof(m));
	if (n != c->len || m.magic != IFR_MAGIC || m.slot >= IFR_WINDOW) {
		c->f[flow].bad++;
		return;
	}
	s = &c->slot[m.slot];
	if (!s->busy || s->seq != m.seq) {
		c->f[flow].late++;
		return;
	}
	s->busy = false;
	c->in_flight--;
	if (m.flow != flow || s->flow != flow) {
		c->f[s->flow].crossed++;
		return;
	}
	app_pattern_fill(want, c->len - sizeof(m), m.seq);
	if (m.sent_ns != s->sent_ns || memcmp(want, rep + sizeof(m), c->len - sizeof(m))) {
		c->f[flow].bad++;
		return;
	}
	if (m.made_at == IFR_MADE_AT_HOOK)
		c->f[flow].at_hook++;
	else
		c->f[flow].by_app++;
	c->f[flow].replies++;
	if (c->n[flow] < IFR_MAX_RTTS)
		c->rtt[flow][c->n[flow]++] = (double)(now - s->sent_ns);
}

/* Read the replies waiting (a few batches a flow); how many. */
static int drain(struct ifr_client *c)
{
	struct mmsghdr mm[IFR_BATCH];
	struct iovec iov[IFR_BATCH];
	int got = 0;

	for (int i = 0; i < IFR_BATCH; i++)
		iov[i] = (struct iovec){ .iov_base = c->rep[i], .iov_len = IFR_BUF };
	for (int flow = 0; flow < 2; flow++) {
		for (int round = 0; round < 4; round++) {
			int n;
			uint64_t now;

			for (int i = 0; i < IFR_BATCH; i++)
				mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
								       .msg_iovlen = 1 } };
			n = recvmmsg(c->fd[flow], mm, IFR_BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				break;
			now = now_ns();
			for (int i = 0; i < n; i++)
				take_reply(c, flow, c->rep[i], mm[i].msg_len, now);
			got += n;
		}
	}
	return got;
}

/* Slots older than the timeout (all: every busy slot) are lost. */
static void expire(struct ifr_client *c, uint64_t now, bool all)
{
	for (int k = 0; k < IFR_WINDOW; k++) {
		struct ifr_slot *s = &c->slot[k];

		if (s->busy && (all || now > s->sent_ns + IFR_TIMEOUT_MS * 1000000ull)) {
			s->busy = false;
			c->in_flight--;
			c->f[s->flow].lost++;
		}
	}
}

/* How many requests may still be sent now (0: the sending is over). */
static uint64_t budget(const struct ifr_client *c, uint64_t now, uint64_t end)
{
	uint64_t sent = c->f[0].sent + c->f[1].sent;

	if (now >= end || c->n[0] >= IFR_MAX_RTTS || c->n[1] >= IFR_MAX_RTTS)
		return 0;
	if (c->max_requests)
		return sent < c->max_requests ? c->max_requests - sent : 0;
	return IFR_WINDOW;
}

/* Send while the trial lasts, then wait for what is in flight. */
static void client_loop(struct ifr_client *c)
{
	uint64_t start = now_ns(), end = start + c->duration_ns;
	struct pollfd p[2] = { { .fd = c->fd[0], .events = POLLIN },
			       { .fd = c->fd[1], .events = POLLIN } };

	for (uint64_t i = 0; !run_stopping() && i < (1ull << 32); i++) {
		uint64_t now = now_ns(), more = budget(c, now, end);

		if (more && c->in_flight < IFR_WINDOW)
			send_window(c, more);
		if (!more && !c->in_flight)
			break;
		if (drain(c))
			continue;
		expire(c, now_ns(), false);
		if (c->in_flight)
			poll(p, 2, 1);
	}
	c->elapsed_ns = now_ns() - start;
	expire(c, 0, true); /* stopped early: what is in flight is lost */
}

static void *client_main(void *arg)
{
	struct ifr_client *c = arg;
	struct nstoken *tok = netns_enter(&c->t->gen);

	if (!tok) {
		c->err = -errno;
		return NULL;
	}
	c->err = pin_thread_cpu(0);
	for (int flow = 0; flow < 2 && !c->err; flow++) {
		if (c->fd[flow] < 0)
			c->fd[flow] = flow_socket(c->t, flow == IFR_FLOW_FAST ? IFR_FAST_PORT
									   : GEN_DPORT);
		if (c->fd[flow] < 0)
			c->err = c->fd[flow];
	}
	if (!c->err)
		client_loop(c);
	netns_leave(tok);
	return NULL;
}

int ifr_client_trial(struct ifr_client *c, uint64_t duration_ms, uint64_t max_requests)
{
	pthread_t th;
	int err;

	c->duration_ns = duration_ms * 1000000ull;
	c->max_requests = max_requests;
	memset(c->f, 0, sizeof(c->f));
	c->n[0] = c->n[1] = 0;
	c->err = 0;
	c->elapsed_ns = 0;
	err = pthread_create(&th, NULL, client_main, c);
	if (err)
		return -err;
	pthread_join(th, NULL);
	return c->err;
}

void ifr_client_flow(const struct ifr_client *c, int flow, struct ifr_flow *out)
{
	double *r = c->rtt[flow];
	size_t n = c->n[flow];

	*out = c->f[flow];
	sort_doubles(r, n);
	out->p50_us = n ? percentile_sorted(r, n, 50) / 1e3 : NAN;
	out->p99_us = n ? percentile_sorted(r, n, 99) / 1e3 : NAN;
	out->rate = c->elapsed_ns ? out->replies * 1e9 / (double)c->elapsed_ns : 0;
}

int ifr_client_new(const struct topo *t, unsigned pct, size_t len, struct ifr_client **out)
{
	struct ifr_client *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->t = t;
	c->pct = pct > 100 ? 100 : pct;
	c->len = len < sizeof(struct ifr_msg) ? sizeof(struct ifr_msg) : len > IFR_BUF ? IFR_BUF : len;
	c->fd[0] = c->fd[1] = -1;
	c->rtt[0] = malloc(IFR_MAX_RTTS * sizeof(double));
	c->rtt[1] = malloc(IFR_MAX_RTTS * sizeof(double));
	if (!c->rtt[0] || !c->rtt[1]) {
		ifr_client_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

void ifr_client_free(struct ifr_client *c)
{
	if (!c)
		return;
	for (int flow = 0; flow < 2; flow++) {
		if (c->fd[flow] >= 0)
			close(c->fd[flow]);
		free(c->rtt[flow]);
	}
	free(c);
}
