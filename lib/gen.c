/*
 * Traffic generators (live frames, UDP sendmmsg, TCP requests) and their
 * sinks on the DUT.  See lib/gen.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "lib/counters.h"
#include "lib/gen.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/link.h"
#include "netns/netns.h"
#include "gen.skel.h"

#define NSEC 1000000000ull
#define LIVE_CHUNK        (1u << 16)  /* test_run repeat per call, unpaced */
#define TCP_POLL_MS       10
#define SOCK_TIMEOUT_US   100000
#define SINK_POLL_MS      50
#define SINK_STABLE_NS    200000000ull
#define TCP_DRAIN_NS      1000000000ull

/* ---- pure helpers ---- */

uint64_t gen_csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint16_t w;

	for (; len > 1; len -= 2, p += 2) {
		memcpy(&w, p, 2);
		sum += w;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

static uint32_t csum_fold16(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

uint16_t gen_csum_fold(uint64_t sum)
{
	return ~csum_fold16(sum) & 0xffff;
}

int gen_payload_len(int family, unsigned size)
{
	unsigned hdr = GEN_L4_OFF(family) + GEN_UDP_HLEN;

	if ((family != 4 && family != 6) || size < GEN_MIN_FRAME || size > GEN_MAX_FRAME ||
	    size < hdr)
		return -EINVAL;
	return (int)(size - hdr);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

int gen_build_frame(const struct gen_frame_spec *s, uint8_t *buf, size_t len,
		    uint32_t *csum_partial)
{
	int plen = gen_payload_len(s->family, s->size);
	unsigned l3 = GEN_ETH_HLEN, l4 = GEN_L4_OFF(s->family), ulen;
	uint8_t pseudo[40];
	uint64_t sum;
	uint16_t w;

	if (plen < 0 || len < s->size)
		return -EINVAL;
	ulen = s->size - l4;
	memset(buf, 0, s->size);
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	put16(buf + 12, s->family == 6 ? 0x86dd : 0x0800);

	if (s->family == 4) {
		uint8_t *ip = buf + l3;

		ip[0] = 0x45;
		put16(ip + 2, s->size - l3);
		put16(ip + 6, 0x4000);          /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, s->src_ip, 4);
		memcpy(ip + 16, s->dst_ip, 4);
		w = gen_csum_fold(gen_csum_add(0, ip, GEN_IP4_HLEN));
		memcpy(ip + 10, &w, 2);
		memset(pseudo, 0, sizeof(pseudo));
		memcpy(pseudo, s->src_ip, 4);
		memcpy(pseudo + 4, s->dst_ip, 4);
		pseudo[9] = IPPROTO_UDP;
		put16(pseudo + 10, ulen);
		sum = gen_csum_add(0, pseudo, 12);
	} else {
		uint8_t *ip = buf + l3;

		ip[0] = 0x60;
		put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, s->src_ip, 16);
		memcpy(ip + 24, s->dst_ip, 16);
		memset(pseudo, 0, sizeof(pseudo));
		memcpy(pseudo, s->src_ip, 16);
		memcpy(pseudo + 16, s->dst_ip, 16);
		put16(pseudo + 34, ulen);       /* 32-bit length, < 64 KiB */
		pseudo[39] = IPPROTO_UDP;
		sum = gen_csum_add(0, pseudo, 40);
	}

	/* UDP header: the source port is left out of the partial sum. */
	put16(buf + l4 + 2, s->dport);
	put16(buf + l4 + 4, ulen);
	for (int i = 0; i < plen; i++)
		buf[l4 + GEN_UDP_HLEN + i] = "offloadlab"[i % 10];
	sum = gen_csum_add(sum, buf + l4, ulen);
	if (csum_partial)
		*csum_partial = csum_fold16(sum);
	put16(buf + l4, s->sport);
	memcpy(&w, buf + l4, 2);
	w = gen_udp_csum_with_port(csum_fold16(sum), w);
	memcpy(buf + l4 + 6, &w, 2);
	return 0;
}

static int parse_ip(int family, const char *str, uint8_t *out)
{
	char tmp[64];
	char *slash;

	snprintf(tmp, sizeof(tmp), "%s", str);
	slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	return inet_pton(family == 6 ? AF_INET6 : AF_INET, tmp, out) == 1 ? 0 : -EINVAL;
}

int gen_frame_spec_topo(const struct topo *t, int family, unsigned size, uint16_t dport,
			struct gen_frame_spec *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->family = family;
	s->size = size;
	s->dport = dport ? dport : GEN_DPORT;
	s->sport = gen_flow_sport(0);
	memcpy(s->src_mac, t->mac_gen, 6);
	memcpy(s->dst_mac, t->mac_dut, 6);
	err = parse_ip(family, family == 6 ? t->ip6_gen : t->ip4_gen, s->src_ip);
	if (!err)
		err = parse_ip(family, family == 6 ? t->ip6_dut : t->ip4_dut, s->dst_ip);
	if (!err && gen_payload_len(family, size) < 0)
		err = -EINVAL;
	if (err)
		pr_warn("gen: no IPv%d addresses or bad frame size for %s -> %s\n", family,
			t->gen.name, t->dut.name);
	return err;
}

uint64_t gen_split(uint64_t total, unsigned n, unsigned i)
{
	if (!n || i >= n)
		return 0;
	return total / n + (i < total % n ? 1 : 0);
}

int gen_thread_cpu(uint64_t cpus, unsigned i)
{
	for (int cpu = 0; cpu < 64; cpu++) {
		if (!(cpus & (1ull << cpu)))
			continue;
		if (i-- == 0)
			return cpu;
	}
	return -1;
}

uint64_t gen_pace_time(uint64_t rate, uint64_t k)
{
	if (!rate)
		return 0;
	/* ceil(k * 1e9 / rate): frame k is due at or after this many ns */
	return (uint64_t)(((unsigned __int128)k * NSEC + rate - 1) / rate);
}

uint64_t gen_pace_due(uint64_t rate, uint64_t elapsed_ns)
{
	unsigned __int128 due;

	if (!rate)
		return UINT64_MAX;
	due = (unsigned __int128)elapsed_ns * rate / NSEC + 1;
	return due > UINT64_MAX ? UINT64_MAX : (uint64_t)due;
}

unsigned gen_pace_burst(uint64_t rate, unsigned max)
{
	uint64_t b = (uint64_t)((unsigned __int128)rate * GEN_PACE_TICK_NS / NSEC);

	if (b < 1)
		b = 1;
	if (max && b > max)
		b = max;
	return (unsigned)b;
}

uint64_t gen_timeout_ns(const struct gen_cfg *c)
{
	uint64_t t;

	if (c->timeout_ns)
		return c->timeout_ns;
	if (c->duration_ns)
		return c->duration_ns + 5 * NSEC;
	if (c->rate_pps)
		t = gen_pace_time(c->rate_pps, c->count);
	else
		t = c->count * 10000;   /* no slower than 100k per second */
	return t + t / 2 + 10 * NSEC;
}

const char *gen_mode_name(enum gen_mode m)
{
	switch (m) {
	case GEN_MODE_LIVE:
		return "live";
	case GEN_MODE_UDP:
		return "udp";
	case GEN_MODE_TCP:
		return "tcp";
	}
	return "?";
}

void gen_cfg_init(struct gen_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->family = 4;
	c->size = GEN_MIN_FRAME;
	c->nflows = 1;
	c->threads = 1;
	c->duration_ns = NSEC;
}

static unsigned cfg_threads(const struct gen_cfg *c)
{
	if (c->threads)
		return c->threads;
	return c->cpus ? (unsigned)__builtin_popcountll(c->cpus) : 1;
}

static uint64_t cfg_cpus(const struct gen_cfg *c)
{
	unsigned n = cfg_threads(c);

	if (c->cpus)
		return c->cpus;
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

int gen_cfg_check(const struct gen_cfg *c, enum gen_mode mode, char *why, size_t len)
{
	unsigned n = cfg_threads(c), flows = c->nflows ? c->nflows : 1;
	int ncpu = cpu_count();

#define BAD(...) do { snprintf(why, len, __VA_ARGS__); return -EINVAL; } while (0)
	if (c->family != 4 && c->family != 6)
		BAD("family must be 4 or 6");
	if (mode == GEN_MODE_TCP) {
		if (c->size < 1 || c->size > 65536)
			BAD("request size %u is out of range 1..65536", c->size);
		if (flows > GEN_MAX_TCP_CONNS)
			BAD("%u connections is more than %d", flows, GEN_MAX_TCP_CONNS);
		if (n > flows)
			BAD("%u threads need at least as many connections (--flows)", n);
	} else {
		if (gen_payload_len(c->family, c->size) < 0)
			BAD("frame size %u is out of range %d..%d", c->size, GEN_MIN_FRAME,
			    GEN_MAX_FRAME);
		if (flows > GEN_MAX_FLOWS)
			BAD("%u flows is more than %d", flows, GEN_MAX_FLOWS);
	}
	if (!c->count && !c->duration_ns)
		BAD("give a count or a duration");
	if (n < 1 || (int)n > ncpu || n > GEN_MAX_THREADS)
		BAD("%u threads is out of range 1..%d (CPUs)", n, ncpu);
	if (c->cpus && (c->cpus >> ncpu))
		BAD("CPU list names CPUs this machine does not have (0..%d)", ncpu - 1);
	if (c->cpus && (unsigned)__builtin_popcountll(c->cpus) < n)
		BAD("%u threads need %u CPUs in the CPU list, it has %d", n, n,
		    __builtin_popcountll(c->cpus));
	if (mode == GEN_MODE_LIVE && c->batch > 256)
		BAD("live batch %u is out of range 1..256", c->batch);
	if (mode == GEN_MODE_UDP && c->batch > 1024)
		BAD("sendmmsg batch %u is out of range 1..1024", c->batch);
#undef BAD
	return 0;
}

/* ---- the sending loop, shared by the three generators ---- */

struct gen_ctx;

struct tcp_conn {
	int fd;
	unsigned off;          /* bytes of the current request written, 0: none in flight */
};

struct gen_thr {
	struct gen_ctx *g;
	unsigned idx;
	int cpu;
	uint64_t target;       /* 0: until the deadline */
	uint64_t rate;         /* this thread's share, 0: unpaced */
	uint64_t issued;       /* frames sent / datagrams sent / requests started */
	struct gen_thread_stats st;
	int err;
	bool timed_out, interrupted;
	/* live */
	struct bpf_test_run_opts topts;
	struct xdp_md md;
	/* udp */
	struct mmsghdr *msgs;
	unsigned next_sock;
	/* tcp */
	struct tcp_conn *conns;
	unsigned nconns, inflight;
	struct pollfd *pfds;
};

struct gen_ctx {
	const struct topo *t;
	const struct gen_cfg *c;
	enum gen_mode mode;
	unsigned nthr;
	pthread_mutex_t lock;  /* start gate: threads wait until every one exists */
	pthread_cond_t cond;
	int gate;              /* 0 wait, 1 go, -1 abandon */
	int (*send)(struct gen_thr *th, uint64_t n);
	unsigned chunk;        /* most per send() call */
	/* live */
	struct gen *skel;
	struct bpf_link *pin_link;
	uint8_t frame[GEN_MAX_FRAME];
	unsigned frame_len;
	/* udp: one socket per flow; tcp: connections */
	int *fds;
	unsigned nfds;
	uint8_t *payload;
	unsigned payload_len;
	struct iovec iov;
};

static int live_send(struct gen_thr *th, uint64_t n)
{
	const volatile struct cpu_counters *cnt = &th->g->skel->bss->gen_cnt[th->cpu];
	uint64_t p0 = cnt->packets, b0 = cnt->bytes, got;
	int err;

	th->topts.repeat = (int)(n > LIVE_CHUNK ? LIVE_CHUNK : n);
	err = bpf_prog_test_run_opts(bpf_program__fd(th->g->skel->progs.gen_xdp), &th->topts);
	th->st.calls++;
	got = cnt->packets - p0;
	th->st.sent += got;
	th->st.bytes += cnt->bytes - b0;
	th->issued += got;
	if (!err)
		return 0;
	th->st.errors++;
	if (err == -ENOMEM || err == -EAGAIN || (err == -EINTR && !run_stopping()))
		return 0;
	return err;
}

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

static void thr_loop(struct gen_thr *th)
{
	const struct gen_cfg *c = th->g->c;
	uint64_t t0 = now_ns(), end = t0 + gen_timeout_ns(c), dur_end = UINT64_MAX;
	unsigned burst = th->rate ? gen_pace_burst(th->rate, th->g->chunk) : th->g->chunk;
	int err = 0;

	if (c->duration_ns)
		dur_end = t0 + c->duration_ns;
	th->st.start_ns = t0;
	for (;;) {
		uint64_t now = now_ns(), n = th->g->chunk;

		if (th->target && th->issued >= th->target)
			break;
		if (run_stopping()) {
			th->interrupted = true;
			break;
		}
		if (now >= dur_end || (c->stop && __atomic_load_n(c->stop, __ATOMIC_ACQUIRE)))
			break;
		if (now >= end) {
			th->timed_out = true;
			break;
		}
		if (th->target && n > th->target - th->issued)
			n = th->target - th->issued;
		if (th->rate) {
			uint64_t want = th->issued + (burst < n ? burst : n);
			uint64_t due_at = t0 + gen_pace_time(th->rate, want - 1), due;

			if (due_at > now) {
				uint64_t lim = dur_end < end ? dur_end : end;

				sleep_ns((due_at < lim ? due_at : lim) - now);
				continue;
			}
			due = gen_pace_due(th->rate, now - t0);
			if (n > due - th->issued)
				n = due - th->issued;
		}
		err = th->g->send(th, n);
		if (err)
			break;
	}
	/* TCP: finish the requests in flight, without starting new ones. */
	if (!err && th->g->mode == GEN_MODE_TCP) {
		uint64_t stop = now_ns() + TCP_DRAIN_NS;

		while (th->inflight && now_ns() < stop && !run_stopping() && !err)
			err = tcp_send(th, 0);
	}
	th->st.end_ns = now_ns();
	if (err == -EINTR)
		th->interrupted = true;
	else if (err)
		th->err = err;
}

static void *thr_main(void *arg)
{
	struct gen_thr *th = arg;
	struct nstoken *tok = NULL;
	int err = 0;

	/* live: test_run resolves ingress_ifindex in the caller's namespace */
	tok = netns_enter(&th->g->t->gen);
	if (!tok)
		err = -errno;
	if (!err)
		err = pin_thread_cpu(th->cpu);
	if (err)
		th->st.cpu = -1;
	pthread_mutex_lock(&th->g->lock);
	while (!th->g->gate)
		pthread_cond_wait(&th->g->cond, &th->g->lock);
	if (th->g->gate < 0 && !err)
		err = -ECANCELED;
	pthread_mutex_unlock(&th->g->lock);
	if (err) {
		th->err = err;
		goto out;
	}
	thr_loop(th);
	if (sched_getcpu() != th->cpu)
		pr_warn("gen: thread %u ran on CPU %d, not %d\n", th->idx, sched_getcpu(), th->cpu);
out:
	netns_leave(tok);
	return NULL;
}

static int thr_setup(struct gen_ctx *g, struct gen_thr *th, unsigned i)
{
	const struct gen_cfg *c = g->c;

	th->g = g;
	th->idx = i;
	th->cpu = gen_thread_cpu(cfg_cpus(c), i);
	th->st.cpu = th->cpu;
	th->target = gen_split(c->count, g->nthr, i);
	th->rate = gen_split(c->rate_pps, g->nthr, i);
	if (c->rate_pps && !th->rate)
		th->rate = 1;
	if (th->cpu < 0 || th->cpu >= OLAB_MAX_CPUS)
		return -EINVAL;

	switch (g->mode) {
	case GEN_MODE_LIVE:
		th->md.ingress_ifindex = g->t->ifindex_gen;
		th->md.data_end = g->frame_len;
		th->topts = (struct bpf_test_run_opts){
			.sz = sizeof(th->topts),
			.data_in = g->frame,
			.data_size_in = g->frame_len,
			.ctx_in = &th->md,
			.ctx_size_in = sizeof(th->md),
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = c->batch ? c->batch : GEN_LIVE_BATCH,
		};
		break;
	case GEN_MODE_UDP:
		th->msgs = calloc(g->chunk, sizeof(*th->msgs));
		if (!th->msgs)
			return -ENOMEM;
		for (unsigned k = 0; k < g->chunk; k++) {
			th->msgs[k].msg_hdr.msg_iov = &g->iov;
			th->msgs[k].msg_hdr.msg_iovlen = 1;
		}
		break;
	case GEN_MODE_TCP:
		/* Connections i, i + n, ... */
		th->conns = calloc(g->nfds, sizeof(*th->conns));
		th->pfds = calloc(g->nfds, sizeof(*th->pfds));
		if (!th->conns || !th->pfds)
			return -ENOMEM;
		for (unsigned k = i; k < g->nfds; k += g->nthr)
			th->conns[th->nconns++].fd = g->fds[k];
		break;
	}
	return 0;
}

/* Threads with a zero count share are not started (count < threads). */
static int run_threads(struct gen_ctx *g, struct gen_result *r)
{
	const struct gen_cfg *c = g->c;
	struct gen_thr *thr;
	pthread_t tids[GEN_MAX_THREADS];
	unsigned started = 0;
	uint64_t first = UINT64_MAX, last = 0;
	int err = 0;

	g->nthr = cfg_threads(c);
	if (c->count && c->count < g->nthr)
		g->nthr = (unsigned)c->count;
	thr = calloc(g->nthr, sizeof(*thr));
	if (!thr)
		return -ENOMEM;
	for (unsigned i = 0; i < g->nthr && !err; i++)
		err = thr_setup(g, &thr[i], i);
	if (err)
		goto out;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->gate = 0;
	for (; started < g->nthr; started++) {
		err = -pthread_create(&tids[started], NULL, thr_main, &thr[started]);
		if (err) {
			pr_warn("gen: cannot start thread %u: %s\n", started, strerror(-err));
			break;
		}
	}
	pthread_mutex_lock(&g->lock);
	g->gate = err ? -1 : 1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	if (err)
		goto out;

	r->nthreads = g->nthr;
	for (unsigned i = 0; i < g->nthr; i++) {
		struct gen_thr *th = &thr[i];

		r->thr[i] = th->st;
		r->sent += th->st.sent;
		r->bytes += th->st.bytes;
		r->errors += th->st.errors;
		r->timed_out |= th->timed_out;
		r->interrupted |= th->interrupted;
		if (th->st.start_ns && th->st.start_ns < first)
			first = th->st.start_ns;
		if (th->st.end_ns > last)
			last = th->st.end_ns;
		if (th->err && !err) {
			err = th->err;
			pr_warn("gen: thread %u on CPU %d: %s\n", i, th->cpu, strerror(-err));
		}
	}
	r->elapsed_ns = last > first ? last - first : 0;
	r->pps = r->elapsed_ns ? (double)r->sent * NSEC / r->elapsed_ns : 0;
out:
	for (unsigned i = 0; i < g->nthr; i++) {
		free(thr[i].msgs);
		free(thr[i].conns);
		free(thr[i].pfds);
	}
	free(thr);
	return err;
}

static void result_init(struct gen_result *r, enum gen_mode mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
}

static int check_cfg(const struct gen_cfg *c, enum gen_mode mode)
{
	char why[160];
	int err = gen_cfg_check(c, mode, why, sizeof(why));

	if (err)
		pr_warn("gen: %s\n", why);
	return err;
}

/* Sum of the ethtool statistics of ifname (in ns) whose names end in suffix. */
static int ethtool_stat_sum(const struct netns *ns, const char *ifname, const char *suffix,
			    uint64_t *out)
{
	struct ethtool_sset_info *info = NULL;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	struct nstoken *tok;
	struct ifreq ifr;
	size_t slen = strlen(suffix);
	uint32_t n;
	int fd, err = 0;

	*out = 0;
	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	netns_leave(tok);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	info = calloc(1, sizeof(*info) + sizeof(uint32_t));
	if (!info) {
		err = -ENOMEM;
		goto out;
	}
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ull << ETH_SS_STATS;
	ifr.ifr_data = (void *)info;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	n = info->sset_mask ? info->data[0] : 0;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(uint64_t));
	if (!names || !vals) {
		err = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	ifr.ifr_data = (void *)names;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	ifr.ifr_data = (void *)vals;
	if (ioctl(fd, SIOCETHTOOL, &ifr)) {
		err = -errno;
		goto out;
	}
	for (uint32_t i = 0; i < n && i < vals->n_stats; i++) {
		const char *name = (const char *)names->data + (size_t)i * ETH_GSTRING_LEN;
		size_t len = strnlen(name, ETH_GSTRING_LEN);

		if (len >= slen && !memcmp(name + len - slen, suffix, slen))
			*out += vals->data[i];
	}
out:
	free(info);
	free(names);
	free(vals);
	close(fd);
	return err;
}

/*
 * test_run adds the program to the XDP dispatcher and removes it afterwards,
 * with a synchronize_rcu() each time unless it is already there.  Attaching
 * it to lo of the gen namespace (generic XDP; the program passes anything
 * not from test_run) keeps it there and makes a call cost microseconds
 * instead of tens of milliseconds.  Best effort: NULL if it cannot.
 */
static struct bpf_link *dispatcher_pin(struct gen_ctx *g)
{
	struct bpf_link *link;
	struct nstoken *tok;
	int lo;

	tok = netns_enter(&g->t->gen);
	if (!tok)
		return NULL;
	lo = if_nametoindex("lo");
	link = lo ? bpf_program__attach_xdp(g->skel->progs.gen_xdp, lo) : NULL;
	if (!link)
		pr_warn("gen: cannot attach the generator to lo (%s): "
			"every test_run call will wait for RCU\n", strerror(errno));
	netns_leave(tok);
	return link;
}

int gen_live_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r)
{
	struct gen_ctx g = { .t = t, .c = c, .mode = GEN_MODE_LIVE, .send = live_send };
	struct gen_frame_spec spec;
	uint64_t x0 = 0, x1 = 0;
	uint32_t partial;
	bool have_x0;
	int err;

	result_init(r, GEN_MODE_LIVE);
	err = check_cfg(c, GEN_MODE_LIVE);
	if (err)
		return err;
	err = gen_frame_spec_topo(t, c->family, c->size, c->dport, &spec);
	if (!err)
		err = gen_build_frame(&spec, g.frame, sizeof(g.frame), &partial);
	if (err)
		goto cleanup;
	g.frame_len = c->size;
	if (c->ethertype) {
		g.frame[12] = c->ethertype >> 8;
		g.frame[13] = c->ethertype & 0xff;
	}
	g.chunk = LIVE_CHUNK;

	g.skel = gen__open();
	if (!g.skel) {
		err = -errno;
		goto cleanup;
	}
	g.skel->rodata->gen_family = c->family;
	g.skel->rodata->gen_nflows = c->nflows ? c->nflows : 1;
	g.skel->rodata->gen_csum_partial = partial;
	g.skel->rodata->gen_ifindex = t->ifindex_gen;
	bpf_program__set_autoload(g.skel->progs.sink_xdp, false);
	err = gen__load(g.skel);
	if (err) {
		pr_warn("gen: cannot load the generator program: %s\n", strerror(-err));
		goto cleanup;
	}
	g.pin_link = dispatcher_pin(&g);
	have_x0 = !ethtool_stat_sum(&t->gen, t->if_gen, "xdp_xmit_errors", &x0);
	err = run_threads(&g, r);
	if (have_x0 && !ethtool_stat_sum(&t->gen, t->if_gen, "xdp_xmit_errors", &x1))
		r->xmit_errors = x1 - x0;
	if (err == -EINVAL || err == -EOPNOTSUPP)
		pr_warn("gen: live frames failed (kernel without BPF_F_TEST_XDP_LIVE_FRAMES, "
			"or no XDP on the peer?)\n");
cleanup:
	bpf_link__destroy(g.pin_link);
	gen__destroy(g.skel);
	return err;
}

static int sockaddr_of(int family, const char *ip, uint16_t port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
		return ip ? parse_ip(6, ip, (uint8_t *)&a->sin6_addr) : 0;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
		return ip ? parse_ip(4, ip, (uint8_t *)&a->sin_addr) : 0;
	}
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
		if (g->fds[i] >= 0)
			close(g->fds[i]);
	free(g->fds);
	g->fds = NULL;
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

	g->nfds = c->nflows ? c->nflows : 1;
	err = ensure_nofile(g->nfds);
	if (err)
		return err;
	g->fds = malloc(g->nfds * sizeof(int));
	if (!g->fds)
		return -ENOMEM;
	for (unsigned i = 0; i < g->nfds; i++)
		g->fds[i] = -1;
	err = sockaddr_of(c->family, c->family == 6 ? t->ip6_dut : t->ip4_dut,
			  c->dport ? c->dport : GEN_DPORT, &dst, &dlen);
	if (err)
		return err;
	for (unsigned i = 0; i < g->nfds; i++) {
		int fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

		if (fd < 0)
			return -errno;
		g->fds[i] = fd;
		err = sockaddr_of(c->family, c->family == 6 ? t->ip6_gen : t->ip4_gen,
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
		err = run_threads(g, r);
cleanup:
	close_fds(g);
	free(g->payload);
	return err;
}

int gen_udp_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r)
{
	struct gen_ctx g = { .t = t, .c = c, .mode = GEN_MODE_UDP, .send = udp_send };
	int plen, err;

	result_init(r, GEN_MODE_UDP);
	err = check_cfg(c, GEN_MODE_UDP);
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
	const struct topo *t = g->t;
	struct sockaddr_storage dst;
	struct pollfd *pfd = NULL;
	socklen_t dlen;
	uint64_t end;
	int af = c->family == 6 ? AF_INET6 : AF_INET, err;
	unsigned pending;

	g->nfds = c->nflows ? c->nflows : 1;
	err = ensure_nofile(g->nfds);
	if (err)
		return err;
	g->fds = malloc(g->nfds * sizeof(int));
	pfd = calloc(g->nfds, sizeof(*pfd));
	if (!g->fds || !pfd) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < g->nfds; i++)
		g->fds[i] = -1;
	err = sockaddr_of(c->family, c->family == 6 ? t->ip6_dut : t->ip4_dut,
			  c->dport ? c->dport : GEN_DPORT, &dst, &dlen);
	if (err)
		goto out;
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

	result_init(r, GEN_MODE_TCP);
	err = check_cfg(c, GEN_MODE_TCP);
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

/* ---- existing testbeds ---- */

static bool in_bench_range4(const struct in_addr *a)
{
	return (ntohl(a->s_addr) & 0xfffe0000u) == 0xc6120000u;  /* 198.18.0.0/15 */
}

static bool in_bench_range6(const struct in6_addr *a)
{
	static const uint8_t pfx[6] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 };  /* 2001:2::/48 */

	return !memcmp(a->s6_addr, pfx, sizeof(pfx));
}

