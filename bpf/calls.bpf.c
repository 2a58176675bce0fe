// SPDX-License-Identifier: GPL-2.0
/*
 * bench calls: each run takes the request through `stages` stages, each
 * folding its index into the state (calls_mix), the stages chained by
 * `style` and the state kept in `medium` between them (bpf/calls.h).  The
 * run ends by publishing the final state (last_acc, stages_done) and its
 * time (bpf/micro.h): inside the entry program, or, for a tail-call chain
 * that never returns, in the last stage from the start kept in a per-CPU
 * slot.  CALLS_INLINE with CALLS_STACK is the reference arm: the same work
 * in registers.  Programs: calls_xdp and calls_tc (the entry), tail_xdp_N
 * and tail_tc_N (stage N of a constant-index chain), tail_dyn_xdp and
 * tail_dyn_tc (every stage of a dynamic-index chain).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "calls.h"
#include "micro.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define STAGE_FROM_STATE ((__u32)-1)   /* tail-dyn: the state's count is the stage */

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

static __always_inline int chain_failed(bool xdp)
{
	__sync_fetch_and_add(&failures, 1);
	return xdp ? XDP_ABORTED : TC_ACT_SHOT;
}

/* Stage i of a tail-call chain (STAGE_FROM_STATE: the state names it),
 * then the next slot (a constant for a constant i); the last one ends the
 * run and its timing. */
static __always_inline int tail_stage(void *ctx, __u32 i, bool xdp)
{
	long count = stage(ctx, NULL, i, xdp);
	__u32 key = 0, slot;
	__u64 *t0;

	if (count < 0)
		return chain_failed(xdp);
	slot = i == STAGE_FROM_STATE ? (__u32)count : i + 1;
	if (slot < stages) {
		bpf_tail_call(ctx, &jmp, slot);
		return chain_failed(xdp);
	}
	end(ctx, NULL, xdp);
	t0 = bpf_map_lookup_elem(&chain_t0, &key);
	if (t0) {
		__sync_fetch_and_add(&loop_stats.in_prog_ns, bpf_ktime_get_ns() - *t0);
		__sync_fetch_and_add(&loop_stats.runs, 1);
	}
	return xdp ? XDP_PASS : TC_ACT_OK;
}

static __always_inline int tail_entry(void *ctx, bool xdp)
{
	__u32 key = 0;
	__u64 *t0 = bpf_map_lookup_elem(&chain_t0, &key), seed;

	if (t0)
		*t0 = bpf_ktime_get_ns();
	seed = seed_of(ctx, xdp);
	last_seed = seed;
	if (begin(ctx, NULL, seed, xdp))
		return chain_failed(xdp);
	bpf_tail_call(ctx, &jmp, 0);
	return chain_failed(xdp);
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
		return tail_entry(ctx, true);
	MICRO_TIMED(loop_stats, run(ctx, &st, true));
	return XDP_PASS;
}

SEC("tc")
int calls_tc(struct __sk_buff *skb)
{
	struct calls_state st = {};

	if (tail_style())
		return tail_entry(skb, false);
	MICRO_TIMED(loop_stats, run(skb, &st, false));
	return TC_ACT_OK;
}

/* sk_skb (live TCP): the styles without tail calls, state on the stack or
 * in the per-CPU slot (bench/calls.c applies). */
SEC("sk_skb/stream_verdict")
int calls_sk(struct __sk_buff *skb)
{
	struct calls_state st = {};

	MICRO_TIMED(loop_stats, run(skb, &st, false));
	return SK_PASS;
}

/* The chains' stages: N with the constant next slot N + 1, dyn with the state's. */
#define TAIL(h, ctx_t, xdp, n)							\
SEC(#h) int tail_##h##_##n(ctx_t *ctx) { return tail_stage(ctx, n, xdp); }
#define TAILS(h, ctx_t, xdp)							\
	TAIL(h, ctx_t, xdp, 0) TAIL(h, ctx_t, xdp, 1) TAIL(h, ctx_t, xdp, 2)		\
	TAIL(h, ctx_t, xdp, 3) TAIL(h, ctx_t, xdp, 4) TAIL(h, ctx_t, xdp, 5)		\
	TAIL(h, ctx_t, xdp, 6) TAIL(h, ctx_t, xdp, 7) TAIL(h, ctx_t, xdp, 8)		\
	TAIL(h, ctx_t, xdp, 9) TAIL(h, ctx_t, xdp, 10) TAIL(h, ctx_t, xdp, 11)	\
	TAIL(h, ctx_t, xdp, 12) TAIL(h, ctx_t, xdp, 13) TAIL(h, ctx_t, xdp, 14)	\
	TAIL(h, ctx_t, xdp, 15) TAIL(h, ctx_t, xdp, 16) TAIL(h, ctx_t, xdp, 17)	\
	TAIL(h, ctx_t, xdp, 18) TAIL(h, ctx_t, xdp, 19) TAIL(h, ctx_t, xdp, 20)	\
	TAIL(h, ctx_t, xdp, 21) TAIL(h, ctx_t, xdp, 22) TAIL(h, ctx_t, xdp, 23)	\
	TAIL(h, ctx_t, xdp, 24) TAIL(h, ctx_t, xdp, 25) TAIL(h, ctx_t, xdp, 26)	\
	TAIL(h, ctx_t, xdp, 27) TAIL(h, ctx_t, xdp, 28) TAIL(h, ctx_t, xdp, 29)	\
	TAIL(h, ctx_t, xdp, 30) TAIL(h, ctx_t, xdp, 31)				\
	SEC(#h) int tail_dyn_##h(ctx_t *ctx) { return tail_stage(ctx, STAGE_FROM_STATE, xdp); }
TAILS(xdp, struct xdp_md, true)
TAILS(tc, struct __sk_buff, false)

char LICENSE[] SEC("license") = "GPL";
