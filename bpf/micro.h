/*
 * The runtime microbenchmarks' common counters (bench/micro.h reads them):
 * each run adds its timed section's ns (bpf_ktime_get_ns around it) and one
 * run.  Include after vmlinux.h (BPF) or <linux/types.h>.
 */
#ifndef OLAB_BPF_MICRO_H
#define OLAB_BPF_MICRO_H

struct micro_loop {
	__u64 in_prog_ns;
	__u64 runs;
};

#ifdef __BPF__
/* The sockhash every runtime bench's object has (its stream-hook app's sockets). */
#define MICRO_SOCKMAP							\
struct {								\
	__uint(type, BPF_MAP_TYPE_SOCKHASH);				\
	__uint(max_entries, 64);					\
	__type(key, __u64);						\
	__type(value, __u64);						\
} micro_sockmap SEC(".maps")

/* Time body into the struct micro_loop stats. */
#define MICRO_TIMED(stats, body) do {						\
	__u64 __t0 = bpf_ktime_get_ns();					\
	body;									\
	__sync_fetch_and_add(&(stats).in_prog_ns, bpf_ktime_get_ns() - __t0);	\
	__sync_fetch_and_add(&(stats).runs, 1);					\
} while (0)
#endif

#endif
