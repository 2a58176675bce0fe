/*
 * Every bench's figures, grouped by (bench, metric), drawn by the shape of
 * their axes, with no knowledge of the bench:
 *   no numeric axis varies  -> bars by hook, 95 % CI whiskers, one series per
 *                              variant (CPU layout) and varying text axis;
 *   one numeric axis varies -> lines over it (batch, Zipf s, map size...),
 *                              or horizontal bars when no two points join;
 *   two vary, unit "x"      -> a heatmap of the first two (summarize: size x
 *                              pct, colour = speedup) with the 1x contour;
 *   two vary, other units   -> lines over the first, one per value of the rest.
 * Several runs: each run is its own series, side by side.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "report/report_internal.h"

struct group {
	const char *bench, *metric, *unit;
	json_t *members;    /* [[run, fig]] */
	json_t *num_axes;   /* varying numeric axes, in order */
	json_t *text_axes;  /* varying text axes */
};

#define M_RUN(m) ((size_t)json_integer_value(json_array_get((m), 0)))
#define M_FIG(m) json_array_get((m), 1)

/* Which axes vary within the group, split into numeric and text ones. */
static void group_axes(struct group *g, json_t *axes)
{
	size_t i, k;
	json_t *a, *m;

	g->num_axes = json_array();
	g->text_axes = json_array();
	json_array_foreach(axes, i, a) {
		char first[64] = "", v[64];
		bool varies = false, numeric = true, num;

		json_array_foreach(g->members, k, m) {
			axis_value(M_FIG(m), json_string_value(a), v, sizeof(v), &num);
			numeric &= num || !v[0];
			if (k == 0)
				snprintf(first, sizeof(first), "%s", v);
			else if (strcmp(first, v))
				varies = true;
		}
		if (varies)
			json_array_append(numeric ? g->num_axes : g->text_axes, a);
	}
}

/* The series a member belongs to: run (several), hook (with_hook), variant,
 * the varying text axes and the numeric ones from skip_num on. */
static void series_label(const struct report_doc *d, const struct group *g, json_t *m,
			 bool with_hook, size_t skip_num, char *buf, size_t len)
{
	json_t *fig = M_FIG(m), *a;
	/* No variant: the CPU layout the figure records, if any. */
	const char *variant = jstr(fig, "variant") ?: jstr(json_object_get(fig, "layout"), "layout");
	size_t at = 0, i;
	char v[64];
	bool num;

	buf[0] = 0;
#define ADD(...) do { if (at < len) at += snprintf(buf + at, len - at, __VA_ARGS__); } while (0)
	if (d->nruns > 1)
		ADD("%s", d->runs[M_RUN(m)].label);
	if (with_hook)
		ADD("%s%s", at ? " " : "", jstr(fig, "hook") ?: "");
	if (variant)
		ADD("%s%s", at ? " " : "", variant);
	json_array_foreach(g->text_axes, i, a) {
		axis_value(fig, json_string_value(a), v, sizeof(v), &num);
		if (!variant || !strstr(variant, v))
			ADD("%s%s=%s", at ? " " : "", json_string_value(a), v);
	}
	json_array_foreach(g->num_axes, i, a)
		if (i >= skip_num)
			ADD("%s%s=%s", at ? " " : "", json_string_value(a),
			    axis_value(fig, json_string_value(a), v, sizeof(v), &num));
	if (!at)
		ADD("%s", g->metric);
#undef ADD
}

/* Index of s in the array (appended when new). */
static size_t index_of(json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(v), s))
			return i;
	json_array_append_new(list, json_string(s));
	return json_array_size(list) - 1;
}

static void ylabel(FILE *f, const struct group *g)
{
	char y[160];

	snprintf(y, sizeof(y), "%s (%s)", g->metric, g->unit && *g->unit ? g->unit : "-");
	fputs("set ylabel ", f);
	gp_quote(f, y);
	fputc('\n', f);
}

/* A hook's tick: its name, and the overhead methods' agreement when known. */
static void hook_tick(json_t *fig, char *buf, size_t len)
{
	const char *agree = jstr(json_object_get(fig, "agreement"), "delta_vs_bpf_stats");

	snprintf(buf, len, "%s%s", jstr(fig, "hook") ?: "?", !agree ? "" :
		 strncmp(agree, "agree", 5) ? "\n\xe2\x89\xa0 bpf_stats" /* ≠ */ : "\n= bpf_stats");
}

