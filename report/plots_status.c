/*
 * Tables of verdicts: our ratios beside the published ones, the checks'
 * pass/fail/skip/xfail matrix (one column per run and runtime, expected and
 * observed in each cell's <title>), and the verifier's load matrix.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "report/report_internal.h"

static const struct {
	const char *status, *colour;
} status_colours[] = {
	{ "pass", "#2ca02c" }, { "fail", "#d62728" }, { "skip", "#bbbbbb" },
	{ "xfail", "#ff9f1c" }, { "loaded", "#2ca02c" }, { "rejected", "#d62728" },
	{ "compile-failed", "#9467bd" }, { "skipped", "#bbbbbb" },
};

static const char *status_colour(const char *s)
{
	for (size_t i = 0; i < sizeof(status_colours) / sizeof(status_colours[0]); i++)
		if (!strcmp(s, status_colours[i].status))
			return status_colours[i].colour;
	return "#666666";
}

static void tics(FILE *f, const char *which, json_t *names, const char *extra)
{
	size_t i;
	json_t *v;

	fprintf(f, "set %stics %s (", which, extra);
	json_array_foreach(names, i, v) {
		fputs(i ? ", " : "", f);
		gp_quote(f, json_string_value(v));
		fprintf(f, " %zu", i);
	}
	fputs(")\n", f);
}

/* A matrix of coloured cells: cells [[x, y, status, label, tip]]. */
static int status_matrix(struct report_doc *d, const char *title, const char *kind,
			 json_t *cols, json_t *rows, json_t *cells)
{
	int h = 160 + 22 * (int)json_array_size(rows), w = 420 + 110 * (int)json_array_size(cols);
	json_t *seen = json_object(), *c;
	struct gp gp;
	size_t i;
	int err = gp_begin(&gp, title, w < 700 ? 700 : w, h);

	if (err)
		goto out;
	fprintf(gp.f, "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nunset grid\n"
		"set key outside right top\nset lmargin 40\n", json_array_size(cols) - 1,
		json_array_size(rows) - 1);
	tics(gp.f, "x", cols, "rotate by -25");
	tics(gp.f, "y", rows, "");
	fputs("$cells << EOD\n", gp.f);
	json_array_foreach(cells, i, c)
		fprintf(gp.f, "%lld %lld\n", (long long)json_integer_value(json_array_get(c, 0)),
			(long long)json_integer_value(json_array_get(c, 1)));
	fputs("EOD\n", gp.f);
	json_array_foreach(cells, i, c) {
		const char *st = json_string_value(json_array_get(c, 2));

		gp_clause(&gp, json_string_value(json_array_get(c, 4)));
		fprintf(gp.f, "$cells every ::%zu::%zu using 1:2:(0.48):(0.45) with boxxy "
			"fs solid 0.85 noborder fc rgb \"%s\" notitle", i, i, status_colour(st));
		json_object_set_new(seen, st, json_true());
	}
	json_array_foreach(cells, i, c) {
		gp_clause(&gp, NULL);
		fprintf(gp.f, "$cells every ::%zu::%zu using 1:2:(", i, i);
		gp_quote(gp.f, json_string_value(json_array_get(c, 3)));
		fputs(") with labels font \"sans,9\" notitle", gp.f);
	}
	for (i = 0; i < sizeof(status_colours) / sizeof(status_colours[0]); i++) {
		if (!json_object_get(seen, status_colours[i].status))
			continue;
		gp_clause(&gp, status_colours[i].status);
		fprintf(gp.f, "keyentry with boxes fs solid 0.85 fc rgb \"%s\" title \"%s\"",
			status_colours[i].colour, status_colours[i].status);
	}
	err = gp_finish(d, &gp, kind, title);
out:
	json_decref(seen);
	return err;
}

static size_t name_index(json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(v), s))
			return i;
	json_array_append_new(list, json_string(s));
	return json_array_size(list) - 1;
}

