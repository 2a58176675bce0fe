/* `offloadlab report`: the CLI of the report (report/). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "lib/json_out.h"
#include "lib/util.h"
#include "report/report.h"
#include "results/results.h"

struct report_cfg {
	const char *html, *md, *baseline, *threshold;
};

static const struct opt_desc report_opts[] = {
	{ "html", 0, OPT_STR, offsetof(struct report_cfg, html), "FILE",
	  "the HTML page (default: <first RUN_DIR>/report.html)" },
	{ "md", 0, OPT_STR, offsetof(struct report_cfg, md), "FILE",
	  "also a Markdown summary, its SVGs written beside it" },
	{ "baseline", 0, OPT_STR, offsetof(struct report_cfg, baseline), "RUN_DIR",
	  "regression check: exit 1 when a figure moved beyond its 95 % CI by more than "
	  "--threshold against this run" },
	{ "threshold", 0, OPT_STR, offsetof(struct report_cfg, threshold), "PCT",
	  "the change that counts as a regression when the CIs do not overlap (default 10)" },
	OPT_END,
};

static const struct olab_cmd report_cmd;

/* This command's own line, for the page: the process's argv. */
static void own_cmdline(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/cmdline", "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;

	if (f)
		fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = 0;
}

static int load_runs(struct report_cfg *c, int argc, char **argv, struct report_run *runs,
		     size_t *n)
{
	const char *dirs[REPORT_MAX_RUNS + 1];
	char latest[512], why[640];
	size_t k = 0;

	if (c->baseline)
		dirs[k++] = c->baseline;
	for (int i = 0; i < argc; i++)
		dirs[k++] = argv[i];
	if (!argc) {
		if (report_latest_run("results", latest, sizeof(latest)))
			return cli_usage_error("report", "no RUN_DIR given and no results/run-* "
					       "with a results.json or matrix*.json here");
		dirs[k++] = latest;
	}
	for (*n = 0; *n < k; (*n)++) {
		if (report_run_load(dirs[*n], &runs[*n], why, sizeof(why))) {
			fprintf(stderr, "offloadlab report: %s\n", why);
			return EXIT_FAIL;
		}
		for (size_t j = 0; j < *n; j++)
			if (!strcmp(runs[j].label, runs[*n].label))
				snprintf(runs[*n].label + strlen(runs[*n].label),
					 sizeof(runs[*n].label) - strlen(runs[*n].label), "#%zu", *n + 1);
	}
	return 0;
}

static int check_args(struct report_cfg *c, int argc, struct report_opts *o)
{
	char why[256], *end;

	if (argc + !!c->baseline > REPORT_MAX_RUNS)
		return cli_usage_error("report", "at most %d runs", REPORT_MAX_RUNS);
	if (c->baseline && !argc)
		return cli_usage_error("report", "--baseline needs the RUN_DIR to check");
	o->threshold_pct = REPORT_THRESHOLD_PCT;
	if (c->threshold) {
		o->threshold_pct = strtod(c->threshold, &end);
		if (*end || end == c->threshold || !(o->threshold_pct >= 0) || o->threshold_pct > 1e6)
			return cli_usage_error("report", "--threshold '%s': a percentage >= 0",
					       c->threshold);
	}
	if (c->html && results_validate_out_file(c->html, why, sizeof(why)))
		return cli_usage_error("report", "--html '%s': %s", c->html, why);
	if (c->md && results_validate_out_file(c->md, why, sizeof(why)))
		return cli_usage_error("report", "--md '%s': %s", c->md, why);
	o->md = c->md;
	o->regression = c->baseline != NULL;
	return 0;
}

static int write_outputs(struct report_doc *d, struct report_opts *o)
{
	json_t *sum;
	int ret = 0;

	if (o->html && report_write_html(d, o->html))
		return EXIT_FAIL;
	if (o->md && report_write_md(d, o->md))
		return EXIT_FAIL;
	if (o->regression && json_array_size(d->regressions))
		ret = EXIT_FAIL;
	if (g_opts.json) {
		sum = report_summary_json(d);
		json_object_set_new(sum, "html", json_string(o->html));
		json_object_set_new(sum, "md", o->md ? json_string(o->md) : json_null());
		return cli_json_out("report", sum) ?: ret;
	}
	fprintf(stderr, "offloadlab report: %zu plots, %zu tables", d->nplots, d->ntables);
	if (o->regression)
		fprintf(stderr, "; %zu figure(s) moved beyond their CI by more than %.1f %%",
			json_array_size(d->regressions), o->threshold_pct);
	fputc('\n', stderr);
	printf("%s\n", o->html);
	if (o->md)
		printf("%s\n", o->md);
	return ret;
}

static int report_run(void *cfg, int argc, char **argv)
{
	struct report_cfg *c = cfg;
	struct report_run runs[REPORT_MAX_RUNS + 1];
	struct report_opts o = { 0 };
	struct report_doc d;
	char html[640], line[1024];
	size_t n = 0;
	int ret;

	own_cmdline(line, sizeof(line));
	argc = cli_parse_interleaved(&report_cmd, "report", c, argc, argv);
	if (argc < 0)
		return argc == -2 ? EXIT_OK : EXIT_USAGE;
	if ((ret = check_args(c, argc, &o)))
		return ret;
	if ((ret = load_runs(c, argc, argv, runs, &n)))
		goto out;
	snprintf(html, sizeof(html), "%s/report.html", runs[c->baseline ? 1 : 0].dir);
	o.html = c->html ?: html;
	o.cmdline = line;
	if (report_build(&d, runs, n, &o)) {
		fprintf(stderr, "offloadlab report: %s\n", d.why);
		ret = EXIT_FAIL;
	} else {
		ret = write_outputs(&d, &o);
	}
	report_doc_free(&d);
out:
	for (size_t i = 0; i < n; i++)
		report_run_free(&runs[i]);
	return ret;
}

COMMAND(report_cmd, "report", 47, 0, report_run,
	"an HTML page (and --md Markdown) of the latest run or the RUN_DIRs: plots, ratios, "
	"checks; several runs side by side; --baseline: a regression check",
	.args = " [RUN_DIR...]", CMD_OPTS(report_opts, struct report_cfg, NULL));
