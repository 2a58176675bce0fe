/* The axes, their value lists, and the plan: every cell of a run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench/framework.h"
#include "lib/util.h"
#include "results/results.h"

#define MAX_VALUES 32
#define MAX_CELLS  4096

static const char *const proto_names[] = { "udp", "tcp", NULL };

struct axis {
	struct bench_axis_desc d;   /* d.choices NULL: a number in [min, max] */
	uint64_t min, max;
	const char *fallback;       /* a bench that does not declare the axis */
};

const char *const bench_channel_names[] = {
	"packet", "array", "hash", "mmap-ring", "ringbuf-epoll", "ringbuf-poll", "af-xdp",
	"user-ringbuf", NULL
};

const char *const bench_access_names[] = { "uniform", "zipf-0.5", "zipf-1", "zipf-1.5", NULL };
const char *const bench_prealloc_names[] = { "prealloc", "no-prealloc", NULL };

static const char *hook_names[40];

static const struct axis axes[AXIS__COUNT] = {
	[AXIS_HOOK] = { { "hook", "LIST", "hooks (default: every hook the bench applies to)",
			  hook_names }, 0, 0, NULL },
	[AXIS_LAYOUT] = { { "layout", "LIST", "CPU layouts (default: the bench's)",
			    bench_layout_names }, 0, 0, "app-shares-rx-cpu" },
	[AXIS_PROTO] = { { "proto", "LIST", "traffic (default: the bench's, else the hook's)",
			   proto_names }, 0, 0, NULL },
	[AXIS_SIZE] = { { "size", "LIST", "frame sizes (UDP) or request sizes (TCP) in bytes, "
			  "64..1500, or the bench's own bounds (default 64; maps: entries)" },
			1, 1000000, "64" },
	[AXIS_CPU_IDLE] = { { "cpu-idle", "LIST", "poll: hold /dev/cpu_dma_latency at 0 so no CPU "
			      "sleeps deeper than POLL; default: leave idle states alone (default: "
			      "poll for latency benches, whose full run also measures default)",
			      cpuidle_mode_names }, 0, 0, NULL },
	[AXIS_RUNTIME] = { { "runtime", "LIST", "where the app runs; runc is compared with netns, "
			     "trial by trial (default netns)", app_runtime_names }, 0, 0, "netns" },
	[AXIS_PCT] = { { "pct", "LIST", "percent: of each request passed as its summary (summarize), "
			 "of requests served at the hook (interfere)" }, 0, 100, "100" },
	[AXIS_BATCH] = { { "batch", "LIST", "requests per batch (batch)" }, 1, 64, "1" },
	[AXIS_CHANNEL] = { { "channel", "LIST", "kernel-to-user channels (share)",
			     bench_channel_names }, 0, 0, "packet" },
	[AXIS_COST] = { { "cost", "LIST", "per-request work at the hook in bpf_loop iterations "
			  "(interfere)" }, 0, 1000000, "0" },
	[AXIS_OP] = { { "op", "LIST", "the bench's operations (`bench list` shows them)" },
		      0, 0, NULL },
	[AXIS_KEY] = { { "key", "LIST", "map key bytes (maps)" }, 4, 64, "4" },
	[AXIS_ACCESS] = { { "access", "LIST", "map access pattern: uniform or Zipf s = 0.5, 1, 1.5 "
			    "(maps)", bench_access_names }, 0, 0, "uniform" },
	[AXIS_PREALLOC] = { { "prealloc", "LIST", "map memory: preallocated, or allocated on "
			      "update with BPF_F_NO_PREALLOC (maps)", bench_prealloc_names },
			    0, 0, "prealloc" },
	[AXIS_STAGES] = { { "stages", "LIST", "stages a request goes through, each a call, tail "
			    "call or callback (calls)" }, 1, 32, "1" },
};

const struct bench_axis_desc *bench_axis_desc(enum bench_axis a)
{
	return (unsigned)a < AXIS__COUNT ? &axes[a].d : NULL;
}

