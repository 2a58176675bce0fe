/*
 * Traffic generators and sinks for the standard testbed (netns/topo.h).
 *
 *  - live: the in-kernel generator.  bpf/gen.bpf.c's gen_xdp is run with
 *    BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES from a thread in the gen
 *    namespace pinned to a CPU; it returns XDP_TX, so each run sends one UDP
 *    frame out of the gen veth.  Counted by the program (per CPU).
 *  - udp: UDP sockets in the gen namespace, sendmmsg() in batches, one
 *    connected socket per flow (source port).  Counted from return values.
 *  - tcp: TCP connections, each writing fixed-size requests in a loop.
 *    Counted in whole requests and bytes really written.
 *
 * Sinks on the DUT: an XDP program that counts and drops (live), or socket
 * servers, one thread per CPU on SO_REUSEPORT sockets (udp, tcp).
 *
 * Every loop is bounded by its count and by time; traffic goes only from
 * the gen namespace to the DUT addresses of the topology (198.18.0.0/15,
 * 2001:2::/48).  Functions return 0 or -errno.
 */
#ifndef OLAB_GEN_H
#define OLAB_GEN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/counters.h"
#include "bpf/gen.h"
#include "netns/topo.h"

#define GEN_MAX_THREADS   OLAB_MAX_CPUS
#define GEN_MAX_TCP_CONNS 1024
#define GEN_LIVE_BATCH    64      /* test_run batch_size default (max 256) */
#define GEN_UDP_BATCH     64      /* sendmmsg vlen default (max 1024) */
#define GEN_PACE_TICK_NS  200000  /* paced sending: about one burst per tick */

enum gen_mode { GEN_MODE_LIVE, GEN_MODE_UDP, GEN_MODE_TCP };

struct gen_cfg {
	int family;            /* 4 or 6 */
	unsigned size;         /* live/udp: Ethernet frame w/o FCS (64..1514); tcp: request */
	unsigned nflows;       /* live/udp: distinct source ports; tcp: connections; 0 = 1 */
	uint64_t count;        /* frames/datagrams/requests over all threads; 0: until duration */
	uint64_t duration_ns;  /* 0: until count; if both, whichever comes first */
	uint64_t rate_pps;     /* open-loop rate over all threads (tcp: requests/s); 0: unpaced */
	unsigned threads;      /* 0: one per CPU in cpus, or 1 */
	uint64_t cpus;         /* CPU mask; thread i runs on the i-th CPU set; 0: CPUs 0.. */
	unsigned batch;        /* live: test_run batch_size; udp: sendmmsg vlen; 0: default */
	uint16_t dport;        /* 0: GEN_DPORT */
	uint16_t ethertype;    /* live: 0 for IP; else this EtherType (frames no protocol takes) */
	uint64_t timeout_ns;   /* hard limit on sending; 0: derived from count, rate, duration */
	bool sink_pass;        /* XDP sink: count, then XDP_PASS to the stack instead of dropping */
	const volatile int *stop; /* optional: sending ends (normally) once *stop is non-zero */
};

struct gen_thread_stats {
	int cpu;               /* CPU it was pinned to (-1: not pinned) */
	uint64_t sent, bytes;  /* really sent by this thread */
	uint64_t calls;        /* test_run / sendmmsg / write calls */
	uint64_t errors;       /* failed calls */
	uint64_t start_ns, end_ns;
};

struct gen_result {
	enum gen_mode mode;
	uint64_t sent;         /* frames (live), datagrams (udp), whole requests (tcp) */
	uint64_t bytes;        /* frame bytes (live), UDP payload (udp), bytes written (tcp) */
	uint64_t errors;
	uint64_t xmit_errors;  /* live: frames the gen veth could not queue to its peer
				* (ring full; ethtool tx_queue_*_xdp_xmit_errors) */
	uint64_t elapsed_ns;   /* first thread start to last thread end */
	double pps;            /* sent per second over elapsed_ns */
	bool timed_out;        /* the hard limit stopped it before its count */
	bool interrupted;      /* a signal stopped it */
	unsigned nthreads;
	struct gen_thread_stats thr[GEN_MAX_THREADS];
};

/* Fill cfg with defaults: IPv4, 64 B, 1 flow, 1 thread, 1 s. */
void gen_cfg_init(struct gen_cfg *c);
/* Check a cfg against this machine; 0 or -EINVAL with one line in why. */
int gen_cfg_check(const struct gen_cfg *c, enum gen_mode mode, char *why, size_t len);

