/*
 * The bench framework, in the shape of the kernel's selftests/bpf bench.c.
 * A bench is one file bench/<name>.c: it declares its axes (hook, layout,
 * protocol, size, cpu-idle, runtime, ...) and measures ONE trial of ONE
 * cell; the framework (bench/framework.c) enumerates the cells, and for each
 * runs setup, warm-up, the trials (paired A/B in the order the bench asks,
 * extended until a CI target when asked), the regime split, then the
 * bench's report, which turns the collected arrays into figures
 * (bench_figure), and teardown.  `--<axis> LIST` selects values on any axis.
 */
#ifndef OLAB_BENCH_H
#define OLAB_BENCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "bench/testbed.h"
#include "containers/app_runtime.h"
#include "lib/cpuidle.h"
#include "lib/hooks.h"
#include "lib/registry.h"

/* The axes a cell is a point of.  A new axis: one entry here, one in
 * bench/axes.c and a field in struct bench_cell. */
/* Kernel -> user channels (bench share); names in bench_channel_names. */
enum bench_channel {
	CHAN_PACKET,        /* the summary in the (shrunk) packet, read from a socket */
	CHAN_ARRAY,         /* ARRAY map slots polled by syscall */
	CHAN_HASH,          /* HASH map entries polled by syscall */
	CHAN_MMAP_RING,     /* BPF_F_MMAPABLE array used as a ring, busy-polled */
	CHAN_RINGBUF_EPOLL, /* BPF_MAP_TYPE_RINGBUF, epoll */
	CHAN_RINGBUF_POLL,  /* BPF_MAP_TYPE_RINGBUF, busy poll */
	CHAN_AF_XDP,        /* AF_XDP socket (xdp only) */
	CHAN_USER_RINGBUF,  /* user -> kernel: BPF_MAP_TYPE_USER_RINGBUF drained per packet */
	CHAN__COUNT
};
extern const char *const bench_channel_names[];

/* Map access patterns (bench maps); names in bench_access_names. */
enum bench_access { ACCESS_UNIFORM, ACCESS_ZIPF_05, ACCESS_ZIPF_1, ACCESS_ZIPF_15, ACCESS__COUNT };
extern const char *const bench_access_names[];
extern const char *const bench_prealloc_names[];

enum bench_axis {
	AXIS_HOOK,
	AXIS_LAYOUT,
	AXIS_PROTO,
	AXIS_SIZE,
	AXIS_CPU_IDLE,
	AXIS_RUNTIME,
	AXIS_PCT,       /* the pattern benches: summary p %, fast-path fraction ω % */
	AXIS_BATCH,     /* requests per batch */
	AXIS_CHANNEL,   /* kernel -> user channel */
	AXIS_COST,      /* per-request work of an offload, bpf_loop iterations */
	AXIS_OP,        /* the bench's own operations (struct bench ops) */
	AXIS_KEY,       /* map key bytes (maps) */
	AXIS_ACCESS,    /* map access pattern: uniform, Zipf s (maps) */
	AXIS_PREALLOC,  /* map memory: preallocated or BPF_F_NO_PREALLOC (maps) */
	AXIS_STAGES,    /* stages a request goes through (calls) */
	AXIS__COUNT
};

/* A bench's values for one axis: comma lists; NULL full: not an axis of the
 * bench (the axis's own default, "--<axis>" is ignored).  quick: --quick's
 * subset (NULL: full). */
struct bench_axis_values {
	const char *full, *quick;
};

/*
 * Arms of a trial.  MAIN is what is measured (the program); REF its
 * reference (no program), paired with MAIN in every trial; POST1 and POST2
 * are other methods measured trials times after the paired trials.
 */
enum bench_arm { ARM_MAIN, ARM_REF, ARM_POST1, ARM_POST2, ARM__COUNT };
#define ARM_BIT(a) (1u << (a))

enum bench_pairing {
	PAIR_REF_FIRST,  /* ref, main in every trial */
	PAIR_ALTERNATE,  /* ref, main; then main, ref: linear drift cancels in the median */
	PAIR_SANDWICH,   /* ref, main, ref; then main, ref, main: it cancels within a trial */
};

enum bench_compare {
	CMP_NONE,
	CMP_DELTA,       /* main - ref */
	CMP_COST_PCT,    /* (1 - main / ref) * 100 */
};

#define BENCH_MAX_METRICS 4
#define BENCH_MAX_TRIALS  1200

struct bench_run;

