/* bench clock: the clocks a program can read (shared with user space). */
#ifndef OLAB_BPF_CLOCK_H
#define OLAB_BPF_CLOCK_H

enum clock_kind {
	CLOCK_KIND_KTIME,     /* bpf_ktime_get_ns */
	CLOCK_KIND_BOOT,      /* bpf_ktime_get_boot_ns */
	CLOCK_KIND_COARSE,    /* bpf_ktime_get_coarse_ns */
	CLOCK_KIND_TAI,       /* bpf_ktime_get_tai_ns */
	CLOCK_KIND_JIFFIES,   /* bpf_jiffies64 */
	CLOCK_KIND_NONE,      /* the empty loop, subtracted */
};

#define CLOCK_MAX_DELTAS 4096  /* back-to-back deltas kept per run */

#endif
