/*
 * What a check records: its observations ("phase: k=v ..."), raw counters,
 * errors and documented kernel bugs, and small formatting helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "checks/check.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

void check_observe(struct check_ctx *ctx, const char *phase, const char *fmt, ...)
{
	size_t n = strlen(ctx->observed);
	va_list ap;
	int w;

	w = snprintf(ctx->observed + n, sizeof(ctx->observed) - n, "%s%s: ", n ? "; " : "", phase);
	if (w < 0 || (size_t)w >= sizeof(ctx->observed) - n)
		return;
	n += w;
	va_start(ap, fmt);
	vsnprintf(ctx->observed + n, sizeof(ctx->observed) - n, fmt, ap);
	va_end(ap);
}

void check_kv(char *buf, size_t len, const char *key, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;
	int w;

	w = snprintf(buf + n, len - n, "%s%s=", n ? " " : "", key);
	if (w < 0 || (size_t)w >= len - n)
		return;
	n += w;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void check_xfail_phase(struct check_ctx *ctx, const char *phase, const char *ref)
{
	size_t n = strlen(ctx->xfail_phases);

	snprintf(ctx->xfail, sizeof(ctx->xfail), "%s", ref);
	snprintf(ctx->xfail_phases + n, sizeof(ctx->xfail_phases) - n, "%s%s", n ? "," : "", phase);
}

void check_counter(struct check_ctx *ctx, const char *group, const char *name, int64_t v)
{
	json_t *g;

	if (!ctx->counters)
		return;
	g = json_object_get(ctx->counters, group);
	if (!g) {
		g = json_object();
		json_object_set_new(ctx->counters, group, g);
	}
	json_object_set_new(g, name, json_integer(v));
}

int check_error(struct check_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx->error[0])
		return err;
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	pr_debug("check %s: %s\n", ctx->check->name, ctx->error);
	return err;
}

const char *check_share(char *buf, size_t len, uint64_t v, uint64_t n)
{
	if (!v)
		snprintf(buf, len, "0");
	else if (v == n)
		snprintf(buf, len, "all");
	else
		snprintf(buf, len, "%llu/%llu", (unsigned long long)v, (unsigned long long)n);
	return buf;
}

const char *check_errname(int err)
{
	const char *n;

	if (!err)
		return "ok";
	n = strerrorname_np(err < 0 ? -err : err);
	return n ? n : "E?";
}

bool check_time_left(const struct check_ctx *ctx)
{
	return !run_stopping() && (!ctx->deadline_ns || now_ns() < ctx->deadline_ns);
}

void check_phase_begin(struct check_phase *ph, struct check_ctx *ctx, const char *name,
		       uint64_t of)
{
	ph->ctx = ctx;
	ph->name = name;
	ph->of = of;
	ph->details[0] = '\0';
}

void check_phase_share(struct check_phase *ph, const char *key, uint64_t v)
{
	char share[48];

	check_kv(ph->details, sizeof(ph->details), key, "%s",
		 check_share(share, sizeof(share), v, ph->of));
	check_counter(ph->ctx, ph->name, key, (int64_t)v);
}

void check_phase_kv(struct check_phase *ph, const char *key, const char *value)
{
	check_kv(ph->details, sizeof(ph->details), key, "%s", value);
}

void check_phase_num(struct check_phase *ph, const char *key, int64_t v)
{
	check_kv(ph->details, sizeof(ph->details), key, "%lld", (long long)v);
	check_counter(ph->ctx, ph->name, key, v);
}

void check_phase_rules(struct check_phase *ph, const struct check_nf_rule *rules, size_t n,
		       const uint64_t *before, const uint64_t *after)
{
	for (size_t i = 0; i < n; i++)
		check_phase_share(ph, rules[i].label, after[i] - before[i]);
}

void check_phase_end(struct check_phase *ph)
{
	check_observe(ph->ctx, ph->name, "%s", ph->details);
}