int plots_checks(struct report_doc *d)
{
	json_t *cols = json_array(), *rows = json_array(), *cells = json_array(), *c;
	struct report_table *t = NULL;
	char col[160], tip[8192];
	size_t r, i;
	int err = 0;

	for (r = 0; r < d->nruns; r++) {
		json_array_foreach(json_object_get(d->runs[r].checks, "checks"), i, c) {
			const char *st = jstr(c, "status") ?: "?";

			snprintf(col, sizeof(col), "%s%s%s", d->nruns > 1 ? d->runs[r].label : "",
				 d->nruns > 1 ? " " : "", jstr(c, "runtime") ?: "netns");
			snprintf(tip, sizeof(tip), "%s [%s]: %s\nexpected: %s\nobserved: %s%s%s",
				 jstr(c, "name") ?: "?", col, st, jstr(c, "expected") ?: "",
				 jstr(c, "observed") ?: "", jstr(c, "reason") && *jstr(c, "reason") ?
				 "\nreason: " : "", jstr(c, "reason") ?: "");
			json_array_append_new(cells, json_pack("[I,I,s,s,s]",
				(json_int_t)name_index(cols, col),
				(json_int_t)name_index(rows, jstr(c, "name") ?: "?"), st, st, tip));
			if (!t)
				t = doc_table(d, "Checks: expected and observed", json_pack(
					"[s,s,s,s,s,s]", "run", "check", "runtime", "status", "expected",
					"observed"));
			if (t)
				table_row(t, 6, d->runs[r].label, jstr(c, "name"), jstr(c, "runtime"),
					  st, jstr(c, "expected"), jstr(c, "observed"));
		}
	}
	if (json_array_size(cells))
		err = status_matrix(d, "checks: pass / fail / skip / xfail (hover: expected, observed)",
				    "matrix", cols, rows, cells);
	json_decref(cols);
	json_decref(rows);
	json_decref(cells);
	return err;
}

static void verifier_cell(struct report_run *run, json_t *row, char *label, size_t ll,
			  char *tip, size_t tl)
{
	const char *stage = jstr(row, "stage") ?: "?";
	long long insns = json_integer_value(json_object_get(row, "processed_insns"));

	if (json_is_true(json_object_get(row, "loads")))
		snprintf(label, ll, "%lld insns", insns);
	else
		snprintf(label, ll, "%s", stage);
	snprintf(tip, tl, "%s %s -%s -mcpu=%s: %s\nprocessed insns: %lld, peak states: %lld\n%s",
		 jstr(row, "parser") ?: "?", jstr(row, "compiler") ?: "?", jstr(row, "opt") ?: "?",
		 jstr(row, "mcpu") ?: "?", stage, insns,
		 (long long)json_integer_value(json_object_get(row, "peak_states")),
		 jstr(row, "reason") ?: "");
	(void)run;
}

int plots_verifier(struct report_doc *d)
{
	json_t *cols = json_array(), *rows = json_array(), *cells = json_array(), *row;
	char col[160], rname[160], label[64], tip[1024];
	size_t r, i;
	int err = 0;

	for (r = 0; r < d->nruns; r++) {
		json_array_foreach(json_object_get(d->runs[r].verifier, "matrix"), i, row) {
			const char *stage = jstr(row, "stage") ?: "?";

			snprintf(col, sizeof(col), "%s -%s %s", jstr(row, "compiler") ?: "?",
				 jstr(row, "opt") ?: "?", jstr(row, "mcpu") ?: "?");
			snprintf(rname, sizeof(rname), "%s%s%s", d->nruns > 1 ? d->runs[r].label : "",
				 d->nruns > 1 ? " " : "", jstr(row, "parser") ?: "?");
			verifier_cell((struct report_run *)&d->runs[r], row, label, sizeof(label), tip,
				      sizeof(tip));
			json_array_append_new(cells, json_pack("[I,I,s,s,s]",
				(json_int_t)name_index(cols, col), (json_int_t)name_index(rows, rname),
				json_is_true(json_object_get(row, "loads")) ? "loaded" : stage, label,
				tip));
		}
	}
	if (json_array_size(cells))
		err = status_matrix(d, "verifier: which parser builds load (hover: insns, reason)",
				    "matrix", cols, rows, cells);
	json_decref(cols);
	json_decref(rows);
	json_decref(cells);
	return err;
}

/* ---- ratios ---- */

