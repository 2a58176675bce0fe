/*
 * Container lifecycle through the runc command line: create, start, state,
 * kill, delete.  Every runc call has a time limit; every container's removal
 * is registered with the run's cleanup before `runc create`.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "containers/bundle.h"
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"

#define STATE_POLL_NS   (20 * 1000000ull)
#define START_TIMEOUT_MS CTR_RUNC_TIMEOUT_MS

/* ---- running runc --------------------------------------------------- */

/* ctr_runc with its output captured; msg gets why it failed. */
static int runc_simple(const char *root, int timeout_ms, char *msg, size_t msg_len,
		       const char *const *args)
{
	char out[2048], err[2048];
	struct runc_io io = { .out_fd = -1, .err_fd = -1, .out = out, .out_len = sizeof(out),
			      .err = err, .err_len = sizeof(err) };
	int ret = ctr_runc(root, &io, timeout_ms, args);

	if (msg && msg_len) {
		msg[0] = '\0';
		if (ret == -ETIMEDOUT)
			snprintf(msg, msg_len, "runc %s timed out after %d ms", args[0], timeout_ms);
		else if (ret)
			ctr_runc_msg(err[0] ? err : out, msg, msg_len);
	}
	return ret;
}

/* ---- paths ---------------------------------------------------------- */

static int ctr_root(const char *run_dir, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/runc", run_dir);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int self_root(char *buf, size_t len)
{
	char dir[256];
	int err = ctr_run_dir(dir, sizeof(dir));

	return err ? err : ctr_root(dir, buf, len);
}

/* This process's cgroup v2 path ("/" or "/a/b"), from /proc/self/cgroup. */
static int self_cgroup2(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		err = snprintf(buf, len, "%s", line + 3) < (int)len ? 0 : -ENAMETOOLONG;
		break;
	}
	fclose(f);
	return err;
}

/*
 * Where runc will put the container's cgroup v2 directory (its cgroupsPath
 * is relative: under our own cgroup), and where the container sees it.
 */
static void cgroup2_paths(struct ctr *c)
{
	char mnt[256], self[256];

	c->cgroup2[0] = c->ctr_cgroup2[0] = '\0';
	if (env_cgroup2_mount(mnt, sizeof(mnt)) || self_cgroup2(self, sizeof(self)))
		return;
	if (snprintf(c->cgroup2, sizeof(c->cgroup2), "%s%s/%s", mnt,
		     strcmp(self, "/") ? self : "", c->id) >= (int)sizeof(c->cgroup2)) {
		c->cgroup2[0] = '\0';
		return;
	}
	/*
	 * Inside, at the host's mount point: runc mounts the container's own
	 * cgroup at CTR_CGROUPFS_DIR (v2 there on unified hosts, v1 only on
	 * hybrid ones); anywhere else, write_config binds it (read-only).
	 */
	snprintf(c->ctr_cgroup2, sizeof(c->ctr_cgroup2), "%s", mnt);
}

/* ---- cleanup -------------------------------------------------------- */

/* name: the bundle directory, RUN_STATE_DIR/<prefix>-ctr/<name>. */
static void ctr_cleanup_cb(const char *name, long num)
{
	char run_dir[256], id[96];
	const char *slash = strrchr(name, '/');
	const char *rd_base;

	if (!slash || (size_t)(slash - name) >= sizeof(run_dir))
		return;
	snprintf(run_dir, sizeof(run_dir), "%.*s", (int)(slash - name), name);
	rd_base = strrchr(run_dir, '/');
	if (snprintf(id, sizeof(id), "%s-%s", rd_base ? rd_base + 1 : run_dir, slash + 1) <
	    (int)sizeof(id))
		ctr_teardown(run_dir, id);
}

/* ---- lifecycle ------------------------------------------------------ */

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n && n <= CTR_NAME_MAX && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
	       name[0] != '-' && strcmp(name, "rootfs") && strcmp(name, "runc");
}

static int write_config(const struct ctr_opts *o, struct ctr *c, const char *run_dir)
{
	char rootfs[300], netns_path[128], path[320];
	json_t *caps = ctr_caps_oci(o->caps), *argv = json_array(), *cfg = NULL;
	struct bundle_params p = {
		.id = c->id, .hostname = o->name, .rootfs = rootfs, .netns_path = netns_path,
		.share_src = c->share, .share_dst = CTR_SHARE_DIR,
		.cgroup2_src = c->cgroup2[0] && strcmp(c->ctr_cgroup2, CTR_CGROUPFS_DIR) ?
			       c->cgroup2 : NULL,
		.cgroup2_dst = c->ctr_cgroup2, .caps = caps, .argv = argv, .binds = o->binds,
		.tmpfs = o->tmpfs,
	};
	int err = -ENOMEM;

	if (o->rootfs)
		snprintf(rootfs, sizeof(rootfs), "%s", o->rootfs);
	else
		snprintf(rootfs, sizeof(rootfs), "%s/rootfs", run_dir);
	snprintf(netns_path, sizeof(netns_path), NETNS_RUN_DIR "/%s", o->ns->name);
	for (int i = 0; argv && o->argv[i] && i < 64; i++)
		json_array_append_new(argv, json_string(o->argv[i]));
	if (caps && argv)
		cfg = bundle_config(&p);
	if (cfg) {
		char *text = json_dumps(cfg, JSON_INDENT(1));

		/* Readable by root (runc) only, whatever the umask. */
		snprintf(path, sizeof(path), "%s/config.json", c->bundle);
		err = text ? write_path_atomic(path, text, strlen(text), 0600) : -ENOMEM;
		free(text);
	}
	json_decref(cfg);
	json_decref(caps);
	json_decref(argv);
	return err;
}

