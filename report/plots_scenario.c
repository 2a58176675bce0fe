/*
 * `offloadlab scenario run` results (results.json "scenario"): per scenario,
 * each client figure as a pair of bars, the none arm beside the offload arm
 * (median, 95 % CI whiskers; scaled so the larger median is 1, as figures
 * differ by orders of magnitude), the paired offload/none ratio and its CI
 * labelled above each pair; the counters per arm as a table; and the
 * expectations as the checks' grid of coloured cells (status_matrix) with
 * their verdict table.  The scenario's per-arm figures in "results" are
 * compared across runs like any other (compare.c), not drawn again.
 */
#include <math.h>
#include <string.h>
#include "report/report_internal.h"

/* One arm's summary {median, ci95}: median, lo, hi (NAN when absent). */
static void arm_values(json_t *sum, double v[3])
{
	v[0] = fig_median(sum);
	if (!fig_ci(sum, &v[1], &v[2]))
		v[1] = v[2] = v[0];
}

/* "1.99x [1.97, 2.01]": a paired ratio for a label; "n/a" without one. */
static void ratio_text(json_t *ratio, char *buf, size_t len)
{
	double lo, hi;

	if (isnan(fig_median(ratio)))
		snprintf(buf, len, "n/a");
	else if (fig_ci(ratio, &lo, &hi))
		snprintf(buf, len, "%.3gx\n[%.3g, %.3g]", fig_median(ratio), lo, hi);
	else
		snprintf(buf, len, "%.3gx", fig_median(ratio));
}

/* "41.6k [41.2k, 42.0k]": an arm for the table. */
static void arm_text(json_t *sum, char *buf, size_t len)
{
	char m[32], lo[32], hi[32];
	double v[3];

	arm_values(sum, v);
	fmt_val(m, sizeof(m), v[0]);
	fmt_val(lo, sizeof(lo), v[1]);
	fmt_val(hi, sizeof(hi), v[2]);
	if (isnan(v[0]))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%s [%s, %s]", m, lo, hi);
}

/* The scenario's name in titles: with the run when there are several. */
static void scenario_name(struct report_doc *d, size_t r, json_t *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", jstr(s, "name") ?: "?", d->nruns > 1 ? ", " : "",
		 d->nruns > 1 ? d->runs[r].label : "");
}

/* Data rows "i none(m lo hi) offload(m lo hi)", scaled; labels "i y text". */
static size_t bar_blocks(FILE *f, json_t *s, bool clients, json_t *ticks)
{
	json_t *c, *fig, *labels = json_array(), *l;
	const char *k;
	size_t i, n = 0;

	fputs("$data << EOD\n", f);
	json_array_foreach(json_object_get(s, "clients"), i, c)
		json_object_foreach(json_object_get(c, "figures"), k, fig) {
			double a[3], b[3], top, scale;
			char tick[200], text[96];

			arm_values(json_object_get(fig, "none"), a);
			arm_values(json_object_get(fig, "offload"), b);
			/* the larger median; when both are 0, the larger CI end */
			scale = fmax(a[0], b[0]) > 0 ? fmax(a[0], b[0]) :
				fmax(a[2], b[2]) > 0 ? fmax(a[2], b[2]) : 1;
			fprintf(f, "%zu %.9g %.9g %.9g %.9g %.9g %.9g\n", n, a[0] / scale,
				a[1] / scale, a[2] / scale, b[0] / scale, b[1] / scale, b[2] / scale);
			top = fmax(isnan(a[2]) ? 0 : a[2], isnan(b[2]) ? 0 : b[2]) / scale;
			ratio_text(json_object_get(fig, "ratio"), text, sizeof(text));
			json_array_append_new(labels, json_pack("[f,s]", top, text));
			snprintf(tick, sizeof(tick), "%s%s%s", clients ? jstr(c, "name") ?: "?" : "",
				 clients ? "\n" : "", k);
			json_array_append_new(ticks, json_string(tick));
			n++;
		}
	fputs("EOD\n$ratio << EOD\n", f);
	json_array_foreach(labels, i, l) {
		fprintf(f, "%zu %.9g ", i, json_real_value(json_array_get(l, 0)));
		gp_quote(f, json_string_value(json_array_get(l, 1)));
		fputc('\n', f);
	}
	fputs("EOD\n", f);
	json_decref(labels);
	return n;
}

