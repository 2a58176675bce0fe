/*
 * bench batch (bench/batch.c): the program holds requests and passes a batch
 * of B as one packet (bpf/batch.bpf.c).  Its app and sender
 * (bench/batch_app.c) run as child processes: the app in the DUT namespace
 * unpacks batches (datagrams, the timer's ringbuf records, a TCP stream),
 * counts each request once by its id and takes its latency from the stamp
 * the sender wrote (same host, CLOCK_MONOTONIC); the sender in the gen
 * namespace numbers and stamps requests, paced or as fast as it can.
 */
#ifndef OLAB_BENCH_BATCH_H
#define OLAB_BENCH_BATCH_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/batch.h"
#include "lib/hooks.h"
#include "netns/proc.h"
#include "netns/topo.h"

#define BATCH_LAT_CAP   (1u << 20)   /* latency samples kept (a ring) */
#define BATCH_ID_BITS   (1u << 23)   /* ids checked for duplicates */
#define BATCH_MAX_CONNS 16

/* Written by the app, read by the parent (MAP_SHARED). */
struct batch_app_stats {
	volatile uint32_t ready, stop;
	volatile int32_t error;
	volatile int32_t cpu;
	volatile uint64_t requests;     /* each counted once (ids past BATCH_ID_BITS unchecked) */
	volatile uint64_t datagrams;    /* UDP datagrams, or TCP reads */
	volatile uint64_t ring_records, ring_requests; /* the timer's flushes */
	volatile uint64_t dups, bad;    /* an id seen twice; not a request (magic, length) */
	volatile uint64_t conns, sockmap_errors;
	volatile uint64_t lat_n;        /* samples written; lat_ns[i % BATCH_LAT_CAP] */
	uint32_t lat_ns[BATCH_LAT_CAP];
	uint8_t seen[BATCH_ID_BITS / 8];
};

struct batch_app {
	struct batch_app_stats *st;
	struct proc proc;
	bool tcp;
	int ring_fd, sockmap_fd;      /* -1: none */
	pid_t parent;
};

/* Start the app on cpu in t's DUT namespace; 0 or -errno. */
int batch_app_start(const struct topo *t, bool tcp, int ring_fd, int sockmap_fd, int cpu,
		    struct batch_app **out);
/* Wait until it has n more requests than base, or timeout: 0 or -ETIMEDOUT. */
int batch_app_wait(struct batch_app *a, uint64_t want, int timeout_ms);
void batch_app_free(struct batch_app *a);

struct batch_send_opts {
	bool tcp;
	uint64_t rate;         /* requests/s; 0: as fast as it can */
	uint64_t count;        /* stop after this many; 0: no limit */
	uint64_t duration_ms;  /* stop after this long */
	uint32_t first_id;
	/* TCP only: after connecting, wait until *gate >= gate_at (the app has put
	 * the socket in the sockhash); NULL: don't. */
	const volatile uint64_t *gate;
	uint64_t gate_at;
	/* TCP: keep the connection this long after the last request (a
	 * redirected message can reach the socket after the FIN did). */
	uint64_t linger_ms;
};

struct batch_send_stats {
	volatile uint64_t sent;
	volatile int32_t error;
	volatile uint32_t done;
};

struct batch_sender {
	struct batch_send_opts o;
	struct batch_send_stats *st;
	struct proc proc;
	char dst[16];
};

/* The sender on CPU 0 in t's gen namespace; 0 or -errno. */
int batch_send_start(const struct topo *t, const struct batch_send_opts *o,
		     struct batch_sender **out);
/* Wait for it to end (up to timeout_ms), *sent: requests sent; free it. */
int batch_send_finish(struct batch_sender *s, int timeout_ms, uint64_t *sent);

/* ---- the exactly-once check (tests/integ/bench_batch.c) ---------------- */

struct batch_exact {
	uint64_t sent, app_requests, dups, bad, datagrams, ring_records, ring_requests;
	struct batch_cpu_stats prog;   /* summed over CPUs */
};

/* n requests (TCP or UDP) paced at rate through hook h with batch B and
 * timer flush_us, then wait for the app to have them all (or a timeout). */
int batch_exact_run(const struct hook_desc *h, bool tcp, unsigned batch, uint64_t n,
		    uint64_t rate, uint64_t flush_us, struct batch_exact *out);

#endif
