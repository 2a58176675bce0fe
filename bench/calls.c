/*
 * bench calls: what it costs to split an offload into K stages.  Each run
 * takes the request through K = 1..32 stages that do the same small work
 * (fold the stage's index into a u64 state), chained as one inlined
 * function, static bpf2bpf calls, global functions, bpf_loop callbacks,
 * tail calls with a constant or a dynamic index, or a global function
 * replaced by an freplace program; the state travels on the entry's stack,
 * in a per-CPU array slot, in XDP metadata (xdp) or in skb->cb (tc).  The
 * op is "<style>/<medium>".  BPF_PROG_TEST_RUN at xdp and tc, minus the
 * same K stages inlined with the state in registers (paired trials): the
 * hand-off's ns per stage (and per request, K stages), by the run's time
 * and timed inside the program.  Per stage is the run's difference / K:
 * what the medium costs once per request (metadata: bpf_xdp_adjust_meta to
 * make room and to give it back) is spread over the K stages; in both tail
 * chains the entry's hand-off to stage 0 is a constant slot, tail-dyn's
 * K-1 others are not.  Cells that cannot exist are not measured:
 * the stack does not survive a tail call, xdp_md has no cb, tc cannot make
 * metadata.  freplace needs what fentry needs (BPF_PROG_TYPE_EXT load and
 * attach); a kernel that refuses it gives the reason.  At sk-skb-verdict
 * (live TCP, bpf_stats of the entry program, which a tail chain's stages
 * run inside): the calls and bpf_loop with the state on the stack or
 * per-CPU, the tail chains with it per-CPU or in cb (the verifier refuses
 * cb writes at sk_skb: that cell carries its reason); K 1 and 32 unless
 * asked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bench/bench.h"
#include "bench/micro.h"
#include "lib/features.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "bpf/calls.h"
#include "calls.skel.h"
#include "calls_ext.skel.h"

#define REPEAT 30000
#define VARIANT_LEN 32

static const char *const calls_ops[] = {
	"inline/stack", "inline/percpu", "inline/meta", "inline/cb",
	"bpf2bpf/stack", "bpf2bpf/percpu", "bpf2bpf/meta", "bpf2bpf/cb",
	"global/stack", "global/percpu", "global/meta", "global/cb",
	"bpf-loop/stack", "bpf-loop/percpu", "bpf-loop/meta", "bpf-loop/cb",
	"tail-const/stack", "tail-const/percpu", "tail-const/meta", "tail-const/cb",
	"tail-dyn/stack", "tail-dyn/percpu", "tail-dyn/meta", "tail-dyn/cb",
	"freplace/stack", NULL
};

struct calls_cell {
	struct micro_cell m;
	struct calls_ext *ext;
	struct bpf_link *ext_link;
	json_t *stage_facts;        /* a tail stage's or the extension's program */
};

static enum calls_style style_of(const struct bench_cell *c)
{
	return (enum calls_style)(c->op / CALLS_MEDIUM__COUNT);
}

static enum calls_medium medium_of(const struct bench_cell *c)
{
	return (enum calls_medium)(c->op % CALLS_MEDIUM__COUNT);
}

static bool tail_style(enum calls_style s)
{
	return s == CALLS_TAIL_CONST || s == CALLS_TAIL_DYN;
}

/* sk-skb-verdict: no meta, no freplace; stack or per-CPU for calls, per-CPU
 * or cb for tail chains; K 1 and 32 unless asked. */
static bool calls_applies_live(const struct bench_cell *c)
{
	enum calls_medium m = medium_of(c);
	bool tail = tail_style(style_of(c));

	if (strcmp(c->hook->name, "sk-skb-verdict") || style_of(c) == CALLS_FREPLACE)
		return false;
	if (!c->given[AXIS_STAGES] && c->stages != 1 && c->stages != CALLS_STAGES_MAX)
		return false;
	return m == CALLS_PERCPU || m == (tail ? CALLS_CB : CALLS_STACK);
}

/* xdp and tc; metadata at xdp, cb at tc; no stack across a tail call. */
static bool calls_applies(const struct bench_cell *c)
{
	bool xdp = !strcmp(c->hook->name, "xdp");
	enum calls_medium m = medium_of(c);

	if (micro_live(c))
		return calls_applies_live(c);
	if (!xdp && strcmp(c->hook->name, "tc"))
		return false;
	if ((m == CALLS_META && !xdp) || (m == CALLS_CB && xdp))
		return false;
	return !(tail_style(style_of(c)) && m == CALLS_STACK);
}

