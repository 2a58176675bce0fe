/*
 * The verifier study's builds: the embedded parser sources written to a
 * private temp dir (bench/bpf_cc.h), the Debian clangs found, one compile
 * per point (killed over its time limit) and the cache of outcomes, by
 * point and by object.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench/bpf_cc.h"
#include "bench/verifier.h"
#include "bench/verifier_internal.h"
#include "lib/util.h"

const struct vf_parser vf_parsers[VF_PARSERS] = {
	{ "http1", "parse_http1.bpf.c", "parse_http1" },
	{ "http2", "parse_http2.bpf.c", "parse_http2" },
	{ "json", "parse_json.bpf.c", "parse_json" },
};

/* bpf/parse.h's knobs and defaults. */
const struct vf_knob vf_knobs[VF_KNOBS] = {
	{ "PARSE_MAX_HEADERS", 16, 1, false },
	{ "PARSE_MAX_HEADER_LEN", 256, 8, false },
	{ "PARSE_MAX_CHUNKS", 8, 1, false },
	{ "PARSE_MAX_FRAMES", 8, 1, false },
	{ "PARSE_MAX_SETTINGS", 8, 1, false },
	{ "PARSE_HUFFMAN", 1, 0, true },
	{ "PARSE_INLINE", 0, 0, true, "PARSE_STEP" },
	{ "PARSE_JSON_DEPTH", 4, 1, false },
	{ "PARSE_JSON_LEN", 512, 16, false },
	{ "PARSE_MAX_KEYS", 16, 1, false },
};

const int vf_clang_versions[VF_COMPILERS] = { 13, 14, 15, 16, 19 };
const char *const vf_opt_names[VF_OPTS + 1] = { "O1", "O2", "O3", "Os", NULL };
const char *const vf_mcpu_names[VF_MCPUS + 1] = { "v1", "v2", "v3", "v4", NULL };

bool vf_parser_present(int parser)
{
	return bpf_cc_src("parse.h") && bpf_cc_src(vf_parsers[parser].file);
}

bool vf_knob_applies(int parser, int knob)
{
	const struct bpf_cc_src *e = bpf_cc_src(vf_parsers[parser].file);
	const char *alias = vf_knobs[knob].used_as;

	return e && (memmem(e->data, e->len, vf_knobs[knob].macro, strlen(vf_knobs[knob].macro)) ||
		     (alias && memmem(e->data, e->len, alias, strlen(alias))));
}

/* ---- the context ---- */

static void find_compilers(struct vf_ctx *ctx, const char *dir)
{
	for (int i = 0; i < VF_COMPILERS; i++) {
		int v = vf_clang_versions[i];

		snprintf(ctx->cc[i].path, sizeof(ctx->cc[i].path), "%s/clang-%d", dir, v);
		if (access(ctx->cc[i].path, X_OK)) {
			ctx->cc[i].path[0] = '\0';
			snprintf(ctx->cc[i].why, sizeof(ctx->cc[i].why),
				 "clang-%d not installed: make deps-extra", v);
			continue;
		}
		vf_compiler_probe(ctx, i);
	}
}

int vf_ctx_open(struct vf_ctx **out, const char *compiler_dir, const struct vf_limits *lim,
		char *why, size_t len)
{
	struct vf_ctx *ctx = calloc(1, sizeof(*ctx));
	int err;

	*out = NULL;
	if (!ctx)
		return -ENOMEM;
	ctx->lim = *lim;
	ctx->cleanup = bpf_cc_scratch_open("verifier", ctx->dir, sizeof(ctx->dir), why, len);
	err = ctx->cleanup < 0 ? ctx->cleanup : vf_timer_init(ctx);
	if (err) {
		if (ctx->cleanup >= 0)
			snprintf(why, len, "%s: %s", ctx->dir, strerror(-err));
		vf_ctx_close(ctx);
		return err;
	}
	find_compilers(ctx, compiler_dir ? compiler_dir : "/usr/bin");
	*out = ctx;
	return 0;
}

void vf_ctx_close(struct vf_ctx *ctx)
{
	if (!ctx)
		return;
	vf_timer_fini(ctx);
	if (ctx->cleanup >= 0)
		bpf_cc_scratch_close(ctx->cleanup, ctx->dir);
	free(ctx->cache);
	free(ctx);
}

const char *vf_ctx_dir(const struct vf_ctx *ctx)
{
	return ctx->dir;
}

const char *vf_compiler(const struct vf_ctx *ctx, int compiler, const char **why)
{
	if (ctx->cc[compiler].path[0])
		return ctx->cc[compiler].path;
	if (why)
		*why = ctx->cc[compiler].why;
	return NULL;
}

const char *vf_compiler_version(const struct vf_ctx *ctx, int compiler)
{
	return ctx->cc[compiler].version;
}

void vf_counts(const struct vf_ctx *ctx, unsigned *builds, unsigned *loads, unsigned *cached)
{
	*builds = ctx->n_builds;
	*loads = ctx->n_loads;
	*cached = ctx->n_cached;
}

/* ---- running clang ---- */

void vf_compiler_probe(struct vf_ctx *ctx, int i)
{
	char out_path[512], *argv[] = { ctx->cc[i].path, "--version", NULL };

	snprintf(out_path, sizeof(out_path), "%s/version.txt", ctx->dir);
	if (bpf_cc_spawn(argv, out_path, true, 10000) == 0)
		bpf_cc_first_line(out_path, ctx->cc[i].version, sizeof(ctx->cc[i].version));
}

/* Compile p into obj; 0 or a reason in o (stage VF_COMPILE). */
int vf_compile(struct vf_ctx *ctx, const struct vf_point *p, const char *obj,
	       struct vf_outcome *o)
{
	char def[96], opt[8], mcpu[16];
	const char *flags[] = { opt, mcpu, "-D__TARGET_ARCH_x86", def, NULL };
	uint64_t t0 = now_ns();
	int err;

	snprintf(opt, sizeof(opt), "-%s", vf_opt_names[p->opt]);
	snprintf(mcpu, sizeof(mcpu), "-mcpu=%s", vf_mcpu_names[p->mcpu]);
	if (p->knob >= 0)
		snprintf(def, sizeof(def), "-D%s=%ld", vf_knobs[p->knob].macro, p->value);
	else
		snprintf(def, sizeof(def), "-DPARSE_STUDY=1");
	err = bpf_cc_compile(ctx->cc[p->compiler].path, ctx->dir, vf_parsers[p->parser].file, obj,
			     flags, ctx->lim.compile_ms, o->reason, sizeof(o->reason));
	o->compile_ms = (double)(now_ns() - t0) / 1e6;
	ctx->n_builds++;
	if (!err || err == -EINTR)
		return err;
	o->stage = VF_COMPILE;
	o->timed_out = err == -ETIMEDOUT;
	return 0;
}