static void write_cell(FILE *f, json_t *fig)
{
	double md = fig ? fig_median(fig) : NAN, lo, hi;

	if (!fig || !fig_ci(fig, &lo, &hi))
		lo = hi = md;
	fprintf(f, " %.9g %.9g %.9g", md, lo, hi);
}

/* The series of the bars, each one's runs next to each other (layout A of
 * run 1, of run 2, then layout B...). */
static json_t *bar_labels(struct report_doc *d, struct group *g)
{
	json_t *bases = json_array(), *labels = json_array(), *m, *b;
	const struct report_run *runs = d->runs;
	char lab[256], full[400];
	size_t i, r, nruns = d->nruns;

	d->nruns = 1;   /* labels without the run */
	json_array_foreach(g->members, i, m) {
		series_label(d, g, m, false, 0, lab, sizeof(lab));
		index_of(bases, lab);
	}
	d->nruns = nruns;
	json_array_foreach(bases, i, b)
		for (r = 0; r < nruns; r++) {
			const char *base = json_string_value(b);

			if (nruns == 1)
				snprintf(full, sizeof(full), "%s", base);
			else if (!strcmp(base, g->metric))
				snprintf(full, sizeof(full), "%s", runs[r].label);
			else
				snprintf(full, sizeof(full), "%s %s", runs[r].label, base);
			index_of(labels, full);
		}
	json_decref(bases);
	return labels;
}

/* The change of a member of a later run against the first run, or NULL. */
static json_t *find_change(struct report_doc *d, json_t *m, json_t *axes)
{
	char key[512];
	size_t i;
	json_t *c;

	if (!M_RUN(m))
		return NULL;
	fig_key(M_FIG(m), axes, key, sizeof(key));
	json_array_foreach(d->changes, i, c)
		if (!strcmp(jstr(c, "figure") ?: "", key) &&
		    !strcmp(jstr(c, "run") ?: "", d->runs[M_RUN(m)].label))
			return c;
	return NULL;
}

/* "+3.1 % vs run-A, within noise" (full) or "~+3%" (short: ~ within noise). */
static void change_note(struct report_doc *d, json_t *m, json_t *axes, bool full, char *buf,
			size_t len)
{
	json_t *c = find_change(d, m, axes), *pct = json_object_get(c, "change_pct");
	bool noise = json_is_true(json_object_get(c, "within_noise"));
	double v = json_is_number(pct) ? json_number_value(pct) : NAN;

	buf[0] = 0;
	if (c && full)
		snprintf(buf, len, "%+.1f %% vs %s, %s", v, d->runs[0].label,
			 noise ? "within noise" : "CIs apart");
	else if (c)
		snprintf(buf, len, "%s%+.0f%%", noise ? "~" : "", v);
}

/* Above each bar of a later run, its change against the first run: the
 * $chg block; how many labels. */
static size_t change_labels(struct report_doc *d, struct group *g, json_t *axes, json_t *hooks,
			  json_t *labels, struct gp *gp)
{
	double n = (double)json_array_size(labels);
	char lab[256], txt[64];
	size_t i, k = 0;
	json_t *m;

	fputs("$chg << EOD\n", gp->f);
	json_array_foreach(g->members, i, m) {
		double lo, hi, j;

		change_note(d, m, axes, false, txt, sizeof(txt));
		if (!txt[0])
			continue;
		series_label(d, g, m, false, 0, lab, sizeof(lab));
		j = (double)index_of(labels, lab);
		if (!fig_ci(M_FIG(m), &lo, &hi))
			hi = fig_median(M_FIG(m));
		fprintf(gp->f, "%.6g %.9g %s\n", (double)index_of(hooks, jstr(M_FIG(m), "hook") ?: "?") +
			(j - (n - 1) / 2) / (n + 1), hi, txt);
		k++;
	}
	fputs("EOD\n", gp->f);
	return k;
}

