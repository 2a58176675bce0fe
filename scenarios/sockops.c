/*
 * The socket hooks of a scenario.
 *   sockops  BPF_PROG_TYPE_SOCK_OPS on a cgroup v2 directory, target
 *            {cgroup: CONTAINER} (that container's cgroup) or
 *            {cgroup: "host:NAME"} (one cgroup for what the engine starts
 *            in that host); a bpf_link per cgroup, destroyed to detach.
 *   sk-msg   BPF_PROG_TYPE_SK_MSG on a sockmap/sockhash of the same object,
 *            target {map: NAME}; emptied when detached.
 * A socket belongs to its creator's cgroup for life, and sock_ops sees only
 * connections made while attached: scenarios with these hooks start their
 * containers inside each trial (s->restart), after the arm is set.
 * Cgroups the run makes live under the cgroup2 mount (found, not assumed),
 * named after the run, in its manifest: `clean` removes them after SIGKILL.
 *   --runtime netns: <mnt>/<prefix>-scn-<host>/<container>, the process
 *                    joins it before exec, host targets attach to the parent;
 *   runc:            the container's own cgroup (runc's), attached between
 *                    `runc create` and `runc start`; host targets attach to
 *                    each of the host's containers and to <prefix>-scn-<host>
 *                    (the host's clients).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "containers/container.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"
#include "scenarios/internal.h"

#define HOST_SLOT SCN_MAX_CTRS
#define KILL_WAIT_MS 2000

int scn_sock_target(struct ykit *y, yaml_node_t *t, const char *f, struct scn_prog *p)
{
	static const char *const ckeys[] = { "cgroup", NULL }, *const mkeys[] = { "map", NULL };
	const char *key = p->hook->sockops ? "cgroup" : "map";
	char name[64], fk[200];

	if (yk_keys(y, t, f, p->hook->sockops ? ckeys : mkeys) ||
	    yk_req_str(y, t, key, f, name, sizeof(name)))
		return -EINVAL;
	snprintf(fk, sizeof(fk), "%s.%s", f, key);
	if (p->hook->sk_msg) {
		snprintf(p->map, sizeof(p->map), "%s", name);
		return 0;
	}
	if (!strncmp(name, "host:", 5)) {
		p->cg_host = scn_host_by_name(y->s, name + 5);
		if (p->cg_host < 0)
			return scn_error(y->s, yk_line(yk_get(y, t, key)), fk, "no host named '%s'",
					 name + 5);
		return 0;
	}
	for (int i = 0; i < y->s->nctrs; i++)
		if (!strcmp(y->s->ctrs[i].name, name))
			p->cg_ctr = i;
	if (p->cg_ctr < 0)
		return scn_error(y->s, yk_line(yk_get(y, t, key)), fk,
				 "no container named '%s' (a host: \"host:NAME\")", name);
	return 0;
}

bool scn_has_sock_progs(const struct scenario *s)
{
	for (int i = 0; i < s->noffl; i++)
		for (int k = 0; k < s->offl[i].nprogs; k++)
			if (s->offl[i].progs[k].hook->sockops || s->offl[i].progs[k].hook->sk_msg)
				return true;
	return false;
}

int scn_sock_check(struct scenario *s, struct scn_offload *o, struct scn_prog *p, int i)
{
	struct bpf_map *m = bpf_object__find_map_by_name(o->obj, p->map);
	enum bpf_map_type t = m ? bpf_map__type(m) : BPF_MAP_TYPE_UNSPEC;
	char f[128];

	snprintf(f, sizeof(f), "offloads[%d].programs[%d].target.map", (int)(o - s->offl), i);
	if (!m || bpf_map__is_internal(m))
		return scn_error(s, p->line, f, "%s has no map '%s'", o->object, p->map);
	if (t != BPF_MAP_TYPE_SOCKHASH && t != BPF_MAP_TYPE_SOCKMAP)
		return scn_error(s, p->line, f, "map '%s' is %s, sk-msg needs a sockhash or sockmap",
				 p->map, libbpf_bpf_map_type_str(t) ?: "?");
	return 0;
}

/* ---- attaching ---- */

