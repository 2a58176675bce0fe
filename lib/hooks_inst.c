/*
 * Hook instances: load the action's program from its own skeleton, attach it
 * where the hook's table entry says (inside the run's namespace), register
 * the removal with the run's cleanup, read its counters, detach.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/features.h"
#include "lib/hooks.h"
#include "lib/hooks_internal.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

/* ---- instances ------------------------------------------------------- */

/* Enter the namespace named name (NULL token with errno on failure). */
static struct nstoken *enter_ns_name(const char *name)
{
	struct netns ns = { .fd = -1, .cleanup = -1 };
	struct nstoken *tok;
	char path[128];
	int err;

	snprintf(ns.name, sizeof(ns.name), "%s", name);
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	ns.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns.fd < 0)
		return NULL;
	tok = netns_enter(&ns);
	err = errno;
	close(ns.fd);
	errno = err;
	return tok;
}

/* The action's name, or "program" for a caller's program. */
static const char *inst_action_name(const struct hook_inst *hi)
{
	return hi->action < HOOK_ACTION__COUNT ? hook_action_name(hi->action) : "program";
}

static void inst_free(struct hook_inst *hi)
{
	if (hi->link_fd >= 0)
		close(hi->link_fd);
	hooks__destroy(hi->skel);
	free(hi);
}

/* 0, or the detach's error (then it stays marked attached). */
static int inst_detach(struct hook_inst *hi)
{
	const struct hook_desc *h = hi->desc;
	struct nstoken *tok;
	int err = 0;

	if (!hi->attached || !h->detach)
		goto out;
	if (h->kind == HOOK_PACKET) {
		tok = enter_ns_name(hi->ns_name);
		if (!tok) {
			/* The namespace is gone and the attachment with it. */
			pr_debug("hooks: %s: namespace %s gone (%s)\n", h->name, hi->ns_name,
				 strerror(errno));
			goto out;
		}
		err = h->detach(hi);
		netns_leave(tok);
	} else {
		err = h->detach(hi);
	}
	if (err)
		return err;
	pr_debug("hooks: detached %s/%s%s%s\n", h->name, inst_action_name(hi),
		 hi->ifname[0] ? " from " : "", hi->ifname);
out:
	hi->attached = false;
	return 0;
}

static void hook_cleanup(const char *name, long num)
{
	struct hook_inst *hi = (struct hook_inst *)num;

	hi->cleanup = -1;
	inst_detach(hi);
	inst_free(hi);
}

static int load_progs(struct hook_inst *hi, const struct hook_opts *o)
{
	const struct hook_desc *h = hi->desc;
	struct bpf_program *p;
	char want[64];
	int err;

	hi->skel = hooks__open();
	if (!hi->skel)
		return -errno ? -errno : -ENOMEM;
	hi->skel->rodata->bench_port = o ? o->port : 0;
	/* The message size only means something behind a parser. */
	hi->skel->rodata->msg_size = o && h->parser ? o->msg_size : 0;
	err = hook_prog_name(h, hi->action, want, sizeof(want));
	if (err)
		return err;
	bpf_object__for_each_program(p, hi->skel->obj) {
		const char *n = bpf_program__name(p);
		bool use = !strcmp(n, want) || (h->parser && !strcmp(n, "sk_parser"));

		bpf_program__set_autoload(p, use);
		if (!strcmp(n, want))
			hi->prog = p;
		else if (use)
			hi->parser = p;
	}
	if (!hi->prog) {
		pr_warn("hooks: %s: no program %s in hooks.bpf.c\n", h->name, want);
		return -ENOENT;
	}
	err = hooks__load(hi->skel);
	if (err) {
		pr_warn("hooks: %s: loading %s: %s\n", h->name, want, strerror(-err));
		return err;
	}
	hi->map_fd = h->kind == HOOK_STREAM ? bpf_map__fd(hi->skel->maps.sockmap) : -1;
	return 0;
}

/* The hook exists, a device hook is put only in one of the run's
 * namespaces (never the root one), and the kernel has the feature. */
