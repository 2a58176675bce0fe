/*
 * Removing containers: one (kill, runc delete, its cgroups, its bundle), all
 * of a run directory, and those of dead runs for `offloadlab clean`.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/leftovers.h"

#define MAX_CGROUPS     16
#define MAX_ENTRIES     1024
#define MAX_CG_DIRS     64       /* cgroup mounts x our cgroup paths */
#define RMDIR_TRIES     100      /* x 20 ms */
#define STOP_WAIT_MS    5000

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* Only a cgroup directory named after the container, under /sys/fs/cgroup. */
static bool cgroup_path_ok(const char *path, const char *id)
{
	const char *base = strrchr(path, '/');

	return !strncmp(path, "/sys/fs/cgroup/", 15) && base && !strcmp(base + 1, id) &&
	       !strstr(path, "/../");
}

/* SIGKILL what is still in the cgroup, then rmdir it (children first). */
static int cgroup_remove(const char *path, int depth)
{
	char file[600], line[32];
	struct dirent *de;
	FILE *f;
	DIR *d;
	int err = 0;

	if (depth > 4)
		return -ELOOP;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < MAX_ENTRIES && (de = readdir(d)); i++) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		cgroup_remove(file, depth + 1);
	}
	closedir(d);
	for (int t = 0; t < RMDIR_TRIES; t++) {
		snprintf(file, sizeof(file), "%s/cgroup.procs", path);
		f = fopen(file, "re");
		for (int i = 0; f && i < 4096 && fgets(line, sizeof(line), f); i++) {
			long pid = strtol(line, NULL, 10);

			if (pid > 1)
				kill((pid_t)pid, SIGKILL);
		}
		if (f)
			fclose(f);
		if (!rmdir(path) || errno == ENOENT)
			return 0;
		err = -errno;
		sleep_ns(20 * 1000000ull);
	}
	return err;
}

/* cgroup_paths of runc's state.json (one per hierarchy). */
static int state_cgroups(const char *root, const char *id, char paths[][512])
{
	char file[400];
	json_t *st, *cg, *v;
	const char *key;
	int n = 0;

	snprintf(file, sizeof(file), "%s/%s/state.json", root, id);
	st = json_load_file(file, 0, NULL);
	if (!st)
		return 0;
	cg = json_object_get(st, "cgroup_paths");
	json_object_foreach(cg, key, v) {
		const char *p = json_string_value(v);

		if (p && n < MAX_CGROUPS && cgroup_path_ok(p, id))
			snprintf(paths[n++], 512, "%s", p);
	}
	json_decref(st);
	return n;
}

static bool stopped(const char *root, const char *id)
{
	char out[4096];
	struct runc_io io = { .out_fd = -1, .err_fd = -1, .out = out, .out_len = sizeof(out) };
	const char *args[] = { "state", id, NULL };
	const char *st;
	json_t *j;
	bool ret;

	if (ctr_runc(root, &io, 10000, args))
		return true;
	j = json_loads(out, 0, NULL);
	st = json_string_value(json_object_get(j, "status"));
	ret = !st || !strcmp(st, "stopped");
	json_decref(j);
	return ret;
}

int ctr_teardown(const char *run_dir, const char *id)
{
	char root[300], bundle[300], cg[MAX_CGROUPS][512], path[400];
	const char *base = strrchr(run_dir, '/');
	size_t blen = strlen(base ? base + 1 : run_dir);
	int ncg, err = 0;

	if (strncmp(id, base ? base + 1 : run_dir, blen) || id[blen] != '-')
		return -EINVAL;
	snprintf(root, sizeof(root), "%s/runc", run_dir);
	snprintf(bundle, sizeof(bundle), "%s/%s", run_dir, id + blen + 1);
	ncg = state_cgroups(root, id, cg);
	snprintf(path, sizeof(path), "%s/%s", root, id);
	if (exists(path) && ctr_runc_path()) {
		const char *kill_args[] = { "kill", id, "KILL", NULL };
		const char *del_args[] = { "delete", "--force", id, NULL };
		struct runc_io io = { .out_fd = -1, .err_fd = -1 };
		uint64_t end = now_ns() + STOP_WAIT_MS * 1000000ull;

		ctr_runc(root, &io, 10000, kill_args);
		while (!stopped(root, id) && now_ns() < end)
			sleep_ns(20 * 1000000ull);
		ctr_runc(root, &io, 10000, del_args);
	}
	/* Whatever runc could not remove (or runc is gone). */
	for (int i = 0; i < ncg; i++) {
		int e = cgroup_remove(cg[i], 0);

		if (e) {
			pr_warn("containers: cannot remove cgroup %s: %s\n", cg[i], strerror(-e));
			err = e;
		}
	}
	if (remove_tree(path) || remove_tree(bundle))
		err = err ?: -EBUSY;
	if (exists(path) || exists(bundle))
		err = err ?: -EBUSY;
	pr_debug("containers: %s removed%s\n", id, err ? " (not all of it)" : "");
	return err;
}

int ctr_clean_run_dir(const char *run_dir, json_t *removed)
{
	char root[300];
	const char *base = strrchr(run_dir, '/');
	struct dirent *de;
	int failures = 0;
	DIR *d;

	snprintf(root, sizeof(root), "%s/runc", run_dir);
	d = opendir(root);
	for (int i = 0; d && i < MAX_ENTRIES && (de = readdir(d)); i++) {
		if (de->d_name[0] == '.' || !run_prefix_pid(de->d_name))
			continue;
		if (ctr_teardown(run_dir, de->d_name)) {
			failures++;
			continue;
		}
		leftovers_note(removed, "container", de->d_name, NULL);
	}
	if (d)
		closedir(d);
	if (remove_tree(run_dir) || exists(run_dir)) {
		pr_warn("containers: cannot remove %s\n", run_dir);
		failures++;
	} else {
		leftovers_note(removed, "container state", base ? base + 1 : run_dir, NULL);
	}
	return failures;
}