/* Send from t->gen to t->dut.  r is filled even on error where possible. */
int gen_live_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r);
int gen_udp_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r);
int gen_tcp_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r);
int gen_run(const struct topo *t, enum gen_mode mode, const struct gen_cfg *c,
	    struct gen_result *r);

/*
 * Use a testbed someone else built: namespaces /run/netns/<gen_ns> and
 * <dut_ns> (names must start with "olab"), each with one interface holding
 * an address in 198.18.0.0/15 (and, for IPv6, one in 2001:2::/48).  Fills t
 * without taking ownership: release with gen_topo_detach(), never topo_down().
 */
int gen_topo_attach(const char *gen_ns, const char *dut_ns, struct topo *t);
void gen_topo_detach(struct topo *t);

/* Sinks in t->dut. */
struct gen_sink;

struct gen_sink_stats {
	uint64_t packets;      /* generator packets (xdp, udp: datagrams); tcp: bytes / size */
	uint64_t bytes;        /* frame bytes (xdp), payload bytes (udp), bytes read (tcp) */
	uint64_t other;        /* xdp: frames passed that were not ours; tcp: connections */
	uint64_t per_cpu[OLAB_MAX_CPUS];
	unsigned distinct_sports;
};

/* LIVE: XDP counting drop on t->if_dut; UDP/TCP: socket servers on the DUT
 * address.  The sink is removed by gen_sink_stop() or the run's cleanup. */
int gen_sink_start(const struct topo *t, enum gen_mode mode, const struct gen_cfg *c,
		   struct gen_sink **out);
void gen_sink_read(struct gen_sink *s, struct gen_sink_stats *st);
/* Wait until the sink counted `expect` packets (tcp: bytes) or its count
 * stopped moving for 200 ms, at most max_ns; then read it. */
void gen_sink_settle(struct gen_sink *s, uint64_t expect, uint64_t max_ns,
		     struct gen_sink_stats *st);
void gen_sink_stop(struct gen_sink *s);

/* ---- pure helpers (unit-tested) ---- */

struct gen_frame_spec {
	int family;
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src_ip[16], dst_ip[16];   /* first 4 bytes for IPv4 */
	uint16_t sport, dport;            /* host order */
	unsigned size;                    /* frame bytes */
};

/* One's-complement sum of len bytes (RFC 1071), words as loaded from memory,
 * added to sum; gen_csum_fold() folds and complements. */
uint64_t gen_csum_add(uint64_t sum, const void *buf, size_t len);
uint16_t gen_csum_fold(uint64_t sum);
/* Payload bytes of a frame of size bytes, or -EINVAL when it does not fit. */
int gen_payload_len(int family, unsigned size);
/* Build an Ethernet/IP/UDP frame of s->size bytes with correct IP and UDP
 * checksums into buf; *csum_partial (may be NULL) gets the folded sum of
 * everything the UDP checksum covers except the source port, for
 * gen_udp_csum_with_port().  0 or -EINVAL. */
int gen_build_frame(const struct gen_frame_spec *s, uint8_t *buf, size_t len,
		    uint32_t *csum_partial);
/* Spec of the frames from t->gen to t->dut. */
int gen_frame_spec_topo(const struct topo *t, int family, unsigned size, uint16_t dport,
			struct gen_frame_spec *s);

/* Threads: count for thread i of n, and its CPU (-1 when mask has none). */
uint64_t gen_split(uint64_t total, unsigned n, unsigned i);
int gen_thread_cpu(uint64_t cpus, unsigned i);

/* Open-loop pacing: frame k (0-based) is due at gen_pace_time(rate, k) ns
 * after the start; gen_pace_due() frames are due by elapsed ns. */
uint64_t gen_pace_time(uint64_t rate, uint64_t k);
uint64_t gen_pace_due(uint64_t rate, uint64_t elapsed_ns);
/* Frames per burst for a rate: about one burst per GEN_PACE_TICK_NS, in 1..max. */
unsigned gen_pace_burst(uint64_t rate, unsigned max);
/* Hard time limit for a cfg (count/rate/duration) */
uint64_t gen_timeout_ns(const struct gen_cfg *c);

const char *gen_mode_name(enum gen_mode m);

#endif
