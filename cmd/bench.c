/* `offloadlab bench`: the hook benchmarks (one file per bench: cmd/bench_*.c). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cmd/cmd.h"
#include "containers/container.h"
#include "lib/cpuidle.h"
#include "cmd/bench.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

extern const struct bench *const __start_olab_benches[] __attribute__((weak));
extern const struct bench *const __stop_olab_benches[] __attribute__((weak));

static const struct bench *sorted[32];
static size_t n_sorted;

static int by_order(const void *a, const void *b)
{
	const struct bench *x = *(const struct bench *const *)a;
	const struct bench *y = *(const struct bench *const *)b;

	return x->order - y->order;
}

static void load_benches(void)
{
	if (n_sorted)
		return;
	for (const struct bench *const *b = __start_olab_benches;
	     b < __stop_olab_benches && n_sorted < ARRAY_SIZE(sorted); b++)
		sorted[n_sorted++] = *b;
	qsort(sorted, n_sorted, sizeof(sorted[0]), by_order);
}

size_t bench_count(void)
{
	load_benches();
	return n_sorted;
}

const struct bench *bench_get(size_t i)
{
	load_benches();
	return i < n_sorted ? sorted[i] : NULL;
}

void bench_progress(const struct bench_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (!isatty(STDERR_FILENO) || g_opts.verbose)
		return;
	fprintf(stderr, "\r\033[K[%d/%d] %s %s: ", ctx->cell, ctx->ncells, ctx->bench->name,
		ctx->hook->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

json_t *bench_add(struct bench_ctx *ctx, const char *variant, const char *metric, const char *unit,
		  const char *method, const double *trials, size_t n, json_t *extra)
{
	struct result r = {
		.bench = ctx->bench->name, .hook = ctx->hook->name, .variant = variant,
		.metric = metric, .unit = unit, .method = method, .trials = trials, .n = n,
		.extra = extra,
	};
	json_t *o = results_add(ctx->res, &r);

	if (o && !json_object_get(o, "runtime"))
		json_object_set_new(o, "runtime", json_string(bench_runtime_name(ctx->cfg->runtime)));
	if (o) {
		json_object_set_new(o, "trial_ms", json_integer((json_int_t)ctx->cfg->duration_ms));
		json_object_set_new(o, "size", json_integer((json_int_t)ctx->cfg->size));
		json_object_set_new(o, "cpu_idle", cpuidle_config_json());
	}
	results_flush(ctx->res);
	return o;
}

/* ---- the command ---- */

static const char *hook_names[40];
static const char *const runtimes[] = { "netns", "runc", NULL };

static const struct bench_cfg defaults = {
	.hook = -1, .size = 64, .duration_ms = 0, .warmup_ms = 300, .trials = 0, /* 0: the bench's */
	.runtime = RUNTIME_NETNS, .out = "results", .cpu_idle = CPUIDLE_UNSET,
};

static const struct opt_desc bench_opts[] = {
	{ "hook", 0, OPT_ENUM, offsetof(struct bench_cfg, hook), "HOOK",
	  "only this hook (default: every hook the bench applies to)", 0, 0, hook_names },
	{ "size", 's', OPT_UINT, offsetof(struct bench_cfg, size), "BYTES",
	  "frame size (UDP) or request size (TCP)", 64, 1500 },
	{ "duration", 'd', OPT_MS, offsetof(struct bench_cfg, duration_ms), "SEC",
	  "length of one trial (1.5, 300ms; default 1 s; overhead, packet hooks: 50 ms windows)", 50, 600000 },
	{ "trials", 't', OPT_UINT, offsetof(struct bench_cfg, trials), "N",
	  "repeated trials (default 5; overhead, packet hooks: 30, more until the CI is 5 ns)", 1, 200 },
	{ "warmup", 0, OPT_MS, offsetof(struct bench_cfg, warmup_ms), "SEC",
	  "warm-up before the trials", 0, 60000 },
	{ "runtime", 0, OPT_ENUM, offsetof(struct bench_cfg, runtime), "RT",
	  "where the app runs", 0, 0, runtimes },
	{ "out", 'o', OPT_STR, offsetof(struct bench_cfg, out), "DIR",
	  "results root; a run writes DIR/<run-id>/results.json" },
	{ "cpu-idle", 0, OPT_ENUM, offsetof(struct bench_cfg, cpu_idle), "MODE",
	  "poll: hold /dev/cpu_dma_latency at 0 so no CPU sleeps deeper than POLL; default: "
	  "leave idle states alone (default: poll for echo, whose full run also measures "
	  "default; default for the rest)", 0, 0, cpuidle_mode_names },
	{ "quick", 'q', OPT_FLAG, offsetof(struct bench_cfg, quick), NULL,
	  "short trials (3 x 300 ms, 100 ms warm-up) for a smoke run" },
	OPT_END,
};