static struct scn_offload *owner(struct scenario *s, const struct scn_prog *p)
{
	for (int i = 0; i < s->noffl; i++)
		if (p >= s->offl[i].progs && p < s->offl[i].progs + s->offl[i].nprogs)
			return &s->offl[i];
	return NULL;
}

static int link_cgroup(struct scn_prog *p, int slot, const char *cgroup)
{
	int fd, err = 0;

	if (p->cg_links[slot] || !cgroup || !cgroup[0])
		return 0;
	fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	p->cg_links[slot] = bpf_program__attach_cgroup(p->prog, fd);
	if (!p->cg_links[slot]) {
		err = -errno;
		pr_warn("scenario: cannot attach %s to cgroup %s: %s\n", p->name, cgroup,
			strerror(-err));
	}
	close(fd);
	return err;
}

static void unlink_slot(struct scn_prog *p, int slot)
{
	bpf_link__destroy(p->cg_links[slot]);
	p->cg_links[slot] = NULL;
}

/* Does sockops program p go on container ci's own cgroup? */
static bool targets_ctr(const struct scenario *s, const struct scn_prog *p, int ci)
{
	return p->hook->sockops &&
	       (p->cg_ctr == ci || (!s->netns_runtime && p->cg_host == s->ctrs[ci].host));
}

static const char *ctr_cgroup(const struct scenario *s, int ci)
{
	const struct scn_container *c = &s->ctrs[ci];

	return s->netns_runtime ? c->cg : c->ctr ? c->ctr->cgroup2 : NULL;
}

/* Every sockhash key deleted (sockmap: every index). */
static void map_empty(struct bpf_map *m)
{
	int fd = bpf_map__fd(m);
	uint8_t key[64], next[64];

	if (bpf_map__key_size(m) > sizeof(key))
		return;
	if (bpf_map__type(m) == BPF_MAP_TYPE_SOCKMAP) {
		for (__u32 i = 0; i < bpf_map__max_entries(m); i++)
			bpf_map_delete_elem(fd, &i);
		return;
	}
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, bpf_map__key_size(m));
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

static int sk_msg_set(struct scenario *s, struct scn_prog *p, bool on)
{
	struct scn_offload *o = owner(s, p);
	struct bpf_map *m = o ? bpf_object__find_map_by_name(o->obj, p->map) : NULL;
	int pfd = bpf_program__fd(p->prog), err;

	if (!m)
		return -ENOENT;
	if (on)
		return bpf_prog_attach(pfd, bpf_map__fd(m), BPF_SK_MSG_VERDICT, 0);
	err = bpf_prog_detach2(pfd, bpf_map__fd(m), BPF_SK_MSG_VERDICT);
	map_empty(m);
	return err == -ENOENT ? 0 : err;
}

int scn_sock_prog_set(struct scenario *s, struct scn_prog *p, bool on)
{
	int err = 0;

	if (p->hook->sk_msg)
		return sk_msg_set(s, p, on);
	if (!on) {
		for (int slot = 0; slot <= HOST_SLOT; slot++)
			unlink_slot(p, slot);
		return 0;
	}
	if (p->cg_host >= 0)
		err = link_cgroup(p, HOST_SLOT, s->hosts[p->cg_host].cg);
	for (int ci = 0; !err && ci < s->nctrs; ci++)
		if (targets_ctr(s, p, ci))
			err = link_cgroup(p, ci, ctr_cgroup(s, ci));
	if (err)
		scn_sock_prog_set(s, p, false);
	return err;
}

int scn_sock_ctr_started(struct scenario *s, int ci, const char *cgroup)
{
	for (int i = 0; i < s->noffl; i++)
		for (int k = 0; k < s->offl[i].nprogs; k++) {
			struct scn_prog *p = &s->offl[i].progs[k];
			int err;

			if (!p->attached || !targets_ctr(s, p, ci))
				continue;
			if (!cgroup || !cgroup[0]) {
				pr_warn("scenario: container %s has no cgroup v2 directory\n",
					s->ctrs[ci].name);
				return -ENOENT;
			}
			err = link_cgroup(p, ci, cgroup);
			if (err)
				return err;
		}
	return 0;
}

