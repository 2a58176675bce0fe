/*
 * Socket apps in containers: olab-app runs lib/apps.c inside the container
 * and copies its statistics into a file of the bundle's share directory,
 * which the host maps too.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/log.h"
#include "lib/util.h"

#define STATS_FILE      "app.stats"
#define READY_TIMEOUT_MS 10000
#define STATE_EVERY_NS  (100 * 1000000ull)

static struct ctr_app_shared *map_shared(const char *share)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/" STATS_FILE, share);
	return ctr_app_shared_map(path);
}

/* Its last stderr line, for "died at start" errors. */
static void last_err_line(struct ctr *c, char *buf, size_t len)
{
	char log[2048];

	buf[0] = '\0';
	if (!ctr_read_output(c, "err", log, sizeof(log)))
		ctr_runc_msg(log, buf, len);
}

static int wait_ready(struct ctr_app *a, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull, last = now_ns();

	for (int i = 0; i < 1000000; i++) {
		int32_t err = __atomic_load_n(&a->sh->st.error, __ATOMIC_RELAXED);

		if (err)
			return err;
		if (__atomic_load_n(&a->sh->st.ready, __ATOMIC_RELAXED))
			return 0;
		if (__atomic_load_n(&a->sh->state, __ATOMIC_ACQUIRE) == CTR_APP_EXITED)
			return -ECHILD;
		if (now_ns() - last >= STATE_EVERY_NS) {
			if (!ctr_running(a->ctr))
				return -ECHILD;
			last = now_ns();
		}
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ns(2 * 1000000ull);
	}
	return -ETIMEDOUT;
}

/* The olab-app command line for an app; numbers are formatted into num. */
struct app_argv {
	const char *v[24];
	char num[6][16];
	int n, nnum;
};

static void arg_num(struct app_argv *a, const char *opt, long long v)
{
	char *buf = a->num[a->nnum++];

	snprintf(buf, sizeof(a->num[0]), "%lld", v);
	a->v[a->n++] = opt;
	a->v[a->n++] = buf;
}

static void app_argv_build(const struct app_opts *app, struct app_argv *a)
{
	a->v[a->n++] = CTR_APP;
	a->v[a->n++] = app_kind_name(app->kind);
	arg_num(a, "--port", app->port);
	arg_num(a, "--family", app->family == AF_INET6 ? 6 : 4);
	if (app->cpu >= 0)
		arg_num(a, "--cpu", app->cpu);
	if (app->req_size)
		arg_num(a, "--req-size", app->req_size);
	if (app->verify)
		a->v[a->n++] = "--verify";
	if (app->rcvbuf > 0)
		arg_num(a, "--rcvbuf", app->rcvbuf);
	if (app->max_conns)
		arg_num(a, "--max-conns", app->max_conns);
	if (app->timeout_ms)
		arg_num(a, "--timeout-ms", app->timeout_ms);
	if (app->sockmap_fd > 0) {
		a->v[a->n++] = "--sockmap-fd"; /* runc --preserve-fds 1: it is fd 3 in there */
		a->v[a->n++] = "3";
	}
	a->v[a->n++] = "--stats";
	a->v[a->n++] = CTR_SHARE_DIR "/" STATS_FILE;
	a->v[a->n] = NULL;
}

int container_run_app(const struct ctr_app_opts *o, struct ctr_app **out)
{
	struct app_argv argv = { .n = 0 };
	struct ctr_opts co;
	struct ctr_app *a;
	char line[160];
	int err;

	*out = NULL;
	if (!o || !app_kind_name(o->app.kind) || !o->app.port ||
	    (o->app.family && o->app.family != AF_INET && o->app.family != AF_INET6)) {
		ctr_set_err("bad app options");
		return -EINVAL;
	}
	app_argv_build(&o->app, &argv);

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->kind = o->app.kind;
	a->exit_code = -1;
	co = (struct ctr_opts){ .name = o->name, .ns = o->ns, .caps = o->caps, .argv = argv.v,
				.pass_fd = o->app.sockmap_fd > 0 ? o->app.sockmap_fd : -1 };
	err = ctr_start(&co, &a->ctr);
	if (err) {
		free(a);
		return err;
	}
	a->sh = map_shared(a->ctr->share);
	if (!a->sh) {
		err = -errno;
		ctr_set_err("cannot map the statistics of %s: %s", a->ctr->id, strerror(-err));
		goto fail;
	}
	err = wait_ready(a, READY_TIMEOUT_MS);
	if (err) {
		last_err_line(a->ctr, line, sizeof(line));
		if (err == -ECHILD)
			ctr_set_err("%s in container %s died at start: %s", app_kind_name(a->kind),
				    a->ctr->id, line[0] ? line : "no message");
		else
			ctr_set_err("%s in container %s not ready: %s%s%s", app_kind_name(a->kind),
				    a->ctr->id, strerror(-err), line[0] ? ": " : "", line);
		goto fail;
	}
	pr_debug("containers: %s listening on port %u in %s\n", app_kind_name(a->kind),
		 o->app.port, a->ctr->id);
	*out = a;
	return 0;
fail:
	ctr_destroy(a->ctr);
	a->ctr = NULL;
	ctr_app_free(a);
	return err;
}

void ctr_app_read(const struct ctr_app *a, struct app_stats *out)
{
	const uint64_t *src = (const uint64_t *)&a->sh->st;
	uint64_t *dst = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

int ctr_app_wait_count(const struct ctr_app *a, size_t field, uint64_t want, int timeout_ms)
{
	const uint64_t *p = (const uint64_t *)((const char *)&a->sh->st + field);
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	if (field % sizeof(uint64_t) || field >= sizeof(a->sh->st))
		return -EINVAL;
	for (int i = 0; i < 10000000 && __atomic_load_n(p, __ATOMIC_RELAXED) < want; i++) {
		if (now_ns() >= end)
			return -ETIMEDOUT;
		sleep_ns(1000000);
	}
	return 0;
}

int ctr_app_stop(struct ctr_app *a, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int ret = -ETIMEDOUT;

	if (!a)
		return -EINVAL;
	if (!a->ctr)
		return a->exit_code;
	if (a->sh && __atomic_load_n(&a->sh->state, __ATOMIC_ACQUIRE) != CTR_APP_EXITED)
		ctr_kill(a->ctr, SIGTERM);
	for (int i = 0; a->sh && i < 1000000; i++) {
		if (__atomic_load_n(&a->sh->state, __ATOMIC_ACQUIRE) == CTR_APP_EXITED) {
			ret = __atomic_load_n(&a->sh->exit_code, __ATOMIC_RELAXED);
			break;
		}
		if (now_ns() >= end)
			break;
		sleep_ns(2 * 1000000ull);
	}
	if (ret == -ETIMEDOUT)
		pr_warn("containers: %s did not stop in %d ms, killing it\n", a->ctr->id, timeout_ms);
	/* Its counters are final; the container goes (SIGKILL if still there). */
	ctr_destroy(a->ctr);
	a->ctr = NULL;
	a->exit_code = ret;
	return ret;
}

void ctr_app_free(struct ctr_app *a)
{
	if (!a)
		return;
	if (a->ctr)
		ctr_app_stop(a, 1000);
	if (a->sh)
		munmap(a->sh, sizeof(*a->sh));
	free(a);
}