/* Figures [from, to) of the netns run and [to, end) of the runc run of one
 * cell: the runc/netns ratio of each figure, trial by trial. */
static void add_runtime_ratios(struct bench_ctx *ctx, size_t from, size_t to)
{
	json_t *list = ctx->res->list, *a, *b;
	size_t end = json_array_size(list);

	for (size_t i = from; i < to; i++) {
		a = json_array_get(list, i);
		for (size_t j = to; j < end; j++) {
			json_t *ta, *tb;
			double r[256];
			size_t n;
			char metric[96];

			b = json_array_get(list, j);
			if (!json_equal(json_object_get(a, "metric"), json_object_get(b, "metric")) ||
			    !json_equal(json_object_get(a, "variant"), json_object_get(b, "variant")))
				continue;
			ta = json_object_get(a, "trials");
			tb = json_object_get(b, "trials");
			n = json_array_size(ta) < json_array_size(tb) ? json_array_size(ta) : json_array_size(tb);
			/* Only rates and latencies have a meaningful ratio. */
			if (!n || n > ARRAY_SIZE(r) ||
			    strstr(json_string_value(json_object_get(a, "metric")), "cost"))
				break;
			for (size_t k = 0; k < n; k++) {
				double den = json_number_value(json_array_get(ta, k));

				r[k] = den > 0 ? json_number_value(json_array_get(tb, k)) / den : 0;
				if (!(den > 0) || !isfinite(r[k]))
					n = 0;
			}
			if (!n)
				break;
			snprintf(metric, sizeof(metric), "%s_runc_over_netns",
				 json_string_value(json_object_get(a, "metric")));
			bench_add(ctx, json_string_value(json_object_get(a, "variant")), metric, "ratio",
				  "container / bare, trial by trial (runc app with bpf,net_admin vs the same app in the netns)",
				  r, n, json_pack("{s:b, s:s}", "primary", 0, "runtime", "runc/netns"));
			break;
		}
	}
}

static int run_cell_runtimes(struct bench_ctx *ctx, struct bench_cfg *cfg);

/* One cell; with --runtime runc, drop/pass/echo run bare then in a container. */
static int run_cell(struct bench_ctx *ctx, struct bench_cfg *cfg)
{
	struct bench_cfg saved = *cfg;
	int err;

	/* Unset --trials / --duration: the bench's own defaults for the hook,
	 * else 5 x 1 s (--quick: 3 x 300 ms). */
	uint64_t trials = 0, ms = 0;

	if (ctx->bench->defaults)
		ctx->bench->defaults(ctx->hook, cfg->quick, &trials, &ms);
	cfg->trials_default = !cfg->trials;
	if (!cfg->trials)
		cfg->trials = trials ? trials : cfg->quick ? 3 : 5;
	if (!cfg->duration_ms)
		cfg->duration_ms = ms ? ms : cfg->quick ? 300 : 1000;
	cpuidle_set(cpuidle_resolve(cfg->cpu_idle, ctx->bench->latency ? CPUIDLE_POLL
								      : CPUIDLE_DEFAULT));
	err = run_cell_runtimes(ctx, cfg);
	cpuidle_set(CPUIDLE_DEFAULT);
	*cfg = saved;
	return err;
}

