/*
 * bench summarize's app and sender.  The app is a child in the DUT
 * namespace pinned to the layout's app CPU; it counts the requests it
 * finished and the summary bytes it read in a MAP_SHARED mapping.  The
 * sender is a thread in the gen namespace on CPU 0 sending requests (UDP:
 * segmented with struct sum_hdr, by sendmmsg; TCP: one connection).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "bench/summarize.h"
#include "lib/apps.h"
#include "lib/log.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/netns.h"

#define APP_BATCH    64
#define APP_BUF      2048
#define TCP_BUF      (64 * 1024)
#define TCP_CONNS    8
#define SEND_BATCH   64

#define ST_ADD(st, f, v) __atomic_fetch_add(&(st)->f, (v), __ATOMIC_RELAXED)

uint32_t sum_segments(uint32_t size)
{
	return size <= SUM_CHUNK_MAX ? 1 : (size + SUM_CHUNK_MAX - 1) / SUM_CHUNK_MAX;
}

uint32_t sum_final_chunk(uint32_t size)
{
	return sum_segments(size) > 1 ? SUM_CHUNK_MAX : size;
}

/* Touch every byte: a sum of 8-byte words. */
static uint64_t touch(const uint8_t *p, size_t n)
{
	uint64_t s = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
	}
	for (; i < n; i++)
		s += p[i];
	return s;
}

/* ---- the app --------------------------------------------------------- */

struct app_ctx {
	struct sum_app *a;
	struct sum_app_stats *st;
	uint64_t deadline;
	uint32_t sum_len;
	/* UDP in a sockhash: reads are a stream of header + summary records. */
	uint32_t rec_len;
	uint64_t stream;
	/* UDP user space: the request being put together. */
	uint32_t cur_id, got;
	bool in_req;
	uint8_t sumbuf[8192];
};

static bool app_go(const struct app_ctx *c)
{
	return !__atomic_load_n(&c->st->stop, __ATOMIC_RELAXED) && now_ns() < c->deadline &&
	       getppid() == c->a->parent;
}

static int app_fail(struct app_ctx *c, int err)
{
	__atomic_store_n(&c->st->error, err, __ATOMIC_RELAXED);
	return 1;
}

/* User space: collect the first sum_len request bytes over the segments. */
static void udp_extract(struct app_ctx *c, const struct sum_hdr *h, const uint8_t *body,
			uint32_t chunk)
{
	uint32_t size = c->a->cfg.req_size;

	if (h->seg == 0) {
		if (c->in_req) /* the previous request lost its last segment */
			ST_ADD(c->st, incomplete, 1);
		c->in_req = true;
		c->cur_id = h->id;
		c->got = 0;
	} else if (!c->in_req || h->id != c->cur_id) {
		c->in_req = false;
		ST_ADD(c->st, incomplete, 1);
		return;
	}
	if (c->got < c->sum_len) {
		uint32_t k = c->sum_len - c->got < chunk ? c->sum_len - c->got : chunk;

		memcpy(c->sumbuf + c->got, body, k);
	}
	c->got += chunk;
	if (h->seg + 1 < h->nseg)
		return;
	c->in_req = false;
	if (c->got != size) {
		ST_ADD(c->st, incomplete, 1);
		return;
	}
	ST_ADD(c->st, checksum, touch(c->sumbuf, c->sum_len));
	ST_ADD(c->st, summary_bytes, c->sum_len);
	ST_ADD(c->st, requests, 1);
}

/*
 * A UDP socket in a sockhash gets the datagrams the verdict passed through
 * the psock's queue, and one read may return several of them back to back
 * (observed on 6.18): count whole records of header + summary.
 */
static void udp_records(struct app_ctx *c, const uint8_t *buf, uint32_t len)
{
	uint64_t before = c->stream / c->rec_len, after;

	ST_ADD(c->st, datagrams, 1);
	ST_ADD(c->st, bytes, len);
	ST_ADD(c->st, checksum, touch(buf, len));
	c->stream += len;
	after = c->stream / c->rec_len;
	ST_ADD(c->st, requests, after - before);
	ST_ADD(c->st, summary_bytes, (after - before) * (c->rec_len - SUM_HDR_LEN));
}

