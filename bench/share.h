/*
 * bench share: kernel -> user channels.  The program (bpf/share.bpf.c)
 * drops each request and shares a 64 B record through the cell's channel;
 * a consumer thread pinned to the app CPU drains it (bench/share_consume.c).
 */
#ifndef OLAB_BENCH_SHARE_H
#define OLAB_BENCH_SHARE_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "bench/bench.h"
#include "bpf/share.h"

struct share;            /* the skeleton */
struct share_io;         /* the channel's user-space end */
struct share_consumer;

/* What a consumer counted (records), or the user ringbuf producer (commands). */
struct share_stats {
	uint64_t delivered;    /* records read intact and in sequence (commands: submitted) */
	uint64_t gaps;         /* records missing between two read ones */
	uint64_t tail_missing; /* produced after the last one read, never read */
	uint64_t bad;          /* wrong magic, CPU, length or request bytes */
	uint64_t disorder;     /* seq not above the CPU's last */
	uint64_t access_ns;    /* time in the reads that returned records */
	uint64_t reads;        /* reads that returned records */
	uint64_t failed;       /* user ringbuf: reserve failed (full) */
	uint64_t ext_lost;     /* lost outside the program: socket drops, xsk rx drops */
	uint64_t cpu_ns;       /* the thread's CPU time */
	uint64_t bytes;        /* request bytes of the records delivered (their len) */
	uint64_t hist[SHARE_HIST]; /* delivery latency (share_bucket) */
};

/* Totals over the kept trials of a cell (tests read them). */
struct share_result {
	uint64_t seen;         /* requests the program ran on */
	uint64_t prog_lost;    /* program-side lost (reserve/insert/full/overwrite/redirect) */
	uint64_t prog_errors;
	uint64_t cmds;         /* user ringbuf: commands the program drained */
	uint64_t cmd_bad;      /* ... out of sequence */
	uint64_t sent, xmit_errors, sent_bytes; /* the generator's */
	struct share_stats st; /* the consumer's */
	unsigned trials;
	char why[192];         /* not measured (the kernel's refusal), or "" */
};

const struct share_result *bench_share_result(const struct bench_cell *c);

/* The channel's user-space end for a loaded skeleton; if_dut in ns (af-xdp,
 * packet).  0 or -errno, with the reason in why. */
int share_io_open(struct share *skel, int channel, const struct netns *ns, const char *ifname,
		  const uint8_t *expect, bool check_data, struct share_io **out,
		  char *why, size_t len);
void share_io_close(struct share_io *io);

/* Start draining (or producing commands: at rate a second, 0: as fast as
 * the ring takes them; at most limit batches, 0: no limit) on cpu; stop
 * drains what is left. */
int share_consumer_start(struct share_io *io, int cpu, uint64_t rate, uint64_t limit,
			 struct share_consumer **out);
/* Live counters (cpu_ns included). */
void share_consumer_read(struct share_consumer *k, struct share_stats *out);
/* User ringbuf: stop producing (the program drains the rest). */
void share_consumer_quiesce(struct share_consumer *k);
/* Stop, drain, count the tail; final counters into out. */
void share_consumer_stop(struct share_consumer *k, struct share_stats *out);

/* Latency percentile (0..1) of a histogram, in ns; 0 when empty. */
double share_hist_pct(const uint64_t *hist, double p);

#endif
