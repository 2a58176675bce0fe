/* `offloadlab clean`: remove what runs that died without cleaning up (SIGKILL)
 * left, as their manifests list it; "olab<pid>..." look-alikes are reported
 * as not created by offloadlab and left alone. */
#include <stdio.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/util.h"
#include "netns/leftovers.h"

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

	leftovers_sweep(kept, &r);

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

COMMAND(cmd_clean, "clean", 90, NEED_ALL, clean_run,
	"remove what killed runs left behind, as their manifests list it");
