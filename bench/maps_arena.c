/* bench maps' ARENA cells (bench/maps_arena.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench/bpf_cc.h"
#include "bench/maps_arena.h"
#include "bpf/maps.h"
#include "lib/bpf_compat.h"

#define ARENA_SRC "maps_arena.bpf.c"
#define ARENA_CFLAGS "-O2", "-D__TARGET_ARCH_x86", "-Wall", "-Werror"
#define COMPILE_MS 60000

/* The build, once a process: the object's bytes, or why not. */
static struct {
	bool tried;
	int err;
	char why[256];
	char compiler[160];
	void *obj;
	size_t obj_len;
} build;

struct maps_arena {
	struct bpf_object *obj;
	struct maps_arena_state *st;    /* the state map, mmap'd after load */
	uint64_t *slots;                /* the arena, mmap'd */
	size_t slots_len, page;
	uint32_t nslots, stamp;
	int arena_fd;
	int err;                        /* configure's, returned by load */
};

static int read_whole(const char *path, void **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	int err = 0;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET))
		err = -EIO;
	else if (!(*buf = malloc((size_t)n)))
		err = -ENOMEM;
	else if (fread(*buf, 1, (size_t)n, f) != (size_t)n)
		err = -EIO;
	if (!err)
		*len = (size_t)n;
	fclose(f);
	return err;
}

/* clang at path: its version into build.compiler, the object's bytes. */
static int compile(const char *clang)
{
	const char *flags[] = { ARENA_CFLAGS, NULL };
	char dir[256], obj[300], ver[300], *argv[] = { (char *)clang, "--version", NULL };
	int handle = bpf_cc_scratch_open("maps-arena", dir, sizeof(dir), build.why,
					 sizeof(build.why)), err;

	if (handle < 0)
		return handle;
	snprintf(ver, sizeof(ver), "%s/version.txt", dir);
	if (bpf_cc_spawn(argv, ver, true, 10000) == 0)
		bpf_cc_first_line(ver, build.compiler, sizeof(build.compiler));
	snprintf(obj, sizeof(obj), "%s/maps_arena.bpf.o", dir);
	err = bpf_cc_compile(clang, dir, ARENA_SRC, obj, flags, COMPILE_MS, build.why,
			     sizeof(build.why));
	if (!err) {
		err = read_whole(obj, &build.obj, &build.obj_len);
		if (err)
			snprintf(build.why, sizeof(build.why), "reading the object: %s",
				 strerror(-err));
	}
	bpf_cc_scratch_close(handle, dir);
	return err;
}

int maps_arena_build(char *why, size_t len)
{
	static const int clangs[] = { 19, 18, 0 };
	char clang[128];

	if (!build.tried) {
		build.tried = true;
		if (!bpf_cc_src(ARENA_SRC)) {
			build.err = -ENOENT;
			snprintf(build.why, sizeof(build.why), "%s not embedded", ARENA_SRC);
		} else if (!bpf_cc_find_clang("/usr/bin", clangs, clang, sizeof(clang))) {
			build.err = -ENOENT;
			snprintf(build.why, sizeof(build.why),
				 "needs clang >= 18 for __arena (make deps-extra)");
		} else {
			build.err = compile(clang);
		}
	}
	if (build.err)
		snprintf(why, len, "%s", build.why);
	return build.err;
}

void maps_arena_facts(json_t *facts)
{
	json_object_set_new(facts, "compiler", json_string(build.compiler));
	json_object_set_new(facts, "bpf_cflags", json_string("-target bpf -g -O2 "
			    "-D__TARGET_ARCH_x86 -Wall -Werror (at run time)"));
}

uint32_t maps_arena_pages(uint32_t slots)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (uint32_t)(((size_t)slots * sizeof(uint64_t) + page - 1) / page);
}

void *maps_arena_open(void)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "maps_arena");
	struct maps_arena *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->arena_fd = -1;
	a->page = (size_t)sysconf(_SC_PAGESIZE);
	a->obj = build.obj ? bpf_object__open_mem(build.obj, build.obj_len, &opts) : NULL;
	if (!a->obj) {
		free(a);
		errno = build.obj ? errno : ENOENT;
		return NULL;
	}
	return a;
}

/* The arena, mmap'd (its user address is then set: the verifier wants it)
 * and prefilled, its fd reused for the object's `arena`. */
static int make_arena(struct maps_arena *a, uint32_t slots)
{
	uint32_t pages = maps_arena_pages(slots);

	a->arena_fd = olab_arena_create(pages, "olab_arena");
	if (a->arena_fd < 0)
		return a->arena_fd;
	a->slots_len = (size_t)pages * a->page;
	a->slots = mmap(NULL, a->slots_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->arena_fd, 0);
	if (a->slots == MAP_FAILED) {
		a->slots = NULL;
		return -errno;
	}
	a->nslots = slots;
	for (uint32_t i = 0; i < slots; i++)
		a->slots[i] = MAPS_ARENA_VALUE(MAPS_ARENA_PREFILL, i);
	return bpf_map__reuse_fd(bpf_object__find_map_by_name(a->obj, "arena"), a->arena_fd);
}