static void ratio_row(struct report_doc *d, struct report_table *t, size_t r, size_t k,
		      json_t *x)
{
	json_t *here = json_object_get(x, "here"), *seed = json_object_get(x, "seed");
	json_t *range = json_object_get(x, "here_range");
	char n[32], s[32], h[32], rg[80], a[32], b[32];

	snprintf(n, sizeof(n), "R%zu", k + 1);
	fmt_val(s, sizeof(s), json_is_number(seed) ? json_number_value(seed) : NAN);
	fmt_val(h, sizeof(h), json_is_number(here) ? json_number_value(here) : NAN);
	rg[0] = 0;
	if (json_is_array(range)) {
		fmt_val(a, sizeof(a), json_number_value(json_array_get(range, 0)));
		fmt_val(b, sizeof(b), json_number_value(json_array_get(range, 1)));
		snprintf(rg, sizeof(rg), "[%s, %s]", a, b);
	}
	table_row(t, 7, d->runs[r].label, n, jstr(x, "name"), s, h, rg,
		  json_is_number(here) ? jstr(x, "note") ?: "" :
		  jstr(x, "note") ?: "n/a: this run did not measure both figures");
}

/* "k ours/published lo hi" for the ratios this run measured. */
static int ratio_block(FILE *f, json_t *ref)
{
	size_t k;
	json_t *x;
	int n = 0;

	json_array_foreach(ref, k, x) {
		double seed = json_number_value(json_object_get(x, "seed"));
		json_t *here = json_object_get(x, "here"), *rg = json_object_get(x, "here_range");
		double h = json_number_value(here);

		if (!json_is_number(here) || !(seed > 0) || !(h > 0))
			continue;
		fprintf(f, "%zu %.9g %.9g %.9g\n", k, h / seed,
			json_is_array(rg) ? json_number_value(json_array_get(rg, 0)) / seed : h / seed,
			json_is_array(rg) ? json_number_value(json_array_get(rg, 1)) / seed : h / seed);
		n++;
	}
	return n;
}

int plots_ratios(struct report_doc *d)
{
	struct report_table *t = NULL;
	const char *title = "ours / published, per reference ratio (1 = as published; log y)";
	struct gp gp;
	size_t r, k, nref = 0;
	json_t *x;
	int n = 0, err;

	for (r = 0; r < d->nruns; r++) {
		json_t *ref = json_object_get(d->runs[r].results, "reference");

		if (!json_array_size(ref))
			continue;
		if (!t && !(t = doc_table(d, "Ratios: ours beside the published ones", json_pack(
			"[s,s,s,s,s,s,s]", "run", "#", "ratio", "published", "ours", "ours 95 % range",
			"n/a reason / note"))))
			return 0;
		json_array_foreach(ref, k, x)
			ratio_row(d, t, r, k, x);
		nref = nref > json_array_size(ref) ? nref : json_array_size(ref);
	}
	if (!nref || (err = gp_begin(&gp, title, 900, 400)))
		return 0;
	fputs("set logscale y 10\nset style fill solid 0.75 border -1\n"
	      "set ylabel \"ours / published\"\nset xrange [-0.7:*]\nset xtics (", gp.f);
	for (k = 0; k < nref; k++)
		fprintf(gp.f, "%s\"R%zu\" %zu", k ? ", " : "", k + 1, k);
	fputs(")\nset arrow from graph 0, first 1 to graph 1, first 1 nohead lw 1.5 "
	      "lc rgb \"#444444\"\n", gp.f);
	for (r = 0; r < d->nruns; r++) {
		fprintf(gp.f, "$r%zu << EOD\n", r);
		n += ratio_block(gp.f, json_object_get(d->runs[r].results, "reference"));
		fputs("EOD\n", gp.f);
	}
	if (!n) {
		gp_abort(&gp);
		return 0;
	}
	for (r = 0; r < d->nruns; r++) {
		double w = 0.8 / (double)d->nruns, off = -0.4 + w * ((double)r + 0.5);

		gp_clause(&gp, d->runs[r].label);
		fprintf(gp.f, "$r%zu using ($1+%g):2:3:4:(%g) with boxerrorbars lc rgb \"%s\" title ",
			r, off, w, gp_colour(r));
		gp_quote(gp.f, d->nruns > 1 ? d->runs[r].label : "ours / published");
	}
	return gp_finish(d, &gp, "ratios", title);
}
