/*
 * bench copy: ns to copy N bytes (16 .. 1472) of a packet into a map value,
 * four ways: a bounds check before every byte, one check up front, from
 * the stack with no check at all, and the helpers (bpf_xdp_load_bytes /
 * bpf_skb_load_bytes) and dynptrs (bpf_dynptr_from_xdp/skb +
 * bpf_dynptr_read).  BPF_PROG_TEST_RUN on a 1514-byte frame at xdp and tc,
 * minus the same program without the copy (paired trials), and the copy
 * timed inside the program.  What the verifier refuses is the reason.
 * Also memcpy between two map values (up to 4 KB): byte and 8-byte loops,
 * bpf_probe_read_kernel, and a dynptr over the source.
 */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bench/bench.h"
#include "bench/micro.h"
#include "bpf/copy.h"
#include "copy.skel.h"

#define REPEAT 5000

static const char *const copy_ops[] = {
	"per-byte-check", "upfront-check", "stack", "helper", "dynptr",
	"memcpy-byte", "memcpy-word", "memcpy-helper", "memcpy-dynptr", NULL
};

struct copy_cell {
	struct micro_cell m;
};

static bool from_packet(const struct bench_cell *c)
{
	return c->op < COPY_MEM_BYTE;
}

/* A packet copy up to a frame's payload; memcpy up to 4 KB. */
static bool copy_applies(const struct bench_cell *c)
{
	if (strcmp(c->hook->name, "xdp") && strcmp(c->hook->name, "tc"))
		return false;
	return !from_packet(c) || c->size <= COPY_MAX;
}

static void copy_plan(struct bench_cell *c)
{
	micro_plan(c, copy_ops[c->op]);
}

static void copy_configure(void *skel, const struct bench_cell *c, bool empty)
{
	struct copy *k = skel;

	k->rodata->method = empty ? COPY_NONE : c->op;
	k->rodata->len = (uint32_t)c->size;
}
MICRO_SKEL_OPS(copy, copy_configure);

static int copy_setup(struct bench_cell *c)
{
	return micro_setup(c, &((struct copy_cell *)c->priv)->m, &copy_micro_ops,
			   MICRO_FRAME_MAX);
}

static void copy_teardown(struct bench_cell *c)
{
	micro_teardown(&((struct copy_cell *)c->priv)->m);
}

static int copy_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct copy *k = micro_skel(&((struct copy_cell *)c->priv)->m, t);
	uint64_t copied0 = k->bss->copied, failed0 = k->bss->failures;
	int err = micro_trial(c, &((struct copy_cell *)c->priv)->m, t, REPEAT, 1);

	if (err)
		return err;
	json_object_set_new(t->detail, "bytes_copied", json_integer(k->bss->copied - copied0));
	json_object_set_new(t->detail, "failed_copies", json_integer(k->bss->failures - failed0));
	return 0;
}

static int copy_report(struct bench_cell *c, const struct bench_series *s)
{
	struct copy_cell *cc = c->priv;
	const char *op = copy_ops[c->op];
	char variant[48], in_prog[64];
	json_t *extra;

	extra = json_pack("{s:O, s:s, s:I, s:O}", "program", cc->m.facts, "methods_agree",
			  micro_agreement(s->cmp[0], s->cmp[1], s->n[ARM_MAIN]), "bytes",
			  (json_int_t)c->size, "per_trial", s->detail[ARM_MAIN]);
	if (!from_packet(c))
		json_object_set_new(extra, "note", json_string("memcpy from one per-CPU map value "
			"to another: no packet"));
	if (c->op == COPY_STACK)
		json_object_set_new(extra, "note", json_string("the source is a 256-byte stack "
			"buffer read cyclically: the stack holds at most 512 bytes"));
	snprintf(variant, sizeof(variant), "%s %lluB", op, (unsigned long long)c->size);
	snprintf(in_prog, sizeof(in_prog), "%s in-program", variant);
	bench_figure(c, variant, "ns_per_copy", "ns", "BPF_PROG_TEST_RUN duration per run, minus the "
		     "program without the copy (paired trials)", s->cmp[0], s->n[ARM_MAIN], extra);
	bench_figure(c, in_prog, "ns_per_copy", "ns", "bpf_ktime_get_ns around the copy inside "
		     "the program, minus the same without it (paired trials)", s->cmp[1],
		     s->n[ARM_MAIN], NULL);
	return 0;
}

static const struct bench bench_copy = {
	.name = "copy",
	.summary = "ns to copy N packet bytes into a map value (per-byte checks, one check, "
		   "stack, helpers, dynptrs), and memcpy between map values",
	.order = 140,
	.ops = copy_ops,
	.size_min = 16,
	.size_max = COPY_MEM_MAX,
	.axes = {
		[AXIS_HOOK] = { "xdp,tc", "xdp,tc" },
		[AXIS_SIZE] = { "16,64,256,1024,1472,4096", "64,1024" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "copy", [ARM_REF] = "no copy" },
	BENCH_METHODS(copy, struct copy_cell),
};
DEFINE_BENCH(bench_copy);
