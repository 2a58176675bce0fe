/*
 * A run: the registry, every cell of the plan into results/ (flushed per
 * figure), the container/bare ratios from the cells' arrays, the report.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "bench/framework.h"
#include "lib/json_out.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "results/results.h"

#define MAX_FIGS    64  /* figures of one cell kept for its ratios */

REGISTRY_DECLARE(olab_benches);

static struct registry benches = REGISTRY_TABLE(olab_benches, struct bench, order, name);

size_t bench_count(void)
{
	return registry_count(&benches);
}

const struct bench *bench_get(size_t i)
{
	return registry_get(&benches, i);
}

const struct bench *bench_by_name(const char *name)
{
	return registry_find(&benches, name);
}

/* A cell's figures, as arrays, for ratios between cells. */
struct fig {
	char variant[64], metric[64];
	double *v;
	size_t n;
};

struct cell_figs {
	const struct bench_cell *cell;
	struct fig f[MAX_FIGS];
	size_t n;
};

struct bench_run {
	struct results res;
	bool progress;
	struct cell_figs cur, prev;
};

static void figs_clear(struct cell_figs *cf)
{
	for (size_t i = 0; i < cf->n; i++)
		free(cf->f[i].v);
	memset(cf, 0, sizeof(*cf));
}

static void figs_keep(struct cell_figs *cf, const char *variant, const char *metric,
		      const double *v, size_t n)
{
	struct fig *f;

	if (cf->n == MAX_FIGS || !n || !(v) )
		return;
	f = &cf->f[cf->n];
	f->v = malloc(n * sizeof(double));
	if (!f->v)
		return;
	memcpy(f->v, v, n * sizeof(double));
	f->n = n;
	snprintf(f->variant, sizeof(f->variant), "%s", variant ? variant : "");
	snprintf(f->metric, sizeof(f->metric), "%s", metric);
	cf->n++;
}

/* The pattern axes a bench declares, on its figures. */
static void pattern_axes_json(const struct bench_cell *c, json_t *o)
{
	const struct bench_axis_values *a = c->bench->axes;

	if (a[AXIS_PCT].full)
		json_object_set_new(o, "pct", json_integer(c->pct));
	if (a[AXIS_BATCH].full)
		json_object_set_new(o, "batch", json_integer(c->batch));
	if (a[AXIS_CHANNEL].full)
		json_object_set_new(o, "channel", json_string(bench_channel_names[c->channel]));
	if (a[AXIS_COST].full)
		json_object_set_new(o, "cost", json_integer(c->cost));
	if (a[AXIS_KEY].full)
		json_object_set_new(o, "key", json_integer(c->key));
	if (a[AXIS_ACCESS].full)
		json_object_set_new(o, "access", json_string(bench_access_names[c->access]));
	if (a[AXIS_PREALLOC].full)
		json_object_set_new(o, "prealloc", json_string(bench_prealloc_names[c->no_prealloc]));
	if (a[AXIS_STAGES].full)
		json_object_set_new(o, "stages", json_integer(c->stages));
	if (c->bench->ops)
		json_object_set_new(o, "op", json_string(c->bench->ops[c->op]));
}

json_t *bench_figure(struct bench_cell *c, const char *variant, const char *metric,
		     const char *unit, const char *method, const double *trials, size_t n,
		     json_t *extra)
{
	struct result r = {
		.bench = c->bench->name, .hook = c->hook->name, .variant = variant,
		.metric = metric, .unit = unit, .method = method, .trials = trials, .n = n,
		.extra = extra,
	};
	json_t *o;

	if (!c->run) {
		json_decref(extra);
		return NULL;
	}
	o = results_add(&c->run->res, &r);
	if (o) {
		if (!json_object_get(o, "runtime"))
			json_object_set_new(o, "runtime", json_string(app_runtime_name(c->runtime)));
		json_object_set_new(o, "trial_ms", json_integer((json_int_t)c->duration_ms));
		json_object_set_new(o, "size", json_integer((json_int_t)c->size));
		json_object_set_new(o, "cpu_idle", cpuidle_config_json());
		pattern_axes_json(c, o);
	}
	figs_keep(&c->run->cur, variant, metric, trials, n);
	results_flush(&c->run->res);
	return o;
}