static int scenario_bars(struct report_doc *d, size_t r, json_t *s)
{
	json_t *ticks = json_array(), *t;
	char name[200], title[400];
	struct gp gp;
	size_t n, i;
	int err;

	scenario_name(d, r, s, name, sizeof(name));
	snprintf(title, sizeof(title), "scenario %s: none | offload per client figure, median, "
		 "95 %% CI (larger arm = 1); label: offload/none [95 %% CI]", name);
	n = 0;
	json_array_foreach(json_object_get(s, "clients"), i, t)
		n += json_object_size(json_object_get(t, "figures"));
	if (!n || (err = gp_begin(&gp, title, n > 7 ? 200 + 100 * (int)n : 900, 480))) {
		json_decref(ticks);
		return 0;
	}
	bar_blocks(gp.f, s, json_array_size(json_object_get(s, "clients")) > 1, ticks);
	fputs("set style data histograms\nset style histogram errorbars gap 1 lw 1.5\n"
	      "set style fill solid 0.75 border -1\nset yrange [0:*]\nset offsets 0, 0, graph 0.18, 0\n"
	      "set bmargin 6\nset key outside top center horizontal\n"
	      "set ylabel \"median / larger arm's median\"\nset xtics (", gp.f);
	json_array_foreach(ticks, i, t) {
		fputs(i ? ", " : "", gp.f);
		gp_quote(gp.f, json_string_value(t));
		fprintf(gp.f, " %zu", i);
	}
	fputs(n > 5 ? ") rotate by -30\n" : ")\n", gp.f);
	gp_clause(&gp, "none: offload detached");
	fprintf(gp.f, "$data using 2:3:4 lc rgb \"%s\" title \"none\"", gp_colour(0));
	gp_clause(&gp, "offload: attached");
	fprintf(gp.f, "$data using 5:6:7 lc rgb \"%s\" title \"offload\"", gp_colour(1));
	gp_clause(&gp, "paired ratio offload/none, median [95 % CI]");
	fputs("$ratio using 1:2:3 with labels offset 0,1.4 font \",9\" "
	      "title \"label: offload/none [95 % CI]\"", gp.f);
	json_decref(ticks);
	err = gp_finish(d, &gp, "scenario", title);
	return err;
}

/* The figures' table, under the bars. */
static void figures_table(struct report_doc *d, size_t r, json_t *s)
{
	struct report_table *t;
	char name[200], title[300], a[128], b[128], q[96], fails[16];
	json_t *c, *fig;
	const char *k;
	size_t i;

	scenario_name(d, r, s, name, sizeof(name));
	snprintf(title, sizeof(title), "scenario %s: %lld pairs of trials", name,
		 (long long)json_integer_value(json_object_get(s, "pairs")));
	if (!(t = doc_table(d, title, json_pack("[s,s,s,s,s,s]", "client", "figure",
		"none [95 % CI]", "offload [95 % CI]", "offload/none, paired [95 % CI]",
		"failed trials")))) return;
	json_array_foreach(json_object_get(s, "clients"), i, c)
		json_object_foreach(json_object_get(c, "figures"), k, fig) {
			arm_text(json_object_get(fig, "none"), a, sizeof(a));
			arm_text(json_object_get(fig, "offload"), b, sizeof(b));
			ratio_text(json_object_get(fig, "ratio"), q, sizeof(q));
			snprintf(fails, sizeof(fails), "%lld",
				 (long long)json_integer_value(json_object_get(c, "failed_trials")));
			table_row(t, 6, jstr(c, "name"), k, a, b, q, fails);
		}
}

