/*
 * Running one check in a forked child with a time limit.
 *
 * The child gets its own run prefix and cleanup registry (like the test
 * runner's children), so everything the check made goes when it ends.  It
 * reports its raw outcome as JSON on a pipe.  When it overruns its limit it
 * gets SIGTERM (loops poll run_stopping()), a second SIGTERM (its handler
 * runs the cleanups), then SIGKILL, after which the parent removes what
 * still carries the child's prefix.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checks/check.h"
#include "checks/verdict.h"
#include "lib/cpuidle.h"
#include "lib/kver.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/leftovers.h"

#define RESULT_MAX   (64 * 1024)
#define TERM_WAIT_MS 3000

/* ---- the child ---- */

static bool sabotage_env(const struct check *c)
{
	const char *v = getenv(CHECK_SABOTAGE_ENV);
	char list[256], *save = NULL;

	if (!v || !*v)
		return false;
	snprintf(list, sizeof(list), "%s", v);
	for (char *p = strtok_r(list, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
		if (check_matches(c, p))
			return true;
	return false;
}

/* The raw outcome as compact JSON on fd. */
static void write_report(const struct check_ctx *ctx, int fd)
{
	json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O?, s:o}",
				"expected", ctx->expected, "observed", ctx->observed,
				"xfail", ctx->xfail, "xfail_phases", ctx->xfail_phases,
				"skip", ctx->skip, "error", ctx->error,
				"counters", ctx->counters, "cpu_idle", cpuidle_config_json());
	char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;

	if (text)
		write_all(fd, text, strlen(text));
	free(text);
	json_decref(out);
}

int check_defer(struct check_ctx *ctx, check_undo_fn fn, void *a, void *b)
{
	if (ctx->n_undo >= CHECK_UNDO_MAX)
		return check_error(ctx, -ENOSPC, "more than %d undos", CHECK_UNDO_MAX);
	ctx->undo[ctx->n_undo].fn = fn;
	ctx->undo[ctx->n_undo].a = a;
	ctx->undo[ctx->n_undo].b = b;
	ctx->n_undo++;
	return 0;
}

static void undo_all(struct check_ctx *ctx)
{
	while (ctx->n_undo > 0) {
		ctx->n_undo--;
		ctx->undo[ctx->n_undo].fn(ctx->undo[ctx->n_undo].a, ctx->undo[ctx->n_undo].b);
	}
}

/* setup, run, teardown and the deferred undos; the raw outcome as JSON on fd. */
static void child_main(const struct check *c, struct check_ctx *ctx, int fd)
{
	int err;

	ctx->priv = calloc(1, c->priv_size ? c->priv_size : 1);
	ctx->counters = json_object();
	if (!ctx->priv || !ctx->counters) {
		check_error(ctx, -ENOMEM, "out of memory");
		goto report;
	}
	cpuidle_set(cpuidle_resolve(ctx->cpu_idle, c->latency ? CPUIDLE_POLL : CPUIDLE_DEFAULT));
	err = c->setup ? c->setup(ctx) : 0;
	if (err && !ctx->error[0] && !ctx->skip[0])
		check_error(ctx, err, "setup: %s", strerror(-err));
	if (!err && !ctx->skip[0]) {
		err = c->run(ctx);
		if (err && !ctx->error[0] && !ctx->skip[0])
			check_error(ctx, err, "run: %s", strerror(-err));
	}
	if (c->teardown)
		c->teardown(ctx);
	undo_all(ctx);
report:
	cleanup_all();
	if (run_stopping() && !ctx->error[0])
		check_error(ctx, -EINTR, "interrupted");
	write_report(ctx, fd);
	json_decref(ctx->counters);
	free(ctx->priv);
}

/* In the forked child: never returns. */
static void child_run(const struct check *c, const struct check_run_opts *o,
		      const struct check_result *r, pid_t parent, uint64_t deadline_ns, int fd)
{
	struct check_ctx ctx = { .check = c, .runtime = o->runtime, .sabotage = r->sabotage,
				 .cpu_idle = o->cpu_idle, .deadline_ns = deadline_ns };

	run_init();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(127);
	snprintf(ctx.expected, sizeof(ctx.expected), "%s", r->expected);
	child_main(c, &ctx, fd);
	close(fd);
	fflush(NULL);
	_exit(0);
}

/* ---- the parent ---- */

/* Remove what the killed check's manifest lists (same sweep as `clean`). */
static void sweep_prefix(pid_t pid)
{
	struct leftovers_report r = { .removed = json_array(), .foreign = json_array() };
	size_t i;
	json_t *e;

	manifest_clean_run(pid, &r);
	json_array_foreach(r.removed, i, e)
		pr_warn("check: removed %s %s left by a killed check\n",
			json_string_value(json_object_get(e, "kind")),
			json_string_value(json_object_get(e, "name")));
	json_array_foreach(r.foreign, i, e)
		pr_warn("check: left %s %s: not created by the check (%s)\n",
			json_string_value(json_object_get(e, "kind")),
			json_string_value(json_object_get(e, "name")),
			json_string_value(json_object_get(e, "why")));
	json_decref(r.removed);
	json_decref(r.foreign);
	run_lock_remove_dead(pid);
}

