/*
 * bench batch's app and sender, each a child process (netns/proc.h) with
 * its statistics in a MAP_SHARED mapping.
 *  - app (DUT namespace, one CPU): a UDP socket (recvmmsg) or a TCP listener
 *    (accepted sockets go in the program's sockhash), and the program's
 *    ringbuf of timer flushes, on one epoll; every request is checked
 *    (magic), counted once by id, and its latency taken from its stamp.
 *  - sender (gen namespace, CPU 0): numbered, stamped requests to the DUT's
 *    GEN_DPORT, paced by spinning to a rate or as fast as it can.
 */
#include <errno.h>
#include <sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "bench/batch.h"
#include "bpf/gen.h"
#include "lib/apps.h"
#include "lib/util.h"
#include "netns/cpu.h"

#define APP_MAX_MS    (15 * 60 * 1000)
#define SEND_MAX_MS   (10 * 60 * 1000)
#define UDP_VLEN      64
#define TCP_BUF       (64 * 1024)
#define SEND_BURST    32
#define RCVBUF_BYTES  (1 << 20)

struct app_conn {
	int fd;
	size_t have;                       /* bytes of a partial request */
	uint8_t part[BATCH_REQ_SIZE];
};

struct app_ctx {
	struct batch_app *a;
	int lfd, ep;
	struct ring_buffer *rb;
	struct app_conn conns[BATCH_MAX_CONNS];
	uint8_t buf[TCP_BUF];
};

static void *shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* One request: checked, counted once, its latency kept. */
static void take_request(struct batch_app_stats *st, const uint8_t *p, uint64_t now)
{
	struct batch_req r;

	memcpy(&r, p, sizeof(r));
	if (r.magic != BATCH_MAGIC) {
		st->bad++;
		return;
	}
	if (r.id < BATCH_ID_BITS) {
		uint8_t bit = (uint8_t)(1u << (r.id & 7));

		if (st->seen[r.id >> 3] & bit) {
			st->dups++;
			return;
		}
		st->seen[r.id >> 3] |= bit;
	}
	st->lat_ns[st->lat_n % BATCH_LAT_CAP] = now > r.stamp_ns ?
		(uint32_t)(now - r.stamp_ns < UINT32_MAX ? now - r.stamp_ns : UINT32_MAX) : 0;
	st->lat_n++;
	st->requests++;
}

static void take_batch(struct batch_app_stats *st, const uint8_t *p, size_t len, uint64_t now)
{
	if (!len || len % BATCH_REQ_SIZE) {
		st->bad++;
		return;
	}
	for (size_t off = 0; off < len; off += BATCH_REQ_SIZE)
		take_request(st, p + off, now);
}

static int ring_record(void *ctx, void *data, size_t len)
{
	struct batch_app_stats *st = ctx;
	const struct batch_flush_rec *r = data;

	if (len < sizeof(*r) || r->count == 0 || r->count > BATCH_MAX) {
		st->bad++;
		return 0;
	}
	st->ring_records++;
	st->ring_requests += r->count;
	take_batch(st, r->reqs, (size_t)r->count * BATCH_REQ_SIZE, now_ns());
	return 0;
}

