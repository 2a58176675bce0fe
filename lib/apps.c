/*
 * The socket apps.  Each runs in a child made by proc_spawn() (namespace,
 * CPU pin, PR_SET_PDEATHSIG); only the child writes the shared statistics,
 * with relaxed atomic stores, and the parent reads them with atomic loads.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bpf/hooks.h"
#include "lib/apps.h"
#include "lib/log.h"
#include "lib/util.h"

#define POLL_MS        100
#define TCP_BUF        (256 * 1024)
#define ECHO_BUF       (64 * 1024)
#define UDP_BUF        2048
#define DRAIN_ROUNDS   64     /* batches per wakeup before checking stop again */
#define EPOLL_EVENTS   64

/* Single writer: relaxed stores are enough for a reader in another process. */
#define ST_ADD(st, f, n) __atomic_store_n(&(st)->f, (st)->f + (n), __ATOMIC_RELAXED)
#define ST_SET(st, f, v) __atomic_store_n(&(st)->f, (v), __ATOMIC_RELAXED)

static const char *const kind_names[APP_KIND__COUNT] = {
	[APP_UDP_SINK] = "udp-sink",
	[APP_TCP_SINK] = "tcp-sink",
	[APP_UDP_ECHO] = "udp-echo",
	[APP_TCP_ECHO] = "tcp-echo",
};

const char *app_kind_name(enum app_kind k)
{
	return (unsigned)k < APP_KIND__COUNT ? kind_names[k] : NULL;
}

int app_kind_by_name(const char *name)
{
	for (int k = 0; name && k < APP_KIND__COUNT; k++)
		if (!strcmp(name, kind_names[k]))
			return k;
	return -EINVAL;
}

void app_pattern_fill(uint8_t *buf, size_t len, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = app_pattern_byte(off + i);
}

/* ---- the child ------------------------------------------------------- */

struct ctx {
	struct app *a;
	struct app_stats *st;
	uint64_t deadline;
};

static bool keep_going(struct ctx *c)
{
	return !__atomic_load_n(&c->st->stop, __ATOMIC_RELAXED) && now_ns() < c->deadline &&
	       getppid() == c->a->parent;
}

static void count_cpu(struct ctx *c, uint64_t pkts)
{
	int cpu = sched_getcpu();

	if (cpu >= 0 && cpu < OLAB_MAX_CPUS) {
		ST_ADD(c->st, cpu_packets[cpu], pkts);
		ST_SET(c->st, cpu, cpu);
	}
}

static int fail(struct ctx *c, int err, const char *what)
{
	if (!c->st->error)
		ST_SET(c->st, error, err);
	fprintf(stderr, "%s: %s: %s\n", kind_names[c->a->o.kind], what, strerror(-err));
	return err;
}

static int bound_socket(struct ctx *c, int type)
{
	const struct app_opts *o = &c->a->o;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, zero = 0;

	memset(&ss, 0, sizeof(ss));
	if (o->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(o->port);
		s6->sin6_addr = in6addr_any;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(o->port);
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(c, -errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (o->rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &o->rcvbuf, sizeof(o->rcvbuf)))
		pr_debug("%s: SO_RCVBUFFORCE: %s\n", kind_names[o->kind], strerror(errno));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return fail(c, err, "bind");
	}
	if (type == SOCK_STREAM && listen(fd, 1024)) {
		int err = -errno;

		close(fd);
		return fail(c, err, "listen");
	}
	return fd;
}

