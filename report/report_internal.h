/* Shared between the report's files (report/). */
#ifndef OLAB_REPORT_INTERNAL_H
#define OLAB_REPORT_INTERNAL_H
#include <stdbool.h>
#include <stdio.h>
#include "report/report.h"

/* ---- gnuplot (gnuplot.c) ---- */

/* A plot being written: the gnuplot script (a memory stream). */
struct gp {
	FILE *f;
	char *buf;
	size_t len;
	int clauses;        /* plot clauses written so far (gp_clause) */
	json_t *tips;       /* hover text of each clause, by index; null: none */
};

/* Start a script: SVG terminal w x h, the title, no enhanced text. */
int gp_begin(struct gp *g, const char *title, int w, int h);
/* s as a double-quoted gnuplot string (escaped). */
void gp_quote(FILE *f, const char *s);
/* "plot" before the first clause, ", " before the others; tip: hover text
 * of that clause (an SVG <title>), NULL for none. */
void gp_clause(struct gp *g, const char *tip);
/* Run gnuplot on the script and add the plot to d: 0 or -errno (d->why). */
int gp_finish(struct report_doc *d, struct gp *g, const char *kind, const char *title);
void gp_abort(struct gp *g);
/* s escaped for XML and HTML text and attributes (&amp; &lt; &gt; &quot; &#39;). */
void report_xml_text(FILE *f, const char *s);
/* Colours of the series, in order. */
const char *gp_colour(int i);

/* ---- the runs' figures (model.c) ---- */

#define NOT_MEASURED(m) (!strcmp((m), "skipped") || !strcmp((m), "refused") || \
			 !strcmp((m), "unsupported"))

const char *jstr(json_t *o, const char *key);
/* The figure's median / CI ends; NAN when absent. */
double fig_median(json_t *fig);
bool fig_ci(json_t *fig, double *lo, double *hi);
/* Names of the axes a figure may vary on (besides hook): from the run's
 * config.bench.axes, "layout" and "hook" left out. */
json_t *run_axes(const struct report_run *runs, size_t n);
/* The value of axis a in fig as text (""), numeric when an integer. */
const char *axis_value(json_t *fig, const char *axis, char *buf, size_t len, bool *numeric);
/* bench|hook|variant|metric|axis=value...: the same figure in another run. */
void fig_key(json_t *fig, json_t *axes, char *buf, size_t len);
/* "123.4", "1.23M": a figure for a table. */
void fmt_val(char *buf, size_t len, double v);

/* ---- plots and tables ---- */

int plots_benches(struct report_doc *d);          /* plots.c: bars, lines, heatmaps */
int plots_echo(struct report_doc *d);             /* plots_echo.c: latency CDFs */
int plots_ratios(struct report_doc *d);           /* plots_status.c */
int plots_checks(struct report_doc *d);
int plots_verifier(struct report_doc *d);
int plots_matrix(struct report_doc *d);           /* plots_matrix.c */
int plots_scenario(struct report_doc *d);         /* plots_scenario.c */
/* A grid of coloured cells (plots_status.c): cells [[x, y, status, label,
 * tip]], x and y indexes into cols and rows (names); status picks the colour
 * (pass, fail, skip, xfail, yes, no, measured, emulated, n/a...). */
int status_matrix(struct report_doc *d, const char *title, const char *kind, json_t *cols,
		  json_t *rows, json_t *cells);
/* The index of s in list, appended when absent. */
size_t name_index(json_t *list, const char *s);
int compare_runs(struct report_doc *d);           /* compare.c */
struct report_table *doc_table(struct report_doc *d, const char *title, json_t *head);
void table_row(struct report_table *t, int ncells, ...);

/* The provenance lines of a run: [[name, value]]. */
json_t *run_provenance(const struct report_run *r);

#endif
