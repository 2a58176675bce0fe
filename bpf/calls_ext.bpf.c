// SPDX-License-Identifier: GPL-2.0
/*
 * bench calls, freplace: the stage as an extension program that replaces
 * the global stage function of a loaded calls_xdp / calls_tc (state on the
 * entry's stack; the same work as bpf/calls.bpf.c's stage()).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "calls.h"

static __always_inline int ext_stage(struct calls_state *stk, __u32 i)
{
	if (!stk)
		return -1;
	stk->acc = calls_mix(stk->acc, i);
	return ++stk->count;
}

SEC("freplace/stage_global_xdp")
int stage_ext_xdp(struct xdp_md *ctx, struct calls_state *stk, __u32 i)
{
	return ext_stage(stk, i);
}

SEC("freplace/stage_global_tc")
int stage_ext_tc(struct __sk_buff *ctx, struct calls_state *stk, __u32 i)
{
	return ext_stage(stk, i);
}

char LICENSE[] SEC("license") = "GPL";
