/*
 * The verifier study: the load matrix (every parser x compiler x -O x -mcpu
 * at the default knobs, timed on real requests), the knob searches (the
 * largest value each combination loads) and the findings drawn from them:
 * where a flag alone decides between loading and rejection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench/verifier.h"
#include "bench/verifier_internal.h"
#include "lib/cpuidle.h"
#include "lib/run.h"
#include "lib/util.h"
#include "results/results.h"

#define BIT(i) (1u << (i))
#define FULL_BUDGET_MS (510 * 1000ull)
#define QUICK_BUDGET_MS (40 * 1000ull)

const char *const vf_stage_names[] = {
	[VF_SKIPPED] = "skipped", [VF_COMPILE] = "compile-failed",
	[VF_LOAD] = "rejected", [VF_LOADED] = "loaded",
};

void vf_study_defaults(struct vf_study_cfg *c, bool quick)
{
	*c = (struct vf_study_cfg){
		.parsers = BIT(VF_PARSERS) - 1, .compilers = BIT(VF_COMPILERS) - 1,
		.opts = BIT(VF_OPTS) - 1, .mcpus = BIT(VF_MCPUS) - 1, .quick = quick,
		.budget_ms = quick ? QUICK_BUDGET_MS : FULL_BUDGET_MS,
	};
	if (quick) {
		c->compilers = BIT(VF_DEFAULT_COMPILER);
		c->opts = BIT(0) | BIT(VF_DEFAULT_OPT);
		c->mcpus = BIT(VF_DEFAULT_MCPU);
	}
}

/* ---- JSON ---- */

static json_t *summary_json(const struct summary *s)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:i}", "median", s->median, "ci_lo", s->ci_lo,
			 "ci_hi", s->ci_hi, "ci_level", s->ci_level, "n", s->n);
}

static json_t *samples_json(const struct vf_outcome *o)
{
	json_t *a = json_array();

	for (int i = 0; i < o->n_samples; i++) {
		const struct vf_sample_run *r = &o->samples[i];
		json_t *s = json_pack("{s:s, s:s, s:s, s:b}", "sample", r->name,
				      "expect", r->valid ? "XDP_PASS" : "XDP_DROP",
				      "verdict", r->retval == 2 ? "XDP_PASS" : r->retval == 1 ?
				      "XDP_DROP" : "other", "ok", r->ok);

		if (r->why[0])
			json_object_set_new(s, "error", json_string(r->why));
		else
			json_object_set_new(s, "ns_per_request", summary_json(&r->ns));
		json_array_append_new(a, s);
	}
	return a;
}

json_t *vf_outcome_json(const struct vf_outcome *o)
{
	json_t *j = json_pack("{s:s, s:b}", "stage", vf_stage_names[o->stage],
			      "loads", o->stage == VF_LOADED);

	if (o->stage != VF_LOADED)
		json_object_set_new(j, "reason", json_string(o->reason));
	if (o->timed_out)
		json_object_set_new(j, "timed_out", json_true());
	if (o->log_overflow)
		json_object_set_new(j, "log_overflow", json_true());
	if (o->stage >= VF_LOAD) {
		json_object_set_new(j, "compile_ms", json_real(o->compile_ms));
		json_object_set_new(j, "load_ms", json_real(o->load_ms));
		json_object_set_new(j, "obj_insns", json_integer(o->obj_insns));
	}
	if (o->have_stats)
		json_object_update_new(j, json_pack("{s:I, s:I, s:i, s:i, s:i, s:s}",
			"processed_insns", (json_int_t)o->processed_insns,
			"verify_usec", (json_int_t)o->verify_usec,
			"total_states", o->total_states, "peak_states", o->peak_states,
			"max_states_per_insn", o->max_states_per_insn, "stack_depth", o->stack_depth));
	if (o->stage == VF_LOADED) {
		json_object_update_new(j, json_pack("{s:i, s:i, s:i}", "verified_insns",
			o->verified_insns, "xlated_bytes", o->xlated_bytes, "jited_bytes",
			o->jited_bytes));
		if (o->n_samples)
			json_object_set_new(j, "requests", samples_json(o));
	}
	return j;
}

json_t *vf_combo_json(const struct vf_point *p)
{
	char cc[16];

	snprintf(cc, sizeof(cc), "clang-%d", vf_clang_versions[p->compiler]);
	return json_pack("{s:s, s:s, s:s, s:s}", "parser", vf_parsers[p->parser].name,
			 "compiler", cc, "opt", vf_opt_names[p->opt], "mcpu", vf_mcpu_names[p->mcpu]);
}

/* ---- the study ---- */

bool vf_in(uint32_t mask, int i)
{
	return mask & BIT(i);
}

