/*
 * Microbenchmarks of the eBPF runtime (bench clock, ...): a program run by
 * BPF_PROG_TEST_RUN with a repeat count on a standard frame, no namespace
 * needed, and the facts every such figure records (JIT, sizes, compiler).
 */
#ifndef OLAB_BENCH_MICRO_H
#define OLAB_BENCH_MICRO_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define MICRO_FRAME_MAX 1514

/* A UDP/IPv4 frame of len bytes (64..1514) to GEN_DPORT, 198.18.0.1 ->
 * 198.18.0.2, checksums valid.  0 or -EINVAL. */
int micro_frame(uint8_t *buf, size_t len);

struct micro_run {
	double ns_per_run;   /* the kernel's test_run duration (mean over repeat) */
	uint32_t retval;
};
/* Run prog_fd repeat times on frame.  0 or -errno (why filled). */
int micro_test_run(int prog_fd, const void *frame, size_t len, uint32_t repeat,
		   struct micro_run *out, char *why, size_t why_len);

/* {xlated_bytes, jited_bytes, verified_insns, jit: {enable, harden, kallsyms},
 * compiler, bpf_cflags} of a loaded program. */
json_t *micro_prog_facts(int prog_fd);

#endif