static bool wait_exit(pid_t pid, int ms, int *st)
{
	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return true;
		sleep_ns(10 * 1000 * 1000);
	}
	return false;
}

/* Overran: let it unwind (two SIGTERMs), then SIGKILL, then sweep. */
static void stop_overrun(pid_t pid)
{
	int st = 0;

	kill(pid, SIGTERM);
	if (!wait_exit(pid, TERM_WAIT_MS, &st)) {
		kill(pid, SIGTERM);
		if (!wait_exit(pid, TERM_WAIT_MS, &st)) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
	}
	sweep_prefix(pid);
}

/* Read the child's report until EOF or the deadline; true on EOF. */
static bool read_report(int fd, char *buf, size_t len, uint64_t deadline)
{
	size_t used = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ns();
		ssize_t n;
		int r;

		if (now >= deadline || run_stopping())
			return false;
		r = poll(&p, 1, (int)((deadline - now) / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		n = read(fd, buf + used, len - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || used + n >= len - 1) {
			buf[used + (n > 0 ? n : 0)] = '\0';
			return true;
		}
		used += n;
	}
}

/* An emulated kernel (`offloadlab vm` under TCG) runs several times slower. */
int check_time_scale(void)
{
	return time_scale();
}

/* Wait for the child's report and judge it (r->status and reason). */
static void collect(const struct check *c, struct check_result *r, pid_t pid, int fd,
		    uint64_t t0, char *buf)
{
	int timeout_ms = (c->timeout_ms ? c->timeout_ms : CHECK_TIMEOUT_MS) * check_time_scale();
	int st = 0;
	bool done = read_report(fd, buf, RESULT_MAX, t0 + (uint64_t)timeout_ms * 1000000);

	close(fd);
	if (!done) {
		stop_overrun(pid);
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "%s after %d ms (time limit)",
			 run_stopping() ? "interrupted" : "did not finish", timeout_ms);
		snprintf(r->observed, sizeof(r->observed), "timeout");
		return;
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st) && !buf[0]) {
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "the check was killed by signal %d",
			 WTERMSIG(st));
		sweep_prefix(pid);
		return;
	}
	check_verdict_from_report(r, buf);
	if (r->status != CHECK_SKIP && r->sabotage) {
		/* Recorded so nobody mistakes a sabotaged run for a real one. */
		size_t n = strlen(r->reason);

		snprintf(r->reason + n, sizeof(r->reason) - n, "%s(sabotaged)", n ? " " : "");
	}
}

/* Fork the check's child; the read end of its report pipe, or -errno. */
static int start_child(const struct check *c, const struct check_run_opts *o,
		       const struct check_result *r, uint64_t t0, pid_t *pid)
{
	int timeout_ms = (c->timeout_ms ? c->timeout_ms : CHECK_TIMEOUT_MS) * check_time_scale();
	pid_t parent = getpid();
	int pfd[2];

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	*pid = run_fork();
	if (*pid < 0) {
		int err = -errno;

		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (*pid == 0) {
		close(pfd[0]);
		/* The check's own loops stop a second before the hard limit. */
		child_run(c, o, r, parent, t0 + (uint64_t)(timeout_ms - 1000) * 1000000, pfd[1]);
	}
	close(pfd[1]);
	return pfd[0];
}

int check_run(const struct check *c, const struct check_run_opts *o, struct check_result *r)
{
	struct check_run_opts none = { .cpu_idle = CPUIDLE_UNSET };
	uint64_t t0 = now_ns();
	char *buf = NULL;
	int fd = -ENOMEM;
	pid_t pid = -1;

	if (!o)
		o = &none;
	memset(r, 0, sizeof(*r));
	r->check = c;
	r->runtime = o->runtime;
	r->sabotage = o->sabotage || sabotage_env(c);
	r->kver = kver_running();
	if (o->expected)
		snprintf(r->expected, sizeof(r->expected), "%s", o->expected);
	else
		check_expected_for(c, r->kver, r->expected, sizeof(r->expected));
	if (check_needs_met(c, o->runtime, r->reason, sizeof(r->reason))) {
		r->status = CHECK_SKIP;
		return 0;
	}
	buf = malloc(RESULT_MAX);
	if (buf)
		fd = start_child(c, o, r, t0, &pid);
	if (fd >= 0)
		collect(c, r, pid, fd, t0, buf);
	else {
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "cannot start the check: %s",
			 strerror(-fd));
	}
	r->seconds = (now_ns() - t0) / 1e9;
	free(buf);
	return fd < 0 ? fd : 0;
}

void check_result_free(struct check_result *r)
{
	if (!r)
		return;
	json_decref(r->counters);
	json_decref(r->cpu_idle);
	r->counters = r->cpu_idle = NULL;
}
