/*
 * Helpers the checks share: observations, running the real tools inside a
 * namespace (never the root one), reading nftables/iptables/conntrack
 * counters, and UDP traffic.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/tcp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <nftables/libnftables.h>
#include "checks/check.h"
#include "netns/link.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"
#include "lib/bpf_compat.h"
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"

#define EXEC_TIMEOUT_MS 10000
#define SETTLE_MS       40

void check_observe(struct check_ctx *ctx, const char *phase, const char *fmt, ...)
{
	size_t n = strlen(ctx->observed);
	va_list ap;
	int w;

	w = snprintf(ctx->observed + n, sizeof(ctx->observed) - n, "%s%s: ", n ? "; " : "", phase);
	if (w < 0 || (size_t)w >= sizeof(ctx->observed) - n)
		return;
	n += w;
	va_start(ap, fmt);
	vsnprintf(ctx->observed + n, sizeof(ctx->observed) - n, fmt, ap);
	va_end(ap);
}

void check_kv(char *buf, size_t len, const char *key, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;
	int w;

	w = snprintf(buf + n, len - n, "%s%s=", n ? " " : "", key);
	if (w < 0 || (size_t)w >= len - n)
		return;
	n += w;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

void check_xfail_phase(struct check_ctx *ctx, const char *phase, const char *ref)
{
	size_t n = strlen(ctx->xfail_phases);

	snprintf(ctx->xfail, sizeof(ctx->xfail), "%s", ref);
	snprintf(ctx->xfail_phases + n, sizeof(ctx->xfail_phases) - n, "%s%s", n ? "," : "", phase);
}

void check_counter(struct check_ctx *ctx, const char *group, const char *name, int64_t v)
{
	json_t *g;

	if (!ctx->counters)
		return;
	g = json_object_get(ctx->counters, group);
	if (!g) {
		g = json_object();
		json_object_set_new(ctx->counters, group, g);
	}
	json_object_set_new(g, name, json_integer(v));
}

int check_error(struct check_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx->error[0])
		return err;
	va_start(ap, fmt);
	vsnprintf(ctx->error, sizeof(ctx->error), fmt, ap);
	va_end(ap);
	pr_debug("check %s: %s\n", ctx->check->name, ctx->error);
	return err;
}

const char *check_share(char *buf, size_t len, uint64_t v, uint64_t n)
{
	if (!v)
		snprintf(buf, len, "0");
	else if (v == n)
		snprintf(buf, len, "all");
	else
		snprintf(buf, len, "%llu/%llu", (unsigned long long)v, (unsigned long long)n);
	return buf;
}

const char *check_errname(int err)
{
	const char *n;

	if (!err)
		return "ok";
	n = strerrorname_np(err < 0 ? -err : err);
	return n ? n : "E?";
}

bool check_time_left(const struct check_ctx *ctx)
{
	return !run_stopping() && (!ctx->deadline_ns || now_ns() < ctx->deadline_ns);
}

/* ---- the tools ---- */

/* Only the run's namespaces: never run a tool in the root one. */
static bool our_ns(const struct netns *ns)
{
	return ns && ns->fd >= 0 && !strncmp(ns->name, RUN_PREFIX_BASE, strlen(RUN_PREFIX_BASE));
}

/* Enter one of the run's namespaces; NULL with errno EINVAL for any other. */
static struct nstoken *enter_ours(const struct netns *ns)
{
	if (!our_ns(ns)) {
		errno = EINVAL;
		return NULL;
	}
	return netns_enter(ns);
}

