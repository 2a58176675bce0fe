/*
 * CPU steering.  A namespace's sysfs view (its net devices under
 * /sys/class/net) needs a sysfs mounted from inside it, so reads and writes
 * happen in a short-lived child with its own mount namespace, as in
 * `ip netns exec`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/link.h"

#define SYSFS_TIMEOUT_MS 5000
#define SYSFS_BUF 4096

/* In the child: private mounts, the namespace, a fresh sysfs. */
static int child_setup(const struct netns *ns)
{
	if (unshare(CLONE_NEWNS))
		return -errno;
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL))
		return -errno;
	if (ns && setns(ns->fd, CLONE_NEWNET))
		return -errno;
	if (umount2("/sys", MNT_DETACH) && errno != EINVAL)
		return -errno;
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		return -errno;
	return 0;
}

static void child_op(int wfd, const struct netns *ns, const char *path, const char *val)
{
	struct { int err; char buf[SYSFS_BUF]; } r;
	ssize_t n = 0;
	int fd;

	memset(&r, 0, sizeof(r));
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	r.err = child_setup(ns);
	if (r.err)
		goto out;
	fd = open(path, (val ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		r.err = -errno;
		goto out;
	}
	if (val) {
		n = write(fd, val, strlen(val));
		if (n != (ssize_t)strlen(val))
			r.err = n < 0 ? -errno : -EIO;
	} else {
		n = read(fd, r.buf, sizeof(r.buf) - 1);
		if (n < 0)
			r.err = -errno;
	}
	close(fd);
out:
	n = write(wfd, &r, sizeof(r));
	_exit(n == sizeof(r) ? 0 : 1);
}

static bool relpath_ok(const char *relpath)
{
	return relpath && relpath[0] && relpath[0] != '/' && !strstr(relpath, "..");
}

/* val != NULL: write it; else read into buf. */
static int sysfs_op(const struct netns *ns, const char *relpath, const char *val,
		    char *buf, size_t len)
{
	struct { int err; char buf[SYSFS_BUF]; } r;
	struct pollfd pfd;
	char path[512];
	int p[2], st, err;
	size_t got = 0;
	uint64_t end;
	pid_t pid;

	if (!relpath_ok(relpath) || (ns && ns->fd < 0))
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/%s", relpath);
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = run_fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		close(p[0]);
		child_op(p[1], ns, path, val);
	}
	close(p[1]);

	/* Bounded: the child is killed if it does not answer in time. */
	memset(&r, 0, sizeof(r));
	err = -ETIMEDOUT;
	end = now_ns() + SYSFS_TIMEOUT_MS * 1000000ull;
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	for (int i = 0; i < 10000 && got < sizeof(r); i++) {
		uint64_t now = now_ns();
		ssize_t n;

		if (now >= end)
			break;
		if (poll(&pfd, 1, (int)((end - now) / 1000000) + 1) <= 0)
			continue;
		n = read(p[0], (char *)&r + got, sizeof(r) - got);
		if (n <= 0) {
			err = -EIO;
			break;
		}
		got += n;
	}
	if (got == sizeof(r))
		err = r.err;
	close(p[0]);
	if (err == -ETIMEDOUT || err == -EIO)
		kill(pid, SIGKILL);
	for (int i = 0; i < 100 && waitpid(pid, &st, 0) < 0 && errno == EINTR; i++)
		;
	if (!err && !val) {
		size_t n = strnlen(r.buf, sizeof(r.buf));

		while (n > 0 && (r.buf[n - 1] == '\n' || r.buf[n - 1] == ' '))
			n--;
		if (n >= len)
			err = -ENOSPC;
		else {
			memcpy(buf, r.buf, n);
			buf[n] = '\0';
		}
	}
	if (err)
		pr_debug("sysfs %s %s%s%s: %s\n", ns ? ns->name : "-", relpath,
			 val ? " <- " : "", val ? val : "", strerror(-err));
	return err;
}

int netns_sysfs_write(const struct netns *ns, const char *relpath, const char *val)
{
	/* Only the namespace's own devices: the rest of sysfs is global. */
	if (!relpath || strncmp(relpath, "class/net/", 10) || !val)
		return -EINVAL;
	return sysfs_op(ns, relpath, val, NULL, 0);
}

int netns_sysfs_read(const struct netns *ns, const char *relpath, char *buf, size_t len)
{
	if (!buf || !len)
		return -EINVAL;
	return sysfs_op(ns, relpath, NULL, buf, len);
}

static bool ifname_ok(const char *ifname)
{
	return ifname && ifname[0] && strlen(ifname) < 16 && !strchr(ifname, '/') &&
	       strcmp(ifname, ".") && strcmp(ifname, "..");
}

