/*
 * bench maps: ns per lookup and per update of each map type an offload may
 * keep state in (ARRAY, PERCPU_ARRAY, HASH, PERCPU_HASH, LRU_HASH,
 * LRU_PERCPU_HASH; ARENA, as an array of 8 B values, where the kernel has it
 * and clang >= 18 is installed: bench/maps_arena.h), from 100 to
 * 1M entries, with 4..64 B keys, uniform or Zipf access, preallocated or
 * not; and one counter hit by both CPUs at once: unprotected, atomic, under
 * bpf_spin_lock, per CPU, with the updates lost.  Each run does 64
 * operations on the keys of a sequence user space wrote (the maps
 * prefilled); BPF_PROG_TEST_RUN at xdp and tc minus the same walk without
 * the operation (paired trials), and the walk timed inside the program.
 *
 * The grid is a star around the 4 B key, uniform, preallocated point: every
 * entry count there; one of key size, access, NO_PREALLOC changed at a time
 * at 100000 entries (any mix with --key, --access, --prealloc given).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bench/bench.h"
#include "bench/maps_arena.h"
#include "bench/maps_kit.h"
#include "bench/micro.h"
#include "bpf/maps.h"
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "maps.skel.h"

#define REPEAT         1000
#define REPEAT_CONTEND 4000      /* longer: the two CPUs' windows overlap more */
#define STAR_ENTRIES   100000    /* where key, access and prealloc vary */
#define CONTEND_SIZE   100
#define SEQ_SEED       0x6d617073ull
#define LRU_LOCAL_FREE 128       /* the kernel's LOCAL_FREE_TARGET */
#define ENOTSUPP_KERNEL 524      /* the kernel's own ENOTSUPP: no strerror() for it */
#define VARIANT_LEN    80
#define VARIANT_MAX    1024

static const char *const map_ops[] = {
	"array-lookup", "array-update", "percpu-array-lookup", "percpu-array-update",
	"hash-lookup", "hash-update", "percpu-hash-lookup", "percpu-hash-update",
	"lru-hash-lookup", "lru-hash-update", "lru-percpu-hash-lookup", "lru-percpu-hash-update",
	"arena-lookup", "arena-update",
	"rmw-unprotected", "atomic-add", "spin-lock", "percpu", NULL
};
#define OP_ARENA   12
#define OP_CONTEND 14    /* the first contention op: MOP_RMW + (op - OP_CONTEND) */

struct map_type {
	const char *name;
	uint32_t type;
	bool hash, percpu, lru;
};

static const struct map_type map_types[] = {
	{ "ARRAY", BPF_MAP_TYPE_ARRAY, false, false, false },
	{ "PERCPU_ARRAY", BPF_MAP_TYPE_PERCPU_ARRAY, false, true, false },
	{ "HASH", BPF_MAP_TYPE_HASH, true, false, false },
	{ "PERCPU_HASH", BPF_MAP_TYPE_PERCPU_HASH, true, true, false },
	{ "LRU_HASH", BPF_MAP_TYPE_LRU_HASH, true, false, true },
	{ "LRU_PERCPU_HASH", BPF_MAP_TYPE_LRU_PERCPU_HASH, true, true, true },
	{ "ARENA", BPF_MAP_TYPE_ARENA, false, false, false },
};

struct maps_cell {
	struct micro_cell m;
	uint32_t seq_len;
};

static bool contended(const struct bench_cell *c)
{
	return c->op >= OP_CONTEND;
}

/* The arena as an array of 8 B values (bpf/maps_arena.bpf.c, built at run time). */
static bool arena(const struct bench_cell *c)
{
	return !contended(c) && c->op >= OP_ARENA;
}

static const struct map_type *cell_type(const struct bench_cell *c)
{
	return &map_types[c->op / 2];
}

static enum maps_op cell_mop(const struct bench_cell *c)
{
	if (contended(c))
		return (enum maps_op)(MOP_RMW + (c->op - OP_CONTEND));
	return c->op % 2 ? MOP_UPDATE : MOP_LOOKUP;
}

