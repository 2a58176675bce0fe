/*
 * bench echo (bench/echo.c, its client bench/echo_client.c): request/response
 * latency when the reply is made at a hook, against a user-space echo app.
 * One client thread in the gen namespace on CPU 0 does closed-loop
 * ping-pong; each trial gives the percentiles of its RTTs.  The cell's
 * result is exposed for tests/integ/bench_echo.c.
 */
#ifndef OLAB_BENCH_ECHO_H
#define OLAB_BENCH_ECHO_H
#include <stdint.h>
#include <jansson.h>
#include "bench/bench.h"
#include "lib/apps.h"
#include "lib/counters.h"
#include "lib/cpuidle.h"

#define ECHO_MAX_TRIALS   200
#define ECHO_HIST_BUCKETS 40        /* log2 of ns: bucket k counts RTTs in (2^(k-1), 2^k] */
#define ECHO_TIMEOUT_MS   200       /* a reply not back by then is lost */
#define ECHO_MAX_REQUESTS (1 << 20) /* per trial */
#define ECHO_UDP_HDRS     (14 + 20 + 8)

struct echo_trial {
	uint64_t requests;  /* sent */
	uint64_t replies;   /* came back byte for byte in time */
	uint64_t lost;      /* no reply within ECHO_TIMEOUT_MS (or a failed send) */
	uint64_t bad;       /* a reply with other bytes */
	uint64_t late;      /* UDP: a lost request's reply, seen later and skipped */
	double p50_us, p99_us, p999_us, min_us, max_us, mean_us;
	double rate;        /* round trips per second */
};

struct echo_result {
	size_t ntrials;
	struct echo_trial trial[ECHO_MAX_TRIALS];
	/* Over the trials (not the warm-up). */
	uint64_t requests, replies, lost, bad, late;
	uint64_t warmup_requests, connections;
	uint64_t hist[ECHO_HIST_BUCKETS];
	struct cpu_counters prog;   /* the hook program's counters (zero: baselines) */
	uint64_t prog_per_cpu[OLAB_MAX_CPUS]; /* its packets by CPU */
	int prog_cpu;               /* the CPU it mostly ran on, -1: none */
	struct app_stats app;       /* the DUT app's, as deltas */
	size_t len;                 /* bytes a request: UDP payload or TCP request */
	json_t *layout;             /* bench_layout_json(), owned */
	struct cpuidle_usage idle[2]; /* idle-state entries around the trials */
};

/* The result of a cell measured by bench_cell_measure() (until finish). */
const struct echo_result *bench_echo_result(const struct bench_cell *c);

/* The client (bench/echo_client.c). */
struct echo_client;
int echo_client_new(const struct topo *t, struct rt_app *app, bool tcp, bool sockmap, size_t len,
		    struct echo_client **out);
/* One trial (or the warm-up) in a client thread pinned to CPU 0. */
int echo_client_trial(struct echo_client *c, uint64_t duration_ms);
/* The trial's figures into tr, its totals and histogram into r. */
void echo_client_summary(struct echo_client *c, struct echo_result *r, struct echo_trial *tr);
uint64_t echo_client_requests(const struct echo_client *c);
uint64_t echo_client_replies(const struct echo_client *c);
uint64_t echo_client_connections(const struct echo_client *c);
void echo_client_close(struct echo_client *c);
void echo_client_free(struct echo_client *c);

#endif
