/*
 * bench maps (bench/maps.c) and its parts: the access sequence (uniform or
 * Zipf, seeded), the prefill, what this kernel lets a map be, and the runs
 * of one program on both CPUs at once.
 */
#ifndef OLAB_BENCH_MAPS_KIT_H
#define OLAB_BENCH_MAPS_KIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bench/bench.h"

/* Zipf exponent s of an access pattern (0: uniform). */
double maps_zipf_s(enum bench_access a);

/*
 * len key indexes in [0, entries) into seq: uniform, or Zipf(s) ranks
 * (rank 1 most frequent) spread over the keys by a fixed permutation, so
 * the popular keys are not neighbours.  The same seed, the same sequence.
 * 0 or -ENOMEM.
 */
int maps_sequence(uint64_t *seq, size_t len, uint32_t entries, enum bench_access a,
		  uint64_t seed);

/* Keys 0..entries-1 (the index in the first 4 bytes, the rest zero) with
 * the index as value (every CPU's, per-CPU maps) into map fd, from CPU 0.
 * 0 or -errno. */
int maps_prefill(int fd, uint32_t entries, uint32_t key_size, bool percpu);

/* Does this kernel create such a map?  0 or -errno. */
int maps_probe_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t entries,
		      uint32_t flags);

/*
 * One window of prog_fd on CPU 0 and CPU 1 at once: two threads, each
 * pinned, each BPF_PROG_TEST_RUN repeat times on frame, started together.
 * run_ns[i]: CPU i's test_run duration per run.  0 or -errno (why filled).
 */
int maps_contend_window(int prog_fd, const void *frame, size_t len, uint32_t repeat,
			double run_ns[2], char *why, size_t why_len);

#endif
