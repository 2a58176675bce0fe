/*
 * bench summarize's sender: one thread in the gen namespace on CPU 0.
 * UDP: each request is sum_segments(size) datagrams (struct sum_hdr, then
 * a chunk; the short chunk first), sent by sendmmsg in batches of whole
 * requests.  TCP: one connection, requests back to back.  Bounded by
 * max_requests, max_ms and the stop flag.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench/summarize.h"
#include "lib/apps.h"
#include "lib/gen.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/netns.h"

#define SEND_BATCH 64
#define TCP_SEND_BUF (64 * 1024)

struct sum_sender {
	struct sum_send_cfg cfg;
	struct sum_send_result r;
	volatile int stop;
	uint64_t deadline;
	pthread_t th;
	uint8_t bufs[SEND_BATCH][SUM_UDP_PAYLOAD_MAX];
};

static bool send_go(struct sum_sender *s)
{
	return !s->stop && now_ns() < s->deadline &&
	       (!s->cfg.max_requests || s->r.requests < s->cfg.max_requests);
}

static int connect_dut(struct sum_sender *s, int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(GEN_DPORT) };
	struct timeval to = { .tv_usec = 100000 };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0), err, one = 1;

	if (fd < 0)
		return -errno;
	/* TCP_NODELAY: the closed loop stops writing, and Nagle would hold the
	 * tail of the last write until a (delayed) ACK. */
	if (inet_pton(AF_INET, s->cfg.t->ip4_dut, &sa.sin_addr) != 1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &to, sizeof(to)) ||
	    (type == SOCK_STREAM && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno ? -errno : -EINVAL;
		close(fd);
		return err;
	}
	return fd;
}

/* Closed loop: wait until fewer than window requests are outstanding. */
static void wait_window(struct sum_sender *s)
{
	uint64_t give_up = now_ns() + (s->cfg.window_wait_us ? s->cfg.window_wait_us : 2000) * 1000ull;

	if (!s->cfg.window || !s->cfg.done)
		return;
	while (!s->stop && s->r.requests >= s->cfg.done(s->cfg.done_arg) + s->cfg.window) {
		if (now_ns() >= give_up || now_ns() >= s->deadline) {
			s->r.window_timeouts++;
			return;
		}
		sched_yield();
	}
}

/* Fill m/iov with whole requests from id on: how many datagrams. */
static unsigned udp_batch(struct sum_sender *s, uint32_t id, struct mmsghdr *m,
			  struct iovec *iov, unsigned *nreq)
{
	uint32_t size = s->cfg.req_size, nseg = sum_segments(size);
	unsigned n = 0;

	*nreq = 0;
	while (n + nseg <= SEND_BATCH &&
	       (!s->cfg.max_requests || s->r.requests + *nreq < s->cfg.max_requests)) {
		for (uint32_t k = 0; k < nseg; k++, n++) {
			struct sum_hdr h = { .id = id, .seg = (uint16_t)k, .nseg = (uint16_t)nseg };
			uint32_t chunk = k == 0 ? size - (nseg - 1) * SUM_CHUNK_MAX : SUM_CHUNK_MAX;

			memcpy(s->bufs[n], &h, sizeof(h));
			iov[n] = (struct iovec){ .iov_base = s->bufs[n], .iov_len = SUM_HDR_LEN + chunk };
			m[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 } };
		}
		id++;
		(*nreq)++;
		if (s->cfg.window && *nreq >= s->cfg.window)
			break;
	}
	return n;
}

static int udp_send(struct sum_sender *s)
{
	struct mmsghdr m[SEND_BATCH];
	struct iovec iov[SEND_BATCH];
	uint32_t id = 0;
	int fd = connect_dut(s, SOCK_DGRAM);

	if (fd < 0)
		return fd;
	for (int i = 0; i < SEND_BATCH; i++)
		app_pattern_fill(s->bufs[i], sizeof(s->bufs[i]), 0);
	while (send_go(s)) {
		unsigned nreq, n, done = 0;

		wait_window(s);
		n = udp_batch(s, id, m, iov, &nreq);
		while (done < n && !s->stop && now_ns() < s->deadline) {
			int k = sendmmsg(fd, m + done, n - done, 0);

			if (k < 0) {
				s->r.send_errors++;
				if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
				    errno != ECONNREFUSED)
					break;
				continue;
			}
			for (int i = 0; i < k; i++)
				s->r.bytes += iov[done + i].iov_len;
			done += k;
		}
		s->r.datagrams += done;
		if (done < n)
			break;
		s->r.requests += nreq;
		id += nreq;
	}
	close(fd);
	return 0;
}

/* Stream hooks: the program must see the first byte. */
static int wait_sockmap(struct sum_sender *s)
{
	const struct sum_app *a = s->cfg.wait_sockmap;
	uint64_t end = now_ns() + 1000000000ull;

	while (a && __atomic_load_n(&a->st->sockmap_added, __ATOMIC_RELAXED) < 1) {
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ns(200000);
	}
	return 0;
}

static int tcp_send(struct sum_sender *s)
{
	uint64_t total = s->cfg.max_requests * s->cfg.req_size;
	uint8_t *buf = malloc(TCP_SEND_BUF);
	int fd = connect_dut(s, SOCK_STREAM), err = 0;

	if (fd < 0 || !buf) {
		free(buf);
		return fd < 0 ? fd : -ENOMEM;
	}
	app_pattern_fill(buf, TCP_SEND_BUF, 0);
	err = wait_sockmap(s);
	while (!err && !s->stop && now_ns() < s->deadline && (!total || s->r.bytes < total)) {
		size_t want = total && total - s->r.bytes < TCP_SEND_BUF ? total - s->r.bytes
									  : TCP_SEND_BUF;
		ssize_t n;

		s->r.requests = s->r.bytes / s->cfg.req_size;
		wait_window(s);
		n = send(fd, buf, want, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		s->r.bytes += (uint64_t)n;
	}
	s->r.requests = s->r.bytes / s->cfg.req_size;
	s->r.datagrams = 0;
	/* Let the receiver read what is in flight before the close. */
	sleep_ns(20000000);
	close(fd);
	free(buf);
	return err;
}

static void *send_main(void *arg)
{
	struct sum_sender *s = arg;
	struct nstoken *tok = netns_enter(&s->cfg.t->gen);

	if (!tok) {
		s->r.err = -errno;
		return NULL;
	}
	s->r.err = pin_thread_cpu(0);
	s->r.start_ns = now_ns();
	if (!s->r.err)
		s->r.err = s->cfg.tcp ? tcp_send(s) : udp_send(s);
	s->r.end_ns = now_ns();
	netns_leave(tok);
	return NULL;
}

int sum_send_start(const struct sum_send_cfg *cfg, struct sum_sender **out)
{
	struct sum_sender *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	if (!cfg->req_size || (cfg->tcp && cfg->wait_sockmap && !cfg->wait_sockmap->st)) {
		free(s);
		return -EINVAL;
	}
	s->cfg = *cfg;
	s->deadline = now_ns() + cfg->max_ms * 1000000ull;
	err = -pthread_create(&s->th, NULL, send_main, s);
	if (err) {
		free(s);
		return err;
	}
	*out = s;
	return 0;
}

int sum_send_join(struct sum_sender *s, struct sum_send_result *r)
{
	int err;

	pthread_join(s->th, NULL);
	*r = s->r;
	err = s->r.err;
	free(s);
	return err;
}

int sum_send_stop(struct sum_sender *s, struct sum_send_result *r)
{
	s->stop = 1;
	return sum_send_join(s, r);
}