/* class/net/<ifname>/<file> in ns's sysfs: write val, or (val NULL) read it into buf. */
static int link_sysfs(const struct netns *ns, const char *ifname, const char *file,
		      const char *val, char *buf, size_t len)
{
	char rel[128];

	if (!ifname_ok(ifname))
		return -EINVAL;
	snprintf(rel, sizeof(rel), "class/net/%s/%s", ifname, file);
	return val ? netns_sysfs_write(ns, rel, val) : netns_sysfs_read(ns, rel, buf, len);
}

#define RPS_FILE "queues/rx-0/rps_cpus"

int link_set_threaded_napi(const struct netns *ns, const char *ifname, bool on)
{
	int err = link_sysfs(ns, ifname, "threaded", on ? "1" : "0", NULL, 0);

	if (err)
		pr_debug("link %s: cannot turn threaded NAPI %s: %s%s\n", ifname, on ? "on" : "off",
			 strerror(-err), err == -EIO || err == -EOPNOTSUPP ?
			 " (a veth has NAPI only while up with GRO or XDP)" : "");
	return err;
}

int link_get_threaded_napi(const struct netns *ns, const char *ifname)
{
	char buf[32];
	int err = link_sysfs(ns, ifname, "threaded", NULL, buf, sizeof(buf));

	return err ? err : atoi(buf);
}

int link_set_rps(const struct netns *ns, const char *ifname, uint64_t cpumask)
{
	char val[32];
	int err;

	snprintf(val, sizeof(val), "%llx", (unsigned long long)cpumask);
	err = link_sysfs(ns, ifname, RPS_FILE, val, NULL, 0);
	if (err)
		pr_debug("link %s: cannot set RPS mask %s: %s\n", ifname, val, strerror(-err));
	return err;
}

int link_get_rps(const struct netns *ns, const char *ifname, uint64_t *cpumask)
{
	char buf[256], hex[256];
	size_t n = 0;
	int err = link_sysfs(ns, ifname, RPS_FILE, NULL, buf, sizeof(buf));

	if (err)
		return err;
	/* "00000000,00000003": keep the low 64 bits. */
	for (const char *s = buf; *s; s++)
		if (*s != ',' && n < sizeof(hex) - 1)
			hex[n++] = *s;
	hex[n] = '\0';
	if (n > 16)
		memmove(hex, hex + n - 16, 17);
	*cpumask = strtoull(hex, NULL, 16);
	return 0;
}

static int pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(pid, sizeof(set), &set))
		return -errno;
	return 0;
}

int pin_thread_cpu(int cpu)
{
	return pin(0, cpu);
}

int pin_pid_cpu(pid_t pid, int cpu)
{
	if (pid <= 0)
		return -EINVAL;
	return pin(pid, cpu);
}

/* Threaded NAPI kthreads are named "napi/<ifname>-<napi id>" (full name in
 * /proc/PID/comm): call fn for each of ifname's; how many, or -errno. */
static int for_each_napi_thread(const char *ifname, int (*fn)(pid_t pid, void *arg), void *arg)
{
	char want[IFNAME_LEN + 8], path[300], comm[64];
	struct dirent *de;
	int n = 0, err = 0, scanned = 0;
	DIR *d;

	snprintf(want, sizeof(want), "napi/%s-", ifname);
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (!err && (de = readdir(d)) && scanned++ < 1000000) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_file(path, comm, sizeof(comm)) || strncmp(comm, want, strlen(want)))
			continue;
		err = fn(atoi(de->d_name), arg);
		n++;
	}
	closedir(d);
	return err ? err : n;
}

static int pin_one(pid_t pid, void *arg)
{
	return pin_pid_cpu(pid, *(int *)arg);
}

int link_pin_napi_threads(const char *ifname, int cpu)
{
	return for_each_napi_thread(ifname, pin_one, &cpu);
}

int64_t task_cpu_ns(pid_t pid)
{
	char path[64], buf[128];
	int err;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	err = read_file(path, buf, sizeof(buf));
	return err ? err : strtoll(buf, NULL, 10);
}

struct pid_list {
	pid_t *pids;
	int n, max;
};

static int add_pid(pid_t pid, void *arg)
{
	struct pid_list *l = arg;

	if (l->n < l->max)
		l->pids[l->n++] = pid;
	return 0;
}

int link_napi_threads(const char *ifname, pid_t *pids, int max)
{
	struct pid_list l = { .pids = pids, .max = max };
	int n = for_each_napi_thread(ifname, add_pid, &l);

	return n < 0 ? n : l.n;
}
