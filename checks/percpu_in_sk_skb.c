/*
 * percpu-in-sk-skb: the plan says per-CPU maps "are not safe anymore" in
 * SK_SKB.  A stream verdict runs with migration disabled, not BH or
 * preemption: from process context (a socket's backlog, processed by
 * release_sock() with BH enabled) and from softirq, which can interrupt it
 * on the same CPU.  Two TCP connections over lo, RPS steering their
 * receive processing to CPU 1 (an IPI, then softirq, interrupts whatever
 * runs there), a reader on CPU 1 owning each socket in turn (recv), and a
 * verdict that updates a per-CPU counter three ways (bpf/check_percpu):
 * unprotected read-modify-write loses updates; an atomic add and a
 * bpf_spin_lock lose none.  Nested runs (one verdict starting inside
 * another on its CPU) show the contexts really interleaved in each phase.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "checks/check.h"
#include "lib/apps.h"
#include "lib/features.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "check_percpu.skel.h"

#define PORT     7131
#define ROUND_MS   200
#define MAX_ROUNDS 10     /* until MIN_NESTED nested runs, at most 2 s */
#define MIN_NESTED 50
#define CHUNK    64

enum { MODE_UNPROTECTED, MODE_ATOMIC, MODE_SPIN_LOCK };

struct priv {
	struct netns ns;
	struct check_percpu *skel;
	int client[2], server[2];
	atomic_int stop;
};

static void skel_undo(void *a, void *b)
{
	check_percpu__destroy(*(struct check_percpu **)a);
}

static int connect_pairs(struct check_ctx *ctx, struct priv *p)
{
	int map = bpf_map__fd(p->skel->maps.socks), one = 1, err = 0;

	for (int i = 0; i < 2 && !err; i++) {
		err = check_defer_close(ctx, &p->client[i]) ?: check_defer_close(ctx, &p->server[i]);
		if (!err)
			err = check_tcp_pair(&p->ns, PORT + i, &p->client[i], &p->server[i]);
		if (!err)
			setsockopt(p->client[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (!err)
			err = app_sockhash_add(map, p->server[i]);
	}
	return err ? check_error(ctx, err, "TCP pairs in the sockhash: %s", strerror(-err)) : 0;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	if (cpu_count() < 2) {
		snprintf(ctx->skip, sizeof(ctx->skip), "needs 2 CPUs: softirq on the reader's CPU");
		return 0;
	}
	err = check_lo_ns(ctx, "percpu", &p->ns) ?: check_defer(ctx, skel_undo, &p->skel, NULL);
	if (err)
		return err;
	err = link_set_rps(&p->ns, "lo", 1ull << 1);
	if (err)
		return check_error(ctx, err, "RPS on lo to CPU 1: %s", strerror(-err));
	p->skel = check_percpu__open_and_load();
	if (!p->skel)
		return check_error(ctx, -errno, "load check_percpu: %s", strerror(errno));
	err = bpf_prog_attach(bpf_program__fd(p->skel->progs.percpu_verdict),
			      bpf_map__fd(p->skel->maps.socks), BPF_SK_SKB_STREAM_VERDICT, 0);
	if (err)
		return check_error(ctx, -errno, "attach the verdict: %s", strerror(errno));
	return connect_pairs(ctx, p);
}

/* CPU 1: take each socket's lock in turn (recv), so data that arrives
 * meanwhile waits in the backlog and is verdicted by release_sock(). */
static void *reader(void *arg)
{
	struct priv *p = arg;
	char buf[4096];

	pin_thread_cpu(1);
	while (!atomic_load(&p->stop))
		for (int i = 0; i < 2; i++)
			(void)!recv(p->server[i], buf, sizeof(buf), MSG_DONTWAIT);
	return NULL;
}

/* CPU 0: small writes on both connections for ms. */
static uint64_t write_for(struct priv *p, uint64_t ms)
{
	uint64_t end = now_ns() + ms * 1000000ull, writes = 0;
	char chunk[CHUNK] = { 0 };

	pin_thread_cpu(0);
	while (now_ns() < end)
		for (int i = 0; i < 2; i++)
			writes += send(p->client[i], chunk, sizeof(chunk), MSG_DONTWAIT) > 0;
	return writes;
}

/* Sum of the per-CPU counts, or the locked count. */
static int64_t counted(struct priv *p, int mode)
{
	int ncpu = libbpf_num_possible_cpus();
	struct { uint64_t count, depth; } slots[ncpu > 0 ? ncpu : 1];
	uint32_t key = 0;
	struct { uint32_t lock; uint32_t pad; uint64_t count; } locked;
	int64_t sum = 0;

	if (mode == MODE_SPIN_LOCK)
		return bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.shared), &key, &locked) ? -1
			: (int64_t)locked.count;
	if (ncpu <= 0 || bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.percpu), &key, slots))
		return -1;
	for (int c = 0; c < ncpu; c++)
		sum += (int64_t)slots[c].count;
	return sum;
}