void bench_progress(const struct bench_cell *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->run || !c->run->progress)
		return;
	fprintf(stderr, "\r\033[K[%d/%d] %s %s%s%s: ", c->index, c->count, c->bench->name,
		c->hook->name, c->variant ? " " : "", c->variant ? c->variant : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

/* Same point but the runtime: the bare reference of a container cell. */
static bool bare_twin(const struct bench_cell *bare, const struct bench_cell *ctr)
{
	return bare && bare->bench == ctr->bench && bare->hook == ctr->hook &&
	       bare->layout == ctr->layout && bare->tcp == ctr->tcp && bare->size == ctr->size &&
	       bare->pct == ctr->pct && bare->batch == ctr->batch && bare->channel == ctr->channel &&
	       bare->cost == ctr->cost && bare->stages == ctr->stages && bare->op == ctr->op && bare->cpu_idle == ctr->cpu_idle && bare->runtime == APP_RT_NETNS;
}

/* runc over netns, trial by trial, for each rate and latency of the cell. */
static void runtime_ratios(struct bench_cell *c)
{
	struct cell_figs *bare = &c->run->prev, *ctr = &c->run->cur;
	size_t nfigs = ctr->n;

	if (c->runtime != APP_RT_RUNC || !bare_twin(bare->cell, c))
		return;
	for (size_t i = 0; i < nfigs; i++) {
		const struct fig *b = NULL, *r = &ctr->f[i];
		double ratio[BENCH_MAX_TRIALS];
		size_t n;
		char metric[96];

		for (size_t j = 0; j < bare->n && !b; j++)
			if (!strcmp(bare->f[j].metric, r->metric) &&
			    !strcmp(bare->f[j].variant, r->variant))
				b = &bare->f[j];
		/* Only rates and latencies have a meaningful ratio. */
		if (!b || strstr(r->metric, "cost"))
			continue;
		n = b->n < r->n ? b->n : r->n;
		for (size_t k = 0; k < n; k++) {
			ratio[k] = b->v[k] > 0 ? r->v[k] / b->v[k] : NAN;
			if (!isfinite(ratio[k]))
				n = 0;
		}
		if (!n)
			continue;
		snprintf(metric, sizeof(metric), "%s_runc_over_netns", r->metric);
		bench_figure(c, r->variant[0] ? r->variant : NULL, metric, "ratio",
			     "container / bare, trial by trial (runc app with bpf,net_admin vs the same app in the netns)",
			     ratio, n, json_pack("{s:b, s:s}", "primary", 0, "runtime", "runc/netns"));
	}
}

/* One cell: skipped when its hook does not work here.  0 or -errno. */
static int run_cell(struct bench_run *run, struct bench_cell *c)
{
	struct bench_series s;
	char why[256];
	int err;

	c->run = run;
	figs_clear(&run->prev);
	run->prev = run->cur;
	memset(&run->cur, 0, sizeof(run->cur));
	run->cur.cell = c;
	if (hook_supported(c->hook, why, sizeof(why))) {
		pr_warn("%s %s: skipped: %s\n", c->bench->name, c->hook->name, why);
		bench_figure(c, NULL, "skipped", "", why, NULL, 0, NULL);
		return 0;
	}
	bench_progress(c, "starting");
	cpuidle_set(c->cpu_idle);
	err = bench_cell_measure(c, &s);
	if (!err && c->refused[0]) {
		pr_info("%s %s%s%s: refused: %s\n", c->bench->name, c->hook->name,
			c->variant ? " " : "", c->variant ? c->variant : "", c->refused);
		bench_figure(c, c->variant, "refused", "", c->refused, NULL, 0,
			     json_pack("{s:s}", "refused", c->refused));
	} else if (!err && c->bench->report) {
		err = c->bench->report(c, &s);
	}
	bench_cell_finish(c, &s);
	cpuidle_set(CPUIDLE_DEFAULT);
	if (!err)
		runtime_ratios(c);
	return err;
}

static json_t *run_config(const struct bench_opts *o, json_t *measurement)
{
	json_t *conf = results_base_config(), *axes = json_object(), *b;

	for (int a = 0; a < AXIS__COUNT; a++)
		json_object_set_new(axes, bench_axis_desc(a)->name,
				    o->axis[a] ? json_string(o->axis[a]) : json_string("per bench"));
	b = json_pack("{s:I, s:s, s:b, s:o}", "warmup_ms", (json_int_t)o->warmup_ms,
		      "runtime", o->axis[AXIS_RUNTIME] ? o->axis[AXIS_RUNTIME] : "netns",
		      "quick", o->quick, "axes", axes);
	/* A single size is a number, as before; a list stays as given. */
	if (!o->axis[AXIS_SIZE] || !strchr(o->axis[AXIS_SIZE], ','))
		json_object_set_new(b, "size", json_integer(o->axis[AXIS_SIZE] ?
					strtoll(o->axis[AXIS_SIZE], NULL, 10) : 64));
	else
		json_object_set_new(b, "size", json_string(o->axis[AXIS_SIZE]));
	/* Unset: each bench's (every figure carries the mode, trials, trial length it had). */
	json_object_set_new(b, "cpu_idle", json_string(o->axis[AXIS_CPU_IDLE] ? o->axis[AXIS_CPU_IDLE] :
			    "per bench: poll for latency, default otherwise"));
	json_object_set_new(b, "trials", o->trials ? json_integer((json_int_t)o->trials) : json_null());
	json_object_set_new(b, "duration_ms",
			    o->duration_ms ? json_integer((json_int_t)o->duration_ms) : json_null());
	json_object_set_new(conf, "measurement", measurement);
	json_object_set_new(conf, "bench", b);
	return conf;
}

/* "time per bench: summarize 7.3 min, ..." when a run had several. */
static void print_elapsed(json_t *elapsed)
{
	const char *name;
	json_t *v;
	const char *sep = "";

	if (json_object_size(elapsed) < 2)
		return;
	printf("\ntime per bench:");
	json_object_foreach(elapsed, name, v) {
		printf("%s %s %.1f min", sep, name, json_number_value(v) / 60);
		sep = ",";
	}
	printf("\n");
}

static void print_results(const struct bench_opts *o, struct results *res)
{
	if (o->progress)
		fputs("\r\033[K", stderr);
	if (o->json) {
		json_out(res->root);
		return;
	}
	results_print_table(res, stdout);
	results_print_reference(res, stdout);
	print_elapsed(json_object_get(json_object_get(res->root, "config"), "elapsed_s"));
	printf("\nresults: %s/results.json\n", res->dir);
}

/* Wall time per bench, seconds: where a run's time goes. */
static void add_elapsed(json_t *elapsed, const char *bench, uint64_t ns)
{
	double s = json_number_value(json_object_get(elapsed, bench));

	json_object_set_new(elapsed, bench, json_real(s + ns / 1e9));
}

int bench_plan_run(struct bench_plan *p, json_t *measurement)
{
	const struct bench_opts *o = bench_plan_opts(p);
	struct bench_run *run = calloc(1, sizeof(*run));
	size_t n = bench_plan_count(p);
	json_t *elapsed = json_object();
	int failed = 0, err;
	char reason[64];

	if (!run || results_open(&run->res, o->out, run_config(o, measurement))) {
		free(run);
		return EXIT_FAIL;
	}
	run->progress = o->progress;
	for (size_t i = 0; i < n && !run_stopping(); i++) {
		struct bench_cell *c = (struct bench_cell *)bench_plan_cell(p, i);
		uint64_t t0 = now_ns();

		err = run_cell(run, c);
		add_elapsed(elapsed, c->bench->name, now_ns() - t0);
		if (err && !run_stopping()) {
			pr_warn("\r%s %s%s%s: failed: %s\n", c->bench->name, c->hook->name,
				c->variant ? " " : "", c->variant ? c->variant : "", strerror(-err));
			failed++;
		}
	}
	json_object_set_new(json_object_get(run->res.root, "config"), "elapsed_s", elapsed);
	snprintf(reason, sizeof(reason), "%d of %zu cells failed", failed, n);
	err = results_write(&run->res, failed ? reason : NULL);
	print_results(o, &run->res);
	results_close(&run->res);
	figs_clear(&run->prev);
	figs_clear(&run->cur);
	free(run);
	if (run_stopping())
		return EXIT_FAIL;
	return failed || err ? EXIT_FAIL : EXIT_OK;
}

void bench_cell_init(struct bench_cell *c, const struct bench *b, const struct hook_desc *h)
{
	memset(c, 0, sizeof(*c));
	c->bench = b;
	c->hook = h;
	c->layout = LAYOUT_RX_CPU1;
	c->tcp = hook_is_tcp(h);
	c->size = 64;
	c->cpu_idle = b->latency ? CPUIDLE_POLL : CPUIDLE_DEFAULT;
	c->runtime = APP_RT_NETNS;
	c->pct = 100;
	c->batch = 1;
	c->stages = 1;
	c->channel = CHAN_PACKET;
	c->key = 4;
	c->quick = true;
	c->trials_default = true;
	c->arms = ARM_BIT(ARM_MAIN);
	c->index = c->count = 1;
	if (b->plan)
		b->plan(c);
	if (!c->trials)
		c->trials = 3;
	if (!c->duration_ms)
		c->duration_ms = 300;
}

int bench_cell_app(const struct bench_cell *c, const struct topo *t, enum app_kind kind, int cpu,
		   struct hook_inst *hook, struct rt_app **out)
{
	struct rt_app_opts o = {
		.runtime = c->runtime, .name = "bench-app", .ns = &t->dut,
		.app = { .kind = kind, .family = AF_INET, .port = GEN_DPORT, .cpu = cpu,
			 .req_size = (uint32_t)c->size, .sockmap_fd = hook_sockmap_fd(hook) },
	};
	char why[256] = "";
	int err = rt_app_start(&o, out, why, sizeof(why));

	if (err)
		pr_warn("app %s\n", why);
	return err;
}
