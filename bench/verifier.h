/*
 * The verifier study: the parsers (bpf/parse_*.bpf.c, embedded in the
 * binary) compiled at run time with each Debian clang, -O level and -mcpu,
 * and with their size knobs (bpf/parse.h) grown, then loaded: does the
 * verifier accept them, why not, what did it cost (insns processed, states,
 * time), how big is the result and how fast does it parse real requests
 * (BPF_PROG_TEST_RUN).  Two findings come out of it: the largest knob value
 * each combination loads ("the verifier will not scale") and the
 * combinations a compiler flag alone turns from loading into rejected, or
 * back ("the clash between the compiler and the verifier").
 */
#ifndef OLAB_BENCH_VERIFIER_H
#define OLAB_BENCH_VERIFIER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "lib/stats.h"

/* ---- the axes ---- */

enum { VF_PARSERS = 3, VF_COMPILERS = 5, VF_OPTS = 4, VF_MCPUS = 4, VF_KNOBS = 10 };

struct vf_parser {
	const char *name;       /* "http1" */
	const char *file;       /* "parse_http1.bpf.c" */
	const char *prog;       /* "parse_http1": its SEC("xdp") program */
};

struct vf_knob {
	const char *macro;      /* "PARSE_MAX_HEADERS" */
	long def;               /* bpf/parse.h's default */
	long min;               /* the search's floor */
	bool flag;              /* 0/1: both values tried, no search */
	const char *used_as;    /* a parser that uses this macro of parse.h uses the knob */
};

extern const struct vf_parser vf_parsers[VF_PARSERS];
extern const struct vf_knob vf_knobs[VF_KNOBS];
extern const int vf_clang_versions[VF_COMPILERS];       /* 13 14 15 16 19 */
extern const char *const vf_opt_names[VF_OPTS + 1];     /* O1 O2 O3 Os */
extern const char *const vf_mcpu_names[VF_MCPUS + 1];   /* v1 v2 v3 v4 */
#define VF_DEFAULT_COMPILER 1   /* clang 14: Debian 12's clang */
#define VF_DEFAULT_OPT 1        /* -O2 */
#define VF_DEFAULT_MCPU 2       /* v3 */
/* The search's ceiling. */
#define VF_KNOB_CAP 4096

/* ---- one build and load ---- */

/* What to build: a parser with one knob set (knob -1: all defaults). */
struct vf_point {
	int parser, compiler, opt, mcpu;
	int knob;
	long value;
};

enum vf_stage {
	VF_SKIPPED,     /* no compiler or no source: reason says which */
	VF_COMPILE,     /* clang failed or timed out */
	VF_LOAD,        /* the kernel rejected it (reason: the verifier's last lines) */
	VF_LOADED,
};

struct vf_sample_run {
	const char *name;       /* "get-3-headers" */
	bool valid;             /* a well-formed request: XDP_PASS expected, else XDP_DROP */
	uint32_t retval;
	bool ok;                /* retval as expected */
	struct summary ns;      /* ns per request over trials (test_run duration) */
	char why[160];          /* test_run failed */
};

#define VF_MAX_SAMPLES 4

struct vf_outcome {
	enum vf_stage stage;
	char reason[640];       /* why not loaded: compiler stderr's or the verifier's last lines */
	bool timed_out;         /* the compile or the load went over its time limit */
	bool log_overflow;      /* log_level 4 failed with ENOSPC: verdict without a log */
	/* The verifier's statistics (log_level 4): also for rejected programs. */
	bool have_stats;
	uint64_t processed_insns, verify_usec;
	uint32_t max_states_per_insn, total_states, peak_states, mark_read;
	char stack_depth[32];
	double load_ms;                 /* wall time of the load */
	double compile_ms;
	/* Of a loaded program (bpf_prog_info). */
	uint32_t verified_insns, xlated_bytes, jited_bytes;
	uint32_t obj_insns;             /* the program's insns in the ELF */
	uint64_t obj_hash;              /* of the object file: identical code is loaded once */
	int n_samples;                  /* with ns per request (vf_try timed) */
	struct vf_sample_run samples[VF_MAX_SAMPLES];
};

