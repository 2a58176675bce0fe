/*
 * The report of one or more runs: reads only the run folders' JSON
 * (results.json, and checks.json / verifier.json / matrix*.json when a run
 * holds them),
 * draws every figure with gnuplot (SVG) and writes one self-contained HTML
 * page and/or a Markdown summary with the SVGs beside it.  Generic: a bench
 * renders by its figures and axes, so new benches need no code here.
 */
#ifndef OLAB_REPORT_H
#define OLAB_REPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* The default --threshold: a figure that moved more than this, beyond its CI. */
#define REPORT_THRESHOLD_PCT 10.0
#define REPORT_MAX_RUNS 8

struct report_run {
	char dir[512];
	char label[80];     /* the folder's name, made unique */
	json_t *results;    /* results.json; NULL when absent */
	json_t *checks;     /* checks.json (offloadlab check --json); NULL */
	json_t *verifier;   /* verifier.json (offloadlab verifier --json); NULL */
	json_t *matrices;   /* matrix*.json (offloadlab matrix), by name; [] */
};

struct report_opts {
	const char *html;    /* NULL: no HTML */
	const char *md;      /* NULL: no Markdown */
	double threshold_pct;
	bool regression;     /* runs[0] is the --baseline */
	const char *cmdline; /* this report's own command line */
};

/* One drawn plot. */
struct report_plot {
	char id[48];        /* unique in the page: plot-N */
	char kind[16];      /* bars, lines, heatmap, cdf, matrix, ratios */
	char title[256];
	int series;         /* plot clauses drawn (gnuplot_plot_N groups) */
	char *svg;          /* the SVG document, ids prefixed by the plot id */
	size_t table;       /* its values: 1 + index in tables; 0: none */
};

/* A table: a header row and rows of cells (strings). */
struct report_table {
	char title[256];
	json_t *head;       /* [string] */
	json_t *rows;       /* [[string]] */
	bool attached;      /* shown under a plot, not in the Tables section */
};

struct report_doc {
	const struct report_run *runs;
	size_t nruns;
	const struct report_opts *opts;
	struct report_plot *plots;
	size_t nplots, cap_plots;
	struct report_table *tables;
	size_t ntables, cap_tables;
	json_t *changes;     /* [{figure, run, change_pct, within_noise}] */
	json_t *regressions; /* the changes beyond CI and threshold (--baseline) */
	char tmpdir[64];     /* gnuplot's scratch folder */
	int err;             /* first failure (gnuplot missing...), -errno */
	char why[256];
};

/* A run folder into r: 0, or -errno with why. */
int report_run_load(const char *dir, struct report_run *r, char *why, size_t len);
void report_run_free(struct report_run *r);
/* The newest results/run-* under root holding a results.json (bench or
 * scenario run) or matrix*.json: 0 or -ENOENT. */
int report_latest_run(const char *root, char *out, size_t len);

/* Build every plot and table of the runs: 0, or -errno with d->why. */
int report_build(struct report_doc *d, const struct report_run *runs, size_t n,
		 const struct report_opts *o);
void report_doc_free(struct report_doc *d);
/* The document as written files: 0, or -errno with one line printed. */
int report_write_html(const struct report_doc *d, const char *path);
int report_write_md(const struct report_doc *d, const char *path);
/* A summary of the report (plots, changes, regressions) for --json. */
json_t *report_summary_json(const struct report_doc *d);

#endif
