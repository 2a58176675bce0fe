/*
 * A scenario's deployment: its hosts (the run's namespaces), veth links
 * with their addresses, nft rulesets (libnftables, inside each host), and
 * its containers (runc with a package/directory/image rootfs, or with
 * --runtime netns the command itself in the host's namespace).  Everything
 * is named with the run prefix and registered with the run's cleanup and
 * manifest (netns/, containers/, netns/proc.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>
#include <nftables/libnftables.h>
#include "containers/container.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/link.h"
#include "netns/proc.h"
#include "scenarios/internal.h"

static struct proc procs[SCN_MAX_CTRS];

static int up_end(struct scenario *s, const struct scn_end *e)
{
	const struct netns *ns = &s->hosts[e->host].ns;
	int err = link_set_up(ns, e->ifname);

	for (int i = 0; !err && i < e->naddr; i++)
		err = addr_add(ns, e->ifname, e->addr[i]);
	if (!err && s->hosts[e->host].rx_cpu >= 0)
		err = link_set_rps(ns, e->ifname, 1ull << s->hosts[e->host].rx_cpu);
	if (err)
		pr_warn("scenario: %s/%s: %s\n", s->hosts[e->host].name, e->ifname, strerror(-err));
	return err;
}

static int start_net(struct scenario *s)
{
	for (int i = 0; i < s->nhosts; i++) {
		int err = netns_create(s->hosts[i].name, &s->hosts[i].ns);

		if (!err)
			err = link_set_up(&s->hosts[i].ns, "lo");
		if (err) {
			pr_warn("scenario: host %s: %s\n", s->hosts[i].name, strerror(-err));
			return err;
		}
	}
	for (int i = 0; i < s->nlinks; i++) {
		struct scn_link *l = &s->links[i];
		int err = veth_create(&s->hosts[l->a.host].ns, l->a.ifname,
				      &s->hosts[l->b.host].ns, l->b.ifname, 1500);

		if (err) {
			pr_warn("scenario: link %d: %s\n", i, strerror(-err));
			return err;
		}
		if (up_end(s, &l->a) || up_end(s, &l->b))
			return -EIO;
	}
	return 0;
}

/* Run cmd (or the file) through libnftables in ns; JSON output into *out. */
static int nft_in(const struct netns *ns, const char *cmd, const char *file, char **out,
		  char *err, size_t len)
{
	struct nstoken *tok = netns_enter(ns);
	struct nft_ctx *nft;
	int rc;

	if (!tok)
		return -errno;
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		netns_leave(tok);
		return -ENOMEM;
	}
	if (out)
		nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	rc = file ? nft_run_cmd_from_filename(nft, file) : nft_run_cmd_from_buffer(nft, cmd);
	if (err && len)
		snprintf(err, len, "%s", nft_ctx_get_error_buffer(nft) ?: "");
	if (out)
		*out = strdup(nft_ctx_get_output_buffer(nft) ?: "");
	nft_ctx_free(nft);
	netns_leave(tok);
	return rc ? -EINVAL : 0;
}

static int start_nft(struct scenario *s)
{
	for (int i = 0; i < s->nnft; i++) {
		char err[512];

		if (nft_in(&s->hosts[s->nft[i].host].ns, NULL, s->nft[i].file, NULL, err,
			   sizeof(err))) {
			err[strcspn(err, "\n")] = '\0';
			pr_warn("scenario: nft %s in %s: %s\n", s->nft[i].file,
				s->hosts[s->nft[i].host].name, err);
			return -EINVAL;
		}
	}
	return 0;
}

void scn_nft_read(const struct scenario *s, json_t *obj)
{
	for (int i = 0; i < s->nnft; i++) {
		char *out = NULL, key[200];
		json_t *doc, *it;
		size_t k;

		if (nft_in(&s->hosts[s->nft[i].host].ns, "list counters", NULL, &out, NULL, 0)) {
			free(out);
			continue;
		}
		doc = json_loads(out, 0, NULL);
		json_array_foreach(json_object_get(doc, "nftables"), k, it) {
			json_t *c = json_object_get(it, "counter");

			if (!c)
				continue;
			snprintf(key, sizeof(key), "nft.%s.%s.%s", s->hosts[s->nft[i].host].name,
				 json_string_value(json_object_get(c, "table")) ?: "?",
				 json_string_value(json_object_get(c, "name")) ?: "?");
			json_object_set(obj, key, json_object_get(c, "packets"));
		}
		json_decref(doc);
		free(out);
	}
}

