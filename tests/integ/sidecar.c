/*
 * The sidecar shortcut (bpf/sidecar.bpf.c) against the real kernel: a
 * proxy-like pair of loopback TCP connections (client -> proxy port, proxy
 * -> backend port) made by sockets of a child cgroup, in a namespace of the
 * test.  Without the programs every request and response crosses lo (nft
 * OUTPUT/INPUT count the data packets); with sock_ops on the cgroup and
 * sk_msg on the sockhash, each send goes straight into the peer's receive
 * queue: the same bytes arrive, the counters count every message, and no
 * data packet reaches OUTPUT or INPUT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <nftables/libnftables.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/link.h"
#include "netns/netns.h"
#include "netns/proc.h"
#include "tests/test.h"
#include "sidecar.skel.h"

#define PROXY_PORT    8080
#define BACKEND_PORT  8081
#define OTHER_PORT    9080      /* not in accel_ports */
#define NREQ          200
#define REQ_BYTES     300
#define RESP_BYTES    700
#define NSOCKS        4         /* client, proxy listener, proxy upstream, backend listener */

struct sidecar_env {
	struct netns ns;
	char cg[600];
	int cg_fd;
	struct sidecar *skel;
	struct bpf_link *sockops;
};

/* The conversation: c <-> ps (proxy's accepted), pu (proxy upstream) <-> bs. */
struct conv {
	int c, ps, pu, bs;
};

static void rmdir_cg(const char *path, long num)
{
	rmdir(path);
}

static int make_cgroup(struct sidecar_env *e)
{
	char root[256], name[64];
	int h;

	if (env_cgroup2_mount(root, sizeof(root)) || run_name(name, sizeof(name), "-sidecar"))
		return -ENOENT;
	snprintf(e->cg, sizeof(e->cg), "%s/%s", root, name);
	if (mkdir(e->cg, 0755))
		return -errno;
	h = manifest_add_path(MANIFEST_CGROUP, e->cg);
	if (!h)
		h = cleanup_add(rmdir_cg, e->cg, 0, "cgroup");
	if (h < 0)
		return h;
	e->cg_fd = open(e->cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return e->cg_fd < 0 ? -errno : 0;
}

/* libnftables inside ns. */
static int nft_cmd(const struct netns *ns, const char *cmd)
{
	struct nstoken *tok = netns_enter(ns);
	struct nft_ctx *nft;
	int err = -ENOMEM;

	if (!tok)
		return -errno;
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (nft) {
		nft_ctx_buffer_error(nft);
		err = nft_run_cmd_from_buffer(nft, cmd) ? -EINVAL : 0;
		if (err)
			fprintf(stderr, "nft: %s", nft_ctx_get_error_buffer(nft));
		nft_ctx_free(nft);
	}
	netns_leave(tok);
	return err;
}

/* Data packets (ip length > 100: no bare ACK or SYN is that long) of the
 * proxy and backend ports on lo, each way, at OUTPUT and at INPUT. */
static int nft_setup(const struct netns *ns)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "define ports = { %d, %d, %d, %d }\n"
		 "table inet olab {\n"
		 "  chain out { type filter hook output priority filter;\n"
		 "    oif lo tcp dport $ports ip length > 100 counter comment \"out_to\";\n"
		 "    oif lo tcp sport $ports ip length > 100 counter comment \"out_from\"; }\n"
		 "  chain in { type filter hook input priority filter;\n"
		 "    iif lo tcp dport $ports ip length > 100 counter comment \"in_to\";\n"
		 "    iif lo tcp sport $ports ip length > 100 counter comment \"in_from\"; }\n"
		 "}\n", PROXY_PORT, BACKEND_PORT, OTHER_PORT, OTHER_PORT + 1);
	return nft_cmd(ns, cmd);
}

static uint64_t nft_packets(const struct netns *ns, const char *a, const char *b)
{
	uint64_t x = 0, y = 0;

	if (check_nft_counter(ns, "inet olab", a, &x) || check_nft_counter(ns, "inet olab", b, &y))
		return UINT64_MAX;
	return x + y;
}

static void env_teardown(struct sidecar_env *e)
{
	bpf_link__destroy(e->sockops);
	e->sockops = NULL;
	sidecar__destroy(e->skel);
	e->skel = NULL;
	if (e->cg_fd >= 0)
		close(e->cg_fd);
	e->cg_fd = -1;
	if (e->cg[0])
		rmdir(e->cg);
	netns_destroy(&e->ns);
}

