/*
 * The overhead bench's clock for packet hooks: frames the DUT veth took in
 * against CLOCK_MONOTONIC and the NAPI kthreads' CPU time, read tightly,
 * one window at a time, with the program toggled between windows.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bench/overhead.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
struct rx_reading {
	double wall_ns;       /* CLOCK_MONOTONIC, midpoint around the rx read */
	uint64_t rx;          /* rx_packets of the DUT veth */
	int64_t cpu_ns;       /* NAPI kthreads' CPU time (tick-granular) */
};

static int64_t napi_cpu_ns(const struct rx_clock *c)
{
	int64_t sum = 0;

	for (int i = 0; i < c->n; i++) {
		int64_t ns = task_cpu_ns(c->pids[i]);

		if (ns < 0)
			return ns;
		sum += ns;
	}
	return sum;
}

#define RX_READ_TRIES 4
#define RX_READ_GOOD_NS 50000 /* a reading this tight is kept at once */

/* rx_packets placed at the midpoint of the two clock reads around it; the
 * tightest of a few tries. */
static int rx_read(struct rx_clock *c, struct rx_reading *r)
{
	uint64_t best = UINT64_MAX;

	r->cpu_ns = napi_cpu_ns(c);
	if (r->cpu_ns < 0)
		return (int)r->cpu_ns;
	for (int i = 0; i < RX_READ_TRIES && best > RX_READ_GOOD_NS; i++) {
		uint64_t w0 = now_ns(), w1, rx;
		int err = link_stats_read(c->stats, &rx, NULL);

		w1 = now_ns();
		if (err)
			return err;
		if (w1 - w0 < best) {
			best = w1 - w0;
			r->wall_ns = ((double)w0 + (double)w1) / 2;
			r->rx = rx;
		}
	}
	if (best > c->max_span_ns)
		c->max_span_ns = best;
	return 0;
}


/* One window of ms; prog_fd >= 0 also reads the program's bpf_stats. */
int window_measure(struct rx_clock *c, uint64_t ms, int prog_fd, struct window *w)
{
	struct bpf_prog_info i0 = { 0 }, i1 = { 0 };
	uint32_t len = sizeof(i0);
	struct rx_reading a, b;
	int err;

	memset(w, 0, sizeof(*w));
	if (prog_fd >= 0 && bpf_obj_get_info_by_fd(prog_fd, &i0, &len))
		return -errno;
	err = rx_read(c, &a);
	if (err)
		return err;
	if (!run_sleep_ns(ms * 1000000ull))
		return -EINTR;
	err = rx_read(c, &b);
	if (err)
		return err;
	len = sizeof(i1);
	if (prog_fd >= 0 && bpf_obj_get_info_by_fd(prog_fd, &i1, &len))
		return -errno;
	if (b.rx <= a.rx || b.wall_ns <= a.wall_ns)
		return -EIO; /* nothing arrived: not a measurement */
	w->wall_ns = b.wall_ns - a.wall_ns;
	w->ns_per_pkt = w->wall_ns / (double)(b.rx - a.rx);
	w->cpu_ns = b.cpu_ns - a.cpu_ns;
	c->wall_sum += w->wall_ns;
	c->cpu_sum += w->cpu_ns;
	if (prog_fd >= 0) {
		if (i1.run_cnt <= i0.run_cnt)
			return -EIO; /* the program did not run */
		w->stats_ns = (double)(i1.run_time_ns - i0.run_time_ns) /
			      (double)(i1.run_cnt - i0.run_cnt);
	}
	return 0;
}

#define FRAMES_WAIT_MS 10000
#define FRAMES_FLOWING 1000 /* in 10 ms: the generator, not a stray ND frame */

/* The generator's frames arriving (a slow start, e.g. under valgrind, would
 * otherwise leave the first window uncovered). */
int wait_frames(struct rx_clock *c)
{
	struct rx_reading a, b;
	uint64_t end = now_ns() + FRAMES_WAIT_MS * 1000000ull;
	int err = rx_read(c, &a);

	while (!err && now_ns() < end && !run_stopping()) {
		sleep_ns(10000000);
		err = rx_read(c, &b);
		if (!err && b.rx - a.rx >= FRAMES_FLOWING)
			return 0;
		a = b;
	}
	return run_stopping() ? -EINTR : err ? err : -EIO;
}

/* Put the program on (or take it off), let queued frames drain, measure. */
int toggled_window(struct hook_inst *hi, struct rx_clock *c, uint64_t ms, int on,
		   struct window *w)
{
	int err = hook_set_attached(hi, on);

	if (err)
		return err;
	if (!run_sleep_ns(TOGGLE_SETTLE_MS * 1000000ull))
		return -EINTR;
	return window_measure(c, ms, -1, w);
}
