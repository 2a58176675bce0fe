/* `offloadlab clean`: remove what runs that died without cleaning up (SIGKILL) left. */
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
#include "netns/netns.h"

/* A place where runs leave named objects, and how to remove one. */
struct leftover_kind {
	const char *what;
	const char *dir;
	int (*remove)(const char *dir, const char *name);
};

static int remove_netns(const char *dir, const char *name)
{
	return netns_delete_by_name(name);
}

static int remove_path(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return remove_tree(path);
}

/* cgroup directories can only be rmdir'ed, children first. */
static int remove_cgroup(const char *dir, const char *name)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_type == DT_DIR && de->d_name[0] != '.')
				remove_cgroup(path, de->d_name);
		closedir(d);
	}
	return rmdir(path) && errno != ENOENT ? -errno : 0;
}

static const struct leftover_kind kinds[] = {
	{ "netns", NETNS_RUN_DIR, remove_netns },
	{ "bpffs pin", RUN_BPFFS_DIR, remove_path },
	{ "cgroup", "/sys/fs/cgroup/unified", remove_cgroup },
	{ "run state", RUN_STATE_DIR, remove_path },
};

static int clean_run(void *cfg, int argc, char **argv)
{
	json_t *removed = json_array(), *kept = json_array();
	int failures = 0;

	/* Containers first: runc needs their state, and their processes must be
	 * gone before cgroups and run state are removed. */
	failures += containers_clean_dead(removed);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		struct dirent *de;
		DIR *d = opendir(kinds[k].dir);

		if (!d)
			continue;
		while ((de = readdir(d))) {
			pid_t pid = run_prefix_pid(de->d_name);
			int err;

			if (!pid || pid == getpid())
				continue;
			if (run_owner_alive(pid)) {
				json_array_append_new(kept, json_pack("{s:s, s:s, s:s}", "kind", kinds[k].what,
								      "name", de->d_name, "why", "owner alive"));
				continue;
			}
			err = kinds[k].remove(kinds[k].dir, de->d_name);
			if (err) {
				pr_warn("offloadlab clean: cannot remove %s %s: %s\n", kinds[k].what,
					de->d_name, strerror(-err));
				failures++;
				continue;
			}
			json_array_append_new(removed, json_pack("{s:s, s:s}", "kind", kinds[k].what,
								 "name", de->d_name));
		}
		closedir(d);
	}

	if (g_opts.json) {
		json_t *out = json_pack("{s:o, s:o, s:i}", "removed", removed, "kept", kept,
					"failures", failures);

		json_dumpf(out, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(out);
	} else {
		size_t i;
		json_t *e;

		json_array_foreach(removed, i, e)
			printf("removed %s %s\n", json_string_value(json_object_get(e, "kind")),
			       json_string_value(json_object_get(e, "name")));
		json_array_foreach(kept, i, e)
			printf("kept %s %s (its run is still alive)\n",
			       json_string_value(json_object_get(e, "kind")),
			       json_string_value(json_object_get(e, "name")));
		if (!json_array_size(removed))
			printf("nothing to clean\n");
		json_decref(removed);
		json_decref(kept);
	}
	return failures ? EXIT_FAIL : EXIT_OK;
}

static const struct olab_cmd cmd_clean = {
	.name = "clean",
	.summary = "remove what killed runs left behind (namespaces, pins, cgroups, state)",
	.needs = NEED_ALL,
	.run = clean_run,
	.order = 90,
};
DEFINE_COMMAND(cmd_clean);