static int run_cell_runtimes(struct bench_ctx *ctx, struct bench_cfg *cfg)
{
	const char *name = ctx->bench->name;
	bool app_bench = !strcmp(name, "drop") || !strcmp(name, "pass") || !strcmp(name, "echo");
	size_t from, to;
	int err;

	if (cfg->runtime != RUNTIME_RUNC || !app_bench)
		return ctx->bench->run(ctx);
	from = json_array_size(ctx->res->list);
	cfg->runtime = RUNTIME_NETNS;
	err = ctx->bench->run(ctx);
	cfg->runtime = RUNTIME_RUNC;
	if (err)
		return err;
	to = json_array_size(ctx->res->list);
	bench_progress(ctx, "in a container");
	err = ctx->bench->run(ctx);
	if (!err)
		add_runtime_ratios(ctx, from, to);
	return err;
}

static int run_benches(const char *path, struct bench_cfg *cfg, const struct bench **list, size_t n)
{
	const struct hook_desc *hooks[40];
	struct bench_ctx ctx = { .cfg = cfg };
	struct results res;
	int ncells = 0, failed = 0, err;
	size_t nh = 0;
	char reason[256];
	json_t *conf;

	if (results_validate_out_dir(cfg->out, reason, sizeof(reason)))
		return cli_usage_error(path, "--out '%s': %s", cfg->out, reason);
	if (cfg->quick && cfg->warmup_ms == defaults.warmup_ms)
		cfg->warmup_ms = 100;
	if (cfg->runtime == RUNTIME_RUNC && containers_prepare())
		return cli_usage_error(path, "--runtime runc: %s", ctr_last_error());
	if (cfg->hook >= 0) {
		const struct hook_desc *h = hook_get(cfg->hook);
		bool any = false;

		if (hook_supported(h, reason, sizeof(reason)))
			return cli_usage_error(path, "hook '%s' is not supported on this machine: %s",
					       h->name, reason);
		for (size_t b = 0; b < n; b++)
			any |= list[b]->applies(h);
		if (!any)
			return cli_usage_error(path, "hook '%s' does not apply to this bench", h->name);
	}
	for (size_t i = 0; i < hook_count(); i++)
		hooks[nh++] = hook_get(i);
	for (size_t b = 0; b < n; b++)
		for (size_t i = 0; i < nh; i++)
			if ((cfg->hook < 0 || (int)i == cfg->hook) && list[b]->applies(hooks[i]))
				ncells++;

	if (cli_measure_lock(path))
		return EXIT_FAIL;
	conf = results_base_config();
	json_object_set_new(conf, "measurement", cli_measure_json());
	json_object_set_new(conf, "bench", json_pack("{s:I, s:I, s:s, s:b}",
		"size", (json_int_t)cfg->size, "warmup_ms", (json_int_t)cfg->warmup_ms,
		"runtime", runtimes[cfg->runtime], "quick", cfg->quick));
	/* Unset: each bench's own (every figure carries the mode it had). */
	json_object_set_new(json_object_get(conf, "bench"), "cpu_idle", cfg->cpu_idle < 0 ?
			    json_string("per bench: poll for latency, default otherwise") :
			    json_string(cpuidle_mode_names[cfg->cpu_idle]));
	/* Unset: each bench's default (every figure carries its trials). */
	json_object_set_new(json_object_get(conf, "bench"), "trials",
			    cfg->trials ? json_integer((json_int_t)cfg->trials) : json_null());
	json_object_set_new(json_object_get(conf, "bench"), "duration_ms",
			    cfg->duration_ms ? json_integer((json_int_t)cfg->duration_ms) : json_null());
	if (results_open(&res, cfg->out, conf))
		return EXIT_FAIL;
	ctx.res = &res;
	ctx.ncells = ncells;

	for (size_t b = 0; b < n && !run_stopping(); b++) {
		for (size_t i = 0; i < nh && !run_stopping(); i++) {
			if ((cfg->hook >= 0 && (int)i != cfg->hook) || !list[b]->applies(hooks[i]))
				continue;
			ctx.bench = list[b];
			ctx.hook = hooks[i];
			ctx.cell++;
			if (hook_supported(hooks[i], reason, sizeof(reason))) {
				pr_warn("%s %s: skipped: %s\n", list[b]->name, hooks[i]->name, reason);
				bench_add(&ctx, NULL, "skipped", "", reason, NULL, 0, NULL);
				continue;
			}
			bench_progress(&ctx, "starting");
			err = run_cell(&ctx, cfg);
			if (err && !run_stopping()) {
				pr_warn("\r%s %s: failed: %s\n", list[b]->name, hooks[i]->name,
					strerror(-err));
				failed++;
			}
		}
	}
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	snprintf(reason, sizeof(reason), "%d of %d cells failed", failed, ncells);
	err = results_write(&res, failed ? reason : NULL);
	if (g_opts.json) {
		json_dumpf(res.root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
		putchar('\n');
	} else {
		results_print_table(&res, stdout);
		results_print_reference(&res, stdout);
		printf("\nresults: %s/results.json\n", res.dir);
	}
	results_close(&res);
	if (run_stopping()) {
		pr_warn("offloadlab %s: interrupted\n", path);
		return EXIT_FAIL;
	}
	return failed || err ? EXIT_FAIL : EXIT_OK;
}

/* One subcommand per registered bench, plus "all"; built at start-up. */
static struct olab_cmd bench_cmds[33];
static struct bench_cfg bench_defaults[33];
static const struct olab_cmd *bench_subcmds[34];

static int bench_cmd_run(void *c, int argc, char **argv)
{
	struct bench_cfg *cfg = c;
	const struct bench *list[32];
	char path[64];
	size_t n = 0;

	if (cfg->only >= 0) {
		list[n++] = bench_get(cfg->only);
	} else {
		for (size_t i = 0; i < bench_count(); i++)
			list[n++] = bench_get(i);
	}
	snprintf(path, sizeof(path), "bench %s", cfg->only >= 0 ? list[0]->name : "all");
	return run_benches(path, cfg, list, n);
}

static const struct olab_cmd cmd_bench = {
	.name = "bench",
	.summary = "measure the cost and benefit of each hook (overhead, drop, pass, echo, all)",
	.subcmds = bench_subcmds,
	.order = 40,
};
DEFINE_COMMAND(cmd_bench);

__attribute__((constructor)) static void build_bench_cmds(void)
{
	size_t n = bench_count(), k = 0;

	for (size_t i = 0; i < hook_count() && i + 1 < ARRAY_SIZE(hook_names); i++)
		hook_names[i] = hook_get(i)->name;
	for (size_t i = 0; i <= n && i < 32; i++, k++) {
		bool all = i == n;

		bench_defaults[k] = defaults;
		bench_defaults[k].only = all ? -1 : (int)i;
		bench_cmds[k] = (struct olab_cmd){
			.name = all ? "all" : bench_get(i)->name,
			.summary = all ? "every bench x every hook (--quick: about 2 minutes)"
				       : bench_get(i)->summary,
			.opts = bench_opts, .cfg_size = sizeof(struct bench_cfg),
			.cfg_defaults = &bench_defaults[k], .needs = NEED_ALL | MEASURES,
			.run = bench_cmd_run,
		};
		bench_subcmds[k] = &bench_cmds[k];
	}
	bench_subcmds[k] = NULL;
}