static int udp_main(struct ctx *c, bool echo)
{
	static struct mmsghdr msgs[APP_UDP_BATCH];
	static struct iovec iov[APP_UDP_BATCH];
	static struct sockaddr_storage from[APP_UDP_BATCH];
	static uint8_t bufs[APP_UDP_BATCH][UDP_BUF];
	struct pollfd pfd;
	int fd, n, ret = 0;

	fd = bound_socket(c, SOCK_DGRAM);
	if (fd < 0)
		return fd;
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	ST_SET(c->st, ready, 1);

	while (keep_going(c)) {
		if (poll(&pfd, 1, POLL_MS) < 0 && errno != EINTR) {
			ret = fail(c, -errno, "poll");
			break;
		}
		for (int r = 0; r < DRAIN_ROUNDS; r++) {
			uint64_t bytes = 0;

			for (int i = 0; i < APP_UDP_BATCH; i++) {
				iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = UDP_BUF };
				msgs[i].msg_hdr = (struct msghdr){
					.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
					.msg_iov = &iov[i], .msg_iovlen = 1,
				};
			}
			n = recvmmsg(fd, msgs, APP_UDP_BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0) {
				if (n < 0 && errno != EAGAIN && errno != EINTR)
					ret = fail(c, -errno, "recvmmsg");
				break;
			}
			for (int i = 0; i < n; i++)
				bytes += msgs[i].msg_len;
			ST_ADD(c->st, packets, n);
			ST_ADD(c->st, bytes, bytes);
			count_cpu(c, n);
			if (!echo)
				continue;
			for (int i = 0; i < n; i++)
				iov[i].iov_len = msgs[i].msg_len;
			/* Bounded: a full send buffer loses the rest of the batch. */
			for (int sent = 0, tries = 0; sent < n && tries < 100; tries++) {
				int k = sendmmsg(fd, msgs + sent, n - sent, MSG_DONTWAIT);

				if (k > 0) {
					for (int i = sent; i < sent + k; i++)
						ST_ADD(c->st, sent_bytes, msgs[i].msg_len);
					ST_ADD(c->st, sent_packets, k);
					sent += k;
				} else if (errno == EAGAIN || errno == ENOBUFS) {
					poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 1);
				} else {
					ST_ADD(c->st, send_errors, n - sent);
					break;
				}
				if (tries == 99)
					ST_ADD(c->st, send_errors, n - sent);
			}
		}
		if (ret)
			break;
	}
	close(fd);
	return ret;
}

struct conn {
	int fd;
	uint64_t off;            /* bytes received so far */
	uint8_t *buf;            /* echo: bytes read, not yet written back */
	size_t len, sent;
	bool want_out;           /* epoll waits for EPOLLOUT */
	struct conn *next, **pprev;
};

static void conn_close(struct ctx *c, int ep, struct conn *cn)
{
	*cn->pprev = cn->next;
	if (cn->next)
		cn->next->pprev = cn->pprev;
	epoll_ctl(ep, EPOLL_CTL_DEL, cn->fd, NULL);
	close(cn->fd);
	free(cn->buf);
	free(cn);
	ST_ADD(c->st, conns_closed, 1);
}

static void account(struct ctx *c, struct conn *cn, const uint8_t *buf, size_t n)
{
	const struct app_opts *o = &c->a->o;

	if (o->verify) {
		uint64_t bad = 0;

		for (size_t i = 0; i < n; i++)
			bad += buf[i] != app_pattern_byte(cn->off + i);
		if (bad)
			ST_ADD(c->st, bad_bytes, bad);
	}
	if (o->req_size)
		ST_ADD(c->st, requests, (cn->off + n) / o->req_size - cn->off / o->req_size);
	cn->off += n;
	ST_ADD(c->st, packets, 1);
	ST_ADD(c->st, bytes, n);
	count_cpu(c, 1);
}

/* Echo: write back what is pending; true when all of it went out. */
static bool echo_flush(struct ctx *c, struct conn *cn, bool *dead)
{
	while (cn->sent < cn->len) {
		ssize_t w = send(cn->fd, cn->buf + cn->sent, cn->len - cn->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				ST_ADD(c->st, send_errors, 1);
				*dead = true;
			}
			return false;
		}
		cn->sent += w;
		ST_ADD(c->st, sent_packets, 1);
		ST_ADD(c->st, sent_bytes, w);
	}
	cn->len = cn->sent = 0;
	return true;
}

/* Readable (or writable, for echo) connection; false when it is done. */
static bool conn_io(struct ctx *c, int ep, struct conn *cn, uint8_t *rbuf, bool echo)
{
	bool dead = false, eof = false, want_out;

	for (int r = 0; r < DRAIN_ROUNDS; r++) {
		uint8_t *buf = echo ? cn->buf : rbuf;
		ssize_t n;

		if (echo && cn->len && !echo_flush(c, cn, &dead))
			break;
		n = recv(cn->fd, buf, echo ? ECHO_BUF : TCP_BUF, MSG_DONTWAIT);
		if (n == 0) {
			eof = true;
			break;
		}
		if (n < 0) {
			dead = errno != EAGAIN && errno != EINTR;
			break;
		}
		account(c, cn, buf, n);
		if (echo) {
			cn->len = n;
			cn->sent = 0;
		}
	}
	if (echo && cn->len && !dead)
		echo_flush(c, cn, &dead);
	if (dead || eof)
		return false;
	/* Echo: wait for room to write while a reply is stuck, else for data. */
	want_out = echo && cn->len;
	if (want_out != cn->want_out) {
		struct epoll_event ev = { .events = want_out ? EPOLLOUT : EPOLLIN, .data.ptr = cn };

		if (epoll_ctl(ep, EPOLL_CTL_MOD, cn->fd, &ev))
			return false;
		cn->want_out = want_out;
	}
	return true;
}

