/*
 * Microbenchmarks of the eBPF runtime (bench clock, ...): a program run by
 * BPF_PROG_TEST_RUN with a repeat count on a standard frame, no namespace
 * needed, and the facts every such figure records (JIT, sizes, compiler).
 */
#ifndef OLAB_BENCH_MICRO_H
#define OLAB_BENCH_MICRO_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <linux/types.h>
#include "bench/bench.h"
#include "bpf/micro.h"
#include <bpf/libbpf.h>

#define MICRO_FRAME_MAX 1514

/* A UDP/IPv4 frame of len bytes (64..1514) to GEN_DPORT, 198.18.0.1 ->
 * 198.18.0.2, checksums valid.  0 or -EINVAL. */
int micro_frame(uint8_t *buf, size_t len);

struct micro_run {
	double ns_per_run;   /* the kernel's test_run duration (mean over repeat) */
	uint32_t retval;
};
/* Run prog_fd repeat times on frame.  0 or -errno (why filled). */
int micro_test_run(int prog_fd, const void *frame, size_t len, uint32_t repeat,
		   struct micro_run *out, char *why, size_t why_len);

/* {xlated_bytes, jited_bytes, verified_insns, jit: {enable, harden, kallsyms},
 * compiler, bpf_cflags} of a loaded program. */
json_t *micro_prog_facts(int prog_fd);

/* A program's counters at one moment: its own (bpf/micro.h) and bpf_stats. */
struct micro_snap {
	uint64_t in_prog_ns, runs, run_time_ns, run_cnt;
};
void micro_snap(const volatile struct micro_loop *l, int prog_fd, struct micro_snap *s);

/*
 * One window of a timed program: *run_ns gets ns per run by the run-level
 * method, a and b the counters around it.
 *  - test_run (xdp, tc): repeat runs on frame; the kernel's duration;
 *  - live (stream hooks, no test_run): the program hp at c's hook on t's
 *    DUT, TCP to a sink app for ms; bpf_stats run_time_ns / run_cnt.
 */
int micro_window_test_run(int prog_fd, const volatile struct micro_loop *l, const void *frame,
			  size_t len, uint32_t repeat, struct micro_snap *a, struct micro_snap *b,
			  double *run_ns, char *why, size_t why_len);
int micro_window_live(const struct bench_cell *c, const struct topo *t,
		      const struct hook_prog *hp, const volatile struct micro_loop *l, uint64_t ms,
		      struct micro_snap *a, struct micro_snap *b, double *run_ns);
/* In-program ns per run between two snaps (0 without runs). */
double micro_in_prog_ns(const struct micro_snap *a, const struct micro_snap *b);

/*
 * The verifier's reason when a load fails: micro_log_attach() gives prog a
 * log buffer (NULL on ENOMEM: no log); after the load, micro_log_done()
 * puts in why the log's last line that is not the statistics line
 * ("verifier: ..."), or strerror(-err), when err; frees the buffer.
 */
char *micro_log_attach(struct bpf_program *prog);
void micro_log_done(char *log, int err, char *why, size_t len);

/*
 * A runtime bench's cell: the program doing the operation (arm[0]) and the
 * same program without it (arm[1], subtracted), both loaded from the bench's
 * skeleton through ops.  micro_setup() records the verifier's refusal in
 * c->refused; micro_trial() runs MAIN on arm[0] and REF on arm[1], t->v[0]
 * the run-level ns per run (test_run; bpf_stats at stream hooks, live TCP)
 * and t->v[1] the in-program ns per run, each divided by `per_run`.
 */
struct micro_skel_ops {
	const char *prefix;                     /* programs "<prefix>_xdp", ... */
	void *(*open)(void);
	int (*load)(void *skel);
	void (*destroy)(void *skel);
	struct bpf_object *(*obj)(void *skel);
	volatile struct micro_loop *(*loop)(void *skel);
	int (*sockmap_fd)(void *skel);          /* stream hooks */
	/* Rodata for the cell (empty: the arm without the operation). */
	void (*configure)(void *skel, const struct bench_cell *c, bool empty);
	/* Optional, after hook_pick_progs(): load the other programs the cell
	 * needs too (tail-call targets). */
	void (*pick)(void *skel, const struct bench_cell *c, bool empty);
};

struct micro_cell {
	const struct micro_skel_ops *ops;
	struct { void *skel; struct hook_prog hp; } arm[2];
	struct topo t;
	bool topo_up;
	uint8_t frame[MICRO_FRAME_MAX];
	size_t frame_len;
	json_t *facts;
};

/* ops for skeleton `name` (its struct micro_loop loop_stats in .bss, its
 * micro_sockmap) with configure(skel, cell, empty) [and pick]. */
#define MICRO_SKEL_OPS(name, configure_fn, ...)				\
static void *name##_open_v(void) { return name##__open(); }			\
static int name##_load_v(void *s) { return name##__load(s); }			\
static void name##_destroy_v(void *s) { name##__destroy(s); }			\
static struct bpf_object *name##_obj_v(void *s) { return ((struct name *)s)->obj; } \
static volatile struct micro_loop *name##_loop_v(void *s)			\
{ return &((struct name *)s)->bss->loop_stats; }				\
static int name##_sockmap_v(void *s)						\
{ return bpf_map__fd(((struct name *)s)->maps.micro_sockmap); }		\
static const struct micro_skel_ops name##_micro_ops = {				\
	#name, name##_open_v, name##_load_v, name##_destroy_v, name##_obj_v,	\
	name##_loop_v, name##_sockmap_v, configure_fn, __VA_ARGS__		\
}

static inline bool micro_live(const struct bench_cell *c)
{
	return c->hook->kind == HOOK_STREAM;
}

int micro_setup(struct bench_cell *c, struct micro_cell *m, const struct micro_skel_ops *ops,
		size_t frame_len);
void micro_teardown(struct micro_cell *m);
void *micro_skel(const struct micro_cell *m, const struct bench_trial *t);
int micro_trial(struct bench_cell *c, struct micro_cell *m, struct bench_trial *t,
		uint32_t repeat, double per_run);
/* Paired MAIN/REF with the op as variant; short live trials with --quick. */
void micro_plan(struct bench_cell *c, const char *variant);

/* "agree (CIs overlap)" or "differ": two methods' per-trial figures. */
const char *micro_agreement(const double *a, const double *b, size_t n);

#endif
