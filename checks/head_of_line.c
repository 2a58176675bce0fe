/*
 * head-of-line: two programs share one tcx ingress hook; the first is slow
 * on purpose (a fixed bpf_loop busy loop, then TCX_NEXT), the second passes.
 * Programs of a hook run one after the other in the same softirq, so every
 * packet of the app behind them waits for the slow one.
 *
 * The verdict rests on that order: each request carries a sequence number,
 * and the second program counts the requests that reached it only after the
 * slow one had finished with that very request (all of them while it is
 * attached, none while it is not).  The figure is paired: the slow program
 * is attached and detached in NPAIRS interleaved on/off pairs (order
 * alternating), and the UDP ping-pong RTT grows by the median of the pairs'
 * differences.  That must stay within the slow program's own run time
 * (bpf_stats, same run) plus a margin from the off phases' own jitter.  The
 * in-kernel wait (second program's start minus the slow one's) is reported
 * beside it.  Every party is pinned: client on CPU 0, where the DUT's
 * receive processing runs, the echo app on CPU 1.
 *
 * libxdp's XDP dispatcher would be the other place to measure this; it
 * cannot load on kernels that refuse freplace (see xdp-multiprog-libxdp),
 * so only tcx is measured here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "checks/check.h"
#include "lib/apps.h"
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/topo.h"
#include "check_hol.skel.h"

#define PORT          7130
#define NPAIRS        24          /* on/off pairs, interleaved */
#define PHASE_REQ     100         /* requests a phase */
#define WARMUP        100
#define SLOW_ITERS    20000       /* bpf_loop rounds: tens of microseconds */
#define JITTER_FACTOR 4           /* margin: this many off-phase IQRs ... */
#define SLOW_SHARE    4           /* ... plus 1/SLOW_SHARE of the slow program's run time */
#define REPLY_MS      200
#define APP_CAPS      "bpf,net_admin"
#define CLIENT_CPU    0
#define APP_CPU       1

struct priv {
	struct topo t;
	struct check_hol *skel;
	struct rt_app *app;         /* the echo app, in the netns or in runc */
	int pass_link, slow_link;
	int stats_fd;
	int fd;                     /* the client's socket */
	uint32_t seq;
	double rtt[PHASE_REQ];
	double off_rtt[NPAIRS * PHASE_REQ]; /* every off-phase RTT, for the jitter */
	size_t n_off;
	double med_on[NPAIRS], med_off[NPAIRS], diff[NPAIRS];
	uint64_t lost;
	uint64_t sent;              /* requests that left the client */
};

static int start_app(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	struct rt_app_opts ro = { .runtime = ctx->runtime, .name = "hol-echo", .ns = &p->t.dut,
				  .caps = APP_CAPS,
				  .app = { .kind = APP_UDP_ECHO, .port = PORT, .cpu = APP_CPU,
					   .timeout_ms = 60000 } };
	char why[CHECK_REASON_LEN];
	int err = rt_app_start(&ro, &p->app, why, sizeof(why));

	return err ? check_error(ctx, err, "%s", why) : 0;
}