__attribute__((constructor)) static void load_hook_names(void)
{
	for (size_t i = 0; i < hook_count() && i + 1 < ARRAY_SIZE(hook_names); i++)
		hook_names[i] = hook_get(i)->name;
}

struct value_list {
	size_t n;
	uint64_t v[MAX_VALUES];     /* index into choices, or the number */
};

static int parse_value(const struct axis *a, const char *s, uint64_t *v, char *why, size_t len)
{
	char *end;

	if (a->d.choices) {
		for (size_t i = 0; a->d.choices[i]; i++) {
			if (!strcmp(a->d.choices[i], s)) {
				*v = i;
				return 0;
			}
		}
		snprintf(why, len, "--%s: unknown value '%s'", a->d.name, s);
		return -EINVAL;
	}
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *v < a->min || *v > a->max) {
		snprintf(why, len, "--%s: '%s' is not a number in [%llu, %llu]", a->d.name, s,
			 (unsigned long long)a->min, (unsigned long long)a->max);
		return -EINVAL;
	}
	return 0;
}

/* "a,b,c" into l (duplicates dropped). */
static int parse_list(const struct axis *a, const char *list, struct value_list *l, char *why,
		      size_t len)
{
	char buf[512], *save = NULL;
	int err = 0;

	l->n = 0;
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf) || !*buf) {
		snprintf(why, len, "--%s: empty or too long", a->d.name);
		return -EINVAL;
	}
	for (char *tok = strtok_r(buf, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		bool dup = false;

		err = parse_value(a, tok, &v, why, len);
		for (size_t i = 0; !err && i < l->n; i++)
			dup |= l->v[i] == v;
		if (!err && !dup && l->n == MAX_VALUES) {
			snprintf(why, len, "--%s: more than %d values", a->d.name, MAX_VALUES);
			err = -EINVAL;
		}
		if (!err && !dup)
			l->v[l->n++] = v;
	}
	return err;
}

/* The op axis: indexes into b->ops; every op by default (0 without ops). */
static int op_values(const struct bench *b, const char *list, struct value_list *l, char *why,
		     size_t len)
{
	struct axis a = axes[AXIS_OP];

	l->n = 0;
	if (!b->ops) {
		l->v[l->n++] = 0;
		return 0;
	}
	a.d.choices = b->ops;
	if (list)
		return parse_list(&a, list, l, why, len);
	for (size_t i = 0; b->ops[i] && l->n < MAX_VALUES; i++)
		l->v[l->n++] = i;
	return 0;
}

/* The values of axis ax for bench b under the user's options. */
static int axis_values(const struct bench *b, enum bench_axis ax, const struct bench_opts *o,
		       struct value_list *l, bool *given, char *why, size_t len)
{
	const struct bench_axis_values *bv = &b->axes[ax];
	const char *list = bv->full;
	/* Every bench has these; the others only when it declares them. */
	bool universal = ax == AXIS_HOOK || ax == AXIS_SIZE || ax == AXIS_CPU_IDLE;

	*given = o->axis[ax] && (bv->full || universal || (ax == AXIS_OP && b->ops));
	if (*given)
		list = o->axis[ax];
	else if (o->quick && bv->quick)
		list = bv->quick;
	if (!list && ax == AXIS_CPU_IDLE)
		list = b->latency ? "poll" : "default";
	if (!list)
		list = axes[ax].fallback;
	if (ax == AXIS_OP)
		return op_values(b, list, l, why, len);
	l->n = 0;
	if (!list) { /* every hook; the hook's own protocol */
		size_t n = ax == AXIS_HOOK ? hook_count() : 1;

		for (size_t i = 0; i < n; i++)
			l->v[l->n++] = ax == AXIS_HOOK ? i : UINT64_MAX;
		return 0;
	}
	return parse_list(&axes[ax], list, l, why, len);
}

