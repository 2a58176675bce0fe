/*
 * What the benches measure on: testbed layouts (which CPU does what),
 * live traffic in the background, and one measurement window.
 */
#ifndef OLAB_BENCH_TESTBED_H
#define OLAB_BENCH_TESTBED_H
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/gen.h"
#include "netns/topo.h"

/* CPU layouts on which a figure is measured (recorded with it). */
enum bench_layout {
	/* generator on CPU 0; receive processing (threaded NAPI) on CPU 1; the app on CPU 1 */
	LAYOUT_RX_CPU1,
	/* generator and receive processing on CPU 0 (softirq on the sending CPU); the app alone on CPU 1 */
	LAYOUT_APP_OWN_CPU,
	LAYOUT__COUNT
};

extern const char *const bench_layout_names[]; /* "app-shares-rx-cpu", "app-own-cpu", NULL */

/* Build the testbed for a layout (GRO on both ends so XDP frames are
 * accepted; threaded NAPI pinned where the layout says; gen's tx checksum
 * offload off, so socket traffic takes the DUT's NAPI too). */
int bench_topo_up(enum bench_layout l, struct topo *t);
const char *bench_layout_name(enum bench_layout l);
json_t *bench_layout_json(enum bench_layout l, const struct topo *t);

/*
 * One measurement window, xdp-tools style: traffic starts, after a lead-in
 * snap(arg, 0) reads the counters, window_ms later snap(arg, 1) reads them
 * again (*window_ns gets the CLOCK_MONOTONIC time between the two reads),
 * then the traffic ends and snap(arg, 2) reads the totals.  A window the
 * generator did not cover is measured again, a few times.
 */
typedef void (*bench_snap_fn)(void *arg, int when);
int bench_measure(const struct topo *t, enum gen_mode mode, uint64_t size, uint64_t window_ms,
		  bench_snap_fn snap, void *arg, struct gen_result *r, uint64_t *window_ns);
/*
 * Live frames (of EtherType ethertype; 0: UDP to GEN_DPORT) from CPU 0 in the
 * background until bench_traffic_stop(), at most max_ms.  Stopping returns
 * 0 only when the generator sent all through [t0, t1] (CLOCK_MONOTONIC ns).
 */
struct bench_traffic;
int bench_traffic_start(const struct topo *t, uint64_t size, uint16_t ethertype, uint64_t max_ms,
			struct gen_result *r, struct bench_traffic **out);
int bench_traffic_stop(struct bench_traffic *tr, uint64_t t0, uint64_t t1);
/* Wait until in-flight packets are processed. */
void bench_settle(void);

#endif
