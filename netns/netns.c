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
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include "lib/log.h"
#include "lib/manifest.h"
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

static int delete_ns(const char *name, uint64_t want_ino);

/* Cleanup: num is the namespace's inode, so only that namespace goes. */
static void ns_cleanup(const char *name, long num)
{
	delete_ns(name, (uint64_t)num);
}

int netns_create(const char *suffix, struct netns *ns)
{
	struct bind_args args = { 0 };
	char path[128];
	struct stat st;
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
	/* A run killed before the mount leaves this file: `clean` needs it listed. */
	err = manifest_add_path(MANIFEST_NETNS_FILE, path);
	if (err) {
		unlink(path);
		goto out;
	}

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
	err = ns->fd < 0 ? -errno : fstat(ns->fd, &st) ? -errno : 0;
	/* Recorded before its cleanup is registered: the manifest's own cleanup
	 * (registered on the first record) then runs after this one. */
	if (!err)
		err = manifest_add_path(MANIFEST_NETNS, path);
	if (err) {
		close_fd(ns->fd);
		netns_delete_by_name(ns->name);
		goto out;
	}
	ns->cleanup = cleanup_add(ns_cleanup, ns->name, (long)st.st_ino, "netns");
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
	struct stat st;
	uint64_t ino = 0;

	if (!ns || !ns->name[0])
		return;
	if (ns->cleanup >= 0)
		cleanup_forget(ns->cleanup);
	if (ns->fd >= 0) {
		if (!fstat(ns->fd, &st))
			ino = st.st_ino;
		close(ns->fd);
	}
	delete_ns(ns->name, ino);
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

/* init_net's inode is fixed (PROC_NET_INIT_INO, include/linux/proc_ns.h)
 * on recent kernels: refused even where /proc/1/ns/net cannot be read. */
#define NET_INIT_INO 0xEFFFFFF9ull

static bool same_ns(const char *proc_path, const struct stat *st, bool unknown)
{
	struct stat o;

	if (stat(proc_path, &o))
		return unknown;
	return o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

/* pid 1's namespace; when it cannot be read (a sandbox's pid 1), the fixed
 * inode still catches init_net. */
static bool root_ns(const struct stat *st)
{
	return st->st_ino == NET_INIT_INO || same_ns("/proc/1/ns/net", st, false);
}

int netns_identify(const char *path, struct stat *st, const char **why)
{
	struct statfs sfs;
	const char *w = NULL;
	int err = 0;

	if (lstat(path, st))
		return -errno;
	if (S_ISLNK(st->st_mode)) {
		w = "a symlink";
		err = -ELOOP;
	} else if (statfs(path, &sfs) || sfs.f_type != NSFS_MAGIC || stat(path, st)) {
		w = "not a namespace bind mount";
		err = -EINVAL;
	} else if (root_ns(st)) {
		w = "the root network namespace";
		err = -EPERM;
	} else if (same_ns("/proc/self/ns/net", st, true) ||
		   same_ns("/proc/thread-self/ns/net", st, true)) {
		w = "the caller's network namespace";
		err = -EPERM;
	}
	if (why)
		*why = w;
	return err;
}

/* Checks path names a namespace we may remove (want_ino: that one, 0: any). */
static int removable(const char *name, char *path, size_t len, uint64_t want_ino)
{
	const char *why = NULL;
	struct stat st;
	int err;

	if (!name || !name_ok(name))
		return -EINVAL;
	snprintf(path, len, "%s/%s", NETNS_RUN_DIR, name);
	err = netns_identify(path, &st, &why);
	if (!err && want_ino && st.st_ino != want_ino) {
		why = "another namespace than the one created";
		err = -ESTALE;
	}
	if (err && why)
		pr_warn("netns: not removing %s: %s\n", path, why);
	return err;
}

static int unmount_ns(const char *path, const char *name)
{
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) && errno != EINVAL)
		pr_warn("netns: umount %s: %s\n", path, strerror(errno));
	if (unlink(path)) {
		int err = -errno;

		pr_warn("netns: unlink %s: %s\n", path, strerror(errno));
		return err;
	}
	pr_debug("netns: removed %s\n", name);
	return 0;
}

static int delete_ns(const char *name, uint64_t want_ino)
{
	char path[128];
	struct stat st;
	int err = removable(name, path, sizeof(path), want_ino);

	if (err)
		return err;
	if (stat(path, &st))
		return -errno;
	/* Bounded: a killed process leaves the namespace when it exits. */
	for (int i = 0; i < 50 && kill_ns_procs(&st); i++)
		sleep_ns(20 * 1000 * 1000);
	return unmount_ns(path, name);
}

int netns_delete_by_name(const char *name)
{
	return delete_ns(name, 0);
}

int netns_unmount(const char *name, uint64_t want_ino)
{
	char path[128];
	int err = removable(name, path, sizeof(path), want_ino);

	return err ? err : unmount_ns(path, name);
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
