/* Building the report: every plot and table of the runs, and its summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/util.h"
#include "report/report_internal.h"

int report_build(struct report_doc *d, const struct report_run *runs, size_t n,
		 const struct report_opts *o)
{
	int (*const steps[])(struct report_doc *) = {
		compare_runs, plots_benches, plots_echo, plots_ratios, plots_checks, plots_verifier,
		plots_matrix, plots_scenario,
	};
	int err = 0;

	memset(d, 0, sizeof(*d));
	d->runs = runs;
	d->nruns = n;
	d->opts = o;
	snprintf(d->tmpdir, sizeof(d->tmpdir), "/tmp/olab-report.XXXXXX");
	if (!mkdtemp(d->tmpdir)) {
		snprintf(d->why, sizeof(d->why), "cannot create a scratch folder: %s", strerror(errno));
		d->tmpdir[0] = 0;
		return -errno;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && !err; i++)
		err = steps[i](d);
	return err ? (d->err ? d->err : err) : 0;
}

void report_doc_free(struct report_doc *d)
{
	for (size_t i = 0; i < d->nplots; i++)
		free(d->plots[i].svg);
	for (size_t i = 0; i < d->ntables; i++) {
		json_decref(d->tables[i].head);
		json_decref(d->tables[i].rows);
	}
	free(d->plots);
	free(d->tables);
	json_decref(d->changes);
	json_decref(d->regressions);
	if (d->tmpdir[0]) {
		char p[128];

		snprintf(p, sizeof(p), "%s/plot.svg", d->tmpdir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/gnuplot.err", d->tmpdir);
		unlink(p);
		rmdir(d->tmpdir);
	}
	memset(d, 0, sizeof(*d));
}

json_t *report_summary_json(const struct report_doc *d)
{
	json_t *plots = json_array(), *runs = json_array();

	for (size_t i = 0; i < d->nplots; i++)
		json_array_append_new(plots, json_pack("{s:s, s:s, s:s, s:i}", "id", d->plots[i].id,
			"kind", d->plots[i].kind, "title", d->plots[i].title,
			"series", d->plots[i].series));
	for (size_t i = 0; i < d->nruns; i++)
		json_array_append_new(runs, json_string(d->runs[i].dir));
	return json_pack("{s:o, s:o, s:i, s:O, s:O, s:f}", "runs", runs, "plots", plots,
			 "tables", (int)d->ntables, "changes", d->changes, "regressions",
			 d->regressions, "threshold_pct", d->opts->threshold_pct);
}