static void accept_all(struct ctx *c, int ep, int lfd, bool echo, unsigned *nconns,
		       struct conn **head)
{
	const struct app_opts *o = &c->a->o;
	unsigned max = o->max_conns ? o->max_conns : APP_DEFAULT_MAX_CONNS;

	for (int i = 0; i < DRAIN_ROUNDS; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct conn *cn;
		int fd, err;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (*nconns >= max) {
			close(fd);
			continue;
		}
		cn = calloc(1, sizeof(*cn));
		if (cn && echo)
			cn->buf = malloc(ECHO_BUF);
		if (!cn || (echo && !cn->buf)) {
			free(cn);
			close(fd);
			continue;
		}
		cn->fd = fd;
		ST_ADD(c->st, conns, 1);
		if (o->sockmap_fd > 0) {
			/* Before the first read, so the program sees every byte sent after. */
			err = app_sockhash_add(o->sockmap_fd, fd);
			if (err) {
				ST_ADD(c->st, sockmap_errors, 1);
				fail(c, err, "sockmap insert");
			} else {
				ST_ADD(c->st, sockmap_added, 1);
			}
		}
		ev.data.ptr = cn;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(cn->buf);
			free(cn);
			continue;
		}
		cn->next = *head;
		cn->pprev = head;
		if (*head)
			(*head)->pprev = &cn->next;
		*head = cn;
		(*nconns)++;
	}
}

/*
 * After an idle epoll timeout, try every connection once: bytes found here
 * arrived without a wakeup, which an app relying on epoll alone would never
 * read.  They are counted (missed_wakeup_bytes) so a report can show it.
 */
static void idle_sweep(struct ctx *c, int ep, uint8_t *rbuf, bool echo, struct conn **head,
		       unsigned *nconns)
{
	struct conn *cn = *head, *next;

	for (unsigned i = 0; cn && i < *nconns + 1; i++, cn = next) {
		uint64_t before = c->st->bytes;

		next = cn->next;
		if (!conn_io(c, ep, cn, rbuf, echo)) {
			conn_close(c, ep, cn);
			(*nconns)--;
		}
		if (c->st->bytes > before)
			ST_ADD(c->st, missed_wakeup_bytes, c->st->bytes - before);
	}
}

static int tcp_main(struct ctx *c, bool echo)
{
	struct epoll_event evs[EPOLL_EVENTS], lev = { .events = EPOLLIN, .data.ptr = NULL };
	struct conn *head = NULL;
	unsigned nconns = 0;
	uint8_t *rbuf = NULL;
	int lfd, ep = -1, ret = 0;

	lfd = bound_socket(c, SOCK_STREAM);
	if (lfd < 0)
		return lfd;
	ep = epoll_create1(EPOLL_CLOEXEC);
	rbuf = malloc(TCP_BUF);
	if (ep < 0 || !rbuf || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev)) {
		ret = fail(c, ep < 0 || !rbuf ? -ENOMEM : -errno, "epoll");
		goto cleanup;
	}
	ST_SET(c->st, ready, 1);

	while (keep_going(c)) {
		int n = epoll_wait(ep, evs, EPOLL_EVENTS, POLL_MS);

		if (n < 0 && errno != EINTR) {
			ret = fail(c, -errno, "epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct conn *cn = evs[i].data.ptr;

			if (!cn) {
				accept_all(c, ep, lfd, echo, &nconns, &head);
				continue;
			}
			if (!conn_io(c, ep, cn, rbuf, echo)) {
				conn_close(c, ep, cn);
				nconns--;
			}
		}
		if (n == 0)
			idle_sweep(c, ep, rbuf, echo, &head, &nconns);
	}
	/* Connections still open are closed with the process. */
cleanup:
	free(rbuf);
	close_fd(ep);
	close(lfd);
	return ret;
}

