/*
 * Shared by the generator files lib/gen_*.c only; the public interface is
 * lib/gen.h.  The sending loop (lib/gen_loop.c) runs one thread per CPU and
 * calls the mode's send function (lib/gen_live.c, lib/gen_send.c) with how
 * many frames, datagrams or requests are due.  No cycle: gen_send.c (with
 * gen_run) -> gen_live.c -> gen_loop.c -> gen_frame.c.
 */
#ifndef OLAB_GEN_INTERNAL_H
#define OLAB_GEN_INTERNAL_H
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "lib/gen.h"

#define NSEC 1000000000ull

struct gen; /* the generator skeleton (gen.skel.h) */
struct gen_ctx;

struct tcp_conn {
	int fd;
	unsigned off;          /* bytes of the current request written, 0: none in flight */
};

struct gen_thr {
	struct gen_ctx *g;
	unsigned idx;
	int cpu;
	uint64_t target;       /* 0: until the deadline */
	uint64_t rate;         /* this thread's share, 0: unpaced */
	uint64_t issued;       /* frames sent / datagrams sent / requests started */
	struct gen_thread_stats st;
	int err;
	bool timed_out, interrupted;
	/* live */
	struct bpf_test_run_opts topts;
	struct xdp_md md;
	/* udp */
	struct mmsghdr *msgs;
	unsigned next_sock;
	/* tcp */
	struct tcp_conn *conns;
	unsigned nconns, inflight;
	struct pollfd *pfds;
};

struct gen_ctx {
	const struct topo *t;
	const struct gen_cfg *c;
	enum gen_mode mode;
	unsigned nthr;
	pthread_mutex_t lock;  /* start gate: threads wait until every one exists */
	pthread_cond_t cond;
	int gate;              /* 0 wait, 1 go, -1 abandon */
	int (*send)(struct gen_thr *th, uint64_t n);
	unsigned chunk;        /* most per send() call */
	/* live */
	struct gen *skel;
	struct bpf_link *pin_link;
	uint8_t frame[GEN_MAX_FRAME];
	unsigned frame_len;
	/* udp: one socket per flow; tcp: connections */
	int *fds;
	unsigned nfds;
	uint8_t *payload;
	unsigned payload_len;
	struct iovec iov;
};

/* Threads, from the config: --threads, or one per CPU of --cpus, or 1. */
unsigned gen_cfg_threads(const struct gen_cfg *c);
/* The CPUs they run on: --cpus, or the first gen_cfg_threads(). */
uint64_t gen_cfg_cpus(const struct gen_cfg *c);
/* ip (NULL: any address; may end in "/len") and port as a sockaddr of
 * family 4 or 6; 0 or -EINVAL. */
int gen_sockaddr(int family, const char *ip, uint16_t port, struct sockaddr_storage *ss,
		 socklen_t *len);
void gen_result_init(struct gen_result *r, enum gen_mode mode);
/* gen_cfg_check(), with the reason logged. */
int gen_check_cfg(const struct gen_cfg *c, enum gen_mode mode);
/* Run g->nthr threads of g->send until the count, the duration, a stop or
 * the time limit; their statistics in r.  0 or the first thread's -errno. */
int gen_run_threads(struct gen_ctx *g, struct gen_result *r);

#endif
