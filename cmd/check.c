/* `offloadlab check`: the compatibility checks (one file per check in checks/). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "checks/check.h"
#include "cmd/cmd.h"
#include "lib/cpuidle.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "results/results.h"

struct check_cfg {
	int runtime;
	const char *junit;
	bool list;
	int cpu_idle;
};

static const char *const runtime_choices[] = { "netns", "runc", NULL };

static const struct check_cfg defaults = { .runtime = APP_RT_NETNS, .cpu_idle = CPUIDLE_UNSET };

static const struct opt_desc check_opts[] = {
	{ "runtime", 0, OPT_ENUM, offsetof(struct check_cfg, runtime), "RT",
	  "where the app runs", 0, 0, runtime_choices },
	{ "junit", 0, OPT_STR, offsetof(struct check_cfg, junit), "FILE",
	  "also write JUnit XML to FILE" },
	{ "cpu-idle", 0, OPT_ENUM, offsetof(struct check_cfg, cpu_idle), "MODE",
	  "poll: hold /dev/cpu_dma_latency at 0 during the checks that compare timings "
	  "(their default); default: leave idle states alone", 0, 0, cpuidle_mode_names },
	{ "list", 'l', OPT_FLAG, offsetof(struct check_cfg, list), NULL,
	  "list the checks (and what each needs) without running them" },
	OPT_END,
};

static void feature_list(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int f = 0; f < FEAT__COUNT && n < len; f++)
		if (mask & CHECK_FEAT(f))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "", feature_name(f));
}

/* The check's kernel ranges, one line each (list --verbose). */
static void print_kernels(const struct check *c)
{
	json_t *arr = check_kernels_json(c), *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		const char *holds = json_string_value(json_object_get(e, "holds"));

		printf("%-30s   kernels: %s %s: %s%s%s%s (%s)\n", "",
		       json_string_value(json_object_get(e, "applies_to")),
		       json_string_value(json_object_get(e, "text")), holds ?: "",
		       holds ? ", else " : "",
		       json_string_value(json_object_get(e, "otherwise")) ?: "",
		       holds ? "" : "the known kernel bug",
		       json_string_value(json_object_get(e, "ref")));
	}
	json_decref(arr);
}

static int list_checks(const struct check **sel, size_t n)
{
	json_t *arr = g_opts.json ? json_array() : NULL;
	char feats[256];

	for (size_t i = 0; i < n; i++) {
		feature_list(sel[i]->features, feats, sizeof(feats));
		if (arr) {
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
				"name", sel[i]->name, "summary", sel[i]->summary,
				"features", feats, "tools", sel[i]->tools ?: "",
				"expected", sel[i]->expected, "reference", sel[i]->reference ?: "",
				"kernels", check_kernels_json(sel[i])));
		} else {
			printf("%-30s %s\n", sel[i]->name, sel[i]->summary);
			if (g_opts.verbose) {
				printf("%-30s   needs: %s%s%s\n%-30s   expected: %s\n", "",
				       feats[0] ? feats : "-", sel[i]->tools ? "; " : "",
				       sel[i]->tools ?: "", "", sel[i]->expected);
				print_kernels(sel[i]);
			}
		}
	}
	if (arr)
		return cli_json_out("check", json_pack("{s:o}", "checks", arr));
	return EXIT_OK;
}

static const struct olab_cmd cmd_check;

static int check_cmd_run(void *c, int argc, char **argv)
{
	struct check_cfg *cfg = c;
	struct check_run_opts ro;
	const struct check *sel[64];
	struct check_result *res = NULL;
	size_t n = 0, done = 0;
	bool failed = false;
	int ret = EXIT_OK;
	char why[256];

	argc = cli_parse_interleaved(&cmd_check, "check", cfg, argc, argv);
	if (argc < 0)
		return argc == -2 ? EXIT_OK : EXIT_USAGE;
	ro = (struct check_run_opts){ .runtime = cfg->runtime, .cpu_idle = cfg->cpu_idle };

	for (size_t i = 0; i < check_count() && n < ARRAY_SIZE(sel); i++) {
		const struct check *k = check_get(i);
		bool want = argc == 0;

		for (int a = 0; a < argc; a++)
			want |= check_matches(k, argv[a]);
		if (want)
			sel[n++] = k;
	}
	for (int a = 0; a < argc; a++) {
		bool hit = false;

		for (size_t i = 0; i < check_count(); i++)
			hit |= check_matches(check_get(i), argv[a]);
		if (!hit)
			return cli_usage_error("check", "no check matches '%s' (see --list)", argv[a]);
	}
	if (cfg->list)
		return list_checks(sel, n);
	if (cfg->junit && results_validate_out_file(cfg->junit, why, sizeof(why)))
		return cli_usage_error("check", "--junit '%s': %s", cfg->junit, why);

	if (cli_measure_lock("check"))
		return EXIT_FAIL;
	res = calloc(n ? n : 1, sizeof(*res));
	if (!res)
		return EXIT_FAIL;
	/* Probe in the parent, before any fork, so every check shares the results. */
	feature_probe_all();
	for (size_t i = 0; i < n && !run_stopping(); i++) {
		if (isatty(STDERR_FILENO) && !g_opts.verbose)
			fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, n, sel[i]->name);
		check_run(sel[i], &ro, &res[i]);
		failed |= res[i].status == CHECK_FAIL;
		done++;
	}
	if (isatty(STDERR_FILENO) && !g_opts.verbose)
		fputs("\r\033[K", stderr);

	if (g_opts.json) {
		json_t *doc = check_results_json(res, done);

		json_object_set_new(doc, "measurement", cli_measure_json());
		if (cli_json_out("check", doc))
			ret = EXIT_FAIL;
	} else {
		check_print_matrix(stdout, res, done);
	}
	if (cfg->junit) {
		int err = check_write_junit(cfg->junit, res, done);

		if (err) {
			pr_warn("offloadlab check: cannot write %s: %s\n", cfg->junit, strerror(-err));
			ret = EXIT_FAIL;
		}
	}
	if (run_stopping()) {
		pr_warn("offloadlab check: interrupted\n");
		ret = EXIT_FAIL;
	}
	fprintf(stderr, "offloadlab check: for the report's checks matrix: offloadlab --json check "
		"> RUN_DIR/checks.json, then offloadlab report RUN_DIR\n");
	for (size_t i = 0; i < done; i++)
		check_result_free(&res[i]);
	free(res);
	return failed ? EXIT_FAIL : ret;
}

COMMAND(cmd_check, "check", 50, NEED_ALL | MEASURES, check_cmd_run,
	"do netfilter, tc, sockmap and cgroup still behave next to the offload?",
	.args = " [NAME|GLOB...]", CMD_OPTS(check_opts, struct check_cfg, &defaults));