static int env_setup(struct sidecar_env *e)
{
	uint32_t on = 1, ports[2] = { PROXY_PORT, BACKEND_PORT };
	memset(e, 0, sizeof(*e));
	e->cg_fd = -1;
	if (!ASSERT_OK(netns_create("sidecar", &e->ns), "namespace") ||
	    !ASSERT_OK(link_set_up(&e->ns, "lo"), "lo up") ||
	    !ASSERT_OK(make_cgroup(e), "child cgroup") || !ASSERT_OK(nft_setup(&e->ns), "nft rules"))
		return -EINVAL;
	e->skel = sidecar__open_and_load();
	if (!e->skel)
		return -errno;
	for (int i = 0; i < 2; i++)
		if (bpf_map_update_elem(bpf_map__fd(e->skel->maps.accel_ports), &ports[i], &on, 0))
			return -errno;
	/* sk_msg on the map first: sockets get the map's programs when added. */
	if (bpf_prog_attach(bpf_program__fd(e->skel->progs.sidecar_msg),
			    bpf_map__fd(e->skel->maps.sidecar_socks), BPF_SK_MSG_VERDICT, 0))
		return -errno;
	return 0;
}

struct spawn_arg {
	char procs[700];
	int chan;
};

/* In a child process inside the namespace: join the cgroup, make NSOCKS TCP
 * sockets (a socket's cgroup is its creator's, for life) and pass them back. */
static int sockets_in_cgroup(void *arg)
{
	struct spawn_arg *a = arg;
	char cbuf[CMSG_SPACE(sizeof(int) * NSOCKS)] = { 0 };
	struct iovec iov = { .iov_base = "s", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int fds[NSOCKS];

	if (write_file(a->procs, "0"))
		return 1;
	for (int i = 0; i < NSOCKS; i++)
		if ((fds[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			return 2;
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	return sendmsg(a->chan, &msg, 0) == 1 ? 0 : 3;
}

static int cgroup_sockets(struct sidecar_env *e, int *fds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * NSOCKS)], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct spawn_arg a;
	struct pollfd pf;
	struct cmsghdr *cm;
	struct proc pr;
	int sv[2], err = -EIO;

	snprintf(a.procs, sizeof(a.procs), "%s/cgroup.procs", e->cg);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	a.chan = sv[1];
	if (proc_spawn(&pr, &e->ns, -1, sockets_in_cgroup, &a))
		goto out;
	pf = (struct pollfd){ .fd = sv[0], .events = POLLIN };
	if (poll(&pf, 1, 3000) == 1 && recvmsg(sv[0], &msg, 0) == 1) {
		cm = CMSG_FIRSTHDR(&msg);
		if (cm && cm->cmsg_type == SCM_RIGHTS) {
			memcpy(fds, CMSG_DATA(cm), sizeof(int) * NSOCKS);
			err = 0;
		}
	}
	proc_wait(&pr, 1000);   /* exits: the cgroup can be removed later */
out:
	close(sv[0]);
	close(sv[1]);
	return err;
}

static int listen_on(int fd, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 4) ? -errno : 0;
}

static int connect_accept(int c, int l, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 2 };
	int s;

	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return -errno;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

/* The two connections, from cgroup sockets: proxy on port, backend on port + 1. */
static int conv_open(struct sidecar_env *e, uint16_t port, struct conv *cv)
{
	int fds[NSOCKS], err;

	memset(cv, -1, sizeof(*cv));
	err = cgroup_sockets(e, fds);
	if (err)
		return err;
	cv->c = fds[0];
	cv->pu = fds[2];
	err = listen_on(fds[1], port) ?: listen_on(fds[3], port + 1);
	if (!err && (cv->ps = connect_accept(fds[0], fds[1], port)) < 0)
		err = cv->ps;
	if (!err && (cv->bs = connect_accept(fds[2], fds[3], port + 1)) < 0)
		err = cv->bs;
	close(fds[1]);
	close(fds[3]);
	return err;
}

static void conv_close(struct conv *cv)
{
	int *f[] = { &cv->c, &cv->ps, &cv->pu, &cv->bs };

	for (int i = 0; i < 4; i++)
		if (*f[i] >= 0)
			close(*f[i]);
}

static bool recv_exact(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, buf + got, len - got, 0);

		if (n <= 0)
			return false;
		got += n;
	}
	return true;
}

/* One hop: send buf on from (one sendmsg), read it whole on to; equal? */
static bool hop(int from, int to, const uint8_t *buf, size_t len)
{
	uint8_t in[RESP_BYTES];

	if (send(from, buf, len, MSG_NOSIGNAL) != (ssize_t)len || !recv_exact(to, in, len))
		return false;
	return !memcmp(in, buf, len);
}

/* NREQ requests through the proxy and their responses back; how many made
 * the four hops intact and in order. */
