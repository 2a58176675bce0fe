/*
 * xdp-tx-skips-output: a reply made by XDP_TX leaves by the device it came
 * in on without ever being an outgoing skb of the stack: the peer gets it,
 * but the OUTPUT and POSTROUTING hooks (nft, iptables-nft, iptables-legacy)
 * and nft's netdev egress never see it, and the app's socket gets nothing.
 * The control phase lets the app answer, and every one of those counters
 * moves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/hooks.h"
#include "lib/util.h"
#include "netns/link.h"
#include "netns/topo.h"

#define PORT       7102
#define NPKT       40
#define SIZE       64
#define REPLY_MS   1000

static const struct check_nf_rule rules[] = {
	{ "nft_filter_output", CHECK_NFT, "ip olab", NULL, "filter_output" },
	{ "nft_mangle_postrouting", CHECK_NFT, "ip olab", NULL, "mangle_postrouting" },
	{ "nft_egress", CHECK_NFT, "netdev olab", NULL, "egress" },
	{ "legacy_filter_output", CHECK_IPT_LEGACY, "filter", "OUTPUT", "olab_output" },
	{ "legacy_mangle_postrouting", CHECK_IPT_LEGACY, "mangle", "POSTROUTING", "olab_post" },
	{ "iptnft_filter_output", CHECK_IPT_NFT, "filter", "OUTPUT", "olab_output" },
	{ "iptnft_mangle_postrouting", CHECK_IPT_NFT, "mangle", "POSTROUTING", "olab_post" },
};
#define NRULES ARRAY_SIZE(rules)

#define OUT_ZERO "nft_filter_output=0 nft_mangle_postrouting=0 nft_egress=0 " \
	"legacy_filter_output=0 legacy_mangle_postrouting=0 iptnft_filter_output=0 " \
	"iptnft_mangle_postrouting=0"
#define OUT_ALL "nft_filter_output=all nft_mangle_postrouting=all nft_egress=all " \
	"legacy_filter_output=all legacy_mangle_postrouting=all iptnft_filter_output=all " \
	"iptnft_mangle_postrouting=all"

struct priv {
	struct topo t;
	struct hook_inst *peer;  /* empty XDP on the gen end: native XDP_TX needs it */
	struct check_app app;    /* the app's UDP socket in dut */
};

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	const struct netns *dut;
	int err;

	p->app.fd = -1;
	err = check_testbed(ctx, &p->t);
	if (err)
		return err;
	dut = &p->t.dut;
	/* XDP_TX swaps addresses only: the request must carry a full checksum. */
	err = link_set_tx_csum(&p->t.gen, p->t.if_gen, false);
	if (!err)
		err = hook_attach(hook_by_name("xdp"), HOOK_EMPTY, &p->t.gen, p->t.if_gen, 0,
				  &p->peer);
	if (err)
		return check_error(ctx, err, "prepare the gen end: %s", strerror(-err));

	/* netns: the check answers on the app's socket; runc: olab-app udp-echo. */
	err = check_app_udp(ctx, &p->app, dut, PORT, "echo", true);
	if (err)
		return err;

	err = check_nft(ctx, dut,
		"table netdev olab {\n"
		"  chain egress { type filter hook egress device \"%s\" priority 0;\n"
		"    udp sport %d counter comment \"egress\"; }\n"
		"}\n"
		"table ip olab {\n"
		"  chain output { type filter hook output priority filter;\n"
		"    udp sport %d counter comment \"filter_output\"; }\n"
		"  chain postrouting { type filter hook postrouting priority mangle;\n"
		"    udp sport %d counter comment \"mangle_postrouting\"; }\n"
		"}\n", p->t.if_dut, PORT, PORT, PORT);
	for (int b = 0; !err && b < 2; b++) {
		const char *bin = b ? "iptables-nft" : "iptables-legacy";

		err = check_tool(ctx, dut, "%s -w -t filter -A OUTPUT -p udp --sport %d "
				 "-m comment --comment olab_output", bin, PORT);
		if (!err)
			err = check_tool(ctx, dut, "%s -w -t mangle -A POSTROUTING -p udp --sport %d "
					 "-m comment --comment olab_post", bin, PORT);
	}
	return err;
}

