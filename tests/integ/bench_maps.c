/*
 * bench maps against the real kernel, by counts: every run did its 64 map
 * operations, lookups found every prefilled key and updates succeeded, for
 * each map type, key size, access pattern and allocation; on one contended
 * key, atomic, spin-locked and per-CPU counting lose no update while the
 * unprotected read-modify-write accounts for every update (counted + lost =
 * done); the arena (built at run time by clang >= 18) read back: lookups
 * read every prefilled value, updates left their trial's value in every slot
 * they walked; what the kernel or toolchain cannot do is a reason, not a
 * number.
 * The access sequence itself: seeded, in range, Zipf-skewed.
 */
#include <stdlib.h>
#include <math.h>
#include <unistd.h>
#include <string.h>
#include <jansson.h>
#include "bench/bench.h"
#include "bench/maps_kit.h"
#include "bpf/maps.h"
#include "tests/integ/bench_kit.h"
#include "tests/test.h"

static unsigned op_index(const struct bench *b, const char *name)
{
	unsigned i = 0;

	while (b->ops[i] && strcmp(b->ops[i], name))
		i++;
	return i;
}

struct cell_spec {
	const char *hook, *op;
	uint64_t entries;
	unsigned key;
	enum bench_access access;
	bool no_prealloc;
	const char *refusal;    /* expected in the reason; NULL: measured */
};

static bool measure_cell(const struct bench *b, const struct cell_spec *p, struct bench_cell *c,
			 struct bench_series *s)
{
	bench_cell_init(c, b, hook_by_name(p->hook));
	c->op = op_index(b, p->op);
	c->size = p->entries;
	c->key = p->key;
	c->access = p->access;
	c->no_prealloc = p->no_prealloc;
	c->trials = 2;
	if (!ASSERT_TRUE(b->ops[c->op] != NULL, "op exists") ||
	    !ASSERT_OK(bench_cell_measure(c, s), "measure"))
		return false;
	if (p->refusal) {
		ASSERT_STRCONTAINS(c->refused, p->refusal, "the reason");
		ASSERT_EQ(s->n[ARM_MAIN], 0, "no trials of a refused cell");
		return false;
	}
	return ASSERT_STREQ(c->refused, "", "not refused") &&
	       ASSERT_EQ(s->n[ARM_MAIN], 2, "trials");
}

/* A map op: 64 ops a run, every one a hit (lookup) or a success (update). */
static void map_cell(const struct bench *b, const struct cell_spec *p)
{
	struct bench_cell c;
	struct bench_series s;
	json_t *d;
	size_t i;

	if (measure_cell(b, p, &c, &s))
		json_array_foreach(s.detail[ARM_MAIN], i, d) {
			if (!strcmp(p->hook, "sk-skb-verdict")) {
				/* Live: ops count the whole trial, runs its window. */
				ASSERT_GT(detail_num(d, "runs"), 0, "runs on live skbs");
				ASSERT_GE(detail_num(d, "ops"), detail_num(d, "runs") * MAPS_OPS_PER_RUN,
					  "64 ops a run, at least the window's");
				ASSERT_EQ(fmod(detail_num(d, "ops"), MAPS_OPS_PER_RUN), 0,
					  "whole runs of 64 ops");
			} else {
				ASSERT_EQ(detail_num(d, "runs"), detail_num(d, "repeat"), "runs");
				ASSERT_EQ(detail_num(d, "ops"), detail_num(d, "runs") * MAPS_OPS_PER_RUN,
					  "64 ops a run");
			}
			ASSERT_EQ(detail_num(d, "hits"), detail_num(d, "ops"),
				  "every key found / every update done");
		}
	bench_cell_finish(&c, &s);
}

/* The arena: every op a hit; a lookup's trial read the prefilled values of
 * the slots it walked (their sum, computed by user space from the access
 * sequence); an update's trial left its own value in every slot it walked. */
static void arena_cell(const struct bench *b, const char *hook, const char *op)
{
	struct cell_spec p = { hook, op, 1000, 4, ACCESS_UNIFORM, false, NULL };
	bool update = strstr(op, "update");
	struct bench_cell c;
	struct bench_series s;
	json_t *d;
	size_t i;

	if (access("/usr/bin/clang-19", X_OK)) {
		test_skip("clang-19 not installed (make deps-extra): __arena needs clang >= 18");
		return;
	}
	if (measure_cell(b, &p, &c, &s))
		json_array_foreach(s.detail[ARM_MAIN], i, d) {
			ASSERT_EQ(detail_num(d, "runs"), detail_num(d, "repeat"), "runs");
			ASSERT_EQ(detail_num(d, "ops"), detail_num(d, "runs") * MAPS_OPS_PER_RUN,
				  "64 ops a run");
			ASSERT_EQ(detail_num(d, "hits"), detail_num(d, "ops"),
				  "every slot read held its prefilled value / every write done");
			if (!update) {
				const char *got = json_string_value(json_object_get(d, "sum_read"));
				const char *want = json_string_value(json_object_get(d, "sum_expected"));

				if (ASSERT_OK_PTR(got, "sum read") && ASSERT_OK_PTR(want, "sum expected"))
					ASSERT_STREQ(got, want, "the values read are the prefilled ones");
				continue;
			}
			ASSERT_GT(detail_num(d, "slots_walked"), 0, "slots walked");
			ASSERT_EQ(detail_num(d, "slots_verified"), detail_num(d, "slots_walked"),
				  "every slot walked holds the trial's value");
		}
	bench_cell_finish(&c, &s);
}

/* Both CPUs on one key: safe ways lose nothing; the unprotected one's
 * counted + lost is every op. */
