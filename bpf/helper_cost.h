/* bench helpers: the helpers whose cost per call is measured (shared with
 * user space; names in bench/helpers.c in this order). */
#ifndef OLAB_BPF_HELPER_COST_H
#define OLAB_BPF_HELPER_COST_H

enum helper_op {
	HOP_XDP_ADJUST_HEAD,   /* xdp: -8 then +8 bytes: two calls */
	HOP_XDP_ADJUST_TAIL,   /* xdp: -8 then +8 */
	HOP_SKB_ADJUST_ROOM,   /* tc: +8 then -8 at the network header */
	HOP_SKB_CHANGE_TAIL,   /* tc: len + 8 then len */
	HOP_REDIRECT,          /* bpf_redirect(lo): sets the target only */
	HOP_REDIRECT_MAP,      /* bpf_redirect_map on an empty DEVMAP slot */
	HOP_FIB_LOOKUP,        /* bpf_fib_lookup 198.18.0.1 -> 198.18.0.2 */
	HOP_CSUM_DIFF,         /* bpf_csum_diff over 20 bytes */
	HOP_L4_CSUM_REPLACE,   /* tc: a 2-byte change and back: two calls */
	HOP_MAP_LOOKUP,        /* bpf_map_lookup_elem on an ARRAY (the verifier inlines it) */
	HOP_SMP_PROCESSOR_ID,  /* bpf_get_smp_processor_id */
	HOP_NONE,              /* the empty loop, subtracted */
};

/* Calls per loop iteration (the pairs that restore the packet: 2). */
static inline int helper_op_calls(int op)
{
	return op == HOP_XDP_ADJUST_HEAD || op == HOP_XDP_ADJUST_TAIL ||
	       op == HOP_SKB_ADJUST_ROOM || op == HOP_SKB_CHANGE_TAIL ||
	       op == HOP_L4_CSUM_REPLACE ? 2 : 1;
}

#endif