int check_exec(const struct netns *ns, char *out, size_t len, const char *const *argv)
{
	uint64_t deadline = now_ns() + (uint64_t)EXEC_TIMEOUT_MS * 1000000;
	size_t used = 0;
	int pfd[2], st = 0;
	pid_t pid;

	if (out && len)
		out[0] = '\0';
	if (!our_ns(ns) || !argv || !argv[0])
		return -EINVAL;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = run_fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (setns(ns->fd, CLONE_NEWNET))
			_exit(126);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	manifest_add_process(pid);	/* best effort: it is bounded by the deadline */
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		char sink[512];
		uint64_t now = now_ns();
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
			continue;
		if (out && used + 1 < len)
			n = read(pfd[0], out + used, len - 1 - used);
		else
			n = read(pfd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out && used + 1 < len && (size_t)n <= len - 1 - used) {
			used += n;
			out[used] = '\0';
		}
	}
	close(pfd[0]);
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (WIFSIGNALED(st))
		return -ETIMEDOUT;
	pr_debug("check: [%s] %s -> %d\n", ns->name, argv[0], WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

int check_cmd(const struct netns *ns, char *out, size_t len, const char *fmt, ...)
{
	const char *argv[48];
	char line[1024], *save = NULL;
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *t = strtok_r(line, " ", &save); t && n + 1 < ARRAY_SIZE(argv);
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	pr_debug("check: %s: %s\n", ns ? ns->name : "?", fmt);
	return check_exec(ns, out, len, argv);
}

int check_tool(struct check_ctx *ctx, const struct netns *ns, const char *fmt, ...)
{
	char line[1024], out[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rc = check_cmd(ns, out, sizeof(out), "%s", line);
	if (!rc)
		return 0;
	out[strcspn(out, "\n")] = '\0';
	check_error(ctx, -EIO, "%s: %s", line, rc < 0 ? strerror(-rc) : out);
	return -EIO;
}

/* ---- nftables ---- */

/* Run cmd through libnftables inside ns; output (JSON when json) into out. */
static int nft_run(const struct netns *ns, const char *cmd, bool json, char *out, size_t len,
		   char *errbuf, size_t errlen)
{
	struct nft_ctx *nft = NULL;
	struct nstoken *tok;
	const char *s;
	int err;

	tok = enter_ours(ns);
	if (!tok)
		return -errno;
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		err = -ENOMEM;
		goto out;
	}
	if (json)
		nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	err = nft_run_cmd_from_buffer(nft, cmd) ? -EINVAL : 0;
	s = nft_ctx_get_output_buffer(nft);
	if (out && len)
		snprintf(out, len, "%s", s ? s : "");
	s = nft_ctx_get_error_buffer(nft);
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", s ? s : "");
out:
	if (nft)
		nft_ctx_free(nft);
	netns_leave(tok);
	return err;
}

int check_nft(struct check_ctx *ctx, const struct netns *ns, const char *fmt, ...)
{
	char *cmd = malloc(8192), errbuf[512];
	va_list ap;
	int err;

	if (!cmd)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(cmd, 8192, fmt, ap);
	va_end(ap);
	err = nft_run(ns, cmd, false, NULL, 0, errbuf, sizeof(errbuf));
	if (err) {
		/* first line of nft's own message */
		errbuf[strcspn(errbuf, "\n")] = '\0';
		check_error(ctx, err, "nft: %s", errbuf[0] ? errbuf : strerror(-err));
	}
	free(cmd);
	return err;
}

int check_nft_counter(const struct netns *ns, const char *family_table, const char *comment,
		      uint64_t *packets)
{
	size_t len = 256 * 1024, i;
	char *out = malloc(len), cmd[128];
	json_t *doc = NULL, *items, *it;
	int err;

	*packets = 0;
	if (!out)
		return -ENOMEM;
	snprintf(cmd, sizeof(cmd), "list table %s", family_table);
	err = nft_run(ns, cmd, true, out, len, NULL, 0);
	if (err)
		goto out;
	doc = json_loads(out, 0, NULL);
	items = json_object_get(doc, "nftables");
	err = -ENOENT;
	json_array_foreach(items, i, it) {
		json_t *rule = json_object_get(it, "rule"), *e;
		const char *c = json_string_value(json_object_get(rule, "comment"));
		size_t k;

		if (!c || strcmp(c, comment))
			continue;
		json_array_foreach(json_object_get(rule, "expr"), k, e) {
			json_t *ctr = json_object_get(e, "counter");

			if (ctr) {
				*packets = json_integer_value(json_object_get(ctr, "packets"));
				err = 0;
			}
		}
	}
out:
	json_decref(doc);
	free(out);
	return err;
}

/* ---- iptables, conntrack ---- */

int check_ipt_counter(const struct netns *ns, const char *bin, const char *table,
		      const char *chain, const char *comment, uint64_t *packets)
{
	char out[8192], tag[96], *line, *save = NULL;
	int rc;

	*packets = 0;
	rc = check_cmd(ns, out, sizeof(out), "%s -w -t %s -L %s -v -x -n", bin, table, chain);
	if (rc)
		return rc < 0 ? rc : -EIO;
	snprintf(tag, sizeof(tag), "/* %s */", comment);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, tag))
			continue;
		*packets = strtoull(line, NULL, 10);
		return 0;
	}
	return -ENOENT;
}

int check_nf_read(const struct netns *ns, const struct check_nf_rule *rules, size_t n,
		  uint64_t *out)
{
	static const char *const bins[] = {
		[CHECK_IPT_LEGACY] = "iptables-legacy", [CHECK_IPT_NFT] = "iptables-nft",
	};
	int err, first = 0;

	for (size_t i = 0; i < n; i++) {
		if (rules[i].tool == CHECK_NFT)
			err = check_nft_counter(ns, rules[i].table, rules[i].comment, &out[i]);
		else
			err = check_ipt_counter(ns, bins[rules[i].tool], rules[i].table, rules[i].chain,
						rules[i].comment, &out[i]);
		if (err && !first)
			first = err;
	}
	return first;
}

