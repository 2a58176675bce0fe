/*
 * redirect-peer: a host namespace forwards UDP from outside to a container
 * behind a veth pair.  A tc program on the outside device that does
 * bpf_redirect_peer() puts the packet straight onto the container end's
 * ingress: the host's netfilter (netdev ingress after tc, PREROUTING,
 * FORWARD, POSTROUTING) and the host end's egress (nft egress, tc egress)
 * never see it, while the container's own ingress, PREROUTING and INPUT
 * still do, and the mark the tc program set survives into the container
 * (the skb is scrubbed without crossing-namespace state).  bpf_redirect() to
 * the host end's egress also skips the host's IP hooks and nft egress
 * (skb->nf_skip_egress), but tc egress runs, and the veth crossing into the
 * container's namespace clears the mark.  The control phase lets the kernel
 * forward and every host counter moves.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/run.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/link.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT     7115
#define NPKT     40
#define CTR_NET  "198.18.2"

struct priv {
	struct topo t;             /* gen = outside, dut = host */
	struct check_link link;    /* host end <-> ctr namespace */
	struct check_pkt *skel;
	struct check_tc_att egress;
	struct check_app sink;
};

static const struct check_nf_rule host_rules[] = {
	{ "host_nf_ingress", CHECK_NFT, "netdev olab", NULL, "ingress" },
	{ "host_prerouting", CHECK_NFT, "ip olab", NULL, "prerouting" },
	{ "host_forward", CHECK_NFT, "ip olab", NULL, "forward" },
	{ "host_postrouting", CHECK_NFT, "ip olab", NULL, "postrouting" },
	{ "host_nf_egress", CHECK_NFT, "netdev olab", NULL, "egress" },
};
static const struct check_nf_rule ctr_rules[] = {
	{ "ctr_nf_ingress", CHECK_NFT, "netdev olab", NULL, "ingress" },
	{ "ctr_prerouting", CHECK_NFT, "ip olab", NULL, "prerouting" },
	{ "ctr_input", CHECK_NFT, "ip olab", NULL, "input" },
	{ "ctr_input_marked", CHECK_NFT, "ip olab", NULL, "input_marked" },
};
#define NHOST ARRAY_SIZE(host_rules)
#define NCTR  ARRAY_SIZE(ctr_rules)

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	p->sink.fd = -1;
	err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);
	if (!err)
		err = check_router_link(ctx, &p->t, "ctr", "h0", "c0", CTR_NET, &p->link);
	if (err)
		return err;
	p->skel->bss->verdict[0] = CHECK_TC_OK;
	p->skel->bss->redirect_ifindex = p->link.ifindex_near;
	memcpy((void *)p->skel->bss->redirect_src_mac, p->link.mac_near, 6);
	memcpy((void *)p->skel->bss->redirect_dst_mac, p->link.mac_far, 6);
	err = check_app_udp(ctx, &p->sink, &p->link.ns, PORT, "sink", false);
	if (err)
		return err;
	/* tc egress on the host end of the container veth, counting */
	p->egress = (struct check_tc_att){ .ns = &p->t.dut, .ifindex = p->link.ifindex_near,
					   .egress = true, .mode = CHECK_CLSACT };
	err = check_defer_detach(ctx, &p->egress) ?:
	      check_tc_attach(&p->egress, bpf_program__fd(p->skel->progs.tc_slot0));
	if (err)
		return check_error(ctx, err, "tc egress: %s", strerror(-err));
	err = check_nft(ctx, &p->t.dut,
		"table netdev olab {\n"
		"  chain ingress { type filter hook ingress device \"%s\" priority 0;\n"
		"    udp dport %d counter comment \"ingress\"; }\n"
		"  chain egress { type filter hook egress device \"%s\" priority 0;\n"
		"    udp dport %d counter comment \"egress\"; }\n"
		"}\n"
		"table ip olab {\n"
		CHECK_NFT_ROUTE_CHAINS
		"}\n", p->t.if_dut, PORT, p->link.if_near, PORT, PORT, PORT, PORT);
	if (!err)
		err = check_nft(ctx, &p->link.ns,
			"table netdev olab {\n"
			"  chain ingress { type filter hook ingress device \"%s\" priority 0;\n"
			"    udp dport %d counter comment \"ingress\"; }\n"
			"}\n"
			"table ip olab {\n"
			"  chain pre { type filter hook prerouting priority raw;\n"
			"    udp dport %d counter comment \"prerouting\"; }\n"
			"  chain input { type filter hook input priority filter;\n"
			"    udp dport %d counter comment \"input\";\n"
			"    meta mark 0x%x udp dport %d counter comment \"input_marked\"; }\n"
			"}\n", p->link.if_far, PORT, PORT, PORT, CHECK_MARK, PORT);
	return err;
}

