/*
 * Results of a bench run: every figure with its method, its trials, median
 * and 95% CI, and the full configuration, written as JSON (jansson) to
 * results/<run-id>/results.json, printed as a table, and set beside the
 * published reference figures (results/reference.json) as ratios.
 */
#ifndef OLAB_RESULTS_H
#define OLAB_RESULTS_H
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include "lib/stats.h"

struct results {
	json_t *root;        /* {"run_id", "config", "results": [...]} */
	json_t *list;
	char run_id[64];
	char dir[512];       /* results/<run-id> */
};

struct result {
	const char *bench;   /* overhead, drop, pass, echo */
	const char *hook;
	const char *variant; /* e.g. "app-own-cpu"; NULL */
	const char *metric;  /* e.g. "pps", "ns_per_packet", "cost_pct", "p99_us" */
	const char *unit;
	const char *method;  /* how it was measured */
	const double *trials;
	size_t n;
	json_t *extra;       /* stolen; NULL */
};

/* Create results/<run-id>/ under root_dir (must be writable); 0 or -errno with
 * one line printed. */
int results_open(struct results *r, const char *root_dir, json_t *config);
/* Append a figure; returns its JSON object (borrowed). */
json_t *results_add(struct results *r, const struct result *res);
int results_write(struct results *r);
void results_close(struct results *r);

/* The configuration every result carries: kernel, commit, CPUs, version, time. */
json_t *results_base_config(void);
/* One row per figure: bench hook variant metric median [ci] method. */
void results_print_table(const struct results *r, FILE *f);
/* Beside the reference figures: this machine's ratio vs the published one. */
void results_print_reference(const struct results *r, FILE *f);
json_t *results_reference_json(const struct results *r);

/* The embedded reference.json. */
json_t *reference_load(void);

#endif
