/*
 * head-of-line: a figure more than a verdict.  Two programs share one tcx
 * ingress hook; the first is slow on purpose (a fixed bpf_loop busy loop,
 * then TCX_NEXT), the second passes.  Programs of a hook run one after the
 * other in the same softirq, so every packet of the app behind them waits
 * for the slow one: the UDP ping-pong RTT (median of NREQ requests) grows
 * by about the slow program's own run time (bpf_stats run_time_ns /
 * run_cnt).  Pass while the added latency stays under that run time plus a
 * margin; the figures go into the counters (added_us, bound_us, slow_us).
 *
 * libxdp's XDP dispatcher would be the other place to measure this; it
 * cannot load on kernels that refuse freplace (see xdp-multiprog-libxdp),
 * so only tcx is measured here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "checks/check.h"
#include "containers/container.h"
#include "lib/apps.h"
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/util.h"
#include "netns/topo.h"
#include "check_hol.skel.h"

#define PORT         7130
#define NREQ         2000
#define WARMUP       50
#define SLOW_ITERS   20000       /* bpf_loop rounds: tens of microseconds */
#define MARGIN_NS    50000       /* plus a quarter of the slow program's run time */
#define REPLY_MS     200
#define APP_CAPS     "bpf,net_admin"

struct priv {
	struct topo t;
	struct check_hol *skel;
	struct app *app;            /* netns runtime */
	struct ctr_app *capp;       /* runc runtime */
	int links[2];
	int stats_fd;
	uint64_t *rtt;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int start_app(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	struct app_opts ao = { .kind = APP_UDP_ECHO, .port = PORT, .cpu = -1,
			       .timeout_ms = 60000 };
	int err;

	if (ctx->runtime == CHECK_RT_RUNC) {
		struct ctr_app_opts co = { .name = "hol-echo", .ns = &p->t.dut, .app = ao };
		char why[CTR_ERR_LEN];

		err = ctr_caps_parse(APP_CAPS, &co.caps, why, sizeof(why));
		if (err)
			return check_error(ctx, err, "caps %s: %s", APP_CAPS, why);
		err = container_run_app(&co, &p->capp);
		if (err)
			return check_error(ctx, err, "udp-echo in a container: %s",
					   ctr_last_error());
		return 0;
	}
	err = app_start(&ao, &p->t.dut, &p->app);
	if (!err)
		err = app_wait_ready(p->app, 5000);
	if (err)
		return check_error(ctx, err, "udp-echo: %s", strerror(-err));
	return 0;
}

static int setup(struct check_ctx *ctx)
{
	struct topo_opts o = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };
	struct priv *p = ctx->priv;
	int err;

	p->links[0] = p->links[1] = p->stats_fd = -1;
	p->rtt = calloc(NREQ, sizeof(*p->rtt));
	if (!p->rtt)
		return check_error(ctx, -ENOMEM, "out of memory");
	if (ctx->runtime == CHECK_RT_RUNC && containers_prepare()) {
		snprintf(ctx->skip, sizeof(ctx->skip), "containers: %s", ctr_last_error());
		return 0;
	}
	err = topo_up(&o, &p->t);
	if (err)
		return check_error(ctx, err, "testbed: %s", topo_last_error());
	p->skel = check_hol__open_and_load();
	if (!p->skel)
		return check_error(ctx, -errno, "load check_hol: %s", strerror(errno));
	p->skel->bss->flow_port = PORT;
	p->skel->bss->slow_iters = SLOW_ITERS;
	return start_app(ctx);
}

