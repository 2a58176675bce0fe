/* The run's manifest of what it created (see manifest.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <jansson.h>
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"

#define MAX_ENTRIES 100000

static const char *const kind_names[] = {
	[MANIFEST_NETNS] = "netns",
	[MANIFEST_NETNS_FILE] = "netns file",
	[MANIFEST_PIN] = "bpffs pin",
	[MANIFEST_CGROUP] = "cgroup",
	[MANIFEST_PROCESS] = "process",
	[MANIFEST_CTR_STATE] = "container state",
	[MANIFEST_SCRATCH] = "scratch directory",
};

static pthread_mutex_t mlock = PTHREAD_MUTEX_INITIALIZER;
static int mfd = -1;
static char mprefix[24];	/* the prefix mfd's manifest belongs to */

const char *manifest_kind_name(enum manifest_kind kind)
{
	return (unsigned)kind < ARRAY_SIZE(kind_names) ? kind_names[kind] : "?";
}

void manifest_path(pid_t run, char *buf, size_t len)
{
	snprintf(buf, len, RUN_STATE_DIR "/" RUN_PREFIX_BASE "%d.manifest", (int)run);
}

static bool all_gone(const struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (manifest_entry_present(&m->e[i], NULL, 0))
			return false;
	return true;
}

/* Cleanup (registered when the manifest is created, so it runs after the
 * removal of everything it lists): drop the file if nothing is left. */
static void manifest_cleanup(const char *path, long run)
{
	struct manifest m = { 0 };

	if (!pthread_mutex_trylock(&mlock)) {
		close_fd(mfd);
		mfd = -1;
		mprefix[0] = '\0';
		pthread_mutex_unlock(&mlock);
	}
	if (manifest_load((pid_t)run, &m))
		return;
	if (all_gone(&m))
		unlink(path);
	else
		pr_warn("offloadlab: %s kept: some objects it lists are still there\n", path);
	manifest_free(&m);
}

/* Called with mlock held: the open manifest of the current prefix. */
static int manifest_open(void)
{
	const char *prefix = run_prefix();
	pid_t run = run_prefix_pid(prefix);
	char path[128];
	int err;

	if (mfd >= 0 && !strcmp(mprefix, prefix))
		return 0;
	if (mfd >= 0)
		close(mfd);	/* a forked child with a prefix of its own */
	mfd = -1;
	manifest_path(run, path, sizeof(path));
	err = mkdir_p(RUN_STATE_DIR, 0755);
	if (err)
		return err;
	mfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (mfd < 0)
		return -errno;
	snprintf(mprefix, sizeof(mprefix), "%s", prefix);
	err = cleanup_add(manifest_cleanup, path, run, "manifest");
	return err < 0 ? err : 0;
}

/* One line, one write(): O_APPEND keeps concurrent writers' lines whole. */
static int append(json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	size_t len;
	int err;

	json_decref(obj);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\n';	/* json_dumps leaves room: replace the NUL, write len + 1 */
	pthread_mutex_lock(&mlock);
	err = manifest_open();
	if (!err && write(mfd, text, len + 1) != (ssize_t)(len + 1))
		err = errno ? -errno : -EIO;
	pthread_mutex_unlock(&mlock);
	free(text);
	if (err)
		pr_warn("offloadlab: cannot record in the run's manifest: %s\n", strerror(-err));
	return err;
}

int manifest_add_path(enum manifest_kind kind, const char *path)
{
	struct stat st;

	if (kind == MANIFEST_PROCESS || strlen(path) >= sizeof(((struct manifest_entry *)0)->path))
		return -EINVAL;
	if (lstat(path, &st))
		return -errno;
	return append(json_pack("{s:s, s:s, s:I, s:I}", "kind", manifest_kind_name(kind),
				"path", path, "dev", (json_int_t)st.st_dev,
				"ino", (json_int_t)st.st_ino));
}

int manifest_add_process(pid_t pid)
{
	struct proc_ident id;
	int err = proc_ident_read(pid, &id);

	if (err)
		return err;
	return append(json_pack("{s:s, s:i, s:I}", "kind", manifest_kind_name(MANIFEST_PROCESS),
				"pid", (int)pid, "start", (json_int_t)id.start));
}