/* Bars: x = hook, one series per label, whiskers = the 95 % CI. */
static int plot_bars(struct report_doc *d, struct group *g, const char *title, json_t *axes)
{
	json_t *hooks = json_array(), *labels = bar_labels(d, g), *grid = json_object(), *m;
	char lab[256], key[320], tick[160];
	struct gp gp;
	size_t i, h, changes;
	int err = gp_begin(&gp, title, 900, 420);

	json_array_foreach(g->members, i, m) {
		series_label(d, g, m, false, 0, lab, sizeof(lab));
		h = index_of(hooks, jstr(M_FIG(m), "hook") ?: "?");
		snprintf(key, sizeof(key), "%zu|%zu", h, index_of(labels, lab));
		json_object_set(grid, key, M_FIG(m));
	}
	if (err)
		goto out;
	if (json_array_size(labels) > 2)
		fputs("set key below\n", gp.f);
	fputs("set style data histograms\nset style histogram errorbars gap 1 lw 1.5\n"
	      "set style fill solid 0.75 border -1\nset yrange [0:*]\nset bmargin 5\n", gp.f);
	fputs("set xtics (", gp.f);
	for (h = 0; h < json_array_size(hooks); h++) {
		json_t *first = NULL;

		for (i = 0; i < json_array_size(labels) && !first; i++) {
			snprintf(key, sizeof(key), "%zu|%zu", h, i);
			first = json_object_get(grid, key);
		}
		hook_tick(first, tick, sizeof(tick));
		fprintf(gp.f, "%s", h ? ", " : "");
		gp_quote(gp.f, tick);
		fprintf(gp.f, " %zu", h);
	}
	fputs(json_array_size(hooks) > 5 ? ") rotate by -30\n" : ")\n", gp.f);
	ylabel(gp.f, g);
	fputs("$data << EOD\n", gp.f);
	for (h = 0; h < json_array_size(hooks); h++) {
		fprintf(gp.f, "%zu", h);
		for (i = 0; i < json_array_size(labels); i++) {
			snprintf(key, sizeof(key), "%zu|%zu", h, i);
			write_cell(gp.f, json_object_get(grid, key));
		}
		fputc('\n', gp.f);
	}
	fputs("EOD\n", gp.f);
	changes = d->nruns > 1 ? change_labels(d, g, axes, hooks, labels, &gp) : 0;
	for (i = 0; i < json_array_size(labels); i++) {
		gp_clause(&gp, json_string_value(json_array_get(labels, i)));
		fprintf(gp.f, "$data using %zu:%zu:%zu lc rgb \"%s\" title ", 2 + 3 * i, 3 + 3 * i,
			4 + 3 * i, gp_colour(i));
		gp_quote(gp.f, json_string_value(json_array_get(labels, i)));
	}
	if (changes) {
		gp_clause(&gp, "change against the first run (~: within noise)");
		fputs("$chg using 1:2:3 with labels offset 0,0.8 font \",9\" "
		      "title \"labels: change vs first run (~ within noise)\"", gp.f);
	}
	err = gp_finish(d, &gp, "bars", title);
out:
	json_decref(hooks);
	json_decref(labels);
	json_decref(grid);
	return err;
}

