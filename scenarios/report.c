/* A scenario run's report: JSON (jansson), results figures, and the table. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lib/stats.h"
#include "results/results.h"
#include "scenarios/internal.h"
#include "scenarios/report.h"

static json_t *summary_json(const double *x, int n)
{
	struct summary s;

	if (!n || summarize(x, (size_t)n, &s))
		return json_null();
	return json_pack("{s:f, s:[f, f], s:f, s:i}", "median", s.median, "ci95", s.ci_lo,
			 s.ci_hi, "ci_coverage", s.ci_level, "n", n);
}

/* Every figure name any trial of client c gave. */
static json_t *figure_names(const struct scn_results *r, const char *c)
{
	json_t *names = json_object(), *t, *v;
	const char *k;
	size_t i;

	json_array_foreach(r->trials, i, t)
		json_object_foreach(json_object_get(json_object_get(t, "clients"), c), k, v)
			json_object_set_new(names, k, json_true());
	return names;
}

static json_t *client_json(const struct scn_client *c, const struct scn_results *r)
{
	json_t *figs = json_object(), *names = figure_names(r, c->name), *v;
	double x[SCN_MAX_TRIALS];
	const char *k;
	json_t *t;
	size_t i;
	int fails = 0, n;

	json_object_foreach(names, k, v) {
		struct scn_ref ref = { .src = SRC_CLIENT };
		json_t *f = json_object();

		snprintf(ref.a, sizeof(ref.a), "%s", c->name);
		snprintf(ref.b, sizeof(ref.b), "%s", k);
		n = scn_series(r, &ref, STAT_NONE, x, SCN_MAX_TRIALS);
		json_object_set_new(f, "none", summary_json(x, n));
		n = scn_series(r, &ref, STAT_OFFLOAD, x, SCN_MAX_TRIALS);
		json_object_set_new(f, "offload", summary_json(x, n));
		n = scn_paired_ratios(r, &ref, x, SCN_MAX_TRIALS);
		json_object_set_new(f, "ratio", summary_json(x, n));
		json_object_set_new(figs, k, f);
	}
	json_decref(names);
	json_array_foreach(r->trials, i, t)
		fails += json_integer_value(json_object_get(json_object_get(t, "client_exit"),
							    c->name)) != 0;
	return json_pack("{s:s, s:s, s:o, s:i, s:b}", "name", c->name, "parser",
			 scn_parser_name(c->parser), "figures", figs, "failed_trials", fails,
			 "may_fail", c->may_fail);
}

/* Counters: every value key, summed per arm over its trials. */
static json_t *counters_json(const struct scn_results *r)
{
	json_t *out = json_object(), *t, *v;
	const char *k;
	size_t i;

	json_array_foreach(r->trials, i, t) {
		const char *arm = json_string_value(json_object_get(t, "arm"));

		json_object_foreach(json_object_get(t, "values"), k, v) {
			json_t *c = json_object_get(out, k);

			if (!c) {
				c = json_pack("{s:I, s:I}", "none", (json_int_t)0, "offload",
					      (json_int_t)0);
				json_object_set_new(out, k, c);
			}
			json_object_set_new(c, arm, json_integer(json_integer_value(
				json_object_get(c, arm)) + json_integer_value(v)));
		}
	}
	return out;
}

/* Per-CPU busy time (user + system + softirq), ns per trial, mean per arm. */
static json_t *cpu_json(const struct scn_results *r)
{
	json_t *out = json_object(), *t, *v;
	const char *k;
	size_t i;
	int n[2] = { 0, 0 };

	json_array_foreach(r->trials, i, t) {
		const char *arm = json_string_value(json_object_get(t, "arm"));
		int a = !strcmp(arm, "offload");

		n[a]++;
		json_object_foreach(json_object_get(t, "cpu"), k, v) {
			json_t *c = json_object_get(out, k);
			const char *parts[] = { "user_ns", "system_ns", "softirq_ns" };

			if (!c) {
				c = json_object();
				json_object_set_new(out, k, c);
			}
			for (int p = 0; p < 3; p++) {
				char key[48];

				snprintf(key, sizeof(key), "%s_%s", arm, parts[p]);
				json_object_set_new(c, key, json_real(json_number_value(
					json_object_get(c, key)) + json_integer_value(
					json_object_get(v, parts[p]))));
			}
		}
	}
	json_object_foreach(out, k, v) {
		json_t *x;
		const char *kk;
		void *tmp;

		json_object_foreach_safe(v, tmp, kk, x) {
			int a = !strncmp(kk, "offload", 7);

			json_object_set_new(v, kk, json_real(n[a] ? json_number_value(x) / n[a] : 0));
		}
	}
	return out;
}

static json_t *expect_json(const struct scenario *s, const struct scn_results *r, int *failed)
{
	json_t *out = json_array();

	*failed = 0;
	for (int i = 0; i < s->nexpect; i++) {
		const struct scn_expect *e = &s->expect[i];
		char why[640] = "";
		double v = NAN;
		bool pass = false, ok = scn_expect_eval(s, r, e, &v, &pass, why, sizeof(why));

		*failed += !pass;
		json_array_append_new(out, json_pack("{s:s, s:i, s:o, s:s, s:s?}", "expect", e->text,
			"line", e->line, "value", ok ? json_real(v) : json_null(),
			"verdict", pass ? "pass" : "fail", "reason", ok ? NULL : why));
	}
	return out;
}