/* runc is measured against netns (the ratio needs both), netns first. */
static void runtime_reference(struct value_list *l)
{
	bool netns = false;

	for (size_t i = 0; i < l->n; i++)
		netns |= l->v[i] == APP_RT_NETNS;
	if (netns || l->n == MAX_VALUES)
		return;
	memmove(&l->v[1], &l->v[0], l->n * sizeof(l->v[0]));
	l->v[0] = APP_RT_NETNS;
	l->n++;
}

static void cell_set(struct bench_cell *c, enum bench_axis ax, uint64_t v)
{
	switch (ax) {
	case AXIS_HOOK:
		c->hook = hook_get(v);
		break;
	case AXIS_LAYOUT:
		c->layout = (enum bench_layout)v;
		break;
	case AXIS_PROTO:
		c->tcp = v == UINT64_MAX ? hook_is_tcp(c->hook) : v == 1;
		break;
	case AXIS_SIZE:
		c->size = v;
		break;
	case AXIS_CPU_IDLE:
		c->cpu_idle = (enum cpuidle_mode)v;
		break;
	case AXIS_RUNTIME:
		c->runtime = (enum app_runtime)v;
		break;
	case AXIS_PCT:
		c->pct = (unsigned)v;
		break;
	case AXIS_BATCH:
		c->batch = (unsigned)v;
		break;
	case AXIS_CHANNEL:
		c->channel = (enum bench_channel)v;
		break;
	case AXIS_COST:
		c->cost = (unsigned)v;
		break;
	case AXIS_OP:
		c->op = (unsigned)v;
		break;
	case AXIS_KEY:
		c->key = (unsigned)v;
		break;
	case AXIS_ACCESS:
		c->access = (enum bench_access)v;
		break;
	case AXIS_PREALLOC:
		c->no_prealloc = v == 1;
		break;
	case AXIS_STAGES:
		c->stages = (unsigned)v;
		break;
	default:
		break;
	}
}

struct bench_plan {
	struct bench_opts opts;
	size_t n;
	struct bench_cell *cells;
};

static void cell_method(struct bench_cell *c, const struct bench_opts *o)
{
	c->trials = o->trials;
	c->duration_ms = o->duration_ms;
	c->warmup_ms = o->warmup_ms;
	c->quick = o->quick;
	c->trials_default = !o->trials;
	c->arms = ARM_BIT(ARM_MAIN);
	c->pairing = PAIR_REF_FIRST;
	if (c->bench->plan)
		c->bench->plan(c);
	if (!c->trials)
		c->trials = o->quick ? 3 : 5;
	if (c->trials > BENCH_MAX_TRIALS)
		c->trials = BENCH_MAX_TRIALS;
	if (!c->duration_ms)
		c->duration_ms = o->quick ? 300 : 1000;
}

static int check_sizes(const struct bench *b, const struct value_list *l, char *why, size_t len)
{
	uint64_t max = b->size_max ? b->size_max : 1500, min = b->size_min ? b->size_min : 64;

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i] > max || l->v[i] < min) {
			snprintf(why, len, "--size: %llu is outside %s's %llu..%llu",
				 (unsigned long long)l->v[i], b->name, (unsigned long long)min,
				 (unsigned long long)max);
			return -EINVAL;
		}
	}
	return 0;
}

/* Every point of b's axes (odometer, the hook outermost, the runtime innermost). */
static int add_cells(struct bench_plan *p, const struct bench *b, char *why, size_t len)
{
	struct value_list l[AXIS__COUNT];
	bool given[AXIS__COUNT];
	size_t at[AXIS__COUNT] = { 0 };
	int err = 0;

	for (int ax = 0; ax < AXIS__COUNT && !err; ax++) {
		err = axis_values(b, ax, &p->opts, &l[ax], &given[ax], why, len);
		if (!err && ax == AXIS_RUNTIME)
			runtime_reference(&l[ax]);
		if (!err && ax == AXIS_SIZE)
			err = check_sizes(b, &l[ax], why, len);
	}
	if (err)
		return err;
	for (;;) {
		struct bench_cell c = { .bench = b };
		int ax;

		memcpy(c.given, given, sizeof(given));
		for (ax = 0; ax < AXIS__COUNT; ax++)
			cell_set(&c, ax, l[ax].v[at[ax]]);
		if (!b->applies || b->applies(&c)) {
			if (p->n == MAX_CELLS) {
				snprintf(why, len, "more than %d cells", MAX_CELLS);
				return -EINVAL;
			}
			cell_method(&c, &p->opts);
			p->cells[p->n++] = c;
		}
		for (ax = AXIS__COUNT - 1; ax >= 0; ax--) {
			if (++at[ax] < l[ax].n)
				break;
			at[ax] = 0;
		}
		if (ax < 0)
			return 0;
	}
}

