/*
 * xdp-single-attach: a device has one XDP program per mode.  Attaching a
 * second one through netlink replaces the first (unless
 * XDP_FLAGS_UPDATE_IF_NOEXIST: EBUSY); XDP_FLAGS_REPLACE with an old
 * program that is not the attached one fails (EEXIST); native and generic
 * cannot be active together (EEXIST); and a program attached through a
 * bpf_link cannot be replaced through netlink (EBUSY), only by a link update.
 * Whichever program the query names is the one the traffic meets.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT  7109
#define NPKT  20
#define SLOT_A CHECK_XDP_SLOT0
#define SLOT_B (CHECK_XDP_SLOT0 + 1)

struct priv {
	struct topo t;
	struct check_pkt *skel;
	int fd_a, fd_b;
	uint32_t id_a, id_b;
	int link_fd;
};

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);
	if (err)
		return err;
	p->skel->bss->verdict[SLOT_A] = XDP_PASS;
	p->skel->bss->verdict[SLOT_B] = XDP_PASS;
	p->fd_a = bpf_program__fd(p->skel->progs.xdp_slot4);
	p->fd_b = bpf_program__fd(p->skel->progs.xdp_slot5);
	p->id_a = prog_id(p->fd_a);
	p->id_b = prog_id(p->fd_b);
	return check_stay_in_ns(ctx, &p->t.dut) ?: check_defer_close(ctx, &p->link_fd);
}

/* "<native> generic=<generic>": which program (A, B, none) is attached. */
static void attached(struct priv *p, char *buf, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	const char *n[2];
	uint32_t id[2];

	if (bpf_xdp_query(p->t.ifindex_dut, 0, &q)) {
		snprintf(buf, len, "query-failed");
		return;
	}
	id[0] = q.drv_prog_id;
	id[1] = q.skb_prog_id;
	for (int i = 0; i < 2; i++)
		n[i] = !id[i] ? "none" : id[i] == p->id_a ? "A" : id[i] == p->id_b ? "B" : "other";
	snprintf(buf, len, "%s generic=%s", n[0], n[1]);
}

/* err of the step, what the query says, and (traffic) which program saw the flow. */
static int step(struct check_ctx *ctx, const char *name, int err, bool traffic)
{
	struct priv *p = ctx->priv;
	volatile __u64 *pk = p->skel->bss->packets;
	uint64_t a0 = pk[SLOT_A], b0 = pk[SLOT_B];
	struct check_phase ph;
	char where[64];

	attached(p, where, sizeof(where));
	check_phase_begin(&ph, ctx, name, NPKT);
	check_phase_kv(&ph, "err", check_errname(err));
	check_phase_kv(&ph, "native", where);
	if (traffic) {
		if (check_send_flow(ctx, name, &p->t, 0, PORT, NPKT))
			return -EIO;
		check_phase_share(&ph, "a", pk[SLOT_A] - a0);
		check_phase_share(&ph, "b", pk[SLOT_B] - b0);
	}
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	LIBBPF_OPTS(bpf_xdp_attach_opts, old);
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	const uint32_t drv = XDP_FLAGS_DRV_MODE;
	int ifx = p->t.ifindex_dut, err;

	err = step(ctx, "first", bpf_xdp_attach(ifx, p->fd_a, drv, NULL), true);
	/* Sabotage: the second attach asks not to replace. */
	if (!err)
		err = step(ctx, "second", bpf_xdp_attach(ifx, p->fd_b, drv |
			   (ctx->sabotage ? XDP_FLAGS_UPDATE_IF_NOEXIST : 0), NULL), true);
	if (!err)
		err = step(ctx, "update_if_noexist",
			   bpf_xdp_attach(ifx, p->fd_a, drv | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL),
			   false);
	old.old_prog_fd = p->fd_a;
	if (!err)
		err = step(ctx, "replace_wrong_old",
			   bpf_xdp_attach(ifx, p->fd_a, drv | XDP_FLAGS_REPLACE, &old), false);
	if (!err)
		err = step(ctx, "generic_too",
			   bpf_xdp_attach(ifx, p->fd_a, XDP_FLAGS_SKB_MODE, NULL), false);
	old.old_prog_fd = p->fd_b;
	if (!err)
		err = step(ctx, "replace_right_old",
			   bpf_xdp_attach(ifx, p->fd_a, drv | XDP_FLAGS_REPLACE, &old), true);
	if (!err)
		err = step(ctx, "detach", bpf_xdp_detach(ifx, drv, NULL), false);
	if (err)
		return err;

	p->link_fd = bpf_link_create(p->fd_b, ifx, BPF_XDP, &lo);
	err = step(ctx, "link", p->link_fd < 0 ? p->link_fd : 0, false);
	if (!err && p->link_fd >= 0) {
		err = step(ctx, "netlink_over_link", bpf_xdp_attach(ifx, p->fd_a, drv, NULL), true);
		if (!err)
			err = step(ctx, "link_update", bpf_link_update(p->link_fd, p->fd_a, NULL),
				   true);
	}
	return err;
}

DEFINE_CHECK(xdp_single_attach,
	.name = "xdp-single-attach",
	.summary = "one XDP program per device and mode: replace, REPLACE's old fd, link lock",
	.features = CHECK_FEAT(FEAT_XDP_NATIVE) | CHECK_FEAT(FEAT_XDP_GENERIC),
	.expected = "first: err=ok native=A generic=none a=all b=0; "
		    "second: err=ok native=B generic=none a=0 b=all; "
		    "update_if_noexist: err=EBUSY native=B generic=none; "
		    "replace_wrong_old: err=EEXIST native=B generic=none; "
		    "generic_too: err=EEXIST native=B generic=none; "
		    "replace_right_old: err=ok native=A generic=none a=all b=0; "
		    "detach: err=ok native=none generic=none; "
		    "link: err=ok native=B generic=none; "
		    "netlink_over_link: err=EBUSY native=B generic=none a=0 b=all; "
		    "link_update: err=ok native=A generic=none a=all b=0",
	.reference = "net/core/dev.c dev_xdp_attach(): UPDATE_IF_NOEXIST EBUSY, REPLACE "
		     "mismatch EEXIST, native+generic EEXIST, active link EBUSY",
	CHECK_STEPS(struct priv),
	.order = 90);
