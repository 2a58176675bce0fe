/*
 * output-drop-vs-sk-msg: an sk_msg program that redirects what a socket
 * sends into the peer socket's ingress queue (BPF_F_INGRESS) moves the data
 * without the IP stack, so an OUTPUT drop rule that stops the plain TCP
 * connection does not stop the offloaded one.  (The other half of the
 * issue's input-drop-vs-sk-skb item: INPUT drops stop sk_skb, OUTPUT drops
 * do not stop sk_msg.)
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/link.h"
#include "check_skmsg.skel.h"

#define PORT    7116
#define NBYTES  4096
#define WAIT_MS 400

struct priv {
	struct netns ns;
	struct check_skmsg *skel;
	int plain_c, plain_s, msg_c, msg_s;
	uint8_t buf[NBYTES];
};

static const struct check_nf_rule out_rule = { "output_drop", CHECK_NFT, "inet olab", NULL, "output" };

static void skel_undo(void *skel, void *unused)
{
	check_skmsg__destroy(skel);
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err;

	err = check_lo_ns(ctx, "skmsg", &p->ns) ?:
	      check_defer_close(ctx, &p->plain_c) ?: check_defer_close(ctx, &p->plain_s) ?:
	      check_defer_close(ctx, &p->msg_c) ?: check_defer_close(ctx, &p->msg_s);
	if (err)
		return err;
	/* Both connections are made before the OUTPUT rule exists. */
	err = check_tcp_pair(&p->ns, PORT, &p->plain_c, &p->plain_s);
	if (!err)
		err = check_tcp_pair(&p->ns, PORT + 1, &p->msg_c, &p->msg_s);
	if (err)
		return check_error(ctx, err, "tcp pairs: %s", strerror(-err));
	p->skel = check_skmsg__open();
	if (!p->skel)
		return check_error(ctx, -errno, "open check_skmsg: %s", strerror(errno));
	p->skel->rodata->flow_port = PORT + 1;
	err = check_defer(ctx, skel_undo, p->skel, NULL);
	if (err)
		return err;
	err = check_skmsg__load(p->skel);
	if (err)
		return check_error(ctx, err, "load check_skmsg: %s", strerror(-err));
	return check_nft(ctx, &p->ns,
		"table inet olab {\n"
		"  chain out { type filter hook output priority filter;\n"
		"    tcp dport { %d, %d } counter drop comment \"output\"; }\n"
		"}\n", PORT, PORT + 1);
}

/* Send NBYTES on c, give them WAIT_MS, and read what reached s. */
static int send_and_read(struct priv *p, int c, int s, uint64_t *got, bool *in_order)
{
	uint64_t end = now_ns() + WAIT_MS * 1000000ull;
	uint8_t in[NBYTES];

	*got = 0;
	*in_order = true;
	for (int i = 0; i < NBYTES; i++)
		p->buf[i] = (uint8_t)(i * 7 + 3);
	if (send(c, p->buf, NBYTES, MSG_DONTWAIT) != NBYTES)
		return -errno ? -errno : -EIO;
	while (*got < NBYTES && now_ns() < end) {
		ssize_t n = recv(s, in + *got, NBYTES - *got, MSG_DONTWAIT);

		if (n > 0) {
			*in_order &= !memcmp(in + *got, p->buf + *got, n);
			*got += n;
		} else {
			sleep_ns(5 * 1000000ull);
		}
	}
	return 0;
}

static int phase(struct check_ctx *ctx, const char *name, int c, int s, bool offload)
{
	struct priv *p = ctx->priv;
	uint64_t r0 = p->skel->bss->msg_runs, d0 = 0, d1 = 0, got;
	char details[256] = "", share[32];
	bool in_order;
	int err;

	if (offload && !ctx->sabotage) {
		uint32_t k_c = 0, k_s = 1;
		int map = bpf_map__fd(p->skel->maps.socks);

		p->skel->bss->peer_key = k_s;
		err = bpf_prog_attach(bpf_program__fd(p->skel->progs.msg_redirect), map,
				      BPF_SK_MSG_VERDICT, 0);
		if (!err)
			err = bpf_map_update_elem(map, &k_c, &c, BPF_ANY);
		if (!err)
			err = bpf_map_update_elem(map, &k_s, &s, BPF_ANY);
		if (err)
			return check_error(ctx, -errno, "%s: sockhash: %s", name, strerror(errno));
	}
	err = check_nf_read(&p->ns, &out_rule, 1, &d0);
	if (!err)
		err = send_and_read(p, c, s, &got, &in_order);
	if (!err)
		err = check_nf_read(&p->ns, &out_rule, 1, &d1);
	if (err)
		return check_error(ctx, err, "%s: %s", name, strerror(-err));
	check_kv(details, sizeof(details), "delivered", "%s", check_share(share, sizeof(share), got, NBYTES));
	check_kv(details, sizeof(details), "in_order", "%s", in_order ? "yes" : "no");
	check_kv(details, sizeof(details), "sk_msg", "%s", p->skel->bss->msg_runs > r0 ? "ran" : "0");
	check_kv(details, sizeof(details), "output_drop", "%s", d1 > d0 ? "hit" : "0");
	check_counter(ctx, name, "delivered_bytes", got);
	check_counter(ctx, name, "sk_msg_runs", p->skel->bss->msg_runs - r0);
	check_counter(ctx, name, "output_drop_packets", d1 - d0);
	check_observe(ctx, name, "%s", details);
	return 0;
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	int err = phase(ctx, "plain_tcp", p->plain_c, p->plain_s, false);

	/* Sabotage: the sk_msg program is left out, so OUTPUT drops it too. */
	if (!err)
		err = phase(ctx, "sk_msg_ingress", p->msg_c, p->msg_s, true);
	return err;
}

DEFINE_CHECK(output_drop_vs_sk_msg,
	.name = "output-drop-vs-sk-msg",
	.summary = "an sk_msg ingress redirect still delivers under an OUTPUT drop rule that stops plain TCP",
	.features = CHECK_FEAT(FEAT_SK_MSG),
	.expected = "plain_tcp: delivered=0 in_order=yes sk_msg=0 output_drop=hit; "
		    "sk_msg_ingress: delivered=all in_order=yes sk_msg=ran output_drop=0",
	.reference = "net/core/skmsg.c sk_psock_msg_verdict(), net/ipv4/tcp_bpf.c "
		     "tcp_bpf_sendmsg_redir() (BPF_F_INGRESS): queued to the peer's ingress_msg, "
		     "never through ip_queue_xmit() and NF_INET_LOCAL_OUT",
	.runc_skip = "the app's sockets must be in the check's sockhash, which a container cannot reach",
	CHECK_STEPS(struct priv),
	.order = 135);