/* The host's and the container's rule counters. */
static int read_counts(struct check_ctx *ctx, const char *name, uint64_t *host, uint64_t *ctr)
{
	struct priv *p = ctx->priv;

	if (check_nf_counts(ctx, name, &p->t.dut, host_rules, NHOST, host) ||
	    check_nf_counts(ctx, name, &p->link.ns, ctr_rules, NCTR, ctr))
		return -EIO;
	return 0;
}

/* redirect: -1 none, 0 bpf_redirect, 1 bpf_redirect_peer. */
static int phase(struct check_ctx *ctx, const char *name, int redirect)
{
	struct priv *p = ctx->priv;
	struct check_tc_att in = { .ns = &p->t.dut, .ifindex = p->t.ifindex_dut,
				   .mode = CHECK_CLSACT };
	uint64_t hb[NHOST], ha[NHOST], cb[NCTR], ca[NCTR];
	uint64_t tc0 = p->skel->bss->redirect_packets, eg0 = p->skel->bss->packets[0];
	struct check_phase ph;
	int err, sent, got;

	if (read_counts(ctx, name, hb, cb))
		return -EIO;
	/* Sabotage: the redirecting program is left out (the kernel forwards). */
	if (redirect >= 0 && !ctx->sabotage) {
		p->skel->bss->redirect_peer = redirect;
		p->skel->bss->redirect_mark = CHECK_MARK;
		err = check_tc_attach(&in, bpf_program__fd(p->skel->progs.tc_redirect));
		if (err)
			return check_error(ctx, err, "%s: attach: %s", name, strerror(-err));
	}
	check_app_take(&p->sink);
	sent = check_udp_send(&p->t.gen, CTR_NET ".2", 0, PORT, NPKT, 64);
	check_settle();
	check_tc_detach(&in);
	if (sent != NPKT)
		return check_error(ctx, -EIO, "%s: sent %d of %d datagrams", name, sent, NPKT);
	got = check_app_take(&p->sink);
	if (read_counts(ctx, name, ha, ca))
		return -EIO;
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_share(&ph, "tc", p->skel->bss->redirect_packets - tc0);
	check_phase_share(&ph, "delivered", got);
	check_phase_rules(&ph, host_rules, NHOST, hb, ha);
	check_phase_share(&ph, "host_tc_egress", p->skel->bss->packets[0] - eg0);
	check_phase_rules(&ph, ctr_rules, NCTR, cb, ca);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	int err;

	err = phase(ctx, "redirect_peer", 1);
	if (!err)
		err = phase(ctx, "redirect_egress", 0);
	if (!err)
		err = phase(ctx, "kernel_forwarding", -1);
	return err;
}

#define HOST_IP_ZERO "host_nf_ingress=0 host_prerouting=0 host_forward=0 host_postrouting=0"
#define CTR_ALL "ctr_nf_ingress=all ctr_prerouting=all ctr_input=all"

DEFINE_CHECK(redirect_peer,
	.name = "redirect-peer",
	.summary = "bpf_redirect_peer into a container skips the host's hooks, not the container's; skb->mark survives",
	.features = CHECK_FEAT(FEAT_TC_CLSACT),
	.expected = "redirect_peer: tc=all delivered=all " HOST_IP_ZERO " host_nf_egress=0 "
		    "host_tc_egress=0 " CTR_ALL " ctr_input_marked=all; "
		    "redirect_egress: tc=all delivered=all " HOST_IP_ZERO " host_nf_egress=0 "
		    "host_tc_egress=all " CTR_ALL " ctr_input_marked=0; "
		    "kernel_forwarding: tc=0 delivered=all host_nf_ingress=all host_prerouting=all "
		    "host_forward=all host_postrouting=all host_nf_egress=all host_tc_egress=all "
		    CTR_ALL " ctr_input_marked=0",
	.reference = "net/core/filter.c skb_do_redirect(): BPF_F_PEER switches skb->dev to the "
		     "peer and re-runs __netif_receive_skb_core() there (skb_scrub_packet(skb, false) "
		     "keeps the mark); nf_skip_egress() for tc-redirected skbs; __dev_forward_skb() "
		     "scrubs the mark when the veth crosses namespaces",
	.tools = "ip sysctl",
	.runc = true,
	CHECK_STEPS(struct priv),
	.order = 150);