/* ---- containers ---- */

/* argv[0] as an absolute host path (package files are at their own paths). */
static const char *abs_cmd(const char *cmd, char *buf, size_t len)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

	if (strchr(cmd, '/'))
		return cmd;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, len, "%.*s/%s", (int)n, p, cmd);
		if (!access(buf, X_OK))
			return buf;
		p += n + (p[n] == ':');
	}
	return cmd;
}

static int exec_server(void *arg)
{
	struct scn_container *c = arg;
	int fd = open("/dev/null", O_RDWR);
	char procs[SCN_PATH_LEN + 16];

	/* Its own cgroup before exec: a socket's cgroup is its creator's. */
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", c->cg);
	if (c->cg[0] && write_file(procs, "0"))
		return 126;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	execvp(c->argv[0], c->argv);
	return 127;
}

/* The rootfs and bind mounts, once per run (restarts reuse them). */
static int prepare_ctr_runc(struct scn_container *c)
{
	int err = 0;

	if (c->binds)
		return 0;
	if (c->npkgs)
		err = ctr_pkg_rootfs(c->name, (const char *const *)c->pkgs, c->npkgs, c->rootfs_dir,
				     sizeof(c->rootfs_dir), &c->binds);
	else if (c->image[0])
		err = ctr_image_rootfs(c->name, c->image, c->rootfs_dir, sizeof(c->rootfs_dir));
	else
		snprintf(c->rootfs_dir, sizeof(c->rootfs_dir), "%s", c->rootfs);
	if (!err && !c->binds)
		c->binds = json_array();
	for (int i = 0; !err && i < c->nfiles; i++) {
		const char *colon = strrchr(c->files[i], ':');
		char src[PATH_MAX], abs[PATH_MAX];

		/* absolute: runc resolves a relative source in the bundle */
		snprintf(src, sizeof(src), "%.*s", (int)(colon - c->files[i]), c->files[i]);
		if (!realpath(src, abs))
			err = -errno;
		else
			json_array_append_new(c->binds, json_pack("{s:s, s:s}", "src", abs,
								  "dst", colon + 1));
	}
	return err;
}

struct created_arg {
	struct scenario *s;
	int ci;
};

static int ctr_created(const struct ctr *ctr, void *arg)
{
	struct created_arg *a = arg;

	return scn_sock_ctr_started(a->s, a->ci, ctr->cgroup2);
}

static int start_ctr_runc(struct scenario *s, struct scn_container *c)
{
	char cmd[PATH_MAX];
	const char *argv[SCN_MAX_ARGS + 1];
	json_t *tmpfs = json_array();
	struct created_arg ca = { s, (int)(c - s->ctrs) };
	int err = prepare_ctr_runc(c);

	for (int i = 0; !err && i < c->nwritable; i++)
		json_array_append_new(tmpfs, json_string(c->writable[i]));
	if (!err) {
		struct ctr_opts o = { .name = c->name, .ns = &s->hosts[c->host].ns,
				      .caps = c->caps, .argv = argv, .rootfs = c->rootfs_dir,
				      .binds = c->binds, .tmpfs = tmpfs, .pinned = c->cpu >= 0,
				      .cpu = c->cpu, .created = ctr_created, .created_arg = &ca };

		for (int i = 0; i <= SCN_MAX_ARGS; i++)
			argv[i] = c->argv[i];
		if (c->npkgs)
			argv[0] = abs_cmd(c->argv[0], cmd, sizeof(cmd));
		err = ctr_start(&o, &c->ctr);
	}
	json_decref(tmpfs);
	if (err)
		pr_warn("scenario: container %s: %s\n", c->name, ctr_last_error());
	return err;
}

