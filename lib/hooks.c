/*
 * The hook table and the attach/detach of each hook.
 *
 * Where does a new hook go?  One entry in hooks[] below (plus its programs,
 * "<family>_<action>", in bpf/hooks.bpf.c).
 *
 * Packet hooks attach inside the DUT namespace (the calling thread enters
 * it for the netlink or bpf() call and leaves), so nothing is ever attached
 * in the root namespace.  XDP and tc attachments are removed explicitly;
 * tcx links by BPF_LINK_DETACH (forked apps may still hold the link fd) and
 * close; sockmap programs by BPF_PROG_DETACH and closing the map.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/hooks.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "bpf/hooks.h"
#include "hooks.skel.h"

#define TC_HANDLE   1
#define TC_PRIORITY 1

struct hook_inst {
	const struct hook_desc *desc;
	enum hook_action action;
	struct hooks *skel;
	struct bpf_program *prog;    /* the action's program */
	struct bpf_program *parser;  /* sk_parser, stream hooks with a parser */
	char ns_name[64];
	char ifname[IF_NAMESIZE];
	int ifindex;
	int link_fd;                 /* tcx */
	int map_fd;                  /* sockhash, stream hooks */
	bool qdisc_created;          /* tc: we made clsact, so we remove it */
	bool attached;
	int cleanup;
};

/* ---- XDP ------------------------------------------------------------- */

static int xdp_attach_flags(struct hook_inst *hi, __u32 mode)
{
	return bpf_xdp_attach(hi->ifindex, bpf_program__fd(hi->prog),
			      mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
}

static int xdp_detach_flags(struct hook_inst *hi, __u32 mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = bpf_program__fd(hi->prog));
	int err;

	/* REPLACE with old_prog_fd: removes ours, never someone else's. */
	err = bpf_xdp_detach(hi->ifindex, mode | XDP_FLAGS_REPLACE, &o);
	if (err)
		pr_warn("hooks: %s: cannot detach from %s: %s\n", hi->desc->name, hi->ifname,
			strerror(-err));
	return err;
}

static int xdp_query_mode(int ifindex, bool generic, uint32_t *ids, uint32_t *cnt)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, o);
	uint32_t id;
	int err;

	err = bpf_xdp_query(ifindex, 0, &o);
	if (err)
		return err;
	id = generic ? o.skb_prog_id : o.drv_prog_id;
	if (id && *cnt)
		ids[0] = id;
	*cnt = id ? 1 : 0;
	return 0;
}

static int xdp_native_attach(struct hook_inst *hi)
{
	return xdp_attach_flags(hi, XDP_FLAGS_DRV_MODE);
}

static int xdp_native_detach(struct hook_inst *hi)
{
	return xdp_detach_flags(hi, XDP_FLAGS_DRV_MODE);
}

static int xdp_native_query(int ifindex, uint32_t *ids, uint32_t *cnt)
{
	return xdp_query_mode(ifindex, false, ids, cnt);
}

static int xdp_skb_attach(struct hook_inst *hi)
{
	return xdp_attach_flags(hi, XDP_FLAGS_SKB_MODE);
}

static int xdp_skb_detach(struct hook_inst *hi)
{
	return xdp_detach_flags(hi, XDP_FLAGS_SKB_MODE);
}

static int xdp_skb_query(int ifindex, uint32_t *ids, uint32_t *cnt)
{
	return xdp_query_mode(ifindex, true, ids, cnt);
}

/* ---- tc (clsact + cls_bpf direct-action) ---------------------------- */

static int tc_attach(struct hook_inst *hi)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = hi->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = bpf_program__fd(hi->prog),
		    .handle = TC_HANDLE, .priority = TC_PRIORITY);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	hi->qdisc_created = !err;
	/* No BPF_TC_F_REPLACE: fails with -EEXIST rather than replace a filter. */
	err = bpf_tc_attach(&hook, &o);
	if (err && hi->qdisc_created) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
		hi->qdisc_created = false;
	}
	return err;
}

