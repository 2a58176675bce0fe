// SPDX-License-Identifier: GPL-2.0
/*
 * bench clock: each run reads one clock `calls` times in a bpf_loop, keeps
 * the back-to-back deltas of the first run after a reset, and times the
 * loop (bpf/micro.h).
 * clock_kind NONE runs the same loop without the clock: the cost to
 * subtract.  The program passes the packet.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "clock.h"
#include "micro.h"

const volatile __u32 clock_kind = CLOCK_KIND_KTIME;
const volatile __u32 calls = 1000;

__u64 deltas[CLOCK_MAX_DELTAS];
__u32 ndeltas;     /* user space zeroes it to take a new sample */
struct micro_loop loop_stats;
__u64 sink;        /* keeps the clock reads alive */

struct loop_ctx {
	__u64 prev;
	bool keep;
};

static __always_inline __u64 read_clock(void)
{
	switch (clock_kind) {
	case CLOCK_KIND_KTIME:
		return bpf_ktime_get_ns();
	case CLOCK_KIND_BOOT:
		return bpf_ktime_get_boot_ns();
	case CLOCK_KIND_COARSE:
		return bpf_ktime_get_coarse_ns();
	case CLOCK_KIND_TAI:
		return bpf_ktime_get_tai_ns();
	case CLOCK_KIND_JIFFIES:
		return bpf_jiffies64();
	default:
		return 0;
	}
}

static int one_read(__u32 i, void *arg)
{
	struct loop_ctx *lc = arg;
	__u64 now = read_clock();

	/* The mask bounds the index for the verifier (a power of two). */
	if (lc->keep && i > 0 && i <= CLOCK_MAX_DELTAS)
		deltas[(i - 1) & (CLOCK_MAX_DELTAS - 1)] = now - lc->prev;
	lc->prev = now;
	sink += now;
	return 0;
}

static __always_inline void timed_loop(void)
{
	struct loop_ctx lc = { .keep = ndeltas == 0 };

	MICRO_TIMED(loop_stats, bpf_loop(calls, one_read, &lc, 0));
	if (lc.keep)
		ndeltas = calls - 1 < CLOCK_MAX_DELTAS ? calls - 1 : CLOCK_MAX_DELTAS;
}

SEC("xdp")
int clock_xdp(struct xdp_md *ctx)
{
	timed_loop();
	return XDP_PASS;
}

SEC("tc")
int clock_tc(struct __sk_buff *skb)
{
	timed_loop();
	return 0; /* TC_ACT_OK */
}

SEC("sk_skb/stream_verdict")
int clock_sk(struct __sk_buff *skb)
{
	timed_loop();
	return SK_PASS;
}

MICRO_SOCKMAP;

char LICENSE[] SEC("license") = "GPL";
