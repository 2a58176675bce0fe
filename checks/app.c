/*
 * The checks' app: a UDP sink on the DUT side.  Under the netns runtime it
 * is a plain socket of the check (the check reads it, and answers when
 * echo); under runc it is olab-app's udp-sink (or udp-echo) started through
 * the shared app runtime (containers/app_runtime.h) in a container joined to
 * the same network namespace, with only bpf and net_admin, and its count
 * comes from the container's statistics.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "checks/check.h"
#include "lib/util.h"

#define APP_CAPS     "bpf,net_admin"
#define STABLE_READS 4           /* unchanged reads, 5 ms apart */
#define SETTLE_MAX   100         /* bound: 500 ms */

int check_runtime_ready(struct check_ctx *ctx)
{
	char why[CHECK_REASON_LEN - 16];

	if (!app_runtime_prepare(ctx->runtime, why, sizeof(why)))
		return 0;
	snprintf(ctx->skip, sizeof(ctx->skip), "containers: %s", why);
	return -EOPNOTSUPP;
}

static void app_undo(void *a, void *unused)
{
	check_app_close(a);
}

int check_app_udp(struct check_ctx *ctx, struct check_app *a, const struct netns *ns,
		  uint16_t port, const char *name, bool echo)
{
	struct rt_app_opts ro = { .runtime = APP_RT_RUNC, .name = name, .ns = ns,
				  .caps = APP_CAPS,
				  .app = { .kind = echo ? APP_UDP_ECHO : APP_UDP_SINK,
					   .port = port, .cpu = -1, .timeout_ms = 120000 } };
	char why[CHECK_REASON_LEN];
	int err;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	err = check_defer(ctx, app_undo, a, NULL);
	if (err)
		return err;
	if (ctx->runtime != APP_RT_RUNC) {
		a->fd = check_udp_sink(ns, port);
		if (a->fd < 0)
			return check_error(ctx, a->fd, "app socket: %s", strerror(-a->fd));
		return 0;
	}
	err = check_runtime_ready(ctx);
	if (err)
		return err;
	err = rt_app_start(&ro, &a->rapp, why, sizeof(why));
	if (err)
		return check_error(ctx, err, "%s", why);
	return 0;
}

int check_app_take(struct check_app *a)
{
	struct app_stats st;
	uint64_t last = ~0ull;
	int same = 0, n;

	if (!a->rapp)
		return a->fd >= 0 ? check_udp_drain(a->fd) : 0;
	/* The app copies its counters every few ms: wait until they rest. */
	for (int i = 0; i < SETTLE_MAX && same < STABLE_READS; i++) {
		rt_app_read(a->rapp, &st);
		same = st.packets == last ? same + 1 : 0;
		last = st.packets;
		sleep_ns(5 * 1000000ull);
	}
	n = (int)(last - a->seen);
	a->seen = last;
	return n;
}

void check_app_close(struct check_app *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	rt_app_free(a->rapp);
	a->rapp = NULL;
}
