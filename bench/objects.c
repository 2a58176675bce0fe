/*
 * bench objects: where a program should keep a per-request object of 64 B
 * .. 64 KB: on the stack (at most 512 B, with the program's own locals) or
 * in a per-CPU array scratch slot (larger than a per-CPU value may be, 32
 * KB: an ARRAY slot), zeroed first or not.  Each run zeroes (or not),
 * writes every word and sums them; BPF_PROG_TEST_RUN at xdp and tc minus
 * the same program without the object (paired trials), and the work timed
 * inside the program.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bench/bench.h"
#include "bench/micro.h"
#include "bpf/objects.h"
#include "objects.skel.h"

#define REPEAT 5000

static const char *const object_ops[] = { "stack", "stack-zeroed", "map", "map-zeroed", NULL };

struct objects_cell {
	struct micro_cell m;
};

static bool on_stack(const struct bench_cell *c)
{
	return c->op == OBJ_STACK || c->op == OBJ_STACK_ZEROED;
}

/* The stack only up to its limit (512 B is the first size past it). */
static bool objects_applies(const struct bench_cell *c)
{
	if (strcmp(c->hook->name, "xdp") && strcmp(c->hook->name, "tc"))
		return false;
	return !on_stack(c) || c->size <= 512;
}

static void objects_plan(struct bench_cell *c)
{
	micro_plan(c, object_ops[c->op]);
}

static void objects_configure(void *skel, const struct bench_cell *c, bool empty)
{
	struct objects *k = skel;

	k->rodata->place = empty ? OBJ_NONE : c->op;
	k->rodata->size = (uint32_t)c->size;
}
MICRO_SKEL_OPS(objects, objects_configure);

static int objects_setup(struct bench_cell *c)
{
	if (on_stack(c) && c->size > OBJ_STACK_MAX) {
		snprintf(c->refused, sizeof(c->refused), "%llu B does not fit: the BPF stack is 512 B "
			 "and the program's own locals take the rest (clang: \"Looks like the BPF "
			 "stack limit is exceeded\")", (unsigned long long)c->size);
		return 0;
	}
	return micro_setup(c, &((struct objects_cell *)c->priv)->m, &objects_micro_ops, 64);
}

static void objects_teardown(struct bench_cell *c)
{
	micro_teardown(&((struct objects_cell *)c->priv)->m);
}

static int objects_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct objects *k = micro_skel(&((struct objects_cell *)c->priv)->m, t);
	uint64_t words0 = k->bss->words_written;
	int err = micro_trial(c, &((struct objects_cell *)c->priv)->m, t, REPEAT, 1);

	if (!err)
		json_object_set_new(t->detail, "words_written",
				    json_integer(k->bss->words_written - words0));
	return err;
}

static int objects_report(struct bench_cell *c, const struct bench_series *s)
{
	struct objects_cell *oc = c->priv;
	char variant[48], in_prog[64];

	snprintf(variant, sizeof(variant), "%s %lluB", object_ops[c->op],
		 (unsigned long long)c->size);
	snprintf(in_prog, sizeof(in_prog), "%s in-program", variant);
	bench_figure(c, variant, "ns_per_object", "ns", "BPF_PROG_TEST_RUN duration per run, "
		     "minus the program without the object (paired trials)", s->cmp[0],
		     s->n[ARM_MAIN], json_pack("{s:O, s:s, s:s, s:O}", "program", oc->m.facts,
		     "methods_agree", micro_agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]),
		     "slot", !on_stack(c) && c->size > OBJ_MAP_MAX ? "ARRAY (over a per-CPU "
		     "value's 32 KB)" : on_stack(c) ? "stack" : "PERCPU_ARRAY",
		     "per_trial", s->detail[ARM_MAIN]));
	bench_figure(c, in_prog, "ns_per_object", "ns", "bpf_ktime_get_ns around the work inside "
		     "the program, minus the same without it (paired trials)", s->cmp[1],
		     s->n[ARM_MAIN], NULL);
	return 0;
}

static const struct bench bench_objects = {
	.name = "objects",
	.summary = "ns to build a per-request object on the stack or in a per-CPU map slot",
	.order = 145,
	.ops = object_ops,
	.size_max = OBJ_BIG_MAX,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc", "xdp" },
		[AXIS_SIZE] = { "64,128,256,512,1024,4096,16384,65536", "256,4096" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "object", [ARM_REF] = "no object" },
	BENCH_METHODS(objects, struct objects_cell),
};
DEFINE_BENCH(bench_objects);