/* "<op> K=<stages>": a name that lives as long as the run. */
static const char *variant_name(const struct bench_cell *c)
{
	static char names[ARRAY_SIZE(calls_ops)][CALLS_STAGES_MAX + 1][VARIANT_LEN];
	char *v = names[c->op][c->stages <= CALLS_STAGES_MAX ? c->stages : 0];

	if (!*v)
		snprintf(v, VARIANT_LEN, "%s K=%u", calls_ops[c->op], c->stages);
	return v;
}

static void calls_plan(struct bench_cell *c)
{
	if (!c->trials)
		c->trials = c->quick ? 5 : 7;
	micro_plan(c, variant_name(c));
}

static void calls_configure(void *skel, const struct bench_cell *c, bool empty)
{
	struct calls *k = skel;

	k->rodata->style = empty ? CALLS_INLINE : style_of(c);
	k->rodata->medium = empty ? CALLS_STACK : medium_of(c);
	k->rodata->stages = c->stages;
}

/* A tail chain's stages: tail_<family>_0..K-1, or tail_dyn_<family>. */
static struct bpf_program *chain_prog(void *skel, const struct bench_cell *c, unsigned j)
{
	char name[32];

	if (style_of(c) == CALLS_TAIL_DYN)
		snprintf(name, sizeof(name), "tail_dyn_%s", c->hook->family);
	else
		snprintf(name, sizeof(name), "tail_%s_%u", c->hook->family, j);
	return bpf_object__find_program_by_name(((struct calls *)skel)->obj, name);
}

static void calls_pick(void *skel, const struct bench_cell *c, bool empty)
{
	struct bpf_program *p;

	if (empty || !tail_style(style_of(c)))
		return;
	for (unsigned j = 0; j < c->stages; j++)
		if ((p = chain_prog(skel, c, j)))
			bpf_program__set_autoload(p, true);
}
MICRO_SKEL_OPS(calls, calls_configure, calls_pick);

/* Slot j of the program array: stage j (the same program for every slot, dynamic). */
static int fill_chain(struct bench_cell *c, struct calls_cell *cc)
{
	struct calls *k = cc->m.arm[0].skel;
	int map_fd = bpf_map__fd(k->maps.jmp);

	for (unsigned j = 0; j < c->stages; j++) {
		struct bpf_program *p = chain_prog(k, c, j);
		int fd = p ? bpf_program__fd(p) : -ENOENT;

		if (fd < 0)
			return fd;
		if (bpf_map_update_elem(map_fd, &j, &fd, BPF_ANY))
			return -errno;
		if (!j)
			cc->stage_facts = micro_prog_facts(fd);
	}
	return 0;
}

static void refuse_ext(struct bench_cell *c, int err, const char *where, char *log)
{
	char why[128], reason[FEATURE_REASON_LEN + 32];

	micro_log_done(log, err, why, sizeof(why));
	if (!strncmp(why, "verifier: ", 10))
		snprintf(reason, sizeof(reason), "%s (%s)", why, where);
	else
		feature_format_reason(reason, sizeof(reason), err, where);
	snprintf(c->refused, sizeof(c->refused), "freplace refused by this kernel: %.200s", reason);
}

/* The extension in place of MAIN's global stage function; the kernel's
 * refusal in c->refused. */
static int attach_ext(struct bench_cell *c, struct calls_cell *cc)
{
	int target = bpf_program__fd(cc->m.arm[0].hp.prog), err;
	struct bpf_program *ext = NULL, *p;
	char fn[32], name[32], *log;

	snprintf(fn, sizeof(fn), "stage_global_%s", c->hook->family);
	snprintf(name, sizeof(name), "stage_ext_%s", c->hook->family);
	cc->ext = calls_ext__open();
	if (!cc->ext)
		return -errno;
	bpf_object__for_each_program(p, cc->ext->obj) {
		bool mine = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, mine);
		if (mine)
			ext = p;
	}
	if (!ext)
		return -ENOENT;
	err = bpf_program__set_attach_target(ext, target, fn);
	if (err)
		return err;
	log = micro_log_attach(ext);
	err = calls_ext__load(cc->ext);
	if (err) {
		refuse_ext(c, err, "load", log);
		return 0;
	}
	micro_log_done(log, 0, NULL, 0);
	cc->ext_link = bpf_program__attach_freplace(ext, target, fn);
	if (!cc->ext_link) {
		refuse_ext(c, -errno, "attach", NULL);
		return 0;
	}
	cc->stage_facts = micro_prog_facts(bpf_program__fd(ext));
	return 0;
}

