/*
 * bench maps' ARENA cells: bpf/maps_arena.bpf.c, compiled at run time by
 * clang >= 18 (bench/bpf_cc.h) once a process, loaded by libbpf with the
 * arena created and mmap'd here (raw bpf(2), bpf_map__reuse_fd), and the
 * check that the values went where they should.
 */
#ifndef OLAB_BENCH_MAPS_ARENA_H
#define OLAB_BENCH_MAPS_ARENA_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "bench/micro.h"

/* Compile the program (the first call; later ones give the same answer):
 * 0, or -errno with the reason in why ("needs clang >= 18 ..."). */
int maps_arena_build(char *why, size_t len);

/* A struct micro_skel_ops for the compiled object, but configure: */
void *maps_arena_open(void);
int maps_arena_load(void *skel);
void maps_arena_destroy(void *skel);
struct bpf_object *maps_arena_obj(void *skel);
volatile struct micro_loop *maps_arena_loop(void *skel);
/* Before load: an arena of slots 8 B slots, each MAPS_ARENA_VALUE(PREFILL,
 * i), the op, a sequence of seq_len keys (errors: from load). */
void maps_arena_configure(void *skel, uint32_t op, uint32_t seq_len, uint32_t slots);
int maps_arena_seq_fd(void *skel);

/* The compiler and its flags into a cell's program facts. */
void maps_arena_facts(json_t *facts);
/* The arena's pages for slots 8 B slots. */
uint32_t maps_arena_pages(uint32_t slots);

/*
 * One trial (micro_trial) with t->detail's ops and hits; then, MAIN, the
 * walk checked through the mmaps: a lookup's sum_read (what the program
 * read) and sum_expected (the prefilled values of the slots walked), hex;
 * an update (a stamp of its own a trial) its slots_walked (distinct) and
 * slots_verified (holding the stamp's value).
 */
int maps_arena_trial(struct bench_cell *c, struct micro_cell *m, struct bench_trial *t,
		     uint32_t repeat, bool update);

#endif
