/* Removal of a dead run's leftovers from its manifest (see leftovers.h). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/leftovers.h"
#include "netns/netns.h"

#define MAX_PROCS 1000000
#define MAX_HANDLERS 8
#define MAX_DIR_ENTRIES 100000

REGISTRY_DECLARE(olab_leftovers);

static size_t handlers(const struct leftovers_handler **out)
{
	return REGISTRY_LOAD(olab_leftovers, struct leftovers_handler, order, out, MAX_HANDLERS);
}

static const struct leftovers_handler *handler_of(enum manifest_kind kind)
{
	const struct leftovers_handler *h[MAX_HANDLERS];
	size_t n = handlers(h);

	for (size_t i = 0; i < n; i++)
		if (h[i]->kind == kind)
			return h[i];
	return NULL;
}

/* "olab<pid><suffix>..." of a handler: its own, not the generic scans'. */
static bool handler_owns(const char *name)
{
	const struct leftovers_handler *h[MAX_HANDLERS];
	const char *rest = run_prefix_rest(name);
	size_t n = handlers(h);

	for (size_t i = 0; rest && i < n; i++)
		if (!strncmp(rest, h[i]->suffix, strlen(h[i]->suffix)))
			return true;
	return false;
}

void leftovers_note(json_t *list, const char *kind, const char *name, const char *why)
{
	size_t i;
	json_t *e;

	if (!list)
		return;
	json_array_foreach(list, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "kind")), kind) &&
		    !strcmp(json_string_value(json_object_get(e, "name")), name))
			return;
	e = json_pack("{s:s, s:s}", "kind", kind, "name", name);
	if (e && why)
		json_object_set_new(e, "why", json_string(why));
	json_array_append_new(list, e);
}

/* ---- processes: those of the manifest (pid + start time) and their descendants ---- */

struct pinfo {
	pid_t pid, ppid;
	uint64_t start;
	bool tied;
};

static size_t list_procs(struct pinfo **out)
{
	struct pinfo *v = NULL, *p;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	for (size_t guard = 0; d && guard < MAX_PROCS && (de = readdir(d)); guard++) {
		struct proc_ident id;
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid <= 0 || proc_ident_read(pid, &id) || id.state == 'Z' || id.state == 'X')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			p = realloc(v, cap * sizeof(*v));
			if (!p)
				break;
			v = p;
		}
		v[n++] = (struct pinfo){ .pid = pid, .ppid = id.ppid, .start = id.start };
	}
	if (d)
		closedir(d);
	*out = v;
	return n;
}

static struct pinfo *find_proc(struct pinfo *v, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].pid == pid)
			return &v[i];
	return NULL;
}

/* Mark the manifest's live processes, then their descendants. */
static void mark_tied(struct pinfo *v, size_t n, const struct manifest *m)
{
	bool changed = true;

	for (size_t i = 0; i < m->n; i++) {
		struct pinfo *p = m->e[i].kind == MANIFEST_PROCESS ?
				  find_proc(v, n, m->e[i].pid) : NULL;

		if (p && p->start == m->e[i].start)
			p->tied = true;
	}
	for (int pass = 0; changed && pass < 4096; pass++) {
		changed = false;
		for (size_t i = 0; i < n; i++) {
			struct pinfo *parent = v[i].tied ? NULL : find_proc(v, n, v[i].ppid);

			if (parent && parent->tied)
				changed = v[i].tied = true;
		}
	}
	/* Never pid 1, nor ourselves or an ancestor of ours. */
	for (struct pinfo *p = find_proc(v, n, getpid()); p; p = find_proc(v, n, p->ppid)) {
		p->tied = false;
		if (p->ppid <= 1)
			break;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].pid <= 1)
			v[i].tied = false;
}

/* SIGKILL through a pidfd, after checking the pid is still that process. */
static bool kill_exact(const struct pinfo *p)
{
	int fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = proc_matches(p->pid, p->start) &&
	     !syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
	close(fd);
	return ok;
}