/* The interface of ns with a benchmark-range IPv4 address, and its addresses. */
static int find_end(const struct netns *ns, char *ifname, char *ip4, size_t len4, char *ip6,
		    size_t len6, int *ifindex)
{
	struct ifaddrs *ifa = NULL, *i;
	struct nstoken *tok;
	int err = -ENOENT;

	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	if (getifaddrs(&ifa)) {
		err = -errno;
		goto out;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    !in_bench_range4(&((struct sockaddr_in *)i->ifa_addr)->sin_addr))
			continue;
		snprintf(ifname, IFNAME_LEN, "%s", i->ifa_name);
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip4, len4);
		err = 0;
		break;
	}
	ip6[0] = '\0';
	for (i = ifa; i && !err; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 ||
		    strcmp(i->ifa_name, ifname) ||
		    !in_bench_range6(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			continue;
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, ip6, len6);
		break;
	}
	if (!err) {
		*ifindex = (int)if_nametoindex(ifname);
		if (!*ifindex)
			err = -errno;
	}
out:
	if (ifa)
		freeifaddrs(ifa);
	netns_leave(tok);
	return err;
}

static int open_ns(const char *name, struct netns *ns)
{
	char path[128];

	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	ns->cleanup = -1;
	if (!name || strncmp(name, RUN_PREFIX_BASE, strlen(RUN_PREFIX_BASE)) ||
	    strchr(name, '/') || strlen(name) >= sizeof(ns->name))
		return -EINVAL;
	snprintf(ns->name, sizeof(ns->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	return ns->fd < 0 ? -errno : 0;
}

int gen_topo_attach(const char *gen_ns, const char *dut_ns, struct topo *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->gen.fd = t->dut.fd = -1;
	t->gen.cleanup = t->dut.cleanup = -1;
	t->opts.rx_cpu = -1;
	err = open_ns(gen_ns, &t->gen);
	if (!err)
		err = open_ns(dut_ns, &t->dut);
	if (err) {
		pr_warn("gen: cannot open the testbed namespaces %s, %s: %s\n", gen_ns, dut_ns,
			strerror(-err));
		goto out;
	}
	err = find_end(&t->gen, t->if_gen, t->ip4_gen, sizeof(t->ip4_gen), t->ip6_gen,
		       sizeof(t->ip6_gen), &t->ifindex_gen);
	if (!err)
		err = find_end(&t->dut, t->if_dut, t->ip4_dut, sizeof(t->ip4_dut), t->ip6_dut,
			       sizeof(t->ip6_dut), &t->ifindex_dut);
	if (err) {
		pr_warn("gen: no interface with an address in 198.18.0.0/15 in %s or %s\n", gen_ns,
			dut_ns);
		goto out;
	}
	err = link_get_mac(&t->gen, t->if_gen, t->mac_gen);
	if (!err)
		err = link_get_mac(&t->dut, t->if_dut, t->mac_dut);
	if (!err)
		t->up = true;
out:
	if (err)
		gen_topo_detach(t);
	return err;
}

void gen_topo_detach(struct topo *t)
{
	if (t->gen.fd >= 0)
		close(t->gen.fd);
	if (t->dut.fd >= 0)
		close(t->dut.fd);
	t->gen.fd = t->dut.fd = -1;
	t->gen.name[0] = t->dut.name[0] = '\0';
	t->up = false;
}

/* ---- sinks ---- */

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
	if (ep >= 0)
		close(ep);
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
		if (s->thr[i].fd >= 0)
			close(s->thr[i].fd);
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
	sockaddr_of(c->family, NULL, c->dport ? c->dport : GEN_DPORT, &ss, &sl);

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