void maps_arena_configure(void *skel, uint32_t op, uint32_t seq_len, uint32_t slots)
{
	struct maps_arena *a = skel;
	struct bpf_map *ro = bpf_object__find_map_by_name(a->obj, ".rodata");
	struct maps_arena_cfg *cfg;
	size_t sz = 0;

	a->err = make_arena(a, slots);
	/* libbpf's image of .rodata, written before load (as a skeleton does). */
	cfg = ro ? (struct maps_arena_cfg *)(uintptr_t)bpf_map__initial_value(ro, &sz) : NULL;
	if (!a->err && (!cfg || sz < sizeof(*cfg)))
		a->err = -ENOENT;
	if (a->err)
		return;
	cfg->base = (uint64_t)(uintptr_t)a->slots;
	cfg->op = op;
	cfg->seq_mask = seq_len - 1;
	a->err = bpf_map__set_max_entries(bpf_object__find_map_by_name(a->obj, "seq"), seq_len);
}

int maps_arena_load(void *skel)
{
	struct maps_arena *a = skel;
	struct bpf_map *st = bpf_object__find_map_by_name(a->obj, "state");
	void *p;
	int err = a->err ? a->err : bpf_object__load(a->obj);

	if (err)
		return err;
	p = mmap(NULL, a->page, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(st), 0);
	if (p == MAP_FAILED)
		return -errno;
	a->st = p;
	return 0;
}

void maps_arena_destroy(void *skel)
{
	struct maps_arena *a = skel;

	if (a->st)
		munmap(a->st, a->page);
	if (a->slots)
		munmap(a->slots, a->slots_len);
	if (a->arena_fd >= 0)
		close(a->arena_fd);
	bpf_object__close(a->obj);
	free(a);
}

struct bpf_object *maps_arena_obj(void *skel)
{
	return ((struct maps_arena *)skel)->obj;
}

volatile struct micro_loop *maps_arena_loop(void *skel)
{
	return &((struct maps_arena *)skel)->st->loop_stats;
}

int maps_arena_seq_fd(void *skel)
{
	return bpf_map__fd(bpf_object__find_map_by_name(((struct maps_arena *)skel)->obj, "seq"));
}

/* What ops steps of the walk from pos should leave: the distinct slots
 * walked, how many hold stamp's value now, the sum of the prefilled values
 * read (the program's `sink` grows by it at lookup). */
struct walk_check {
	json_int_t walked, verified;
	uint64_t sum;
};

static int check_walk(struct maps_arena *a, uint32_t pos, uint64_t ops, uint32_t stamp,
		      struct walk_check *w)
{
	struct bpf_map *m = bpf_object__find_map_by_name(a->obj, "seq");
	uint32_t len = bpf_map__max_entries(m);
	size_t bytes = (size_t)len * sizeof(uint64_t);
	uint8_t *seen = calloc(a->nslots, 1);
	uint64_t *seq = mmap(NULL, bytes, PROT_READ, MAP_SHARED, bpf_map__fd(m), 0);

	memset(w, 0, sizeof(*w));
	if (!seen || seq == MAP_FAILED) {
		free(seen);
		return seen ? -errno : -ENOMEM;
	}
	for (uint64_t i = 0; i < ops; i++) {
		uint64_t idx = seq[(pos + i) & (len - 1)];

		w->sum += MAPS_ARENA_VALUE(MAPS_ARENA_PREFILL, idx);
		if (idx >= a->nslots || seen[idx])
			continue;
		seen[idx] = 1;
		w->walked++;
		w->verified += a->slots[idx] == MAPS_ARENA_VALUE(stamp, idx);
	}
	munmap(seq, bytes);
	free(seen);
	return 0;
}

static json_t *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

int maps_arena_trial(struct bench_cell *c, struct micro_cell *m, struct bench_trial *t,
		     uint32_t repeat, bool update)
{
	struct maps_arena *a = micro_skel(m, t);
	volatile struct maps_arena_state *st = a->st;
	uint64_t ops0 = st->ops_done, hits0 = st->hits, sink0 = st->sink, ops;
	uint32_t pos0 = st->pos;
	struct walk_check w;
	int err;

	if (update && t->arm == ARM_MAIN)
		st->stamp = ++a->stamp;
	err = micro_trial(c, m, t, repeat, MAPS_OPS_PER_RUN);
	if (err)
		return err;
	ops = st->ops_done - ops0;
	json_object_set_new(t->detail, "ops", json_integer((json_int_t)ops));
	json_object_set_new(t->detail, "hits", json_integer((json_int_t)(st->hits - hits0)));
	if (t->arm != ARM_MAIN)
		return 0;
	err = check_walk(a, pos0, ops, a->stamp, &w);
	if (update) {
		json_object_set_new(t->detail, "slots_walked", json_integer(w.walked));
		json_object_set_new(t->detail, "slots_verified", json_integer(w.verified));
	} else {
		/* u64 sums (mod 2^64): hex strings, JSON numbers are doubles. */
		json_object_set_new(t->detail, "sum_read", hex(st->sink - sink0));
		json_object_set_new(t->detail, "sum_expected", hex(w.sum));
	}
	return err;
}
