/*
 * nf-egress-before-tc-egress: on transmit, nftables' netdev egress hook runs
 * before tc egress (clsact or tcx).  So a mark an nft egress rule sets is
 * what the tc program sees, and a mark the tc program sets comes too late
 * for nft.
 */
#include <errno.h>
#include <string.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT  7104
#define NPKT  40

static const struct check_nf_rule rules[] = {
	{ "nft_egress", CHECK_NFT, "netdev olab", NULL, "egress" },
	{ "nft_egress_arrived_marked", CHECK_NFT, "netdev olab", NULL, "arrived_marked" },
};

/* The chain that marks the flow; sabotage: it counts but sets nothing. */
static int add_mark_table(struct check_ctx *ctx)
{
	struct check_pkt_bed *p = ctx->priv;
	char stmt[64];

	snprintf(stmt, sizeof(stmt), ctx->sabotage ? "counter" : "meta mark set 0x%x", CHECK_MARK);
	return check_nft(ctx, &p->t.gen,
		"table netdev olab_set {\n"
		"  chain egress { type filter hook egress device \"%s\" priority 10;\n"
		"    udp dport %d %s; }\n"
		"}\n", p->t.if_gen, PORT, stmt);
}

static int setup(struct check_ctx *ctx)
{
	struct check_pkt_bed *p = ctx->priv;
	int err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);

	if (err)
		return err;
	err = check_nft(ctx, &p->t.gen,
		"table netdev olab {\n"
		"  chain egress { type filter hook egress device \"%s\" priority 0;\n"
		"    udp dport %d meta mark 0x%x counter comment \"arrived_marked\";\n"
		"    udp dport %d counter comment \"egress\"; }\n"
		"}\n", p->t.if_gen, PORT, CHECK_MARK, PORT);
	return err ? err : add_mark_table(ctx);
}

static int phase(struct check_ctx *ctx, const char *name, enum check_tc_mode mode, bool tc_mark)
{
	struct check_pkt_bed *p = ctx->priv;
	struct check_tc_att att = { .ns = &p->t.gen, .ifindex = p->t.ifindex_gen, .egress = true,
				    .mode = mode };
	uint64_t before[2], after[2], tc0, marked0;
	struct check_phase ph;
	int err, sent;

	if (check_nf_counts(ctx, name, &p->t.gen, rules, 2, before))
		return -EIO;
	tc0 = p->skel->bss->packets[0];
	marked0 = p->skel->bss->marked[0];
	p->skel->bss->verdict[0] = CHECK_TC_OK;
	p->skel->bss->set_mark[0] = tc_mark;
	err = check_tc_attach(&att, bpf_program__fd(p->skel->progs.tc_slot0));
	if (err)
		return check_error(ctx, err, "%s: attach: %s", name, strerror(-err));
	sent = check_udp_send(&p->t.gen, p->t.ip4_dut, 0, PORT, NPKT, 64);
	check_settle();
	check_tc_detach(&att);
	if (sent != NPKT)
		return check_error(ctx, -EIO, "%s: sent %d of %d datagrams", name, sent, NPKT);
	if (check_nf_counts(ctx, name, &p->t.gen, rules, 2, after))
		return -EIO;
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_rules(&ph, rules, 2, before, after);
	check_phase_share(&ph, "tc", p->skel->bss->packets[0] - tc0);
	check_phase_share(&ph, "tc_saw_mark", p->skel->bss->marked[0] - marked0);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	struct check_pkt_bed *p = ctx->priv;
	int err;

	err = phase(ctx, "nft_marks_clsact", CHECK_CLSACT, false);
	if (!err)
		err = phase(ctx, "nft_marks_tcx", CHECK_TCX, false);
	if (!err)
		err = check_nft(ctx, &p->t.gen, "delete table netdev olab_set");
	if (!err)
		err = phase(ctx, "tc_marks", CHECK_CLSACT, true);
	return err;
}

#define NFT_MARK_SEEN "nft_egress=all nft_egress_arrived_marked=0 tc=all tc_saw_mark=all"

DEFINE_CHECK(nf_egress_before_tc_egress,
	.name = "nf-egress-before-tc-egress",
	.summary = "nft netdev egress runs before tc/tcx egress: tc sees nft's mark, not the reverse",
	.features = CHECK_FEAT(FEAT_TC_CLSACT) | CHECK_FEAT(FEAT_TCX),
	.expected = "nft_marks_clsact: " NFT_MARK_SEEN "; nft_marks_tcx: " NFT_MARK_SEEN "; "
		    "tc_marks: nft_egress=all nft_egress_arrived_marked=0 tc=all tc_saw_mark=0",
	.reference = "net/core/dev.c __dev_queue_xmit(): nf_hook_egress() before sch_handle_egress()",
	CHECK_STEPS(struct check_pkt_bed),
	.order = 40);
