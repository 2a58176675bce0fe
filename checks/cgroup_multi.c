/*
 * cgroup-multi: cgroup_skb egress programs attached with BPF_F_ALLOW_MULTI
 * along a cgroup path, as cgroup links (BPF_LINK_CREATE, always multi): a
 * link goes with its fd, so nothing stays on a cgroup after the run.  The
 * effective list runs the child's programs before the parent's, every
 * program runs whatever the others decided, and one deny is enough (the send
 * fails with EPERM).  Since 6.16 cgroups take the mprog flags too:
 * BPF_F_BEFORE/AFTER place a program relative to another.
 * The app's socket is created by a process inside the child cgroup (a
 * socket belongs to its creator's cgroup for life).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "checks/check.h"
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/link.h"
#include "netns/proc.h"
#include "check_cgroup.skel.h"

#define PORT 7112

static const char *const slot_names[4] = { "P", "C1", "C2", "C3" };

struct priv {
	struct netns ns;
	struct check_cgroup *skel;
	char parent[512], child[600];
	int parent_fd, child_fd;
	int sock;                 /* created inside the child cgroup */
	int sink;
	bool mprog;               /* kernel has BEFORE/AFTER for cgroups */
	int links[4];             /* each slot's cgroup link, -1 */
};

static void rmdir_cgroup(const char *path, long num)
{
	if (rmdir(path) && errno != ENOENT)
		pr_warn("check: cannot remove cgroup %s: %s\n", path, strerror(errno));
}

static void skel_undo(void *skel, void *unused)
{
	check_cgroup__destroy(skel);
}

static int make_cgroup(const char *path)
{
	int h;

	if (mkdir(path, 0755))
		return -errno;
	h = manifest_add_path(MANIFEST_CGROUP, path);
	if (!h)
		h = cleanup_add(rmdir_cgroup, path, 0, "cgroup");
	if (h < 0) {
		rmdir(path);
		return h;
	}
	return 0;
}

struct spawn_arg {
	const char *procs;        /* the child cgroup's cgroup.procs */
	int chan;                 /* unix socket to pass the fd back on */
};

/* In a forked process inside ns: join the cgroup, make the socket, pass it back. */
static int socket_in_cgroup(void *arg)
{
	struct spawn_arg *a = arg;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "s", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (write_file(a->procs, "0"))
		return 1;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 2;
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(a->chan, &msg, 0) == 1 ? 0 : 3;
}

static int get_socket(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	char procs[700], cbuf[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct spawn_arg a = { .procs = procs };
	struct pollfd pf;
	struct proc pr;
	struct cmsghdr *cm;
	int sv[2], err, st;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", p->child);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return check_error(ctx, -errno, "socketpair: %s", strerror(errno));
	a.chan = sv[1];
	err = proc_spawn(&pr, &p->ns, -1, socket_in_cgroup, &a);
	if (err) {
		check_error(ctx, err, "spawn: %s", strerror(-err));
		goto out;
	}
	pf = (struct pollfd){ .fd = sv[0], .events = POLLIN };
	if (poll(&pf, 1, 3000) != 1 || recvmsg(sv[0], &msg, 0) != 1) {
		st = proc_wait(&pr, 1000);
		err = check_error(ctx, -EIO, "the process in the cgroup made no socket (exit %d)", st);
		goto out;
	}
	proc_wait(&pr, 1000);
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		err = check_error(ctx, -EIO, "no socket passed back");
		goto out;
	}
	memcpy(&p->sock, CMSG_DATA(cm), sizeof(int));
out:
	close(sv[0]);
	close(sv[1]);
	return err;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	char root[256], name[64];
	int major = 0, minor = 0, err;

	err = check_defer_close(ctx, &p->parent_fd) ?: check_defer_close(ctx, &p->child_fd) ?:
	      check_defer_close(ctx, &p->sock) ?: check_defer_close(ctx, &p->sink);
	for (int i = 0; i < 4; i++)
		err = err ?: check_defer_close(ctx, &p->links[i]);
	if (err)
		return err;
	sscanf(kernel_release(), "%d.%d", &major, &minor);
	p->mprog = major > 6 || (major == 6 && minor >= 16);
	if (!p->mprog) {
		/* Older kernels: no relative placement for cgroups; drop those phases. */
		char *cut = strstr(ctx->expected, "; before:");

		if (cut)
			*cut = '\0';
	}
	if (env_cgroup2_mount(root, sizeof(root))) {
		snprintf(ctx->skip, sizeof(ctx->skip), "no cgroup2 mount");
		return 0;
	}
	err = run_name(name, sizeof(name), "-cgm");
	if (!err && snprintf(p->parent, sizeof(p->parent), "%s/%s", root, name) >=
	    (int)sizeof(p->parent))
		err = -ENAMETOOLONG;
	if (!err) {
		snprintf(p->child, sizeof(p->child), "%s/app", p->parent);
		err = make_cgroup(p->parent);
	}
	if (!err)
		err = make_cgroup(p->child);
	if (err)
		return check_error(ctx, err, "cgroups under %s: %s", root, strerror(-err));
	p->parent_fd = open(p->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	p->child_fd = open(p->child, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->parent_fd < 0 || p->child_fd < 0)
		return check_error(ctx, -errno, "open the cgroups: %s", strerror(errno));

	err = check_lo_ns(ctx, "cg", &p->ns);
	if (err)
		return err;
	p->sink = check_udp_sink(&p->ns, PORT);
	if (p->sink < 0)
		return check_error(ctx, p->sink, "receiver: %s", strerror(-p->sink));
	p->skel = check_cgroup__open_and_load();
	if (!p->skel)
		return check_error(ctx, -errno, "load check_cgroup: %s", strerror(errno));
	err = check_defer(ctx, skel_undo, p->skel, NULL);
	if (err)
		return err;
	p->skel->bss->flow_port = PORT;
	for (int i = 0; i < 4; i++)
		p->skel->bss->allow[i] = 1;
	return get_socket(ctx);
}

static int slot_fd(struct priv *p, int slot)
{
	struct bpf_program *progs[4] = {
		p->skel->progs.cg_slot0, p->skel->progs.cg_slot1,
		p->skel->progs.cg_slot2, p->skel->progs.cg_slot3,
	};

	return bpf_program__fd(progs[slot]);
}

/*
 * BPF_LINK_CREATE with BPF_F_BEFORE/AFTER relative to another slot's link
 * (6.16+).  libbpf 1.1.2 has no field for that, so the attr is built here:
 * link_create.cgroup has tcx's layout (relative_fd, expected_revision).
 */
static int cgroup_link_relative(int cg_fd, int prog_fd, uint32_t flags, int relative_link)
{
	struct olab_link_create_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)prog_fd;
	a.target_fd = (uint32_t)cg_fd;
	a.attach_type = BPF_CGROUP_INET_EGRESS;
	a.flags = flags | BPF_F_LINK;
	a.tcx.relative_fd = (uint32_t)relative_link;
	return olab_sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
}