/* At most one axis off the star's centre (those the user gave count not). */
static bool maps_applies(const struct bench_cell *c)
{
	unsigned off = 0;

	if (micro_live(c)) /* one skb a run: no contention, the centre at 100K unless asked */
		return !strcmp(c->hook->name, "sk-skb-verdict") && !contended(c) && c->op < OP_ARENA &&
		       (c->given[AXIS_HOOK] || (c->key == 4 && c->access == ACCESS_UNIFORM &&
		       !c->no_prealloc && (c->size == STAR_ENTRIES || c->given[AXIS_SIZE])));
	if (strcmp(c->hook->name, "xdp") && strcmp(c->hook->name, "tc"))
		return false;
	if (arena(c) && (c->key != 4 || c->no_prealloc))
		return false; /* indexes into pages the first touch allocates */
	off += c->key != 4 && !c->given[AXIS_KEY];
	off += c->access != ACCESS_UNIFORM && !c->given[AXIS_ACCESS];
	off += c->no_prealloc && !c->given[AXIS_PREALLOC];
	if (contended(c) || c->op >= OP_ARENA)
		return !off && (c->op < OP_CONTEND || c->given[AXIS_SIZE] || c->size == CONTEND_SIZE);
	if (c->key != 4 && !cell_type(c)->hash)
		return false; /* array keys are 4 B */
	return !off || (off == 1 && (c->size == STAR_ENTRIES || c->given[AXIS_SIZE]));
}

/* The cell's name, kept for the run (cells hold a pointer). */
static const char *cell_variant(const struct bench_cell *c)
{
	static char pool[VARIANT_MAX][VARIANT_LEN];
	static size_t used;
	char v[VARIANT_LEN];

	if (contended(c))
		snprintf(v, sizeof(v), "%s 2 CPUs 1 key", map_ops[c->op]);
	else
		snprintf(v, sizeof(v), "%s %llu entries %uB-key %s%s", map_ops[c->op],
			 (unsigned long long)c->size, c->key, bench_access_names[c->access],
			 c->no_prealloc ? " no-prealloc" : "");
	for (size_t i = 0; i < used; i++)
		if (!strcmp(pool[i], v))
			return pool[i];
	if (used == VARIANT_MAX)
		return map_ops[c->op];
	snprintf(pool[used], VARIANT_LEN, "%s", v);
	return pool[used++];
}

static void maps_plan(struct bench_cell *c)
{
	micro_plan(c, cell_variant(c));
}

static uint32_t seq_len(const struct bench_cell *c)
{
	uint32_t len = MAPS_SEQ_MIN;

	while (len < c->size && len < MAPS_SEQ_MAX)
		len *= 2;
	return len;
}

/*
 * The target's max_entries: the entries, and for LRU maps room for the
 * free nodes each CPU keeps (128 a CPU, pulled from the common list; with
 * fewer left, a pull evicts): a full LRU map of N holds fewer than N keys.
 */
static uint32_t max_entries(const struct bench_cell *c)
{
	int ncpus = libbpf_num_possible_cpus();

	if (!cell_type(c)->lru)
		return (uint32_t)c->size;
	return (uint32_t)c->size + LRU_LOCAL_FREE * 2 * (uint32_t)(ncpus > 0 ? ncpus : 1);
}

static void maps_configure(void *skel, const struct bench_cell *c, bool empty)
{
	struct maps *k = skel;
	const struct map_type *mt = cell_type(c);
	bool target = !empty && !contended(c);

	k->rodata->op = empty ? MOP_NONE : cell_mop(c);
	k->rodata->seq_mask = seq_len(c) - 1;
	bpf_map__set_max_entries(k->maps.seq, seq_len(c));
	bpf_map__set_type(k->maps.target, target ? mt->type : BPF_MAP_TYPE_ARRAY);
	bpf_map__set_max_entries(k->maps.target, target ? max_entries(c) : 1);
	bpf_map__set_key_size(k->maps.target, target && mt->hash ? c->key : 4);
	bpf_map__set_map_flags(k->maps.target, target && c->no_prealloc ? BPF_F_NO_PREALLOC : 0);
}
MICRO_SKEL_OPS(maps, maps_configure);