static int open_log(const struct ctr *c, const char *which)
{
	char path[320];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->bundle, which);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

/* `runc state`: status into buf, pid into *pid (either may be NULL). */
static int state_of(const char *root, const char *id, char *buf, size_t len, pid_t *pid)
{
	char out[4096], err[1024];
	struct runc_io io = { .out_fd = -1, .err_fd = -1, .out = out, .out_len = sizeof(out),
			      .err = err, .err_len = sizeof(err) };
	const char *args[] = { "state", id, NULL };
	json_t *j;
	int ret;

	ret = ctr_runc(root, &io, 10000, args);
	if (ret)
		return ret < 0 ? ret : -ENOENT;
	j = json_loads(out, 0, NULL);
	if (!j)
		return -EBADMSG;
	if (buf)
		snprintf(buf, len, "%s", json_string_value(json_object_get(j, "status")) ?: "");
	if (pid)
		*pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	json_decref(j);
	return 0;
}

/* One stderr line per container started with a capability that reaches the host. */
static void warn_dangerous_caps(const struct ctr *c, uint64_t caps)
{
	char list[128];

	if (!ctr_caps_dangerous(caps))
		return;
	ctr_caps_format(ctr_caps_dangerous(caps), list, sizeof(list));
	pr_warn("containers: warning: %s has %s, which reaches past its namespaces to the host\n",
		c->id, list);
}

/* A new container's bundle directory, its removal registered. */
static int bundle_new(const struct ctr_opts *o, const char *run_dir, struct ctr **out)
{
	struct ctr *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->cleanup = -1;
	snprintf(c->id, sizeof(c->id), "%s" CTR_SUFFIX "-%s", run_prefix(), o->name);
	if (snprintf(c->bundle, sizeof(c->bundle), "%s/%s", run_dir, o->name) >=
	    (int)sizeof(c->bundle)) {
		free(c);
		ctr_set_err("bundle path too long");
		return -ENAMETOOLONG;
	}
	snprintf(c->share, sizeof(c->share), "%s/share", c->bundle);
	if (mkdir(c->bundle, 0755)) {
		err = -errno;
		ctr_set_err(err == -EEXIST ? "container name '%s' is already used in this run" :
			    "cannot create the bundle of %s", o->name);
		free(c);
		return err;
	}
	c->cleanup = cleanup_add(ctr_cleanup_cb, c->bundle, 0, "container");
	if (c->cleanup < 0) {
		err = c->cleanup;
		remove_tree(c->bundle);
		ctr_set_err("cannot register the removal of container %s", c->id);
		free(c);
		return err;
	}
	cgroup2_paths(c);
	*out = c;
	return 0;
}

/* `runc create` (handing o->pass_fd over as fd 3), its pid, `runc start`. */
static int runc_create_start(const struct ctr_opts *o, struct ctr *c, const char *root,
			     struct runc_io *io)
{
	const char *create[] = { "create", "--bundle", c->bundle, NULL, NULL, NULL, NULL };
	const char *start[] = { "start", c->id, NULL };
	char msg[CTR_ERR_LEN];
	int err;

	if (o->pass_fd > 2) {
		create[3] = "--preserve-fds";
		create[4] = "1";
		create[5] = c->id;
		io->pass_fd = o->pass_fd;
	} else {
		create[3] = c->id;
	}
	err = ctr_runc(root, io, START_TIMEOUT_MS, create);
	if (err) {
		char log[4096];

		ctr_read_output(c, "err", log, sizeof(log));
		ctr_runc_msg(log, msg, sizeof(msg));
		ctr_set_err("runc create %s failed: %s", c->id,
			    err == -ETIMEDOUT ? "timed out" : msg[0] ? msg : "no message");
		return err < 0 ? err : -ECHILD;
	}
	err = state_of(root, c->id, NULL, 0, &c->pid);
	if (err) {
		ctr_set_err("runc state %s failed after create", c->id);
		return err;
	}
	/* Before its command runs: every thread it starts inherits the CPU. */
	if (o->pinned && (err = pin_pid_cpu(c->pid, o->cpu))) {
		ctr_set_err("cannot pin %s to CPU %d: %s", c->id, o->cpu, strerror(-err));
		return err;
	}
	if (o->created && (err = o->created(c, o->created_arg))) {
		ctr_set_err("%s: the caller's step before start failed: %s", c->id, strerror(-err));
		return err;
	}
	err = runc_simple(root, START_TIMEOUT_MS, msg, sizeof(msg), start);
	if (err) {
		ctr_set_err("runc start %s failed: %s", c->id, msg[0] ? msg : "no message");
		return err < 0 ? err : -ECHILD;
	}
	return 0;
}

