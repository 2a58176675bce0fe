/*
 * CPU time per request, for the pattern benches: each CPU's user, system
 * and softirq time (/proc/stat, USER_HZ ticks) and a task's own run time
 * (/proc/<pid>/task/<tid>/schedstat, ns), read before and after a window.
 */
#ifndef OLAB_BENCH_CPU_TIME_H
#define OLAB_BENCH_CPU_TIME_H
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include <linux/types.h>
#include "bpf/counters.h"

struct cpu_times {
	int ncpu;
	uint64_t user_ns[OLAB_MAX_CPUS], system_ns[OLAB_MAX_CPUS], softirq_ns[OLAB_MAX_CPUS];
	uint64_t task_ns;   /* the task's threads' run time; 0 without a task */
};

/* Read every CPU's times and, when pid > 0, pid's run time.  0 or -errno. */
int cpu_times_read(pid_t pid, struct cpu_times *out);
/* Run time of every thread of pid in ns (schedstat), or 0 when gone. */
uint64_t task_run_ns(pid_t pid);
/* {"cpu<N>": {user, system, softirq}, "task"} ns per request between a and b
 * (requests 0: totals in ns). */
json_t *cpu_times_per_request(const struct cpu_times *a, const struct cpu_times *b,
			      uint64_t requests);

#endif
