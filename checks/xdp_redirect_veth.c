/*
 * xdp-redirect-veth: a router namespace forwards UDP from src to dst.  When
 * XDP does the forwarding (rewrite MACs, bpf_redirect() to the other veth,
 * native or generic) the packets arrive but the router's netfilter never
 * sees them: PREROUTING, FORWARD, POSTROUTING and the netdev egress hook of
 * the outgoing device stay at 0, and nobody decrements the TTL.  A native
 * redirect into a veth whose peer has neither XDP nor GRO is dropped; GRO
 * alone on the peer is enough; and the receiver's own INPUT rules still
 * filter what XDP delivered.  The control phase forwards through the kernel
 * and every hook moves.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/run.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/link.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT     7114
#define NPKT     40
#define SEND_TTL 64
#define DST_NET  "198.18.1"

struct priv {
	struct topo t;            /* gen = src, dut = router */
	struct check_link link;    /* out end <-> dst namespace */
	struct check_pkt *skel;
	int sink;
	bool dst_xdp;
};

/* What the destination end of the second veth pair has for receiving frames. */
enum dst_rx { DST_XDP, DST_BARE, DST_GRO };

static const struct check_nf_rule dst_input = { "dst_input_drop", CHECK_NFT, "ip olabdst", NULL, "input" };

static const struct check_nf_rule rules[] = {
	{ "nft_prerouting", CHECK_NFT, "ip olab", NULL, "prerouting" },
	{ "nft_forward", CHECK_NFT, "ip olab", NULL, "forward" },
	{ "nft_postrouting", CHECK_NFT, "ip olab", NULL, "postrouting" },
	{ "nft_egress", CHECK_NFT, "netdev olab", NULL, "egress" },
};
#define NRULES ARRAY_SIZE(rules)

/* The router (dut) between src (gen) and dst, with the check_pkt programs. */
static int build(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);

	if (!err)
		err = check_router_link(ctx, &p->t, "dst", "r0", "s0", DST_NET, &p->link);
	/* the way back through the router */
	if (!err)
		err = check_tool(ctx, &p->link.ns, "ip route add 198.18.0.0/24 via " DST_NET ".1");
	/* native XDP_TX/REDIRECT frames need full checksums */
	if (!err)
		err = link_set_tx_csum(&p->t.gen, p->t.if_gen, false);
	return err;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int on = 1, err;

	err = build(ctx) ?: check_defer_close(ctx, &p->sink);
	if (err)
		return err;
	p->skel->bss->verdict[CHECK_XDP_SLOT0] = XDP_PASS;
	p->skel->bss->fwd_ifindex = p->link.ifindex_near;
	memcpy((void *)p->skel->bss->fwd_src_mac, p->link.mac_near, 6);
	memcpy((void *)p->skel->bss->fwd_dst_mac, p->link.mac_far, 6);
	/* a veth takes redirected frames only when its peer runs XDP */
	err = check_xdp_set(&p->link.ns, p->link.ifindex_far, bpf_program__fd(p->skel->progs.xdp_slot4),
			    XDP_FLAGS_DRV_MODE);
	if (err)
		return check_error(ctx, err, "XDP on the destination: %s", strerror(-err));
	p->dst_xdp = true;
	p->sink = check_udp_sink(&p->link.ns, PORT);
	if (p->sink < 0)
		return check_error(ctx, p->sink, "receiver: %s", strerror(-p->sink));
	setsockopt(p->sink, IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
	return check_nft(ctx, &p->t.dut,
		"table ip olab {\n"
		CHECK_NFT_ROUTE_CHAINS
		"}\n"
		"table netdev olab {\n"
		"  chain egress { type filter hook egress device \"%s\" priority 0;\n"
		"    udp dport %d counter comment \"egress\"; }\n"
		"}\n", PORT, PORT, PORT, p->link.if_near, PORT);
}

/* Datagrams waiting at dst, and the TTL the last one arrived with. */
static int receive(struct priv *p, int *ttl)
{
	char buf[2048], cbuf[128];
	int n = 0;

	*ttl = -1;
	for (int i = 0; i < 4 * NPKT; i++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm;

		if (recvmsg(p->sink, &m, MSG_DONTWAIT) < 0)
			break;
		n++;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL)
				memcpy(ttl, CMSG_DATA(cm), sizeof(int));
	}
	return n;
}

static int send_flow(struct priv *p)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	int fd = netns_socket(&p->t.gen, AF_INET, SOCK_DGRAM, 0), ttl = SEND_TTL, sent = 0;
	char buf[64] = { 0 };

	if (fd < 0)
		return fd;
	inet_pton(AF_INET, DST_NET ".2", &to.sin_addr);
	setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	for (int i = 0; i < NPKT; i++)
		sent += sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to)) ==
			sizeof(buf);
	close(fd);
	return sent;
}

/* Give the destination veth end XDP, nothing, or GRO only (re-announced to
 * its peer, which decides whether it may send it XDP frames). */
