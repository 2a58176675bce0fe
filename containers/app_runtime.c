/* An app in the netns or in a runc container (containers/app_runtime.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "containers/app_runtime.h"
#include "containers/container.h"

#define DEFAULT_CAPS "bpf,net_admin"
#define READY_MS     5000
#define STOP_MS      2000

const char *const app_runtime_names[] = { "netns", "runc", NULL };

struct rt_app {
	struct app *app;       /* netns */
	struct ctr_app *ctr;   /* runc */
};

const char *app_runtime_name(enum app_runtime rt)
{
	return (unsigned)rt < APP_RT__COUNT ? app_runtime_names[rt] : "?";
}

int app_runtime_prepare(enum app_runtime rt, char *why, size_t len)
{
	if (rt != APP_RT_RUNC || !containers_prepare())
		return 0;
	if (why)
		snprintf(why, len, "%s", ctr_last_error());
	return -EOPNOTSUPP;
}

static int start_runc(const struct rt_app_opts *o, struct rt_app *a, char *why, size_t len)
{
	struct ctr_app_opts co = { .name = o->name ? o->name : "app", .ns = o->ns, .app = o->app };
	const char *caps = o->caps ? o->caps : DEFAULT_CAPS;
	char reason[CTR_ERR_LEN] = "";
	int err = ctr_caps_parse(caps, &co.caps, reason, sizeof(reason));

	if (err) {
		if (why)
			snprintf(why, len, "caps %s: %s", caps, reason);
		return err;
	}
	err = container_run_app(&co, &a->ctr);
	if (err && why)
		snprintf(why, len, "%s in a container: %s", app_kind_name(o->app.kind),
			 ctr_last_error());
	return err;
}

int rt_app_start(const struct rt_app_opts *o, struct rt_app **out, char *why, size_t len)
{
	struct rt_app *a = calloc(1, sizeof(*a));
	int err;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	if (o->runtime == APP_RT_RUNC) {
		err = start_runc(o, a, why, len);
	} else {
		err = app_start(&o->app, o->ns, &a->app);
		if (!err)
			err = app_wait_ready(a->app, READY_MS);
		if (err && why)
			snprintf(why, len, "%s: %s", app_kind_name(o->app.kind), strerror(-err));
	}
	if (err) {
		rt_app_free(a);
		return err;
	}
	*out = a;
	return 0;
}

pid_t rt_app_pid(const struct rt_app *a)
{
	if (a && a->ctr && a->ctr->ctr)
		return a->ctr->ctr->pid;
	return a && a->app ? a->app->proc.pid : 0;
}

void rt_app_read(const struct rt_app *a, struct app_stats *out)
{
	if (a && a->ctr)
		ctr_app_read(a->ctr, out);
	else if (a && a->app)
		app_read(a->app, out);
	else
		memset(out, 0, sizeof(*out));
}

int rt_app_wait_count(const struct rt_app *a, size_t field, uint64_t want, int timeout_ms)
{
	if (a && a->ctr)
		return ctr_app_wait_count(a->ctr, field, want, timeout_ms);
	return a ? app_wait_count(a->app, field, want, timeout_ms) : -EINVAL;
}

void rt_app_free(struct rt_app *a)
{
	if (!a)
		return;
	if (a->ctr) {
		ctr_app_stop(a->ctr, STOP_MS);
		ctr_app_free(a->ctr);
	}
	app_free(a->app);
	free(a);
}
