/*
 * The run's manifest: RUN_STATE_DIR/<prefix>.manifest lists, one JSON object
 * a line, what the run created and how to recognise it again (a namespace's
 * nsfs inode, a pin's or cgroup's inode, a process's start time).  `clean`
 * acts only on what a dead run's manifest lists and still matches, never on a
 * name alone.  Created on the first add; the run's cleanup removes it once
 * nothing it lists is left.
 */
#ifndef OLAB_MANIFEST_H
#define OLAB_MANIFEST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum manifest_kind {
	MANIFEST_NETNS,       /* /run/netns/<name> with the namespace mounted on it */
	MANIFEST_NETNS_FILE,  /* the same path before the mount: a plain file */
	MANIFEST_PIN,
	MANIFEST_CGROUP,
	MANIFEST_PROCESS,
	MANIFEST_CTR_STATE,   /* RUN_STATE_DIR/<prefix>-ctr: runc state, bundles, rootfs */
	MANIFEST_SCRATCH,     /* SCRATCH_DIR/<prefix>-...: a run's scratch directory tree */
};
#define SCRATCH_DIR "/tmp"

struct manifest_entry {
	enum manifest_kind kind;
	char path[256];     /* netns (file): its /run/netns path; pin, cgroup: the path */
	uint64_t dev, ino;  /* the object's identity (not for processes) */
	pid_t pid;          /* processes */
	uint64_t start;     /* processes: field 22 of /proc/PID/stat */
};

struct manifest {
	struct manifest_entry *e;
	size_t n;
};

/* Record the object at path (not following a final symlink); 0 or -errno. */
int manifest_add_path(enum manifest_kind kind, const char *path);
/* Record a process this run started; 0 or -errno. */
int manifest_add_process(pid_t pid);

/* RUN_STATE_DIR/olab<run>.manifest */
void manifest_path(pid_t run, char *buf, size_t len);
/* Load a run's manifest (lines it cannot parse are skipped); 0, -ENOENT or -errno. */
int manifest_load(pid_t run, struct manifest *m);
void manifest_free(struct manifest *m);
/* Run's manifest lists path as kind, and it is still there with the
 * recorded identity: what `clean` needs before acting on it. */
bool manifest_lists(pid_t run, enum manifest_kind kind, const char *path);
/* Is what the entry recorded still there, same identity?  When the path
 * exists but holds something else, *differs says what (may be NULL). */
bool manifest_entry_present(const struct manifest_entry *e, char *differs, size_t len);
const char *manifest_kind_name(enum manifest_kind kind);

/* What /proc/PID/stat says about a process. */
struct proc_ident {
	pid_t ppid;
	char state;         /* 'Z', 'X': gone for our purposes */
	uint64_t start;     /* start time, clock ticks after boot */
};
int proc_ident_read(pid_t pid, struct proc_ident *id);
/* Alive (not a zombie) with this start time. */
bool proc_matches(pid_t pid, uint64_t start);

#endif
