/*
 * Per-CPU counters shared by BPF programs and user space.  Programs keep them
 * in .bss (mmapped by the skeleton), one cache line per CPU, so user space
 * reads them without syscalls and can tell which CPU did the work.
 */
#ifndef OLAB_COUNTERS_H
#define OLAB_COUNTERS_H

#define OLAB_MAX_CPUS 64

struct cpu_counters {
	__u64 packets;
	__u64 bytes;
	__u64 dropped;
	__u64 passed;
	__u64 redirected;
	__u64 errors;
	__u64 pad[2];
} __attribute__((aligned(64)));

#ifdef __BPF__
/* Inside a program: the calling CPU's slot, or NULL if out of range. */
#define counters_this_cpu(arr) ({						\
	__u32 ___cpu = bpf_get_smp_processor_id();				\
	___cpu < OLAB_MAX_CPUS ? &(arr)[___cpu] : (struct cpu_counters *)0; })
#endif

#endif
