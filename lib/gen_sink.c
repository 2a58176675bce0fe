/*
 * Traffic sinks on the DUT (see lib/gen.h): an XDP program that counts and
 * drops (live), or socket servers, one thread per CPU on SO_REUSEPORT
 * sockets (udp, tcp).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "lib/gen_internal.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/netns.h"
#include "gen.skel.h"

#define SINK_POLL_MS      50
#define SINK_STABLE_NS    200000000ull

#define SINK_BATCH 64
#define SINK_BUF   2048

struct sink_thr {
	struct gen_sink *s;
	int cpu, fd;
	pthread_t tid;
	bool started;
	uint64_t packets, bytes, conns;   /* written by the thread, read atomically */
};

struct gen_sink {
	enum gen_mode mode;
	unsigned size;
	int cleanup;
	/* xdp */
	struct gen *skel;
	struct bpf_link *link;
	/* sockets */
	unsigned nthr;
	struct sink_thr thr[OLAB_MAX_CPUS];
	uint8_t *ports;
	volatile bool stop;
};

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, *p + v, __ATOMIC_RELAXED);
}

static void mark_port(struct gen_sink *s, const struct sockaddr_storage *ss)
{
	uint16_t port = ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
						  : ((const struct sockaddr_in *)ss)->sin_port;

	__atomic_store_n(&s->ports[ntohs(port)], 1, __ATOMIC_RELAXED);
}

static void *udp_sink_main(void *arg)
{
	struct sink_thr *st = arg;
	struct gen_sink *s = st->s;
	struct mmsghdr *msgs = calloc(SINK_BATCH, sizeof(*msgs));
	struct iovec *iov = calloc(SINK_BATCH, sizeof(*iov));
	struct sockaddr_storage *names = calloc(SINK_BATCH, sizeof(*names));
	uint8_t *buf = malloc(SINK_BATCH * SINK_BUF);

	if (!msgs || !iov || !names || !buf)
		goto out;
	pin_thread_cpu(st->cpu);
	while (!s->stop) {
		int r;

		for (int i = 0; i < SINK_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = buf + i * SINK_BUF,
						 .iov_len = SINK_BUF };
			msgs[i].msg_hdr = (struct msghdr){ .msg_name = &names[i],
							   .msg_namelen = sizeof(names[i]),
							   .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		r = recvmmsg(st->fd, msgs, SINK_BATCH, MSG_WAITFORONE, NULL);
		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			pr_warn("gen: udp sink: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < r; i++) {
			add(&st->bytes, msgs[i].msg_len);
			mark_port(s, &names[i]);
		}
		add(&st->packets, r);
	}
out:
	free(msgs);
	free(iov);
	free(names);
	free(buf);
	return NULL;
}

static void *tcp_sink_main(void *arg)
{
	struct sink_thr *st = arg;
	struct gen_sink *s = st->s;
	struct epoll_event ev, evs[64];
	int *conns = NULL, nconns = 0, ep;
	uint8_t *buf = malloc(1 << 16);

	ep = epoll_create1(EPOLL_CLOEXEC);
	conns = calloc(GEN_MAX_TCP_CONNS * 2, sizeof(int));
	if (ep < 0 || !buf || !conns)
		goto out;
	pin_thread_cpu(st->cpu);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = st->fd };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, st->fd, &ev))
		goto out;
	while (!s->stop) {
		int n = epoll_wait(ep, evs, 64, SINK_POLL_MS);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == st->fd) {
				int c;

				while ((c = accept4(st->fd, NULL, NULL,
						    SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					if (nconns >= GEN_MAX_TCP_CONNS * 2) {
						close(c);
						continue;
					}
					ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
					conns[nconns++] = c;
					add(&st->conns, 1);
				}
				continue;
			}
			for (int guard = 0; guard < 256; guard++) {
				ssize_t r = read(fd, buf, 1 << 16);

				if (r > 0) {
					add(&st->bytes, r);
					continue;
				}
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				/* EOF or error: done with this connection */
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				for (int k = 0; k < nconns; k++)
					if (conns[k] == fd)
						conns[k] = conns[--nconns];
				close(fd);
				break;
			}
		}
	}
out:
	for (int k = 0; k < nconns; k++)
		close(conns[k]);
	close_fd(ep);
	free(conns);
	free(buf);
	return NULL;
}

static void sink_free(struct gen_sink *s)
{
	s->stop = true;
	for (unsigned i = 0; i < s->nthr; i++) {
		if (s->thr[i].started)
			pthread_join(s->thr[i].tid, NULL);
		close_fd(s->thr[i].fd);
	}
	bpf_link__destroy(s->link);
	gen__destroy(s->skel);
	free(s->ports);
	free(s);
}

static void sink_cleanup(const char *name, long num)
{
	sink_free((struct gen_sink *)num);
}

static int sink_xdp_start(struct gen_sink *s, const struct topo *t, const struct gen_cfg *c)
{
	struct nstoken *tok;
	int err;

	s->skel = gen__open();
	if (!s->skel)
		return -errno;
	s->skel->rodata->sink_dport = c->dport ? c->dport : GEN_DPORT;
	s->skel->rodata->sink_pass = c->sink_pass;
	bpf_program__set_autoload(s->skel->progs.gen_xdp, false);
	err = gen__load(s->skel);
	if (err) {
		pr_warn("gen: cannot load the sink program: %s\n", strerror(-err));
		return err;
	}
	/* The link resolves the ifindex in the caller's namespace. */
	tok = netns_enter(&t->dut);
	if (!tok)
		return -errno;
	s->link = bpf_program__attach_xdp(s->skel->progs.sink_xdp, t->ifindex_dut);
	err = s->link ? 0 : -errno;
	netns_leave(tok);
	if (err)
		pr_warn("gen: cannot attach the XDP sink to %s: %s\n", t->if_dut, strerror(-err));
	return err;
}

