/*
 * tc-ingress-before-nf-ingress: on receive, tc ingress (clsact or tcx) runs
 * before nftables' netdev ingress hook.  So a mark a tc program sets is what
 * the nft rule matches, a tc drop means nft's ingress counter and conntrack
 * never see the packet, and a mark nft sets comes too late for tc.
 */
#include <errno.h>
#include <string.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT     7103
#define NPKT     40

static const struct check_nf_rule rules[] = {
	{ "nft_ingress", CHECK_NFT, "netdev olab", NULL, "ingress" },
	{ "nft_ingress_marked", CHECK_NFT, "netdev olab", NULL, "ingress_marked" },
};

static int setup(struct check_ctx *ctx)
{
	struct check_pkt_bed *p = ctx->priv;
	int err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);

	if (err)
		return err;
	return check_nft(ctx, &p->t.dut,
		"table netdev olab {\n"
		"  chain ingress { type filter hook ingress device \"%s\" priority 0;\n"
		"    udp dport %d counter comment \"ingress\";\n"
		"    udp dport %d meta mark 0x%x counter comment \"ingress_marked\"; }\n"
		"}\n"
		"table ip olab {\n"
		"  chain filter { type filter hook input priority filter;\n"
		"    udp dport %d ct state new counter; }\n"
		"}\n", p->t.if_dut, PORT, PORT, CHECK_MARK, PORT);
}

/*
 * One phase: tc_slot0 at ingress in mode (-1: none) with verdict and
 * set_mark; nft_set_mark adds an nft chain that marks the flow instead.
 */
static int phase(struct check_ctx *ctx, const char *name, int mode, int verdict, bool set_mark,
		 bool nft_set_mark, uint16_t sport)
{
	struct check_pkt_bed *p = ctx->priv;
	struct check_tc_att att = { .ns = &p->t.dut, .ifindex = p->t.ifindex_dut, .mode = mode };
	uint64_t before[2], after[2], tc0, marked0, ct;
	struct check_phase ph;
	int err, sent;

	if (nft_set_mark) {
		err = check_nft(ctx, &p->t.dut,
			"table netdev olab_set {\n"
			"  chain ingress { type filter hook ingress device \"%s\" priority -10;\n"
			"    udp dport %d meta mark set 0x%x; }\n"
			"}\n", p->t.if_dut, PORT, CHECK_MARK);
		if (err)
			return err;
	}
	if (check_nf_counts(ctx, name, &p->t.dut, rules, 2, before))
		return -EIO;
	tc0 = p->skel->bss->packets[0];
	marked0 = p->skel->bss->marked[0];
	p->skel->bss->verdict[0] = verdict;
	/* Sabotage: the tc program forgets to set the mark. */
	p->skel->bss->set_mark[0] = set_mark && !ctx->sabotage;
	if (mode >= 0) {
		err = check_tc_attach(&att, bpf_program__fd(p->skel->progs.tc_slot0));
		if (err)
			return check_error(ctx, err, "%s: attach: %s", name, strerror(-err));
	}
	sent = check_udp_send(&p->t.gen, p->t.ip4_dut, sport, PORT, NPKT, 64);
	check_settle();
	check_tc_detach(&att);
	if (nft_set_mark)
		check_nft(ctx, &p->t.dut, "delete table netdev olab_set");
	if (sent != NPKT)
		return check_error(ctx, -EIO, "%s: sent %d of %d datagrams", name, sent, NPKT);
	err = check_nf_read(&p->t.dut, rules, 2, after);
	if (!err)
		err = check_conntrack_udp(&p->t.dut, sport, &ct);
	if (err)
		return check_error(ctx, err, "%s: read counters: %s", name, strerror(-err));
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_share(&ph, "tc", p->skel->bss->packets[0] - tc0);
	check_phase_share(&ph, "tc_saw_mark", p->skel->bss->marked[0] - marked0);
	check_phase_rules(&ph, rules, 2, before, after);
	check_phase_num(&ph, "conntrack", (int64_t)ct);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	int err = 0;
	uint16_t sport = 40020;

	for (int m = CHECK_CLSACT; !err && m <= CHECK_TCX; m++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_mark", check_tc_mode_name(m));
		err = phase(ctx, name, m, CHECK_TC_OK, true, false, sport++);
		snprintf(name, sizeof(name), "%s_drop", check_tc_mode_name(m));
		if (!err)
			err = phase(ctx, name, m, CHECK_TC_SHOT, false, false, sport++);
	}
	if (!err)
		err = phase(ctx, "no_tc", -1, CHECK_TC_OK, false, false, sport++);
	if (!err)
		err = phase(ctx, "nft_sets_mark", CHECK_CLSACT, CHECK_TC_OK, false, true, sport++);
	return err;
}

#define MARK_SEEN "tc=all tc_saw_mark=0 nft_ingress=all nft_ingress_marked=all conntrack=1"
#define DROPPED   "tc=all tc_saw_mark=0 nft_ingress=0 nft_ingress_marked=0 conntrack=0"

DEFINE_CHECK(tc_ingress_before_nf_ingress,
	.name = "tc-ingress-before-nf-ingress",
	.summary = "tc/tcx ingress runs before nft netdev ingress: its mark is seen, its drop hides",
	.features = CHECK_FEAT(FEAT_TC_CLSACT) | CHECK_FEAT(FEAT_TCX),
	.tools = "conntrack",
	.expected = "clsact_mark: " MARK_SEEN "; clsact_drop: " DROPPED "; "
		    "tcx_mark: " MARK_SEEN "; tcx_drop: " DROPPED "; "
		    "no_tc: tc=0 tc_saw_mark=0 nft_ingress=all nft_ingress_marked=0 conntrack=1; "
		    "nft_sets_mark: tc=all tc_saw_mark=0 nft_ingress=all nft_ingress_marked=all "
		    "conntrack=1",
	.reference = "net/core/dev.c __netif_receive_skb_core(): sch_handle_ingress() (tcx, then "
		     "cls) comes before nf_ingress()",
	CHECK_STEPS(struct check_pkt_bed),
	.order = 30);