/* The app: answer every datagram waiting on its socket; how many it got. */
static int app_echo(int fd)
{
	uint8_t buf[2048];
	int got = 0;

	for (int i = 0; i < 4 * NPKT; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		got++;
		sendto(fd, buf, n, 0, (struct sockaddr *)&from, fl);
	}
	return got;
}

/* Requests from gen:sport, replies counted at gen. */
static int exchange(struct check_ctx *ctx, uint16_t sport, int *replies, int *app_got)
{
	struct priv *p = ctx->priv;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(sport) };
	uint64_t deadline;
	uint8_t buf[SIZE];
	int fd, err = 0;

	*replies = *app_got = 0;
	inet_pton(AF_INET, p->t.ip4_dut, &to.sin_addr);
	fd = netns_socket(&p->t.gen, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		err = -errno;
		goto out;
	}
	for (int i = 0; i < NPKT; i++) {
		memset(buf, i, sizeof(buf));
		if (send(fd, buf, sizeof(buf), 0) != sizeof(buf)) {
			err = -errno;
			goto out;
		}
	}
	check_settle();
	*app_got = p->app.rapp ? check_app_take(&p->app) : app_echo(p->app.fd);
	deadline = now_ns() + (uint64_t)REPLY_MS * 1000000;
	while (*replies < NPKT && now_ns() < deadline && check_time_left(ctx)) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		if (poll(&pf, 1, 50) <= 0)
			continue;
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) == SIZE)
			(*replies)++;
	}
out:
	close(fd);
	return err;
}

static int phase(struct check_ctx *ctx, const char *name, const char *hook, uint16_t sport)
{
	struct priv *p = ctx->priv;
	uint64_t before[NRULES], after[NRULES];
	struct check_phase ph;
	struct hook_inst *hi = NULL;
	int err, replies, app_got;

	if (check_nf_counts(ctx, name, &p->t.dut, rules, NRULES, before))
		return -EIO;
	/* Sabotage: the XDP program is left out (the app answers instead). */
	if (hook && !ctx->sabotage) {
		err = hook_attach(hook_by_name(hook), HOOK_ECHO, &p->t.dut, p->t.if_dut, PORT, &hi);
		if (err)
			return check_error(ctx, err, "%s: attach %s echo: %s", name, hook,
					   strerror(-err));
	}
	err = exchange(ctx, sport, &replies, &app_got);
	hook_detach(hi);
	if (err)
		return check_error(ctx, err, "%s: traffic: %s", name, strerror(-err));
	if (check_nf_counts(ctx, name, &p->t.dut, rules, NRULES, after))
		return -EIO;

	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_share(&ph, "replies", replies);
	check_phase_share(&ph, "app", app_got);
	check_phase_rules(&ph, rules, NRULES, before, after);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	int err;

	err = phase(ctx, "xdp_tx_native", "xdp", 40011);
	if (!err)
		err = phase(ctx, "xdp_tx_generic", "xdp-generic", 40012);
	if (!err)
		err = phase(ctx, "app_reply", NULL, 40013);
	return err;
}

static void teardown(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	check_app_close(&p->app);
	hook_detach(p->peer);
}

DEFINE_CHECK(xdp_tx_skips_output,
	.name = "xdp-tx-skips-output",
	.summary = "an XDP_TX reply reaches the peer without OUTPUT, POSTROUTING or egress seeing it",
	.features = CHECK_FEAT(FEAT_XDP_NATIVE) | CHECK_FEAT(FEAT_XDP_GENERIC),
	.tools = "iptables-legacy iptables-nft",
	.expected = "xdp_tx_native: replies=all app=0 " OUT_ZERO "; "
		    "xdp_tx_generic: replies=all app=0 " OUT_ZERO "; "
		    "app_reply: replies=all app=all " OUT_ALL,
	.reference = "XDP_TX: veth_xdp_tx()/generic_xdp_tx() transmit on the receiving device, "
		     "bypassing ip_output(), dev_queue_xmit() and nf_hook_egress()",
	.runc = true,
	CHECK_STEPS(struct priv),
	.teardown = teardown,
	.order = 20);
