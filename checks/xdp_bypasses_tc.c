/*
 * xdp-bypasses-tc: XDP (native, and generic which runs on the skb) comes
 * before tc ingress.  A packet XDP drops or sends back (XDP_TX) never
 * reaches a tcx or cls_bpf program; one it passes reaches both.
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

#define PORT     7105
#define NPKT     40
#define XDP_SLOT CHECK_XDP_SLOT0

struct priv {
	struct topo t;
	struct check_pkt *skel;
	struct check_tc_att cls, tcx;
};

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);

	if (err)
		return err;
	/* tcx first (NEXT), then cls_bpf: both count the flow and let it pass. */
	p->skel->bss->verdict[0] = CHECK_TC_NEXT;
	p->skel->bss->verdict[1] = CHECK_TC_OK;
	p->tcx = (struct check_tc_att){ .ns = &p->t.dut, .ifindex = p->t.ifindex_dut,
					.mode = CHECK_TCX };
	p->cls = (struct check_tc_att){ .ns = &p->t.dut, .ifindex = p->t.ifindex_dut,
					.mode = CHECK_CLSACT };
	err = check_defer_detach(ctx, &p->tcx) ?: check_defer_detach(ctx, &p->cls) ?:
	      check_tc_attach(&p->tcx, bpf_program__fd(p->skel->progs.tc_slot0)) ?:
	      check_tc_attach(&p->cls, bpf_program__fd(p->skel->progs.tc_slot1));
	if (err)
		return check_error(ctx, err, "attach the tc programs: %s", strerror(-err));
	return 0;
}

static int phase(struct check_ctx *ctx, const char *name, uint32_t mode, int action)
{
	struct priv *p = ctx->priv;
	volatile __u64 *pk = p->skel->bss->packets;
	uint64_t xdp0 = pk[XDP_SLOT], tcx0 = pk[0], cls0 = pk[1];
	struct check_phase ph;
	int err;

	p->skel->bss->verdict[XDP_SLOT] = action;
	/* Sabotage: the XDP program is left out. */
	if (!ctx->sabotage) {
		err = check_xdp_set(&p->t.dut, p->t.ifindex_dut,
				    bpf_program__fd(p->skel->progs.xdp_slot4), mode);
		if (err)
			return check_error(ctx, err, "%s: attach XDP: %s", name, strerror(-err));
	}
	err = check_send_flow(ctx, name, &p->t, 0, PORT, NPKT);
	if (!ctx->sabotage)
		check_xdp_set(&p->t.dut, p->t.ifindex_dut, -1, mode);
	if (err)
		return err;
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_share(&ph, "xdp", pk[XDP_SLOT] - xdp0);
	check_phase_share(&ph, "tcx", pk[0] - tcx0);
	check_phase_share(&ph, "cls_bpf", pk[1] - cls0);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	static const struct { const char *name; uint32_t mode; int action; } phases[] = {
		{ "native_drop", XDP_FLAGS_DRV_MODE, XDP_DROP },
		{ "native_tx", XDP_FLAGS_DRV_MODE, XDP_TX },
		{ "native_pass", XDP_FLAGS_DRV_MODE, XDP_PASS },
		{ "generic_drop", XDP_FLAGS_SKB_MODE, XDP_DROP },
		{ "generic_tx", XDP_FLAGS_SKB_MODE, XDP_TX },
		{ "generic_pass", XDP_FLAGS_SKB_MODE, XDP_PASS },
	};
	int err = 0;

	for (size_t i = 0; !err && i < ARRAY_SIZE(phases); i++)
		err = phase(ctx, phases[i].name, phases[i].mode, phases[i].action);
	return err;
}

#define HIDDEN "xdp=all tcx=0 cls_bpf=0"
#define PASSED "xdp=all tcx=all cls_bpf=all"

DEFINE_CHECK(xdp_bypasses_tc,
	.name = "xdp-bypasses-tc",
	.summary = "XDP_DROP and XDP_TX (native and generic) hide the packet from tcx and cls_bpf",
	.features = CHECK_FEAT(FEAT_XDP_NATIVE) | CHECK_FEAT(FEAT_XDP_GENERIC) |
		    CHECK_FEAT(FEAT_TC_CLSACT) | CHECK_FEAT(FEAT_TCX),
	.expected = "native_drop: " HIDDEN "; native_tx: " HIDDEN "; native_pass: " PASSED "; "
		    "generic_drop: " HIDDEN "; generic_tx: " HIDDEN "; generic_pass: " PASSED,
	.reference = "net/core/dev.c: do_xdp_generic() runs before sch_handle_ingress() in "
		     "__netif_receive_skb_core(); native XDP runs in the driver before any skb",
	CHECK_STEPS(struct priv),
	.order = 50);