static int app_main(void *arg)
{
	struct app *a = arg;
	struct ctx c = { .a = a, .st = a->st };
	unsigned t = a->o.timeout_ms ? a->o.timeout_ms : APP_DEFAULT_TIMEOUT_MS;
	int ret;

	c.deadline = now_ns() + (uint64_t)t * 1000000ull;
	ST_SET(c.st, cpu, sched_getcpu());
	switch (a->o.kind) {
	case APP_UDP_SINK: ret = udp_main(&c, false); break;
	case APP_UDP_ECHO: ret = udp_main(&c, true); break;
	case APP_TCP_SINK: ret = tcp_main(&c, false); break;
	case APP_TCP_ECHO: ret = tcp_main(&c, true); break;
	default: ret = fail(&c, -EINVAL, "kind");
	}
	return ret ? 1 : 0;
}

/* ---- the parent ------------------------------------------------------ */

int app_start(const struct app_opts *o, const struct netns *ns, struct app **out)
{
	struct app *a;
	int err;

	*out = NULL;
	if (!o || (unsigned)o->kind >= APP_KIND__COUNT || !o->port ||
	    (o->family && o->family != AF_INET && o->family != AF_INET6))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->o = *o;
	a->exit_status = -1;
	a->parent = getpid();
	a->st = mmap(NULL, sizeof(*a->st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (a->st == MAP_FAILED) {
		err = -errno;
		free(a);
		return err;
	}
	a->st->cpu = -1;
	err = proc_spawn(&a->proc, ns, o->cpu, app_main, a);
	if (err) {
		pr_warn("apps: cannot start %s: %s\n", kind_names[o->kind], strerror(-err));
		munmap(a->st, sizeof(*a->st));
		free(a);
		return err;
	}
	pr_debug("apps: %s on port %u, pid %d, cpu %d\n", kind_names[o->kind], o->port,
		 (int)a->proc.pid, o->cpu);
	*out = a;
	return 0;
}

/* Reap it if it has exited; true while it runs. */
static bool running(struct app *a)
{
	int st;

	if (a->proc.pid <= 0)
		return false;
	st = proc_wait(&a->proc, 0);
	if (st == -ETIMEDOUT)
		return true;
	a->exit_status = st;
	return false;
}

int app_wait_ready(struct app *a, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (true) {
		int err = __atomic_load_n(&a->st->error, __ATOMIC_RELAXED);

		if (err)
			return err;
		if (__atomic_load_n(&a->st->ready, __ATOMIC_RELAXED))
			return 0;
		if (!running(a))
			return -ECHILD;
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ns(1000000);
	}
}

void app_read(const struct app *a, struct app_stats *out)
{
	const uint64_t *src = (const uint64_t *)a->st;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

int app_wait_count(const struct app *a, size_t field, uint64_t want, int timeout_ms)
{
	const uint64_t *p = (const uint64_t *)((const char *)a->st + field);
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	if (field % sizeof(uint64_t) || field >= sizeof(*a->st))
		return -EINVAL;
	while (__atomic_load_n(p, __ATOMIC_RELAXED) < want) {
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ns(200000);
	}
	return 0;
}

int app_stop(struct app *a, int timeout_ms)
{
	int st;

	if (!a)
		return -EINVAL;
	__atomic_store_n(&a->st->stop, 1, __ATOMIC_RELAXED);
	if (a->proc.pid <= 0)
		return a->exit_status;
	st = proc_wait(&a->proc, timeout_ms);
	if (st == -ETIMEDOUT) {
		pr_warn("apps: %s (pid %d) did not stop in %d ms, killing it\n",
			kind_names[a->o.kind], (int)a->proc.pid, timeout_ms);
		proc_kill(&a->proc);
		st = -ETIMEDOUT;
	}
	a->exit_status = st;
	return st;
}

void app_free(struct app *a)
{
	if (!a)
		return;
	if (a->proc.pid > 0)
		app_stop(a, 1000);
	munmap(a->st, sizeof(*a->st));
	free(a);
}

int app_sockhash_add(int map_fd, int sock_fd)
{
	hook_sock_key_t key;
	socklen_t len = sizeof(key);
	__u64 val = (__u64)sock_fd;

	if (getsockopt(sock_fd, SOL_SOCKET, SO_COOKIE, &key, &len))
		return -errno;
	return bpf_map_update_elem(map_fd, &key, &val, BPF_NOEXIST) ? -errno : 0;
}
