/* `offloadlab bench`: the CLI of the bench framework (bench/). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench/framework.h"
#include "cmd/cmd.h"
#include "lib/json_out.h"
#include "lib/run.h"
#include "lib/util.h"
#include "report/report.h"

#define MAX_SUBCMDS 33

static const struct bench_opts defaults = {
	.warmup_ms = BENCH_WARMUP_MS, .out = "results", .only = -1,
};

#define AXIS_OPT(a) { NULL, 0, OPT_STR, offsetof(struct bench_opts, axis) + (a) * sizeof(char *) }

/* The axes' options (comma lists) are filled from bench/axes.c at start-up. */
static struct opt_desc bench_opts[] = {
	AXIS_OPT(AXIS_HOOK), AXIS_OPT(AXIS_LAYOUT), AXIS_OPT(AXIS_PROTO), AXIS_OPT(AXIS_SIZE),
	AXIS_OPT(AXIS_CPU_IDLE), AXIS_OPT(AXIS_RUNTIME), AXIS_OPT(AXIS_PCT), AXIS_OPT(AXIS_BATCH),
	AXIS_OPT(AXIS_CHANNEL), AXIS_OPT(AXIS_COST), AXIS_OPT(AXIS_OP), AXIS_OPT(AXIS_KEY),
	AXIS_OPT(AXIS_ACCESS), AXIS_OPT(AXIS_PREALLOC), AXIS_OPT(AXIS_STAGES),
	{ "duration", 'd', OPT_MS, offsetof(struct bench_opts, duration_ms), "SEC",
	  "length of one trial (1.5, 300ms; default: the bench's, most 1 s)", 50, 600000 },
	{ "trials", 't', OPT_UINT, offsetof(struct bench_opts, trials), "N",
	  "repeated trials (default: the bench's, most 5; overhead extends until its CI target)",
	  1, 200 },
	{ "warmup", 0, OPT_MS, offsetof(struct bench_opts, warmup_ms), "SEC",
	  "warm-up before the trials", 0, 60000 },
	{ "out", 'o', OPT_STR, offsetof(struct bench_opts, out), "DIR",
	  "results root; a run writes DIR/<run-id>/results.json" },
	{ "quick", 'q', OPT_FLAG, offsetof(struct bench_opts, quick), NULL,
	  "short trials (3 x 300 ms, 100 ms warm-up, each axis's quick values) for a smoke run" },
	OPT_END,
};

/* One line on stderr (stdout may be JSON): how to see this run's report. */
static void report_hint(const char *path, const char *out)
{
	char dir[512];

	if (!report_latest_run(out, dir, sizeof(dir)))
		fprintf(stderr, "offloadlab %s: plots of this run: offloadlab report %s "
			"(writes %s/report.html)\n", path, dir, dir);
}

static int bench_cmd_run(void *cfg, int argc, char **argv)
{
	struct bench_opts *o = cfg;
	struct bench_plan *plan = NULL;
	char path[64], why[512];
	int err;

	snprintf(path, sizeof(path), "bench %s", o->only >= 0 ? bench_get(o->only)->name : "all");
	o->json = g_opts.json;
	o->progress = isatty(STDERR_FILENO) && !g_opts.verbose;
	err = bench_plan_make(o, &plan, why, sizeof(why));
	if (err == -ENOMEM)
		return EXIT_FAIL;
	if (err)
		return cli_usage_error(path, "%s", why);
	if (cli_measure_lock(path)) {
		bench_plan_free(plan);
		return EXIT_FAIL;
	}
	err = bench_plan_run(plan, cli_measure_json());
	bench_plan_free(plan);
	if (run_stopping())
		fprintf(stderr, "offloadlab %s: interrupted\n", path);
	else if (!err) /* a failed write already said its one line */
		report_hint(path, o->out);
	return err;
}

static json_t *ops_json(const char *const *ops)
{
	json_t *a = json_array();

	for (size_t i = 0; ops[i]; i++)
		json_array_append_new(a, json_string(ops[i]));
	return a;
}

/* `bench list`: the benches and their axes. */
static int bench_list_run(void *cfg, int argc, char **argv)
{
	json_t *a = json_array();

	for (size_t i = 0; i < bench_count(); i++) {
		const struct bench *b = bench_get(i);
		json_t *axes = json_object();

		for (int k = 0; k < AXIS__COUNT; k++)
			if (b->axes[k].full)
				json_object_set_new(axes, bench_axis_desc(k)->name,
						    json_string(b->axes[k].full));
		if (b->ops)
			json_object_set_new(axes, "op", ops_json(b->ops));
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:o}", "name", b->name,
						   "summary", b->summary, "latency", b->latency,
						   "axes", axes));
		if (!g_opts.json)
			printf("%-10s %s\n", b->name, b->summary);
	}
	if (g_opts.json)
		json_out(a);
	json_decref(a);
	return EXIT_OK;
}

static struct olab_cmd bench_cmds[MAX_SUBCMDS];
static struct bench_opts bench_defaults[MAX_SUBCMDS];
static const struct olab_cmd *bench_subcmds[MAX_SUBCMDS + 2];
static const struct olab_cmd cmd_bench_list = {
	.name = "list", .summary = "the benches and their axes (-j: JSON)", .run = bench_list_run,
};

static const struct olab_cmd cmd_bench = {
	.name = "bench",
	.summary = "measure hooks, offload patterns and the runtime's costs (bench list: every bench; all)",
	.subcmds = bench_subcmds,
	.order = 40,
};
DEFINE_COMMAND(cmd_bench);

static void fill_axis_opts(void)
{
	for (int a = 0; a < AXIS__COUNT; a++) {
		const struct bench_axis_desc *d = bench_axis_desc(a);

		bench_opts[a].name = d->name;
		bench_opts[a].metavar = d->metavar;
		bench_opts[a].help = d->help;
		bench_opts[a].choices = d->choices;
	}
}

__attribute__((constructor)) static void build_bench_cmds(void)
{
	size_t n = bench_count(), k = 0;

	fill_axis_opts();
	for (size_t i = 0; i <= n && k + 1 < MAX_SUBCMDS; i++, k++) {
		bool all = i == n;

		bench_defaults[k] = defaults;
		bench_defaults[k].only = all ? -1 : (int)i;
		bench_cmds[k] = (struct olab_cmd){
			.name = all ? "all" : bench_get(i)->name,
			.summary = all ? "every bench x every hook (--quick: about 4 minutes; full: about 30)"
				       : bench_get(i)->summary,
			.opts = bench_opts, .cfg_size = sizeof(struct bench_opts),
			.cfg_defaults = &bench_defaults[k], .needs = NEED_ALL | MEASURES,
			.run = bench_cmd_run,
		};
		bench_subcmds[k] = &bench_cmds[k];
	}
	bench_subcmds[k++] = &cmd_bench_list;
	bench_subcmds[k] = NULL;
}