static void kill_tied(const struct manifest *m, struct leftovers_report *r)
{
	struct pinfo *v = NULL;
	size_t n = list_procs(&v);
	char name[32];
	bool left = true;

	mark_tied(v, n, m);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].tied)
			continue;
		v[i].tied = kill_exact(&v[i]);
		if (v[i].tied) {
			snprintf(name, sizeof(name), "%d", (int)v[i].pid);
			leftovers_note(r->removed, "process", name, NULL);
		}
	}
	/* Bounded: they leave their namespaces as they exit. */
	for (int round = 0; left && round < 100; round++) {
		left = false;
		for (size_t i = 0; i < n && !left; i++)
			left = v[i].tied && proc_matches(v[i].pid, v[i].start);
		if (left)
			sleep_ns(20 * 1000 * 1000);
	}
	free(v);
}

/* ---- objects with a path ---- */

/* Under base, no "..", first component "olab<run>...": what run could create. */
static bool owned_path(const char *base, const char *path, pid_t run)
{
	size_t len = strlen(base);

	return *base && !strncmp(path, base, len) && path[len] == '/' && !strstr(path, "..") &&
	       run_prefix_pid(path + len + 1) == run;
}

static const char *kind_base(enum manifest_kind kind, const char *cg_root);

/* Namespaces live directly in NETNS_RUN_DIR: what is checked is what is removed. */
static bool owned_entry(const struct manifest_entry *e, const char *cg_root, pid_t run)
{
	const char *base = kind_base(e->kind, cg_root);

	if ((e->kind == MANIFEST_NETNS || e->kind == MANIFEST_NETNS_FILE ||
	     e->kind == MANIFEST_SCRATCH) &&
	    strchr(e->path + strlen(base) + 1, '/'))
		return false;
	return owned_path(base, e->path, run);
}

static const char *kind_base(enum manifest_kind kind, const char *cg_root)
{
	switch (kind) {
	case MANIFEST_NETNS:
	case MANIFEST_NETNS_FILE: return NETNS_RUN_DIR;
	case MANIFEST_PIN: return RUN_BPFFS_DIR;
	case MANIFEST_CGROUP: return cg_root;
	case MANIFEST_CTR_STATE: return RUN_STATE_DIR;
	case MANIFEST_SCRATCH: return SCRATCH_DIR;
	default: return "";
	}
}

static const char *display_name(enum manifest_kind kind, const char *path);

static const char *report_name(const struct manifest_entry *e)
{
	return display_name(e->kind, e->path);
}

static int remove_object(const struct manifest_entry *e, const char **why)
{
	struct stat st;
	int err;

	switch (e->kind) {
	case MANIFEST_NETNS:
		/* The entry matched; the root and caller's namespaces are refused anyway. */
		err = netns_identify(e->path, &st, why);
		return err ? err : netns_unmount(report_name(e), e->ino);
	case MANIFEST_NETNS_FILE:	/* a run killed before the mount: only the file */
	case MANIFEST_PIN:
		return unlink(e->path) && errno != ENOENT ? -errno : 0;
	case MANIFEST_CGROUP:
		return rmdir(e->path) && errno != ENOENT ? -errno : 0;
	case MANIFEST_SCRATCH:	/* named after the run, its identity matched */
		return remove_tree(e->path);
	default:
		return 0;
	}
}

/*
 * A run killed between mounting a namespace on the file it recorded and
 * recording the namespace: the file now holds an nsfs mount (never the root
 * or caller's namespace, never a symlink).  Unmount it, killing no one.
 */
static bool adopt_mounted_file(const struct manifest_entry *e, struct leftovers_report *r)
{
	const char *why = NULL;
	struct stat st;

	if (e->kind != MANIFEST_NETNS_FILE || netns_identify(e->path, &st, &why))
		return false;
	if (netns_unmount(report_name(e), st.st_ino)) {
		r->failures++;
		return true;
	}
	leftovers_note(r->removed, "netns", report_name(e), NULL);
	return true;
}

/* The entries of handlers (h: their pass, which comes first) or the others;
 * false when an entry's removal failed. */
