/* The runs' JSON as the report sees it: figures, their axes and keys. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "report/report_internal.h"

const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

double fig_median(json_t *fig)
{
	json_t *m = json_object_get(fig, "median");

	return json_is_number(m) ? json_number_value(m) : NAN;
}

bool fig_ci(json_t *fig, double *lo, double *hi)
{
	json_t *ci = json_object_get(fig, "ci95");

	*lo = *hi = NAN;
	if (!json_is_number(json_array_get(ci, 0)) || !json_is_number(json_array_get(ci, 1)))
		return false;
	*lo = json_number_value(json_array_get(ci, 0));
	*hi = json_number_value(json_array_get(ci, 1));
	return true;
}

void fmt_val(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "n/a");
	else if (fabs(v) >= 1e6)
		snprintf(buf, len, "%.3gM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else if (fabs(v) >= 10 || v == 0)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

/* Axes every bench may use, when a run does not list its own. */
static const char *const default_axes[] = {
	"proto", "size", "cpu-idle", "runtime", "pct", "batch", "channel", "cost", "op",
	"key", "access", "prealloc", "stages",
};

static void add_axis(json_t *axes, const char *name)
{
	size_t i;
	json_t *v;

	if (!strcmp(name, "hook") || !strcmp(name, "layout"))
		return;
	json_array_foreach(axes, i, v)
		if (!strcmp(json_string_value(v), name))
			return;
	json_array_append_new(axes, json_string(name));
}

json_t *run_axes(const struct report_run *runs, size_t n)
{
	json_t *axes = json_array();
	const char *k;
	json_t *v;

	for (size_t r = 0; r < n; r++) {
		json_t *cfg = json_object_get(json_object_get(runs[r].results, "config"), "bench");

		json_object_foreach(json_object_get(cfg, "axes"), k, v)
			add_axis(axes, k);
	}
	for (size_t i = 0; i < sizeof(default_axes) / sizeof(default_axes[0]); i++)
		add_axis(axes, default_axes[i]);
	return axes;
}

const char *axis_value(json_t *fig, const char *axis, char *buf, size_t len, bool *numeric)
{
	char field[32];
	json_t *v;

	snprintf(field, sizeof(field), "%s", axis);
	for (char *c = field; *c; c++)
		if (*c == '-')
			*c = '_';
	v = json_object_get(fig, field);
	if (json_is_object(v))          /* cpu_idle: {"mode": ...} */
		v = json_object_get(v, "mode");
	*numeric = json_is_integer(v);
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		buf[0] = 0;
	return buf;
}

void fig_key(json_t *fig, json_t *axes, char *buf, size_t len)
{
	size_t i, at;
	json_t *a;
	char v[64];
	bool num;

	at = snprintf(buf, len, "%s|%s|%s|%s", jstr(fig, "bench") ?: "", jstr(fig, "hook") ?: "",
		      jstr(fig, "variant") ?: "", jstr(fig, "metric") ?: "");
	json_array_foreach(axes, i, a) {
		axis_value(fig, json_string_value(a), v, sizeof(v), &num);
		if (v[0] && at < len)
			at += snprintf(buf + at, len - at, "|%s=%s", json_string_value(a), v);
	}
}

static json_t *load_json(const char *dir, const char *name, bool need, char *why, size_t len,
			 int *err)
{
	char path[640];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) && !need)
		return NULL;
	j = json_load_file(path, 0, &e);
	/* checks.json, verifier.json, matrix*.json are extras: one unreadable is left out. */
	if (!j && !need)
		fprintf(stderr, "offloadlab report: %s left out: %s\n", path, e.text);
	else if (!j && !*err) {
		snprintf(why, len, "%s: %s", path, e.text);
		*err = -EINVAL;
	}
	return j;
}

static int is_matrix_json(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return !strncmp(e->d_name, "matrix", 6) && n >= 11 && !strcmp(e->d_name + n - 5, ".json");
}

