/*
 * Results of a bench run: every figure with its method, its trials, median
 * and 95% CI, and the full configuration, written as JSON (jansson) to
 * results/<run-id>/results.json, printed as a table, and set beside the
 * published reference figures (results/reference.json) as ratios.
 */
#ifndef OLAB_RESULTS_H
#define OLAB_RESULTS_H
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "lib/stats.h"

struct results {
	json_t *root;        /* {"run_id", "complete", "config", "results": [...]} */
	json_t *list;
	char run_id[64];
	char dir[512];       /* results/<run-id> */
	int dirfd;           /* dir, opened O_NOFOLLOW; valid when on_disk */
	bool on_disk;        /* results_open succeeded: flushes write the file */
	int write_err;       /* the first failed write (already reported), or 0 */
};

struct result {
	const char *bench;   /* overhead, drop, pass, echo */
	const char *hook;
	const char *variant; /* e.g. "app-own-cpu"; NULL */
	const char *metric;  /* e.g. "pps", "ns_per_packet", "cost_pct", "p99_us" */
	const char *unit;
	const char *method;  /* how it was measured */
	const double *trials;
	size_t n;
	json_t *extra;       /* stolen; NULL */
};

/*
 * Where results and reports may go, checked before any work starts: 0, or
 * -errno with why filled ("is a symbolic link", "is on bpffs"...), nothing
 * created.  --out: an existing writable directory, or a missing one whose
 * parent is a writable directory; not a symlink, not a run folder (run-* with
 * a results.json), not on bpffs, cgroupfs, procfs or sysfs.  --junit: a
 * regular file or a new name, in such a directory.
 */
int results_validate_out_dir(const char *dir, char *why, size_t len);
int results_validate_out_file(const char *path, char *why, size_t len);

/* Create results/<run-id>/ under root_dir (created 0755 if missing; run dir
 * 0755 whatever the umask) and write results.json with "complete": false;
 * 0 or -errno with one line printed, and no run dir left. */
int results_open(struct results *r, const char *root_dir, json_t *config);
/* Append a figure; returns its JSON object (borrowed).  Call results_flush
 * once the figure is final (bench_add does). */
json_t *results_add(struct results *r, const struct result *res);
/* Rewrite results.json (still "complete": false) atomically: temp file,
 * fsync, rename, fsync of the folder; mode 0644.  The first failure is
 * reported in one line; 0 or -errno. */
int results_flush(struct results *r);
/* The final write: the reference ratios, "complete": true, or false with an
 * "incomplete_reason" when a stop signal ended the run or failed (NULL: it
 * did not fail). */
int results_write(struct results *r, const char *failed);
void results_close(struct results *r);
/* A new run folder <root>/<run-id> (as results_open names it) holding only
 * name, the document written atomically (another command's run: `matrix`
 * writes matrix-<command>.json); the folder into dir.  0 or -errno with one
 * line printed, and no run folder left. */
int results_save_doc(const char *root_dir, const char *name, json_t *doc, char *dir, size_t len);

/* The configuration every result carries: kernel, commit, CPUs, version, time. */
json_t *results_base_config(void);
/* One row per figure: bench hook variant metric median [ci] method. */
void results_print_table(const struct results *r, FILE *f);
/* Beside the reference figures: this machine's ratio vs the published one. */
void results_print_reference(const struct results *r, FILE *f);
json_t *results_reference_json(const struct results *r);

/* The embedded reference.json. */
json_t *reference_load(void);

#endif