static int udp_drain(struct app_ctx *x)
{
	static uint8_t bufs[UDP_VLEN][2048];
	struct mmsghdr m[UDP_VLEN];
	struct iovec iov[UDP_VLEN];

	for (int round = 0; round < 64; round++) {
		int n;

		for (int i = 0; i < UDP_VLEN; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		n = recvmmsg(x->lfd, m, UDP_VLEN, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return n < 0 && errno != EAGAIN && errno != EINTR ? -errno : 0;
		uint64_t now = now_ns();

		x->a->st->datagrams += n;
		for (int i = 0; i < n; i++)
			take_batch(x->a->st, bufs[i], m[i].msg_len, now);
	}
	return 0;
}

static void conn_close(struct app_ctx *x, struct app_conn *c)
{
	epoll_ctl(x->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->have = 0;
}

/* A TCP stream: whole requests, carrying a partial one to the next read. */
static void tcp_read(struct app_ctx *x, struct app_conn *c)
{
	struct batch_app_stats *st = x->a->st;

	for (int round = 0; round < 64; round++) {
		ssize_t n = recv(c->fd, x->buf, sizeof(x->buf), MSG_DONTWAIT);
		size_t off = 0;
		uint64_t now = now_ns();

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			conn_close(x, c);
			return;
		}
		if (n < 0)
			return;
		st->datagrams++;
		if (c->have) {
			size_t k = BATCH_REQ_SIZE - c->have < (size_t)n ? BATCH_REQ_SIZE - c->have
									: (size_t)n;

			memcpy(c->part + c->have, x->buf, k);
			c->have += k;
			off = k;
			if (c->have == BATCH_REQ_SIZE) {
				take_request(st, c->part, now);
				c->have = 0;
			}
		}
		for (; off + BATCH_REQ_SIZE <= (size_t)n; off += BATCH_REQ_SIZE)
			take_request(st, x->buf + off, now);
		memcpy(c->part, x->buf + off, (size_t)n - off);
		c->have += (size_t)n - off;
	}
}

static void tcp_accept(struct app_ctx *x)
{
	struct batch_app *a = x->a;
	int fd = accept4(x->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN };
	int k;

	if (fd < 0)
		return;
	for (k = 0; k < BATCH_MAX_CONNS && x->conns[k].fd >= 0; k++)
		;
	if (k == BATCH_MAX_CONNS) {
		close(fd);
		return;
	}
	/* In the sockhash before the first byte is read. */
	if (a->sockmap_fd >= 0 && app_sockhash_add(a->sockmap_fd, fd))
		a->st->sockmap_errors++;
	x->conns[k] = (struct app_conn){ .fd = fd };
	ev.data.u32 = 2 + k;
	epoll_ctl(x->ep, EPOLL_CTL_ADD, fd, &ev);
	a->st->conns++;
}

static int app_socket(struct app_ctx *x)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(GEN_DPORT) };
	int one = 1, rcv = RCVBUF_BYTES;
	bool tcp = x->a->tcp;

	x->lfd = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (x->lfd < 0)
		return -errno;
	setsockopt(x->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(x->lfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	if (bind(x->lfd, (struct sockaddr *)&sa, sizeof(sa)) || (tcp && listen(x->lfd, 16)))
		return -errno;
	/* UDP at a verdict: the bound socket itself goes in the sockhash. */
	if (!tcp && x->a->sockmap_fd >= 0)
		return app_sockhash_add(x->a->sockmap_fd, x->lfd);
	return 0;
}

static int app_setup(struct app_ctx *x)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };
	int err = app_socket(x);

	if (err)
		return err;
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	if (x->ep < 0 || epoll_ctl(x->ep, EPOLL_CTL_ADD, x->lfd, &ev))
		return -errno;
	if (x->a->ring_fd >= 0) {
		x->rb = ring_buffer__new(x->a->ring_fd, ring_record, (void *)x->a->st, NULL);
		if (!x->rb)
			return -errno;
		ev.data.u32 = 1;
		if (epoll_ctl(x->ep, EPOLL_CTL_ADD, ring_buffer__epoll_fd(x->rb), &ev))
			return -errno;
	}
	return 0;
}

static int app_loop(struct app_ctx *x)
{
	struct batch_app *a = x->a;
	uint64_t end = now_ns() + APP_MAX_MS * 1000000ull;
	struct epoll_event ev[16];

	while (!a->st->stop && getppid() == a->parent && now_ns() < end) {
		int n = epoll_wait(x->ep, ev, 16, 10);

		a->st->cpu = sched_getcpu();
		for (int i = 0; i < n; i++) {
			uint32_t k = ev[i].data.u32;

			if (k == 1)
				ring_buffer__consume(x->rb);
			else if (k >= 2 && x->conns[k - 2].fd >= 0)
				tcp_read(x, &x->conns[k - 2]);
			else if (k == 0 && a->tcp)
				tcp_accept(x);
			else if (k == 0 && udp_drain(x))
				return -errno;
		}
		if (x->rb)
			ring_buffer__consume(x->rb); /* a record without a wakeup */
	}
	return 0;
}