static void progress(const struct study *s, const char *what, const struct vf_point *p,
		     const char *result)
{
	if (s->cfg->progress)
		fprintf(stderr, "verifier: %s %s clang-%d -%s -mcpu=%s: %s\n", what,
			vf_parsers[p->parser].name, vf_clang_versions[p->compiler],
			vf_opt_names[p->opt], vf_mcpu_names[p->mcpu], result);
}

static int matrix_cell(struct study *s, const struct vf_point *p)
{
	struct vf_outcome *o = &s->cell[p->parser][p->compiler][p->opt][p->mcpu];
	json_t *row;
	int err = vf_try(s->ctx, p, true, o);

	if (err)
		return err;
	s->have[p->parser][p->compiler][p->opt][p->mcpu] = true;
	row = vf_combo_json(p);
	json_object_set_new(row, "knobs", json_string("defaults"));
	json_object_update_new(row, vf_outcome_json(o));
	json_array_append_new(s->matrix, row);
	progress(s, "matrix", p, vf_stage_names[o->stage]);
	return 0;
}

static int run_matrix(struct study *s)
{
	const struct vf_study_cfg *c = s->cfg;

	for (int pa = 0; pa < VF_PARSERS; pa++)
		for (int cc = 0; cc < VF_COMPILERS; cc++)
			for (int o = 0; o < VF_OPTS; o++)
				for (int m = 0; m < VF_MCPUS; m++) {
					struct vf_point p = { pa, cc, o, m, -1, 0 };
					int err;

					if (!vf_in(c->parsers, pa) || !vf_in(c->compilers, cc) ||
					    !vf_in(c->opts, o) || !vf_in(c->mcpus, m))
						continue;
					err = matrix_cell(s, &p);
					if (err)
						return err;
				}
	return 0;
}

/* The axis value the searches hold fixed: the default when selected. */
static int main_value(uint32_t mask, int def)
{
	if (vf_in(mask, def))
		return def;
	return __builtin_ctz(mask);
}

static json_t *limit_json(const struct vf_point *p, int knob, const struct limit_rec *r)
{
	json_t *j = vf_combo_json(p);

	json_object_set_new(j, "knob", json_string(vf_knobs[knob].macro));
	json_object_set_new(j, "default", json_integer(vf_knobs[knob].def));
	if (!r->searched) {
		json_object_set_new(j, "searched", json_false());
		json_object_set_new(j, "reason", json_string(r->skip));
		return j;
	}
	json_object_update_new(j, json_pack("{s:b, s:I, s:b, s:i}", "searched", 1,
		"limit", (json_int_t)r->l.limit, "capped", r->l.capped, "steps", r->l.steps));
	if (r->flag)
		json_object_set_new(j, "loads", json_pack("{s:b, s:b}", "0", r->flag_loads[0],
							  "1", r->flag_loads[1]));
	if (!r->l.capped)
		json_object_update_new(j, json_pack("{s:I, s:s, s:s, s:I}", "next",
			(json_int_t)r->l.next, "next_stage", vf_stage_names[r->l.next_stage],
			"next_reason", r->l.next_reason, "next_processed_insns",
			(json_int_t)r->l.next_processed));
	return j;
}

/* A 0/1 knob: the other value than the default's (in the matrix), loaded;
 * limit 1 when 1 loads, else 0 (loads[] says whether 0 does). */
static int flag_search(struct study *s, struct vf_point p, struct limit_rec *r, int knob)
{
	const struct vf_outcome *def = &s->cell[p.parser][p.compiler][p.opt][p.mcpu];
	struct vf_outcome o;
	int d = vf_knobs[knob].def ? 1 : 0, err;

	p.knob = knob;
	p.value = !d;
	err = vf_try(s->ctx, &p, false, &o);
	if (err)
		return err;
	r->flag_loads[d] = def->stage == VF_LOADED;
	r->flag_loads[!d] = o.stage == VF_LOADED;
	r->l = (struct vf_limit){ .steps = 1, .limit = r->flag_loads[1] ? 1 : 0,
				  .capped = r->flag_loads[1], .next = r->flag_loads[1] ? 0 : 1 };
	if (!r->flag_loads[1]) {
		const struct vf_outcome *one = d ? def : &o;

		r->l.next_stage = one->stage;
		r->l.next_processed = one->processed_insns;
		snprintf(r->l.next_reason, sizeof(r->l.next_reason), "%s", one->reason);
	}
	return 0;
}