int ctr_start(const struct ctr_opts *o, struct ctr **out)
{
	char run_dir[256], root[300];
	struct runc_io io = { .out_fd = -1, .err_fd = -1, .pass_fd = -1 };
	struct ctr *c = NULL;
	int err;

	*out = NULL;
	if (!o || !name_ok(o->name) || !o->ns || !o->ns->name[0] || !o->argv || !o->argv[0]) {
		ctr_set_err("bad container options (name '%s')", o && o->name ? o->name : "");
		return -EINVAL;
	}
	err = containers_prepare();
	if (err)
		return err;
	ctr_run_dir(run_dir, sizeof(run_dir));
	ctr_root(run_dir, root, sizeof(root));
	err = bundle_new(o, run_dir, &c);
	if (err)
		return err;
	err = mkdir_p(c->share, 0755);
	if (!err)
		err = write_config(o, c, run_dir);
	if (err) {
		ctr_set_err("cannot write the bundle of %s: %s", c->id, strerror(-err));
		goto out;
	}
	io.out_fd = open_log(c, "out");
	io.err_fd = open_log(c, "err");
	if (io.out_fd < 0 || io.err_fd < 0) {
		err = io.out_fd < 0 ? io.out_fd : io.err_fd;
		ctr_set_err("cannot open the logs of %s: %s", c->id, strerror(-err));
		goto out;
	}
	err = runc_create_start(o, c, root, &io);
out:
	close_fd(io.out_fd);
	close_fd(io.err_fd);
	if (err) {
		cleanup_run(c->cleanup);
		free(c);
		return err;
	}
	warn_dangerous_caps(c, o->caps);
	pr_debug("containers: %s started, pid %d\n", c->id, (int)c->pid);
	*out = c;
	return 0;
}

int ctr_status(struct ctr *c, char *buf, size_t len)
{
	char root[300];
	int err = self_root(root, sizeof(root));

	return err ? err : state_of(root, c->id, buf, len, NULL);
}

bool ctr_running(struct ctr *c)
{
	char st[32];

	return !ctr_status(c, st, sizeof(st)) && strcmp(st, "stopped");
}

int ctr_wait_stopped(struct ctr *c, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (int i = 0; i < 100000; i++) {
		if (!ctr_running(c))
			return 0;
		if (now_ns() >= end)
			break;
		sleep_ns(STATE_POLL_NS);
	}
	return -ETIMEDOUT;
}

int ctr_kill(struct ctr *c, int sig)
{
	char root[300], num[16], msg[CTR_ERR_LEN];
	const char *args[] = { "kill", c->id, num, NULL };
	int err = self_root(root, sizeof(root));

	if (err)
		return err;
	snprintf(num, sizeof(num), "%d", sig);
	err = runc_simple(root, 10000, msg, sizeof(msg), args);
	if (err) {
		ctr_set_err("runc kill %s failed: %s", c->id, msg);
		return err < 0 ? err : -ESRCH;
	}
	return 0;
}

int ctr_read_output(struct ctr *c, const char *which, char *buf, size_t len)
{
	char path[320];
	struct stat st;
	ssize_t n;
	int fd;

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", c->bundle, which);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The last len - 1 bytes: errors are at the end. */
	if (!fstat(fd, &st) && st.st_size > (off_t)(len - 1))
		lseek(fd, st.st_size - (off_t)(len - 1), SEEK_SET);
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

void ctr_destroy(struct ctr *c)
{
	if (!c)
		return;
	cleanup_run(c->cleanup);
	free(c);
}

int ctr_runc_version(char *buf, size_t len)
{
	char out[512];
	struct runc_io io = { .out_fd = -1, .err_fd = -1, .out = out, .out_len = sizeof(out) };
	const char *args[] = { "--version", NULL }, *v;
	int err;

	buf[0] = '\0';
	err = ctr_runc("/run/runc", &io, 10000, args);
	if (err)
		return err < 0 ? err : -ENOEXEC;
	/* "runc version 1.1.5+ds1" */
	v = strncmp(out, "runc version ", 13) ? out : out + 13;
	snprintf(buf, len, "%.*s", (int)strcspn(v, "\n"), v);
	return 0;
}
