/*
 * bench summarize (bench/summarize.c): pct % of each request reaches the
 * app as its summary, made by the program at the hook (offload), by the
 * app from the whole request (user space), or not at all (none).  Its app
 * and sender are in bench/summarize_app.c; a fixed-count run is exposed for
 * tests/integ/bench_summarize.c.
 */
#ifndef OLAB_BENCH_SUMMARIZE_H
#define OLAB_BENCH_SUMMARIZE_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "bench/bench.h"
#include "bpf/summarize.h"
#include "netns/proc.h"

/* What the app does with what it receives. */
enum sum_app_mode {
	SUM_APP_SUMMARY,  /* offload: it gets summaries; reads (checksums) them */
	SUM_APP_EXTRACT,  /* user space: whole requests; copies pct % into a buffer, checksums it */
	SUM_APP_NONE,     /* whole requests, nothing done with them */
};

/* Written by the app (a child), read by the parent. */
struct sum_app_stats {
	uint32_t ready, stop;
	int32_t error, cpu;
	uint64_t datagrams;      /* datagrams, or reads that returned data */
	uint64_t bytes;          /* payload bytes read */
	uint64_t requests;       /* requests finished (a summary, or a whole request) */
	uint64_t summary_bytes;  /* summary bytes (UDP: without sum_hdr) */
	uint64_t incomplete;     /* user space: requests with a segment missing */
	uint64_t bad;            /* datagrams without a header */
	uint64_t checksum;       /* of the summary bytes: they were touched */
	uint64_t conns, sockmap_added, sockmap_errors;
	uint64_t missed_wakeups;   /* TCP: data found after a poll timeout */
};

struct sum_app_cfg {
	bool tcp;
	enum sum_app_mode mode;
	uint32_t req_size, pct;
	bool framed;             /* TCP summaries are sum_len each (parser), else unframed */
	int sockmap_fd;          /* >= 0: accepted sockets go in (stream hooks) */
	uint16_t port;
	int cpu;
	unsigned timeout_ms;
};

struct sum_app {
	struct sum_app_cfg cfg;
	struct sum_app_stats *st;  /* MAP_SHARED */
	struct proc proc;
	pid_t parent;
};

int sum_app_start(const struct sum_app_cfg *cfg, const struct netns *ns, struct sum_app **out);
int sum_app_wait_ready(struct sum_app *a, int timeout_ms);
void sum_app_read(const struct sum_app *a, struct sum_app_stats *out);
/* Stop, reap, unmap, free; NULL is fine. */
void sum_app_free(struct sum_app *a);

/* The sender: one thread in the gen namespace pinned to CPU 0. */
struct sum_send_cfg {
	const struct topo *t;
	bool tcp;
	uint32_t req_size;
	uint64_t max_requests;     /* 0: until stopped or max_ms */
	uint64_t max_ms;
	/* Closed loop: at most window requests not yet done(arg); 0: open loop. */
	uint32_t window;
	uint32_t window_wait_us;   /* give up waiting after this (loss); 0: 2000 */
	uint64_t (*done)(void *arg);
	void *done_arg;
	const struct sum_app *wait_sockmap; /* TCP: wait until it put the socket in */
};

struct sum_send_result {
	uint64_t requests, datagrams, bytes;  /* sent (UDP bytes: payload incl. sum_hdr) */
	uint64_t send_errors;
	uint64_t window_timeouts;  /* waits for the window given up */
	uint64_t start_ns, end_ns;
	int err;
};

struct sum_sender;
int sum_send_start(const struct sum_send_cfg *cfg, struct sum_sender **out);
/* Stop (now) and join; the result; frees the sender. */
int sum_send_stop(struct sum_sender *s, struct sum_send_result *r);
/* Join without stopping it (count mode); same as sum_send_stop otherwise. */
int sum_send_join(struct sum_sender *s, struct sum_send_result *r);
/* Datagrams a UDP request of size bytes takes, and its final datagram's request bytes. */
uint32_t sum_segments(uint32_t size);
uint32_t sum_final_chunk(uint32_t size);

/* The cell's figures (bench/summarize_report.c); extra: the cell's common extra (stolen). */
int summarize_report(struct bench_cell *c, const struct bench_series *s, json_t *extra);

/* ---- a fixed-count run (tests) ---------------------------------------- */

struct sum_count_result {
	struct sum_send_result sent;
	struct sum_app_stats app;
	struct sum_counters prog;    /* summed over CPUs */
	uint64_t expect_summary;     /* per request, as the program defines it */
	bool capped;
};

/* nreq requests of size bytes at hook h (ARM_MAIN: with the program,
 * ARM_REF: the app extracts, ARM_POST1: none), then the totals. */
int summarize_count_run(const struct hook_desc *h, enum bench_layout l, bool tcp, uint32_t size,
			unsigned pct, enum bench_arm arm, uint64_t nreq, struct sum_count_result *out);

#endif
