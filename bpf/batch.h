/*
 * Shared by bpf/batch.bpf.c and bench/batch*.c (bench batch).  Include
 * after vmlinux.h (BPF) or <linux/types.h> (user space).
 *
 * A request is BATCH_REQ_SIZE bytes: the UDP payload of one datagram, or a
 * fixed-size record of a TCP stream.  A batch is B requests back to back in
 * one datagram (or one stream message); the app finds them by length.
 */
#ifndef OLAB_BPF_BATCH_H
#define OLAB_BPF_BATCH_H

#define BATCH_REQ_SIZE  32
#define BATCH_MAX       32                  /* B at most: 32 x 32 B + 42 B < 1500 */
#define BATCH_UDP_HDRS  (14 + 20 + 8)       /* Ethernet, IPv4 without options, UDP */
#define BATCH_MAGIC     0xba7c4e57u
#define BATCH_RING_SIZE (1 << 20)

/* One request as the sender writes it. */
struct batch_req {
	__u64 stamp_ns;   /* CLOCK_MONOTONIC when it was sent */
	__u32 id;         /* numbered by the sender from 0 */
	__u32 magic;      /* BATCH_MAGIC */
	__u8 pad[BATCH_REQ_SIZE - 16];
};

/* Per CPU, in .bss (one cache line each). */
struct batch_cpu_stats {
	__u64 held;           /* requests copied into the batch buffer, packet dropped */
	__u64 batches;        /* packets emitted carrying a batch (B requests) */
	__u64 batched_reqs;   /* requests in full batches (packets and ring_batches) */
	__u64 flushed_reqs;   /* requests the timer wrote to the ringbuf */
	__u64 flushes;        /* ringbuf records */
	__u64 errors;         /* a grow, store or reserve that failed (then retried) */
	__u64 other;          /* packets that were not a benchmark request: passed */
	__u64 ring_batches;   /* full batches written whole to the ringbuf: the packet could not grow */
} __attribute__((aligned(64)));

/* A batch in the ringbuf: partial (the timer's flush) or full (xdp, when
 * the packet cannot grow). */
#define BATCH_REC_FULL 0x80000000u  /* in cpu: written by the program, not the timer */
struct batch_flush_rec {
	__u32 count;
	__u32 cpu;
	__u8 reqs[BATCH_MAX * BATCH_REQ_SIZE];
};

#endif