static int sink_sock_start(struct gen_sink *s, const struct topo *t, const struct gen_cfg *c)
{
	struct timeval tv = { .tv_usec = SINK_POLL_MS * 1000 };
	struct sockaddr_storage ss;
	struct nstoken *tok;
	socklen_t sl;
	int af = c->family == 6 ? AF_INET6 : AF_INET, buf = 16 << 20, err = 0;
	bool udp = s->mode == GEN_MODE_UDP;

	s->ports = calloc(1, 65536);
	if (!s->ports)
		return -ENOMEM;
	s->nthr = cpu_count();
	if (s->nthr > OLAB_MAX_CPUS)
		s->nthr = OLAB_MAX_CPUS;
	for (unsigned i = 0; i < s->nthr; i++)
		s->thr[i] = (struct sink_thr){ .s = s, .cpu = (int)i, .fd = -1 };
	gen_sockaddr(c->family, NULL, c->dport ? c->dport : GEN_DPORT, &ss, &sl);

	tok = netns_enter(&t->dut);
	if (!tok)
		return -errno;
	for (unsigned i = 0; i < s->nthr; i++) {
		int one = 1, fd;

		fd = socket(af, (udp ? SOCK_DGRAM : SOCK_STREAM | SOCK_NONBLOCK) | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			err = -errno;
			break;
		}
		s->thr[i].fd = fd;
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (af == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (udp) {
			if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
				setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		if (bind(fd, (struct sockaddr *)&ss, sl) || (!udp && listen(fd, 1024))) {
			err = -errno;
			break;
		}
	}
	netns_leave(tok);
	if (err) {
		pr_warn("gen: cannot open the %s sink: %s\n", gen_mode_name(s->mode),
			strerror(-err));
		return err;
	}
	for (unsigned i = 0; i < s->nthr; i++) {
		err = -pthread_create(&s->thr[i].tid, NULL, udp ? udp_sink_main : tcp_sink_main,
				      &s->thr[i]);
		if (err)
			return err;
		s->thr[i].started = true;
	}
	return 0;
}

int gen_sink_start(const struct topo *t, enum gen_mode mode, const struct gen_cfg *c,
		   struct gen_sink **out)
{
	struct gen_sink *s;
	int err;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->mode = mode;
	s->size = c->size ? c->size : 1;
	s->cleanup = -1;
	if (mode == GEN_MODE_LIVE)
		err = sink_xdp_start(s, t, c);
	else
		err = sink_sock_start(s, t, c);
	if (err) {
		sink_free(s);
		return err;
	}
	s->cleanup = cleanup_add(sink_cleanup, "gen sink", (long)s, "traffic sink");
	*out = s;
	return 0;
}

void gen_sink_read(struct gen_sink *s, struct gen_sink_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (s->mode == GEN_MODE_LIVE) {
		const volatile struct cpu_counters *cnt = s->skel->bss->sink_cnt;
		const volatile uint8_t *seen = s->skel->bss->sink_port_seen;

		for (int c = 0; c < OLAB_MAX_CPUS; c++) {
			st->per_cpu[c] = cnt[c].packets;
			st->packets += cnt[c].packets;
			st->bytes += cnt[c].bytes;
			st->other += cnt[c].passed;
		}
		for (int p = 0; p < 65536; p++)
			st->distinct_sports += seen[p] != 0;
		return;
	}
	for (unsigned i = 0; i < s->nthr; i++) {
		uint64_t b = ld(&s->thr[i].bytes);

		st->bytes += b;
		st->other += ld(&s->thr[i].conns);
		st->per_cpu[s->thr[i].cpu] = s->mode == GEN_MODE_TCP ? b / s->size
								     : ld(&s->thr[i].packets);
	}
	if (s->mode == GEN_MODE_TCP) {
		st->packets = st->bytes / s->size;
	} else {
		for (unsigned i = 0; i < s->nthr; i++)
			st->packets += ld(&s->thr[i].packets);
		for (int p = 0; p < 65536; p++)
			st->distinct_sports += __atomic_load_n(&s->ports[p], __ATOMIC_RELAXED) != 0;
	}
}

void gen_sink_settle(struct gen_sink *s, uint64_t expect, uint64_t max_ns,
		     struct gen_sink_stats *st)
{
	uint64_t end = now_ns() + max_ns, last = UINT64_MAX, moved = now_ns();

	for (;;) {
		uint64_t now = now_ns();

		gen_sink_read(s, st);
		if (st->packets >= expect || now >= end || run_stopping())
			break;
		if (st->bytes != last) {
			last = st->bytes;
			moved = now;
		} else if (now - moved >= SINK_STABLE_NS) {
			break;
		}
		sleep_ns(10000000);
	}
}

void gen_sink_stop(struct gen_sink *s)
{
	if (!s)
		return;
	if (s->cleanup >= 0)
		cleanup_run(s->cleanup);
	else
		sink_free(s);
}