static int start_ctr(struct scenario *s, struct scn_container *c)
{
	struct proc *p = &procs[c - s->ctrs];
	int err;

	if (!s->netns_runtime)
		return start_ctr_runc(s, c);
	err = proc_spawn(p, &s->hosts[c->host].ns, c->cpu, exec_server, c);
	if (err)
		pr_warn("scenario: container %s (netns runtime): %s\n", c->name, strerror(-err));
	c->pid = p->pid;
	return err;
}

/* Is port listening (tcp) / bound (udp) in the calling thread's namespace? */
static bool port_open(bool tcp, unsigned port)
{
	const char *files[2][2] = { { "/proc/thread-self/net/udp", "/proc/thread-self/net/udp6" },
				    { "/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6" } };
	char line[512];
	bool found = false;

	for (int i = 0; i < 2 && !found; i++) {
		FILE *f = fopen(files[tcp][i], "re");

		while (f && !found && fgets(line, sizeof(line), f)) {
			unsigned lport, st;

			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", &lport, &st) == 2)
				found = lport == port && (!tcp || st == 0x0A);
		}
		if (f)
			fclose(f);
	}
	return found;
}

static bool ctr_alive(struct scn_container *c)
{
	return c->ctr ? ctr_running(c->ctr) : c->pid > 0 && !kill(c->pid, 0);
}

static int wait_ready(struct scenario *s, struct scn_container *c)
{
	const char *colon = strrchr(c->ready_addr, ':');
	uint64_t end = now_ns() + (uint64_t)(c->ready_s * 1e9);
	struct nstoken *tok;
	bool ok = false;

	if (c->ready == READY_NONE)
		return 0;
	if (c->ready == READY_DELAY)
		return run_sleep_ns((uint64_t)(c->ready_s * 1e9)) ? 0 : -EINTR;
	tok = netns_enter(&s->hosts[c->host].ns);
	if (!tok)
		return -errno;
	while (!(ok = port_open(c->ready == READY_TCP, (unsigned)atoi(colon + 1))) &&
	       now_ns() < end && !run_stopping() && ctr_alive(c))
		sleep_ns(20 * 1000000ull);
	netns_leave(tok);
	if (!ok) {
		char err[512] = "";

		if (c->ctr)
			ctr_read_output(c->ctr, "err", err, sizeof(err));
		err[strcspn(err, "\n")] = '\0';
		pr_warn("scenario: container %s not ready on %s %s%s%s\n", c->name,
			c->ready == READY_TCP ? "tcp" : "udp", c->ready_addr, err[0] ? ": " : "",
			err);
		return -ETIMEDOUT;
	}
	return 0;
}

int scn_ctrs_start(struct scenario *s)
{
	int err = 0;

	for (int i = 0; !err && i < s->nctrs; i++)
		err = start_ctr(s, &s->ctrs[i]);
	for (int i = 0; !err && i < s->nctrs; i++)
		err = wait_ready(s, &s->ctrs[i]);
	return err;
}

void scn_ctrs_stop(struct scenario *s)
{
	for (int i = s->nctrs - 1; i >= 0; i--) {
		scn_sock_ctr_stopping(s, i);
		ctr_destroy(s->ctrs[i].ctr);
		s->ctrs[i].ctr = NULL;
		if (procs[i].pid > 0)
			proc_kill(&procs[i]);
		procs[i].pid = 0;
		s->ctrs[i].pid = 0;
	}
}

int scn_topo_start(struct scenario *s, bool netns_runtime)
{
	int err;

	s->netns_runtime = netns_runtime;
	err = start_net(s);
	if (!err)
		err = start_nft(s);
	if (!err)
		err = scn_cgroups_setup(s);
	if (!err && !s->restart)
		err = scn_ctrs_start(s);
	return err;
}

void scn_topo_stop(struct scenario *s)
{
	scn_ctrs_stop(s);
	scn_cgroups_remove();
	for (int i = 0; i < s->nctrs; i++) {
		json_decref(s->ctrs[i].binds);
		s->ctrs[i].binds = NULL;
	}
	for (int i = s->nhosts - 1; i >= 0; i--)
		if (s->hosts[i].ns.name[0])
			netns_destroy(&s->hosts[i].ns);
}
