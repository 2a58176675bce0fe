/*
 * The checks' app: a UDP sink on the DUT side.  Under the netns runtime it
 * is a plain socket of the check; under runc it is olab-app's udp-sink (or
 * udp-echo) in a
 * runc container joined to the same network namespace, with only bpf and
 * net_admin, and its count comes from the container's statistics file.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "checks/check.h"
#include "containers/container.h"
#include "lib/util.h"

#define APP_CAPS     "bpf,net_admin"
#define STABLE_READS 4           /* unchanged reads, 5 ms apart */
#define SETTLE_MAX   100         /* bound: 500 ms */

int check_app_udp(struct check_ctx *ctx, struct check_app *a, const struct netns *ns,
		  uint16_t port, const char *name, bool echo)
{
	struct ctr_app_opts co = { .name = name, .ns = ns,
				   .app = { .kind = echo ? APP_UDP_ECHO : APP_UDP_SINK,
					    .port = port, .cpu = -1,
					    .timeout_ms = 120000 } };
	char why[CTR_ERR_LEN];
	int err;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	if (ctx->runtime != CHECK_RT_RUNC) {
		a->fd = check_udp_sink(ns, port);
		if (a->fd < 0)
			return check_error(ctx, a->fd, "app socket: %s", strerror(-a->fd));
		return 0;
	}
	if (containers_prepare()) {
		snprintf(ctx->skip, sizeof(ctx->skip), "containers: %s", ctr_last_error());
		return -EOPNOTSUPP;
	}
	err = ctr_caps_parse(APP_CAPS, &co.caps, why, sizeof(why));
	if (err)
		return check_error(ctx, err, "caps %s: %s", APP_CAPS, why);
	err = container_run_app(&co, &a->capp);
	if (err)
		return check_error(ctx, err, "%s in a container: %s",
				   app_kind_name(co.app.kind), ctr_last_error());
	return 0;
}

int check_app_take(struct check_app *a)
{
	struct app_stats st;
	uint64_t last = ~0ull;
	int same = 0, n;

	if (!a->capp)
		return a->fd >= 0 ? check_udp_drain(a->fd) : 0;
	/* The app copies its counters every few ms: wait until they rest. */
	for (int i = 0; i < SETTLE_MAX && same < STABLE_READS; i++) {
		ctr_app_read(a->capp, &st);
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
	ctr_app_free(a->capp);
	a->capp = NULL;
}
