/*
 * `offloadlab matrix` tables (matrix*.json in a run folder): kernel x feature
 * (yes / no: errno), kernel x check (pass / fail / skip / xfail) and kernel x
 * figure (median and 95 % CI), drawn as the checks' grid of coloured cells
 * (status_matrix), the reason of each cell on hover.  Figures of emulated
 * guests (TCG) are marked and never set against another kernel's: no ratios.
 */
#include <math.h>
#include <string.h>
#include "report/report_internal.h"

#define EMULATED_NOTE "emulated (TCG), not comparable"

/* The kernel's column: "6.1 (emulated)", the run first when there are several. */
static void kernel_col(struct report_doc *d, size_t r, json_t *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", d->nruns > 1 ? d->runs[r].label : "", d->nruns > 1 ? " " : "",
		 jstr(k, "kernel") ?: "?",
		 json_is_true(json_object_get(k, "emulated")) ? " (emulated)" : "");
}

/* "6.1 (6.1.0-57-cloud-amd64, tcg)" for the tips. */
static void kernel_name(json_t *k, char *buf, size_t len)
{
	snprintf(buf, len, "%s (%s, %s)", jstr(k, "kernel") ?: "?", jstr(k, "release") ?: "?",
		 jstr(k, "accel") ?: "?");
}

/* "no: EINVAL" from "EINVAL: Invalid argument (load)" */
static void env_cell(json_t *cell, char *st, char *label, size_t len)
{
	const char *reason = jstr(cell, "reason") ?: "";
	bool yes = json_is_true(json_object_get(cell, "supported"));

	snprintf(st, 16, "%s", yes ? "yes" : "no");
	snprintf(label, len, "%s%s%.*s", yes ? "yes" : "no", yes || !*reason ? "" : ": ",
		 yes ? 0 : (int)strcspn(reason, ":"), reason);
}

/* "4.1M pps\n[3.98M, 4.22M]": the figure's median and CI. */
static void bench_cell(json_t *cell, bool emulated, char *st, char *label, size_t len)
{
	char m[32], lo[32], hi[32];
	double a, b;

	fmt_val(m, sizeof(m), fig_median(cell));
	if (fig_ci(cell, &a, &b)) {
		fmt_val(lo, sizeof(lo), a);
		fmt_val(hi, sizeof(hi), b);
	}
	snprintf(label, len, "%s %.24s\n[%s, %s]", m, jstr(cell, "unit") ?: "",
		 fig_ci(cell, &a, &b) ? lo : "?", fig_ci(cell, &a, &b) ? hi : "?");
	snprintf(st, 16, "%s", emulated ? "emulated" : "measured");
}