static int parse_line(const char *line, struct manifest_entry *e)
{
	json_t *o = json_loads(line, 0, NULL);
	const char *kind = NULL, *path = "";
	json_int_t dev = 0, ino = 0, start = 0;
	int pid = 0, err = -EINVAL;

	memset(e, 0, sizeof(*e));
	if (o && !json_unpack(o, "{s:s, s?s, s?I, s?I, s?i, s?I}", "kind", &kind, "path", &path,
			      "dev", &dev, "ino", &ino, "pid", &pid, "start", &start)) {
		for (size_t k = 0; k < ARRAY_SIZE(kind_names); k++)
			if (!strcmp(kind, kind_names[k])) {
				e->kind = (enum manifest_kind)k;
				err = 0;
			}
	}
	if (!err && (e->kind == MANIFEST_PROCESS ? pid <= 1 :
		     !*path || strlen(path) >= sizeof(e->path)))
		err = -EINVAL;
	if (!err) {
		snprintf(e->path, sizeof(e->path), "%s", path);
		e->dev = (uint64_t)dev;
		e->ino = (uint64_t)ino;
		e->pid = (pid_t)pid;
		e->start = (uint64_t)start;
	}
	json_decref(o);
	return err;
}

int manifest_load(pid_t run, struct manifest *m)
{
	char path[128], *line = NULL;
	size_t cap = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	manifest_path(run, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (m->n < MAX_ENTRIES && getline(&line, &cap, f) > 0) {
		struct manifest_entry e, *p;

		if (parse_line(line, &e))
			continue;
		p = realloc(m->e, (m->n + 1) * sizeof(*p));
		if (!p)
			break;
		m->e = p;
		m->e[m->n++] = e;
	}
	free(line);
	fclose(f);
	return 0;
}

void manifest_free(struct manifest *m)
{
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

/* Same object: for a namespace, an nsfs bind mount (never through a symlink). */
static bool path_matches(const struct manifest_entry *e, char *differs, size_t len)
{
	struct statfs sfs;
	struct stat st;
	const char *what = NULL;

	if (lstat(e->path, &st))
		return false;
	if (e->kind == MANIFEST_NETNS && S_ISLNK(st.st_mode))
		what = "a symlink";
	else if (e->kind == MANIFEST_NETNS && (statfs(e->path, &sfs) || sfs.f_type != NSFS_MAGIC))
		what = "not a namespace bind mount";
	else if (e->kind == MANIFEST_NETNS_FILE && !S_ISREG(st.st_mode))
		what = "not a plain file";
	else if (e->kind == MANIFEST_CGROUP && !S_ISDIR(st.st_mode))
		what = "not a directory";
	if (!what && (uint64_t)st.st_dev == e->dev && (uint64_t)st.st_ino == e->ino)
		return true;
	if (differs && what)
		snprintf(differs, len, "%s", what);
	else if (differs)
		snprintf(differs, len, "inode %llu, the run recorded %llu",
			 (unsigned long long)st.st_ino, (unsigned long long)e->ino);
	return false;
}

bool manifest_entry_present(const struct manifest_entry *e, char *differs, size_t len)
{
	if (differs && len)
		differs[0] = '\0';
	if (e->kind != MANIFEST_PROCESS)
		return path_matches(e, differs, len);
	if (proc_matches(e->pid, e->start))
		return true;
	if (differs && kill(e->pid, 0) == 0)
		snprintf(differs, len, "pid %d is another process now", (int)e->pid);
	return false;
}

int proc_ident_read(pid_t pid, struct proc_ident *id)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	int ppid, err;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	err = read_file(path, buf, sizeof(buf));
	if (err)
		return err;
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	/* state (3), ppid (4), fields 5..21 skipped, starttime (22) */
	if (!p || sscanf(p + 1, " %c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%*s %*s %*s %*s %*s %llu", &id->state, &ppid, &start) != 3)
		return -EINVAL;
	id->ppid = (pid_t)ppid;
	id->start = start;
	return 0;
}

bool proc_matches(pid_t pid, uint64_t start)
{
	struct proc_ident id;

	return pid > 0 && !proc_ident_read(pid, &id) && id.start == start && id.state != 'Z' &&
	       id.state != 'X';
}

bool manifest_lists(pid_t run, enum manifest_kind kind, const char *path)
{
	struct manifest m;
	bool found = false;

	if (manifest_load(run, &m))
		return false;
	for (size_t i = 0; i < m.n && !found; i++)
		found = m.e[i].kind == kind && !strcmp(m.e[i].path, path) &&
			manifest_entry_present(&m.e[i], NULL, 0);
	manifest_free(&m);
	return found;
}
