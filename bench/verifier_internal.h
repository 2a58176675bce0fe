/* The verifier study's own parts: its context, builds and loads. */
#ifndef OLAB_BENCH_VERIFIER_INTERNAL_H
#define OLAB_BENCH_VERIFIER_INTERNAL_H
#include <signal.h>
#include <time.h>
#include "bench/verifier.h"

struct vf_compiler {
	char path[256];         /* "" when absent */
	char why[96];           /* why absent */
	char version[160];
};

/* A point's outcome, kept: found again by point, or by object (two points
 * that compile to the same bytes load the same way). */
struct vf_cache_entry {
	struct vf_point key;    /* normalised: a knob at its default is knob -1 */
	struct vf_outcome out;
	bool timed;
};

struct vf_ctx {
	char dir[64];
	int cleanup;
	struct vf_limits lim;
	struct vf_compiler cc[VF_COMPILERS];
	struct vf_cache_entry *cache;
	size_t n_cache, cap_cache;
	unsigned n_builds, n_loads, n_cached;
	/* The per-load time limit: SIGALRM to this thread (no SA_RESTART). */
	timer_t timer;
	bool timer_ok;
	struct sigaction old_alrm;
};

void vf_compiler_probe(struct vf_ctx *ctx, int compiler);
/* Compile p into obj: 0 (compiled, or o->stage VF_COMPILE with the reason),
 * or -EINTR. */
int vf_compile(struct vf_ctx *ctx, const struct vf_point *p, const char *obj,
	       struct vf_outcome *o);

int vf_timer_init(struct vf_ctx *ctx);
void vf_timer_fini(struct vf_ctx *ctx);
/* Load obj's program prog into the kernel and fill o (stage, reason,
 * statistics, sizes); timed: run the parser's samples through it.  0 or
 * -errno when the study cannot go on. */
int vf_load(struct vf_ctx *ctx, const char *obj, int parser, bool timed, struct vf_outcome *o);

/* ns per request of the parser's samples through the loaded program fd
 * (and whether each got the verdict it should): 0 or -EINTR. */
int vf_time_samples(struct vf_ctx *ctx, int fd, int parser, struct vf_outcome *o);

/* The statistics of a verifier log into o; the last lines that are not
 * statistics into reason (at most lines of them, joined by " | "). */
void vf_log_parse(const char *log, struct vf_outcome *o, char *reason, size_t len, int lines);

/* ---- the study (bench/verifier.c, bench/verifier_findings.c) ---- */

struct limit_rec {
	bool listed;            /* a row of the limits: searched, or why not */
	bool searched, flag;
	bool flag_loads[2];     /* a 0/1 knob: which values load */
	struct vf_limit l;
	char skip[256];
};

struct study {
	const struct vf_study_cfg *cfg;
	struct vf_ctx *ctx;
	uint64_t t0, deadline;
	int cut;                        /* searches the budget left out */
	struct vf_outcome cell[VF_PARSERS][VF_COMPILERS][VF_OPTS][VF_MCPUS];
	bool have[VF_PARSERS][VF_COMPILERS][VF_OPTS][VF_MCPUS];
	struct limit_rec lim[VF_PARSERS][VF_KNOBS][VF_COMPILERS][VF_OPTS][VF_MCPUS];
	json_t *matrix, *limits, *clashes;
};

extern const char *const vf_stage_names[];
bool vf_in(uint32_t mask, int i);
/* {parser, compiler, opt, mcpu} */
json_t *vf_combo_json(const struct vf_point *p);
/* Where a flag alone decides: in the matrix, and at the searches' limits
 * (checked by loading again).  Appends to s->clashes; 0 or -errno. */
int vf_find_clashes(struct study *s);

#endif