static void udp_one(struct app_ctx *c, const uint8_t *buf, uint32_t len)
{
	struct sum_hdr h;

	if (c->rec_len)
		return udp_records(c, buf, len);

	ST_ADD(c->st, datagrams, 1);
	ST_ADD(c->st, bytes, len);
	if (len < SUM_HDR_LEN) {
		ST_ADD(c->st, bad, 1);
		return;
	}
	memcpy(&h, buf, sizeof(h));
	switch (c->a->cfg.mode) {
	case SUM_APP_SUMMARY:
		ST_ADD(c->st, checksum, touch(buf + SUM_HDR_LEN, len - SUM_HDR_LEN));
		ST_ADD(c->st, summary_bytes, len - SUM_HDR_LEN);
		ST_ADD(c->st, requests, 1);
		break;
	case SUM_APP_EXTRACT:
		udp_extract(c, &h, buf + SUM_HDR_LEN, len - SUM_HDR_LEN);
		break;
	case SUM_APP_NONE:
		if (h.seg + 1 >= h.nseg)
			ST_ADD(c->st, requests, 1);
		break;
	}
}

static int udp_loop(struct app_ctx *c, int fd)
{
	static uint8_t bufs[APP_BATCH][APP_BUF];
	struct mmsghdr m[APP_BATCH];
	struct iovec iov[APP_BATCH];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (int i = 0; i < APP_BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = APP_BUF };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (app_go(c)) {
		int n = recvmmsg(fd, m, APP_BATCH, MSG_DONTWAIT, NULL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return app_fail(c, -errno);
			poll(&p, 1, c->a->cfg.sockmap_fd >= 0 ? 1 : 5);
			continue;
		}
		for (int i = 0; i < n; i++)
			udp_one(c, bufs[i], m[i].msg_len);
	}
	return 0;
}

/* A TCP connection's place in its stream. */
struct tcp_conn {
	int fd;
	uint64_t pos;            /* bytes into the current unit */
	uint8_t sumbuf[8192];
};

/* Whole requests: user space copies the first sum_len bytes of each. */
static void tcp_extract(struct app_ctx *c, struct tcp_conn *k, const uint8_t *d, size_t n)
{
	uint32_t size = c->a->cfg.req_size;

	while (n) {
		size_t take = size - k->pos < n ? size - k->pos : n;

		if (k->pos < c->sum_len) {
			size_t cp = c->sum_len - k->pos < take ? c->sum_len - k->pos : take;

			memcpy(k->sumbuf + k->pos, d, cp);
		}
		k->pos += take;
		d += take;
		n -= take;
		if (k->pos == size) {
			k->pos = 0;
			ST_ADD(c->st, checksum, touch(k->sumbuf, c->sum_len));
			ST_ADD(c->st, summary_bytes, c->sum_len);
			ST_ADD(c->st, requests, 1);
		}
	}
}

/* Count units of unit bytes in n more bytes of the stream. */
static void tcp_units(struct app_ctx *c, struct tcp_conn *k, size_t n, uint32_t unit)
{
	if (!unit)
		return;
	k->pos += n;
	ST_ADD(c->st, requests, k->pos / unit);
	k->pos %= unit;
}

static void tcp_data(struct app_ctx *c, struct tcp_conn *k, const uint8_t *d, size_t n)
{
	const struct sum_app_cfg *cfg = &c->a->cfg;
	uint32_t unit = c->sum_len ? c->sum_len : 0;

	ST_ADD(c->st, datagrams, 1);
	ST_ADD(c->st, bytes, n);
	switch (cfg->mode) {
	case SUM_APP_SUMMARY:
		ST_ADD(c->st, checksum, touch(d, n));
		ST_ADD(c->st, summary_bytes, n);
		if (cfg->framed)
			tcp_units(c, k, n, unit);
		break;
	case SUM_APP_EXTRACT:
		tcp_extract(c, k, d, n);
		break;
	case SUM_APP_NONE:
		tcp_units(c, k, n, cfg->req_size);
		break;
	}
}

static void tcp_accept(struct app_ctx *c, int lfd, struct tcp_conn *conns, int *nconns)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (*nconns == TCP_CONNS) {
		close(fd);
		return;
	}
	ST_ADD(c->st, conns, 1);
	if (c->a->cfg.sockmap_fd >= 0) {
		if (app_sockhash_add(c->a->cfg.sockmap_fd, fd))
			ST_ADD(c->st, sockmap_errors, 1);
		else
			ST_ADD(c->st, sockmap_added, 1);
	}
	conns[*nconns].fd = fd;
	conns[*nconns].pos = 0;
	(*nconns)++;
}

/* Read conn until it has nothing (bounded): 1 when it gave data. */
static int tcp_drain(struct app_ctx *c, struct tcp_conn *k, uint8_t *buf)
{
	int got = 0;

	for (int i = 0; i < 256; i++) {
		ssize_t r = recv(k->fd, buf, TCP_BUF, MSG_DONTWAIT);

		if (r <= 0)
			break;
		tcp_data(c, k, buf, (size_t)r);
		got = 1;
	}
	return got;
}

