/*
 * sockmap-attach: what a sockmap accepts.  A second stream verdict attached
 * to the same map replaces the first (only the second runs); a map cannot
 * carry a stream verdict and an skb verdict at once (EBUSY either way); and
 * a socket already in a map with programs cannot join a second map that
 * carries programs too (EBUSY), while a second map without programs takes it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/util.h"
#include "netns/link.h"
#include "check_sock.skel.h"

#define PORT   7110
#define NBYTES 4096

struct priv {
	struct netns ns;
	struct check_sock *skel;
	int client, server;
};

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	err = check_lo_ns(ctx, "sockmap", &p->ns) ?: check_sock_load(ctx, &p->skel) ?:
	      check_defer_close(ctx, &p->client) ?: check_defer_close(ctx, &p->server);
	if (err)
		return err;
	err = check_tcp_pair(&p->ns, PORT, &p->client, &p->server);
	if (err)
		return check_error(ctx, err, "TCP pair: %s", strerror(-err));
	return 0;
}

static const char *ran(uint64_t runs)
{
	return runs ? "ran" : "0";
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int map_a = bpf_map__fd(p->skel->maps.map_a), map_b = bpf_map__fd(p->skel->maps.map_b);
	int v0 = bpf_program__fd(p->skel->progs.sk_verdict0);
	int v1 = bpf_program__fd(p->skel->progs.sk_verdict1);
	int v2 = bpf_program__fd(p->skel->progs.sk_skb_verdict2);
	uint8_t out[NBYTES], in[NBYTES];
	uint64_t sock = p->server;
	uint32_t key = 0;
	size_t got;
	int err, err2;

	/* Two stream verdicts on map_a: the second replaces the first.
	 * Sabotage: the second attach is left out. */
	err = bpf_prog_attach(v0, map_a, BPF_SK_SKB_STREAM_VERDICT, 0);
	err2 = ctx->sabotage ? 0 : bpf_prog_attach(v1, map_a, BPF_SK_SKB_STREAM_VERDICT, 0);
	if (err || err2)
		return check_error(ctx, err ?: err2, "attach stream verdicts: %s",
				   strerror(-(err ?: err2)));
	err = bpf_map_update_elem(map_a, &key, &sock, BPF_ANY);
	if (err)
		return check_error(ctx, err, "insert into map_a: %s", strerror(-err));
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7);
	if (send(p->client, out, sizeof(out), 0) != (ssize_t)sizeof(out))
		return check_error(ctx, -errno, "send: %s", strerror(errno));
	check_tcp_wait_received(p->server, sizeof(out), 1000);
	check_settle();
	got = check_read_full(p->server, in, sizeof(in), 1000);
	check_counter(ctx, "replace", "v0_runs", p->skel->bss->verdict_runs[0]);
	check_counter(ctx, "replace", "v1_runs", p->skel->bss->verdict_runs[1]);
	check_counter(ctx, "replace", "bytes_read", got);
	check_observe(ctx, "second_verdict", "first=%s second=%s delivered=%s",
		      ran(p->skel->bss->verdict_runs[0]), ran(p->skel->bss->verdict_runs[1]),
		      got == sizeof(out) && !memcmp(in, out, got) ? "all" : "short");

	/* An skb verdict next to the stream verdict, and the reverse on map_b. */
	err = bpf_prog_attach(v2, map_a, BPF_SK_SKB_VERDICT, 0);
	check_observe(ctx, "skb_verdict_after_stream_verdict", "err=%s", check_errname(err));
	err = bpf_prog_attach(v2, map_b, BPF_SK_SKB_VERDICT, 0);
	err2 = err ? err : bpf_prog_attach(v0, map_b, BPF_SK_SKB_STREAM_VERDICT, 0);
	check_observe(ctx, "stream_verdict_after_skb_verdict", "err=%s", check_errname(err2));
	if (!err)
		bpf_prog_detach2(v2, map_b, BPF_SK_SKB_VERDICT);

	/* The socket in a second map: fine without programs, EBUSY with. */
	err = bpf_map_update_elem(map_b, &key, &sock, BPF_ANY);
	check_observe(ctx, "second_map_no_programs", "err=%s", check_errname(err));
	if (!err)
		bpf_map_delete_elem(map_b, &key);
	err = bpf_prog_attach(v0, map_b, BPF_SK_SKB_STREAM_VERDICT, 0);
	if (err)
		return check_error(ctx, err, "attach to map_b: %s", strerror(-err));
	err = bpf_map_update_elem(map_b, &key, &sock, BPF_ANY);
	check_observe(ctx, "second_map_with_programs", "err=%s", check_errname(err));
	return 0;
}

DEFINE_CHECK(sockmap_attach,
	.name = "sockmap-attach",
	.summary = "sockmap programs: a second verdict replaces, verdict kinds and maps exclude",
	.features = CHECK_FEAT(FEAT_SK_SKB_VERDICT),
	.expected = "second_verdict: first=0 second=ran delivered=all; "
		    "skb_verdict_after_stream_verdict: err=EBUSY; "
		    "stream_verdict_after_skb_verdict: err=EBUSY; "
		    "second_map_no_programs: err=ok; second_map_with_programs: err=EBUSY",
	.reference = "net/core/sock_map.c sock_map_prog_link_lookup() (stream vs skb verdict "
		     "EBUSY), sock_map_link() (a psock with programs EBUSY)",
	.runc_skip = CHECK_RUNC_HOST_TCP_APP,
	CHECK_STEPS(struct priv),
	.order = 100);
