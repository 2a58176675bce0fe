/* `offloadlab scenario list|check|run`: real deployments from scenario files. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/features.h"
#include "lib/util.h"
#include "results/results.h"
#include "scenarios/scenario.h"

struct scn_cfg {
	bool quick;
	int runtime;
	const char *out;
};

static const char *const runtime_choices[] = { "runc", "netns", NULL };
static const struct scn_cfg run_defaults = { .out = "results" };

static const struct opt_desc run_opts[] = {
	{ "quick", 'q', OPT_FLAG, offsetof(struct scn_cfg, quick), NULL,
	  "the file's quick: trials and duration" },
	{ "runtime", 0, OPT_ENUM, offsetof(struct scn_cfg, runtime), "RT",
	  "runc: containers as the file says; netns: each container's command run directly "
	  "in its host's namespace", 0, 0, runtime_choices },
	{ "out", 'o', OPT_STR, offsetof(struct scn_cfg, out), "DIR",
	  "results root (default results): results/run-ID/results.json" },
	OPT_END,
};

/* The built-in scenarios: scenarios/ beside the binary's directory (build/..)
 * or in the current directory. */
static int scenarios_dir(char *buf, size_t len)
{
	char self[PATH_MAX - 32], *slash;
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
			*slash = '\0';
		snprintf(buf, len, "%s/../scenarios", self);
		if (!stat(buf, &st) && S_ISDIR(st.st_mode))
			return 0;
	}
	snprintf(buf, len, "scenarios");
	return !stat(buf, &st) && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* FILE, or NAME of a built-in scenario. */
static void scenario_path(const char *arg, char *buf, size_t len) /* len: PATH_MAX */
{
	char dir[PATH_MAX - 32];
	struct stat st;

	snprintf(buf, len, "%s", arg);
	if (strchr(arg, '/') || !stat(arg, &st) || scenarios_dir(dir, sizeof(dir)))
		return;
	snprintf(buf, len, "%s/%s.yaml", dir, arg);
}

static int list_run(void *c, int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX + 300];
	json_t *arr = json_array();
	struct dirent **de = NULL;
	int n;

	if (scenarios_dir(dir, sizeof(dir)))
		return cli_usage_error("scenario list", "no scenarios/ directory found");
	n = scandir(dir, &de, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(de[i]->d_name);
		struct scenario *s;

		if (l > 5 && !strcmp(de[i]->d_name + l - 5, ".yaml")) {
			snprintf(path, sizeof(path), "%s/%s", dir, de[i]->d_name);
			if (!scenario_load(path, &s)) {
				json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", s->name,
					"file", path, "description", s->description));
				if (!g_opts.json)
					printf("%-24s %s\n", s->name, s->description);
				scenario_free(s);
			}
		}
		free(de[i]);
	}
	free(de);
	if (g_opts.json)
		return cli_json_out("scenario list", json_pack("{s:o}", "scenarios", arr));
	json_decref(arr);
	return EXIT_OK;
}

static int check_run(void *c, int argc, char **argv)
{
	char path[PATH_MAX];
	struct scenario *s;

	if (argc != 1)
		return cli_usage_error("scenario check", "want one FILE");
	scenario_path(argv[0], path, sizeof(path));
	if (scenario_load(path, &s))
		return EXIT_USAGE;
	if (g_opts.json)
		cli_json_out("scenario check", json_pack("{s:s, s:s, s:b}", "name", s->name,
							 "file", path, "valid", 1));
	else
		printf("%s: %s: valid\n", path, s->name);
	scenario_free(s);
	return EXIT_OK;
}

static const struct olab_cmd cmd_scenario_run;

static int run_run(void *c, int argc, char **argv)
{
	struct scn_cfg *cfg = c;
	struct scn_run_opts o;
	char path[PATH_MAX], why[256];
	struct scenario *s;
	int ret;

	argc = cli_parse_interleaved(&cmd_scenario_run, "scenario run", cfg, argc, argv);
	if (argc < 0)
		return argc == -2 ? EXIT_OK : EXIT_USAGE;
	if (argc != 1)
		return cli_usage_error("scenario run", "want one FILE or NAME");
	if (results_validate_out_dir(cfg->out, why, sizeof(why)))
		return cli_usage_error("scenario run", "--out '%s': %s", cfg->out, why);
	scenario_path(argv[0], path, sizeof(path));
	if (scenario_load(path, &s))
		return EXIT_USAGE;
	if (cli_measure_lock("scenario run")) {
		scenario_free(s);
		return EXIT_FAIL;
	}
	feature_probe_all();
	o = (struct scn_run_opts){ .quick = cfg->quick, .json = g_opts.json,
				   .netns_runtime = cfg->runtime == 1, .out = cfg->out };
	ret = scenario_run(s, &o);
	scenario_free(s);
	return ret;
}

CMD(cmd_scenario_list, "list", 10, 0, list_run, "the built-in scenarios (scenarios/NAME.yaml)");
CMD(cmd_scenario_check, "check", 20, 0, check_run,
	"validate a scenario file: exit 0, or 2 with FILE:LINE: field: problem", .args = " FILE");
CMD(cmd_scenario_run, "run", 30, NEED_ALL | MEASURES, run_run,
	"deploy, run paired trials (offload / none), report and judge", .args = " FILE|NAME",
	CMD_OPTS(run_opts, struct scn_cfg, &run_defaults));

static const struct olab_cmd *const scenario_subcmds[] = {
	&cmd_scenario_list, &cmd_scenario_check, &cmd_scenario_run, NULL
};

COMMAND(cmd_scenario, "scenario", 55, 0, NULL,
	"real apps in containers, real offloads, real clients: scenario files",
	.subcmds = scenario_subcmds);