static void arena_configure(void *skel, const struct bench_cell *c, bool empty)
{
	maps_arena_configure(skel, empty ? MOP_NONE : cell_mop(c), seq_len(c),
			     empty ? 1 : (uint32_t)c->size);
}

static const struct micro_skel_ops arena_micro_ops = {
	"maps_arena", maps_arena_open, maps_arena_load, maps_arena_destroy, maps_arena_obj,
	maps_arena_loop, NULL, arena_configure,
};

/* What the kernel (or this toolchain) does not allow: the reason, before loading. */
static bool refused(struct bench_cell *c)
{
	const struct map_type *mt = cell_type(c);
	uint32_t entries = c->size < 128 ? (uint32_t)c->size : 128;
	int err;

	if (contended(c))
		return false;
	if (arena(c)) {
		const struct feature_status *fs = feature_probe(FEAT_ARENA);

		if (!fs->supported) {
			snprintf(c->refused, sizeof(c->refused), "no BPF_MAP_TYPE_ARENA here "
				 "(env: arena): %s", fs->reason);
			return true;
		}
		return maps_arena_build(c->refused, sizeof(c->refused)) != 0;
	}
	err = maps_probe_create(mt->type, mt->hash ? c->key : 4, 8, entries,
				c->no_prealloc ? BPF_F_NO_PREALLOC : 0);
	if (!err)
		return false;
	snprintf(c->refused, sizeof(c->refused), "the kernel refuses BPF_MAP_CREATE of %s%s: %s%s",
		 mt->name, c->no_prealloc ? " with BPF_F_NO_PREALLOC" : "",
		 err == -ENOTSUPP_KERNEL ? "ENOTSUPP (524)" : strerror(-err),
		 !c->no_prealloc ? "" : mt->lru ? " (LRU maps are always preallocated)" :
		 !mt->hash ? " (arrays are always preallocated)" : "");
	return true;
}

/* The same access sequence into both arms' seq maps (mmap'd). */
static int write_sequence(struct bench_cell *c, struct maps_cell *mc)
{
	size_t bytes = (size_t)mc->seq_len * sizeof(uint64_t);
	uint64_t *seq = malloc(bytes);
	int err = seq ? maps_sequence(seq, mc->seq_len, (uint32_t)c->size, c->access, SEQ_SEED)
		      : -ENOMEM;

	for (int i = 0; i < 2 && !err; i++) {
		void *k = mc->m.arm[i].skel;
		void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, arena(c)
			       ? maps_arena_seq_fd(k) : bpf_map__fd(((struct maps *)k)->maps.seq), 0);

		if (p == MAP_FAILED) {
			err = -errno;
			break;
		}
		memcpy(p, seq, bytes);
		munmap(p, bytes);
	}
	free(seq);
	return err;
}

static int maps_setup(struct bench_cell *c)
{
	struct maps_cell *mc = c->priv;
	const struct map_type *mt = cell_type(c);
	int err;

	c->variant = cell_variant(c);
	if (refused(c))
		return 0;
	mc->seq_len = seq_len(c);
	err = micro_setup(c, &mc->m, arena(c) ? &arena_micro_ops : &maps_micro_ops, 64);
	if (err || c->refused[0])
		return err;
	if (arena(c))
		maps_arena_facts(mc->m.facts);
	err = write_sequence(c, mc);
	if (!err && !contended(c) && !arena(c))
		err = maps_prefill(bpf_map__fd(((struct maps *)mc->m.arm[0].skel)->maps.target),
				   (uint32_t)c->size, mt->hash ? c->key : 4, mt->percpu);
	return err;
}

static void maps_teardown(struct bench_cell *c)
{
	micro_teardown(&((struct maps_cell *)c->priv)->m);
}

