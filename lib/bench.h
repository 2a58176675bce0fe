/*
 * What the benches share below the CLI: a run's config and cell context,
 * testbed layouts, traffic windows and the app of a cell.  The bench
 * registry and figure reporting are in cmd/bench.h (defined in cmd/bench.c).
 */
#ifndef OLAB_BENCH_H
#define OLAB_BENCH_H
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/apps.h"
#include "lib/hooks.h"
#include "lib/gen.h"
#include "netns/topo.h"

struct bench;
struct results;

enum bench_runtime { RUNTIME_NETNS, RUNTIME_RUNC };

struct bench_cfg {
	int hook;              /* index into the hook table, -1: every hook the bench applies to */
	uint64_t size;         /* frame bytes (UDP) or request bytes (TCP) */
	uint64_t duration_ms;  /* per trial */
	uint64_t warmup_ms;
	uint64_t trials;
	bool trials_default;   /* trials came from the bench's defaults, not --trials */
	int runtime;
	const char *out;       /* results root folder */
	bool quick;
	int only;              /* index of the bench to run, -1: all (set by the subcommand) */
	int cpu_idle;          /* enum cpuidle_mode; CPUIDLE_UNSET: the bench's default */
};

/* CPU layouts on which a figure is measured (recorded with it). */
enum bench_layout {
	/* generator on CPU 0; receive processing (threaded NAPI) on CPU 1; the app on CPU 1 */
	LAYOUT_RX_CPU1,
	/* generator and receive processing on CPU 0 (softirq on the sending CPU); the app alone on CPU 1 */
	LAYOUT_APP_OWN_CPU,
};

struct bench_ctx {
	const struct bench_cfg *cfg;
	struct results *res;
	const struct bench *bench;
	const struct hook_desc *hook;
	int cell, ncells;      /* progress */
};

/* Build the testbed for a layout (GRO on both ends so XDP frames are
 * accepted; threaded NAPI pinned where the layout says). */
int bench_topo_up(enum bench_layout l, struct topo *t);
const char *bench_layout_name(enum bench_layout l);
json_t *bench_layout_json(enum bench_layout l, const struct topo *t);
/* Pin the NAPI kthreads of ifname (in ns) to cpu; the number pinned, or -errno. */
int bench_pin_napi(const struct topo *t, int cpu);

/*
 * One measurement window, xdp-tools style: traffic starts, after a lead-in
 * snap(arg, 0) reads the counters, window_ms later snap(arg, 1) reads them
 * again (*window_ns gets the CLOCK_MONOTONIC time between the two reads),
 * then the traffic ends and snap(arg, 2) reads the totals.
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
/*
 * The app of a cell, in the DUT namespace directly (--runtime netns) or in a
 * runc container joined to it (--runtime runc, capabilities bpf,net_admin).
 * A stream hook's sockets go into its map (a container is handed the map's
 * fd).  ctx may be NULL (tests): the netns runtime.
 */
struct bench_app;
int bench_app_start(const struct bench_ctx *ctx, const struct topo *t, enum app_kind kind, int cpu,
		    uint64_t req_size, struct hook_inst *hook, struct bench_app **out);
void bench_app_read(const struct bench_app *a, struct app_stats *out);
int bench_app_wait_count(const struct bench_app *a, size_t field, uint64_t want, int timeout_ms);
void bench_app_free(struct bench_app *a);
const char *bench_runtime_name(int runtime);
/* Wait until in-flight packets are processed. */
void bench_settle(void);
/* Stream hooks and tcp-socket: TCP traffic; the rest: UDP. */
bool bench_hook_is_tcp(const struct hook_desc *h);

#endif
