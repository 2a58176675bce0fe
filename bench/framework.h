/*
 * The framework's side facing the CLI: a run's options, the plan (every
 * cell of every bench asked for), and running it into results/.
 */
#ifndef OLAB_BENCH_FRAMEWORK_H
#define OLAB_BENCH_FRAMEWORK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "bench/bench.h"

struct bench_opts {
	const char *axis[AXIS__COUNT]; /* --<axis> LIST; NULL: each bench's values */
	uint64_t duration_ms;          /* per trial; 0: each bench's */
	uint64_t warmup_ms;
	uint64_t trials;               /* 0: each bench's */
	const char *out;               /* results root folder */
	bool quick;
	bool json;                     /* print the results document, not the table */
	bool progress;                 /* live progress on stderr */
	int only;                      /* index of the bench; -1: every bench */
};

#define BENCH_WARMUP_MS 300

/* The axes for the CLI: name, metavar, help; NULL name ends. */
struct bench_axis_desc {
	const char *name, *metavar, *help;
	const char *const *choices;   /* NULL: a number */
};
const struct bench_axis_desc *bench_axis_desc(enum bench_axis a);

struct bench_plan;
/* Every cell of the run, its values checked: 0, or -EINVAL (usage) /
 * -EOPNOTSUPP (a hook asked for does not work here) with why. */
int bench_plan_make(const struct bench_opts *o, struct bench_plan **out, char *why, size_t len);
/* Run it: results in o->out/<run-id>/, printed; measurement is recorded in
 * the config (stolen).  Exit status: 0, or 1 when a cell failed or a stop
 * signal came. */
int bench_plan_run(struct bench_plan *p, json_t *measurement);
void bench_plan_free(struct bench_plan *p);

/* The cells of a plan. */
size_t bench_plan_count(const struct bench_plan *p);
const struct bench_cell *bench_plan_cell(const struct bench_plan *p, size_t i);
const struct bench_opts *bench_plan_opts(const struct bench_plan *p);

#endif