/*
 * Sockets in a sockhash: data redirected to their ingress does not always
 * wake poll, so every connection is read after each wait, which is short
 * (1 ms); reads that found data after a timeout are counted.
 */
static int tcp_loop(struct app_ctx *c, int lfd)
{
	static struct tcp_conn conns[TCP_CONNS];
	static uint8_t buf[TCP_BUF];
	struct pollfd p[TCP_CONNS + 1];
	int n = 0, wait_ms = c->a->cfg.sockmap_fd >= 0 ? 1 : 5;

	while (app_go(c)) {
		int ready;

		p[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < n; i++)
			p[i + 1] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		ready = poll(p, n + 1, wait_ms);
		if (ready > 0 && (p[0].revents & POLLIN))
			tcp_accept(c, lfd, conns, &n);
		for (int i = 0; i < n; i++)
			if (tcp_drain(c, &conns[i], buf) && ready <= 0)
				ST_ADD(c->st, missed_wakeups, 1);
	}
	for (int i = 0; i < n; i++)
		close(conns[i].fd);
	return 0;
}

static int app_socket(struct app_ctx *c)
{
	const struct sum_app_cfg *cfg = &c->a->cfg;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(cfg->port) };
	int one = 1, rcv = cfg->tcp ? 256 << 20 : 8 << 20;
	int fd = socket(AF_INET, (cfg->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Large for both protocols: redirected sk_skb data is charged by truesize. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || (cfg->tcp && listen(fd, 16))) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* UDP at a stream hook: the bound socket itself goes in the sockhash. */
	if (!cfg->tcp && cfg->sockmap_fd >= 0) {
		int err = app_sockhash_add(cfg->sockmap_fd, fd);

		if (err) {
			close(fd);
			return err;
		}
		ST_ADD(c->st, sockmap_added, 1);
	}
	return fd;
}

static int app_main(void *arg)
{
	struct sum_app *a = arg;
	struct app_ctx *c = calloc(1, sizeof(*c));
	unsigned t = a->cfg.timeout_ms ? a->cfg.timeout_ms : 60000;
	int fd, ret;

	if (!c)
		return 1;
	c->a = a;
	c->st = a->st;
	c->deadline = now_ns() + (uint64_t)t * 1000000ull;
	c->sum_len = sum_len_of(a->cfg.req_size, a->cfg.pct);
	if (!a->cfg.tcp && a->cfg.sockmap_fd >= 0 && a->cfg.mode == SUM_APP_SUMMARY)
		c->rec_len = SUM_HDR_LEN + (c->sum_len < sum_final_chunk(a->cfg.req_size)
						    ? c->sum_len : sum_final_chunk(a->cfg.req_size));
	__atomic_store_n(&c->st->cpu, sched_getcpu(), __ATOMIC_RELAXED);
	fd = app_socket(c);
	if (fd < 0)
		return app_fail(c, fd);
	__atomic_store_n(&c->st->ready, 1, __ATOMIC_RELEASE);
	ret = a->cfg.tcp ? tcp_loop(c, fd) : udp_loop(c, fd);
	close(fd);
	return ret;
}

int sum_app_start(const struct sum_app_cfg *cfg, const struct netns *ns, struct sum_app **out)
{
	struct sum_app *a = calloc(1, sizeof(*a));
	int err;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	a->parent = getpid();
	a->st = mmap(NULL, sizeof(*a->st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a->st == MAP_FAILED) {
		free(a);
		return -ENOMEM;
	}
	a->st->cpu = -1;
	err = proc_spawn(&a->proc, ns, cfg->cpu, app_main, a);
	if (err) {
		munmap(a->st, sizeof(*a->st));
		free(a);
		return err;
	}
	*out = a;
	return 0;
}

int sum_app_wait_ready(struct sum_app *a, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (!__atomic_load_n(&a->st->ready, __ATOMIC_ACQUIRE)) {
		int err = __atomic_load_n(&a->st->error, __ATOMIC_RELAXED);

		if (err)
			return err;
		if (proc_wait(&a->proc, 0) != -ETIMEDOUT)
			return -ECHILD;
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ns(500000);
	}
	return 0;
}

void sum_app_read(const struct sum_app *a, struct sum_app_stats *out)
{
	const uint64_t *src = (const uint64_t *)a->st;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void sum_app_free(struct sum_app *a)
{
	if (!a)
		return;
	__atomic_store_n(&a->st->stop, 1, __ATOMIC_RELAXED);
	if (a->proc.pid > 0 && proc_wait(&a->proc, 1000) == -ETIMEDOUT)
		proc_kill(&a->proc);
	munmap(a->st, sizeof(*a->st));
	free(a);
}
