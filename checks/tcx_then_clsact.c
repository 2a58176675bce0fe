/*
 * tcx-then-clsact: on a device with both, tcx programs run first and a
 * cls_bpf filter on clsact only runs when the tcx chain ends in TCX_NEXT.
 * A tcx TCX_PASS lets the packet into the stack but hides it from cls_bpf;
 * TCX_DROP hides it from both cls_bpf and the app.
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

#define PORT     7107
#define NPKT     40

struct priv {
	struct topo t;
	struct check_pkt *skel;
	struct check_tc_att tcx, cls;
	int app_fd;
};

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	p->app_fd = -1;
	err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);
	if (err)
		return err;
	p->skel->bss->verdict[1] = CHECK_TC_OK;   /* cls_bpf: TC_ACT_OK */
	p->app_fd = check_udp_sink(&p->t.dut, PORT);
	if (p->app_fd < 0)
		return check_error(ctx, p->app_fd, "app socket: %s", strerror(-p->app_fd));
	/* clsact first, tcx second: the attach order must not matter. */
	p->cls = (struct check_tc_att){ .ns = &p->t.dut, .ifindex = p->t.ifindex_dut,
					.mode = CHECK_CLSACT };
	p->tcx = (struct check_tc_att){ .ns = &p->t.dut, .ifindex = p->t.ifindex_dut,
					.mode = CHECK_TCX };
	err = check_tc_attach(&p->cls, bpf_program__fd(p->skel->progs.tc_slot1));
	if (!err)
		err = check_tc_attach(&p->tcx, bpf_program__fd(p->skel->progs.tc_slot0));
	if (err)
		return check_error(ctx, err, "attach: %s", strerror(-err));
	return 0;
}

static int phase(struct check_ctx *ctx, const char *name, int tcx_verdict)
{
	struct priv *p = ctx->priv;
	volatile __u64 *pk = p->skel->bss->packets;
	uint64_t tcx0 = pk[0], cls0 = pk[1];
	struct check_phase ph;
	int err, app;

	/* Sabotage: tcx says NEXT whatever the phase wants. */
	p->skel->bss->verdict[0] = ctx->sabotage ? CHECK_TC_NEXT : tcx_verdict;
	p->skel->bss->log_n = 0;
	check_udp_drain(p->app_fd);
	err = check_send_flow(ctx, name, &p->t, 0, PORT, NPKT);
	if (err)
		return err;
	app = check_udp_drain(p->app_fd);
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_kv(&ph, "first",
		       p->skel->bss->log_n ? (p->skel->bss->log_slot[0] ? "cls_bpf" : "tcx") : "none");
	check_phase_share(&ph, "tcx", pk[0] - tcx0);
	check_phase_share(&ph, "cls_bpf", pk[1] - cls0);
	check_phase_share(&ph, "app", app);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	int err;

	err = phase(ctx, "tcx_next", CHECK_TC_NEXT);
	if (!err)
		err = phase(ctx, "tcx_pass", CHECK_TC_OK);
	if (!err)
		err = phase(ctx, "tcx_drop", CHECK_TC_SHOT);
	return err;
}

static void teardown(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	check_tc_detach(&p->tcx);
	check_tc_detach(&p->cls);
	check_close(&p->app_fd);
	check_pkt_testbed_down(&p->t, p->skel);
}

static const struct check tcx_then_clsact = {
	.name = "tcx-then-clsact",
	.summary = "tcx runs before cls_bpf: TCX_PASS or TCX_DROP hides the packet from cls_bpf",
	.features = CHECK_FEAT(FEAT_TC_CLSACT) | CHECK_FEAT(FEAT_TCX),
	.expected = "tcx_next: first=tcx tcx=all cls_bpf=all app=all; "
		    "tcx_pass: first=tcx tcx=all cls_bpf=0 app=all; "
		    "tcx_drop: first=tcx tcx=all cls_bpf=0 app=0",
	.reference = "net/core/dev.c sch_handle_ingress(): tcx_run(), then tc_run() only on "
		     "TC_ACT_UNSPEC (TCX_NEXT)",
	CHECK_STEPS(struct priv),
	.order = 70,
};
DEFINE_CHECK(tcx_then_clsact);