static int app_main(void *arg)
{
	struct app_ctx *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return 1;
	x->a = arg;
	x->lfd = x->ep = -1;
	for (int k = 0; k < BATCH_MAX_CONNS; k++)
		x->conns[k].fd = -1;
	err = app_setup(x);
	if (err) {
		x->a->st->error = err;
		return 1;
	}
	x->a->st->ready = 1;
	err = app_loop(x);
	x->a->st->error = err;
	ring_buffer__free(x->rb);
	return err ? 1 : 0;
}

int batch_app_start(const struct topo *t, bool tcp, int ring_fd, int sockmap_fd, int cpu,
		    struct batch_app **out)
{
	struct batch_app *a = calloc(1, sizeof(*a));
	int err = -ENOMEM;

	*out = NULL;
	if (!a || !(a->st = shared_alloc(sizeof(*a->st))))
		goto fail;
	a->tcp = tcp;
	a->ring_fd = ring_fd;
	a->sockmap_fd = sockmap_fd;
	a->parent = getpid();
	err = proc_spawn(&a->proc, &t->dut, cpu, app_main, a);
	for (int i = 0; !err && !a->st->ready && i < 2000; i++) {
		if (a->st->error)
			err = a->st->error;
		else
			usleep(1000);
	}
	if (!err && !a->st->ready)
		err = -ETIMEDOUT;
	if (err)
		goto fail;
	*out = a;
	return 0;
fail:
	batch_app_free(a);
	return err;
}

int batch_app_wait(struct batch_app *a, uint64_t want, int timeout_ms)
{
	for (int i = 0; i < timeout_ms; i++) {
		if (a->st->requests >= want)
			return 0;
		usleep(1000);
	}
	return a->st->requests >= want ? 0 : -ETIMEDOUT;
}

void batch_app_free(struct batch_app *a)
{
	if (!a)
		return;
	if (a->proc.pid > 0) {
		a->st->stop = 1;
		if (proc_wait(&a->proc, 1000) < 0)
			proc_kill(&a->proc);
	}
	if (a->st)
		munmap(a->st, sizeof(*a->st));
	free(a);
}

/* ---- sender --------------------------------------------------------- */

static void fill_req(uint8_t *p, uint32_t id, uint64_t stamp)
{
	struct batch_req r = { .stamp_ns = stamp, .id = id, .magic = BATCH_MAGIC };

	memcpy(p, &r, sizeof(r));
}

/* Spin (sleeping when far) until request i's time at rate. */
static void pace(uint64_t start, uint64_t i, uint64_t rate)
{
	uint64_t target = start + (uint64_t)((double)i * 1e9 / (double)rate), now;

	while ((now = now_ns()) < target) {
		if (target - now > 200000) {
			struct timespec ts = { 0, (long)(target - now - 100000) };

			nanosleep(&ts, NULL);
		}
	}
}

static bool send_more(const struct batch_sender *s, uint64_t sent, uint64_t end, pid_t parent)
{
	return (!s->o.count || sent < s->o.count) && now_ns() < end && getppid() == parent;
}