static int phase(struct check_ctx *ctx, const char *name, int mode)
{
	struct priv *p = ctx->priv;
	struct check_phase ph;
	pthread_t rd;
	uint64_t runs0 = p->skel->bss->runs, nested0 = p->skel->bss->nested, writes = 0, runs;
	int64_t count0 = counted(p, mode), lost;

	/* Sabotage: the atomic phase's update is the unprotected one. */
	p->skel->bss->mode = ctx->sabotage && mode == MODE_ATOMIC ? MODE_UNPROTECTED : mode;
	atomic_store(&p->stop, 0);
	if (pthread_create(&rd, NULL, reader, p))
		return check_error(ctx, -EAGAIN, "%s: reader thread", name);
	for (int r = 0; r < MAX_ROUNDS && p->skel->bss->nested - nested0 < MIN_NESTED; r++)
		writes += write_for(p, ROUND_MS);
	check_settle();
	atomic_store(&p->stop, 1);
	pthread_join(rd, NULL);
	runs = p->skel->bss->runs - runs0;
	lost = (int64_t)runs - (counted(p, p->skel->bss->mode) - count0);
	check_phase_begin(&ph, ctx, name, runs);
	check_phase_kv(&ph, "nested", p->skel->bss->nested > nested0 ? "seen" : "0");
	check_phase_kv(&ph, "lost", lost > 0 ? "seen" : lost == 0 ? "0" : "negative");
	check_counter(ctx, name, "writes", (int64_t)writes);
	check_counter(ctx, name, "verdict_runs", (int64_t)runs);
	check_counter(ctx, name, "nested_runs", (int64_t)(p->skel->bss->nested - nested0));
	check_counter(ctx, name, "lost_updates", lost);
	check_phase_end(&ph);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	return phase(ctx, "unprotected", MODE_UNPROTECTED) ?:
	       phase(ctx, "atomic", MODE_ATOMIC) ?: phase(ctx, "spin_lock", MODE_SPIN_LOCK);
}

DEFINE_CHECK(percpu_in_sk_skb,
	.name = "percpu-in-sk-skb",
	.summary = "per-CPU values are not atomic in sk_skb: process and softirq runs interleave",
	.features = CHECK_FEAT(FEAT_SK_SKB_VERDICT),
	.expected = "unprotected: nested=seen lost=seen; atomic: nested=seen lost=0; "
		    "spin_lock: nested=seen lost=0",
	.reference = "net/core/skmsg.c sk_psock_verdict_recv() runs the program with "
		     "bpf_prog_run_pin_on_cpu() (migrate_disable only); net/core/sock.c "
		     "__release_sock() processes the backlog with BH enabled",
	.runc_skip = CHECK_RUNC_HOST_TCP_APP,
	CHECK_STEPS(struct priv),
	.order = 135);
