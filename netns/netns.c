/*
 * Named network namespaces, made the way `ip netns add` makes them: a file in
 * /run/netns (a shared mount) with the namespace bind-mounted onto it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/netns.h"

struct nstoken {
	int orig_fd;	/* thread's namespace before netns_enter, -1: no-op token */
};

/* A namespace name we are willing to create or remove: ours, one path component. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > strlen(RUN_PREFIX_BASE) && len < sizeof(((struct netns *)0)->name) &&
	       !strncmp(name, RUN_PREFIX_BASE, strlen(RUN_PREFIX_BASE)) &&
	       !strchr(name, '/') && !strstr(name, "..");
}

/* /run/netns exists and is a shared mount (bind it onto itself first if it is
 * not a mount point), so bind mounts in it propagate like iproute2's. */
static int prepare_run_dir(void)
{
	bool bound = false;
	int err;

	err = mkdir_p(NETNS_RUN_DIR, 0755);
	if (err)
		goto out;
	for (int i = 0; i < 2; i++) {
		if (!mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
			goto out;
		err = -errno;
		if (err != -EINVAL || bound)
			break;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL)) {
			err = -errno;
			break;
		}
		bound = true;
		err = 0;
	}
	pr_debug("netns: cannot make %s a shared mount: %s\n", NETNS_RUN_DIR, strerror(-err));
out:
	return err;
}

struct bind_args {
	const char *path;
	int err;
};

/* Runs in its own thread: the new namespace is that thread's alone, and it
 * dies with the thread once the bind mount holds it. */
static void *bind_thread(void *arg)
{
	struct bind_args *a = arg;

	a->err = 0;
	if (unshare(CLONE_NEWNET))
		a->err = -errno;
	else if (mount("/proc/thread-self/ns/net", a->path, "none", MS_BIND, NULL))
		a->err = -errno;
	return NULL;
}

static void ns_cleanup(const char *name, long num)
{
	netns_delete_by_name(name);
}

int netns_create(const char *suffix, struct netns *ns)
{
	struct bind_args args = { 0 };
	char path[128];
	pthread_t th;
	int fd, n, err;

	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	ns->cleanup = -1;
	if (!suffix || !*suffix || strchr(suffix, '/'))
		return -EINVAL;
	n = snprintf(ns->name, sizeof(ns->name), "%s-%s", run_prefix(), suffix);
	if (n < 0 || (size_t)n >= sizeof(ns->name) || !name_ok(ns->name)) {
		ns->name[0] = '\0';
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, ns->name);

	err = prepare_run_dir();
	if (err)
		goto out;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_debug("netns: cannot create %s: %s\n", path, strerror(errno));
		goto out;
	}
	close(fd);

	args.path = path;
	err = -pthread_create(&th, NULL, bind_thread, &args);
	if (!err) {
		pthread_join(th, NULL);
		err = args.err;
	}
	if (err) {
		pr_debug("netns: cannot create namespace %s: %s\n", ns->name, strerror(-err));
		unlink(path);
		goto out;
	}

	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->fd < 0) {
		err = -errno;
		netns_delete_by_name(ns->name);
		goto out;
	}
	ns->cleanup = cleanup_add(ns_cleanup, ns->name, 0, "netns");
	if (ns->cleanup < 0) {
		err = ns->cleanup;
		close(ns->fd);
		netns_delete_by_name(ns->name);
		goto out;
	}
	pr_debug("netns: created %s\n", ns->name);
out:
	if (err) {
		ns->name[0] = '\0';
		ns->fd = -1;
		ns->cleanup = -1;
	}
	return err;
}

void netns_destroy(struct netns *ns)
{
	if (!ns || !ns->name[0])
		return;
	if (ns->cleanup >= 0)
		cleanup_forget(ns->cleanup);
	if (ns->fd >= 0)
		close(ns->fd);
	netns_delete_by_name(ns->name);
	ns->name[0] = '\0';
	ns->fd = -1;
	ns->cleanup = -1;
}

static bool in_ns(const char *path, const struct stat *want)
{
	struct stat st;

	return !stat(path, &st) && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

/* Does any thread of pid live in the namespace? */
static bool pid_in_ns(const char *pid, const struct stat *want)
{
	char path[600];
	struct dirent *de;
	bool hit = false;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	d = opendir(path);
	if (!d) {
		snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
		return in_ns(path, want);
	}
	while (!hit && n++ < 100000 && (de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", pid, de->d_name);
		hit = in_ns(path, want);
	}
	closedir(d);
	return hit;
}

/* SIGKILL every other process with a thread in the namespace; returns how many. */
static int kill_ns_procs(const struct stat *want)
{
	struct dirent *de;
	int n = 0, killed = 0;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return 0;
	while (n++ < 1000000 && (de = readdir(d))) {
		pid_t pid;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid <= 1 || pid == getpid() || !pid_in_ns(de->d_name, want))
			continue;
		if (!kill(pid, SIGKILL)) {
			pr_debug("netns: killed pid %d still inside\n", (int)pid);
			killed++;
		}
	}
	closedir(d);
	return killed;
}

int netns_delete_by_name(const char *name)
{
	char path[128];
	struct stat st;
	int err = 0;

	if (!name || !name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	if (stat(path, &st)) {
		err = -errno;
		goto out;
	}
	/* Bounded: a killed process leaves the namespace when it exits. */
	for (int i = 0; i < 50 && kill_ns_procs(&st); i++)
		sleep_ns(20 * 1000 * 1000);
	if (umount2(path, MNT_DETACH) && errno != EINVAL)
		pr_warn("netns: umount %s: %s\n", path, strerror(errno));
	if (unlink(path)) {
		err = -errno;
		pr_warn("netns: unlink %s: %s\n", path, strerror(errno));
		goto out;
	}
	pr_debug("netns: removed %s\n", name);
out:
	return err;
}

struct nstoken *netns_enter(const struct netns *ns)
{
	struct nstoken *tok;
	int err;

	tok = calloc(1, sizeof(*tok));
	if (!tok)
		return NULL;
	tok->orig_fd = -1;
	if (!ns)
		return tok;
	if (ns->fd < 0) {
		err = EBADF;
		goto fail;
	}
	tok->orig_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (tok->orig_fd < 0) {
		err = errno;
		goto fail;
	}
	if (setns(ns->fd, CLONE_NEWNET)) {
		err = errno;
		close(tok->orig_fd);
		goto fail;
	}
	return tok;
fail:
	free(tok);
	errno = err;
	return NULL;
}

void netns_leave(struct nstoken *tok)
{
	if (!tok)
		return;
	if (tok->orig_fd >= 0) {
		if (setns(tok->orig_fd, CLONE_NEWNET))
			pr_warn("netns: cannot return to the previous namespace: %s\n",
				strerror(errno));
		close(tok->orig_fd);
	}
	free(tok);
}

int netns_socket(const struct netns *ns, int domain, int type, int protocol)
{
	struct nstoken *tok;
	int fd, err;

	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	err = fd < 0 ? -errno : fd;
	netns_leave(tok);
	return err;
}
