/*
 * cls-bpf-priority: cls_bpf filters on a clsact hook run by priority, lowest
 * first.  In direct-action mode TC_ACT_UNSPEC means "no opinion": the next
 * filter (priority 2) runs; TC_ACT_OK or TC_ACT_SHOT end classification, so
 * the priority-2 filter never sees the packet.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT       7108
#define NPKT       40

struct priv {
	struct topo t;
	struct check_pkt *skel;
	struct check_tc_att first, second;
	struct check_app app;
};

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	p->app.fd = -1;
	err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);
	if (err)
		return err;
	p->skel->bss->verdict[1] = CHECK_TC_OK;
	err = check_app_udp(ctx, &p->app, &p->t.dut, PORT, "sink", false);
	if (err)
		return err;
	/* Sabotage: the "first" filter is put behind the second one. */
	p->first = (struct check_tc_att){ .ns = &p->t.dut, .ifindex = p->t.ifindex_dut,
					  .mode = CHECK_CLSACT, .prio = ctx->sabotage ? 3 : 1 };
	p->second = (struct check_tc_att){ .ns = &p->t.dut, .ifindex = p->t.ifindex_dut,
					   .mode = CHECK_CLSACT, .prio = 2 };
	/* Added in the reverse order: priority, not insertion, decides. */
	err = check_tc_attach(&p->second, bpf_program__fd(p->skel->progs.tc_slot1));
	if (!err)
		err = check_tc_attach(&p->first, bpf_program__fd(p->skel->progs.tc_slot0));
	if (err)
		return check_error(ctx, err, "attach: %s", strerror(-err));
	return 0;
}

static int phase(struct check_ctx *ctx, const char *name, int verdict)
{
	struct priv *p = ctx->priv;
	volatile __u64 *pk = p->skel->bss->packets;
	uint64_t a0 = pk[0], b0 = pk[1];
	struct check_phase ph;
	int err, app;

	p->skel->bss->verdict[0] = verdict;
	p->skel->bss->log_n = 0;
	check_app_take(&p->app);
	err = check_send_flow(ctx, name, &p->t, 0, PORT, NPKT);
	if (err)
		return err;
	app = check_app_take(&p->app); /* first: it waits for the app's counters to rest */
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_kv(&ph, "first",
		       p->skel->bss->log_n ? (p->skel->bss->log_slot[0] ? "prio2" : "prio1") : "none");
	check_phase_share(&ph, "prio1", pk[0] - a0);
	check_phase_share(&ph, "prio2", pk[1] - b0);
	check_phase_share(&ph, "app", app);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	int err;

	err = phase(ctx, "prio1_unspec", CHECK_TC_NEXT);
	if (!err)
		err = phase(ctx, "prio1_ok", CHECK_TC_OK);
	if (!err)
		err = phase(ctx, "prio1_shot", CHECK_TC_SHOT);
	return err;
}

static void teardown(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	check_tc_detach(&p->first);
	check_tc_detach(&p->second);
	check_app_close(&p->app);
	check_pkt_testbed_down(&p->t, p->skel);
}

static const struct check cls_bpf_priority = {
	.name = "cls-bpf-priority",
	.summary = "cls_bpf by priority: UNSPEC falls through to prio 2, OK and SHOT stop there",
	.features = CHECK_FEAT(FEAT_TC_CLSACT),
	.expected = "prio1_unspec: first=prio1 prio1=all prio2=all app=all; "
		    "prio1_ok: first=prio1 prio1=all prio2=0 app=all; "
		    "prio1_shot: first=prio1 prio1=all prio2=0 app=0",
	.reference = "net/sched/cls_api.c __tcf_classify() walks filters by priority; "
		     "net/sched/cls_bpf.c: TC_ACT_UNSPEC continues, any other verdict returns",
	.runc = true,
	CHECK_STEPS(struct priv),
	.order = 80,
};
DEFINE_CHECK(cls_bpf_priority);