/* UDP: one request a datagram; unpaced in bursts of SEND_BURST (sendmmsg). */
static int send_udp(struct batch_sender *s, int fd, uint64_t end, pid_t parent)
{
	static uint8_t bufs[SEND_BURST][BATCH_REQ_SIZE];
	struct mmsghdr m[SEND_BURST];
	struct iovec iov[SEND_BURST];
	uint64_t start = now_ns(), sent = 0;

	while (send_more(s, sent, end, parent)) {
		unsigned k = s->o.rate ? 1 : SEND_BURST;
		int n;

		if (s->o.count && s->o.count - sent < k)
			k = (unsigned)(s->o.count - sent);
		if (s->o.rate)
			pace(start, sent, s->o.rate);
		for (unsigned i = 0; i < k; i++) {
			fill_req(bufs[i], s->o.first_id + (uint32_t)(sent + i), now_ns());
			iov[i] = (struct iovec){ bufs[i], BATCH_REQ_SIZE };
			m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		n = sendmmsg(fd, m, k, 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
		    errno != ECONNREFUSED)
			return -errno;
		if (n > 0)
			s->st->sent = sent += (uint64_t)n;
	}
	return 0;
}

static bool send_all(int fd, const uint8_t *p, size_t len)
{
	for (int i = 0; len && i < 1000; i++) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return len == 0;
}

/* TCP: paced one request a write, else 64 requests a write. */
static int send_tcp(struct batch_sender *s, int fd, uint64_t end, pid_t parent)
{
	static uint8_t buf[64 * BATCH_REQ_SIZE];
	uint64_t start = now_ns(), sent = 0;

	while (send_more(s, sent, end, parent)) {
		uint64_t k = s->o.rate ? 1 : 64, now;

		if (s->o.count && s->o.count - sent < k)
			k = s->o.count - sent;
		if (s->o.rate)
			pace(start, sent, s->o.rate);
		now = now_ns();
		for (uint64_t i = 0; i < k; i++)
			fill_req(buf + i * BATCH_REQ_SIZE, s->o.first_id + (uint32_t)(sent + i), now);
		if (!send_all(fd, buf, k * BATCH_REQ_SIZE))
			return -EPIPE;
		s->st->sent = sent += k;
	}
	return 0;
}

static int sender_main(void *arg)
{
	struct batch_sender *s = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(GEN_DPORT) };
	struct timeval to = { .tv_sec = 1 };
	uint64_t end = now_ns() + s->o.duration_ms * 1000000ull;
	pid_t parent = getppid();
	int one = 1, fd, err;

	if (inet_pton(AF_INET, s->dst, &sa.sin_addr) != 1)
		return 2;
	fd = socket(AF_INET, (s->o.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &to, sizeof(to)) ||
	    (s->o.tcp && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		s->st->error = -errno;
		return 1;
	}
	for (int i = 0; s->o.tcp && s->o.gate && *s->o.gate < s->o.gate_at && i < 1000; i++)
		usleep(1000);
	err = s->o.tcp ? send_tcp(s, fd, end, parent) : send_udp(s, fd, end, parent);
	s->st->error = err;
	if (s->o.tcp && s->o.linger_ms)
		usleep((useconds_t)(s->o.linger_ms * 1000));
	close(fd);
	s->st->done = 1;
	return err ? 1 : 0;
}

int batch_send_start(const struct topo *t, const struct batch_send_opts *o,
		     struct batch_sender **out)
{
	struct batch_sender *s = calloc(1, sizeof(*s));
	int err = -ENOMEM;

	*out = NULL;
	if (!s || !(s->st = shared_alloc(sizeof(*s->st))))
		goto fail;
	s->o = *o;
	if (!s->o.duration_ms || s->o.duration_ms > SEND_MAX_MS)
		s->o.duration_ms = SEND_MAX_MS;
	snprintf(s->dst, sizeof(s->dst), "%s", t->ip4_dut);
	err = proc_spawn(&s->proc, &t->gen, 0, sender_main, s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	if (s && s->st)
		munmap(s->st, sizeof(*s->st));
	free(s);
	return err;
}

int batch_send_finish(struct batch_sender *s, int timeout_ms, uint64_t *sent)
{
	int rc;

	if (!s)
		return -EINVAL;
	rc = proc_wait(&s->proc, timeout_ms);
	if (rc < 0)
		proc_kill(&s->proc);
	if (sent)
		*sent = s->st->sent;
	if (rc == 0)
		rc = s->st->error;
	else if (rc > 0)
		rc = s->st->error ? s->st->error : -ECHILD;
	munmap(s->st, sizeof(*s->st));
	free(s);
	return rc;
}
