/*
 * Two check_pkt tc programs at the dut's ingress (slots 0 and 1) and the
 * app behind them: the shape of the checks that ask which of two tc
 * attachments runs first and whether the first one's verdict stops the
 * second (checks/check.h, struct check_tc_pair).
 */
#include <string.h>
#include "checks/check.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

int check_tc_pair_up(struct check_ctx *ctx, struct check_tc_pair *tp, uint16_t port)
{
	int err;

	tp->app.fd = -1;
	tp->port = port;
	err = check_pkt_testbed(ctx, &tp->t, &tp->skel, port);
	if (err)
		return err;
	tp->skel->bss->verdict[1] = CHECK_TC_OK;
	err = check_app_udp(ctx, &tp->app, &tp->t.dut, port, "sink", false);
	if (err)
		return err;
	for (int i = 1; i >= 0; i--) {
		tp->slot[i].ns = &tp->t.dut;
		tp->slot[i].ifindex = tp->t.ifindex_dut;
		err = err ?: check_defer_detach(ctx, &tp->slot[i]);
	}
	if (err)
		return err;
	/* Slot 1 first: the attach order must not be what decides. */
	err = check_tc_attach(&tp->slot[1], bpf_program__fd(tp->skel->progs.tc_slot1));
	if (!err)
		err = check_tc_attach(&tp->slot[0], bpf_program__fd(tp->skel->progs.tc_slot0));
	return err ? check_error(ctx, err, "attach: %s", strerror(-err)) : 0;
}

int check_tc_pair_phase(struct check_ctx *ctx, struct check_tc_pair *tp, const char *name,
			int verdict)
{
	volatile __u64 *pk = tp->skel->bss->packets;
	uint64_t a0 = pk[0], b0 = pk[1];
	struct check_phase ph;
	int err, app;

	tp->skel->bss->verdict[0] = verdict;
	tp->skel->bss->log_n = 0;
	check_app_take(&tp->app);
	err = check_send_flow(ctx, name, &tp->t, 0, tp->port, CHECK_TC_PAIR_NPKT);
	if (err)
		return err;
	app = check_app_take(&tp->app); /* first: it waits for the app's counters to rest */
	check_phase_begin(&ph, ctx, name, CHECK_TC_PAIR_NPKT);
	check_phase_kv(&ph, "first", tp->skel->bss->log_n ?
		       tp->label[tp->skel->bss->log_slot[0] ? 1 : 0] : "none");
	check_phase_share(&ph, tp->label[0], pk[0] - a0);
	check_phase_share(&ph, tp->label[1], pk[1] - b0);
	check_phase_share(&ph, "app", app);
	check_phase_end(&ph);
	return 0;
}
