/*
 * The socket generators (see lib/gen.h): UDP, one connected socket per flow
 * and sendmmsg() in batches; TCP, connections writing fixed-size requests.
 * The sockets are opened in the gen namespace, then the sending loop
 * (lib/gen_loop.c) runs.  Also gen_run(), which picks the generator.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#include "lib/gen_internal.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/netns.h"

#define TCP_POLL_MS       10
#define SOCK_TIMEOUT_US   100000

static int udp_send(struct gen_thr *th, uint64_t n)
{
	struct gen_ctx *g = th->g;
	unsigned vlen = n > g->chunk ? g->chunk : (unsigned)n;
	unsigned nt = g->nthr, k;
	int fd, r;

	/* Thread i owns sockets i, i + n, ...; with fewer sockets it shares one. */
	if (g->nfds >= nt) {
		k = th->idx + th->next_sock * nt;
		if (k >= g->nfds) {
			th->next_sock = 0;
			k = th->idx;
		}
		th->next_sock++;
	} else {
		k = th->idx % g->nfds;
	}
	fd = g->fds[k];
	r = sendmmsg(fd, th->msgs, vlen, 0);
	th->st.calls++;
	if (r < 0) {
		th->st.errors++;
		if (errno == EAGAIN || errno == ENOBUFS || errno == ECONNREFUSED || errno == EINTR)
			return 0;
		return -errno;
	}
	for (int i = 0; i < r; i++)
		th->st.bytes += th->msgs[i].msg_len;
	th->st.sent += r;
	th->issued += r;
	return 0;
}

/* Start up to n new requests and keep writing the ones in flight. */
static int tcp_send(struct gen_thr *th, uint64_t n)
{
	struct gen_ctx *g = th->g;
	unsigned size = g->payload_len, alive = 0;
	uint64_t budget = n;
	int r;

	for (unsigned i = 0; i < th->nconns; i++) {
		th->pfds[i].fd = th->conns[i].fd;
		th->pfds[i].events = POLLOUT;
		th->pfds[i].revents = 0;
	}
	r = poll(th->pfds, th->nconns, TCP_POLL_MS);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned i = 0; i < th->nconns; i++) {
		struct tcp_conn *cn = &th->conns[i];

		if (cn->fd < 0)
			continue;
		alive++;
		if (th->pfds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			th->st.errors++;
			goto dead;
		}
		if (!(th->pfds[i].revents & POLLOUT))
			continue;
		for (int guard = 0; guard < 4096; guard++) {
			ssize_t w;

			if (!cn->off) {
				if (!budget)
					break;
				budget--;
				th->issued++;
				th->inflight++;
			}
			w = send(cn->fd, g->payload + cn->off, size - cn->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			th->st.calls++;
			if (w < 0) {
				if (errno == EAGAIN || errno == EINTR) {
					if (!cn->off) {  /* not started after all */
						budget++;
						th->issued--;
						th->inflight--;
					}
					break;
				}
				th->st.errors++;
				goto dead;
			}
			cn->off += w;
			th->st.bytes += w;
			if (cn->off == size) {
				cn->off = 0;
				th->st.sent++;
				th->inflight--;
			}
		}
		continue;
dead:
		if (cn->off)
			th->inflight--;
		cn->off = 0;
		cn->fd = -1;    /* closed by the owner of g->fds */
		alive--;
	}
	return alive ? 0 : -ECONNRESET;
}

/* Room for n more descriptors: raise the soft limit up to the hard one. */
static int ensure_nofile(unsigned n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 256) {
		rl.rlim_cur = n + 256;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
			return -EMFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return -errno;
	}
	return 0;
}

static void close_fds(struct gen_ctx *g)
{
	for (unsigned i = 0; g->fds && i < g->nfds; i++)
		close_fd(g->fds[i]);
	free(g->fds);
	g->fds = NULL;
}

/* Room in g->fds for one socket per flow (all -1), and the DUT's address. */
static int flows_open(struct gen_ctx *g, struct sockaddr_storage *dst, socklen_t *dlen)
{
	const struct gen_cfg *c = g->c;
	const struct topo *t = g->t;
	int err;

	g->nfds = c->nflows ? c->nflows : 1;
	err = ensure_nofile(g->nfds);
	if (err)
		return err;
	g->fds = malloc(g->nfds * sizeof(int));
	if (!g->fds)
		return -ENOMEM;
	for (unsigned i = 0; i < g->nfds; i++)
		g->fds[i] = -1;
	return gen_sockaddr(c->family, c->family == 6 ? t->ip6_dut : t->ip4_dut,
			    c->dport ? c->dport : GEN_DPORT, dst, dlen);
}