/* The client: a UDP socket in gen, connected to the echo app. */
static int client_open(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval tv = { .tv_usec = REPLY_MS * 1000 };

	if (inet_pton(AF_INET, p->t.ip4_dut, &sa.sin_addr) != 1)
		return -EINVAL;
	p->fd = netns_socket(&p->t.gen, AF_INET, SOCK_DGRAM, 0);
	if (p->fd < 0)
		return p->fd;
	if (setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(p->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	return 0;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	p->pass_link = p->slow_link = p->stats_fd = p->fd = -1;
	if (check_runtime_ready(ctx))
		return 0;
	err = pin_thread_cpu(CLIENT_CPU);
	if (err)
		return check_error(ctx, err, "pin the client to CPU %d: %s", CLIENT_CPU,
				   strerror(-err));
	err = check_testbed(ctx, &p->t);
	if (err)
		return err;
	p->skel = check_hol__open_and_load();
	if (!p->skel)
		return check_error(ctx, -errno, "load check_hol: %s", strerror(errno));
	p->skel->bss->flow_port = PORT;
	p->skel->bss->slow_iters = SLOW_ITERS;
	err = start_app(ctx);
	if (!err)
		err = client_open(ctx);
	if (err && !ctx->error[0])
		check_error(ctx, err, "client: %s", strerror(-err));
	return err;
}

/* n sequential request/reply pairs; RTTs (ns) of those answered into p->rtt. */
static size_t ping_pong(struct check_ctx *ctx, size_t n)
{
	struct priv *p = ctx->priv;
	uint32_t buf[16];
	size_t got = 0;

	for (size_t i = 0; i < n && check_time_left(ctx); i++) {
		uint64_t t0;
		ssize_t r;

		memset(buf, 0, sizeof(buf));
		buf[0] = ++p->seq;
		t0 = now_ns();
		if (send(p->fd, buf, 32, 0) != 32) {
			p->lost++;
			continue;
		}
		p->sent++;
		/* A late reply to an earlier request is not this one's. */
		do
			r = recv(p->fd, buf, sizeof(buf), 0);
		while (r > 0 && buf[0] != p->seq);
		if (r <= 0) {
			p->lost++;
			continue;
		}
		if (got < ARRAY_SIZE(p->rtt))
			p->rtt[got++] = (double)(now_ns() - t0);
	}
	return got;
}

/* Attach (before tc_pass) or detach the slow program. */
static int set_slow(struct check_ctx *ctx, bool on)
{
	struct priv *p = ctx->priv;

	if (!on) {
		if (p->slow_link >= 0)
			close(p->slow_link);
		p->slow_link = -1;
		return 0;
	}
	if (p->slow_link >= 0)
		return 0;
	/* Sabotage: the slow program after the app's, where nothing waits for it. */
	p->slow_link = check_tcx_link(&p->t.dut, p->t.ifindex_dut, false,
				      bpf_program__fd(p->skel->progs.tc_slow),
				      ctx->sabotage ? BPF_F_AFTER : BPF_F_BEFORE, 0, 0);
	return p->slow_link < 0 ? p->slow_link : 0;
}

/* One phase: the median RTT, or NAN when too few replies came back. */
static double phase(struct check_ctx *ctx, bool slow_on)
{
	struct priv *p = ctx->priv;
	size_t n;

	int err = set_slow(ctx, slow_on);

	if (err) {
		check_error(ctx, err, "tcx: %s tc_slow: %s", slow_on ? "attach" : "detach",
			    strerror(-err));
		return NAN;
	}
	n = ping_pong(ctx, PHASE_REQ);
	if (n < PHASE_REQ / 2)
		return NAN;
	if (!slow_on)
		for (size_t i = 0; i < n && p->n_off < ARRAY_SIZE(p->off_rtt); i++)
			p->off_rtt[p->n_off++] = p->rtt[i];
	sort_doubles(p->rtt, n);
	return percentile_sorted(p->rtt, n, 50);
}

/* Interleaved on/off pairs, the order alternating pair by pair. */
static int measure_pairs(struct check_ctx *ctx, uint64_t *on_pass, uint64_t *on_waited)
{
	struct priv *p = ctx->priv;
	struct check_hol__bss *bss = p->skel->bss;

	*on_pass = *on_waited = 0;
	for (int i = 0; i < NPAIRS; i++) {
		bool first_on = i % 2 == 0;

		for (int k = 0; k < 2; k++) {
			bool on = first_on == (k == 0);
			uint64_t pass0 = bss->pass_packets, waited0 = bss->waited_packets;
			double m = phase(ctx, on);

			if (isnan(m))
				return check_error(ctx, -EIO, "pair %d: too few replies (%s phase)",
						   i, on ? "slow" : "plain");
			if (on) {
				p->med_on[i] = m;
				*on_pass += bss->pass_packets - pass0;
				*on_waited += bss->waited_packets - waited0;
			} else {
				p->med_off[i] = m;
			}
		}
		p->diff[i] = p->med_on[i] - p->med_off[i];
	}
	return set_slow(ctx, false);
}

/* The slow program's own run time (ns per run) from bpf_stats. */
static int slow_run_ns(struct check_ctx *ctx, double *ns, uint64_t *runs)
{
	struct priv *p = ctx->priv;
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int err = bpf_obj_get_info_by_fd(bpf_program__fd(p->skel->progs.tc_slow), &info, &len);

	if (err)
		return check_error(ctx, err, "run time of tc_slow: %s", strerror(-err));
	*ns = info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0;
	*runs = info.run_cnt;
	return 0;
}

static double iqr(double *x, size_t n)
{
	sort_doubles(x, n);
	return percentile_sorted(x, n, 75) - percentile_sorted(x, n, 25);
}

/* The median of n values, leaving them in place. */
static double median_of(const double *x, size_t n)
{
	double tmp[NPAIRS];

	memcpy(tmp, x, n * sizeof(*x));
	sort_doubles(tmp, n);
	return percentile_sorted(tmp, n, 50);
}

static void report(struct check_ctx *ctx, double slow_ns, uint64_t runs, double bound_ns,
		   double jitter_ns)
{
	struct priv *p = ctx->priv;
	struct check_hol__bss *bss = p->skel->bss;
	double added = median_of(p->diff, NPAIRS);
	double off = median_of(p->med_off, NPAIRS), on = median_of(p->med_on, NPAIRS);
	double kernel_wait = bss->waited_packets ? (double)bss->waited_ns / bss->waited_packets : 0;

	check_counter(ctx, "rtt_ns", "median_off", (int64_t)off);
	check_counter(ctx, "rtt_ns", "median_on", (int64_t)on);
	check_counter(ctx, "head_of_line", "pairs", NPAIRS);
	check_counter(ctx, "head_of_line", "added_ns", (int64_t)added);
	check_counter(ctx, "head_of_line", "kernel_wait_ns", (int64_t)kernel_wait);
	check_counter(ctx, "head_of_line", "slow_ns", (int64_t)slow_ns);
	check_counter(ctx, "head_of_line", "off_jitter_iqr_ns", (int64_t)jitter_ns);
	check_counter(ctx, "head_of_line", "bound_ns", (int64_t)bound_ns);
	check_counter(ctx, "head_of_line", "slow_runs", (int64_t)runs);
	check_counter(ctx, "head_of_line", "waited_packets", (int64_t)bss->waited_packets);
	check_counter(ctx, "head_of_line", "lost", (int64_t)p->lost);
	check_counter(ctx, "head_of_line", "xdp_multiprog_measured", 0);
	pr_info("check head-of-line: median RTT %.1f us off, %.1f us on; added %.1f us (pairs), "
		"in-kernel wait %.1f us, slow program %.1f us, bound %.1f us\n",
		off / 1e3, on / 1e3, added / 1e3, kernel_wait / 1e3, slow_ns / 1e3, bound_ns / 1e3);
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	struct check_hol__bss *bss = p->skel->bss;
	uint64_t on_pass, on_waited, runs = 0, pass0, sent0;
	double slow_ns = 0, jitter, bound, added;
	char share[32], waited[32];
	int err;

	p->pass_link = check_tcx_link(&p->t.dut, p->t.ifindex_dut, false,
				      bpf_program__fd(p->skel->progs.tc_pass), 0, 0, 0);
	if (p->pass_link < 0)
		return check_error(ctx, p->pass_link, "tcx: attach tc_pass: %s",
				   strerror(-p->pass_link));
	p->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (p->stats_fd < 0)
		return check_error(ctx, p->stats_fd, "bpf_enable_stats: %s",
				   strerror(-p->stats_fd));
	if (ping_pong(ctx, WARMUP) < WARMUP / 2)
		return check_error(ctx, -EIO, "warm-up: too few replies");
	pass0 = bss->pass_packets;
	sent0 = p->sent;
	err = measure_pairs(ctx, &on_pass, &on_waited);
	if (!err)
		err = slow_run_ns(ctx, &slow_ns, &runs);
	if (err)
		return err;
	jitter = iqr(p->off_rtt, p->n_off);
	bound = slow_ns + slow_ns / SLOW_SHARE + JITTER_FACTOR * jitter;
	added = median_of(p->diff, NPAIRS);
	report(ctx, slow_ns, runs, bound, jitter);
	/* Every request that left the client reached the app's program. */
	check_observe(ctx, "second_program", "packets=%s",
		      check_share(share, sizeof(share), bss->pass_packets - pass0, p->sent - sent0));
	/* Blocked: every request reached the app's program after the slow one
	 * was done with it; the RTT grew by about its run time, no more. */
	check_observe(ctx, "head_of_line", "waited=%s within_bound=%s",
		      check_share(waited, sizeof(waited), on_waited, on_pass),
		      runs && added > 0 && added <= bound ? "yes" : "no");
	return 0;
}

static void teardown(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	check_close(&p->fd);
	check_close(&p->slow_link);
	check_close(&p->pass_link);
	check_close(&p->stats_fd);
	rt_app_free(p->app);
	check_hol__destroy(p->skel);
}

DEFINE_CHECK(head_of_line,
	.name = "head-of-line",
	.summary = "a slow program first at tcx ingress makes the app's packets wait for it: "
		   "the RTT grows by about its own run time (figure: added_ns)",
	.features = CHECK_FEAT(FEAT_TCX),
	.expected = "second_program: packets=all; head_of_line: waited=all within_bound=yes",
	.reference = "include/net/tcx.h tcx_run() (the hook's programs in sequence, same "
		     "softirq); kernel/bpf/syscall.c BPF_ENABLE_STATS",
	.runc = true,
	CHECK_STEPS(struct priv),
	.teardown = teardown,
	.order = 220,
	.timeout_ms = 30000,
	.latency = true);
