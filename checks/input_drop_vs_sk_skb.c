/*
 * input-drop-vs-sk-skb: unlike XDP and tc, a sockmap stream verdict sees
 * only what reached the socket, after netfilter's INPUT hook.  A drop rule
 * in INPUT therefore keeps the offloaded app's data from the verdict program
 * too (TCP keeps retransmitting it), and once the rule goes the data arrives
 * and the verdict runs again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/topo.h"
#include "check_sock.skel.h"

#define PORT      7113
#define NBYTES    1000
#define DROP_MS   400     /* how long the dropped data is given to show up */
#define RESUME_MS 4000    /* TCP retransmits with backoff: 0.2, 0.6, 1.4, 3 s */

struct priv {
	struct topo t;
	struct check_sock *skel;
	int client, server;
	uint64_t sent;            /* bytes the client wrote so far */
	uint8_t buf[NBYTES];
};

/* Sockmap checks read only once TCP has the bytes (see check.h). */
static void wait_tcp_received(struct priv *p, int ms)
{
	check_tcp_wait_received(p->server, p->sent, ms);
	check_settle();
}

static int tcp_connect(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int lfd, one = 1, err = 0;

	inet_pton(AF_INET, p->t.ip4_dut, &sa.sin_addr);
	lfd = netns_socket(&p->t.dut, AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return lfd;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	p->client = netns_socket(&p->t.gen, AF_INET, SOCK_STREAM, 0);
	if (p->client < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    connect(p->client, (struct sockaddr *)&sa, sizeof(sa)))
		err = -errno;
	if (!err) {
		p->server = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (p->server < 0)
			err = -errno;
	}
	close(lfd);
	return err;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	uint64_t fd;
	uint32_t key = 0;
	int err;

	err = check_testbed(ctx, &p->t) ?: check_sock_load(ctx, &p->skel) ?:
	      check_defer_close(ctx, &p->client) ?: check_defer_close(ctx, &p->server);
	if (err)
		return err;
	err = bpf_prog_attach(bpf_program__fd(p->skel->progs.sk_verdict0),
			      bpf_map__fd(p->skel->maps.map_a), BPF_SK_SKB_STREAM_VERDICT, 0);
	if (err)
		return check_error(ctx, err, "attach the stream verdict: %s", strerror(-err));
	err = tcp_connect(ctx);
	if (err)
		return check_error(ctx, err, "TCP connection: %s", strerror(-err));
	fd = p->server;
	err = bpf_map_update_elem(bpf_map__fd(p->skel->maps.map_a), &key, &fd, BPF_ANY);
	if (err)
		return check_error(ctx, err, "insert into the sockmap: %s", strerror(-err));
	for (size_t i = 0; i < sizeof(p->buf); i++)
		p->buf[i] = (uint8_t)(i * 13);
	return 0;
}

/* Send NBYTES (or nothing: resend false) and see what the app and the verdict get. */
static int phase(struct check_ctx *ctx, const char *name, bool send_now, int wait_ms,
		 bool with_rule)
{
	struct priv *p = ctx->priv;
	uint64_t runs0 = p->skel->bss->verdict_runs[0], drops = 0;
	uint8_t in[NBYTES];
	char details[256] = "";
	size_t got;

	if (send_now) {
		if (send(p->client, p->buf, sizeof(p->buf), 0) != sizeof(p->buf))
			return check_error(ctx, -errno, "%s: send: %s", name, strerror(errno));
		p->sent += sizeof(p->buf);
	}
	wait_tcp_received(p, wait_ms);
	got = check_read_full(p->server, in, sizeof(in), 100);
	if (with_rule && check_nft_counter(&p->t.dut, "ip olab", "input_drop", &drops))
		return check_error(ctx, -EIO, "%s: read the nft counter", name);
	check_kv(details, sizeof(details), "verdict", "%s",
		 p->skel->bss->verdict_runs[0] > runs0 ? "ran" : "0");
	check_kv(details, sizeof(details), "delivered", "%s",
		 got == sizeof(in) && !memcmp(in, p->buf, got) ? "all" : got ? "partial" : "0");
	if (with_rule)
		check_kv(details, sizeof(details), "nft_input_drop", "%s", drops ? "counted" : "0");
	check_counter(ctx, name, "verdict_runs", p->skel->bss->verdict_runs[0] - runs0);
	check_counter(ctx, name, "delivered", got);
	check_counter(ctx, name, "nft_input_drop", drops);
	check_counter(ctx, name, "tcp_bytes_received", check_tcp_bytes_received(p->server));
	check_observe(ctx, name, "%s", details);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	err = phase(ctx, "no_rule", true, 1000, false);
	/* Sabotage: the rule counts but does not drop. */
	if (!err)
		err = check_nft(ctx, &p->t.dut,
			"table ip olab {\n"
			"  chain input { type filter hook input priority filter;\n"
			"    tcp dport %d counter %s comment \"input_drop\"; }\n"
			"}\n", PORT, ctx->sabotage ? "accept" : "drop");
	if (!err)
		err = phase(ctx, "input_drop", true, DROP_MS, true);
	if (!err)
		err = check_nft(ctx, &p->t.dut, "delete table ip olab");
	/* the data held back is retransmitted by TCP */
	if (!err)
		err = phase(ctx, "rule_removed", false, RESUME_MS, false);
	return err;
}

DEFINE_CHECK(input_drop_vs_sk_skb,
	.name = "input-drop-vs-sk-skb",
	.summary = "an INPUT drop rule still stops a sockmap-offloaded app (verdict never runs)",
	.features = CHECK_FEAT(FEAT_SK_SKB_VERDICT),
	.expected = "no_rule: verdict=ran delivered=all; "
		    "input_drop: verdict=0 delivered=0 nft_input_drop=counted; "
		    "rule_removed: verdict=ran delivered=all",
	.reference = "net/ipv4/ip_input.c ip_local_deliver(): NF_INET_LOCAL_IN before "
		     "tcp_v4_rcv(); sk_psock_strp/verdict run from the socket's data_ready",
	.runc_skip = CHECK_RUNC_HOST_TCP_APP,
	CHECK_STEPS(struct priv),
	.order = 130);