/* One connected UDP socket per flow, bound to the flow's source port. */
static int udp_open(struct gen_ctx *g)
{
	const struct gen_cfg *c = g->c;
	const struct topo *t = g->t;
	struct timeval tv = { .tv_usec = SOCK_TIMEOUT_US };
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	int af = c->family == 6 ? AF_INET6 : AF_INET, buf = 4 << 20, err;

	err = flows_open(g, &dst, &dlen);
	if (err)
		return err;
	for (unsigned i = 0; i < g->nfds; i++) {
		int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

		if (fd < 0)
			return -errno;
		g->fds[i] = fd;
		err = gen_sockaddr(c->family, c->family == 6 ? t->ip6_gen : t->ip4_gen,
				   gen_flow_sport(i), &src, &slen);
		if (err)
			return err;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
			setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (bind(fd, (struct sockaddr *)&src, slen) ||
		    connect(fd, (struct sockaddr *)&dst, dlen)) {
			err = -errno;
			pr_warn("gen: udp socket for source port %u: %s\n", gen_flow_sport(i),
				strerror(errno));
			return err;
		}
	}
	return 0;
}

/* Open the sockets from inside the gen namespace, send, close. */
static int run_sockets(struct gen_ctx *g, int (*open_fn)(struct gen_ctx *g), struct gen_result *r)
{
	struct nstoken *tok = netns_enter(&g->t->gen);
	int err;

	if (!tok) {
		err = -errno;
		goto cleanup;
	}
	err = open_fn(g);
	netns_leave(tok);
	if (!err)
		err = gen_run_threads(g, r);
cleanup:
	close_fds(g);
	free(g->payload);
	return err;
}

int gen_udp_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r)
{
	struct gen_ctx g = { .t = t, .c = c, .mode = GEN_MODE_UDP, .send = udp_send };
	int plen, err;

	gen_result_init(r, GEN_MODE_UDP);
	err = gen_check_cfg(c, GEN_MODE_UDP);
	if (err)
		return err;
	plen = gen_payload_len(c->family, c->size);
	g.payload_len = plen;
	g.payload = calloc(1, plen + 1);
	if (!g.payload)
		return -ENOMEM;
	g.iov = (struct iovec){ .iov_base = g.payload, .iov_len = plen };
	g.chunk = c->batch ? c->batch : GEN_UDP_BATCH;

	return run_sockets(&g, udp_open, r);
}

static int tcp_connect_all(struct gen_ctx *g)
{
	const struct gen_cfg *c = g->c;
	struct sockaddr_storage dst;
	struct pollfd *pfd = NULL;
	socklen_t dlen;
	uint64_t end;
	int af = c->family == 6 ? AF_INET6 : AF_INET, err;
	unsigned pending;

	err = flows_open(g, &dst, &dlen);
	if (err)
		return err;
	pfd = calloc(g->nfds, sizeof(*pfd));
	if (!pfd)
		return -ENOMEM;
	for (unsigned i = 0; i < g->nfds; i++) {
		int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			err = -errno;
			goto out;
		}
		g->fds[i] = fd;
		if (connect(fd, (struct sockaddr *)&dst, dlen) && errno != EINPROGRESS) {
			err = -errno;
			goto out;
		}
		pfd[i] = (struct pollfd){ .fd = fd, .events = POLLOUT };
	}
	/* Wait (bounded) until every connection is established. */
	end = now_ns() + 3 * NSEC;
	for (pending = g->nfds; pending && now_ns() < end && !run_stopping();) {
		if (poll(pfd, g->nfds, 100) < 0 && errno != EINTR) {
			err = -errno;
			goto out;
		}
		pending = 0;
		for (unsigned i = 0; i < g->nfds; i++) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (pfd[i].fd < 0)
				continue;
			if (!pfd[i].revents) {
				pending++;
				continue;
			}
			getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
			if (soerr) {
				err = -soerr;
				pr_warn("gen: tcp connect to port %u: %s\n",
					c->dport ? c->dport : GEN_DPORT, strerror(soerr));
				goto out;
			}
			pfd[i].fd = -1;
		}
	}
	if (pending)
		err = -ETIMEDOUT;
out:
	free(pfd);
	return err;
}

int gen_tcp_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r)
{
	struct gen_ctx g = { .t = t, .c = c, .mode = GEN_MODE_TCP, .send = tcp_send };
	int err;

	gen_result_init(r, GEN_MODE_TCP);
	err = gen_check_cfg(c, GEN_MODE_TCP);
	if (err)
		return err;
	g.payload_len = c->size;
	g.payload = malloc(c->size);
	if (!g.payload)
		return -ENOMEM;
	for (unsigned i = 0; i < c->size; i++)
		g.payload[i] = "offloadlab"[i % 10];
	g.chunk = 1024;

	return run_sockets(&g, tcp_connect_all, r);
}

int gen_run(const struct topo *t, enum gen_mode mode, const struct gen_cfg *c,
	    struct gen_result *r)
{
	switch (mode) {
	case GEN_MODE_LIVE:
		return gen_live_run(t, c, r);
	case GEN_MODE_UDP:
		return gen_udp_run(t, c, r);
	case GEN_MODE_TCP:
		return gen_tcp_run(t, c, r);
	}
	return -EINVAL;
}
