/*
 * What a dead run (SIGKILLed: its lock is free) left behind, removed from its
 * manifest only (lib/manifest.h): used by `offloadlab clean` and by the check
 * framework when it had to kill a check.  Names are never trusted: an
 * "olab<pid>..." object that the manifest does not list with the same
 * identity is reported as not created by offloadlab and left alone.
 */
#ifndef OLAB_LEFTOVERS_H
#define OLAB_LEFTOVERS_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include "lib/manifest.h"
#include "lib/registry.h"

struct leftovers_report {
	json_t *removed;    /* [{"kind", "name"}], may be NULL */
	json_t *foreign;    /* [{"kind", "name", "why"}]: left alone, may be NULL */
	int failures;       /* ours, but could not be removed */
};

/*
 * A kind of leftover that a higher layer creates (containers/: runc state,
 * container cgroups), added to the one sweep with LEFTOVERS_HANDLER: it
 * removes its manifest entries (checked to be named after the run, before the
 * run's processes are killed) and reports its own look-alikes; the generic
 * scans skip the "olab<pid><suffix>..." names it owns.
 */
struct leftovers_handler {
	enum manifest_kind kind;
	const char *suffix;
	/* Remove what entry e of dead run lists; the number of failures. */
	int (*clean)(pid_t run, const struct manifest_entry *e, struct leftovers_report *r);
	/* Note its look-alikes of dead runs (only_run's, 0: all) in r->foreign. */
	void (*scan)(pid_t only_run, struct leftovers_report *r);
	int order;
};
#define LEFTOVERS_HANDLER(sym) REGISTRY_ADD(olab_leftovers, sym)

/*
 * Remove what run's manifest lists and still matches: first the handlers'
 * entries (containers), then its processes
 * (pid + start time) and their descendants are killed, then, newest first,
 * its namespaces are unmounted (never the root or the caller's; processes
 * not tied to the run are not killed, the namespace dies with them), pins
 * unlinked and cgroups removed.  Look-alikes of the run are reported
 * (leftovers_scan).  Then the manifest and the run's lock file go if nothing
 * it lists is left.  0, -EBUSY (the run is alive or is us) or
 * -ENOENT (no manifest).
 */
int manifest_clean_run(pid_t run, struct leftovers_report *r);

/* Report the "olab<pid>..." namespaces, pins and cgroups (at the cgroup2
 * mount) that are not what a manifest lists, with why, in r->foreign; those
 * of live runs in kept (may be NULL).  only_run: that run's only, 0: all. */
void leftovers_scan(pid_t only_run, json_t *kept, struct leftovers_report *r);

/* `offloadlab clean`: every dead run's manifest (manifest_clean_run), the
 * look-alikes (leftovers_scan), then dead runs' other state (lock files).
 * Live runs' objects are listed in kept. */
void leftovers_sweep(json_t *kept, struct leftovers_report *r);

/* Append {"kind", "name"[, "why"]} unless the same kind and name is there. */
void leftovers_note(json_t *list, const char *kind, const char *name, const char *why);

#endif