static int dst_set(struct check_ctx *ctx, enum dst_rx rx)
{
	struct priv *p = ctx->priv;
	int err = 0;

	if (rx == DST_XDP && !p->dst_xdp) {
		err = check_xdp_set(&p->link.ns, p->link.ifindex_far,
				    bpf_program__fd(p->skel->progs.xdp_slot4), XDP_FLAGS_DRV_MODE);
		p->dst_xdp = !err;
	} else if (rx != DST_XDP && p->dst_xdp) {
		err = check_xdp_set(&p->link.ns, p->link.ifindex_far, -1, XDP_FLAGS_DRV_MODE);
		p->dst_xdp = false;
	}
	if (!err)
		err = link_set_offloads(&p->link.ns, p->link.if_far, 0, -1, -1);
	if (!err && rx == DST_GRO)
		err = link_set_offloads(&p->link.ns, p->link.if_far, 1, -1, -1);
	return err ? check_error(ctx, err, "destination receive mode: %s", strerror(-err)) : 0;
}

static int phase(struct check_ctx *ctx, const char *name, uint32_t mode, enum dst_rx rx,
		 bool input_drop)
{
	struct priv *p = ctx->priv;
	uint64_t before[NRULES], after[NRULES], xdp0 = p->skel->bss->packets[5];
	uint64_t in0 = 0, in1 = 0;
	struct check_phase ph;
	int err, sent, got, ttl;

	err = dst_set(ctx, rx);
	if (!err && input_drop)
		err = check_nft(ctx, &p->link.ns,
			"table ip olabdst {\n"
			"  chain input { type filter hook input priority filter;\n"
			"    udp dport %d counter drop comment \"input\"; }\n"
			"}\n", PORT);
	if (!err && input_drop)
		err = check_nf_read(&p->link.ns, &dst_input, 1, &in0);
	if (err)
		return err;
	if (check_nf_counts(ctx, name, &p->t.dut, rules, NRULES, before))
		return -EIO;
	/* Sabotage: the XDP program is left out (the kernel forwards). */
	if (mode && !ctx->sabotage) {
		err = check_xdp_set(&p->t.dut, p->t.ifindex_dut,
				    bpf_program__fd(p->skel->progs.xdp_fwd), mode);
		if (err)
			return check_error(ctx, err, "%s: attach XDP: %s", name, strerror(-err));
	}
	receive(p, &ttl);
	sent = send_flow(p);
	check_settle();
	if (mode && !ctx->sabotage)
		check_xdp_set(&p->t.dut, p->t.ifindex_dut, -1, mode);
	if (sent != NPKT)
		return check_error(ctx, -EIO, "%s: sent %d of %d datagrams", name, sent, NPKT);
	got = receive(p, &ttl);
	if (input_drop) {
		check_nf_read(&p->link.ns, &dst_input, 1, &in1);
		check_tool(ctx, &p->link.ns, "nft delete table ip olabdst");
	}
	if (check_nf_counts(ctx, name, &p->t.dut, rules, NRULES, after))
		return -EIO;
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_share(&ph, "xdp", p->skel->bss->packets[5] - xdp0);
	check_phase_share(&ph, "delivered", got);
	check_phase_num(&ph, "ttl", ttl);
	check_phase_rules(&ph, rules, NRULES, before, after);
	if (input_drop)
		check_phase_rules(&ph, &dst_input, 1, &in0, &in1);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	int err;

	err = phase(ctx, "xdp_native", XDP_FLAGS_DRV_MODE, DST_XDP, false);
	if (!err)
		err = phase(ctx, "xdp_generic", XDP_FLAGS_SKB_MODE, DST_XDP, false);
	if (!err)
		err = phase(ctx, "peer_bare", XDP_FLAGS_DRV_MODE, DST_BARE, false);
	if (!err)
		err = phase(ctx, "peer_gro", XDP_FLAGS_DRV_MODE, DST_GRO, false);
	if (!err)
		err = phase(ctx, "input_drop", XDP_FLAGS_DRV_MODE, DST_XDP, true);
	if (!err)
		err = phase(ctx, "kernel_forwarding", 0, DST_XDP, false);
	return err;
}

#define XDP_FWD "xdp=all delivered=all ttl=64 nft_prerouting=0 nft_forward=0 " \
	"nft_postrouting=0 nft_egress=0"
#define XDP_LOST "xdp=all delivered=0 ttl=-1 nft_prerouting=0 nft_forward=0 " \
	"nft_postrouting=0 nft_egress=0"

DEFINE_CHECK(xdp_redirect_veth,
	.name = "xdp-redirect-veth",
	.summary = "XDP_REDIRECT into a veth: lost without XDP or GRO on the peer; else no router hooks, no TTL--, receiver's INPUT still filters",
	.features = CHECK_FEAT(FEAT_XDP_NATIVE) | CHECK_FEAT(FEAT_XDP_GENERIC),
	.expected = "xdp_native: " XDP_FWD "; xdp_generic: " XDP_FWD "; "
		    "peer_bare: " XDP_LOST "; peer_gro: " XDP_FWD "; "
		    "input_drop: " XDP_LOST " dst_input_drop=all; "
		    "kernel_forwarding: xdp=0 delivered=all ttl=63 nft_prerouting=all "
		    "nft_forward=all nft_postrouting=all nft_egress=all",
	.reference = "net/core/filter.c xdp_do_redirect()/xdp_do_generic_redirect(): the frame "
		     "goes to the target's ndo_xdp_xmit or xmit, skipping ip_forward() and the hooks; "
		     "drivers/net/veth.c veth_xdp_xmit(): only into a peer with NAPI (XDP or GRO)",
	.tools = "ip sysctl",
	CHECK_STEPS(struct priv),
	.order = 140);
