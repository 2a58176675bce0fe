// SPDX-License-Identifier: GPL-2.0
/*
 * bench calls: each run takes the request through `stages` stages, each
 * folding its index into the state (calls_mix), the stages chained by
 * `style` and the state kept in `medium` between them (bpf/calls.h).  The
 * run ends by publishing the final state (last_acc, stages_done) and its
 * time (bpf/micro.h): inside the entry program, or, for a tail-call chain
 * that never returns, in the last stage from the start kept in a per-CPU
 * slot.  CALLS_INLINE with CALLS_STACK is the reference arm: the same work
 * in registers.  Programs per family f (xdp, tc, sk: sk_skb stream verdict):
 * calls_f (the entry), tail_f_N (stage N of a constant-index chain) and
 * tail_dyn_f (every stage of a dynamic-index chain), all from one macro.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "calls.h"
#include "micro.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define STAGE_FROM_STATE ((__u32)-1)   /* tail-dyn: the state's count is the stage */

/* A tail chain's family: its verdicts (sk_skb: a failed chain passes the data on, counted). */
enum { FAM_XDP, FAM_TC, FAM_SK };
#define FAM_PASS(f) ((f) == FAM_XDP ? XDP_PASS : (f) == FAM_SK ? SK_PASS : TC_ACT_OK)
#define FAM_FAIL(f) ((f) == FAM_XDP ? XDP_ABORTED : (f) == FAM_SK ? SK_PASS : TC_ACT_SHOT)

const volatile __u32 style = CALLS_INLINE;
const volatile __u32 medium = CALLS_STACK;
const volatile __u32 stages = 1;

struct micro_loop loop_stats;
__u64 stages_done;   /* every run's final count, summed */
__u64 last_acc, last_seed;
__u64 failures;      /* a medium out of reach, a tail call that fell through */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct calls_state);
} scratch SEC(".maps");

/* A tail-call chain's start time: the last stage closes the timing. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} chain_t0 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, CALLS_STAGES_MAX);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

MICRO_SOCKMAP;

/* The state in its medium (cb aside): the entry's stack, the per-CPU slot, the metadata. */
static __always_inline struct calls_state *state_of(void *ctx, struct calls_state *stk, bool xdp)
{
	__u32 key = 0;

	if (medium == CALLS_PERCPU)
		return bpf_map_lookup_elem(&scratch, &key);
	if (medium == CALLS_META && xdp) {
		struct xdp_md *x = ctx;
		void *meta = (void *)(long)x->data_meta, *data = (void *)(long)x->data;

		if (meta + sizeof(struct calls_state) > data)
			return NULL;
		return meta;
	}
	return medium == CALLS_STACK ? stk : NULL;
}

/* skb->cb word i, through a ctx pointer made opaque first: clang cannot
 * keep &skb->cb in a register (the verifier refuses a moved ctx pointer)
 * nor merge the access with another medium's. */
static __always_inline __u32 cb_get(struct __sk_buff *skb, int i)
{
	__u32 v;

	barrier_var(skb);
	v = *(__u32 *)((void *)skb + __builtin_offsetof(struct __sk_buff, cb) + 4 * i);
	barrier_var(v);
	return v;
}

static __always_inline void cb_set(struct __sk_buff *skb, int i, __u32 v)
{
	barrier_var(skb);
	*(__u32 *)((void *)skb + __builtin_offsetof(struct __sk_buff, cb) + 4 * i) = v;
}

/* One stage: fold stage i (STAGE_FROM_STATE: the state's count) into the
 * state.  The new count, or -1 when the state is out of reach. */
static __always_inline long stage(void *ctx, struct calls_state *stk, __u32 i, bool xdp)
{
	struct calls_state *s;

	if (medium == CALLS_CB && !xdp) {
		struct __sk_buff *skb = ctx;
		__u32 n = cb_get(skb, 2);
		__u64 acc = cb_get(skb, 0) | (__u64)cb_get(skb, 1) << 32;

		acc = calls_mix(acc, i == STAGE_FROM_STATE ? n : i);
		cb_set(skb, 0, (__u32)acc);
		cb_set(skb, 1, acc >> 32);
		cb_set(skb, 2, ++n);
		return n;
	}
	s = state_of(ctx, stk, xdp);
	if (!s)
		return -1;
	s->acc = calls_mix(s->acc, i == STAGE_FROM_STATE ? s->count : i);
	return ++s->count;
}