/* 0 or -errno; the link is the slot's until teardown. */
static int attach(struct priv *p, int slot, int cg_fd, uint32_t flags, int relative_slot)
{
	int fd;

	if (relative_slot >= 0)
		fd = cgroup_link_relative(cg_fd, slot_fd(p, slot), flags, p->links[relative_slot]);
	else
		fd = bpf_link_create(slot_fd(p, slot), cg_fd, BPF_CGROUP_INET_EGRESS, NULL);
	if (fd < 0)
		return fd;
	p->links[slot] = fd;
	return 0;
}

/* One datagram from the cgroup's socket: the send result and who ran. */
static void exchange(struct check_ctx *ctx, const char *name, int attach_err, bool show_err)
{
	struct priv *p = ctx->priv;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char details[256] = "", ran[64] = "";
	size_t n = 0;
	int err = 0;

	p->skel->bss->log_n = 0;
	if (sendto(p->sock, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) != 1)
		err = -errno;
	check_settle();
	check_udp_drain(p->sink);
	for (uint32_t i = 0; i < p->skel->bss->log_n && i < CHECK_LOG_MAX; i++)
		n += snprintf(ran + n, sizeof(ran) - n, "%s%s", i ? "," : "",
			      slot_names[p->skel->bss->log_slot[i] & 3]);
	if (show_err)
		check_kv(details, sizeof(details), "attach", "%s", check_errname(attach_err));
	check_kv(details, sizeof(details), "run", "%s", n ? ran : "none");
	check_kv(details, sizeof(details), "send", "%s", check_errname(err));
	check_counter(ctx, name, "programs_run", p->skel->bss->log_n);
	check_observe(ctx, name, "%s", details);
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	/* Sabotage: the child's program lands on the parent instead. */
	err = attach(p, 0, p->parent_fd, 0, -1);
	if (!err)
		err = attach(p, 1, ctx->sabotage ? p->parent_fd : p->child_fd, 0, -1);
	if (err)
		return check_error(ctx, err, "cgroup link (BPF_F_ALLOW_MULTI): %s", strerror(-err));
	exchange(ctx, "multi", 0, false);
	p->skel->bss->allow[1] = 0;
	exchange(ctx, "child_denies", 0, false);
	p->skel->bss->allow[1] = 1;
	p->skel->bss->allow[0] = 0;
	exchange(ctx, "parent_denies", 0, false);
	p->skel->bss->allow[0] = 1;
	if (!p->mprog)
		return 0;
	exchange(ctx, "before", attach(p, 2, p->child_fd, BPF_F_BEFORE, 1), true);
	exchange(ctx, "after", attach(p, 3, p->child_fd, BPF_F_AFTER, 1), true);
	return 0;
}

DEFINE_CHECK(cgroup_multi,
	.name = "cgroup-multi",
	.summary = "cgroup_skb ALLOW_MULTI: child before parent, all run, any deny wins",
	.features = CHECK_FEAT(FEAT_CGROUP_SKB),
	.expected = "multi: run=C1,P send=ok; child_denies: run=C1,P send=EPERM; "
		    "parent_denies: run=C1,P send=EPERM; "
		    "before: attach=ok run=C2,C1,P send=ok; after: attach=ok run=C2,C1,C3,P send=ok",
	.reference = "kernel/bpf/cgroup.c compute_effective_progs() (descendants first), "
		     "bpf_prog_run_array_cg() (all run, any 0 denies); mprog flags since 6.16",
	.runc_skip = "runc runtime: the app's socket must be made by a process in the check's own "
		     "parent/child cgroups; runc puts a container in a cgroup of its own",
	CHECK_STEPS(struct priv),
	.order = 120);
