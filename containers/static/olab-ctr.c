/*
 * olab-ctr: the in-container helper, statically linked and copied into every
 * container rootfs as /bin/olab-ctr.  `olab-ctr probe` tries each kind of eBPF
 * work a containerised app may want to do, with whatever capabilities the
 * container was given, and prints one JSON line:
 *
 *   {"cap_eff": "0x...", "probes": {"load_xdp": {"result": "works"},
 *    "attach_xdp": {"result": "EPERM", "errno": 1, "step": "load"}, ...}}
 *
 * Programs are two-instruction arrays, so no object file is needed.  Every
 * attachment is removed again before the next probe; all of them die with
 * the container's network namespace anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "lib/bpf_compat.h"

#define BPFFS_DIR  "/tmp/olab-bpffs"
#define SOCK_PORT  47001

struct ctx {
	const char *ifname;
	const char *cgroup;
	int ifindex;
	json_t *probes;
};

/* r0 = ret; exit */
static int load_prog(enum bpf_prog_type type, enum bpf_attach_type expected, int ret)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = expected);
	int fd;

	fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &o);
	return fd < 0 ? -errno : fd;
}

static int load_xdp(void)        { return load_prog(BPF_PROG_TYPE_XDP, 0, XDP_PASS); }
static int load_tc(void)         { return load_prog(BPF_PROG_TYPE_SCHED_CLS, 0, TC_ACT_OK); }
static int load_sk_skb(void)
{
	return load_prog(BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT, SK_PASS);
}
static int load_cgroup_skb(void)
{
	return load_prog(BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 1);
}

static const char *errno_name(int err)
{
	static const struct { int e; const char *n; } names[] = {
		{ EPERM, "EPERM" }, { EACCES, "EACCES" }, { ENOENT, "ENOENT" },
		{ EINVAL, "EINVAL" }, { EBUSY, "EBUSY" }, { EEXIST, "EEXIST" },
		{ ENODEV, "ENODEV" }, { ENOTSUP, "EOPNOTSUPP" }, { ENOMEM, "ENOMEM" },
		{ EROFS, "EROFS" }, { ENOTDIR, "ENOTDIR" }, { ENOSYS, "ENOSYS" },
		{ EBADF, "EBADF" }, { ECONNREFUSED, "ECONNREFUSED" }, { ENETUNREACH, "ENETUNREACH" },
		{ EADDRINUSE, "EADDRINUSE" }, { E2BIG, "E2BIG" }, { ENOSPC, "ENOSPC" },
		{ EFAULT, "EFAULT" }, { ETIMEDOUT, "ETIMEDOUT" }, { EAFNOSUPPORT, "EAFNOSUPPORT" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].e == err)
			return names[i].n;
	return NULL;
}

static void record(struct ctx *c, const char *probe, int err, const char *step)
{
	json_t *cell;
	char buf[16];
	const char *name;

	if (!err) {
		cell = json_pack("{s:s}", "result", "works");
	} else {
		if (err < 0)
			err = -err;
		name = errno_name(err);
		if (!name) {
			snprintf(buf, sizeof(buf), "E%d", err);
			name = buf;
		}
		cell = json_pack("{s:s, s:i, s:s, s:s}", "result", name, "errno", err,
				 "step", step, "message", strerror(err));
	}
	json_object_set_new(c->probes, probe, cell);
}

/* A probe that only loads a program. */
static void probe_load(struct ctx *c, const char *probe, int (*load)(void))
{
	int fd = load();

	record(c, probe, fd < 0 ? fd : 0, "load");
	if (fd >= 0)
		close(fd);
}

/* Netlink XDP attach, as `ip link set dev X xdp` does; only if nothing is there. */
static void probe_attach_xdp(struct ctx *c)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	const char *step = "load";
	int fd, err;

	fd = load_xdp();
	if (fd < 0) {
		err = fd;
		goto out;
	}
	step = "attach";
	err = bpf_xdp_attach(c->ifindex, fd, XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (!err) {
		o.old_prog_fd = fd;
		bpf_xdp_attach(c->ifindex, -1, XDP_FLAGS_REPLACE, &o);
	}
out:
	record(c, "attach_xdp", err, step);
	if (fd >= 0)
		close(fd);
}

