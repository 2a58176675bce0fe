/* bench maps: what a run does to the maps (shared with user space). */
#ifndef OLAB_BPF_MAPS_H
#define OLAB_BPF_MAPS_H

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

#endif