/* Kill what is in a cgroup (cgroup.kill) and wait until it is empty. */
static void cgroup_kill(const char *cg)
{
	char path[SCN_PATH_LEN + 32], ev[256];

	snprintf(path, sizeof(path), "%s/cgroup.kill", cg);
	if (write_file(path, "1"))
		return;
	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	for (int ms = 0; ms < KILL_WAIT_MS; ms += 10) {
		if (read_file(path, ev, sizeof(ev)) < 0 || strstr(ev, "populated 0"))
			return;
		usleep(10000);
	}
}

void scn_sock_ctr_stopping(struct scenario *s, int ci)
{
	for (int i = 0; i < s->noffl; i++)
		for (int k = 0; k < s->offl[i].nprogs; k++)
			unlink_slot(&s->offl[i].progs[k], ci);
	if (s->netns_runtime && s->ctrs[ci].cg[0])
		cgroup_kill(s->ctrs[ci].cg);
}

/* ---- the run's cgroups ---- */

static void cgroup_cleanup(const char *path, long num)
{
	cgroup_kill(path);
	if (rmdir(path) && errno != ENOENT)
		pr_warn("scenario: cannot remove cgroup %s: %s\n", path, strerror(errno));
}

static int handles[SCN_MAX_HOSTS + SCN_MAX_CTRS], nhandles;

void scn_cgroups_remove(void)
{
	while (nhandles > 0)
		cleanup_run(handles[--nhandles]);
}

static int make_cgroup(char *path)
{
	int h;

	if (mkdir(path, 0755)) {
		int err = -errno;

		pr_warn("scenario: cannot create cgroup %s: %s\n", path, strerror(-err));
		path[0] = '\0';
		return err;
	}
	h = manifest_add_path(MANIFEST_CGROUP, path);
	if (!h)
		h = cleanup_add(cgroup_cleanup, path, 0, "scenario cgroup");
	if (h < 0) {
		rmdir(path);
		path[0] = '\0';
		return h;
	}
	handles[nhandles++] = h;
	return 0;
}

static bool host_needs_cgroup(const struct scenario *s, int h)
{
	for (int i = 0; i < s->noffl; i++)
		for (int k = 0; k < s->offl[i].nprogs; k++)
			if (s->offl[i].progs[k].cg_host == h)
				return true;
	for (int i = 0; s->netns_runtime && i < s->nctrs; i++)
		if (s->ctrs[i].host == h)
			return true;
	return false;
}

int scn_cgroups_setup(struct scenario *s)
{
	char mnt[256], suffix[64];
	int err = 0;

	if (!scn_has_sock_progs(s))
		return 0;
	if (env_cgroup2_mount(mnt, sizeof(mnt))) {
		pr_warn("scenario: no cgroup2 mount: sockops needs one\n");
		return -ENOENT;
	}
	for (int h = 0; !err && h < s->nhosts; h++) {
		if (!host_needs_cgroup(s, h))
			continue;
		snprintf(suffix, sizeof(suffix), "-scn-%s", s->hosts[h].name);
		err = run_name(s->hosts[h].cg, sizeof(s->hosts[h].cg), suffix);
		if (!err) {
			snprintf(suffix, sizeof(suffix), "%s", s->hosts[h].cg);
			snprintf(s->hosts[h].cg, sizeof(s->hosts[h].cg), "%s/%s", mnt, suffix);
			err = make_cgroup(s->hosts[h].cg);
		}
	}
	for (int i = 0; !err && s->netns_runtime && i < s->nctrs; i++) {
		struct scn_container *c = &s->ctrs[i];
		const char *parent = s->hosts[c->host].cg;
		char path[SCN_PATH_LEN];

		snprintf(path, sizeof(path), "%.400s/%s", parent, c->name);
		memcpy(c->cg, path, sizeof(path));
		err = make_cgroup(c->cg);
	}
	return err;
}
