/*
 * xdp-drop-bypasses-netfilter: a packet XDP drops never becomes an skb, so
 * no netfilter hook sees it: not nft's netdev ingress, not raw or mangle
 * PREROUTING, not filter INPUT (whichever tool made the rule: nft,
 * iptables-nft, iptables-legacy), and conntrack never creates an entry.
 * The control phase, without XDP, proves every rule counts the same flow.
 */
#include <errno.h>
#include <string.h>
#include <linux/if_link.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT      7101
#define NPKT      40
#define XDP_SLOT  CHECK_XDP_SLOT0

static const struct check_nf_rule rules[] = {
	{ "nft_ingress", CHECK_NFT, "netdev olab", NULL, "ingress" },
	{ "nft_raw_prerouting", CHECK_NFT, "ip olab", NULL, "raw_prerouting" },
	{ "nft_mangle_prerouting", CHECK_NFT, "ip olab", NULL, "mangle_prerouting" },
	{ "nft_filter_input", CHECK_NFT, "ip olab", NULL, "filter_input" },
	{ "legacy_raw_prerouting", CHECK_IPT_LEGACY, "raw", "PREROUTING", "olab_raw" },
	{ "legacy_mangle_prerouting", CHECK_IPT_LEGACY, "mangle", "PREROUTING", "olab_mangle" },
	{ "legacy_filter_input", CHECK_IPT_LEGACY, "filter", "INPUT", "olab_filter" },
	{ "iptnft_raw_prerouting", CHECK_IPT_NFT, "raw", "PREROUTING", "olab_raw" },
	{ "iptnft_mangle_prerouting", CHECK_IPT_NFT, "mangle", "PREROUTING", "olab_mangle" },
	{ "iptnft_filter_input", CHECK_IPT_NFT, "filter", "INPUT", "olab_filter" },
};
#define NRULES ARRAY_SIZE(rules)

#define NF_ZERO "nft_ingress=0 nft_raw_prerouting=0 nft_mangle_prerouting=0 nft_filter_input=0 " \
	"legacy_raw_prerouting=0 legacy_mangle_prerouting=0 legacy_filter_input=0 " \
	"iptnft_raw_prerouting=0 iptnft_mangle_prerouting=0 iptnft_filter_input=0"
#define NF_ALL "nft_ingress=all nft_raw_prerouting=all nft_mangle_prerouting=all " \
	"nft_filter_input=all legacy_raw_prerouting=all legacy_mangle_prerouting=all " \
	"legacy_filter_input=all iptnft_raw_prerouting=all iptnft_mangle_prerouting=all " \
	"iptnft_filter_input=all"

static int setup(struct check_ctx *ctx)
{
	struct check_pkt_bed *p = ctx->priv;
	const struct netns *dut;
	int err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);

	if (err)
		return err;
	dut = &p->t.dut;
	p->skel->bss->verdict[XDP_SLOT] = XDP_DROP;

	/* ct state new: conntrack runs in this namespace only when a rule needs it. */
	err = check_nft(ctx, dut,
		"table netdev olab {\n"
		"  chain ingress { type filter hook ingress device \"%s\" priority 0;\n"
		"    udp dport %d counter comment \"ingress\"; }\n"
		"}\n"
		"table ip olab {\n"
		"  chain raw { type filter hook prerouting priority raw;\n"
		"    udp dport %d counter comment \"raw_prerouting\"; }\n"
		"  chain mangle { type filter hook prerouting priority mangle;\n"
		"    udp dport %d counter comment \"mangle_prerouting\"; }\n"
		"  chain filter { type filter hook input priority filter;\n"
		"    udp dport %d ct state new counter comment \"filter_input\"; }\n"
		"}\n", p->t.if_dut, PORT, PORT, PORT, PORT);
	for (int b = 0; !err && b < 2; b++) {
		const char *bin = b ? "iptables-nft" : "iptables-legacy";

		err = check_tool(ctx, dut, "%s -w -t raw -A PREROUTING -p udp --dport %d "
				 "-m comment --comment olab_raw", bin, PORT);
		if (!err)
			err = check_tool(ctx, dut, "%s -w -t mangle -A PREROUTING -p udp --dport %d "
					 "-m comment --comment olab_mangle", bin, PORT);
		if (!err)
			err = check_tool(ctx, dut, "%s -w -t filter -A INPUT -p udp --dport %d "
					 "-m comment --comment olab_filter", bin, PORT);
	}
	return err;
}

/* Send the flow from sport with XDP in mode (0: no XDP); observe under name. */
static int phase(struct check_ctx *ctx, const char *name, uint32_t mode, uint16_t sport)
{
	struct check_pkt_bed *p = ctx->priv;
	uint64_t before[NRULES], after[NRULES], xdp0, ct;
	struct check_phase ph;
	int err, sent;

	if (check_nf_counts(ctx, name, &p->t.dut, rules, NRULES, before))
		return -EIO;
	xdp0 = p->skel->bss->packets[XDP_SLOT];
	/* Sabotage: the XDP program is left out. */
	if (mode && !ctx->sabotage) {
		err = check_xdp_set(&p->t.dut, p->t.ifindex_dut,
				    bpf_program__fd(p->skel->progs.xdp_slot4), mode);
		if (err)
			return check_error(ctx, err, "%s: attach XDP: %s", name, strerror(-err));
	}
	sent = check_udp_send(&p->t.gen, p->t.ip4_dut, sport, PORT, NPKT, 64);
	check_settle();
	if (mode && !ctx->sabotage)
		check_xdp_set(&p->t.dut, p->t.ifindex_dut, -1, mode);
	if (sent != NPKT)
		return check_error(ctx, -EIO, "%s: sent %d of %d datagrams", name, sent, NPKT);
	err = check_nf_read(&p->t.dut, rules, NRULES, after);
	if (!err)
		err = check_conntrack_udp(&p->t.dut, sport, &ct);
	if (err)
		return check_error(ctx, err, "%s: read counters: %s", name, strerror(-err));

	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_share(&ph, "xdp", p->skel->bss->packets[XDP_SLOT] - xdp0);
	check_phase_rules(&ph, rules, NRULES, before, after);
	check_phase_num(&ph, "conntrack", (int64_t)ct);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	int err;

	err = phase(ctx, "xdp_drop_native", XDP_FLAGS_DRV_MODE, 40001);
	if (!err)
		err = phase(ctx, "xdp_drop_generic", XDP_FLAGS_SKB_MODE, 40002);
	if (!err)
		err = phase(ctx, "no_xdp", 0, 40003);
	return err;
}

DEFINE_CHECK(xdp_drop_bypasses_netfilter,
	.name = "xdp-drop-bypasses-netfilter",
	.summary = "XDP_DROP on the app's veth: no netfilter hook or conntrack sees the packet",
	.features = CHECK_FEAT(FEAT_XDP_NATIVE) | CHECK_FEAT(FEAT_XDP_GENERIC),
	.tools = "iptables-legacy iptables-nft conntrack",
	.expected = "xdp_drop_native: xdp=all " NF_ZERO " conntrack=0; "
		    "xdp_drop_generic: xdp=all " NF_ZERO " conntrack=0; "
		    "no_xdp: xdp=0 " NF_ALL " conntrack=1",
	.reference = "net/core/dev.c: do_xdp_generic() and the driver's XDP run before "
		     "__netif_receive_skb_core() reaches nf_ingress and the IP stack",
	CHECK_STEPS(struct check_pkt_bed),
	.order = 10);
