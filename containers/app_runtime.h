/*
 * Where an app runs: in the run's network namespace directly, or in a runc
 * container joined to it (capabilities bpf,net_admin unless told).  One
 * abstraction for benches, checks and scenarios; the counters are the same
 * struct app_stats either way.
 */
#ifndef OLAB_APP_RUNTIME_H
#define OLAB_APP_RUNTIME_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "lib/apps.h"
#include "netns/netns.h"

enum app_runtime { APP_RT_NETNS, APP_RT_RUNC, APP_RT__COUNT };

extern const char *const app_runtime_names[]; /* "netns", "runc", NULL */

struct rt_app_opts {
	enum app_runtime runtime;
	const char *name;          /* runc: container name (unique in the run) */
	const struct netns *ns;    /* where the app's sockets live */
	const char *caps;          /* runc: capability list; NULL: "bpf,net_admin" */
	struct app_opts app;
};

struct rt_app;

const char *app_runtime_name(enum app_runtime rt);
/* runc: make sure containers can run here; 0, or -errno with the reason in why. */
int app_runtime_prepare(enum app_runtime rt, char *why, size_t len);
/* Start the app and wait until it is ready.  0, or -errno with a one-line
 * reason in why (why may be NULL). */
int rt_app_start(const struct rt_app_opts *o, struct rt_app **out, char *why, size_t len);
void rt_app_read(const struct rt_app *a, struct app_stats *out);
/* Wait until the uint64_t counter at offset field reaches want. */
int rt_app_wait_count(const struct rt_app *a, size_t field, uint64_t want, int timeout_ms);
/* The app's process (netns) or the container's init (runc), for its CPU time; 0 if none. */
pid_t rt_app_pid(const struct rt_app *a);
/* Stop and free; NULL is fine. */
void rt_app_free(struct rt_app *a);

#endif