/* The contended counter's total now (every CPU's, per CPU). */
static int counter_total(struct maps *k, enum maps_op mop, uint64_t *out)
{
	uint64_t v[64] = { 0 };
	struct maps_locked l;
	uint32_t zero = 0;
	int ncpus = libbpf_num_possible_cpus(), err;

	if (mop == MOP_SPIN_LOCK) {
		err = bpf_map_lookup_elem(bpf_map__fd(k->maps.locked), &zero, &l);
		*out = l.n;
	} else if (mop == MOP_PERCPU) {
		if (ncpus < 1 || ncpus > 64)
			return -ERANGE;
		err = bpf_map_lookup_elem(bpf_map__fd(k->maps.percpu_counter), &zero, v);
		*out = 0;
		for (int i = 0; i < ncpus; i++)
			*out += v[i];
	} else {
		err = bpf_map_lookup_elem(bpf_map__fd(k->maps.counter), &zero, v);
		*out = v[0];
	}
	return err ? -errno : 0;
}

/* Both CPUs run the program at once: ns per op (each CPU's mean), and the
 * updates lost (ops done - the counter's increase; MAIN only). */
static int contend_trial(struct bench_cell *c, struct maps_cell *mc, struct bench_trial *t)
{
	int i = t->arm == ARM_MAIN ? 0 : 1, fd = bpf_program__fd(mc->m.arm[i].hp.prog), err = 0;
	struct maps *k = mc->m.arm[i].skel;
	volatile struct micro_loop *l = mc->m.ops->loop(k);
	uint64_t ops0 = k->bss->ops_done, n0 = 0, n1 = 0, ops;
	struct micro_snap a = { 0 }, b = { 0 };
	double run_ns[2] = { 0 };
	int64_t lost;

	if (i == 0)
		err = counter_total(k, cell_mop(c), &n0);
	micro_snap(l, fd, &a);
	if (!err)
		err = maps_contend_window(fd, mc->m.frame, mc->m.frame_len, REPEAT_CONTEND, run_ns,
					  t->why, sizeof(t->why));
	micro_snap(l, fd, &b);
	if (!err && i == 0)
		err = counter_total(k, cell_mop(c), &n1);
	if (err)
		return err;
	ops = k->bss->ops_done - ops0;
	lost = i == 0 ? (int64_t)ops - (int64_t)(n1 - n0) : 0;
	t->v[0] = (run_ns[0] + run_ns[1]) / 2 / MAPS_OPS_PER_RUN;
	t->v[1] = micro_in_prog_ns(&a, &b) / MAPS_OPS_PER_RUN;
	t->v[2] = ops ? 100.0 * (double)lost / (double)ops : 0;
	t->detail = json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f}", "runs",
			      (json_int_t)(b.runs - a.runs), "repeat", (json_int_t)2 * REPEAT_CONTEND,
			      "ops", (json_int_t)ops, "counted", (json_int_t)(i == 0 ? n1 - n0 : 0),
			      "lost", (json_int_t)lost, "cpu0_ns_per_run", run_ns[0],
			      "cpu1_ns_per_run", run_ns[1]);
	return 0;
}

static int maps_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct maps_cell *mc = c->priv;
	struct maps *k = micro_skel(&mc->m, t);
	uint64_t ops0, hits0;
	int err;

	if (contended(c))
		return contend_trial(c, mc, t);
	if (arena(c))
		return maps_arena_trial(c, &mc->m, t, REPEAT, cell_mop(c) == MOP_UPDATE);
	ops0 = k->bss->ops_done;
	hits0 = k->bss->hits;
	err = micro_trial(c, &mc->m, t, REPEAT, MAPS_OPS_PER_RUN);
	if (err)
		return err;
	json_object_set_new(t->detail, "ops", json_integer((json_int_t)(k->bss->ops_done - ops0)));
	json_object_set_new(t->detail, "hits", json_integer((json_int_t)(k->bss->hits - hits0)));
	return 0;
}

static json_int_t detail_sum(const struct bench_series *s, const char *key)
{
	json_int_t n = 0;
	json_t *d;
	size_t i;

	json_array_foreach(s->detail[ARM_MAIN], i, d)
		n += json_integer_value(json_object_get(d, key));
	return n;
}

