/*
 * Runs side by side: each figure of the first run (the --baseline when one
 * is given) against the same figure (same bench, hook, variant, metric and
 * axis values) in every other run.  A change is "within noise" when the two
 * 95 % CIs overlap.  A regression (--baseline) is a change whose CIs do not
 * overlap and whose median moved by more than the threshold, either way.
 */
#include <math.h>
#include <string.h>
#include "report/report_internal.h"

static json_t *find_fig(json_t *list, json_t *axes, const char *key)
{
	char k[512];
	size_t i;
	json_t *f;

	json_array_foreach(list, i, f) {
		fig_key(f, axes, k, sizeof(k));
		if (!strcmp(k, key) && !isnan(fig_median(f)))
			return f;
	}
	return NULL;
}

/* {figure, run, base, now, change_pct, within_noise} of one pair. */
static json_t *change_json(const char *key, const char *run, json_t *a, json_t *b)
{
	double ma = fig_median(a), mb = fig_median(b), alo, ahi, blo, bhi;
	bool ca = fig_ci(a, &alo, &ahi), cb = fig_ci(b, &blo, &bhi);
	bool overlap = ca && cb ? !(bhi < alo || blo > ahi) : ma == mb;
	double pct = ma != 0 ? 100.0 * (mb - ma) / fabs(ma) : (mb == ma ? 0 : INFINITY);

	return json_pack("{s:s, s:s, s:f, s:f, s:o, s:b}", "figure", key, "run", run,
			 "base", ma, "now", mb, "change_pct", isfinite(pct) ? json_real(pct) :
			 json_null(), "within_noise", overlap);
}

static void change_row(struct report_table *t, json_t *c, const char *unit, bool regressed)
{
	char a[32], b[32], p[48];
	json_t *pct = json_object_get(c, "change_pct");

	fmt_val(a, sizeof(a), json_real_value(json_object_get(c, "base")));
	fmt_val(b, sizeof(b), json_real_value(json_object_get(c, "now")));
	if (json_is_number(pct))
		snprintf(p, sizeof(p), "%+.1f %%", json_number_value(pct));
	else
		snprintf(p, sizeof(p), "n/a");
	table_row(t, 7, jstr(c, "figure"), unit, jstr(c, "run"), a, b, p,
		  json_is_true(json_object_get(c, "within_noise")) ? "within noise" :
		  regressed ? "REGRESSION (beyond CI and threshold)" : "changed (CIs apart)");
}

static bool is_regression(const struct report_doc *d, json_t *c)
{
	json_t *pct = json_object_get(c, "change_pct");

	return d->opts->regression && !json_is_true(json_object_get(c, "within_noise")) &&
	       (!json_is_number(pct) || fabs(json_number_value(pct)) > d->opts->threshold_pct);
}

int compare_runs(struct report_doc *d)
{
	json_t *axes = run_axes(d->runs, d->nruns), *f;
	json_t *base = json_object_get(d->runs[0].results, "results");
	struct report_table *t;
	char key[512], title[256];
	size_t i, r;

	d->changes = json_array();
	d->regressions = json_array();
	if (d->nruns < 2) {
		json_decref(axes);
		return 0;
	}
	snprintf(title, sizeof(title), "Changes against %s%s", d->runs[0].label,
		 d->opts->regression ? " (the baseline)" : "");
	t = doc_table(d, title, json_pack("[s,s,s,s,s,s,s]", "figure", "unit", "run", "was", "now",
					  "change", "verdict"));
	json_array_foreach(base, i, f) {
		if (isnan(fig_median(f)) || json_is_false(json_object_get(f, "primary")))
			continue;
		fig_key(f, axes, key, sizeof(key));
		for (r = 1; r < d->nruns; r++) {
			json_t *g = find_fig(json_object_get(d->runs[r].results, "results"), axes, key);
			json_t *c;

			if (!g)
				continue;
			c = change_json(key, d->runs[r].label, f, g);
			if (is_regression(d, c))
				json_array_append(d->regressions, c);
			if (t)
				change_row(t, c, jstr(f, "unit"), is_regression(d, c));
			json_array_append_new(d->changes, c);
		}
	}
	json_decref(axes);
	return 0;
}

static void prov(json_t *rows, const char *name, const char *value)
{
	json_array_append_new(rows, json_pack("[s,s]", name, value && *value ? value : "unknown"));
}

/* The idle modes and runtimes the figures ran in, comma-separated. */
static void distinct(json_t *list, const char *axis, char *buf, size_t len)
{
	json_t *seen = json_object(), *f;
	char v[64];
	size_t i, at = 0;
	bool num;

	buf[0] = 0;
	json_array_foreach(list, i, f) {
		axis_value(f, axis, v, sizeof(v), &num);
		if (!v[0] || json_object_get(seen, v))
			continue;
		json_object_set_new(seen, v, json_true());
		if (at < len)
			at += snprintf(buf + at, len - at, "%s%s", at ? ", " : "", v);
	}
	json_decref(seen);
}

json_t *run_provenance(const struct report_run *r)
{
	json_t *cfg = json_object_get(r->results, "config"), *rows = json_array();
	json_t *meas = json_object_get(cfg, "measurement"), *list;
	char buf[512], cpus[32];

	if (!cfg)
		cfg = json_object_get(r->checks, "config");
	if (!meas)
		meas = json_object_get(r->checks, "measurement");
	list = json_object_get(r->results, "results");
	prov(rows, "run", r->dir);
	prov(rows, "kernel", jstr(cfg, "kernel") ?: jstr(r->checks, "kernel"));
	prov(rows, "commit", jstr(cfg, "commit"));
	snprintf(cpus, sizeof(cpus), "%lld", (long long)json_integer_value(json_object_get(cfg, "cpus")));
	prov(rows, "CPUs", json_object_get(cfg, "cpus") ? cpus : NULL);
	distinct(list, "cpu-idle", buf, sizeof(buf));
	prov(rows, "cpu-idle", buf);
	distinct(list, "runtime", buf, sizeof(buf));
	prov(rows, "runtime", buf[0] ? buf : jstr(json_object_get(cfg, "bench"), "runtime"));
	prov(rows, "date", jstr(cfg, "started"));
	prov(rows, "command line", jstr(cfg, "command_line"));
	snprintf(buf, sizeof(buf), "%s (other live runs: %lld)",
		 !meas ? "not recorded" : jstr(meas, "note") ?: jstr(meas, "lock") ?: "?",
		 (long long)json_integer_value(json_object_get(meas, "other_live_runs")));
	prov(rows, "other runs measuring", buf);
	prov(rows, "complete", !r->results ? "no results.json" :
	     json_is_true(json_object_get(r->results, "complete")) ? "yes" :
	     jstr(r->results, "incomplete_reason") ?: "no (interrupted or still running)");
	return rows;
}