static void contend_cell(const struct bench *b, const char *hook, const char *op)
{
	struct cell_spec p = { hook, op, 100, 4, ACCESS_UNIFORM, false, NULL };
	bool safe = strcmp(op, "rmw-unprotected");
	struct bench_cell c;
	struct bench_series s;
	json_t *d;
	size_t i;

	if (measure_cell(b, &p, &c, &s))
		json_array_foreach(s.detail[ARM_MAIN], i, d) {
			double ops = detail_num(d, "ops");

			ASSERT_EQ(detail_num(d, "runs"), detail_num(d, "repeat"), "both CPUs' runs");
			ASSERT_EQ(ops, detail_num(d, "runs") * MAPS_OPS_PER_RUN, "64 ops a run");
			ASSERT_GE(detail_num(d, "lost"), 0, "lost >= 0");
			ASSERT_EQ(detail_num(d, "counted") + detail_num(d, "lost"), ops,
				  "counted + lost = done");
			if (safe)
				ASSERT_EQ(detail_num(d, "lost"), 0, "no update lost");
		}
	bench_cell_finish(&c, &s);
}

/* Seeded, in range, and Zipf s = 1.5's first rank (key 0) takes about
 * 1 / H(1000, 1.5) = 39 % of 65536 draws. */
static void sequence(void)
{
	enum { LEN = 65536, N = 1000 };
	uint64_t *a = calloc(LEN, sizeof(*a)), *z = calloc(LEN, sizeof(*z));
	size_t in_range = 0, zero = 0, same = 0;

	if (!ASSERT_OK_PTR(a, "alloc") || !ASSERT_OK_PTR(z, "alloc") ||
	    !ASSERT_OK(maps_sequence(a, LEN, N, ACCESS_UNIFORM, 7), "uniform") ||
	    !ASSERT_OK(maps_sequence(z, LEN, N, ACCESS_ZIPF_15, 7), "zipf"))
		goto out;
	for (size_t i = 0; i < LEN; i++) {
		in_range += a[i] < N && z[i] < N;
		zero += z[i] == 0;
	}
	ASSERT_EQ(in_range, LEN, "keys in range");
	ASSERT_GT(zero, LEN * 35 / 100, "rank 1 share > 35 %");
	ASSERT_LT(zero, LEN * 43 / 100, "rank 1 share < 43 %");
	ASSERT_OK(maps_sequence(z, LEN, N, ACCESS_UNIFORM, 7), "again");
	for (size_t i = 0; i < LEN; i++)
		same += a[i] == z[i];
	ASSERT_EQ(same, LEN, "the same seed, the same sequence");
out:
	free(a);
	free(z);
}

OLAB_TEST(bench_maps)
{
	const struct bench *b = bench_by_name("maps");
	static const char *const types[] = { "array", "percpu-array", "hash", "percpu-hash",
					     "lru-hash", "lru-percpu-hash" };
	static const char *const contention[] = { "rmw-unprotected", "atomic-add", "spin-lock",
						  "percpu" };
	static const struct cell_spec odd[] = {
		{ "xdp", "hash-lookup", 1000, 16, ACCESS_ZIPF_1, false, NULL },
		{ "xdp", "lru-hash-lookup", 1000, 64, ACCESS_ZIPF_15, false, NULL },
		{ "xdp", "hash-update", 1000, 4, ACCESS_UNIFORM, true, NULL },
		{ "xdp", "percpu-hash-lookup", 1000, 4, ACCESS_ZIPF_05, true, NULL },
		{ "xdp", "lru-hash-lookup", 1000, 4, ACCESS_UNIFORM, true, "BPF_F_NO_PREALLOC" },
		{ "xdp", "array-lookup", 1000, 4, ACCESS_UNIFORM, true, "BPF_F_NO_PREALLOC" },
		{ "sk-skb-verdict", "hash-lookup", 1000, 4, ACCESS_UNIFORM, false, NULL },
		{ "sk-skb-verdict", "lru-hash-update", 1000, 4, ACCESS_UNIFORM, false, NULL },
	};
	char name[96];

	if (!ASSERT_OK_PTR(b, "bench maps registered"))
		return;
	if (test_subtest("sequence"))
		sequence();
	for (size_t t = 0; t < 6; t++)
		for (int upd = 0; upd < 2; upd++) {
			struct cell_spec p = { upd ? "tc" : "xdp", NULL, 1000, 4, ACCESS_UNIFORM,
					       false, NULL };

			snprintf(name, sizeof(name), "%s-%s", types[t], upd ? "update" : "lookup");
			p.op = name;
			if (test_subtest("%s/%s", p.hook, name))
				map_cell(b, &p);
		}
	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++)
		if (test_subtest("%s%s%s/%uB/%s%s", strcmp(odd[k].hook, "xdp") ? odd[k].hook : "",
				 strcmp(odd[k].hook, "xdp") ? "/" : "", odd[k].op, odd[k].key,
				 bench_access_names[odd[k].access],
				 odd[k].no_prealloc ? "/no-prealloc" : ""))
			map_cell(b, &odd[k]);
	for (int upd = 0; upd < 2; upd++)
		for (int tc = 0; tc < 2; tc++)
			if (test_subtest("arena/%s/%s", tc ? "tc" : "xdp", upd ? "update" : "lookup"))
				arena_cell(b, tc ? "tc" : "xdp", upd ? "arena-update" : "arena-lookup");
	for (size_t k = 0; k < 4; k++)
		if (test_subtest("contend/%s", contention[k]))
			contend_cell(b, k % 2 ? "tc" : "xdp", contention[k]);
}
