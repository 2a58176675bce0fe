/* bench maps: access sequences, prefill, probes (bench/maps_kit.h). */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench/maps_kit.h"

#define PERMUTE_PRIME 1000003ull /* > any entry count: coprime with it */
#define PREFILL_CHUNK 4096u

double maps_zipf_s(enum bench_access a)
{
	static const double s[ACCESS__COUNT] = { 0, 0.5, 1, 1.5 };

	return (unsigned)a < ACCESS__COUNT ? s[a] : 0;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double unit_random(uint64_t *state)
{
	return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* The rank (0-based) whose cumulative share first reaches u. */
static uint32_t cdf_rank(const double *cdf, uint32_t n, double u)
{
	uint32_t lo = 0, hi = n - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int maps_sequence(uint64_t *seq, size_t len, uint32_t entries, enum bench_access a,
		  uint64_t seed)
{
	double s = maps_zipf_s(a), total = 0, *cdf;
	uint64_t state = seed;

	if (!entries)
		return -EINVAL;
	if (s == 0) {
		for (size_t i = 0; i < len; i++)
			seq[i] = splitmix64(&state) % entries;
		return 0;
	}
	cdf = malloc(entries * sizeof(*cdf));
	if (!cdf)
		return -ENOMEM;
	for (uint32_t k = 0; k < entries; k++) {
		total += pow((double)k + 1, -s);
		cdf[k] = total;
	}
	for (uint32_t k = 0; k < entries; k++)
		cdf[k] /= total;
	for (size_t i = 0; i < len; i++) {
		uint64_t rank = cdf_rank(cdf, entries, unit_random(&state));

		seq[i] = rank * PERMUTE_PRIME % entries;
	}
	free(cdf);
	return 0;
}

static int prefill_chunk(int fd, uint32_t first, uint32_t n, uint32_t key_size, int ncpus,
			 uint8_t *keys, uint64_t *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t count = n;

	memset(keys, 0, (size_t)n * key_size);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t idx = first + i;

		memcpy(keys + (size_t)i * key_size, &idx, sizeof(idx));
		for (int c = 0; c < ncpus; c++)
			vals[(size_t)i * ncpus + c] = idx;
	}
	if (bpf_map_update_batch(fd, keys, vals, &count, &opts))
		return -errno;
	return count == n ? 0 : -EIO;
}

int maps_prefill(int fd, uint32_t entries, uint32_t key_size, bool percpu)
{
	int ncpus = percpu ? libbpf_num_possible_cpus() : 1, err = 0;
	cpu_set_t old, cpu0;
	uint8_t *keys;
	uint64_t *vals;

	if (ncpus < 1)
		return ncpus < 0 ? ncpus : -EINVAL;
	keys = malloc((size_t)PREFILL_CHUNK * key_size);
	vals = malloc((size_t)PREFILL_CHUNK * ncpus * sizeof(*vals));
	/* One CPU: an LRU map's free nodes stay on one CPU's list, none is evicted. */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	sched_getaffinity(0, sizeof(old), &old);
	sched_setaffinity(0, sizeof(cpu0), &cpu0);
	if (!keys || !vals)
		err = -ENOMEM;
	for (uint32_t first = 0; !err && first < entries; first += PREFILL_CHUNK) {
		uint32_t n = entries - first < PREFILL_CHUNK ? entries - first : PREFILL_CHUNK;

		err = prefill_chunk(fd, first, n, key_size, ncpus, keys, vals);
	}
	sched_setaffinity(0, sizeof(old), &old);
	free(keys);
	free(vals);
	return err;
}

int maps_probe_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t entries,
		      uint32_t flags)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
	int fd = bpf_map_create((enum bpf_map_type)type, NULL, key_size, value_size, entries, &opts);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}