static int attach_args_ok(const struct hook_desc *h, const struct netns *ns, const char *ifname)
{
	char what[96];

	if (!h)
		return -EINVAL;
	if (h->kind == HOOK_PACKET &&
	    (!ns || ns->fd < 0 || strncmp(ns->name, RUN_PREFIX_BASE, strlen(RUN_PREFIX_BASE)) ||
	     !ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE)) {
		pr_warn("hooks: %s needs one of the run's namespaces and an interface\n", h->name);
		return -EINVAL;
	}
	if (h->feature < 0)
		return 0;
	snprintf(what, sizeof(what), "hook %s", h->name);
	return feature_require(h->feature, what);
}

/* Attach hi's programs (set by the caller) in ns and register the removal. */
static int inst_attach(struct hook_inst *hi, const struct netns *ns, const char *ifname)
{
	const struct hook_desc *h = hi->desc;
	struct nstoken *tok = NULL;
	char what[96];
	int err = 0;

	if (h->kind == HOOK_PACKET) {
		tok = netns_enter(ns);
		if (!tok)
			return -errno;
		hi->ifindex = if_nametoindex(ifname);
		if (!hi->ifindex) {
			err = -errno;
			pr_warn("hooks: %s: no interface %s in %s\n", h->name, ifname, ns->name);
			goto out;
		}
	}
	if (h->kind != HOOK_BASELINE) {
		err = h->attach(hi);
		if (err) {
			pr_warn("hooks: cannot attach %s/%s%s%s: %s\n", h->name, inst_action_name(hi),
				hi->ifname[0] ? " to " : "", hi->ifname, strerror(-err));
			goto out;
		}
		hi->attached = true;
	}
	snprintf(what, sizeof(what), "%s/%s%s%s", h->name, inst_action_name(hi),
		 hi->ifname[0] ? " on " : "", hi->ifname);
	hi->cleanup = cleanup_add(hook_cleanup, what, (long)hi, "hook");
	if (hi->cleanup < 0)
		err = hi->cleanup;
	else
		pr_debug("hooks: attached %s (prog id %u)\n", what, hook_prog_id(hi));
out:
	netns_leave(tok);
	return err;
}

static struct hook_inst *inst_new(const struct hook_desc *h, enum hook_action a,
				  const struct netns *ns, const char *ifname)
{
	struct hook_inst *hi = calloc(1, sizeof(*hi));

	if (!hi)
		return NULL;
	hi->desc = h;
	hi->action = a;
	hi->link_fd = -1;
	hi->map_fd = -1;
	hi->cleanup = -1;
	if (ns)
		snprintf(hi->ns_name, sizeof(hi->ns_name), "%s", ns->name);
	if (ifname && h->kind == HOOK_PACKET)
		snprintf(hi->ifname, sizeof(hi->ifname), "%s", ifname);
	return hi;
}

/* Attach hi, or undo and free it. */
static int inst_finish(struct hook_inst *hi, const struct netns *ns, const char *ifname,
		       struct hook_inst **out)
{
	int err = inst_attach(hi, ns, ifname);

	if (!err) {
		*out = hi;
		return 0;
	}
	if (hi->attached)
		inst_detach(hi);
	inst_free(hi);
	return err;
}

int hook_attach_opts(const struct hook_desc *h, enum hook_action a, const struct netns *ns,
		     const char *ifname, const struct hook_opts *o, struct hook_inst **out)
{
	struct hook_inst *hi;
	int err;

	*out = NULL;
	err = attach_args_ok(h, ns, ifname);
	if (!err && !hook_has_action(h, a))
		err = -EINVAL;
	if (err)
		return err;
	hi = inst_new(h, a, ns, ifname);
	if (!hi)
		return -ENOMEM;
	if (h->kind != HOOK_BASELINE) {
		err = load_progs(hi, o);
		if (err) {
			inst_free(hi);
			return err;
		}
	}
	return inst_finish(hi, ns, ifname, out);
}

int hook_pick_progs(const struct hook_desc *h, struct bpf_object *obj, const char *prefix,
		    struct hook_prog *out)
{
	char want[64], parser[64];
	struct bpf_program *p;