static bool remove_entry(pid_t run, const struct manifest_entry *e, const char *cg_root,
			 const struct leftovers_handler *h, struct leftovers_report *r)
{
	const char *kind = manifest_kind_name(e->kind), *why = NULL;
	char differs[160];
	int err;

	if (e->kind == MANIFEST_PROCESS || h != handler_of(e->kind))
		return true;
	if (strlen(e->path) <= strlen(kind_base(e->kind, cg_root)) || !owned_entry(e, cg_root, run)) {
		snprintf(differs, sizeof(differs), "manifest entry not named after run "
			 RUN_PREFIX_BASE "%d", (int)run);
		leftovers_note(r->foreign, kind, e->path, differs);
		return true;
	}
	if (h) {
		err = h->clean(run, e, r);
		r->failures += err;
		return !err;
	}
	if (!manifest_entry_present(e, differs, sizeof(differs))) {
		if (adopt_mounted_file(e, r))
			return true;
		/* A namespace file with something mounted on it: its "netns"
		 * entry (or the look-alike scan) speaks for it. */
		if (differs[0] && e->kind != MANIFEST_NETNS_FILE)
			leftovers_note(r->foreign, kind, report_name(e), differs);
		return true;
	}
	err = remove_object(e, &why);
	if (err && why) {
		leftovers_note(r->foreign, kind, report_name(e), why);
	} else if (err) {
		pr_warn("offloadlab: cannot remove %s %s: %s\n", kind, e->path, strerror(-err));
		r->failures++;
	} else {
		leftovers_note(r->removed, kind, report_name(e), NULL);
	}
	return true;
}

static void remove_state(const char *path, struct leftovers_report *r)
{
	if (!unlink(path))
		leftovers_note(r->removed, "run state", strrchr(path, '/') + 1, NULL);
}

int manifest_clean_run(pid_t run, struct leftovers_report *r)
{
	char cg_root[256] = "", path[128];
	struct manifest m;
	bool left = false;
	int err;

	if (run <= 0 || run == getpid() || run_owner_alive(run))
		return -EBUSY;
	err = manifest_load(run, &m);
	if (err)
		return err;
	mount_point_of("cgroup2", cg_root, sizeof(cg_root));
	/* Containers first: their processes are not the run's descendants. */
	for (size_t i = 0; i < m.n; i++) {
		const struct leftovers_handler *h = handler_of(m.e[i].kind);

		if (h)
			left |= !remove_entry(run, &m.e[i], cg_root, h, r);
	}
	kill_tied(&m, r);
	for (size_t i = m.n; i-- > 0;)	/* newest first: a cgroup's children before it */
		remove_entry(run, &m.e[i], cg_root, NULL, r);
	for (size_t i = 0; i < m.n && !left; i++)
		left = manifest_entry_present(&m.e[i], NULL, 0);
	manifest_free(&m);
	leftovers_scan(run, NULL, r);	/* while the manifest can still say why */
	if (!left) {
		manifest_path(run, path, sizeof(path));
		remove_state(path, r);
		snprintf(path, sizeof(path), RUN_PREFIX_BASE "%d.lock", (int)run);
		if (!run_lock_remove_dead(run))
			leftovers_note(r->removed, "run state", path, NULL);
	}
	return 0;
}

/* For an "olab<pid>..." object at path that the manifest sweep left: true
 * (and why) when it is not one offloadlab created, false when it is (its
 * removal failed). */
static bool leftover_foreign(enum manifest_kind kind, const char *path, char *why, size_t len)
{
	const char *slash = strrchr(path, '/'), *refused = NULL;
	pid_t run = run_prefix_pid(slash ? slash + 1 : path);
	bool listed = false, present = false;
	struct manifest m;
	struct stat st;
	int err = manifest_load(run, &m);

	for (size_t i = 0; !err && i < m.n && !present; i++) {
		bool same_kind = m.e[i].kind == kind ||
				 (kind == MANIFEST_NETNS && m.e[i].kind == MANIFEST_NETNS_FILE);

		if (!same_kind || strcmp(m.e[i].path, path))
			continue;
		listed = true;
		present = manifest_entry_present(&m.e[i], why, len);
	}
	if (!err)
		manifest_free(&m);
	if (present)
		return false;	/* ours: its removal failed, and was counted */
	if (kind == MANIFEST_NETNS && netns_identify(path, &st, &refused) && refused)
		snprintf(why, len, "%s", refused);
	else if (err)
		snprintf(why, len, "run " RUN_PREFIX_BASE "%d left no manifest", (int)run);
	else if (!listed)
		snprintf(why, len, "not in run " RUN_PREFIX_BASE "%d's manifest", (int)run);
	return true;
}