json_t *scn_report(const struct scenario *s, const struct scn_results *r,
		   const struct scn_run_opts *o, int *failed)
{
	json_t *clients = json_array();

	for (int i = 0; i < s->nclients; i++)
		json_array_append_new(clients, client_json(&s->clients[i], r));
	return json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:O, s:O}", "name", s->name,
			 "description", s->description, "pairs", (int)json_array_size(r->trials) / 2,
			 "clients", clients, "counters", counters_json(r), "cpu_ns_per_trial",
			 cpu_json(r), "expectations", expect_json(s, r, failed), "trials", r->trials,
			 "retried_trials", r->retried);
}

/* Each client figure per arm as a results figure (bench "scenario"). */
void scn_report_results(const struct scenario *s, const struct scn_results *r,
			struct results *res)
{
	for (int i = 0; i < s->nclients; i++) {
		json_t *names = figure_names(r, s->clients[i].name), *v;
		const char *k;

		json_object_foreach(names, k, v) {
			struct scn_ref ref = { .src = SRC_CLIENT };
			double x[SCN_MAX_TRIALS];
			char variant[96];

			snprintf(ref.a, sizeof(ref.a), "%s", s->clients[i].name);
			snprintf(ref.b, sizeof(ref.b), "%s", k);
			for (int arm = 0; arm < 2; arm++) {
				int n = scn_series(r, &ref, arm ? STAT_OFFLOAD : STAT_NONE, x,
						   SCN_MAX_TRIALS);
				struct result f = { .bench = "scenario", .hook = s->name,
						    .variant = variant, .metric = k, .unit = "",
						    .method = "the client's own output, per trial",
						    .trials = x, .n = (size_t)n };

				snprintf(variant, sizeof(variant), "%s/%s", s->clients[i].name,
					 arm ? "offload" : "none");
				results_add(res, &f);
			}
		}
		json_decref(names);
	}
	results_flush(res);
}

static void print_summary(FILE *f, json_t *x)
{
	if (!json_is_object(x)) {
		fprintf(f, " %28s", "-");
		return;
	}
	fprintf(f, " %10.4g [%7.4g, %7.4g]", json_number_value(json_object_get(x, "median")),
		json_number_value(json_array_get(json_object_get(x, "ci95"), 0)),
		json_number_value(json_array_get(json_object_get(x, "ci95"), 1)));
}

void scn_report_print(json_t *rep, FILE *f, const char *dir)
{
	json_t *c, *fig, *e;
	const char *k;
	size_t i;

	fprintf(f, "scenario %s: %d pairs of trials (offload / none), medians [95%% CI]\n\n",
		json_string_value(json_object_get(rep, "name")),
		(int)json_integer_value(json_object_get(rep, "pairs")));
	fprintf(f, "%-28s %-22s %28s %28s %28s\n", "client", "figure", "none", "offload",
		"ratio offload/none");
	json_array_foreach(json_object_get(rep, "clients"), i, c)
		json_object_foreach(json_object_get(c, "figures"), k, fig) {
			fprintf(f, "%-28s %-22s", json_string_value(json_object_get(c, "name")), k);
			print_summary(f, json_object_get(fig, "none"));
			print_summary(f, json_object_get(fig, "offload"));
			print_summary(f, json_object_get(fig, "ratio"));
			fputc('\n', f);
		}
	fprintf(f, "\n%-60s %14s %14s\n", "counter (sum over the arm's trials)", "none", "offload");
	json_object_foreach(json_object_get(rep, "counters"), k, c)
		fprintf(f, "%-60s %14lld %14lld\n", k,
			(long long)json_integer_value(json_object_get(c, "none")),
			(long long)json_integer_value(json_object_get(c, "offload")));
	fprintf(f, "\n%-14s %18s %18s   (busy ms per trial: user+system+softirq)\n", "cpu",
		"none", "offload");
	json_object_foreach(json_object_get(rep, "cpu_ns_per_trial"), k, c) {
		double v[2] = { 0, 0 };
		const char *arm[] = { "none", "offload" }, *p[] = { "user_ns", "system_ns", "softirq_ns" };

		for (int a = 0; a < 2; a++)
			for (int q = 0; q < 3; q++) {
				char key[48];

				snprintf(key, sizeof(key), "%s_%s", arm[a], p[q]);
				v[a] += json_number_value(json_object_get(c, key)) / 1e6;
			}
		fprintf(f, "%-14s %18.1f %18.1f\n", k, v[0], v[1]);
	}
	fputs("\nexpectations:\n", f);
	json_array_foreach(json_object_get(rep, "expectations"), i, e) {
		json_t *v = json_object_get(e, "value");

		fprintf(f, "  %-4s %-58s value %.6g%s%s\n",
			json_string_value(json_object_get(e, "verdict")),
			json_string_value(json_object_get(e, "expect")),
			json_is_number(v) ? json_number_value(v) : NAN,
			json_object_get(e, "reason") ? "  " : "",
			json_string_value(json_object_get(e, "reason")) ?: "");
	}
	fprintf(f, "\nresults: %s/results.json\n", dir);
}
