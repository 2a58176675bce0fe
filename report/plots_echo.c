/*
 * Latency CDFs from the histograms a figure records ("histogram": [{le_ns,
 * count}], as echo does), one plot per cpu-idle mode, one curve per hook,
 * log x, with each cell's p50 / p99 / p99.9 figures marked on its curve.
 */
#include <math.h>
#include <string.h>
#include "report/report_internal.h"

/* The figure metric of the same cell (bench, hook, variant, idle mode, runtime). */
static json_t *sibling(json_t *list, json_t *fig, const char *metric)
{
	char a[64], b[64];
	size_t i;
	json_t *o;
	bool num;

	json_array_foreach(list, i, o) {
		if (strcmp(jstr(o, "metric") ?: "", metric) ||
		    strcmp(jstr(o, "bench") ?: "", jstr(fig, "bench") ?: "") ||
		    strcmp(jstr(o, "hook") ?: "", jstr(fig, "hook") ?: "") ||
		    strcmp(jstr(o, "variant") ?: "", jstr(fig, "variant") ?: "") ||
		    strcmp(jstr(o, "runtime") ?: "", jstr(fig, "runtime") ?: ""))
			continue;
		axis_value(o, "cpu-idle", a, sizeof(a), &num);
		axis_value(fig, "cpu-idle", b, sizeof(b), &num);
		if (!strcmp(a, b))
			return o;
	}
	return NULL;
}

/* "x_us F" points of the histogram's CDF. */
static void cdf_block(FILE *f, json_t *hist)
{
	double total = 0, run = 0;
	size_t i;
	json_t *b;

	json_array_foreach(hist, i, b)
		total += json_number_value(json_object_get(b, "count"));
	if (total <= 0)
		return;
	json_array_foreach(hist, i, b) {
		double le = json_number_value(json_object_get(b, "le_ns")) / 1000.0;

		if (i == 0)
			fprintf(f, "%.9g 0\n", le / 2);
		run += json_number_value(json_object_get(b, "count"));
		fprintf(f, "%.9g %.9g\n", le, run / total);
	}
}

static const struct {
	const char *metric;
	double q;
} marks[] = { { "p50_us", 0.5 }, { "p99_us", 0.99 }, { "p999_us", 0.999 } };

static void mark_block(FILE *f, json_t *list, json_t *fig)
{
	for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++) {
		double v = fig_median(sibling(list, fig, marks[k].metric));

		if (!isnan(v) && v > 0)
			fprintf(f, "%.9g %g\n", v, marks[k].q);
	}
}

static void cdf_preamble(FILE *f)
{
	fputs("set logscale x 10\nset xlabel \"round trip (us, log)\"\n"
	      "set ylabel \"fraction of round trips\"\nset yrange [0:1.02]\n"
	      "set key outside right top\n", f);
	for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++)
		fprintf(f, "set arrow from graph 0, first %g to graph 1, first %g nohead dt 2 "
			"lc rgb \"#999999\"\nset label \"%s\" at graph 1.01, first %g left "
			"offset 0,%d\n", marks[k].q, marks[k].q,
			k == 0 ? "p50" : k == 1 ? "p99" : "p99.9", marks[k].q, k == 0 ? 0 : k == 1 ? -1 : 1);
}

/* One plot: the curves of every run's cells in this idle mode. */
static int cdf_plot(struct report_doc *d, const char *mode)
{
	struct gp gp;
	char title[160], lab[256], v[64];
	size_t r, i, n = 0;
	json_t *fig;
	bool num;
	int err;

	snprintf(title, sizeof(title), "latency CDF by hook (cpu-idle %s), p50/p99/p99.9 marked",
		 mode);
	if ((err = gp_begin(&gp, title, 900, 460)))
		return err;
	cdf_preamble(gp.f);
	for (r = 0; r < d->nruns; r++) {
		json_t *list = json_object_get(d->runs[r].results, "results");

		json_array_foreach(list, i, fig) {
			if (!json_is_array(json_object_get(fig, "histogram")) ||
			    strcmp(axis_value(fig, "cpu-idle", v, sizeof(v), &num), mode))
				continue;
			fprintf(gp.f, "$c%zu << EOD\n", n);
			cdf_block(gp.f, json_object_get(fig, "histogram"));
			fprintf(gp.f, "EOD\n$m%zu << EOD\n", n);
			mark_block(gp.f, list, fig);
			fputs("EOD\n", gp.f);
			n++;
		}
	}
	for (r = 0, n = 0; r < d->nruns; r++) {
		json_array_foreach(json_object_get(d->runs[r].results, "results"), i, fig) {
			if (!json_is_array(json_object_get(fig, "histogram")) ||
			    strcmp(axis_value(fig, "cpu-idle", v, sizeof(v), &num), mode))
				continue;
			snprintf(lab, sizeof(lab), "%s%s%s%s%s", d->nruns > 1 ? d->runs[r].label : "",
				 d->nruns > 1 ? " " : "", jstr(fig, "hook") ?: "?",
				 jstr(fig, "variant") ? " " : "", jstr(fig, "variant") ?: "");
			gp_clause(&gp, lab);
			fprintf(gp.f, "$c%zu using 1:2 with steps lw 1.5 lc rgb \"%s\" title ", n,
				gp_colour(n));
			gp_quote(gp.f, lab);
			gp_clause(&gp, "p50, p99, p99.9 of this hook");
			fprintf(gp.f, "$m%zu using 1:2 with points pt 7 ps 0.8 lc rgb \"%s\" notitle",
				n, gp_colour(n));
			n++;
		}
	}
	return gp_finish(d, &gp, "cdf", title);
}

int plots_echo(struct report_doc *d)
{
	json_t *modes = json_array(), *fig, *m;
	char v[64];
	size_t r, i;
	bool num;
	int err = 0;

	for (r = 0; r < d->nruns; r++)
		json_array_foreach(json_object_get(d->runs[r].results, "results"), i, fig) {
			bool seen = false;
			size_t k;

			if (!json_is_array(json_object_get(fig, "histogram")))
				continue;
			axis_value(fig, "cpu-idle", v, sizeof(v), &num);
			json_array_foreach(modes, k, m)
				seen |= !strcmp(json_string_value(m), v);
			if (!seen)
				json_array_append_new(modes, json_string(v));
		}
	json_array_foreach(modes, i, m)
		if (!err)
			err = cdf_plot(d, json_string_value(m));
	json_decref(modes);
	return err;
}