/* One point of the axes, and how it is measured. */
struct bench_cell {
	const struct bench *bench;
	const struct hook_desc *hook;
	enum bench_layout layout;
	bool tcp;                   /* the traffic: the proto axis, else the hook's */
	uint64_t size;              /* frame bytes (UDP) or request bytes (TCP) */
	enum cpuidle_mode cpu_idle;
	enum app_runtime runtime;
	unsigned pct, batch, cost;  /* the pattern axes (bench_axis_values) */
	unsigned stages;            /* the calls bench's K */
	unsigned op;                /* index into bench->ops */
	enum bench_channel channel;
	unsigned key;               /* map key bytes */
	enum bench_access access;
	bool no_prealloc;           /* BPF_F_NO_PREALLOC */
	bool given[AXIS__COUNT];    /* the user chose this axis's values */
	/* Method: the run's, adjusted by the bench's plan(). */
	uint64_t trials, duration_ms, warmup_ms;
	bool trials_default, quick;
	unsigned arms;              /* ARM_BIT()s; default ARM_MAIN */
	enum bench_pairing pairing;
	enum bench_compare compare;
	double ci_target;           /* > 0: extend the trials until cmp[0] has this CI half-width */
	bool regime_split;          /* split cmp[0] by the ref's level (stats.h regime_split) */
	const char *variant;        /* the figures' variant; NULL */
	/* Set by setup when the kernel refuses the cell (a helper, a map type):
	 * no trials; the run records this reason as the cell's figure. */
	char refused[256];
	void *priv;                 /* the bench's state, priv_size bytes, zeroed */
	struct bench_run *run;      /* the framework's; NULL when measured alone (tests) */
	int index, count;           /* progress */
};

struct bench_trial {
	enum bench_arm arm;
	bool warmup;
	size_t index;               /* trial number (warm-up: 0) */
	uint64_t ms;                /* how long to measure */
	double v[BENCH_MAX_METRICS]; /* the bench's metrics, in its order */
	json_t *detail;             /* optional; kept in bench_series.detail[arm] */
	char why[128];              /* -EOPNOTSUPP: why the method is not available */
};

/* What the trials gave, for the bench's report. */
struct bench_series {
	size_t n[ARM__COUNT];
	double *v[ARM__COUNT][BENCH_MAX_METRICS];  /* per trial; sandwich: mean of the two outer */
	json_t *detail[ARM__COUNT];                /* arrays of the trials' details */
	char unsupported[ARM__COUNT][128];         /* a POST arm the kernel refused, why */
	double *cmp[BENCH_MAX_METRICS];            /* paired: per trial compare of each metric */
	bool *main_first;                          /* paired: per trial order */
	double (*seq)[3];                          /* sandwich: metric 0 in the order measured */
	size_t planned;                            /* trials planned (before any extension) */
	struct {
		bool two_states;
		double threshold;                     /* ref metric 0 <= threshold: quiet */
		double *quiet, *slow;                 /* cmp[0] by state */
		size_t nquiet, nslow;
		double quiet_ref, slow_ref;           /* median ref metric 0 of each */
		bool target_met;
	} regime;
};

struct bench {
	const char *name;
	const char *summary;
	int order;
	bool latency;               /* cpu-idle poll by default (lib/cpuidle.h) */
	struct bench_axis_values axes[AXIS__COUNT];
	uint64_t size_min, size_max; /* --size's bounds; 0: 64 and 1500 (one frame) */
	const char *const *ops;     /* the op axis's names, NULL-terminated; default: all */
	const char *arm_names[ARM__COUNT]; /* progress and pair records: "program", "no program" */
	size_t priv_size;
	/* Does the cell make sense?  NULL: every cell. */
	bool (*applies)(const struct bench_cell *c);
	/* Adjust the cell's method (arms, pairing, trials, variant); NULL: one arm. */
	void (*plan)(struct bench_cell *c);
	int (*setup)(struct bench_cell *c);
	/* One trial of t->arm for t->ms: fill t->v (and t->detail).  0 or -errno;
	 * -EOPNOTSUPP from a POST arm: that method is not available (reason in
	 * the series). */
	int (*trial)(struct bench_cell *c, struct bench_trial *t);
	/* The figures, from the arrays: bench_figure().  0 or -errno. */
	int (*report)(struct bench_cell *c, const struct bench_series *s);
	void (*teardown)(struct bench_cell *c);
};

#define DEFINE_BENCH(sym) REGISTRY_ADD(olab_benches, sym)
/* The methods of a bench named p_applies, p_plan, p_setup, p_trial,
 * p_report, p_teardown, with its cell state of type cell_type. */
#define BENCH_METHODS(p, cell_type) \
	.priv_size = sizeof(cell_type), .applies = p##_applies, .plan = p##_plan, \
	.setup = p##_setup, .trial = p##_trial, .report = p##_report, .teardown = p##_teardown

size_t bench_count(void);
const struct bench *bench_get(size_t i);     /* sorted by order */
const struct bench *bench_by_name(const char *name);

/* Add a figure of the cell: bench, hook, runtime, size, trial_ms, cpu_idle. */
json_t *bench_figure(struct bench_cell *c, const char *variant, const char *metric,
		     const char *unit, const char *method, const double *trials, size_t n,
		     json_t *extra);
/* Live progress on a TTY (stderr), nothing otherwise. */
void bench_progress(const struct bench_cell *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The app of the cell in its runtime (sockets in hook's map, if any). */
int bench_cell_app(const struct bench_cell *c, const struct topo *t, enum app_kind kind, int cpu,
		   struct hook_inst *hook, struct rt_app **out);

/*
 * One cell measured without a run (tests): setup, warm-up, trials, then
 * the series is the caller's to read; bench_cell_finish() tears down.
 */
int bench_cell_measure(struct bench_cell *c, struct bench_series *s);
void bench_cell_finish(struct bench_cell *c, struct bench_series *s);
/* A cell of b for h with the framework's defaults for one --quick trial set. */
void bench_cell_init(struct bench_cell *c, const struct bench *b, const struct hook_desc *h);

#endif