/* Counters, program runs and run time, map elements, nft counters per arm. */
static void counters_table(struct report_doc *d, size_t r, json_t *s)
{
	struct report_table *t;
	char name[200], title[300], a[32], b[32];
	const char *k;
	json_t *c;

	if (!json_object_size(json_object_get(s, "counters")))
		return;
	scenario_name(d, r, s, name, sizeof(name));
	snprintf(title, sizeof(title), "scenario %s: counters, programs, maps and nft counters "
		 "(sum over each arm's trials)", name);
	if (!(t = doc_table(d, title, json_pack("[s,s,s]", "counter", "none", "offload"))))
		return;
	json_object_foreach(json_object_get(s, "counters"), k, c) {
		snprintf(a, sizeof(a), "%lld", (long long)json_integer_value(json_object_get(c, "none")));
		snprintf(b, sizeof(b), "%lld",
			 (long long)json_integer_value(json_object_get(c, "offload")));
		table_row(t, 3, k, a, b);
	}
}

/* A long expression on two lines (the grid's row names), at a space or dot. */
static void wrap(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), cut = 0;

	snprintf(buf, len, "%s", s);
	if (n <= 46)
		return;
	for (size_t i = 1; i < 46; i++)
		if (s[i] == ' ' || s[i - 1] == '.' || s[i - 1] == ',')
			cut = i;
	if (cut && cut + 1 < len) {
		buf[cut] = '\n';
		snprintf(buf + cut + 1, len - cut - 1, "%s", s + cut + (s[cut] == ' '));
	}
}

/* Every run's expectations: one column per run's scenario, one row each. */
static int expectations(struct report_doc *d)
{
	json_t *cols = json_array(), *rows = json_array(), *cells = json_array(), *e, *s;
	struct report_table *t = NULL;
	char col[200], val[48], label[64], tip[2048], row[400];
	size_t r, i;
	int err = 0;

	for (r = 0; r < d->nruns; r++) {
		s = json_object_get(d->runs[r].results, "scenario");
		scenario_name(d, r, s, col, sizeof(col));
		json_array_foreach(json_object_get(s, "expectations"), i, e) {
			const char *v = jstr(e, "verdict") ?: "?", *reason = jstr(e, "reason");
			json_t *x = json_object_get(e, "value");

			if (json_is_number(x))
				snprintf(val, sizeof(val), "%.6g", json_number_value(x));
			else
				snprintf(val, sizeof(val), "n/a");
			snprintf(label, sizeof(label), "%s\n%s", v, val);
			wrap(jstr(e, "expect") ?: "?", row, sizeof(row));
			snprintf(tip, sizeof(tip), "%s [%s, line %lld]: %s\nvalue: %s%s%s",
				 jstr(e, "expect") ?: "?", col,
				 (long long)json_integer_value(json_object_get(e, "line")), v, val,
				 reason ? "\nreason: " : "", reason ?: "");
			json_array_append_new(cells, json_pack("[I,I,s,s,s]",
				(json_int_t)name_index(cols, col),
				(json_int_t)name_index(rows, row), v, label, tip));
			if (!t)
				t = doc_table(d, "scenario expectations: verdict, expression, value",
					      json_pack("[s,s,s,s,s]", "scenario", "verdict",
							"expectation", "value", "reason"));
			if (t)
				table_row(t, 5, col, v, jstr(e, "expect"), val, reason);
		}
	}
	if (json_array_size(cells))
		err = status_matrix(d, "scenario expectations: pass / fail (hover: value, reason)",
				    "matrix", cols, rows, cells);
	if (!err && json_array_size(cells)) {
		d->plots[d->nplots - 1].table = t - d->tables + 1;
		t->attached = true;
	}
	json_decref(cols);
	json_decref(rows);
	json_decref(cells);
	return err;
}

int plots_scenario(struct report_doc *d)
{
	int err = 0;

	for (size_t r = 0; r < d->nruns && !err; r++) {
		json_t *s = json_object_get(d->runs[r].results, "scenario");

		size_t plots = d->nplots;

		if (!json_is_object(s))
			continue;
		err = scenario_bars(d, r, s);
		figures_table(d, r, s);
		if (!err && d->nplots > plots && d->ntables) {
			d->plots[d->nplots - 1].table = d->ntables;
			d->tables[d->ntables - 1].attached = true;
		}
		counters_table(d, r, s);
	}
	return err ? err : expectations(d);
}
