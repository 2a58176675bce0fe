/*
 * bench interfere (bench/interfere.c), its client (bench/interfere_client.c)
 * and what the cells measured, for tests/integ/bench_interfere.c.
 *
 * The client, one thread in the gen namespace on CPU 0, keeps a window of
 * requests in flight over two connected UDP sockets: a fraction ω (pct) to
 * the fast-path port, the rest to the socket app's port.  Each reply is
 * matched to its window slot (struct ifr_msg), checked byte for byte, and
 * its round trip timed with CLOCK_MONOTONIC; the flow it belongs to and
 * where it was made (at the hook or by an app) are counted.
 */
#ifndef OLAB_BENCH_INTERFERE_H
#define OLAB_BENCH_INTERFERE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bench/bench.h"
#include "bpf/interfere.h"

#define IFR_WINDOW      8           /* requests in flight */
#define IFR_TIMEOUT_MS  200         /* a reply not back by then is lost */
#define IFR_MAX_RTTS    (1 << 20)   /* per flow and trial */
#define IFR_MAX_TRIALS  64
#define IFR_FAST_PORT   (GEN_DPORT + 1) /* the app listens on GEN_DPORT */

/* One flow's counts (and, per trial, its figures). */
struct ifr_flow {
	uint64_t sent, replies, at_hook, by_app; /* replies = at_hook + by_app */
	uint64_t lost, bad, crossed, late;       /* crossed: the other flow's reply */
	double p50_us, p99_us, rate;             /* replies per second */
};

struct ifr_client;
int ifr_client_new(const struct topo *t, unsigned pct, size_t len, struct ifr_client **out);
/* One trial: requests for duration_ms (or until max_requests were sent,
 * 0: no cap), then the replies still in flight, up to IFR_TIMEOUT_MS. */
int ifr_client_trial(struct ifr_client *c, uint64_t duration_ms, uint64_t max_requests);
/* The last trial's counts and figures of flow IFR_FLOW_*. */
void ifr_client_flow(const struct ifr_client *c, int flow, struct ifr_flow *out);
void ifr_client_free(struct ifr_client *c);

/* ---- the cells' results (bench/interfere.c) ---------------------------- */

/* One arm's totals over its kept trials (warm-up not included). */
struct ifr_arm_total {
	size_t ntrials;
	struct ifr_flow flow[2];          /* IFR_FLOW_APP, IFR_FLOW_FAST: counts only */
	struct cpu_counters prog;         /* the program's (main arm: it was attached) */
	uint64_t app_packets, app_sent;   /* the app on GEN_DPORT */
	uint64_t fast_app_packets, fast_app_sent; /* the user-space echo on the fast port */
};

struct ifr_result {
	struct ifr_arm_total arm[2];      /* ARM_MAIN (offload), ARM_REF (no offload) */
	size_t len;                       /* UDP payload bytes a request */
	bool stats_on;                    /* bpf_stats gave the program's run time */
	uint64_t retried;                 /* trials measured again: the machine was busy */
};

const struct ifr_result *bench_interfere_result(const struct bench_cell *c);
/* Tests: every trial sends exactly n requests (0: timed trials, the default). */
void bench_interfere_fixed_requests(uint64_t n);

#endif