/* Why a combination is not searched, or NULL. */
static const char *search_skip(struct study *s, const struct vf_point *p, char *buf, size_t len)
{
	const struct vf_outcome *def = &s->cell[p->parser][p->compiler][p->opt][p->mcpu];

	if (!s->have[p->parser][p->compiler][p->opt][p->mcpu])
		return "not in the matrix";
	if (def->stage == VF_SKIPPED || def->stage == VF_COMPILE) {
		snprintf(buf, len, "%s at the defaults: %s", vf_stage_names[def->stage], def->reason);
		return buf;
	}
	if (now_ns() > s->deadline) {
		s->cut++;
		snprintf(buf, len, "time budget (%llu s) spent",
			 (unsigned long long)(s->cfg->budget_ms / 1000));
		return buf;
	}
	return NULL;
}

static int search_one(struct study *s, const struct vf_point *p, int knob, long hint)
{
	struct limit_rec *r = &s->lim[p->parser][knob][p->compiler][p->opt][p->mcpu];
	char res[64], buf[sizeof(r->skip)];
	const char *skip = search_skip(s, p, buf, sizeof(buf));
	int err;

	r->listed = true;
	if (skip) {
		snprintf(r->skip, sizeof(r->skip), "%s", skip);
		return 0;
	}
	r->flag = vf_knobs[knob].flag;
	err = r->flag ? flag_search(s, *p, r, knob)
		      : vf_limit_search(s->ctx, p, knob, s->cfg->quick, hint, &r->l);
	if (err)
		return err;
	r->searched = true;
	snprintf(res, sizeof(res), "%s limit %ld%s", vf_knobs[knob].macro, r->l.limit,
		 r->l.capped ? " (cap)" : "");
	progress(s, "search", p, res);
	return 0;
}

/* One combination: every knob of every parser, from the main combination's
 * limit (the hint; when searched). */
static int search_combo(struct study *s, int cc, int o, int m)
{
	const struct vf_study_cfg *c = s->cfg;
	int ref_cc = main_value(c->compilers, VF_DEFAULT_COMPILER);
	int ref_o = main_value(c->opts, VF_DEFAULT_OPT), ref_m = main_value(c->mcpus, VF_DEFAULT_MCPU);
	int err = 0;

	if (!vf_in(c->compilers, cc) || !vf_in(c->opts, o) || !vf_in(c->mcpus, m))
		return 0;
	for (int pa = 0; !err && pa < VF_PARSERS; pa++)
		for (int k = 0; !err && k < VF_KNOBS; k++) {
			struct vf_point p = { pa, cc, o, m, -1, 0 };
			const struct limit_rec *rr = &s->lim[pa][k][ref_cc][ref_o][ref_m];

			if (vf_in(c->parsers, pa) && vf_knob_applies(pa, k) &&
			    !s->lim[pa][k][cc][o][m].listed)
				err = search_one(s, &p, k, rr->searched ? rr->l.limit : 0);
		}
	return err;
}

/* The combinations searched, most telling first (the budget may cut the
 * rest): the main one (clang 14 -O2 v3), its other -O levels, its other
 * -mcpu values; then the same for each other compiler. */
static int run_searches(struct study *s)
{
	const struct vf_study_cfg *c = s->cfg;
	int ref_cc = main_value(c->compilers, VF_DEFAULT_COMPILER);
	int ref_o = main_value(c->opts, VF_DEFAULT_OPT), ref_m = main_value(c->mcpus, VF_DEFAULT_MCPU);
	int err = 0;

	for (int i = -1; !err && i < VF_COMPILERS; i++) {
		int cc = i < 0 ? ref_cc : i;

		if (i == ref_cc)
			continue;
		err = search_combo(s, cc, ref_o, ref_m);
		for (int o = 0; !err && o < VF_OPTS; o++)
			err = search_combo(s, cc, o, ref_m);
		for (int m = 0; !err && m < VF_MCPUS; m++)
			err = search_combo(s, cc, ref_o, m);
	}
	return err;
}

/* Every row, grouped by parser and knob. */
static void list_limits(struct study *s)
{
	for (int pa = 0; pa < VF_PARSERS; pa++)
		for (int k = 0; k < VF_KNOBS; k++)
			for (int cc = 0; cc < VF_COMPILERS; cc++)
				for (int o = 0; o < VF_OPTS; o++)
					for (int m = 0; m < VF_MCPUS; m++) {
						struct vf_point p = { pa, cc, o, m, -1, 0 };
						const struct limit_rec *r = &s->lim[pa][k][cc][o][m];

						if (r->listed)
							json_array_append_new(s->limits,
									      limit_json(&p, k, r));
					}
}

/* ---- the document ---- */

static json_t *axis_json(uint32_t mask, int n, const char *const *names, const int *nums)
{
	json_t *a = json_array();
	char buf[16];

	for (int i = 0; i < n; i++) {
		if (!vf_in(mask, i))
			continue;
		if (nums)
			snprintf(buf, sizeof(buf), "clang-%d", nums[i]);
		json_array_append_new(a, json_string(nums ? buf : names[i]));
	}
	return a;
}