static int tc_detach(struct hook_inst *hi)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = hi->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIORITY);
	int err, ret;

	ret = err = bpf_tc_detach(&hook, &o);
	if (err)
		pr_warn("hooks: tc: cannot detach from %s: %s\n", hi->ifname, strerror(-err));
	if (hi->qdisc_created) {
		/* Both points: destroys the clsact qdisc itself. */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT) {
			pr_warn("hooks: tc: cannot remove clsact from %s: %s\n", hi->ifname,
				strerror(-err));
			ret = ret ? ret : err;
		}
	}
	return ret;
}

static int tc_query(int ifindex, uint32_t *ids, uint32_t *cnt)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = TC_HANDLE, .priority = TC_PRIORITY);
	int err;

	err = bpf_tc_query(&hook, &o);
	/* No clsact (EINVAL) or no such filter (ENOENT): nothing attached. */
	if (err == -ENOENT || err == -EINVAL) {
		*cnt = 0;
		return 0;
	}
	if (err)
		return err;
	if (*cnt)
		ids[0] = o.prog_id;
	*cnt = 1;
	return 0;
}

/* ---- tcx (bpf_link at BPF_TCX_INGRESS) ------------------------------- */

static int tcx_attach(struct hook_inst *hi)
{
	int fd = tcx_link_create(bpf_program__fd(hi->prog), hi->ifindex, BPF_TCX_INGRESS, 0, 0, 0);

	if (fd < 0)
		return fd;
	hi->link_fd = fd;
	return 0;
}

static int tcx_detach(struct hook_inst *hi)
{
	int err;

	if (hi->link_fd < 0)
		return 0;
	/* Detach for real even if a forked child still holds the fd. */
	err = bpf_link_detach(hi->link_fd);
	if (err && err != -ENOLINK)
		pr_warn("hooks: tcx: link detach on %s: %s\n", hi->ifname, strerror(-err));
	close(hi->link_fd);
	hi->link_fd = -1;
	return err == -ENOLINK ? 0 : err;
}

static int tcx_ingress_query(int ifindex, uint32_t *ids, uint32_t *cnt)
{
	return tcx_query(ifindex, BPF_TCX_INGRESS, ids, NULL, cnt, NULL);
}

/* ---- sockmap stream parser / verdict --------------------------------- */

static int sk_attach(struct hook_inst *hi)
{
	int err;

	if (hi->parser) {
		err = bpf_prog_attach(bpf_program__fd(hi->parser), hi->map_fd,
				      BPF_SK_SKB_STREAM_PARSER, 0);
		if (err)
			return err;
	}
	err = bpf_prog_attach(bpf_program__fd(hi->prog), hi->map_fd, BPF_SK_SKB_STREAM_VERDICT, 0);
	if (err && hi->parser)
		bpf_prog_detach2(bpf_program__fd(hi->parser), hi->map_fd, BPF_SK_SKB_STREAM_PARSER);
	return err;
}

static int sk_detach(struct hook_inst *hi)
{
	int err, ret;

	ret = err = bpf_prog_detach2(bpf_program__fd(hi->prog), hi->map_fd,
				     BPF_SK_SKB_STREAM_VERDICT);
	if (err)
		pr_warn("hooks: sockmap verdict detach: %s\n", strerror(-err));
	if (hi->parser) {
		err = bpf_prog_detach2(bpf_program__fd(hi->parser), hi->map_fd,
				       BPF_SK_SKB_STREAM_PARSER);
		if (err)
			pr_warn("hooks: sockmap parser detach: %s\n", strerror(-err));
		ret = ret ? ret : err;
	}
	return ret;
}

/* ---- the table ------------------------------------------------------- */

#define SK_NO_TEST_RUN(name) \
	"BPF_PROG_TEST_RUN does not run " name " programs (no test_run for sk_skb)"
#define NO_PROGRAM "no program to run"

/*
 * Native XDP_TX on a veth reaches the peer only when the peer runs an XDP
 * program too (GRO on the peer was not enough on 6.18); echo benches and
 * tests put an empty one on the gen end (peer_needs_xdp).
 */
