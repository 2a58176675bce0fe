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
/* Inside a program: the calling CPU's slot, or NULL if out of range.  The
 * empty asm keeps clang from computing the address before the bounds check:
 * 6.1's verifier does not carry the check over to that copy and rejects the
 * program ("R2 unbounded memory access", found with `offloadlab vm`). */
#define counters_this_cpu(arr) ({						\
	__u64 ___cpu = bpf_get_smp_processor_id();				\
	struct cpu_counters *___c = (struct cpu_counters *)0;			\
	if (___cpu < OLAB_MAX_CPUS) {						\
		asm volatile("" : "+r"(___cpu));				\
		___c = &(arr)[___cpu];						\
	}									\
	___c; })
#endif

#endif