static json_t *compilers_json(const struct study *s)
{
	json_t *a = json_array();

	for (int i = 0; i < VF_COMPILERS; i++) {
		const char *why = NULL, *path = vf_compiler(s->ctx, i, &why);
		char name[16];

		if (!vf_in(s->cfg->compilers, i))
			continue;
		snprintf(name, sizeof(name), "clang-%d", vf_clang_versions[i]);
		json_array_append_new(a, json_pack("{s:s, s:b, s:s?, s:s?, s:s?}", "name", name,
			"present", path != NULL, "path", path, "version",
			path ? vf_compiler_version(s->ctx, i) : NULL, "reason", why));
	}
	return a;
}

static json_t *config_json(const struct study *s)
{
	const struct vf_study_cfg *c = s->cfg;
	json_t *j = results_base_config();
	const char *names[VF_PARSERS];

	for (int i = 0; i < VF_PARSERS; i++)
		names[i] = vf_parsers[i].name;
	json_object_update_new(j, json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:i, s:i, s:s, s:o}",
		"study", "verifier", "quick", c->quick,
		"parsers", axis_json(c->parsers, VF_PARSERS, names, NULL),
		"compilers", axis_json(c->compilers, VF_COMPILERS, NULL, vf_clang_versions),
		"opts", axis_json(c->opts, VF_OPTS, vf_opt_names, NULL),
		"mcpus", axis_json(c->mcpus, VF_MCPUS, vf_mcpu_names, NULL),
		"budget_ms", (json_int_t)c->budget_ms,
		"compile_limit_ms", (json_int_t)s->ctx->lim.compile_ms,
		"load_limit_ms", (json_int_t)s->ctx->lim.load_ms,
		"trials", s->ctx->lim.trials, "repeat", s->ctx->lim.repeat,
		"grid", c->quick ? "powers of two" : "every value to 8, then 4 steps per doubling",
		"cpu_idle", cpuidle_config_json()));
	json_object_set_new(j, "knob_cap", json_integer(VF_KNOB_CAP));
	return j;
}

static json_t *summary_of(const struct study *s)
{
	int st[4] = { 0 }, searched = 0;
	unsigned builds, loads, cached;
	size_t i;
	json_t *v;

	json_array_foreach(s->matrix, i, v)
		for (int k = 0; k < 4; k++)
			st[k] += !strcmp(json_string_value(json_object_get(v, "stage")), vf_stage_names[k]);
	json_array_foreach(s->limits, i, v)
		searched += json_is_true(json_object_get(v, "searched"));
	vf_counts(s->ctx, &builds, &loads, &cached);
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f}",
		"cells", (int)json_array_size(s->matrix), "loaded", st[VF_LOADED],
		"rejected", st[VF_LOAD], "compile_failed", st[VF_COMPILE], "skipped", st[VF_SKIPPED],
		"searches", searched, "searches_cut_by_budget", s->cut,
		"clashes", (int)json_array_size(s->clashes), "builds", builds, "loads", loads,
		"cached", cached, "elapsed_s", (double)(now_ns() - s->t0) / 1e9);
}

static json_t *document(struct study *s)
{
	return json_pack("{s:o, s:o, s:O, s:{s:O, s:O}, s:o}", "config", config_json(s),
			 "compilers", compilers_json(s), "matrix", s->matrix,
			 "findings", "limit", s->limits, "clashes", s->clashes,
			 "summary", summary_of(s));
}

int vf_study_run(const struct vf_study_cfg *c, json_t **doc, char *why, size_t len)
{
	struct vf_limits lim = { .compile_ms = c->quick ? 20000 : 60000,
				 .load_ms = c->quick ? 10000 : 20000,
				 .trials = c->quick ? 5 : 7, .repeat = c->quick ? 2000 : 10000 };
	struct study *s = calloc(1, sizeof(*s));
	int err;

	*doc = NULL;
	if (!s)
		return -ENOMEM;
	s->cfg = c;
	s->t0 = now_ns();
	s->deadline = s->t0 + c->budget_ms * 1000000ull;
	s->matrix = json_array();
	s->limits = json_array();
	s->clashes = json_array();
	err = vf_ctx_open(&s->ctx, c->compiler_dir, &lim, why, len);
	if (!err)
		err = run_matrix(s);
	if (!err)
		err = run_searches(s);
	if (!err)
		err = vf_find_clashes(s);
	if (!err)
		list_limits(s);
	if (!err)
		*doc = document(s);
	else if (err == -EINTR)
		snprintf(why, len, "interrupted");
	else if (!why[0])
		snprintf(why, len, "%s", strerror(-err));
	json_decref(s->matrix);
	json_decref(s->limits);
	json_decref(s->clashes);
	vf_ctx_close(s->ctx);
	free(s);
	return err;
}