/* The reports' name: a namespace's name, the path of the others. */
static const char *display_name(enum manifest_kind kind, const char *path)
{
	const char *slash = strrchr(path, '/');

	return (kind == MANIFEST_NETNS || kind == MANIFEST_NETNS_FILE) && slash ? slash + 1 : path;
}

static void scan_dir(enum manifest_kind kind, const char *dir, pid_t only_run, json_t *kept,
		     struct leftovers_report *r)
{
	const char *what = manifest_kind_name(kind);
	char path[600], why[160];
	struct dirent *de;
	DIR *d = *dir ? opendir(dir) : NULL;

	for (int i = 0; d && i < MAX_DIR_ENTRIES && (de = readdir(d)); i++) {
		pid_t pid = run_prefix_pid(de->d_name);

		if (!pid || pid == getpid() || (only_run && pid != only_run) ||
		    (kind == MANIFEST_CGROUP && handler_owns(de->d_name)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (run_owner_alive(pid))
			leftovers_note(kept, what, display_name(kind, path), "owner alive");
		else if (leftover_foreign(kind, path, why, sizeof(why)))
			leftovers_note(r->foreign, what, display_name(kind, path), why);
	}
	if (d)
		closedir(d);
}

void leftovers_scan(pid_t only_run, json_t *kept, struct leftovers_report *r)
{
	const struct leftovers_handler *h[MAX_HANDLERS];
	size_t n = handlers(h);
	char cg_root[256] = "";

	mount_point_of("cgroup2", cg_root, sizeof(cg_root));
	scan_dir(MANIFEST_NETNS, NETNS_RUN_DIR, only_run, kept, r);
	scan_dir(MANIFEST_PIN, RUN_BPFFS_DIR, only_run, kept, r);
	scan_dir(MANIFEST_CGROUP, cg_root, only_run, kept, r);
	for (size_t i = 0; i < n; i++)
		h[i]->scan(only_run, r);
}

/* ---- the sweep of `offloadlab clean` ---- */

/* Manifests of dead runs: remove what they list and still matches. */
static void clean_manifests(struct leftovers_report *r)
{
	struct dirent *de;
	DIR *d = opendir(RUN_STATE_DIR);

	for (int i = 0; d && i < MAX_DIR_ENTRIES && (de = readdir(d)); i++) {
		pid_t pid = run_prefix_pid(de->d_name);
		char want[64];

		/* The exact name: a pid too long to parse is not this run's. */
		snprintf(want, sizeof(want), RUN_PREFIX_BASE "%d.manifest", (int)pid);
		if (pid && !strcmp(de->d_name, want))
			manifest_clean_run(pid, r);	/* -EBUSY for live runs */
	}
	if (d)
		closedir(d);
}

/* Other state of dead runs (lock files); manifests go with what they list,
 * handlers' state (containers) with its manifest entry. */
static void clean_run_state(json_t *kept, struct leftovers_report *r)
{
	struct dirent *de;
	DIR *d = opendir(RUN_STATE_DIR);

	for (int i = 0; d && i < MAX_DIR_ENTRIES && (de = readdir(d)); i++) {
		pid_t pid = run_prefix_pid(de->d_name);
		const char *rest = pid ? run_prefix_rest(de->d_name) : NULL;
		char path[600];
		int err;

		if (!pid || pid == getpid() || !strcmp(rest, ".manifest") || handler_owns(de->d_name))
			continue;
		snprintf(path, sizeof(path), RUN_STATE_DIR "/%s", de->d_name);
		err = run_owner_alive(pid) ? -EBUSY :
		      !strcmp(rest, ".lock") ? run_lock_remove_dead(pid) : remove_tree(path);
		if (err == -EBUSY) {
			leftovers_note(kept, "run state", de->d_name, "owner alive");
		} else if (err) {
			pr_warn("offloadlab clean: cannot remove %s: %s\n", path, strerror(-err));
			r->failures++;
		} else {
			leftovers_note(r->removed, "run state", de->d_name, NULL);
		}
	}
	if (d)
		closedir(d);
}

void leftovers_sweep(json_t *kept, struct leftovers_report *r)
{
	clean_manifests(r);
	leftovers_scan(0, kept, r);
	clean_run_state(kept, r);
}
