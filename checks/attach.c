/*
 * Attaching the checks' programs inside a run's namespace: XDP, cls_bpf on
 * clsact, tcx links, and BPF_PROG_ATTACH with the 6.6+ fields.
 */
#include <errno.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "checks/check.h"
#include "checks/kit.h"
#include "lib/bpf_compat.h"

/* ---- attachments ---- */

int check_xdp_set(const struct netns *ns, int ifindex, int prog_fd, uint32_t flags)
{
	struct nstoken *tok;
	int err;

	tok = check_enter_ns(ns);
	if (!tok)
		return -errno;
	err = prog_fd >= 0 ? bpf_xdp_attach(ifindex, prog_fd, flags, NULL)
			   : bpf_xdp_detach(ifindex, flags, NULL);
	netns_leave(tok);
	return err;
}

int check_tc_add(const struct netns *ns, int ifindex, bool egress, int prog_fd, uint32_t prio)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd, .handle = 1, .priority = prio);
	struct nstoken *tok;
	int err;

	tok = check_enter_ns(ns);
	if (!tok)
		return -errno;
	err = bpf_tc_hook_create(&hook);
	if (!err || err == -EEXIST)
		err = bpf_tc_attach(&hook, &o);
	netns_leave(tok);
	return err;
}

int check_tc_del(const struct netns *ns, int ifindex, bool egress, uint32_t prio)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = prio);
	struct nstoken *tok;
	int err;

	tok = check_enter_ns(ns);
	if (!tok)
		return -errno;
	err = bpf_tc_detach(&hook, &o);
	netns_leave(tok);
	return err;
}

int check_tcx_link(const struct netns *ns, int ifindex, bool egress, int prog_fd, uint32_t flags,
		   uint32_t relative, uint64_t expected_revision)
{
	struct nstoken *tok;
	int fd;

	tok = check_enter_ns(ns);
	if (!tok)
		return -errno;
	fd = tcx_link_create(prog_fd, ifindex, egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, flags,
			     relative, expected_revision);
	netns_leave(tok);
	return fd;
}

/* BPF_PROG_ATTACH/DETACH's attr as of 6.6. */
struct olab_prog_attach_attr {
	uint32_t target_fd;
	uint32_t attach_bpf_fd;
	uint32_t attach_type;
	uint32_t attach_flags;
	uint32_t replace_bpf_fd;
	uint32_t relative_fd;
	uint64_t expected_revision;
};

int check_prog_attach(int target, int prog_fd, uint32_t attach_type, uint32_t flags,
		      int replace_fd, int relative_fd, uint64_t expected_revision)
{
	struct olab_prog_attach_attr a = {
		.target_fd = target, .attach_bpf_fd = prog_fd, .attach_type = attach_type,
		.attach_flags = flags, .replace_bpf_fd = replace_fd, .relative_fd = relative_fd,
		.expected_revision = expected_revision,
	};

	return olab_sys_bpf(BPF_PROG_ATTACH, &a, sizeof(a));
}

int check_tc_attach(struct check_tc_att *a, int prog_fd)
{
	int fd;

	if (a->on)
		return -EBUSY;
	if (a->mode == CHECK_TCX) {
		fd = check_tcx_link(a->ns, a->ifindex, a->egress, prog_fd, 0, 0, 0);
		if (fd < 0)
			return fd;
		a->link_fd = fd;
	} else {
		fd = check_tc_add(a->ns, a->ifindex, a->egress, prog_fd, a->prio ? a->prio : 1);
		if (fd)
			return fd;
	}
	a->on = true;
	return 0;
}

void check_tc_detach(struct check_tc_att *a)
{
	if (!a->on)
		return;
	if (a->mode == CHECK_TCX)
		close(a->link_fd);
	else
		check_tc_del(a->ns, a->ifindex, a->egress, a->prio ? a->prio : 1);
	a->link_fd = -1;
	a->on = false;
}

static void detach_undo(void *att, void *unused)
{
	check_tc_detach(att);
}

int check_defer_detach(struct check_ctx *ctx, struct check_tc_att *a)
{
	return check_defer(ctx, detach_undo, a, NULL);
}

const char *check_tc_mode_name(enum check_tc_mode m)
{
	return m == CHECK_TCX ? "tcx" : "clsact";
}