/* NREQ sequential request/reply pairs from gen: the median RTT in ns. */
static int ping_pong(struct check_ctx *ctx, uint64_t *median, int *lost)
{
	struct priv *p = ctx->priv;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval tv = { .tv_usec = REPLY_MS * 1000 };
	char buf[64];
	int fd, n = 0, err = 0;

	*lost = 0;
	if (inet_pton(AF_INET, p->t.ip4_dut, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = netns_socket(&p->t.gen, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < NREQ + WARMUP && check_time_left(ctx); i++) {
		uint64_t t0;

		memset(buf, (uint8_t)i, sizeof(buf));
		t0 = now_ns();
		if (send(fd, buf, 32, 0) != 32 || recv(fd, buf, sizeof(buf), 0) <= 0) {
			(*lost)++;
			continue;
		}
		if (i >= WARMUP)
			p->rtt[n++] = now_ns() - t0;
	}
	if (n < NREQ / 2) {
		err = -EIO;
		goto out;
	}
	qsort(p->rtt, n, sizeof(*p->rtt), cmp_u64);
	*median = p->rtt[n / 2];
out:
	close(fd);
	return err;
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	uint64_t base, slow, slow_ns, bound, added, pass0;
	int lost_base, lost_slow, err, slow_fd = bpf_program__fd(p->skel->progs.tc_slow);
	char share[32];

	p->links[0] = check_tcx_link(&p->t.dut, p->t.ifindex_dut, false,
				     bpf_program__fd(p->skel->progs.tc_pass), 0, 0, 0);
	if (p->links[0] < 0)
		return check_error(ctx, p->links[0], "tcx: attach tc_pass: %s",
				   strerror(-p->links[0]));
	err = ping_pong(ctx, &base, &lost_base);
	if (err)
		return check_error(ctx, err, "ping-pong without the slow program: %s",
				   strerror(-err));

	/* The slow program first in the chain, with its run time counted. */
	p->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (p->stats_fd < 0)
		return check_error(ctx, p->stats_fd, "bpf_enable_stats: %s",
				   strerror(-p->stats_fd));
	p->links[1] = check_tcx_link(&p->t.dut, p->t.ifindex_dut, false, slow_fd,
				     BPF_F_BEFORE, 0, 0);
	if (p->links[1] < 0)
		return check_error(ctx, p->links[1], "tcx: attach tc_slow first: %s",
				   strerror(-p->links[1]));
	pass0 = p->skel->bss->pass_packets;
	err = ping_pong(ctx, &slow, &lost_slow);
	if (err)
		return check_error(ctx, err, "ping-pong behind the slow program: %s",
				   strerror(-err));
	err = bpf_obj_get_info_by_fd(slow_fd, &info, &len);
	if (err || !info.run_cnt)
		return check_error(ctx, err ?: -ENODATA, "run time of tc_slow: %s",
				   err ? strerror(-err) : "no runs counted");

	slow_ns = info.run_time_ns / info.run_cnt;
	added = slow > base ? slow - base : 0;
	/* Sabotage: a bound nothing can meet. */
	bound = ctx->sabotage ? 0 : slow_ns + slow_ns / 4 + MARGIN_NS;
	check_counter(ctx, "rtt_ns", "median_without", base);
	check_counter(ctx, "rtt_ns", "median_with_slow", slow);
	check_counter(ctx, "head_of_line", "added_us", added / 1000);
	check_counter(ctx, "head_of_line", "added_ns", added);
	check_counter(ctx, "head_of_line", "slow_us", slow_ns / 1000);
	check_counter(ctx, "head_of_line", "slow_ns", slow_ns);
	check_counter(ctx, "head_of_line", "bound_us", bound / 1000);
	check_counter(ctx, "head_of_line", "slow_runs", info.run_cnt);
	check_counter(ctx, "head_of_line", "lost", lost_base + lost_slow);
	check_counter(ctx, "head_of_line", "xdp_multiprog_measured", 0);
	pr_info("check head-of-line: median RTT %.1f us -> %.1f us: added %.1f us, slow program "
		"%.1f us per packet, bound %.1f us\n", base / 1e3, slow / 1e3, added / 1e3,
		slow_ns / 1e3, bound / 1e3);
	check_observe(ctx, "second_program", "packets=%s",
		      check_share(share, sizeof(share), p->skel->bss->pass_packets - pass0,
				  p->skel->bss->slow_packets));
	/* Blocked: the app's packets do wait for the slow program. */
	check_observe(ctx, "head_of_line", "blocked=%s within_bound=%s",
		      added >= slow_ns / 2 ? "yes" : "no", added <= bound ? "yes" : "no");
	return 0;
}

static void teardown(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	for (int i = 0; i < 2; i++)
		if (p->links[i] >= 0)
			close(p->links[i]);
	if (p->stats_fd >= 0)
		close(p->stats_fd);
	app_free(p->app);
	ctr_app_free(p->capp);
	topo_down(&p->t);
	check_hol__destroy(p->skel);
	free(p->rtt);
}

static const struct check head_of_line = {
	.name = "head-of-line",
	.summary = "a slow program first at tcx ingress delays the app behind it by about "
		   "its own run time (figure: added_us)",
	.features = CHECK_FEAT(FEAT_TCX),
	.expected = "second_program: packets=all; head_of_line: blocked=yes within_bound=yes",
	.reference = "include/net/tcx.h tcx_run() (the hook's programs in sequence, same "
		     "softirq); kernel/bpf/syscall.c BPF_ENABLE_STATS",
	.runc = true,
	.priv_size = sizeof(struct priv),
	.setup = setup,
	.run = run,
	.teardown = teardown,
	.order = 220,
	.timeout_ms = 30000,
};
DEFINE_CHECK(head_of_line);