/* One cell: its status (colour), label, hover text and table text. */
static void matrix_cell(const char *kind, const char *row, json_t *k, json_t *cell, char *st,
			char *label, size_t ll, char *tip, size_t tl, char *text, size_t xl)
{
	bool emulated = json_is_true(json_object_get(k, "emulated"));
	const char *reason = jstr(cell, "reason") ?: "", *err = jstr(k, "error");
	char kn[160], ci[200] = "";
	double a, b;

	kernel_name(k, kn, sizeof(kn));
	if (!cell || (!strcmp(kind, "bench") && isnan(fig_median(cell)))) {
		snprintf(st, 16, "n/a");
		snprintf(label, ll, "-");
		snprintf(tip, tl, "%s on %s: n/a: %s", row, kn, err ?: cell ? "not measured" :
			 "not in this kernel's output");
		snprintf(text, xl, "%s", strstr(tip, "n/a: "));
		return;
	}
	if (!strcmp(kind, "env"))
		env_cell(cell, st, label, ll);
	else if (!strcmp(kind, "check"))
		snprintf(label, ll, "%s", jstr(cell, "status") ?: "?");
	else
		bench_cell(cell, emulated, st, label, ll);
	if (!strcmp(kind, "check"))
		snprintf(st, 16, "%.15s", label);
	if (fig_ci(cell, &a, &b))
		snprintf(ci, sizeof(ci), "median %.6g, 95 %% CI [%.6g, %.6g] %.24s%s", fig_median(cell), a,
			 b, jstr(cell, "unit") ?: "", emulated ? "\n" EMULATED_NOTE : "");
	snprintf(tip, tl, "%s on %s: %s%s%s", row, kn, ci[0] ? ci : label, *reason ? "\nreason: " : "",
		 reason);
	/* the table: the label on one line, then why (skips, xfails, no) or the mark */
	snprintf(text, xl, "%s%s%s%s", strcmp(kind, "env") || !*reason ? label : "no", *reason ?
		 ": " : "", reason, emulated && !strcmp(kind, "bench") ? " (" EMULATED_NOTE ")" : "");
	for (char *c = text; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

static const char *matrix_title(const char *kind)
{
	if (!strcmp(kind, "env"))
		return "kernel x feature: supported (hover: why not)";
	if (!strcmp(kind, "check"))
		return "kernel x check: pass / fail / skip / xfail (hover: reason)";
	return "kernel x figure, median [95 % CI]; emulated: not comparable";
}

/* One matrix document of run r: its grid, and its table (row x kernel). */
static int plot_one(struct report_doc *d, size_t r, json_t *m)
{
	const char *kind = jstr(m, "kind") ?: "?", *row;
	json_t *cols = json_array(), *rows = json_array(), *cells = json_array(), *k, *cr, *head;
	char title[320], col[160], st[16], label[160], tip[2048], text[1024];
	struct report_table *t;
	size_t i;
	int err = 0;

	snprintf(title, sizeof(title), "matrix %s%s%s: %s", kind, d->nruns > 1 ? ", " : "",
		 d->nruns > 1 ? d->runs[r].label : "", matrix_title(kind));
	head = json_pack("[s]", !strcmp(kind, "env") ? "feature" : !strcmp(kind, "check") ?
			 "check" : "figure");
	json_array_foreach(json_object_get(m, "kernels"), i, k) {
		kernel_col(d, r, k, col, sizeof(col));
		json_array_append_new(head, json_string(col));
		name_index(cols, col);
	}
	if (!(t = doc_table(d, title, head)))
		goto out;
	json_object_foreach(json_object_get(m, "rows"), row, cr) {
		json_t *trow = json_pack("[s]", row);

		json_array_foreach(json_object_get(m, "kernels"), i, k) {
			matrix_cell(kind, row, k, json_object_get(cr, jstr(k, "kernel") ?: ""), st,
				    label, sizeof(label), tip, sizeof(tip), text, sizeof(text));
			json_array_append_new(cells, json_pack("[I,I,s,s,s]", (json_int_t)i,
				(json_int_t)name_index(rows, row), st, label, tip));
			json_array_append_new(trow, json_string(text));
		}
		json_array_append_new(t->rows, trow);
	}
	if (json_array_size(cells))
		err = status_matrix(d, title, "matrix", cols, rows, cells);
	if (!err && json_array_size(cells)) {
		d->plots[d->nplots - 1].table = d->ntables;
		d->tables[d->ntables - 1].attached = true;
	}
out:
	json_decref(cols);
	json_decref(rows);
	json_decref(cells);
	return err;
}

/* The kernels each matrix ran on: release, accel (and why), exit, error. */
static void kernels_table(struct report_doc *d, size_t r, json_t *m)
{
	char title[256], exit_s[16];
	struct report_table *t;
	json_t *k;
	size_t i;

	snprintf(title, sizeof(title), "matrix %s kernels: %s (%s)", jstr(m, "kind") ?: "?",
		 d->runs[r].label, jstr(m, "ratios") ?: "each kernel as it ran");
	t = doc_table(d, title, json_pack("[s,s,s,s,s,s]", "kernel", "release", "version", "accel",
					  "exit", "error"));
	json_array_foreach(json_object_get(m, "kernels"), i, k) {
		char accel[256];

		snprintf(exit_s, sizeof(exit_s), "%lld",
			 (long long)json_integer_value(json_object_get(k, "status")));
		snprintf(accel, sizeof(accel), "%s%s%s%s", jstr(k, "accel") ?: "?",
			 json_is_true(json_object_get(k, "emulated")) ? ", " EMULATED_NOTE : "",
			 jstr(k, "accel_why") && *jstr(k, "accel_why") ? ": " : "",
			 jstr(k, "accel_why") ?: "");
		if (t)
			table_row(t, 6, jstr(k, "kernel"), jstr(k, "release"), jstr(k, "version"), accel,
				  exit_s, jstr(k, "error"));
	}
}

int plots_matrix(struct report_doc *d)
{
	json_t *m;
	size_t r, i;
	int err = 0;

	for (r = 0; r < d->nruns && !err; r++)
		json_array_foreach(d->runs[r].matrices, i, m) {
			kernels_table(d, r, m);
			if ((err = plot_one(d, r, m)))
				break;
		}
	return err;
}
