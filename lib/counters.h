/* Reading bpf/counters.h counters from user space: sums and per-CPU deltas. */
#ifndef OLAB_LIB_COUNTERS_H
#define OLAB_LIB_COUNTERS_H
#include <linux/types.h>
#include <stdint.h>
#include "bpf/counters.h"

struct counters_snap {
	uint64_t t_ns; /* CLOCK_MONOTONIC when read */
	struct cpu_counters cpu[OLAB_MAX_CPUS];
};

/* Copy the live (mmapped) counters with a timestamp. */
void counters_snap(const volatile struct cpu_counters *live, struct counters_snap *out);
/* b - a summed over CPUs; per-CPU packet deltas into per_cpu (may be NULL). */
struct cpu_counters counters_delta(const struct counters_snap *a, const struct counters_snap *b,
				   uint64_t per_cpu_packets[OLAB_MAX_CPUS]);
/* The CPU that counted most packets between a and b, or -1 if none. */
int counters_busiest_cpu(const struct counters_snap *a, const struct counters_snap *b);

#endif