/* The request's seed into the medium (XDP metadata: made first).  0 or -1. */
static __always_inline int begin(void *ctx, struct calls_state *stk, __u64 seed, bool xdp)
{
	struct calls_state *s;

	if (medium == CALLS_CB && !xdp) {
		struct __sk_buff *skb = ctx;

		cb_set(skb, 0, (__u32)seed);
		cb_set(skb, 1, seed >> 32);
		cb_set(skb, 2, 0);
		return 0;
	}
	if (medium == CALLS_META && xdp && bpf_xdp_adjust_meta(ctx, -(int)sizeof(*s)))
		return -1;
	s = state_of(ctx, stk, xdp);
	if (!s)
		return -1;
	s->acc = seed;
	s->count = 0;
	return 0;
}

static __always_inline void publish(__u64 acc, __u32 count)
{
	last_acc = acc;
	__sync_fetch_and_add(&stages_done, count);
}

/* Publish the final state; give the metadata's room back (test_run runs
 * the same frame again). */
static __always_inline void end(void *ctx, struct calls_state *stk, bool xdp)
{
	struct calls_state *s;

	if (medium == CALLS_CB && !xdp) {
		struct __sk_buff *skb = ctx;

		publish(cb_get(skb, 0) | (__u64)cb_get(skb, 1) << 32, cb_get(skb, 2));
		return;
	}
	s = state_of(ctx, stk, xdp);
	if (s)
		publish(s->acc, s->count);
	else
		__sync_fetch_and_add(&failures, 1);
	if (medium == CALLS_META && xdp)
		bpf_xdp_adjust_meta(ctx, (int)sizeof(struct calls_state));
}

static __always_inline __u64 seed_of(void *ctx, bool xdp)
{
	if (xdp)
		return ((struct xdp_md *)ctx)->data_end - ((struct xdp_md *)ctx)->data;
	return ((struct __sk_buff *)ctx)->len;
}

struct loop_arg {
	void *ctx;
	struct calls_state *stk;
};

/* A stage as a static function, a global function, a bpf_loop callback. */
#define STAGE_FUNCS(h, ctx_t, xdp)						\
static __noinline long stage_static_##h(ctx_t *ctx, struct calls_state *stk, __u32 i) \
{ return stage(ctx, stk, i, xdp); }						\
__noinline int stage_global_##h(ctx_t *ctx, struct calls_state *stk, __u32 i)	\
{ return stage(ctx, stk, i, xdp); }						\
static long loop_cb_##h(__u32 i, void *arg)					\
{ struct loop_arg *a = arg; return stage(a->ctx, a->stk, i, xdp) < 0; }
STAGE_FUNCS(xdp, struct xdp_md, true)
STAGE_FUNCS(tc, struct __sk_buff, false)

/* The stages, by a call each or a bpf_loop.  0 or -1. */
static __always_inline int run_stages(void *ctx, struct calls_state *stk, bool xdp)
{
	struct loop_arg arg = { ctx, stk };
	__u32 how = style, k = stages, i;
	long r = 0;

	if (how == CALLS_BPF_LOOP)
		return bpf_loop(k, xdp ? loop_cb_xdp : loop_cb_tc, &arg, 0) == k ? 0 : -1;
	for (i = 0; i < k && i < CALLS_STAGES_MAX && r >= 0; i++) {
		if (how == CALLS_INLINE)
			r = stage(ctx, stk, i, xdp);
		else if (how == CALLS_BPF2BPF)
			r = xdp ? stage_static_xdp(ctx, stk, i) : stage_static_tc(ctx, stk, i);
		else
			r = xdp ? stage_global_xdp(ctx, stk, i) : stage_global_tc(ctx, stk, i);
	}
	return r < 0 ? -1 : 0;
}

static __always_inline void run(void *ctx, struct calls_state *stk, bool xdp)
{
	__u64 seed = seed_of(ctx, xdp);

	last_seed = seed;
	if (begin(ctx, stk, seed, xdp)) {
		__sync_fetch_and_add(&failures, 1);
		return;
	}
	if (run_stages(ctx, stk, xdp))
		__sync_fetch_and_add(&failures, 1);
	end(ctx, stk, xdp);
}

static __always_inline int chain_failed(int fam)
{
	__sync_fetch_and_add(&failures, 1);
	return FAM_FAIL(fam);
}

/* Stage i of a tail-call chain (STAGE_FROM_STATE: the state names it),
 * then the next slot (a constant for a constant i); the last one ends the
 * run and its timing. */
static __always_inline int tail_stage(void *ctx, __u32 i, int fam)
{
	bool xdp = fam == FAM_XDP;
	long count = stage(ctx, NULL, i, xdp);
	__u32 key = 0, slot;
	__u64 *t0;

	if (count < 0)
		return chain_failed(fam);
	slot = i == STAGE_FROM_STATE ? (__u32)count : i + 1;
	if (slot < stages) {
		bpf_tail_call(ctx, &jmp, slot);
		return chain_failed(fam);
	}
	end(ctx, NULL, xdp);
	t0 = bpf_map_lookup_elem(&chain_t0, &key);
	if (t0) {
		__sync_fetch_and_add(&loop_stats.in_prog_ns, bpf_ktime_get_ns() - *t0);
		__sync_fetch_and_add(&loop_stats.runs, 1);
	}
	return FAM_PASS(fam);
}