/* clsact qdisc plus a cls_bpf filter, as `tc filter add ... bpf da` does. */
static void probe_attach_tc(struct ctx *c)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = c->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
	const char *step = "load";
	bool made_qdisc = false;
	int fd, err;

	fd = load_tc();
	if (fd < 0) {
		err = fd;
		goto out;
	}
	step = "create clsact";
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		goto out;
	made_qdisc = !err;
	step = "attach";
	opts.prog_fd = fd;
	err = bpf_tc_attach(&hook, &opts);
	if (!err) {
		opts.prog_fd = opts.flags = opts.prog_id = 0;
		bpf_tc_detach(&hook, &opts);
	}
out:
	if (made_qdisc) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	record(c, "attach_tc", err, step);
	if (fd >= 0)
		close(fd);
}

/* tcx link (6.6+): goes away when the fd closes. */
static void probe_attach_tcx(struct ctx *c)
{
	const char *step = "load";
	int fd, link = -1, err = 0;

	fd = load_tc();
	if (fd < 0) {
		err = fd;
		goto out;
	}
	step = "attach";
	link = tcx_link_create(fd, c->ifindex, BPF_TCX_INGRESS, 0, 0, 0);
	if (link < 0)
		err = link;
out:
	record(c, "attach_tcx", err, step);
	if (link >= 0)
		close(link);
	if (fd >= 0)
		close(fd);
}

