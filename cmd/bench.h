/*
 * Benchmarks, in the shape of the kernel's selftests/bpf bench.c: each bench
 * is one file cmd/bench_<name>.c defining a struct bench with DEFINE_BENCH;
 * `offloadlab bench <name>` runs it for every hook it applies to (or --hook),
 * with warm-up and repeated trials, and reports every figure through
 * results/ with its median and 95% CI.  The registry and reporting are
 * defined in cmd/bench.c; the shared measurement pieces in lib/bench.h.
 */
#ifndef OLAB_CMD_BENCH_H
#define OLAB_CMD_BENCH_H
#include <stdbool.h>
#include <stdint.h>
#include "lib/bench.h"
#include "results/results.h"

struct bench {
	const char *name;
	const char *summary;
	/* Hooks it measures, in the order of the hook table. */
	bool (*applies)(const struct hook_desc *h);
	/* Measure one hook: warm-up, trials, results_add().  0 or -errno. */
	int (*run)(struct bench_ctx *ctx);
	int order;
	/* A latency bench: measured with the CPUs held in POLL unless --cpu-idle
	 * default (lib/cpuidle.h); the others leave the idle states alone. */
	bool latency;
	/* Its own defaults for a hook when the user gives no --trials /
	 * --duration (leave 0: the common ones, 5 x 1 s; --quick 3 x 300 ms). */
	void (*defaults)(const struct hook_desc *h, bool quick, uint64_t *trials,
			 uint64_t *duration_ms);
};

#define DEFINE_BENCH(sym) \
	static const struct bench *const __olab_bench_##sym \
	__attribute__((used, section("olab_benches"))) = &sym

size_t bench_count(void);
const struct bench *bench_get(size_t i);     /* sorted by order */

/* Live progress on a TTY (stderr), nothing otherwise. */
void bench_progress(const struct bench_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add a figure with the cell's bench and hook names. */
json_t *bench_add(struct bench_ctx *ctx, const char *variant, const char *metric, const char *unit,
		  const char *method, const double *trials, size_t n, json_t *extra);

#endif