static __always_inline int tail_entry(void *ctx, int fam)
{
	bool xdp = fam == FAM_XDP;
	__u32 key = 0;
	__u64 *t0 = bpf_map_lookup_elem(&chain_t0, &key), seed;

	if (t0)
		*t0 = bpf_ktime_get_ns();
	seed = seed_of(ctx, xdp);
	last_seed = seed;
	if (begin(ctx, NULL, seed, xdp))
		return chain_failed(fam);
	bpf_tail_call(ctx, &jmp, 0);
	return chain_failed(fam);
}

static __always_inline bool tail_style(void)
{
	return style == CALLS_TAIL_CONST || style == CALLS_TAIL_DYN;
}

SEC("xdp")
int calls_xdp(struct xdp_md *ctx)
{
	struct calls_state st = {};

	if (tail_style())
		return tail_entry(ctx, FAM_XDP);
	MICRO_TIMED(loop_stats, run(ctx, &st, true));
	return XDP_PASS;
}

SEC("tc")
int calls_tc(struct __sk_buff *skb)
{
	struct calls_state st = {};

	if (tail_style())
		return tail_entry(skb, FAM_TC);
	MICRO_TIMED(loop_stats, run(skb, &st, false));
	return TC_ACT_OK;
}

/* sk_skb (live TCP): state on the stack or in the per-CPU slot, or, for a
 * tail chain, the per-CPU slot or cb (bench/calls.c applies; the verifier
 * refuses cb writes here). */
SEC("sk_skb/stream_verdict")
int calls_sk(struct __sk_buff *skb)
{
	struct calls_state st = {};

	if (tail_style())
		return tail_entry(skb, FAM_SK);
	MICRO_TIMED(loop_stats, run(skb, &st, false));
	return SK_PASS;
}

/* The chains' stages: N with the constant next slot N + 1, dyn with the
 * state's; each family's section is its entry's (a program array takes one
 * program type and attach type). */
#define TAIL(h, sec, ctx_t, fam, n)						\
SEC(sec) int tail_##h##_##n(ctx_t *ctx) { return tail_stage(ctx, n, fam); }
#define TAILS(h, sec, ctx_t, fam)						\
	TAIL(h, sec, ctx_t, fam, 0) TAIL(h, sec, ctx_t, fam, 1)			\
	TAIL(h, sec, ctx_t, fam, 2) TAIL(h, sec, ctx_t, fam, 3)			\
	TAIL(h, sec, ctx_t, fam, 4) TAIL(h, sec, ctx_t, fam, 5)			\
	TAIL(h, sec, ctx_t, fam, 6) TAIL(h, sec, ctx_t, fam, 7)			\
	TAIL(h, sec, ctx_t, fam, 8) TAIL(h, sec, ctx_t, fam, 9)			\
	TAIL(h, sec, ctx_t, fam, 10) TAIL(h, sec, ctx_t, fam, 11)		\
	TAIL(h, sec, ctx_t, fam, 12) TAIL(h, sec, ctx_t, fam, 13)		\
	TAIL(h, sec, ctx_t, fam, 14) TAIL(h, sec, ctx_t, fam, 15)		\
	TAIL(h, sec, ctx_t, fam, 16) TAIL(h, sec, ctx_t, fam, 17)		\
	TAIL(h, sec, ctx_t, fam, 18) TAIL(h, sec, ctx_t, fam, 19)		\
	TAIL(h, sec, ctx_t, fam, 20) TAIL(h, sec, ctx_t, fam, 21)		\
	TAIL(h, sec, ctx_t, fam, 22) TAIL(h, sec, ctx_t, fam, 23)		\
	TAIL(h, sec, ctx_t, fam, 24) TAIL(h, sec, ctx_t, fam, 25)		\
	TAIL(h, sec, ctx_t, fam, 26) TAIL(h, sec, ctx_t, fam, 27)		\
	TAIL(h, sec, ctx_t, fam, 28) TAIL(h, sec, ctx_t, fam, 29)		\
	TAIL(h, sec, ctx_t, fam, 30) TAIL(h, sec, ctx_t, fam, 31)		\
	SEC(sec) int tail_dyn_##h(ctx_t *ctx) { return tail_stage(ctx, STAGE_FROM_STATE, fam); }
TAILS(xdp, "xdp", struct xdp_md, FAM_XDP)
TAILS(tc, "tc", struct __sk_buff, FAM_TC)
TAILS(sk, "sk_skb/stream_verdict", struct __sk_buff, FAM_SK)

char LICENSE[] SEC("license") = "GPL";
