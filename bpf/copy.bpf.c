// SPDX-License-Identifier: GPL-2.0
/*
 * bench copy: each run copies `len` bytes of the frame (from its start),
 * or of one per-CPU map value (memcpy), into a per-CPU map value one way
 * (bpf/copy.h), timed (bpf/micro.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "copy.h"
#include "micro.h"

const volatile __u32 method = COPY_NONE;
const volatile __u32 len = 64;

struct micro_loop loop_stats;
__u64 copied;      /* bytes copied, over all runs */
__u64 failures;

struct buf {
	__u8 b[COPY_MEM_MAX];
};

MICRO_SOCKMAP;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct buf);
} dst_map SEC(".maps"), src_map SEC(".maps");

extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags,
			       struct bpf_dynptr *ptr) __ksym __weak;
extern int bpf_dynptr_from_xdp(struct xdp_md *xdp, __u64 flags,
			       struct bpf_dynptr *ptr) __ksym __weak;

static __always_inline __u32 per_byte(__u8 *dst, void *data, void *data_end)
{
	__u32 i;

	for (i = 0; i < len && i < COPY_MAX; i++) {
		__u8 *p = data + i;

		if ((void *)(p + 1) > data_end)
			break;
		dst[i] = *p;
	}
	return i;
}

static __always_inline __u32 upfront(__u8 *dst, void *data, void *data_end)
{
	__u8 *p = data;

	if (len > COPY_MAX || data + COPY_MAX > data_end)
		return 0;
	for (__u32 i = 0; i < len && i < COPY_MAX; i++)
		dst[i] = p[i];
	return len;
}

static __always_inline __u32 from_stack(__u8 *dst, void *data, void *data_end)
{
	__u8 stack[COPY_STACK_BUF];

	__builtin_memset(stack, 1, sizeof(stack));
	for (__u32 i = 0; i < len && i < COPY_MAX; i++)
		dst[i] = stack[i & (COPY_STACK_BUF - 1)];
	return len;
}

/* The three ways without a helper. */
static __always_inline __u32 direct(__u8 *dst, void *data, void *data_end)
{
	switch (method) {
	case COPY_PER_BYTE:
		return per_byte(dst, data, data_end);
	case COPY_UPFRONT:
		return upfront(dst, data, data_end);
	default:
		return from_stack(dst, data, data_end);
	}
}

static __always_inline __u32 mem_copy(__u8 *dst, __u8 *src)
{
	struct bpf_dynptr ptr;
	__u32 i;

	switch (method) {
	case COPY_MEM_BYTE:
		for (i = 0; i < len && i < COPY_MEM_MAX; i++)
			dst[i] = src[i];
		return i;
	case COPY_MEM_WORD:
		for (i = 0; i < len / 8 && i < COPY_MEM_MAX / 8; i++)
			((__u64 *)dst)[i] = ((__u64 *)src)[i];
		for (i *= 8; i < len && i < COPY_MEM_MAX; i++)
			dst[i] = src[i];
		return i;
	case COPY_MEM_HELPER:
		return len > COPY_MEM_MAX || bpf_probe_read_kernel(dst, len, src) ? 0 : len;
	default:
		return len > COPY_MEM_MAX || bpf_dynptr_from_mem(src, len, 0, &ptr) ||
		       bpf_dynptr_read(dst, len, &ptr, 0, 0) ? 0 : len;
	}
}

static __always_inline void count(__u32 n)
{
	if (n == len)
		copied += n;
	else
		failures++;
}

SEC("xdp")
int copy_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct bpf_dynptr ptr;
	__u32 key = 0, n = len;
	struct buf *dst = bpf_map_lookup_elem(&dst_map, &key);
	struct buf *src = bpf_map_lookup_elem(&src_map, &key);

	if (!dst || !src)
		return XDP_PASS;
	MICRO_TIMED(loop_stats, {
		if (method >= COPY_MEM_BYTE && method < COPY_NONE)
			n = mem_copy(dst->b, src->b);
		else if (method < COPY_HELPER)
			n = direct(dst->b, data, data_end);
		else if (method == COPY_HELPER)
			n = bpf_xdp_load_bytes(ctx, 0, dst->b, len) ? 0 : len;
		else if (method == COPY_DYNPTR)
			n = bpf_dynptr_from_xdp(ctx, 0, &ptr) ||
			    bpf_dynptr_read(dst->b, len, &ptr, 0, 0) ? 0 : len;
	});
	count(n);
	return XDP_PASS;
}

SEC("tc")
int copy_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct bpf_dynptr ptr;
	__u32 key = 0, n = len;
	struct buf *dst = bpf_map_lookup_elem(&dst_map, &key);
	struct buf *src = bpf_map_lookup_elem(&src_map, &key);

	if (!dst || !src)
		return 0;
	MICRO_TIMED(loop_stats, {
		if (method >= COPY_MEM_BYTE && method < COPY_NONE)
			n = mem_copy(dst->b, src->b);
		else if (method < COPY_HELPER)
			n = direct(dst->b, data, data_end);
		else if (method == COPY_HELPER)
			n = bpf_skb_load_bytes(skb, 0, dst->b, len) ? 0 : len;
		else if (method == COPY_DYNPTR)
			n = bpf_dynptr_from_skb(skb, 0, &ptr) ||
			    bpf_dynptr_read(dst->b, len, &ptr, 0, 0) ? 0 : len;
	});
	count(n);
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