	memset(out, 0, sizeof(*out));
	out->sockmap_fd = -1;
	if (!hook_has_program(h))
		return -EINVAL;
	snprintf(want, sizeof(want), "%s_%s", prefix, h->family);
	snprintf(parser, sizeof(parser), "%s_parser", prefix);
	bpf_object__for_each_program(p, obj) {
		const char *n = bpf_program__name(p);
		bool main = !strcmp(n, want), parse = h->parser && !strcmp(n, parser);

		bpf_program__set_autoload(p, main || parse);
		if (main)
			out->prog = p;
		else if (parse)
			out->parser = p;
	}
	if (!out->prog || (h->parser && !out->parser)) {
		pr_warn("hooks: %s: no program %s%s%s in %s\n", h->name, want,
			h->parser ? " and " : "", h->parser ? parser : "", bpf_object__name(obj));
		return -ENOENT;
	}
	return 0;
}

int hook_attach_prog(const struct hook_desc *h, const struct hook_prog *p, const struct netns *ns,
		     const char *ifname, struct hook_inst **out)
{
	struct hook_inst *hi;
	int err;

	*out = NULL;
	err = attach_args_ok(h, ns, ifname);
	if (err)
		return err;
	if (!hook_has_program(h) || !p || !p->prog || bpf_program__fd(p->prog) < 0 ||
	    (h->parser && (!p->parser || bpf_program__fd(p->parser) < 0)) ||
	    (h->kind == HOOK_STREAM && p->sockmap_fd < 0))
		return -EINVAL;
	hi = inst_new(h, HOOK_ACTION__COUNT, ns, ifname);
	if (!hi)
		return -ENOMEM;
	hi->prog = p->prog;
	hi->parser = h->parser ? p->parser : NULL;
	hi->map_fd = h->kind == HOOK_STREAM ? p->sockmap_fd : -1;
	return inst_finish(hi, ns, ifname, out);
}

int hook_attach(const struct hook_desc *h, enum hook_action a, const struct netns *ns,
		const char *ifname, uint16_t udp_port, struct hook_inst **out)
{
	struct hook_opts o = { .port = udp_port };

	return hook_attach_opts(h, a, ns, ifname, &o, out);
}

void hook_detach(struct hook_inst *hi)
{
	if (!hi)
		return;
	if (hi->cleanup >= 0)
		cleanup_forget(hi->cleanup);
	hi->cleanup = -1;
	inst_detach(hi);
	inst_free(hi);
}

int hook_set_attached(struct hook_inst *hi, bool on)
{
	struct nstoken *tok;
	int err;

	if (!hi || hi->desc->kind != HOOK_PACKET)
		return -EINVAL;
	if (hi->attached == on)
		return 0;
	if (!on)
		return inst_detach(hi);
	tok = enter_ns_name(hi->ns_name);
	if (!tok)
		return -errno;
	err = hi->desc->attach(hi);
	netns_leave(tok);
	if (err)
		return err;
	hi->attached = true;
	return 0;
}

int hook_prog_fd(struct hook_inst *hi)
{
	return hi && hi->prog ? bpf_program__fd(hi->prog) : -1;
}

uint32_t hook_prog_id(struct hook_inst *hi)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int fd = hook_prog_fd(hi);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

int hook_sockmap_fd(struct hook_inst *hi)
{
	return hi ? hi->map_fd : -1;
}

const volatile struct cpu_counters *hook_counters(struct hook_inst *hi)
{
	if (!hi || !hi->skel || !hi->skel->bss)
		return NULL;
	return (const volatile struct cpu_counters *)hi->skel->bss->counters;
}

struct cpu_counters hook_counters_sum(struct hook_inst *hi)
{
	const volatile struct cpu_counters *c = hook_counters(hi);
	struct cpu_counters s;

	memset(&s, 0, sizeof(s));
	for (int i = 0; c && i < OLAB_MAX_CPUS; i++) {
		s.packets += c[i].packets;
		s.bytes += c[i].bytes;
		s.dropped += c[i].dropped;
		s.passed += c[i].passed;
		s.redirected += c[i].redirected;
		s.errors += c[i].errors;
	}
	return s;
}

int hook_query(const struct hook_desc *h, const struct netns *ns, const char *ifname,
	       uint32_t *ids, uint32_t *cnt)
{
	struct nstoken *tok;
	int ifindex, err;

	if (!h || !h->query || !ns || ns->fd < 0 || !ifname)
		return -EOPNOTSUPP;
	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	ifindex = if_nametoindex(ifname);
	err = ifindex ? h->query(ifindex, ids, cnt) : -errno;
	netns_leave(tok);
	return err;
}