/* "olab<pid>-ctr" (want_dir) or "olab<pid>-ctr-<name>" of a dead run other
 * than ours (only_run's, when not 0). */
static bool dead_ctr_name(const char *name, bool want_dir, pid_t only_run)
{
	pid_t pid = run_prefix_pid(name);
	const char *p = run_prefix_rest(name);

	if (!pid || pid == getpid() || (only_run && pid != only_run))
		return false;
	if (want_dir ? strcmp(p, CTR_SUFFIX) : strncmp(p, CTR_SUFFIX "-", strlen(CTR_SUFFIX) + 1))
		return false;
	return !run_owner_alive(pid);
}

#define NOT_LISTED "no manifest of its run lists it (or its identity differs)"

/* Did the run's manifest record container state (it made containers)? */
static bool run_made_containers(pid_t run)
{
	struct manifest m;
	bool made = false;

	if (manifest_load(run, &m))
		return false;
	for (size_t i = 0; i < m.n && !made; i++)
		made = m.e[i].kind == MANIFEST_CTR_STATE;
	manifest_free(&m);
	return made;
}

/* The cgroup directories where runc puts containers: each cgroup mount under
 * /sys/fs/cgroup, at its root and at our own cgroup's path; the number. */
static int cgroup_dirs(char dirs[][600], int max)
{
	char line[1024], mnts[24][256], rel[16][256];
	int nm = 0, nr = 0, n = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	while (f && nm < 24 && fgets(line, sizeof(line), f)) {
		char mp[256], *sep = strstr(line, " - ");

		if (!sep || (strncmp(sep, " - cgroup ", 10) && strncmp(sep, " - cgroup2 ", 11)))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %255s", mp) == 1 && !strncmp(mp, "/sys/fs/cgroup", 14))
			snprintf(mnts[nm++], sizeof(mnts[0]), "%s", mp);
	}
	if (f)
		fclose(f);
	snprintf(rel[nr++], sizeof(rel[0]), "%s", "");
	f = fopen("/proc/self/cgroup", "re");
	while (f && nr < 16 && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		p = p ? strchr(p + 1, ':') : NULL;
		if (!p || !strcmp(p + 1, "/\n"))
			continue;
		p[1 + strcspn(p + 1, "\n")] = '\0';
		snprintf(rel[nr++], sizeof(rel[0]), "%s", p + 1);
	}
	if (f)
		fclose(f);
	for (int m = 0; m < nm; m++)
		for (int r = 0; r < nr && n < max; r++)
			snprintf(dirs[n++], 600, "%.255s%.255s", mnts[m], rel[r]);
	return n;
}

/*
 * Cgroups of dead runs' containers (only_run's, 0: all) whose runc state is
 * gone: removed when the run's manifest says it made containers (remove),
 * else noted as not created by us.  The number of failures.
 */
static int sweep_orphan_cgroups(pid_t only_run, bool remove, struct leftovers_report *r)
{
	char dirs[MAX_CG_DIRS][600], path[900];
	int n = cgroup_dirs(dirs, MAX_CG_DIRS), failures = 0;

	for (int k = 0; k < n; k++) {
		struct dirent *de;
		DIR *d = opendir(dirs[k]);

		for (int i = 0; d && i < 4 * MAX_ENTRIES && (de = readdir(d)); i++) {
			if (de->d_type != DT_DIR || !dead_ctr_name(de->d_name, false, only_run))
				continue;
			snprintf(path, sizeof(path), "%.599s/%.255s", dirs[k], de->d_name);
			if (!run_made_containers(run_prefix_pid(de->d_name))) {
				leftovers_note(r->foreign, "container cgroup", path, NOT_LISTED);
			} else if (!remove) {
				continue;
			} else if (cgroup_remove(path, 0)) {
				pr_warn("containers: cannot remove cgroup %s\n", path);
				failures++;
			} else {
				leftovers_note(r->removed, "container cgroup", path, NULL);
			}
		}
		if (d)
			closedir(d);
	}
	return failures;
}

/* A dead run's container state entry (named after it, checked by the sweep):
 * its containers, run directory and cgroups. */
static int clean_entry(pid_t run, const struct manifest_entry *e, struct leftovers_report *r)
{
	int failures = 0;

	if (manifest_entry_present(e, NULL, 0))
		failures += ctr_clean_run_dir(e->path, r->removed);
	return failures + sweep_orphan_cgroups(run, true, r);
}

/* Container state directories and cgroups no manifest lists. */
static void scan(pid_t only_run, struct leftovers_report *r)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(RUN_STATE_DIR);

	for (int i = 0; d && i < 4 * MAX_ENTRIES && (de = readdir(d)); i++) {
		if (!dead_ctr_name(de->d_name, true, only_run))
			continue;
		snprintf(path, sizeof(path), RUN_STATE_DIR "/%s", de->d_name);
		if (!manifest_lists(run_prefix_pid(de->d_name), MANIFEST_CTR_STATE, path))
			leftovers_note(r->foreign, "container state", path, NOT_LISTED);
	}
	if (d)
		closedir(d);
	sweep_orphan_cgroups(only_run, false, r);
}

static const struct leftovers_handler containers_leftovers = {
	.kind = MANIFEST_CTR_STATE,
	.suffix = CTR_SUFFIX,
	.clean = clean_entry,
	.scan = scan,
};
LEFTOVERS_HANDLER(containers_leftovers);
