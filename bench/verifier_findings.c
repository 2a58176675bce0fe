/*
 * The clashes between the compiler and the verifier: two combinations that
 * differ in one flag (-O, -mcpu, or the compiler in the matrix), one loads
 * and the other is rejected by the verifier (not by clang).  In the matrix
 * at the default knobs, and at the searches' limits: where one combination
 * stops loading at a lower value than its neighbour, the neighbour's limit
 * is loaded again for it to show the rejection and its reason.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bench/verifier.h"
#include "bench/verifier_internal.h"

enum axis { AXIS_OPT, AXIS_MCPU, AXIS_COMPILER };
static const char *const axis_names[] = { "opt", "mcpu", "compiler" };
static const int opt_rank[VF_OPTS] = { 1, 2, 3, 2 };  /* -Os beside -O2 */

static void add_clash(struct study *s, enum axis axis, const struct vf_point *ok,
		      const struct vf_point *bad, const struct vf_outcome *why)
{
	json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:s, s:I}", "kind", axis_names[axis],
			      "parser", vf_parsers[ok->parser].name, "loads", vf_combo_json(ok),
			      "rejected", vf_combo_json(bad), "reason", why->reason,
			      "processed_insns", (json_int_t)why->processed_insns);

	json_object_del(json_object_get(j, "loads"), "parser");
	json_object_del(json_object_get(j, "rejected"), "parser");
	if (ok->knob >= 0) {
		json_object_set_new(j, "knob", json_string(vf_knobs[ok->knob].macro));
		json_object_set_new(j, "value", json_integer(ok->value));
	} else {
		json_object_set_new(j, "knob", json_null());
	}
	if (axis == AXIS_OPT)
		json_object_set_new(j, "higher_opt_rejected",
				    json_boolean(opt_rank[bad->opt] > opt_rank[ok->opt]));
	json_array_append_new(s->clashes, j);
}

/* The point b differing from a in one axis: value v of that axis. */
static struct vf_point moved(struct vf_point a, enum axis axis, int v)
{
	if (axis == AXIS_OPT)
		a.opt = v;
	else if (axis == AXIS_MCPU)
		a.mcpu = v;
	else
		a.compiler = v;
	return a;
}

static int axis_len(enum axis axis)
{
	return axis == AXIS_OPT ? VF_OPTS : axis == AXIS_MCPU ? VF_MCPUS : VF_COMPILERS;
}

static int axis_value(const struct vf_point *p, enum axis axis)
{
	return axis == AXIS_OPT ? p->opt : axis == AXIS_MCPU ? p->mcpu : p->compiler;
}

static const struct vf_outcome *cell(const struct study *s, const struct vf_point *p)
{
	if (!s->have[p->parser][p->compiler][p->opt][p->mcpu])
		return NULL;
	return &s->cell[p->parser][p->compiler][p->opt][p->mcpu];
}

/* At the defaults: every loaded cell against its neighbours on axis. */
static void matrix_clashes(struct study *s, enum axis axis)
{
	for (int pa = 0; pa < VF_PARSERS; pa++)
		for (int cc = 0; cc < VF_COMPILERS; cc++)
			for (int o = 0; o < VF_OPTS; o++)
				for (int m = 0; m < VF_MCPUS; m++) {
					struct vf_point ok = { pa, cc, o, m, -1, 0 };
					const struct vf_outcome *a = cell(s, &ok);

					if (!a || a->stage != VF_LOADED)
						continue;
					for (int v = 0; v < axis_len(axis); v++) {
						struct vf_point bad = moved(ok, axis, v);
						const struct vf_outcome *b = cell(s, &bad);

						if (b && b->stage == VF_LOAD)
							add_clash(s, axis, &ok, &bad, b);
					}
				}
}

static const struct limit_rec *lim(const struct study *s, const struct vf_point *p, int knob)
{
	const struct limit_rec *r = &s->lim[p->parser][knob][p->compiler][p->opt][p->mcpu];

	return r->searched ? r : NULL;
}

/* a loads up to a higher value than b: load b at a's limit. */
static int limit_pair(struct study *s, const struct vf_point *pa, const struct vf_point *pb,
		      int knob, enum axis axis)
{
	const struct limit_rec *a = lim(s, pa, knob), *b = lim(s, pb, knob);
	struct vf_point ok = *pa, bad = *pb;
	struct vf_outcome o;
	int err;

	if (!a || !b || a->l.limit <= b->l.limit || a->l.limit == 0)
		return 0;
	ok.knob = bad.knob = knob;
	ok.value = bad.value = a->l.limit;
	err = vf_try(s->ctx, &bad, false, &o);
	if (!err && o.stage == VF_LOAD)
		add_clash(s, axis, &ok, &bad, &o);
	return err;
}

static int limit_clashes(struct study *s, enum axis axis)
{
	int err = 0;

	for (int pa = 0; !err && pa < VF_PARSERS; pa++)
		for (int k = 0; !err && k < VF_KNOBS; k++)
			for (int cc = 0; !err && cc < VF_COMPILERS; cc++)
				for (int o = 0; !err && o < VF_OPTS; o++)
					for (int m = 0; !err && m < VF_MCPUS; m++) {
						struct vf_point p = { pa, cc, o, m, -1, 0 };

						for (int v = 0; !err && v < axis_len(axis); v++) {
							struct vf_point q = moved(p, axis, v);

							if (v != axis_value(&p, axis))
								err = limit_pair(s, &p, &q, k, axis);
						}
					}
	return err;
}

int vf_find_clashes(struct study *s)
{
	int err = 0;

	for (int axis = AXIS_OPT; axis <= AXIS_COMPILER; axis++)
		matrix_clashes(s, axis);
	/* Compilers differ in too many ways to call a limit's change a clash. */
	for (int axis = AXIS_OPT; !err && axis <= AXIS_MCPU; axis++)
		err = limit_clashes(s, axis);
	return err;
}
