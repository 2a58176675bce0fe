/*
 * Shared by bpf/share.bpf.c and bench/share*.c (bench share): the 64 B
 * record a program shares with user space per request, the channel
 * numbers (the same values as enum bench_channel in bench/bench.h, which
 * BPF code does not include), the user ringbuf command and the per-CPU
 * counters in .bss.  Include after vmlinux.h (BPF) or <linux/types.h>.
 */
#ifndef OLAB_BPF_SHARE_H
#define OLAB_BPF_SHARE_H

/* enum bench_channel, value for value. */
#define SHARE_CHAN_PACKET        0
#define SHARE_CHAN_ARRAY         1
#define SHARE_CHAN_HASH          2
#define SHARE_CHAN_MMAP_RING     3
#define SHARE_CHAN_RINGBUF_EPOLL 4
#define SHARE_CHAN_RINGBUF_POLL  5
#define SHARE_CHAN_AF_XDP        6
#define SHARE_CHAN_USER_RINGBUF  7

#define SHARE_MAX_CPUS      8          /* CPUs with their own slots / ring */
#define SHARE_SLOTS         4096       /* per CPU: ARRAY slots, mmap ring entries */
#define SHARE_HASH_MAX      (SHARE_MAX_CPUS * SHARE_SLOTS)
#define SHARE_RINGBUF_BYTES (1u << 20) /* 1 MiB: ~14.5k records (8 B header each) */
#define SHARE_URB_BYTES     (1u << 18) /* user ringbuf: ~10k commands */
#define SHARE_XSK_MAX       8          /* XSKMAP entries (rx queues) */
#define SHARE_DATA_LEN      32         /* request bytes in a record */
#define SHARE_DATA_OFF      10         /* packet hooks: copied from frame byte 10 (mac, */
					/* EtherType, IPv4 and UDP headers) */
#define SHARE_CHECK_OFF     16         /* ... of which IPv4 addresses and UDP ports */
#define SHARE_CHECK_LEN     12         /* are checked (lengths change: share.bpf.c) */
#define SHARE_REC_OFF       42         /* af-xdp, packet: the record in the frame */
#define SHARE_MAGIC         0x5eb1c0deu
#define SHARE_FLOWS         16         /* per-flow actions set by commands */
#define SHARE_HIST          512        /* latency histogram buckets (share_bucket) */

/* The 64 B record of one request. */
struct share_rec {
	__u64 seq;            /* per CPU, from 1 */
	__u64 ktime;          /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u32 cpu;
	__u32 len;            /* request bytes (frame, or stream skb) */
	__u32 magic;          /* SHARE_MAGIC ^ (__u32)seq: torn/overwritten records show */
	__u32 flow;           /* UDP source port (packet hooks), 0 for streams */
	__u8 data[SHARE_DATA_LEN];
};

/* A user ringbuf command: set the action of a flow. */
struct share_cmd {
	__u64 seq;            /* from 1, consecutive */
	__u64 ktime;          /* CLOCK_MONOTONIC at submit */
	__u32 flow;
	__u32 action;
};

/* Per CPU, in .bss: written by the program. */
struct share_cpu {
	__u64 seen;           /* bench requests the program ran on (= last seq) */
	__u64 done;           /* requests whose record write was attempted */
	__u64 lost;           /* reserve/insert failed, ring full, slot overwritten unread */
	__u64 head;           /* mmap ring: records written */
	__u64 errors;         /* helper failures (shrink, redirect) */
	__u64 cmds;           /* user ringbuf: commands drained */
	__u64 cmd_bad;        /* commands out of sequence */
	__u64 cmd_last;       /* last command seq */
} __attribute__((aligned(64)));

/* Per CPU, in .bss: written by user space (consumer position). */
struct share_tail {
	__u64 tail;           /* mmap ring: records read; array: last seq read */
	__u64 pad[7];
} __attribute__((aligned(64)));

/* Latency histogram bucket of v ns: exact below 32, then 8 per power of two. */
static inline __u32 share_bucket(__u64 v)
{
	__u64 x = v;
	__u32 msb = 0;

	if (v < 32)
		return (__u32)v;
	if (x >> 32) { msb += 32; x >>= 32; }
	if (x >> 16) { msb += 16; x >>= 16; }
	if (x >> 8) { msb += 8; x >>= 8; }
	if (x >> 4) { msb += 4; x >>= 4; }
	if (x >> 2) { msb += 2; x >>= 2; }
	if (x >> 1) msb += 1;
	return 32 + (msb - 5) * 8 + (__u32)((v >> (msb - 3)) & 7);
}

/* Lower bound in ns of bucket b (user space). */
static inline __u64 share_bucket_lo(__u32 b)
{
	__u32 msb = (b - 32) / 8 + 5;

	if (b < 32)
		return b;
	return (1ull << msb) | ((__u64)((b - 32) % 8) << (msb - 3));
}

#endif
