/*
 * tcx-order: the multi-program tcx hook (bpf_mprog).  BPF_F_BEFORE/AFTER
 * place a program relative to another (or first/last without one), link
 * update and BPF_F_REPLACE swap one in place; the query returns exactly
 * that order and the programs run in it; the first verdict other than
 * TCX_NEXT ends the chain; a stale expected_revision is ESTALE, attaching a
 * program twice EEXIST, and the hook holds a fixed number of programs
 * (bpf_mprog_max(): 63 since 6.6) before ERANGE.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "checks/check.h"
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT       7106
#define MAX_TRY    128          /* bound on the limit probe */

#ifndef BPF_F_REPLACE
#define BPF_F_REPLACE (1U << 2)
#endif

struct priv {
	struct topo t;
	struct check_pkt *skel;
	int links[4 + MAX_TRY];
	int nlinks;
	int raw[MAX_TRY];          /* distinct 2-instruction programs */
	int nraw;
	uint32_t ids[8];           /* prog id by slot, for naming */
};

static const char slot_letter[8] = { 'A', 'B', 'C', 'D', '?', '?', 'E', 'F' };

static int prog_attach(int ifindex, int prog_fd, uint32_t flags, int replace_fd, int relative_fd)
{
	return check_prog_attach(ifindex, prog_fd, BPF_TCX_INGRESS, flags, replace_fd, relative_fd,
				 0);
}

static int slot_fd(struct priv *p, int slot)
{
	struct bpf_program *progs[8] = {
		p->skel->progs.tc_slot0, p->skel->progs.tc_slot1, p->skel->progs.tc_slot2,
		p->skel->progs.tc_slot3, NULL, NULL, p->skel->progs.tc_slot6, p->skel->progs.tc_slot7,
	};

	return progs[slot] ? bpf_program__fd(progs[slot]) : -1;
}

static int add_link(struct priv *p, int fd)
{
	if (fd >= 0 && p->nlinks < (int)ARRAY_SIZE(p->links))
		p->links[p->nlinks++] = fd;
	return fd;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err = check_pkt_testbed(ctx, &p->t, &p->skel, PORT);

	if (err)
		return err;
	for (int s = 0; s < 8; s++) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		p->skel->bss->verdict[s] = CHECK_TC_NEXT;
		if (slot_fd(p, s) >= 0 && !bpf_obj_get_info_by_fd(slot_fd(p, s), &info, &len))
			p->ids[s] = info.id;
	}
	return check_stay_in_ns(ctx, &p->t.dut); /* run() works inside dut */
}

/* "D,B,A,C" from the hook's query. */
static int query_order(struct priv *p, char *buf, size_t len, uint64_t *revision)
{
	uint32_t ids[MAX_TRY + 8], cnt = ARRAY_SIZE(ids);
	size_t n = 0;
	int err;

	buf[0] = '\0';
	err = tcx_query(p->t.ifindex_dut, BPF_TCX_INGRESS, ids, NULL, &cnt, revision);
	if (err)
		return err;
	for (uint32_t i = 0; i < cnt && n + 3 < len; i++) {
		char c = '?';

		for (int s = 0; s < 8; s++)
			if (p->ids[s] && p->ids[s] == ids[i])
				c = slot_letter[s];
		n += snprintf(buf + n, len - n, "%s%c", i ? "," : "", c);
	}
	return 0;
}

/* Send one packet; the programs that ran, in order. */
static int run_order(struct check_ctx *ctx, char *buf, size_t len)
{
	struct priv *p = ctx->priv;
	size_t n = 0;
	uint32_t cnt;

	buf[0] = '\0';
	p->skel->bss->log_n = 0;
	if (check_udp_send(&p->t.gen, p->t.ip4_dut, 0, PORT, 1, 32) != 1)
		return -EIO;
	check_settle();
	cnt = p->skel->bss->log_n;
	for (uint32_t i = 0; i < cnt && i < CHECK_LOG_MAX && n + 3 < len; i++)
		n += snprintf(buf + n, len - n, "%s%c", i ? "," : "",
			      slot_letter[p->skel->bss->log_slot[i] & 7]);
	if (!cnt)
		snprintf(buf, len, "none");
	return 0;
}

static int observe_order(struct check_ctx *ctx, const char *name)
{
	char order[256], ran[256];
	int err;

	err = query_order(ctx->priv, order, sizeof(order), NULL);
	if (!err)
		err = run_order(ctx, ran, sizeof(ran));
	if (err)
		return check_error(ctx, err, "%s: query/traffic: %s", name, strerror(-err));
	check_observe(ctx, name, "order=%s run=%s", order, ran);
	return 0;
}

static int raw_prog(struct priv *p)
{
	/* r0 = TCX_NEXT; exit */
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = -1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	if (p->nraw >= MAX_TRY)
		return -ENOSPC;
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "olab_next", "GPL", insns, 2, NULL);
	if (fd >= 0)
		p->raw[p->nraw++] = fd;
	return fd;
}

