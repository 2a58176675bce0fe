/*
 * tcx-then-clsact: on a device with both, tcx programs run first and a
 * cls_bpf filter on clsact only runs when the tcx chain ends in TCX_NEXT.
 * A tcx TCX_PASS lets the packet into the stack but hides it from cls_bpf;
 * TCX_DROP hides it from both cls_bpf and the app.
 */
#include "checks/check.h"
#include "lib/features.h"

#define PORT     7107

static int setup(struct check_ctx *ctx)
{
	struct check_tc_pair *tp = ctx->priv;

	*tp = (struct check_tc_pair){
		.label = { "tcx", "cls_bpf" },
		.slot = { { .mode = CHECK_TCX }, { .mode = CHECK_CLSACT } },
	};
	return check_tc_pair_up(ctx, tp, PORT);
}

/* Sabotage: tcx says NEXT whatever the phase wants. */
static int phase(struct check_ctx *ctx, const char *name, int tcx_verdict)
{
	return check_tc_pair_phase(ctx, ctx->priv, name,
				   ctx->sabotage ? CHECK_TC_NEXT : tcx_verdict);
}

static int run(struct check_ctx *ctx)
{
	return phase(ctx, "tcx_next", CHECK_TC_NEXT) ?: phase(ctx, "tcx_pass", CHECK_TC_OK) ?:
	       phase(ctx, "tcx_drop", CHECK_TC_SHOT);
}

DEFINE_CHECK(tcx_then_clsact,
	.name = "tcx-then-clsact",
	.summary = "tcx runs before cls_bpf: TCX_PASS or TCX_DROP hides the packet from cls_bpf",
	.features = CHECK_FEAT(FEAT_TC_CLSACT) | CHECK_FEAT(FEAT_TCX),
	.expected = "tcx_next: first=tcx tcx=all cls_bpf=all app=all; "
		    "tcx_pass: first=tcx tcx=all cls_bpf=0 app=all; "
		    "tcx_drop: first=tcx tcx=all cls_bpf=0 app=0",
	.reference = "net/core/dev.c sch_handle_ingress(): tcx_run(), then tc_run() only on "
		     "TC_ACT_UNSPEC (TCX_NEXT)",
	CHECK_STEPS(struct check_tc_pair),
	.order = 70);