static int converse(const struct conv *cv)
{
	uint8_t req[REQ_BYTES], resp[RESP_BYTES];
	int ok = 0;

	for (int i = 0; i < NREQ; i++) {
		for (int k = 0; k < REQ_BYTES; k++)
			req[k] = (uint8_t)(i * 31 + k);
		for (int k = 0; k < RESP_BYTES; k++)
			resp[k] = (uint8_t)(i * 17 + k * 3 + 1);
		if (!hop(cv->c, cv->ps, req, REQ_BYTES) || !hop(cv->pu, cv->bs, req, REQ_BYTES) ||
		    !hop(cv->bs, cv->pu, resp, RESP_BYTES) || !hop(cv->ps, cv->c, resp, RESP_BYTES))
			break;
		ok++;
	}
	return ok;
}

static bool wait_added(const struct sidecar *skel, uint64_t n)
{
	for (int i = 0; i < 100 && skel->bss->socks_added < n; i++)
		usleep(10000);
	return skel->bss->socks_added >= n;
}

/* One conversation on port; the data packets it put through OUTPUT / INPUT. */
static void run_conv(struct sidecar_env *e, uint16_t port, uint64_t want_added,
		     uint64_t *out_pk, uint64_t *in_pk)
{
	uint64_t o0 = nft_packets(&e->ns, "out_to", "out_from");
	uint64_t i0 = nft_packets(&e->ns, "in_to", "in_from");
	struct conv cv;

	*out_pk = *in_pk = UINT64_MAX;     /* unknown */
	if (!ASSERT_OK(conv_open(e, port, &cv), "proxy and backend connections"))
		goto out;
	ASSERT_TRUE(wait_added(e->skel, want_added), "sockets in the sockhash");
	ASSERT_EQ(converse(&cv), NREQ, "requests and responses intact and in order");
	*out_pk = nft_packets(&e->ns, "out_to", "out_from");
	*in_pk = nft_packets(&e->ns, "in_to", "in_from");
	if (!ASSERT_TRUE(o0 != UINT64_MAX && i0 != UINT64_MAX && *out_pk != UINT64_MAX &&
			 *in_pk != UINT64_MAX, "nft counters read"))
		goto out;
	*out_pk -= o0;
	*in_pk -= i0;
out:
	conv_close(&cv);
}

/* Long: the three phases in one namespace; each reads top to bottom. */
OLAB_TEST(sidecar_sockmap)
{
	struct sidecar_env e;
	uint64_t out_pk, in_pk, redirected;
	struct sidecar__bss *b;

	if (!ASSERT_OK(env_setup(&e), "namespace, cgroup, nft, programs"))
		goto out;
	b = e.skel->bss;
	if (test_subtest("plain")) {
		run_conv(&e, PROXY_PORT, 0, &out_pk, &in_pk);
		ASSERT_EQ(b->msg_runs, 0, "sk_msg runs without sock_ops");
		ASSERT_GE(out_pk, 4 * NREQ, "data packets at OUTPUT on lo");
		ASSERT_GE(in_pk, 4 * NREQ, "data packets at INPUT on lo");
	}
	e.sockops = bpf_program__attach_cgroup(e.skel->progs.sidecar_sockops, e.cg_fd);
	if (!ASSERT_OK_PTR(e.sockops, "sock_ops on the cgroup"))
		goto out;
	if (test_subtest("redirect")) {
		run_conv(&e, PROXY_PORT, 4, &out_pk, &in_pk);
		ASSERT_EQ(b->socks_added, 4, "sockets added (both ends of both connections)");
		ASSERT_EQ(b->socks_add_errors, 0, "sockhash insert errors");
		ASSERT_EQ(b->msgs_redirected, 4 * NREQ, "messages redirected = sends");
		ASSERT_EQ(b->bytes_redirected, 2ull * NREQ * (REQ_BYTES + RESP_BYTES),
			  "bytes redirected = bytes sent");
		ASSERT_EQ(b->msg_misses, 0, "peer lookups that missed");
		ASSERT_EQ(out_pk, 0, "data packets at OUTPUT on lo");
		ASSERT_EQ(in_pk, 0, "data packets at INPUT on lo");
	}
	if (test_subtest("unlisted_port")) {
		uint64_t added = b->socks_added;

		redirected = b->msgs_redirected;
		run_conv(&e, OTHER_PORT, 0, &out_pk, &in_pk);
		ASSERT_EQ(b->socks_added, added, "no socket of an unlisted port added");
		ASSERT_EQ(b->msgs_redirected, redirected, "nothing redirected");
		ASSERT_GE(out_pk, 4 * NREQ, "data packets at OUTPUT on lo");
		ASSERT_GE(in_pk, 4 * NREQ, "data packets at INPUT on lo");
	}
out:
	env_teardown(&e);
}
