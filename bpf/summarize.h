/*
 * Shared by bpf/summarize.bpf.c and bench/summarize*.c (bench summarize).
 * Include after vmlinux.h (BPF) or <linux/types.h> (user space).
 *
 * A UDP request of req_size bytes is sent as one or more datagrams; each
 * datagram's payload starts with struct sum_hdr, then a chunk of the
 * request.  The first chunk is the short one, the others SUM_CHUNK_MAX
 * bytes, so the datagram that completes a request is a full one.
 */
#ifndef OLAB_BPF_SUMMARIZE_H
#define OLAB_BPF_SUMMARIZE_H

#define SUM_UDP_PAYLOAD_MAX 1472   /* MTU 1500 - IPv4 20 - UDP 8 */
#define SUM_HDR_LEN         8
#define SUM_CHUNK_MAX       (SUM_UDP_PAYLOAD_MAX - SUM_HDR_LEN)
#define SUM_FLOWS_MAX       4096   /* requests in flight (LRU) */

struct sum_hdr {
	__u32 id;      /* request number of the flow */
	__u16 seg;     /* this datagram's index */
	__u16 nseg;    /* datagrams of the request */
};

/* Per-flow reassembly state: key source port + request id. */
struct sum_flow_key {
	__u16 sport;   /* network order */
	__u16 pad;
	__u32 id;
};

struct sum_flow {
	__u32 bytes;   /* request bytes seen */
	__u32 segs;
};

/* Per-CPU counters of the program (.bss), one cache line per CPU. */
struct sum_counters {
	__u64 datagrams;        /* UDP datagrams (or stream messages) of the flow seen */
	__u64 bytes_in;         /* request bytes seen (headers not counted) */
	__u64 requests_done;    /* requests complete at the program */
	__u64 requests_dropped; /* of which p = 0: nothing passed */
	__u64 segs_held;        /* non-final segments dropped while accumulating */
	__u64 summary_bytes;    /* summary bytes passed (headers not counted) */
	__u64 capped;           /* summaries cut to what the final datagram carries */
	__u64 errors;           /* bad header, shrink or redirect failures, size mismatch */
} __attribute__((aligned(64)));

/* The summary of a request: pct % of req_size bytes, rounded down. */
static inline __u32 sum_len_of(__u32 req_size, __u32 pct)
{
	return (__u32)((__u64)req_size * pct / 100);
}

#endif
