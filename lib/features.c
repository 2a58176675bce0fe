/*
 * Feature probing: see lib/features.h.  Each probe (lib/features_probes.c)
 * runs in a forked child (probe_child) after the skeleton pieces its table
 * row names are loaded, and returns 0 or -errno, naming the step that failed
 * in env->where; the parent bounds it in time and caches the result.  Also
 * the kernel facts of `offloadlab env`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/features_internal.h"
#include "lib/kver.h"
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"

/* What the child reports through the pipe. */
struct probe_msg {
	int err;
	char where[112];
};

static struct feature_status cache[FEAT__COUNT];
static bool cached[FEAT__COUNT];

/* ---- running a probe ----------------------------------------------------- */

const char *feature_name(enum feature_id id)
{
	return (unsigned)id < FEAT__COUNT ? feature_table[id].name : NULL;
}

const char *feature_desc(enum feature_id id)
{
	return (unsigned)id < FEAT__COUNT ? feature_table[id].desc : NULL;
}

int feature_by_name(const char *name)
{
	for (int i = 0; name && i < FEAT__COUNT; i++)
		if (!strcmp(feature_table[i].name, name))
			return i;
	return -ENOENT;
}

void feature_format_reason(char *buf, size_t len, int err, const char *where)
{
	const char *name;

	if (!len)
		return;
	if (err < 0)
		err = -err;
	if (!err) {
		buf[0] = '\0';
		return;
	}
	name = strerrorname_np(err);
	if (name)
		snprintf(buf, len, "%s: %s%s%s%s", name, strerror(err),
			 where && *where ? " (" : "", where && *where ? where : "",
			 where && *where ? ")" : "");
	else
		snprintf(buf, len, "E%d: %s%s%s%s", err, strerror(err),
			 where && *where ? " (" : "", where && *where ? where : "",
			 where && *where ? ")" : "");
}

/* Open and load the skeleton pieces d names, run its probe, free them. */
static int probe_with_skel(const struct feature_desc *d, struct probe_env *env)
{
	struct probe *skel = NULL;
	int err = 0;

	if (d->progs) {
		skel = probe_open(env, d->progs, d->maps);
		if (!skel)
			return errno ? -errno : -ENOMEM;
		if (d->before_load)
			d->before_load(skel);
		err = probe_load(env, skel);
	}
	if (!err)
		err = d->probe(env, skel);
	probe__destroy(skel);
	return err;
}

static __attribute__((noreturn)) void probe_child(const struct feature_desc *d,
						  struct probe_env *env, int wfd, pid_t parent)
{
	struct probe_msg m;
	int err = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1); /* the parent died before PDEATHSIG was armed */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (d->flags & PROBE_NEWNET) {
		/* Anonymous: it vanishes with this process, whatever kills it. */
		if (unshare(CLONE_NEWNET)) {
			err = -errno;
			env->where = "unshare(CLONE_NEWNET)";
			goto out;
		}
		err = probe_lo_up();
		if (probe_fails_at(env, err, "set lo up"))
			goto out;
	}
	if ((d->flags & PROBE_VETH) == PROBE_VETH) {
		err = probe_veth_setup(env);
		if (err)
			goto out;
	}
	err = probe_with_skel(d, env);
out:
	memset(&m, 0, sizeof(m));
	m.err = err > 0 ? -err : err;
	snprintf(m.where, sizeof(m.where), "%s", err && env->where ? env->where : "");
	if (write(wfd, &m, sizeof(m)) != sizeof(m))
		_exit(1);
	_exit(0);
}

static void rmdir_cgroup(const char *path, long num)
{
	/* The probe child has been reaped; its css may take a moment to go. */
	for (int i = 0; i < 100; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		sleep_ns(10 * 1000000ull);
	}
	pr_warn("cannot remove probe cgroup %s: %s\n", path, strerror(errno));
}

/* Registered while a probe child runs, so a fatal signal does not orphan it. */
static void kill_probe_child(const char *name, long pid)
{
	kill((pid_t)pid, SIGKILL);
	waitpid((pid_t)pid, NULL, 0);
}

/* Wait for pid until deadline (ns), then SIGKILL it; -ETIMEDOUT when killed. */
static int reap(pid_t pid, uint64_t deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ns() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		sleep_ns(1000000);
	}
}