static const struct hook_desc hooks[] = {
	{
		.name = "xdp",
		.summary = "native XDP on the DUT veth: before any skb exists",
		.feature = FEAT_XDP_NATIVE,
		.attach_mode = "netlink XDP, driver mode (XDP_FLAGS_DRV_MODE), ingress of the DUT veth",
		.kind = HOOK_PACKET, .proto = HOOK_PROTO_UDP, .family = "xdp",
		.reply_at = "native XDP: XDP_TX on the DUT veth, before an skb exists",
		.peer_needs_xdp = true, .test_run = true,
		.attach = xdp_native_attach, .detach = xdp_native_detach, .query = xdp_native_query,
	},
	{
		.name = "xdp-generic",
		.summary = "generic XDP: the XDP program run on the skb",
		.feature = FEAT_XDP_GENERIC,
		.attach_mode = "netlink XDP, skb mode (XDP_FLAGS_SKB_MODE), ingress of the DUT veth",
		.kind = HOOK_PACKET, .proto = HOOK_PROTO_UDP, .family = "xdp",
		.reply_at = "generic XDP: XDP_TX of the skb on the DUT veth",
		.test_run = true,
		.attach = xdp_skb_attach, .detach = xdp_skb_detach, .query = xdp_skb_query,
	},
	{
		.name = "tc",
		.summary = "tc ingress: clsact qdisc + cls_bpf direct-action",
		.feature = FEAT_TC_CLSACT,
		.attach_mode = "netlink clsact + cls_bpf da, ingress, handle 1 prio 1",
		.kind = HOOK_PACKET, .proto = HOOK_PROTO_UDP, .family = "tc",
		.reply_at = "tc ingress: bpf_redirect to the DUT veth's egress",
		.test_run = true,
		.attach = tc_attach, .detach = tc_detach, .query = tc_query,
	},
	{
		.name = "tcx",
		.summary = "tcx ingress: the link-based tc hook (6.6+)",
		.feature = FEAT_TCX,
		.attach_mode = "BPF_LINK_CREATE BPF_TCX_INGRESS on the DUT veth",
		.kind = HOOK_PACKET, .proto = HOOK_PROTO_UDP, .family = "tc",
		.reply_at = "tcx ingress: bpf_redirect to the DUT veth's egress",
		.test_run = true,
		.attach = tcx_attach, .detach = tcx_detach, .query = tcx_ingress_query,
	},
	{
		.name = "sk-skb-verdict",
		.summary = "sockmap stream verdict on the app's TCP sockets",
		.feature = FEAT_SK_SKB_VERDICT,
		.attach_mode = "BPF_PROG_ATTACH BPF_SK_SKB_STREAM_VERDICT on a sockhash",
		.kind = HOOK_STREAM, .proto = HOOK_PROTO_TCP, .family = "sk",
		.reply_at = "sockmap verdict: sk redirect to the socket's own egress",
		.no_test_run = SK_NO_TEST_RUN("sk-skb-verdict"),
		.attach = sk_attach, .detach = sk_detach,
	},
	{
		.name = "sk-skb-parser",
		.summary = "sockmap stream parser + verdict: one verdict per message",
		.feature = FEAT_SK_SKB_PARSER,
		.attach_mode = "BPF_PROG_ATTACH BPF_SK_SKB_STREAM_PARSER + _VERDICT on a sockhash",
		.kind = HOOK_STREAM, .proto = HOOK_PROTO_TCP, .family = "sk", .parser = true,
		.reply_at = "sockmap parser+verdict: sk redirect to the socket's own egress",
		.no_test_run = SK_NO_TEST_RUN("sk-skb-parser"),
		.known_issue = "sk-skb-parser with SK_PASS stalls on this kernel "
			       "(tcp_bpf_strp_read_sock copied_seq bug, fix posted Nov 2025)",
		.attach = sk_attach, .detach = sk_detach,
	},
	{
		.name = "udp-socket",
		.summary = "baseline: the UDP app alone, no program",
		.feature = -1,
		.attach_mode = "none",
		.kind = HOOK_BASELINE, .proto = HOOK_PROTO_UDP,
		.reply_at = "udp-echo app in user space on CPU 1 (recvmmsg + sendmmsg)",
		.no_test_run = NO_PROGRAM,
	},
	{
		.name = "tcp-socket",
		.summary = "baseline: the TCP app alone, no program",
		.feature = -1,
		.attach_mode = "none",
		.kind = HOOK_BASELINE, .proto = HOOK_PROTO_TCP,
		.reply_at = "tcp-echo app in user space on CPU 1 (epoll, recv + send)",
		.no_test_run = NO_PROGRAM,
	},
};