static int calls_setup(struct bench_cell *c)
{
	struct calls_cell *cc = c->priv;
	int err = micro_setup(c, &cc->m, &calls_micro_ops, 64);

	if (err || c->refused[0])
		return err;
	if (tail_style(style_of(c)))
		return fill_chain(c, cc);
	if (style_of(c) == CALLS_FREPLACE)
		return attach_ext(c, cc);
	return 0;
}

static void calls_teardown(struct bench_cell *c)
{
	struct calls_cell *cc = c->priv;

	bpf_link__destroy(cc->ext_link);
	calls_ext__destroy(cc->ext);
	micro_teardown(&cc->m);
	json_decref(cc->stage_facts);
}

static int calls_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct calls_cell *cc = c->priv;
	struct calls *k = micro_skel(&cc->m, t);
	uint64_t done0 = k->bss->stages_done, failures0 = k->bss->failures;
	uint64_t runs0 = k->bss->loop_stats.runs;
	int err = micro_trial(c, &cc->m, t, REPEAT, c->stages);

	if (err)
		return err;
	json_object_set_new(t->detail, "stages_run",
			    json_integer((json_int_t)(k->bss->stages_done - done0)));
	/* Whole runs (a tail chain's: its last stage reached) over the trial, not its window. */
	json_object_set_new(t->detail, "runs_trial",
			    json_integer((json_int_t)(k->bss->loop_stats.runs - runs0)));
	json_object_set_new(t->detail, "failures",
			    json_integer((json_int_t)(k->bss->failures - failures0)));
	json_object_set_new(t->detail, "last_seed", json_integer((json_int_t)k->bss->last_seed));
	/* The final state, as the bits of a u64. */
	json_object_set_new(t->detail, "last_acc", json_integer((json_int_t)k->bss->last_acc));
	return 0;
}

/* {median, ci95} of x[0..n) * scale; null without trials. */
static json_t *scaled_summary(const double *x, size_t n, double scale)
{
	double *y = calloc(n ? n : 1, sizeof(*y));
	struct summary s;
	json_t *o = json_null();

	for (size_t i = 0; y && i < n; i++)
		y[i] = x[i] * scale;
	if (y && !summarize(y, n, &s)) {
		json_decref(o);
		o = json_pack("{s:f, s:[f,f]}", "median", s.median, "ci95", s.ci_lo, s.ci_hi);
	}
	free(y);
	return o;
}

static int calls_report(struct bench_cell *c, const struct bench_series *s)
{
	struct calls_cell *cc = c->priv;
	const char *variant = variant_name(c);
	size_t n = s->n[ARM_MAIN];
	char in_prog[VARIANT_LEN + 16];
	json_t *extra;

	extra = json_pack("{s:O, s:s, s:i, s:o, s:o, s:O}", "program", cc->m.facts,
			  "methods_agree", micro_agreement(s->cmp[0], s->cmp[1], n), "repeat",
			  REPEAT, "ns_per_request", scaled_summary(s->cmp[0], n, c->stages),
			  "ref_ns_per_run", scaled_summary(s->v[ARM_REF][0], s->n[ARM_REF],
							   c->stages), "per_trial", s->detail[ARM_MAIN]);
	if (cc->stage_facts)
		json_object_set(extra, style_of(c) == CALLS_FREPLACE ? "extension_program"
				: "stage_program", cc->stage_facts);
	snprintf(in_prog, sizeof(in_prog), "%s in-program", variant);
	bench_figure(c, variant, "ns_per_stage", "ns", micro_live(c)
		     ? "bpf_stats run_time_ns / run_cnt of the entry program / K, minus the same "
		       "K stages inlined with the state in registers (paired trials)"
		     : "BPF_PROG_TEST_RUN duration per run / K, minus the same K stages inlined "
		       "with the state in registers (paired trials)", s->cmp[0], n, extra);
	bench_figure(c, in_prog, "ns_per_stage", "ns", "bpf_ktime_get_ns from the entry to the end "
		     "of the last stage / K, minus the same K stages inlined (paired trials)",
		     s->cmp[1], n, json_pack("{s:o}", "ns_per_request",
					     scaled_summary(s->cmp[1], n, c->stages)));
	return 0;
}

static const struct bench bench_calls = {
	.name = "calls",
	.summary = "ns per stage to chain K stages (calls, tail calls, bpf_loop) and pass their state",
	.order = 180,
	.ops = calls_ops,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc,sk-skb-verdict", "xdp,tc" },
		[AXIS_STAGES] = { "1,2,4,8,16,32", "1,32" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "stages", [ARM_REF] = "inlined" },
	BENCH_METHODS(calls, struct calls_cell),
};
DEFINE_BENCH(bench_calls);