/* Every matrix*.json (offloadlab matrix) of the folder, by name. */
static json_t *load_matrices(const char *dir, char *why, size_t len, int *err)
{
	json_t *list = json_array(), *m;
	struct dirent **names = NULL;
	int n = scandir(dir, &names, is_matrix_json, alphasort);

	for (int i = 0; i < n; i++) {
		m = load_json(dir, names[i]->d_name, false, why, len, err);
		if (m && !json_is_object(json_object_get(m, "rows")))
			fprintf(stderr, "offloadlab report: %s/%s left out: no \"rows\" (not a "
				"matrix --json)\n", dir, names[i]->d_name);
		else if (m)
			json_array_append(list, m);
		json_decref(m);
		free(names[i]);
	}
	free(names);
	return list;
}

int report_run_load(const char *dir, struct report_run *r, char *why, size_t len)
{
	struct stat st;
	const char *base;
	char path[600];
	int err = 0;

	memset(r, 0, sizeof(*r));
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s: not a run folder", dir);
		return -ENOENT;
	}
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	while (strlen(r->dir) > 1 && r->dir[strlen(r->dir) - 1] == '/')
		r->dir[strlen(r->dir) - 1] = 0;
	base = strrchr(r->dir, '/') ? strrchr(r->dir, '/') + 1 : r->dir;
	snprintf(r->label, sizeof(r->label), "%.79s", base);
	snprintf(path, sizeof(path), "%s/results.json", r->dir);
	r->results = load_json(r->dir, "results.json", !access(path, F_OK), why, len, &err);
	r->checks = load_json(r->dir, "checks.json", false, why, len, &err);
	r->verifier = load_json(r->dir, "verifier.json", false, why, len, &err);
	r->matrices = load_matrices(r->dir, why, len, &err);
	if (!err && !r->results && !r->checks && !r->verifier && !json_array_size(r->matrices)) {
		snprintf(why, len, "%s holds no results.json, checks.json, verifier.json or "
			 "matrix*.json", dir);
		err = -ENOENT;
	}
	if (err)
		report_run_free(r);
	return err;
}

void report_run_free(struct report_run *r)
{
	json_decref(r->results);
	json_decref(r->checks);
	json_decref(r->verifier);
	json_decref(r->matrices);
	r->results = r->checks = r->verifier = r->matrices = NULL;
}

/* A folder the report can read with no argument: results.json (bench,
 * scenario run) or matrix*.json (offloadlab matrix). */
static bool has_run_doc(const char *dir)
{
	struct dirent **names = NULL;
	char path[800];
	int n;

	snprintf(path, sizeof(path), "%s/results.json", dir);
	if (!access(path, R_OK))
		return true;
	n = scandir(dir, &names, is_matrix_json, NULL);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return n > 0;
}

int report_latest_run(const char *root, char *out, size_t len)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char best[256] = "", path[768];

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "run-", 4) || strcmp(e->d_name, best) <= 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, e->d_name);
		if (has_run_doc(path))
			snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(d);
	if (!best[0])
		return -ENOENT;
	snprintf(out, len, "%s/%s", root, best);
	return 0;
}

struct report_table *doc_table(struct report_doc *d, const char *title, json_t *head)
{
	struct report_table *t;

	if (d->ntables == d->cap_tables) {
		size_t cap = d->cap_tables ? 2 * d->cap_tables : 16;

		t = realloc(d->tables, cap * sizeof(*t));
		if (!t) {
			json_decref(head);
			return NULL;
		}
		d->tables = t;
		d->cap_tables = cap;
	}
	t = &d->tables[d->ntables++];
	snprintf(t->title, sizeof(t->title), "%s", title);
	t->head = head;
	t->rows = json_array();
	t->attached = false;
	return t;
}

void table_row(struct report_table *t, int ncells, ...)
{
	json_t *row = json_array();
	va_list ap;

	va_start(ap, ncells);
	for (int i = 0; i < ncells; i++) {
		const char *s = va_arg(ap, const char *);

		json_array_append_new(row, json_string(s ? s : ""));
	}
	va_end(ap);
	json_array_append_new(t->rows, row);
}
