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

struct leftovers_report {
	json_t *removed;    /* [{"kind", "name"}], may be NULL */
	json_t *foreign;    /* [{"kind", "name", "why"}]: left alone, may be NULL */
	int failures;       /* ours, but could not be removed */
};

/*
 * Remove what run's manifest lists and still matches: first its processes
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

/* Append {"kind", "name"[, "why"]} unless the same kind and name is there. */
void leftovers_note(json_t *list, const char *kind, const char *name, const char *why);

#endif