int check_conntrack_udp(const struct netns *ns, uint16_t sport, uint64_t *entries)
{
	char out[8192], *p;
	int rc;

	*entries = 0;
	rc = check_cmd(ns, out, sizeof(out), "conntrack -L -p udp --sport %u", sport);
	if (rc < 0)
		return rc;
	p = strstr(out, " flow entries have been shown");
	if (!p)
		return -EIO;
	while (p > out && p[-1] >= '0' && p[-1] <= '9')
		p--;
	*entries = strtoull(p, NULL, 10);
	return 0;
}

/* ---- traffic ---- */

int check_udp_send(const struct netns *ns, const char *dst, uint16_t sport, uint16_t dport,
		   int n, size_t size)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dport) };
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(sport) };
	uint8_t buf[1472];
	int fd, one = 1, sent = 0;

	if (size > sizeof(buf) || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return -EINVAL;
	fd = netns_socket(ns, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sport && bind(fd, (struct sockaddr *)&from, sizeof(from))) {
		sent = -errno;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		memset(buf, (uint8_t)i, size);
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)size)
			sent++;
	}
out:
	close(fd);
	return sent;
}

/* ---- attachments ---- */

int check_xdp_set(const struct netns *ns, int ifindex, int prog_fd, uint32_t flags)
{
	struct nstoken *tok;
	int err;

	tok = enter_ours(ns);
	if (!tok)
		return -errno;
	err = prog_fd >= 0 ? bpf_xdp_attach(ifindex, prog_fd, flags, NULL)
			   : bpf_xdp_detach(ifindex, flags, NULL);
	netns_leave(tok);
	return err;
}

int check_tc_add(const struct netns *ns, int ifindex, bool egress, int prog_fd, uint32_t prio)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog_fd, .handle = 1, .priority = prio);
	struct nstoken *tok;
	int err;

	tok = enter_ours(ns);
	if (!tok)
		return -errno;
	err = bpf_tc_hook_create(&hook);
	if (!err || err == -EEXIST)
		err = bpf_tc_attach(&hook, &o);
	netns_leave(tok);
	return err;
}

int check_tc_del(const struct netns *ns, int ifindex, bool egress, uint32_t prio)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = prio);
	struct nstoken *tok;
	int err;

	tok = enter_ours(ns);
	if (!tok)
		return -errno;
	err = bpf_tc_detach(&hook, &o);
	netns_leave(tok);
	return err;
}

int check_tcx_link(const struct netns *ns, int ifindex, bool egress, int prog_fd, uint32_t flags,
		   uint32_t relative, uint64_t expected_revision)
{
	struct nstoken *tok;
	int fd;

	tok = enter_ours(ns);
	if (!tok)
		return -errno;
	fd = tcx_link_create(prog_fd, ifindex, egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, flags,
			     relative, expected_revision);
	netns_leave(tok);
	return fd;
}

/* BPF_PROG_ATTACH/DETACH's attr as of 6.6. */
struct olab_prog_attach_attr {
	uint32_t target_fd;
	uint32_t attach_bpf_fd;
	uint32_t attach_type;
	uint32_t attach_flags;
	uint32_t replace_bpf_fd;
	uint32_t relative_fd;
	uint64_t expected_revision;
};

int check_prog_attach(int target, int prog_fd, uint32_t attach_type, uint32_t flags,
		      int replace_fd, int relative_fd, uint64_t expected_revision)
{
	struct olab_prog_attach_attr a = {
		.target_fd = target, .attach_bpf_fd = prog_fd, .attach_type = attach_type,
		.attach_flags = flags, .replace_bpf_fd = replace_fd, .relative_fd = relative_fd,
		.expected_revision = expected_revision,
	};

	return olab_sys_bpf(BPF_PROG_ATTACH, &a, sizeof(a));
}

int check_tc_attach(struct check_tc_att *a, int prog_fd)
{
	int fd;

	if (a->on)
		return -EBUSY;
	if (a->mode == CHECK_TCX) {
		fd = check_tcx_link(a->ns, a->ifindex, a->egress, prog_fd, 0, 0, 0);
		if (fd < 0)
			return fd;
		a->link_fd = fd;
	} else {
		fd = check_tc_add(a->ns, a->ifindex, a->egress, prog_fd, a->prio ? a->prio : 1);
		if (fd)
			return fd;
	}
	a->on = true;
	return 0;
}

