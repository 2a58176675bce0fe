/* `offloadlab clean`: remove what runs that died without cleaning up (SIGKILL)
 * left, as their manifests list it; "olab<pid>..." look-alikes are reported
 * as not created by offloadlab and left alone. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "containers/container.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/leftovers.h"
#include "netns/netns.h"

/* Manifests of dead runs: remove what they list and still matches. */
static void clean_manifests(struct leftovers_report *r)
{
	struct dirent *de;
	DIR *d = opendir(RUN_STATE_DIR);

	for (int i = 0; d && i < 100000 && (de = readdir(d)); i++) {
		pid_t pid = run_prefix_pid(de->d_name);
		char want[64];

		snprintf(want, sizeof(want), RUN_PREFIX_BASE "%d.manifest", (int)pid);
		if (pid && !strcmp(de->d_name, want))
			manifest_clean_run(pid, r);	/* -EBUSY for live runs */
	}
	if (d)
		closedir(d);
}

/* "olab<pid>-ctr": a run's container state directory. */
static bool ctr_state_name(const char *name)
{
	const char *p = name + strlen(RUN_PREFIX_BASE);

	p += strspn(p, "0123456789");
	return !strcmp(p, "-ctr");
}

/* Other state of dead runs (lock files); manifests go with what they list. */
static void clean_run_state(json_t *kept, struct leftovers_report *r)
{
	struct dirent *de;
	DIR *d = opendir(RUN_STATE_DIR);

	for (int i = 0; d && i < 100000 && (de = readdir(d)); i++) {
		pid_t pid = run_prefix_pid(de->d_name);
		const char *dot = strrchr(de->d_name, '.');
		char path[600];
		int err;

		/* Manifests go with what they list; container state with its
		 * containers (containers_clean_dead, only when a manifest lists it). */
		if (!pid || pid == getpid() || (dot && !strcmp(dot, ".manifest")) ||
		    ctr_state_name(de->d_name))
			continue;
		if (run_owner_alive(pid)) {
			leftovers_note(kept, "run state", de->d_name, "owner alive");
			continue;
		}
		snprintf(path, sizeof(path), RUN_STATE_DIR "/%s", de->d_name);
		err = dot && !strcmp(dot, ".lock") ? run_lock_remove_dead(pid) : remove_tree(path);
		if (err == -EBUSY) {
			leftovers_note(kept, "run state", de->d_name, "owner alive");
			continue;
		}
		if (err) {
			pr_warn("offloadlab clean: cannot remove %s: %s\n", path, strerror(-err));
			r->failures++;
			continue;
		}
		leftovers_note(r->removed, "run state", de->d_name, NULL);
	}
	if (d)
		closedir(d);
}

static void print_text(json_t *removed, json_t *kept, json_t *foreign)
{
	size_t i;
	json_t *e;

#define STR(e, k) json_string_value(json_object_get(e, k))
	json_array_foreach(removed, i, e)
		printf("removed %s %s\n", STR(e, "kind"), STR(e, "name"));
	json_array_foreach(kept, i, e)
		printf("kept %s %s (its run is still alive)\n", STR(e, "kind"), STR(e, "name"));
	json_array_foreach(foreign, i, e)
		printf("left %s %s: not created by offloadlab (%s)\n", STR(e, "kind"),
		       STR(e, "name"), STR(e, "why"));
#undef STR
	if (!json_array_size(removed))
		printf("nothing to clean\n");
}

static int clean_run(void *cfg, int argc, char **argv)
{
	struct leftovers_report r = { .removed = json_array(), .foreign = json_array() };
	json_t *kept = json_array();

	/* Containers first: runc needs their state, and their processes must be
	 * gone before cgroups and run state are removed. */
	r.failures += containers_clean_dead(r.removed, r.foreign);
	clean_manifests(&r);
	leftovers_scan(0, kept, &r);
	clean_run_state(kept, &r);

	if (g_opts.json) {
		if (cli_json_out("clean", json_pack("{s:o, s:o, s:o, s:i}", "removed", r.removed,
						    "kept", kept, "not_created", r.foreign,
						    "failures", r.failures)))
			return EXIT_FAIL;
	} else {
		print_text(r.removed, kept, r.foreign);
		json_decref(r.removed);
		json_decref(kept);
		json_decref(r.foreign);
	}
	return r.failures ? EXIT_FAIL : EXIT_OK;
}

static const struct olab_cmd cmd_clean = {
	.name = "clean",
	.summary = "remove what killed runs left behind, as their manifests list it",
	.needs = NEED_ALL,
	.run = clean_run,
	.order = 90,
};
DEFINE_COMMAND(cmd_clean);
