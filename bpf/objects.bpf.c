// SPDX-License-Identifier: GPL-2.0
/*
 * bench objects: each run builds one object of `size` bytes where `place`
 * says (bpf/objects.h): optionally zeroed, then every 8-byte word written
 * with per-request data, then summed (so nothing is optimised away);
 * timed (bpf/micro.h).  Objects over a per-CPU value's limit go in a plain
 * ARRAY slot (the run's CPU's).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "objects.h"
#include "micro.h"

const volatile __u32 place = OBJ_NONE;
const volatile __u32 size = 256;

struct micro_loop loop_stats;
__u64 sink;
__u64 words_written;

struct percpu_obj { __u64 w[OBJ_MAP_MAX / 8]; };
struct big_obj { __u64 w[OBJ_BIG_MAX / 8]; };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct percpu_obj);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);   /* one per CPU of this machine's size */
	__type(key, __u32);
	__type(value, struct big_obj);
} big SEC(".maps");

MICRO_SOCKMAP;

static __always_inline __u64 fill(__u64 *w, __u32 words, __u32 max, bool zero, __u64 seed)
{
	__u64 sum = 0;

	if (zero)
		for (__u32 i = 0; i < words && i < max; i++)
			*(volatile __u64 *)&w[i] = 0; /* not a memset call */
	for (__u32 i = 0; i < words && i < max; i++)
		w[i] = seed + i;
	for (__u32 i = 0; i < words && i < max; i++)
		sum += w[i];
	words_written += words;
	return sum;
}

static __always_inline void on_stack(bool zero, __u64 seed)
{
	__u64 w[OBJ_STACK_MAX / 8];

	sink += fill(w, size / 8, OBJ_STACK_MAX / 8, zero, seed);
}

static __always_inline void in_map(bool zero, __u64 seed)
{
	__u32 key = 0;

	if (size <= OBJ_MAP_MAX) {
		struct percpu_obj *o = bpf_map_lookup_elem(&scratch, &key);

		if (o)
			sink += fill(o->w, size / 8, OBJ_MAP_MAX / 8, zero, seed);
		return;
	}
	key = bpf_get_smp_processor_id() & 1;
	struct big_obj *b = bpf_map_lookup_elem(&big, &key);

	if (b)
		sink += fill(b->w, size / 8, OBJ_BIG_MAX / 8, zero, seed);
}

static __always_inline void build(__u64 seed)
{
	switch (place) {
	case OBJ_STACK: on_stack(false, seed); break;
	case OBJ_STACK_ZEROED: on_stack(true, seed); break;
	case OBJ_MAP: in_map(false, seed); break;
	case OBJ_MAP_ZEROED: in_map(true, seed); break;
	}
}

SEC("xdp")
int objects_xdp(struct xdp_md *ctx)
{
	MICRO_TIMED(loop_stats, build(ctx->data_end - ctx->data));
	return XDP_PASS;
}

SEC("tc")
int objects_tc(struct __sk_buff *skb)
{
	MICRO_TIMED(loop_stats, build(skb->len));
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