void check_tc_detach(struct check_tc_att *a)
{
	if (!a->on)
		return;
	if (a->mode == CHECK_TCX)
		close(a->link_fd);
	else
		check_tc_del(a->ns, a->ifindex, a->egress, a->prio ? a->prio : 1);
	a->link_fd = -1;
	a->on = false;
}

const char *check_tc_mode_name(enum check_tc_mode m)
{
	return m == CHECK_TCX ? "tcx" : "clsact";
}

int check_udp_sink(const struct netns *ns, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = netns_socket(ns, AF_INET, SOCK_DGRAM, 0), err;

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int check_udp_drain(int fd)
{
	char buf[2048];
	int n = 0;

	while (n < 1000000 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

int check_tcp_pair(const struct netns *ns, uint16_t port, int *client, int *server)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd, cfd = -1, sfd = -1, one = 1, err = 0;

	*client = *server = -1;
	lfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return lfd;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	if (cfd < 0) {
		err = cfd;
		goto out;
	}
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4) ||
	    connect(cfd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sfd < 0)
		err = -errno;
out:
	close(lfd);
	if (err) {
		if (cfd >= 0)
			close(cfd);
		return err;
	}
	*client = cfd;
	*server = sfd;
	return 0;
}

uint64_t check_tcp_bytes_received(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	return ti.tcpi_bytes_received;
}

int check_tcp_wait_received(int fd, uint64_t want, int timeout_ms)
{
	uint64_t until = now_ns() + (uint64_t)timeout_ms * 1000000;

	while (check_tcp_bytes_received(fd) < want) {
		if (now_ns() >= until || run_stopping())
			return -ETIMEDOUT;
		sleep_ns(2 * 1000000);
	}
	return 0;
}

size_t check_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t idle_until = now_ns() + (uint64_t)timeout_ms * 1000000;
	size_t got = 0;

	/* poll may say readable and recv still EAGAIN: bounded by time, not calls */
	while (got < len && now_ns() < idle_until && !run_stopping()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			sleep_ns(200000);
			continue;
		}
		if (n <= 0)
			break;
		got += n;
		idle_until = now_ns() + (uint64_t)timeout_ms * 1000000;
	}
	return got;
}

void check_settle(void)
{
	sleep_ns((uint64_t)SETTLE_MS * 1000000);
}

int check_pkt_testbed(struct check_ctx *ctx, struct topo *t, struct check_pkt **skel, uint16_t port)
{
	struct topo_opts o = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };
	int err = topo_up(&o, t);

	if (err)
		return check_error(ctx, err, "testbed: %s", topo_last_error());
	*skel = check_pkt__open_and_load();
	if (!*skel)
		return check_error(ctx, -errno, "load check_pkt: %s", strerror(errno));
	(*skel)->bss->flow_port = port;
	return 0;
}

int check_link_add(struct check_ctx *ctx, const struct netns *from, const char *ns_suffix,
		   const char *near_sfx, const char *far_sfx, const char *net, struct check_link *l)
{
	char cidr[32], ip[32];
	int err;

	err = netns_create(ns_suffix, &l->ns);
	if (!err)
		err = run_name(l->if_near, sizeof(l->if_near), near_sfx);
	if (!err)
		err = run_name(l->if_far, sizeof(l->if_far), far_sfx);
	if (!err)
		err = veth_create(from, l->if_near, &l->ns, l->if_far, 1500);
	if (!err)
		err = link_set_up(from, l->if_near);
	if (!err)
		err = link_set_up(&l->ns, l->if_far);
	if (!err)
		err = link_set_up(&l->ns, "lo");
	snprintf(cidr, sizeof(cidr), "%s.1/24", net);
	if (!err)
		err = addr_add(from, l->if_near, cidr);
	snprintf(cidr, sizeof(cidr), "%s.2/24", net);
	if (!err)
		err = addr_add(&l->ns, l->if_far, cidr);
	if (!err)
		err = link_get_mac(from, l->if_near, l->mac_near);
	if (!err)
		err = link_get_mac(&l->ns, l->if_far, l->mac_far);
	snprintf(ip, sizeof(ip), "%s.2", net);
	if (!err)
		err = neigh_add(from, l->if_near, ip, l->mac_far);
	if (!err)
		err = addr_wait_local(&l->ns, ip, 2000);
	snprintf(ip, sizeof(ip), "%s.1", net);
	if (!err)
		err = neigh_add(&l->ns, l->if_far, ip, l->mac_near);
	if (err)
		return check_error(ctx, err, "second link: %s", strerror(-err));
	l->ifindex_near = link_ifindex(from, l->if_near);
	l->ifindex_far = link_ifindex(&l->ns, l->if_far);
	return 0;
}
