/*
 * The socket apps that are measured (alone, for the baselines) or offloaded
 * (with a hook): each runs as a child process in the DUT namespace, pinned to
 * a CPU, and keeps its statistics in a MAP_SHARED anonymous mapping that the
 * parent reads while it runs.
 *
 *   udp-sink  recvmmsg (batch 64), count and drop
 *   tcp-sink  epoll, accept many connections, large reads, count bytes and
 *             requests of a fixed size (optionally check a byte pattern)
 *   udp-echo  recvmmsg + sendmmsg back to each sender
 *   tcp-echo  epoll, write every byte read back to its connection
 *
 * Given a stream hook's sockhash (sockmap_fd), the TCP apps put every
 * accepted socket in it before reading it.  Every loop polls with a timeout and stops on
 * the stop flag, at its time limit, or when the parent dies.
 */
#ifndef OLAB_APPS_H
#define OLAB_APPS_H
#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "bpf/counters.h"
#include "netns/netns.h"
#include "netns/proc.h"

enum app_kind {
	APP_UDP_SINK,
	APP_TCP_SINK,
	APP_UDP_ECHO,
	APP_TCP_ECHO,
	APP_KIND__COUNT
};

#define APP_UDP_BATCH          64
#define APP_DEFAULT_TIMEOUT_MS (15 * 60 * 1000)
#define APP_DEFAULT_MAX_CONNS  256

/* Put a connected socket in a stream hook's sockhash (key: its SO_COOKIE,
 * as bpf/hooks.h): the TCP apps do it for each accepted socket, also in
 * containers, which are handed the map's fd.  0 or -errno. */
int app_sockhash_add(int map_fd, int sock_fd);

struct app_opts {
	enum app_kind kind;
	int family;              /* AF_INET (also when 0) or AF_INET6 */
	uint16_t port;
	int cpu;                 /* pin the app here; -1: leave it */
	uint32_t req_size;       /* tcp-sink: bytes per request, 0: don't count */
	bool verify;             /* tcp apps: check app_pattern_byte() per connection */
	int rcvbuf;              /* SO_RCVBUFFORCE bytes, 0: default */
	unsigned max_conns;      /* 0: APP_DEFAULT_MAX_CONNS */
	unsigned timeout_ms;     /* stop by itself after this; 0: APP_DEFAULT_TIMEOUT_MS */
	/* A stream hook's sockhash (hook_sockmap_fd()): accepted sockets go in.
	 * 0 (unset) or -1: none; libbpf never returns map fds 0-2. */
	int sockmap_fd;
};

/* Written by the app, read by the parent (use app_read()). */
struct app_stats {
	uint32_t ready;          /* bound / listening */
	uint32_t stop;           /* set by the parent */
	int32_t error;           /* first failure, -errno */
	int32_t cpu;             /* where the app last ran */
	uint64_t packets;        /* datagrams, or reads that returned data */
	uint64_t bytes;
	uint64_t requests;       /* tcp-sink: complete req_size requests */
	uint64_t sent_packets;   /* echo: datagrams, or writes */
	uint64_t sent_bytes;
	uint64_t send_errors;
	uint64_t conns;          /* accepted */
	uint64_t conns_closed;
	uint64_t sockmap_added;  /* accepted sockets put in the hook's sockhash */
	uint64_t sockmap_errors;
	uint64_t bad_bytes;      /* verify: bytes that were not the pattern */
	uint64_t missed_wakeup_bytes; /* tcp: read only by the idle sweep, no epoll wakeup */
	uint64_t cpu_packets[OLAB_MAX_CPUS];
};

struct app {
	struct app_opts o;
	struct app_stats *st;    /* the shared mapping */
	struct proc proc;
	pid_t parent;
	int exit_status;         /* once reaped, else -1 */
};

const char *app_kind_name(enum app_kind k);
int app_kind_by_name(const char *name);   /* "udp-sink"...; -EINVAL */

/* Start the app in ns; 0 or -errno. */
int app_start(const struct app_opts *o, const struct netns *ns, struct app **out);
/* Wait until it listens: 0, its error, -ECHILD if it exited, or -ETIMEDOUT. */
int app_wait_ready(struct app *a, int timeout_ms);
/* Snapshot of the live statistics. */
void app_read(const struct app *a, struct app_stats *out);
/* Wait until counter field (offsetof in struct app_stats) reaches want: 0 or -ETIMEDOUT. */
int app_wait_count(const struct app *a, size_t field, uint64_t want, int timeout_ms);
/* Ask it to stop and reap it (SIGKILL after timeout_ms): its exit status or -errno. */
int app_stop(struct app *a, int timeout_ms);
/* Stop if running, unmap and free.  NULL is fine. */
void app_free(struct app *a);

/* The byte at offset off of a connection's test stream (period 2^32). */
static inline uint8_t app_pattern_byte(uint64_t off)
{
	return (uint8_t)(off ^ (off >> 8) ^ (off >> 16) ^ (off >> 24));
}

void app_pattern_fill(uint8_t *buf, size_t len, uint64_t off);

#endif