static json_t *map_json(const struct bench_cell *c, const struct maps_cell *mc)
{
	const struct map_type *mt = cell_type(c);

	return json_pack("{s:s, s:I, s:I, s:i, s:i, s:s, s:s, s:f, s:i, s:I}", "type", mt->name,
			 "entries", (json_int_t)c->size, "max_entries", (json_int_t)(arena(c)
			 ? maps_arena_pages((uint32_t)c->size) : max_entries(c)),
			 "key_bytes", mt->hash ? c->key : 4, "value_bytes", 8, "flags",
			 arena(c) ? "BPF_F_MMAPABLE (max_entries: pages)" :
			 c->no_prealloc ? "BPF_F_NO_PREALLOC" : "0",
			 "access", bench_access_names[c->access], "zipf_s", maps_zipf_s(c->access),
			 "sequence_len", mc->seq_len, "sequence_seed", (json_int_t)SEQ_SEED);
}

static int maps_report(struct bench_cell *c, const struct bench_series *s)
{
	struct maps_cell *mc = c->priv;
	json_int_t ops = detail_sum(s, "ops");
	char in_prog[VARIANT_LEN + 16];
	json_t *extra;

	extra = json_pack("{s:O, s:s, s:i, s:I, s:O}", "program", mc->m.facts, "methods_agree",
			  micro_agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]), "ops_per_run",
			  MAPS_OPS_PER_RUN, "ops", ops, "per_trial", s->detail[ARM_MAIN]);
	if (contended(c)) {
		json_object_set_new(extra, "counted", json_integer(detail_sum(s, "counted")));
		json_object_set_new(extra, "lost", json_integer(detail_sum(s, "lost")));
	} else {
		json_object_set_new(extra, "map", map_json(c, mc));
		json_object_set_new(extra, "hits", json_integer(detail_sum(s, "hits")));
	}
	snprintf(in_prog, sizeof(in_prog), "%s in-program", c->variant);
	bench_figure(c, c->variant, "ns_per_op", "ns", contended(c)
		     ? "BPF_PROG_TEST_RUN duration / 64 ops per run, CPU 0 and CPU 1 at once (their "
		       "mean), minus the same walk without the operation (paired trials)"
		     : "BPF_PROG_TEST_RUN duration / 64 ops per run, minus the same walk without "
		       "the operation (paired trials)", s->cmp[0], s->n[ARM_MAIN], extra);
	bench_figure(c, in_prog, "ns_per_op", "ns", "bpf_ktime_get_ns around the 64 ops inside the "
		     "program / 64, minus the same walk without them (paired trials)", s->cmp[1],
		     s->n[ARM_MAIN], NULL);
	if (contended(c))
		bench_figure(c, c->variant, "lost_updates_pct", "%", "(ops done - the counter's "
			     "increase) / ops done, both CPUs at once", s->v[ARM_MAIN][2],
			     s->n[ARM_MAIN], json_pack("{s:I, s:I}", "lost", detail_sum(s, "lost"),
			     "ops", ops));
	return 0;
}

static const struct bench bench_maps = {
	.name = "maps",
	.summary = "ns per map lookup and update by type, entries, key, access; a contended counter",
	.order = 170,
	.ops = map_ops,
	.size_min = 1,
	.size_max = 1000000,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc,sk-skb-verdict", "xdp" },
		[AXIS_SIZE] = { "100,1000,10000,100000,1000000", "100,100000" },
		[AXIS_OP] = { NULL, "array-lookup,hash-lookup,lru-hash-lookup,hash-update,arena-lookup,"
			      "rmw-unprotected,atomic-add,spin-lock,percpu" },
		[AXIS_KEY] = { "4,16,64", "4" },
		[AXIS_ACCESS] = { "uniform,zipf-0.5,zipf-1,zipf-1.5", "uniform,zipf-1" },
		[AXIS_PREALLOC] = { "prealloc,no-prealloc", "prealloc" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "map op", [ARM_REF] = "walk only" },
	BENCH_METHODS(maps, struct maps_cell),
};
DEFINE_BENCH(bench_maps);
