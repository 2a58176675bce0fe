/* bench maps: what a run does to the maps (shared with user space). */
#ifndef OLAB_BPF_MAPS_H
#define OLAB_BPF_MAPS_H
#include "micro.h"

enum maps_op {
	MOP_LOOKUP,         /* bpf_map_lookup_elem(target, key of the sequence) */
	MOP_UPDATE,         /* bpf_map_update_elem(target, key of the sequence, BPF_ANY) */
	MOP_RMW,            /* counter[0] read, +1, written back: no protection */
	MOP_ATOMIC,         /* __sync_fetch_and_add on counter[0] */
	MOP_SPIN_LOCK,      /* bpf_spin_lock around locked[0].n++ */
	MOP_PERCPU,         /* this CPU's percpu_counter[0]++ */
	MOP_NONE,           /* the same walk without the map operation (subtracted) */
};

#define MAPS_OPS_PER_RUN 64         /* map operations per program run */
#define MAPS_KEY_MAX     64         /* bytes: the largest key */
#define MAPS_SEQ_MIN     65536      /* keys in the access sequence, at least */
#define MAPS_SEQ_MAX     (1u << 20) /* ... and at most (a power of two >= the entries) */

/* The value of the spin-lock map. */
struct maps_locked {
	struct bpf_spin_lock lock;
	__u64 n;
};

/*
 * The ARENA cells (bpf/maps_arena.bpf.c): the arena is an array of 8 B
 * values, slot i = MAPS_ARENA_VALUE(tag, i): prefilled with tag
 * MAPS_ARENA_PREFILL by user space; an update writes the trial's stamp.
 */
#define MAPS_ARENA_PREFILL 0xa4e4u
#define MAPS_ARENA_VALUE(tag, idx) (((__u64)(tag) << 32) | (__u32)(idx))

struct maps_arena_cfg {
	__u64 base;         /* the arena's user address: slot 0 */
	__u32 op;           /* MOP_LOOKUP, MOP_UPDATE or MOP_NONE */
	__u32 seq_mask;
};

/* The state map's one value (mmap'd by user space). */
struct maps_arena_state {
	struct micro_loop loop_stats;
	__u64 sink;
	__u64 ops_done;     /* sequence steps walked */
	__u64 hits;         /* lookups that read MAPS_ARENA_VALUE(PREFILL, i); updates */
	__u32 pos;          /* where the next run starts in the sequence */
	__u32 stamp;        /* an update's tag, set before each trial */
};

#endif
