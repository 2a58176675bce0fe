/* bench calls: how a request's K stages are chained and where their state
 * lives between stages (shared with user space; the op names in
 * bench/calls.c follow these orders).  Include after vmlinux.h (BPF) or
 * <linux/types.h>. */
#ifndef OLAB_BPF_CALLS_H
#define OLAB_BPF_CALLS_H

enum calls_style {
	CALLS_INLINE,       /* every stage inlined into the program */
	CALLS_BPF2BPF,      /* a static __noinline function per stage call */
	CALLS_GLOBAL,       /* a global function (verified on its own) */
	CALLS_BPF_LOOP,     /* a bpf_loop callback per stage */
	CALLS_TAIL_CONST,   /* stage j tail-calls slot j + 1, a constant */
	CALLS_TAIL_DYN,     /* one program tail-calls the slot the state names */
	CALLS_FREPLACE,     /* the global function replaced by an freplace program */
	CALLS_STYLE__COUNT
};

enum calls_medium {
	CALLS_STACK,        /* the entry program's stack, by pointer */
	CALLS_PERCPU,       /* a per-CPU array slot, looked up by each stage */
	CALLS_META,         /* XDP metadata in front of the packet (bpf_xdp_adjust_meta) */
	CALLS_CB,           /* __sk_buff cb[0..2] (tc) */
	CALLS_MEDIUM__COUNT
};

#define CALLS_STAGES_MAX 32   /* a tail-call chain's limit is 33 calls */

/* What travels from stage to stage. */
struct calls_state {
	__u64 acc;          /* every stage folds its index into it */
	__u32 count;        /* stages run so far; the next stage's index */
	__u32 pad;
};

/* One stage's work: the same for every style and medium. */
static inline __u64 calls_mix(__u64 acc, __u32 stage)
{
	return acc * 33 + stage + 1;
}

#endif
