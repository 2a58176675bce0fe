/*
 * One point of the verifier study: build, load, time; kept in a cache by
 * point and by object, so a search that comes back to a value, or two flags
 * that make the same code, cost one load.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "bench/micro.h"
#include "bench/verifier.h"
#include "bench/verifier_internal.h"
#include "lib/run.h"
#include "lib/util.h"

int vf_time_samples(struct vf_ctx *ctx, int fd, int parser, struct vf_outcome *o)
{
	struct vf_sample s[VF_MAX_SAMPLES];
	int n = vf_samples(parser, s, VF_MAX_SAMPLES);
	double ns[64];
	uint32_t trials = ctx->lim.trials < 64 ? ctx->lim.trials : 64;

	for (int i = 0; i < n; i++) {
		struct vf_sample_run *r = &o->samples[i];
		struct micro_run mr = { 0 };
		int err = micro_test_run(fd, s[i].frame, s[i].len, 1, &mr, r->why, sizeof(r->why));

		r->name = s[i].name;
		r->valid = s[i].valid;
		r->retval = mr.retval;
		r->ok = !err && mr.retval == (s[i].valid ? XDP_PASS : XDP_DROP);
		for (uint32_t t = 0; !err && t < trials; t++) {
			if (run_stopping())
				return -EINTR;
			err = micro_test_run(fd, s[i].frame, s[i].len, ctx->lim.repeat, &mr, r->why,
					     sizeof(r->why));
			ns[t] = mr.ns_per_run;
		}
		if (!err)
			summarize(ns, trials, &r->ns);
	}
	o->n_samples = n > 0 ? n : 0;
	return 0;
}

/* FNV-1a of a file: identical objects load identically. */
static uint64_t file_hash(const char *path)
{
	uint64_t h = 1469598103934665603ull;
	unsigned char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ull;
	close(fd);
	return h;
}

static struct vf_point normalise(const struct vf_point *p)
{
	struct vf_point k = *p;

	if (k.knob < 0 || k.value == vf_knobs[k.knob].def) {
		k.knob = -1;
		k.value = 0;
	}
	return k;
}

static bool same_point(const struct vf_point *a, const struct vf_point *b)
{
	return a->parser == b->parser && a->compiler == b->compiler && a->opt == b->opt &&
	       a->mcpu == b->mcpu && a->knob == b->knob && a->value == b->value;
}

static struct vf_cache_entry *by_point(struct vf_ctx *ctx, const struct vf_point *k)
{
	for (size_t i = ctx->n_cache; i-- > 0;)
		if (same_point(&ctx->cache[i].key, k))
			return &ctx->cache[i];
	return NULL;
}

/* A loaded-or-rejected outcome of the same object, timed when asked. */
static const struct vf_cache_entry *by_object(const struct vf_ctx *ctx, uint64_t hash,
					      bool timed)
{
	for (size_t i = ctx->n_cache; i-- > 0;) {
		const struct vf_cache_entry *e = &ctx->cache[i];

		if (hash && e->out.obj_hash == hash && e->out.stage >= VF_LOAD &&
		    !e->out.timed_out && (e->timed || !timed || e->out.stage != VF_LOADED))
			return e;
	}
	return NULL;
}

static int remember(struct vf_ctx *ctx, const struct vf_point *k, const struct vf_outcome *o,
		    bool timed)
{
	struct vf_cache_entry *e = by_point(ctx, k);

	if (!e) {
		if (ctx->n_cache == ctx->cap_cache) {
			size_t cap = ctx->cap_cache ? ctx->cap_cache * 2 : 256;
			void *p = realloc(ctx->cache, cap * sizeof(*ctx->cache));

			if (!p)
				return -ENOMEM;
			ctx->cache = p;
			ctx->cap_cache = cap;
		}
		e = &ctx->cache[ctx->n_cache++];
	}
	*e = (struct vf_cache_entry){ .key = *k, .out = *o, .timed = timed };
	return 0;
}

/* Nothing to build: no source, no compiler. */
static bool skipped(const struct vf_ctx *ctx, const struct vf_point *p, struct vf_outcome *o)
{
	const char *why = NULL;

	if (!vf_parser_present(p->parser))
		snprintf(o->reason, sizeof(o->reason), "bpf/%s is not in this build",
			 vf_parsers[p->parser].file);
	else if (!vf_compiler(ctx, p->compiler, &why))
		snprintf(o->reason, sizeof(o->reason), "%s", why);
	else
		return false;
	o->stage = VF_SKIPPED;
	return true;
}

static int build_and_load(struct vf_ctx *ctx, const struct vf_point *p, bool timed,
			  struct vf_outcome *o)
{
	const struct vf_cache_entry *same;
	char obj[128];
	int err;

	snprintf(obj, sizeof(obj), "%s/build%u.o", ctx->dir, ctx->n_builds);
	err = vf_compile(ctx, p, obj, o);
	if (err || o->stage == VF_COMPILE) {
		unlink(obj);
		return err;
	}
	o->obj_hash = file_hash(obj);
	same = by_object(ctx, o->obj_hash, timed);
	if (same) {
		double compile_ms = o->compile_ms;

		*o = same->out;
		o->compile_ms = compile_ms;
		ctx->n_cached++;
	} else {
		err = vf_load(ctx, obj, p->parser, timed, o);
	}
	unlink(obj);
	return err;
}

int vf_try(struct vf_ctx *ctx, const struct vf_point *p, bool timed, struct vf_outcome *out)
{
	struct vf_point k = normalise(p);
	struct vf_cache_entry *e = by_point(ctx, &k);
	int err;

	if (e && (e->timed || !timed || e->out.stage != VF_LOADED)) {
		*out = e->out;
		ctx->n_cached++;
		return 0;
	}
	if (run_stopping())
		return -EINTR;
	*out = (struct vf_outcome){ 0 };
	if (!skipped(ctx, &k, out)) {
		err = build_and_load(ctx, &k, timed, out);
		if (err)
			return err;
	}
	return remember(ctx, &k, out, timed && out->stage == VF_LOADED);
}
