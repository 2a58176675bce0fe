/*
 * cls-bpf-priority: cls_bpf filters on a clsact hook run by priority, lowest
 * first.  In direct-action mode TC_ACT_UNSPEC means "no opinion": the next
 * filter (priority 2) runs; TC_ACT_OK or TC_ACT_SHOT end classification, so
 * the priority-2 filter never sees the packet.
 */
#include "checks/check.h"
#include "lib/features.h"

#define PORT       7108

static int setup(struct check_ctx *ctx)
{
	struct check_tc_pair *tp = ctx->priv;

	*tp = (struct check_tc_pair){
		.label = { "prio1", "prio2" },
		/* Sabotage: the "first" filter is put behind the second one. */
		.slot = { { .mode = CHECK_CLSACT, .prio = ctx->sabotage ? 3 : 1 },
			  { .mode = CHECK_CLSACT, .prio = 2 } },
	};
	return check_tc_pair_up(ctx, tp, PORT);
}

static int run(struct check_ctx *ctx)
{
	struct check_tc_pair *tp = ctx->priv;

	return check_tc_pair_phase(ctx, tp, "prio1_unspec", CHECK_TC_NEXT) ?:
	       check_tc_pair_phase(ctx, tp, "prio1_ok", CHECK_TC_OK) ?:
	       check_tc_pair_phase(ctx, tp, "prio1_shot", CHECK_TC_SHOT);
}

DEFINE_CHECK(cls_bpf_priority,
	.name = "cls-bpf-priority",
	.summary = "cls_bpf by priority: UNSPEC falls through to prio 2, OK and SHOT stop there",
	.features = CHECK_FEAT(FEAT_TC_CLSACT),
	.expected = "prio1_unspec: first=prio1 prio1=all prio2=all app=all; "
		    "prio1_ok: first=prio1 prio1=all prio2=0 app=all; "
		    "prio1_shot: first=prio1 prio1=all prio2=0 app=0",
	.reference = "net/sched/cls_api.c __tcf_classify() walks filters by priority; "
		     "net/sched/cls_bpf.c: TC_ACT_UNSPEC continues, any other verdict returns",
	.runc = true,
	CHECK_STEPS(struct check_tc_pair),
	.order = 80);