static int by_x(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* One series' points, sorted by x: "x y lo hi" lines. */
static void series_block(FILE *f, struct group *g, json_t *idx, const char *axis)
{
	size_t n = json_array_size(idx), i, k = 0;
	double *pt = calloc(n ? n : 1, 4 * sizeof(double));
	json_t *v;
	char buf[64];
	bool num;

	json_array_foreach(idx, i, v) {
		json_t *fig = M_FIG(json_array_get(g->members, json_integer_value(v)));

		pt[4 * k] = atof(axis_value(fig, axis, buf, sizeof(buf), &num));
		pt[4 * k + 1] = fig_median(fig);
		if (!fig_ci(fig, &pt[4 * k + 2], &pt[4 * k + 3]))
			pt[4 * k + 2] = pt[4 * k + 3] = pt[4 * k + 1];
		k++;
	}
	if (pt)
		qsort(pt, k, 4 * sizeof(double), by_x);
	for (i = 0; pt && i < k; i++)
		fprintf(f, "%.9g %.9g %.9g %.9g\n", pt[4 * i], pt[4 * i + 1], pt[4 * i + 2],
			pt[4 * i + 3]);
	free(pt);
}

/* Lines: x = the varying numeric axis, one line per hook and label. */
static int plot_lines(struct report_doc *d, struct group *g, const char *title)
{
	const char *axis = json_string_value(json_array_get(g->num_axes, 0));
	json_t *series = json_object(), *order = json_array(), *m;
	double lo = INFINITY, hi = -INFINITY;
	char lab[256], v[64];
	struct gp gp;
	size_t i;
	bool num;
	int err = gp_begin(&gp, title, 900, 420);

	json_array_foreach(g->members, i, m) {
		double x = atof(axis_value(M_FIG(m), axis, v, sizeof(v), &num));

		lo = fmin(lo, x);
		hi = fmax(hi, x);
		series_label(d, g, m, true, 1, lab, sizeof(lab));
		if (!json_object_get(series, lab)) {
			json_object_set_new(series, lab, json_array());
			json_array_append_new(order, json_string(lab));
		}
		json_array_append_new(json_object_get(series, lab), json_integer((json_int_t)i));
	}
	if (err)
		goto out;
	if (lo > 0 && hi / lo >= 20)
		fputs("set logscale x 2\n", gp.f);
	fputs("set xlabel ", gp.f);
	gp_quote(gp.f, axis);
	fputc('\n', gp.f);
	ylabel(gp.f, g);
	for (i = 0; i < json_array_size(order); i++) {
		fprintf(gp.f, "$s%zu << EOD\n", i);
		series_block(gp.f, g, json_object_get(series, json_string_value(json_array_get(order, i))),
			     axis);
		fputs("EOD\n", gp.f);
	}
	for (i = 0; i < json_array_size(order); i++) {
		gp_clause(&gp, json_string_value(json_array_get(order, i)));
		fprintf(gp.f, "$s%zu using 1:2:3:4 with yerrorlines lw 1.5 pt 7 ps 0.6 lc rgb \"%s\" "
			"title ", i, gp_colour(i));
		gp_quote(gp.f, json_string_value(json_array_get(order, i)));
	}
	err = gp_finish(d, &gp, "lines", title);
out:
	json_decref(series);
	json_decref(order);
	return err;
}

/* Sorted distinct values of a numeric axis among the members idx. */
static json_t *axis_values(struct group *g, json_t *idx, const char *axis)
{
	double vals[256];
	size_t n = 0, i, k;
	json_t *v, *out = json_array();
	char buf[64];
	bool num;

	json_array_foreach(idx, i, v) {
		double x = atof(axis_value(M_FIG(json_array_get(g->members, json_integer_value(v))),
					   axis, buf, sizeof(buf), &num));

		for (k = 0; k < n && vals[k] != x; k++)
			;
		if (k == n && n < 256)
			vals[n++] = x;
	}
	qsort(vals, n, sizeof(double), by_x);
	for (i = 0; i < n; i++)
		json_array_append_new(out, json_real(vals[i]));
	return out;
}

static void index_tics(FILE *f, const char *which, json_t *vals)
{
	size_t i;
	json_t *v;

	fprintf(f, "set %stics (", which);
	json_array_foreach(vals, i, v)
		fprintf(f, "%s\"%g\" %zu", i ? ", " : "", json_real_value(v), i);
	fputs(")\n", f);
}

/* The grid "i j value" (NaN where no figure), one scan line per x. */
static void heat_grid(FILE *f, struct group *g, json_t *idx, json_t *xs, json_t *ys)
{
	const char *ax = json_string_value(json_array_get(g->num_axes, 0));
	const char *ay = json_string_value(json_array_get(g->num_axes, 1));
	char bx[64], by[64];
	size_t i, j, k;
	json_t *v;
	bool num;

	fputs("$grid << EOD\n", f);
	for (i = 0; i < json_array_size(xs); i++) {
		for (j = 0; j < json_array_size(ys); j++) {
			double val = NAN;

			json_array_foreach(idx, k, v) {
				json_t *fig = M_FIG(json_array_get(g->members, json_integer_value(v)));

				if (atof(axis_value(fig, ax, bx, sizeof(bx), &num)) ==
				    json_real_value(json_array_get(xs, i)) &&
				    atof(axis_value(fig, ay, by, sizeof(by), &num)) ==
				    json_real_value(json_array_get(ys, j)))
					val = fig_median(fig);
			}
			fprintf(f, "%zu %zu %.9g\n", i, j, val);
		}
		fputc('\n', f);
	}
	fputs("EOD\n", f);
}

/* The largest factor away from 1 among the medians (at least 2). */
static double spread(struct group *g, json_t *idx)
{
	double m = 2;
	size_t i;
	json_t *v;

	json_array_foreach(idx, i, v) {
		double x = fig_median(M_FIG(json_array_get(g->members, json_integer_value(v))));

		if (x > 0)
			m = fmax(m, fmax(x, 1 / x));
	}
	return m;
}

/* One heatmap: x, y = the first two numeric axes, colour = the median. */
static int heatmap_one(struct report_doc *d, struct group *g, json_t *idx, const char *title)
{
	json_t *xs = axis_values(g, idx, json_string_value(json_array_get(g->num_axes, 0)));
	json_t *ys = axis_values(g, idx, json_string_value(json_array_get(g->num_axes, 1)));
	bool speedup = g->unit && !strcmp(g->unit, "x");
	struct gp gp;
	int err = gp_begin(&gp, title, 700, 460);

	if (!err) {
		fputs("set xlabel ", gp.f);
		gp_quote(gp.f, json_string_value(json_array_get(g->num_axes, 0)));
		fputs("\nset ylabel ", gp.f);
		gp_quote(gp.f, json_string_value(json_array_get(g->num_axes, 1)));
		fputs("\nset cblabel ", gp.f);
		gp_quote(gp.f, g->unit && *g->unit ? g->unit : g->metric);
		fputs("\nset palette defined (0 \"#d73027\", 1 \"#ffffbf\", 2 \"#1a9850\")\n", gp.f);
		index_tics(gp.f, "x", xs);
		index_tics(gp.f, "y", ys);
		heat_grid(gp.f, g, idx, xs, ys);
		fprintf(gp.f, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n",
			json_array_size(xs) - 1, json_array_size(ys) - 1);
		/* Speedups: a log colour scale centred on 1x; gnuplot finds the 1x
		 * contour itself, into a table plotted in 2-d. */
		if (speedup)
			fprintf(gp.f, "set logscale cb\nset cbrange [%.6g:%.6g]\n",
				1 / spread(g, idx), spread(g, idx));
		if (speedup)
			fputs("set table $cont\nset contour base\nset cntrparam levels discrete 1\n"
			      "unset surface\nsplot $grid using 1:2:3 with lines\nunset table\n"
			      "unset contour\n", gp.f);
		gp_clause(&gp, g->metric);
		fputs("$grid using 1:2:(0.5):(0.5):3 with boxxy fs solid 1 noborder fc palette "
		      "notitle", gp.f);
		if (speedup) {
			gp_clause(&gp, "break-even: speedup 1x");
			fputs("$cont using 1:2 with lines lw 2.5 lc rgb \"black\" "
			      "title \"break-even (1x)\"", gp.f);
		}
		gp_clause(&gp, "the medians");
		fputs("$grid using 1:2:(sprintf(\"%.3g\", $3)) with labels notitle", gp.f);
		err = gp_finish(d, &gp, "heatmap", title);
	}
	json_decref(xs);
	json_decref(ys);
	return err;
}

/* One heatmap per run, hook and the rest of the label (at most 8). */
static int plot_heatmaps(struct report_doc *d, struct group *g, const char *title)
{
	json_t *series = json_object(), *order = json_array(), *m, *lab;
	char label[256], t[512];
	size_t i;
	int err = 0;

	json_array_foreach(g->members, i, m) {
		series_label(d, g, m, true, 2, label, sizeof(label));
		if (!json_object_get(series, label)) {
			json_object_set_new(series, label, json_array());
			json_array_append_new(order, json_string(label));
		}
		json_array_append_new(json_object_get(series, label), json_integer((json_int_t)i));
	}
	json_array_foreach(order, i, lab) {
		if (err || i >= 8)
			break;
		snprintf(t, sizeof(t), "%s, %s", title, json_string_value(lab));
		err = heatmap_one(d, g, json_object_get(series, json_string_value(lab)), t);
	}
	json_decref(series);
	json_decref(order);
	return err;
}

/* The group's table: one row per figure. */
static void group_table(struct report_doc *d, struct group *g, const char *title, json_t *axes)
{
	struct report_table *t = doc_table(d, title, json_pack("[s,s,s,s,s,s,s]", "run", "hook",
		"series", "median", "95 % CI", "change", "note"));
	char lab[256], md[32], a[32], b[32], ci[80], change[160];
	size_t i;
	json_t *m;

	json_array_foreach(g->members, i, m) {
		json_t *fig = M_FIG(m);
		const char *agree = jstr(json_object_get(fig, "agreement"), "delta_vs_bpf_stats");
		double lo, hi;

		if (!t)
			return;
		series_label(d, g, m, false, 0, lab, sizeof(lab));
		fmt_val(md, sizeof(md), fig_median(fig));
		fig_ci(fig, &lo, &hi);
		fmt_val(a, sizeof(a), lo);
		fmt_val(b, sizeof(b), hi);
		snprintf(ci, sizeof(ci), isnan(lo) ? "n/a" : "[%s, %s]", a, b);
		change_note(d, m, axes, true, change, sizeof(change));
		table_row(t, 7, d->runs[M_RUN(m)].label, jstr(fig, "hook"), lab, md, ci, change,
			  agree ? agree : json_is_false(json_object_get(fig, "primary")) ?
			  "secondary method" : "");
	}
}

/* Horizontal bars, one row per whole label (hook, variant, axes), one
 * series per run: for figures no line would join. */
static int plot_hbars(struct report_doc *d, struct group *g, const char *title)
{
	json_t *rows = json_array(), *m;
	char lab[256];
	size_t i, r, nruns = d->nruns, nrows;
	double w = 0.8 / (double)nruns;
	struct gp gp;
	int err;

	d->nruns = 1;
	json_array_foreach(g->members, i, m) {
		series_label(d, g, m, true, 0, lab, sizeof(lab));
		index_of(rows, lab);
	}
	d->nruns = nruns;
	nrows = json_array_size(rows);
	if ((err = gp_begin(&gp, title, 1000, 130 + (int)(nrows * (nruns > 1 ? 30 : 20))))) {
		json_decref(rows);
		return err;
	}
	fprintf(gp.f, "set yrange [%zu.5:-0.5]\nset lmargin 62\nset grid xtics\nset xlabel ",
		nrows - 1);
	snprintf(lab, sizeof(lab), "%s (%s)", g->metric, g->unit && *g->unit ? g->unit : "-");
	gp_quote(gp.f, lab);
	fputs("\nset ytics (", gp.f);
	for (i = 0; i < nrows; i++) {
		snprintf(lab, sizeof(lab), "%.70s", json_string_value(json_array_get(rows, i)));
		fputs(i ? ", " : "", gp.f);
		gp_quote(gp.f, lab);
		fprintf(gp.f, " %zu", i);
	}
	fputs(")\n", gp.f);
	for (r = 0; r < nruns; r++) {
		fprintf(gp.f, "$r%zu << EOD\n", r);
		json_array_foreach(g->members, i, m) {
			if (M_RUN(m) != r)
				continue;
			d->nruns = 1;
			series_label(d, g, m, true, 0, lab, sizeof(lab));
			d->nruns = nruns;
			fprintf(gp.f, "%zu", index_of(rows, lab));
			write_cell(gp.f, M_FIG(m));
			fputc('\n', gp.f);
		}
		fputs("EOD\n", gp.f);
	}
	for (r = 0; r < nruns; r++) {
		double off = -0.4 + w * ((double)r + 0.5);

		gp_clause(&gp, nruns > 1 ? d->runs[r].label : g->metric);
		fprintf(gp.f, "$r%zu using 2:($1+%g):(0):2:($1+%g):($1+%g) with boxxy fs solid 0.75 "
			"lc rgb \"%s\" title ", r, off, off - w / 2, off + w / 2, gp_colour(r));
		gp_quote(gp.f, nruns > 1 ? d->runs[r].label : g->metric);
		gp_clause(&gp, "95 % CI");
		fprintf(gp.f, "$r%zu using 2:($1+%g):3:4 with xerrorbars pt -1 lc rgb \"#222222\" "
			"notitle", r, off);
	}
	json_decref(rows);
	return gp_finish(d, &gp, "bars", title);
}

/* Whether some line would join two points (variants that name their own
 * numeric value, as maps' do, make one series per point: bars then). */
static bool lines_have_points(struct report_doc *d, struct group *g)
{
	json_t *seen = json_object(), *m;
	char lab[256];
	size_t i;
	bool two = false;

	json_array_foreach(g->members, i, m) {
		series_label(d, g, m, true, 1, lab, sizeof(lab));
		two |= json_object_get(seen, lab) != NULL;
		json_object_set_new(seen, lab, json_true());
	}
	json_decref(seen);
	return two;
}

static int plot_group(struct report_doc *d, struct group *g, json_t *axes)
{
	char title[256];
	int err;

	group_axes(g, axes);
	snprintf(title, sizeof(title), "%s: %s (%s)", g->bench, g->metric,
		 g->unit && *g->unit ? g->unit : "-");
	/* Heatmaps for speedups (unit x); other figures over two axes are
	 * lines over the first, one per value of the rest. */
	if (json_array_size(g->num_axes) >= 2 && g->unit && !strcmp(g->unit, "x"))
		err = plot_heatmaps(d, g, title);
	else if (json_array_size(g->num_axes) >= 1 && lines_have_points(d, g))
		err = plot_lines(d, g, title);
	else
		err = json_array_size(g->num_axes) ? plot_hbars(d, g, title) : plot_bars(d, g, title, axes);
	group_table(d, g, title, axes);
	if (!err && d->nplots && d->ntables) {
		d->plots[d->nplots - 1].table = d->ntables;
		d->tables[d->ntables - 1].attached = true;
	}
	json_decref(g->num_axes);
	json_decref(g->text_axes);
	return err;
}

/* Figures with no value: skipped hooks, refused cells, unsupported methods. */
static void not_measured(struct report_doc *d, struct report_table **t, size_t r, json_t *fig)
{
	if (!*t)
		*t = doc_table(d, "Not measured, and why",
			       json_pack("[s,s,s,s,s,s]", "run", "bench", "hook", "variant", "metric",
					 "reason"));
	if (*t)
		table_row(*t, 6, d->runs[r].label, jstr(fig, "bench"), jstr(fig, "hook"),
			  jstr(fig, "variant"), jstr(fig, "metric"),
			  jstr(fig, "unsupported") ?: jstr(fig, "method"));
}

int plots_benches(struct report_doc *d)
{
	json_t *axes = run_axes(d->runs, d->nruns), *groups = json_object(), *order = json_array();
	struct report_table *skipped = NULL;
	json_t *fig, *name;
	char key[256];
	size_t r, i;
	int err = 0;

	for (r = 0; r < d->nruns; r++) {
		json_array_foreach(json_object_get(d->runs[r].results, "results"), i, fig) {
			const char *metric = jstr(fig, "metric") ?: "";

			if (!strcmp(jstr(fig, "bench") ?: "", "scenario") &&
			    json_is_object(json_object_get(d->runs[r].results, "scenario")))
				continue;   /* drawn by plots_scenario, arms side by side */
			if (NOT_MEASURED(metric) || isnan(fig_median(fig))) {
				not_measured(d, &skipped, r, fig);
				continue;
			}
			snprintf(key, sizeof(key), "%s|%s", jstr(fig, "bench") ?: "", metric);
			if (!json_object_get(groups, key)) {
				json_object_set_new(groups, key, json_array());
				json_array_append_new(order, json_string(key));
			}
			json_array_append_new(json_object_get(groups, key), json_pack("[I,O]",
					      (json_int_t)r, fig));
		}
	}
	json_array_foreach(order, i, name) {
		json_t *members = json_object_get(groups, json_string_value(name));
		json_t *f0 = M_FIG(json_array_get(members, 0));
		struct group g = {
			.bench = jstr(f0, "bench"), .metric = jstr(f0, "metric"),
			.unit = jstr(f0, "unit"), .members = members,
		};

		if (!err)
			err = plot_group(d, &g, axes);
	}
	json_decref(groups);
	json_decref(order);
	json_decref(axes);
	return err;
}