/* Read the child's answer until deadline; 1 when complete, 0 on EOF, -ETIMEDOUT, -EINTR. */
static int read_answer(int fd, struct probe_msg *m, uint64_t deadline)
{
	size_t off = 0;

	while (off < sizeof(*m)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = ((int64_t)deadline - (int64_t)now_ns()) / 1000000;
		ssize_t n;
		int r;

		if (run_stopping())
			return -EINTR;
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = read(fd, (char *)m + off, sizeof(*m) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		off += n;
	}
	return 1;
}

/* Parent side of a probe needing a cgroup: make the directory, register its removal. */
static int cgroup_prepare(struct probe_env *env, const char **where)
{
	char name[64];
	int err, h;

	err = env_cgroup2_mount(env->cgroup_root, sizeof(env->cgroup_root));
	if (err) {
		*where = "no cgroup2 mount";
		return err;
	}
	err = run_name(name, sizeof(name), "-probe");
	if (!err && snprintf(env->cgroup, sizeof(env->cgroup), "%s/%s", env->cgroup_root,
			     name) >= (int)sizeof(env->cgroup))
		err = -ENAMETOOLONG;
	if (!err && mkdir(env->cgroup, 0755))
		err = -errno;
	if (err) {
		*where = "create a cgroup2 directory";
		return err;
	}
	h = manifest_add_path(MANIFEST_CGROUP, env->cgroup);
	if (!h)
		h = cleanup_add(rmdir_cgroup, env->cgroup, 0, "probe cgroup");
	if (h < 0) {
		rmdir_cgroup(env->cgroup, 0);
		*where = "register the cgroup's removal";
	}
	return h;
}

/* What the child's answer (r from read_answer, its wait status) says: the
 * probe's error, and where it came from (into what if it is ours). */
static int answer_error(int r, int status, struct probe_msg *m, struct feature_status *st,
			char *what, size_t len, const char **where)
{
	if (r == 1) {
		m->where[sizeof(m->where) - 1] = '\0';
		*where = m->where;
		return m->err;
	}
	*where = what;
	if (r == -EINTR) {
		st->probe_failed = true;
		*where = "interrupted";
		return -EINTR;
	}
	if (r == -ETIMEDOUT) {
		snprintf(what, len, "no answer within %d ms", FEATURE_PROBE_TIMEOUT_MS);
		return -ETIMEDOUT;
	}
	if (WIFSIGNALED(status)) {
		snprintf(what, len, "probe killed by signal %d", WTERMSIG(status));
		return -ECANCELED;
	}
	snprintf(what, len, "probe exited with status %d without an answer",
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return r < 0 ? r : -EPROTO;
}

static void run_probe(enum feature_id id, struct feature_status *st)
{
	const struct feature_desc *d = &feature_table[id];
	uint64_t t0 = now_ns(), deadline = t0 + FEATURE_PROBE_TIMEOUT_MS * 1000000ull;
	struct probe_env env = { .if0 = -1, .if1 = -1 };
	int pfd[2] = { -1, -1 }, cg = -1, kc, status = 0, err = 0, r;
	const char *where = NULL;
	struct probe_msg m;
	char what[64];
	pid_t pid, self = getpid();

	memset(st, 0, sizeof(*st));
	memset(&m, 0, sizeof(m));
	if (run_stopping()) {
		err = -EINTR;
		st->probe_failed = true;
		where = "interrupted";
		goto out;
	}
	if ((d->flags & PROBE_CGROUP) == PROBE_CGROUP) {
		cg = cgroup_prepare(&env, &where);
		if (cg < 0) {
			err = cg;
			/* No cgroup2 or no room is data; failing to register a cleanup is not. */
			st->probe_failed = cg == -ENOMEM;
			goto out;
		}
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		err = -errno;
		st->probe_failed = true;
		where = "pipe";
		goto out;
	}
	fflush(NULL);
	pid = run_fork();
	if (pid < 0) {
		err = -errno;
		st->probe_failed = true;
		where = "fork";
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		probe_child(d, &env, pfd[1], self);
	}
	close(pfd[1]);
	pfd[1] = -1;
	kc = cleanup_add(kill_probe_child, d->name, pid, "probe child");

	r = read_answer(pfd[0], &m, deadline);
	/* After an answer or EOF the child is exiting; otherwise kill it now. */
	reap(pid, r >= 0 ? now_ns() + 2000000000ull : 0, &status);
	if (kc >= 0)
		cleanup_forget(kc);
	err = answer_error(r, status, &m, st, what, sizeof(what), &where);
out:
	close_fd(pfd[0]);
	close_fd(pfd[1]);
	if (cg >= 0)
		cleanup_run(cg);
	st->err = err > 0 ? -err : err;
	st->supported = !err;
	feature_format_reason(st->reason, sizeof(st->reason), err, where);
	st->probe_ms = (now_ns() - t0) / 1e6;
	pr_debug("probe %s: %s%s%s (%.1f ms)\n", d->name,
		 st->supported ? "supported" : "unsupported", st->reason[0] ? ": " : "",
		 st->reason, st->probe_ms);
}

/* OLAB_DISABLE_FEATURES=tcx,sk_msg makes env report them unsupported: for
 * tests of the refusal paths, and for users who want a hook left out. */
static bool disabled_by_env(enum feature_id id)
{
	return probe_in_list(getenv("OLAB_DISABLE_FEATURES"), feature_name(id));
}

const struct feature_status *feature_probe(enum feature_id id)
{
	static const struct feature_status bad = { .reason = "EINVAL: Invalid argument (no such feature)",
						   .err = -EINVAL };

	if ((unsigned)id >= FEAT__COUNT)
		return &bad;
	if (!cached[id] && disabled_by_env(id)) {
		memset(&cache[id], 0, sizeof(cache[id]));
		cache[id].err = -EOPNOTSUPP;
		snprintf(cache[id].reason, sizeof(cache[id].reason),
			 "EOPNOTSUPP: disabled by OLAB_DISABLE_FEATURES");
		cached[id] = true;
	}
	if (!cached[id]) {
		run_probe(id, &cache[id]);
		/* An interrupted probe is not an answer: ask again next time. */
		cached[id] = !(cache[id].probe_failed && cache[id].err == -EINTR);
	}
	return &cache[id];
}

int feature_probe_all(void)
{
	int failed = 0;

	for (int i = 0; i < FEAT__COUNT; i++)
		if (feature_probe(i)->probe_failed)
			failed++;
	return failed;
}

void feature_cache_reset(void)
{
	memset(cached, 0, sizeof(cached));
}

int feature_require(enum feature_id id, const char *what)
{
	const struct feature_status *st = feature_probe(id);

	if (st->supported)
		return 0;
	pr_warn("%s needs %s, which this kernel does not support: %s\n", what,
		feature_name(id) ? feature_name(id) : "?", st->reason);
	return -EOPNOTSUPP;
}

/* ---- kernel facts -------------------------------------------------------- */

int env_cgroup2_mount(char *buf, size_t len)
{
	return mount_point_of("cgroup2", buf, len);
}

int env_kernel_probe(struct env_kernel *k)
{
	char val[32];
	struct statfs sfs;
	uint64_t v;
	int fd;

	memset(k, 0, sizeof(*k));
	snprintf(k->release, sizeof(k->release), "%s", kernel_release());

	if (!read_file("/proc/sys/net/core/bpf_jit_enable", val, sizeof(val)) &&
	    !parse_u64(val, 0, 1000, &v)) {
		k->jit_known = true;
		k->jit_value = (int)v;
	}

	if (!read_file("/proc/sys/kernel/bpf_stats_enabled", val, sizeof(val)))
		k->stats_enabled_now = !strcmp(val, "1");
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd >= 0) {
		k->stats_supported = true;
		close(fd); /* stats go back off unless someone else holds them on */
	} else {
		feature_format_reason(k->stats_reason, sizeof(k->stats_reason), fd,
				      "bpf_enable_stats");
	}

	k->bpffs_path = RUN_BPFFS_DIR;
	k->bpffs_mounted = !statfs(RUN_BPFFS_DIR, &sfs) && sfs.f_type == BPF_FS_MAGIC;
	if (env_cgroup2_mount(k->cgroup2, sizeof(k->cgroup2)))
		k->cgroup2[0] = '\0';
	k->cpus = cpu_count();
	snprintf(k->libbpf, sizeof(k->libbpf), "%u.%u", libbpf_major_version(),
		 libbpf_minor_version());
	return 0;
}

json_t *env_kernel_to_json(const struct env_kernel *k)
{
	char v[32];
	json_t *o = json_pack("{s:s, s:{s:b, s:o}, s:{s:b, s:b, s:s}, s:{s:b, s:s}, s:o, s:i, s:s}",
			 "release", k->release,
			 "bpf_jit", "enabled", k->jit_known && k->jit_value != 0,
			 "value", k->jit_known ? json_integer(k->jit_value) : json_null(),
			 "bpf_stats", "supported", k->stats_supported,
			 "enabled_now", k->stats_enabled_now, "reason", k->stats_reason,
			 "bpffs", "mounted", k->bpffs_mounted, "path", k->bpffs_path,
			 "cgroup2", k->cgroup2[0] ? json_string(k->cgroup2) : json_null(),
			 "cpus", k->cpus,
			 "libbpf", k->libbpf);

	/* the upstream version the checks' kernel ranges compare (lib/kver.h) */
	if (o && kver_running())
		json_object_set_new(o, "version", json_string(kver_str(kver_running(), v,
									sizeof(v))));
	return o;
}

json_t *features_to_json(void)
{
	json_t *o = json_object();

	for (int i = 0; o && i < FEAT__COUNT; i++) {
		const struct feature_status *st = feature_probe(i);

		if (json_object_set_new(o, feature_name(i),
					json_pack("{s:b, s:s}", "supported", st->supported,
						  "reason", st->reason))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
