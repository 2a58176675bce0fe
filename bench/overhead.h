/* The overhead bench's packet-hook windows (bench/overhead_window.c). */
#ifndef OLAB_BENCH_OVERHEAD_H
#define OLAB_BENCH_OVERHEAD_H
#include <stdint.h>
#include <sys/types.h>
#include "lib/hooks.h"
#include "netns/link.h"

#define MAX_NAPI_THREADS 8
#define TOGGLE_SETTLE_MS 5   /* frames queued before a toggle are processed */

struct rx_clock {
	struct link_stats_reader *stats;
	pid_t pids[MAX_NAPI_THREADS];
	int n;
	uint64_t max_span_ns;  /* longest reading kept, for the record */
	double wall_sum, cpu_sum; /* over every window */
};

struct window {
	double ns_per_pkt;    /* wall time per frame the saturated NAPI took in */
	double wall_ns;
	int64_t cpu_ns;       /* NAPI CPU time in it: busy = cpu / wall, summed */
	double stats_ns;      /* bpf_stats run_time_ns / run_cnt, when asked */
};

/* One window of ms; prog_fd >= 0 also reads the program's bpf_stats. */
int window_measure(struct rx_clock *c, uint64_t ms, int prog_fd, struct window *w);
/* Until the generator's frames arrive (bounded); 0 or -errno. */
int wait_frames(struct rx_clock *c);
/* Put the program on (or take it off), let queued frames drain, measure. */
int toggled_window(struct hook_inst *hi, struct rx_clock *c, uint64_t ms, int on,
		   struct window *w);

#endif