static const char *const action_names[HOOK_ACTION__COUNT] = {
	[HOOK_EMPTY] = "empty",
	[HOOK_COUNT_PASS] = "count_pass",
	[HOOK_DROP] = "drop",
	[HOOK_ECHO] = "echo",
};

size_t hook_count(void)
{
	return ARRAY_SIZE(hooks);
}

const struct hook_desc *hook_get(size_t i)
{
	return i < ARRAY_SIZE(hooks) ? &hooks[i] : NULL;
}

const struct hook_desc *hook_by_name(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(hooks); i++)
		if (!strcmp(hooks[i].name, name))
			return &hooks[i];
	return NULL;
}

bool hook_has_program(const struct hook_desc *h)
{
	return h && h->kind != HOOK_BASELINE;
}

bool hook_on_device(const struct hook_desc *h)
{
	return h && h->kind == HOOK_PACKET;
}

bool hook_on_sockmap(const struct hook_desc *h)
{
	return h && h->kind == HOOK_STREAM;
}

bool hook_is_tcp(const struct hook_desc *h)
{
	return h && h->proto == HOOK_PROTO_TCP;
}

bool hook_sees_proto(const struct hook_desc *h, enum hook_proto p)
{
	return h && (h->kind == HOOK_PACKET || h->proto == p);
}

const char *hook_proto_name(enum hook_proto p)
{
	switch (p) {
	case HOOK_PROTO_UDP:
		return "udp";
	case HOOK_PROTO_TCP:
		return "tcp";
	}
	return NULL;
}

int hook_prog_name(const struct hook_desc *h, enum hook_action a, char *buf, size_t len)
{
	if (!hook_has_program(h) || !h->family || !hook_has_action(h, a))
		return -EINVAL;
	snprintf(buf, len, "%s_%s", h->family, action_names[a]);
	return 0;
}

bool hook_programs_present(const struct hook_desc *h)
{
	struct hooks *skel = hooks__open();
	bool all = skel != NULL;
	char want[64];

	for (int a = 0; all && a < HOOK_ACTION__COUNT; a++) {
		if (hook_prog_name(h, a, want, sizeof(want)))
			continue;
		all = bpf_object__find_program_by_name(skel->obj, want) != NULL;
		if (!all)
			pr_warn("hooks: %s: no program %s in hooks.bpf.c\n", h->name, want);
	}
	if (all && h->parser)
		all = bpf_object__find_program_by_name(skel->obj, "sk_parser") != NULL;
	hooks__destroy(skel);
	return all;
}

/* The table for `env --json`: each hook, what it needs, whether it works here. */
json_t *hooks_to_json(void)
{
	json_t *arr = json_array();
	char reason[256];

	for (size_t i = 0; arr && i < ARRAY_SIZE(hooks); i++) {
		const struct hook_desc *h = &hooks[i];
		bool ok = !hook_supported(h, reason, sizeof(reason));

		if (json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:s?, s:b, s:s}",
				"name", h->name, "proto", hook_proto_name(h->proto),
				"program", hook_has_program(h),
				"feature", h->feature >= 0 ? feature_name(h->feature) : NULL,
				"supported", ok, "reason", reason))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

const char *hook_action_name(enum hook_action a)
{
	return (unsigned)a < HOOK_ACTION__COUNT ? action_names[a] : NULL;
}

