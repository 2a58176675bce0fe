/*
 * bench echo (cmd/bench_echo.c): request/response latency when the reply is
 * made at a hook, against a user-space echo app.  One client thread in the
 * gen namespace on CPU 0 does closed-loop ping-pong; each trial gives the
 * percentiles of its RTTs.  Exposed for tests/integ/bench_echo.c.
 */
#ifndef OLAB_CMD_BENCH_ECHO_H
#define OLAB_CMD_BENCH_ECHO_H
#include <stdint.h>
#include <jansson.h>
#include "lib/apps.h"
#include "lib/cpuidle.h"
#include "cmd/bench.h"

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

/* Where the reply is made, for reports. */
const char *bench_echo_reply_at(const struct hook_desc *h);
/*
 * Testbed (LAYOUT_RX_CPU1), h's echo (or the echo app), warm-up, then
 * cfg->trials trials of cfg->duration_ms; ctx (may be NULL) for progress.
 * 0 or -errno; on success release r with bench_echo_release().
 */
int bench_echo_measure(const struct hook_desc *h, const struct bench_cfg *cfg,
		       const struct bench_ctx *ctx, struct echo_result *r);
void bench_echo_release(struct echo_result *r);

#endif