/* Listener, client, accepted socket on 127.0.0.1; returns the accepted fd. */
static int tcp_pair(int *lfd, int *cfd, const char **step)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(SOCK_PORT) };
	int one = 1, fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*step = "socket";
	*lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*lfd < 0 || *cfd < 0)
		return -errno;
	setsockopt(*lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*step = "listen";
	if (bind(*lfd, (struct sockaddr *)&a, sizeof(a)) || listen(*lfd, 4))
		return -errno;
	*step = "connect";
	if (connect(*cfd, (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	*step = "accept";
	fd = accept4(*lfd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* A sockmap with the app's (accepted TCP) socket in it, as stream hooks need. */
static void probe_sockmap(struct ctx *c)
{
	const char *step = "map create";
	int map, lfd = -1, cfd = -1, sfd = -1, err = 0;
	__u32 key = 0;

	map = bpf_map_create(BPF_MAP_TYPE_SOCKMAP, NULL, 4, 4, 1, NULL);
	if (map < 0) {
		err = -errno;
		goto out;
	}
	sfd = tcp_pair(&lfd, &cfd, &step);
	if (sfd < 0) {
		err = sfd;
		goto out;
	}
	step = "insert";
	if (bpf_map_update_elem(map, &key, &sfd, BPF_ANY))
		err = -errno;
out:
	record(c, "sockmap", err, step);
	if (sfd >= 0)
		close(sfd);
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	if (map >= 0)
		close(map);
}

/* Mount a bpffs of its own (on the /tmp tmpfs), pin a map and get it back. */
static void probe_bpffs(struct ctx *c)
{
	const char *step = "mkdir";
	bool mounted = false;
	int map = -1, got = -1, err = 0;

	if (mkdir(BPFFS_DIR, 0700) && errno != EEXIST) {
		err = -errno;
		goto out;
	}
	step = "mount";
	if (mount("bpf", BPFFS_DIR, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700")) {
		err = -errno;
		goto out;
	}
	mounted = true;
	step = "map create";
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	if (map < 0) {
		err = -errno;
		goto out;
	}
	step = "pin";
	if (bpf_obj_pin(map, BPFFS_DIR "/m")) {
		err = -errno;
		goto out;
	}
	step = "get";
	got = bpf_obj_get(BPFFS_DIR "/m");
	if (got < 0)
		err = -errno;
	unlink(BPFFS_DIR "/m");
out:
	record(c, "bpffs", err, step);
	if (got >= 0)
		close(got);
	if (map >= 0)
		close(map);
	if (mounted)
		umount2(BPFFS_DIR, MNT_DETACH);
	rmdir(BPFFS_DIR);
}

/* BPF_PROG_GET_FD_BY_ID on a program it loaded itself (if it can load any),
 * else on the first id the kernel lists. */
static void probe_prog_get_fd_by_id(struct ctx *c)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id = 0;
	const char *step = "load";
	int fd, got = -1, err = 0;

	fd = load_xdp();
	if (fd >= 0) {
		step = "info";
		if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
			err = -errno;
			goto out;
		}
		id = info.id;
	} else {
		step = "get next id";
		if (bpf_prog_get_next_id(0, &id)) {
			err = -errno;
			goto out;
		}
	}
	step = "get fd by id";
	got = bpf_prog_get_fd_by_id(id);
	if (got < 0)
		err = -errno;
out:
	record(c, "prog_get_fd_by_id", err, step);
	if (got >= 0)
		close(got);
	if (fd >= 0)
		close(fd);
}

/* cgroup_skb on the container's own cgroup v2 directory. */
static void probe_cgroup_attach(struct ctx *c)
{
	const char *step = "load";
	int fd, cg = -1, link = -1, err = 0;

	fd = load_cgroup_skb();
	if (fd < 0) {
		err = fd;
		goto out;
	}
	step = "open cgroup";
	cg = open(c->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		err = -errno;
		goto out;
	}
	/* A link, not BPF_PROG_ATTACH: it goes away with its fd, whatever happens. */
	step = "attach";
	link = bpf_link_create(fd, cg, BPF_CGROUP_INET_INGRESS, NULL);
	if (link < 0)
		err = -errno;
out:
	record(c, "cgroup_attach", err, step);
	if (link >= 0)
		close(link);
	if (cg >= 0)
		close(cg);
	if (fd >= 0)
		close(fd);
}

/*
 * Where cgroup2 is mounted here (the container's own cgroup v2 directory):
 * lib/'s env_cgroup2_mount() in small, as olab-ctr links nothing of lib/.
 */
static const char *cgroup2_mount(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "re");
	struct mntent *m;
	const char *found = NULL;

	if (!f)
		return NULL;
	while (!found && (m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2") &&
		    (size_t)snprintf(buf, len, "%s", m->mnt_dir) < len)
			found = buf;
	endmntent(f);
	return found;
}

static void cap_eff(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "CapEff:", 7)) {
			snprintf(buf, len, "0x%s", line + 7 + strspn(line + 7, " \t"));
			buf[strcspn(buf, "\n")] = '\0';
		}
	}
	fclose(f);
}

static int do_probe(int argc, char **argv)
{
	struct ctx c = { 0 };
	char caps[40], cgroup[256];
	json_t *out;

	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ifname"))
			c.ifname = argv[i + 1];
		else if (!strcmp(argv[i], "--cgroup"))
			c.cgroup = argv[i + 1];
	}
	/* The container's own cgroup v2 (containers/runc.c puts it where the host has it). */
	if (!c.cgroup)
		c.cgroup = cgroup2_mount(cgroup, sizeof(cgroup)) ?: "/sys/fs/cgroup";
	if (!c.ifname || !(c.ifindex = (int)if_nametoindex(c.ifname))) {
		fprintf(stderr, "olab-ctr: no interface '%s' here\n", c.ifname ? c.ifname : "");
		return 2;
	}
	libbpf_set_print(NULL);
	c.probes = json_object();
	probe_load(&c, "load_xdp", load_xdp);
	probe_load(&c, "load_tc", load_tc);
	probe_load(&c, "load_sk_skb", load_sk_skb);
	probe_load(&c, "load_cgroup_skb", load_cgroup_skb);
	probe_attach_xdp(&c);
	probe_attach_tc(&c);
	probe_attach_tcx(&c);
	probe_sockmap(&c);
	probe_bpffs(&c);
	probe_prog_get_fd_by_id(&c);
	probe_cgroup_attach(&c);
	cap_eff(caps, sizeof(caps));
	out = json_pack("{s:s, s:o}", "cap_eff", caps, "probes", c.probes);
	if (!out)
		return 1;
	json_dumpf(out, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(out);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "probe"))
		return do_probe(argc, argv);
	fprintf(stderr, "usage: olab-ctr probe --ifname IF [--cgroup DIR]\n");
	return 2;
}