struct vf_ctx;

struct vf_limits {
	uint64_t compile_ms, load_ms;   /* per compile, per load */
	uint32_t trials, repeat;        /* test_run: trials of repeat runs per sample */
};

/*
 * The study's context: a private temp dir (/tmp/olab<pid>-verifier-XXXXXX, removed
 * by vf_ctx_close and by the run's cleanups on error and signals) holding the
 * embedded sources, the compilers found in compiler_dir (NULL: /usr/bin) and a
 * cache of outcomes.  0 or -errno with why filled.
 */
int vf_ctx_open(struct vf_ctx **out, const char *compiler_dir, const struct vf_limits *lim,
		char *why, size_t len);
void vf_ctx_close(struct vf_ctx *ctx);
const char *vf_ctx_dir(const struct vf_ctx *ctx);
/* The compiler's path, or NULL with why ("clang-16 not installed: make deps-extra"). */
const char *vf_compiler(const struct vf_ctx *ctx, int compiler, const char **why);
/* Its `--version` first line ("" when absent). */
const char *vf_compiler_version(const struct vf_ctx *ctx, int compiler);
/* The parser's source is in this build; it uses the knob (names it). */
bool vf_parser_present(int parser);
bool vf_knob_applies(int parser, int knob);

/* Build, load and (timed) run real requests through the point; cached.
 * 0 (whatever the stage: see out->stage), or -errno when the study itself
 * could not run (no memory, a stop signal: -EINTR). */
int vf_try(struct vf_ctx *ctx, const struct vf_point *p, bool timed, struct vf_outcome *out);
/* Builds and loads done so far, and those served from the cache. */
void vf_counts(const struct vf_ctx *ctx, unsigned *builds, unsigned *loads, unsigned *cached);

/* ---- the knob search ---- */

struct vf_limit {
	long limit;             /* the largest value that loads; 0: none does */
	long next;              /* the next value tried above it, which does not; 0: capped */
	bool capped;            /* limit is VF_KNOB_CAP: it may go further */
	int steps;              /* loads the search made */
	char next_reason[640];  /* why next did not load */
	enum vf_stage next_stage;
	uint64_t next_processed;        /* the verifier's insns at next (when it says) */
};

/* The knob values searched: the coarse grid (--quick) or the fine one. */
size_t vf_grid(bool coarse, long min, long *out, size_t cap);
/*
 * Largest value of knob (others at their defaults) that loads for the
 * combination p (p->knob, p->value ignored), on the grid, starting from
 * hint (0: the default) and growing, then bisecting.  Assumes a knob's
 * value that loads means every smaller one loads.  0 or -errno.
 */
int vf_limit_search(struct vf_ctx *ctx, const struct vf_point *p, int knob, bool coarse,
		    long hint, struct vf_limit *out);

/* ---- the samples ---- */

/* Real requests for a parser, as Ethernet/IPv4/UDP frames (payload at 42). */
struct vf_sample {
	const char *name;
	bool valid;
	uint8_t frame[1514];
	size_t len;
};
/* The parser's samples: count (<= VF_MAX_SAMPLES) or -errno. */
int vf_samples(int parser, struct vf_sample *out, size_t cap);

/* ---- the study ---- */

struct vf_study_cfg {
	uint32_t parsers, compilers, opts, mcpus;       /* bit masks of the axes */
	bool quick;
	uint64_t budget_ms;     /* the searches stop after it (rows say so) */
	const char *compiler_dir;
	bool progress;          /* a line per combination on stderr */
};
/* The study's defaults: every axis (quick: clang 14, -O1 and -O2, v3). */
void vf_study_defaults(struct vf_study_cfg *c, bool quick);
/* {"config", "compilers", "matrix": [...], "limits": [...], "findings":
 * {"limit": [...], "clashes": [...]}}: 0 or -errno (why filled). */
int vf_study_run(const struct vf_study_cfg *c, json_t **doc, char *why, size_t len);

/* JSON of one outcome (the matrix's cell). */
json_t *vf_outcome_json(const struct vf_outcome *o);

#endif