int hook_action_by_name(const char *name)
{
	char buf[32];

	if (!name || strlen(name) >= sizeof(buf))
		return -EINVAL;
	for (size_t i = 0; i <= strlen(name); i++)
		buf[i] = name[i] == '-' ? '_' : name[i];
	for (int a = 0; a < HOOK_ACTION__COUNT; a++)
		if (!strcmp(buf, action_names[a]))
			return a;
	return -EINVAL;
}

bool hook_has_action(const struct hook_desc *h, enum hook_action a)
{
	if (!h || (unsigned)a >= HOOK_ACTION__COUNT)
		return false;
	return hook_has_program(h) || a == HOOK_EMPTY;
}

int hook_supported(const struct hook_desc *h, char *reason, size_t len)
{
	const struct feature_status *st;

	if (reason && len)
		reason[0] = '\0';
	if (!h)
		return -EINVAL;
	if (h->feature < 0)
		return 0;
	st = feature_probe(h->feature);
	if (st->supported)
		return 0;
	if (reason && len)
		snprintf(reason, len, "needs %s: %s", feature_name(h->feature), st->reason);
	return -EOPNOTSUPP;
}

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
	pr_debug("hooks: detached %s/%s%s%s\n", h->name, action_names[hi->action],
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

int hook_attach_opts(const struct hook_desc *h, enum hook_action a, const struct netns *ns,
		     const char *ifname, const struct hook_opts *o, struct hook_inst **out)
{
	struct hook_inst *hi = NULL;
	struct nstoken *tok = NULL;
	char what[96];
	int err;

	*out = NULL;
	if (!h || !hook_has_action(h, a))
		return -EINVAL;
	if (h->kind == HOOK_PACKET) {
		/* Only ever in one of our namespaces: never the root one. */
		if (!ns || ns->fd < 0 || strncmp(ns->name, RUN_PREFIX_BASE, strlen(RUN_PREFIX_BASE)) ||
		    !ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE) {
			pr_warn("hooks: %s needs one of the run's namespaces and an interface\n",
				h->name);
			return -EINVAL;
		}
	}
	if (h->feature >= 0) {
		snprintf(what, sizeof(what), "hook %s", h->name);
		err = feature_require(h->feature, what);
		if (err)
			return err;
	}

	hi = calloc(1, sizeof(*hi));
	if (!hi)
		return -ENOMEM;
	hi->desc = h;
	hi->action = a;
	hi->link_fd = -1;
	hi->map_fd = -1;
	hi->cleanup = -1;
	if (ns)
		snprintf(hi->ns_name, sizeof(hi->ns_name), "%s", ns->name);
	if (ifname && h->kind == HOOK_PACKET)
		snprintf(hi->ifname, sizeof(hi->ifname), "%s", ifname);
	if (h->kind == HOOK_BASELINE)
		goto done;

	err = load_progs(hi, o);
	if (err)
		goto cleanup;

	if (h->kind == HOOK_PACKET) {
		tok = netns_enter(ns);
		if (!tok) {
			err = -errno;
			goto cleanup;
		}
		hi->ifindex = if_nametoindex(ifname);
		if (!hi->ifindex) {
			err = -errno;
			pr_warn("hooks: %s: no interface %s in %s\n", h->name, ifname, ns->name);
			goto cleanup;
		}
	}
	err = h->attach(hi);
	if (err) {
		pr_warn("hooks: cannot attach %s/%s%s%s: %s\n", h->name, action_names[a],
			hi->ifname[0] ? " to " : "", hi->ifname, strerror(-err));
		goto cleanup;
	}
	hi->attached = true;
	netns_leave(tok);
	tok = NULL;
done:
	snprintf(what, sizeof(what), "%s/%s%s%s", h->name, action_names[a],
		 hi->ifname[0] ? " on " : "", hi->ifname);
	hi->cleanup = cleanup_add(hook_cleanup, what, (long)hi, "hook");
	if (hi->cleanup < 0) {
		err = hi->cleanup;
		goto cleanup;
	}
	pr_debug("hooks: attached %s (prog id %u)\n", what, hook_prog_id(hi));
	*out = hi;
	return 0;
cleanup:
	netns_leave(tok);
	if (hi->attached)
		inst_detach(hi);
	inst_free(hi);
	return err;
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