/* Hooks the user named must work here and be measured by some cell. */
static int check_hooks(const struct bench_plan *p, char *why, size_t len)
{
	struct value_list l;
	char reason[256];

	if (!p->opts.axis[AXIS_HOOK])
		return 0;
	if (parse_list(&axes[AXIS_HOOK], p->opts.axis[AXIS_HOOK], &l, why, len))
		return -EINVAL;
	for (size_t i = 0; i < l.n; i++) {
		const struct hook_desc *h = hook_get(l.v[i]);
		bool measured = false;

		if (hook_supported(h, reason, sizeof(reason))) {
			snprintf(why, len, "hook '%s' is not supported on this machine: %s", h->name,
				 reason);
			return -EOPNOTSUPP;
		}
		for (size_t k = 0; k < p->n; k++)
			measured |= p->cells[k].hook == h;
		if (!measured) {
			snprintf(why, len, "hook '%s' does not apply to this bench", h->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_runtimes(const struct bench_plan *p, char *why, size_t len)
{
	char reason[256];

	for (size_t k = 0; k < p->n; k++) {
		if (p->cells[k].runtime != APP_RT_RUNC)
			continue;
		if (app_runtime_prepare(APP_RT_RUNC, reason, sizeof(reason))) {
			snprintf(why, len, "--runtime runc: %s", reason);
			return -EINVAL;
		}
		break;
	}
	return 0;
}

int bench_plan_make(const struct bench_opts *o, struct bench_plan **out, char *why, size_t len)
{
	struct bench_plan *p = calloc(1, sizeof(*p));
	int err = -ENOMEM;

	*out = NULL;
	if (!p || !(p->cells = calloc(MAX_CELLS, sizeof(*p->cells))))
		goto fail;
	p->opts = *o;
	err = results_validate_out_dir(o->out, why, len);
	if (err) {
		char reason[256];

		snprintf(reason, sizeof(reason), "%s", why);
		snprintf(why, len, "--out '%s': %s", o->out, reason);
		err = -EINVAL;
		goto fail;
	}
	if (o->quick && o->warmup_ms == BENCH_WARMUP_MS)
		p->opts.warmup_ms = 100;
	err = 0;
	for (size_t b = 0; b < bench_count() && !err; b++)
		if (o->only < 0 || (size_t)o->only == b)
			err = add_cells(p, bench_get(b), why, len);
	if (!err)
		err = check_hooks(p, why, len);
	if (!err && !p->n) {
		snprintf(why, len, "no cell to measure: the values given do not apply to this bench");
		err = -EINVAL;
	}
	if (!err)
		err = check_runtimes(p, why, len);
	if (err)
		goto fail;
	for (size_t k = 0; k < p->n; k++) {
		p->cells[k].index = (int)k + 1;
		p->cells[k].count = (int)p->n;
	}
	*out = p;
	return 0;
fail:
	bench_plan_free(p);
	return err;
}

size_t bench_plan_count(const struct bench_plan *p)
{
	return p->n;
}

const struct bench_cell *bench_plan_cell(const struct bench_plan *p, size_t i)
{
	return i < p->n ? &p->cells[i] : NULL;
}

const struct bench_opts *bench_plan_opts(const struct bench_plan *p)
{
	return &p->opts;
}

void bench_plan_free(struct bench_plan *p)
{
	if (!p)
		return;
	free(p->cells);
	free(p);
}
