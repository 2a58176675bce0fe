/*
 * The verifier study's builds: the embedded parser sources written to a
 * private temp dir, the Debian clangs found, one compile per point (killed
 * over its time limit) and the cache of outcomes, by point and by object.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bench/verifier.h"
#include "bench/verifier_internal.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"

extern char **environ;

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

/* Written by the build (Makefile: $(B)/gen/parser_srcs.S): every bpf/parse*
 * file of the tree, NULL-terminated. */
struct vf_embedded {
	const char *name;
	const char *data;
	uint64_t len;
};
extern const struct vf_embedded olab_parser_srcs[];

static const struct vf_embedded *embedded(const char *name)
{
	for (const struct vf_embedded *e = olab_parser_srcs; e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

bool vf_parser_present(int parser)
{
	return embedded("parse.h") && embedded(vf_parsers[parser].file);
}

bool vf_knob_applies(int parser, int knob)
{
	const struct vf_embedded *e = embedded(vf_parsers[parser].file);
	const char *alias = vf_knobs[knob].used_as;

	return e && (memmem(e->data, e->len, vf_knobs[knob].macro, strlen(vf_knobs[knob].macro)) ||
		     (alias && memmem(e->data, e->len, alias, strlen(alias))));
}

/* ---- the context ---- */

static void remove_dir(const char *name, long num)
{
	remove_tree(name);
}

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

static int write_sources(const char *dir)
{
	char path[512];
	int err = 0;

	for (const struct vf_embedded *e = olab_parser_srcs; e->name && !err; e++) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->name);
		err = write_path_atomic(path, e->data, e->len, 0644);
	}
	return err;
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
	ctx->cleanup = -1;
	/* The run's prefix in the name: `clean` and the tests can tell whose it is. */
	snprintf(ctx->dir, sizeof(ctx->dir), "/tmp/%s-verifier-XXXXXX", run_prefix());
	if (!mkdtemp(ctx->dir)) {
		err = -errno;
		snprintf(why, len, "mkdtemp %s: %s", ctx->dir, strerror(errno));
		free(ctx);
		return err;
	}
	ctx->cleanup = cleanup_add(remove_dir, ctx->dir, 0, "verifier temp dir");
	/* Listed in the run's manifest: `clean` removes it after a SIGKILL. */
	err = ctx->cleanup < 0 ? ctx->cleanup : manifest_add_path(MANIFEST_SCRATCH, ctx->dir);
	if (!err)
		err = write_sources(ctx->dir);
	if (!err)
		err = vf_timer_init(ctx);
	if (err) {
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
		cleanup_run(ctx->cleanup);
	else
		remove_tree(ctx->dir);
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

/* Wait for pid up to ms (or a stop signal), then kill it: its wait status,
 * or -ETIMEDOUT / -EINTR once it is reaped. */
static int wait_child(pid_t pid, uint64_t ms)
{
	int pfd = pidfd_open(pid, 0), status = 0, ret = 0;
	uint64_t end = now_ns() + ms * 1000000ull;

	while (pfd >= 0) {
		uint64_t now = now_ns();
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		if (run_stopping() || now >= end) {
			ret = run_stopping() ? -EINTR : -ETIMEDOUT;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)((end - now) / 1000000ull) > 50 ? 50 : 1) > 0)
			break;
	}
	close_fd(pfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ret ? ret : status;
}

/* Run argv, stderr (and stdout too when merge) to out_path: its wait
 * status or -errno. */
int vf_spawn(char *const argv[], const char *out_path, bool merge, uint64_t ms)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (merge)
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return err ? -err : wait_child(pid, ms);
}

static void first_line(const char *path, char *buf, size_t len)
{
	char text[512];

	buf[0] = '\0';
	if (!read_file(path, text, sizeof(text)))
		snprintf(buf, len, "%.*s", (int)strcspn(text, "\n"), text);
}

/* The first line of path with "error" in it, or its last line; without
 * the temp dir's name (dir). */
static void error_line(const char *path, const char *dir, char *buf, size_t len)
{
	char text[4096], *line, *save = NULL, *last = NULL;

	buf[0] = '\0';
	if (read_file(path, text, sizeof(text)))
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, dir, strlen(dir)) && line[strlen(dir)] == '/')
			line += strlen(dir) + 1;
		if (strstr(line, "error")) {
			snprintf(buf, len, "%s", line);
			return;
		}
		last = line;
	}
	if (last)
		snprintf(buf, len, "%s", last);
}

void vf_compiler_probe(struct vf_ctx *ctx, int i)
{
	char out_path[512], *argv[] = { ctx->cc[i].path, "--version", NULL };

	snprintf(out_path, sizeof(out_path), "%s/version.txt", ctx->dir);
	if (vf_spawn(argv, out_path, true, 10000) == 0)
		first_line(out_path, ctx->cc[i].version, sizeof(ctx->cc[i].version));
}

/* Compile p into obj; 0 or a reason in o (stage VF_COMPILE). */
int vf_compile(struct vf_ctx *ctx, const struct vf_point *p, const char *obj,
	       struct vf_outcome *o)
{
	char src[512], inc[512], err_path[512], def[96], opt[8], mcpu[16];
	char *argv[] = { ctx->cc[p->compiler].path, "-target", "bpf", "-g", opt, mcpu,
			 "-D__TARGET_ARCH_x86", def, inc, "-I/usr/include/x86_64-linux-gnu",
			 "-c", src, "-o", (char *)obj, NULL };
	uint64_t t0 = now_ns();
	int st;

	snprintf(src, sizeof(src), "%s/%s", ctx->dir, vf_parsers[p->parser].file);
	snprintf(inc, sizeof(inc), "-I%s", ctx->dir);
	snprintf(err_path, sizeof(err_path), "%s/cc.err", ctx->dir);
	snprintf(opt, sizeof(opt), "-%s", vf_opt_names[p->opt]);
	snprintf(mcpu, sizeof(mcpu), "-mcpu=%s", vf_mcpu_names[p->mcpu]);
	if (p->knob >= 0)
		snprintf(def, sizeof(def), "-D%s=%ld", vf_knobs[p->knob].macro, p->value);
	else
		snprintf(def, sizeof(def), "-DPARSE_STUDY=1");
	st = vf_spawn(argv, err_path, false, ctx->lim.compile_ms);
	o->compile_ms = (double)(now_ns() - t0) / 1e6;
	ctx->n_builds++;
	if (st == -EINTR)
		return st;
	if (st == 0)
		return 0;
	o->stage = VF_COMPILE;
	if (st == -ETIMEDOUT) {
		o->timed_out = true;
		snprintf(o->reason, sizeof(o->reason), "compile over its time limit (%llu ms)",
			 (unsigned long long)ctx->lim.compile_ms);
	} else if (st < 0) {
		snprintf(o->reason, sizeof(o->reason), "cannot run %s: %s", argv[0], strerror(-st));
	} else {
		error_line(err_path, ctx->dir, o->reason, sizeof(o->reason));
		if (!o->reason[0])
			snprintf(o->reason, sizeof(o->reason), "clang exit status %d",
				 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	return 0;
}
