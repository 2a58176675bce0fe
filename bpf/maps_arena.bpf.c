// SPDX-License-Identifier: GPL-2.0
/*
 * bench maps' ARENA cells: bpf/maps.bpf.c's walk (MAPS_OPS_PER_RUN steps of
 * the access sequence `seq` a run, timed) where the op reads or writes slot
 * i of an arena used as an array of 8 B values.  __arena pointers need clang
 * >= 18 (its BPF backend emits addr_space_cast), so this file is not built
 * with the tree: bench maps compiles it at run time (bench/bpf_cc.h) and
 * creates the arena itself (libbpf 1.1.2 does not know the map type).
 * Only uapi headers: vmlinux.h is not embedded.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

#define __arena __attribute__((address_space(1)))
#define MAP_TYPE_ARENA 33

const volatile struct maps_arena_cfg cfg = { .op = MOP_NONE, .seq_mask = MAPS_SEQ_MIN - 1 };

/* Created and mmap'd by user space (its fd reused): pages for the slots. */
struct {
	__uint(type, MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
} arena SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, MAPS_SEQ_MIN);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct maps_arena_state);
} state SEC(".maps");

static __always_inline __u32 one(__u64 __arena *slots, __u64 idx, __u32 stamp, __u64 *acc)
{
	__u64 v;

	switch (cfg.op) {
	case MOP_LOOKUP:
		v = slots[idx];
		*acc += v;
		return v == MAPS_ARENA_VALUE(MAPS_ARENA_PREFILL, idx);
	case MOP_UPDATE:
		slots[idx] = MAPS_ARENA_VALUE(stamp, idx);
		return 1;
	}
	*acc += idx;
	return 0;
}

static __always_inline void walk(struct maps_arena_state *st)
{
	__u64 __arena *slots = (__u64 __arena *)cfg.base;
	__u32 start = st->pos, stamp = st->stamp, i, n = 0;
	__u64 acc = 0;

#pragma clang loop unroll(disable)
	for (i = 0; i < MAPS_OPS_PER_RUN; i++) {
		__u32 at = (start + i) & cfg.seq_mask;
		__u64 *k = bpf_map_lookup_elem(&seq, &at);

		if (!k)
			break;
		n += one(slots, *k, stamp, &acc);
	}
	st->pos = start + i;
	st->sink += acc;
	__sync_fetch_and_add(&st->ops_done, i);
	__sync_fetch_and_add(&st->hits, n);
}

/* The program uses the arena: the verifier then knows it (one per program). */
static __always_inline struct maps_arena_state *state_of_run(void)
{
	void *a = &arena;
	__u32 zero = 0;

	asm volatile("" : : "r"(a));
	return bpf_map_lookup_elem(&state, &zero);
}

SEC("xdp")
int maps_arena_xdp(struct xdp_md *ctx)
{
	struct maps_arena_state *st = state_of_run();

	if (st)
		MICRO_TIMED(st->loop_stats, walk(st));
	return XDP_PASS;
}

SEC("tc")
int maps_arena_tc(struct __sk_buff *skb)
{
	struct maps_arena_state *st = state_of_run();

	if (st)
		MICRO_TIMED(st->loop_stats, walk(st));
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