/* A; B before A (sabotage: after); C after A; D before everything. */
static int attach_abcd(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int ifx = p->t.ifindex_dut, fd;

	fd = add_link(p, tcx_link_create(slot_fd(p, 0), ifx, BPF_TCX_INGRESS, 0, 0, 0));
	if (fd >= 0)
		fd = add_link(p, tcx_link_create(slot_fd(p, 1), ifx, BPF_TCX_INGRESS,
						 ctx->sabotage ? BPF_F_AFTER : BPF_F_BEFORE,
						 slot_fd(p, 0), 0));
	if (fd >= 0)
		fd = add_link(p, tcx_link_create(slot_fd(p, 2), ifx, BPF_TCX_INGRESS, BPF_F_AFTER,
						 slot_fd(p, 0), 0));
	if (fd >= 0)
		fd = add_link(p, tcx_link_create(slot_fd(p, 3), ifx, BPF_TCX_INGRESS, BPF_F_BEFORE,
						 0, 0));
	return fd < 0 ? check_error(ctx, fd, "attach A-D: %s", strerror(-fd)) : 0;
}

/* The order phases: attach, a PASS verdict, link update, prog replace. */
static int run_order_phases(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int ifx = p->t.ifindex_dut;
	int err = attach_abcd(ctx);

	if (!err)
		err = observe_order(ctx, "before_after");
	if (err)
		return err;
	/* B says PASS: whatever follows B does not run. */
	p->skel->bss->verdict[1] = CHECK_TC_OK;
	err = observe_order(ctx, "b_returns_pass");
	p->skel->bss->verdict[1] = CHECK_TC_NEXT;
	if (err)
		return err;
	/* A's link now carries E, in A's place. */
	err = bpf_link_update(p->links[0], slot_fd(p, 6), NULL);
	if (err)
		return check_error(ctx, err, "link update A -> E: %s", strerror(-err));
	err = observe_order(ctx, "link_update");
	if (err)
		return err;
	/* Without links: F after C, then BPF_F_REPLACE puts A where F was. */
	err = prog_attach(ifx, slot_fd(p, 7), BPF_F_AFTER, 0, slot_fd(p, 2));
	if (!err)
		err = prog_attach(ifx, slot_fd(p, 0), BPF_F_REPLACE, slot_fd(p, 7), 0);
	if (err)
		return check_error(ctx, err, "prog attach F / replace F by A: %s", strerror(-err));
	return observe_order(ctx, "prog_replace");
}

/* expected_revision: stale, then current; then the same program twice. */
static int run_revisions(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int ifx = p->t.ifindex_dut, fd, err;
	uint64_t rev;
	char order[256];

	err = query_order(p, order, sizeof(order), &rev);
	fd = raw_prog(p);
	if (err || fd < 0)
		return check_error(ctx, err ?: fd, "revision / raw program: %s",
				   strerror(-(err ?: fd)));
	err = add_link(p, tcx_link_create(fd, ifx, BPF_TCX_INGRESS, 0, 0, rev - 1));
	check_observe(ctx, "stale_revision", "err=%s", check_errname(err < 0 ? err : 0));
	err = add_link(p, tcx_link_create(fd, ifx, BPF_TCX_INGRESS, 0, 0, rev));
	check_observe(ctx, "current_revision", "err=%s", check_errname(err < 0 ? err : 0));
	err = add_link(p, tcx_link_create(slot_fd(p, 1), ifx, BPF_TCX_INGRESS, 0, 0, 0));
	check_observe(ctx, "duplicate", "err=%s", check_errname(err < 0 ? err : 0));
	return 0;
}

/* Fill the hook with distinct programs until the kernel says no. */
static int run_limit(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int ifx = p->t.ifindex_dut, fd, err, total, next_err = 0;
	uint32_t cnt = 0;

	for (int i = 0; i < MAX_TRY && check_time_left(ctx); i++) {
		fd = raw_prog(p);
		if (fd < 0)
			return check_error(ctx, fd, "load program %d: %s", i, strerror(-fd));
		err = add_link(p, tcx_link_create(fd, ifx, BPF_TCX_INGRESS, 0, 0, 0));
		if (err < 0) {
			next_err = err;
			break;
		}
	}
	err = tcx_query(ifx, BPF_TCX_INGRESS, NULL, NULL, &cnt, NULL);
	total = err ? -1 : (int)cnt;
	check_counter(ctx, "limit", "programs", total);
	check_observe(ctx, "limit", "programs=%d next=%s", total, check_errname(next_err));
	return 0;
}

static int run(struct check_ctx *ctx)
{
	return run_order_phases(ctx) ?: run_revisions(ctx) ?: run_limit(ctx);
}

static void teardown(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	check_close_all(p->links, p->nlinks);
	check_close_all(p->raw, p->nraw);
}

DEFINE_CHECK(tcx_order,
	.name = "tcx-order",
	.summary = "tcx: BEFORE/AFTER/REPLACE order is queried and run, first non-NEXT verdict wins",
	.features = CHECK_FEAT(FEAT_TCX),
	.expected = "before_after: order=D,B,A,C run=D,B,A,C; "
		    "b_returns_pass: order=D,B,A,C run=D,B; "
		    "link_update: order=D,B,E,C run=D,B,E,C; "
		    "prog_replace: order=D,B,E,C,A run=D,B,E,C,A; "
		    "stale_revision: err=ESTALE; current_revision: err=ok; duplicate: err=EEXIST; "
		    "limit: programs=63 next=ERANGE",
	.reference = "kernel/bpf/mprog.c (bpf_mprog_attach, bpf_mprog_max()), "
		     "include/net/tcx.h tcx_run()",
	CHECK_STEPS(struct priv),
	.teardown = teardown,
	.order = 60);
