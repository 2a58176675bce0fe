/*
 * The hook table and the attach/detach of each hook.
 *
 * Where does a new hook go?  One entry in hooks[] below (plus its programs,
 * "<family>_<action>", in bpf/hooks.bpf.c).  Instances (load, attach,
 * detach, counters) are in lib/hooks_inst.c.
 *
 * Packet hooks attach inside the DUT namespace (the calling thread enters
 * it for the netlink or bpf() call and leaves), so nothing is ever attached
 * in the root namespace.  XDP and tc attachments are removed explicitly;
 * tcx links by BPF_LINK_DETACH (forked apps may still hold the link fd) and
 * close; sockmap programs by BPF_PROG_DETACH and closing the map.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/hooks.h"
#include "lib/hooks_internal.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "bpf/hooks.h"
#include "hooks.skel.h"

#define TC_HANDLE   1
#define TC_PRIORITY 1


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
