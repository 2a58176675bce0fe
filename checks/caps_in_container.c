/*
 * caps-in-container: which of the offload's operations a runc container can
 * do by itself with only CAP_BPF and CAP_NET_ADMIN.  The containers probe
 * (containers/probe.c, olab-ctr) runs in a container joined to the DUT side
 * of a fresh testbed; every probe reports "works" or the errno it got.
 * Loading, attaching to its own veth (XDP, clsact, tcx), sockmap and its own
 * cgroup v2 work; mounting bpffs needs CAP_SYS_ADMIN and taking a program
 * by id (BPF_PROG_GET_FD_BY_ID) CAP_SYS_ADMIN too: both EPERM.  Before 6.6
 * (no tcx) the tcx attach is expected to fail with EINVAL, as it does
 * outside a container (BPF_LINK_CREATE does not know BPF_TCX_INGRESS).
 */
#include <errno.h>
#include <string.h>
#include <jansson.h>
#include "checks/check.h"
#include "containers/container.h"
#include "lib/util.h"

#define CAPS "bpf,net_admin"

/* Probes by phase, in the order of the expectation. */
static const struct {
	const char *phase;
	const char *key;
	const char *probe;          /* containers/probe.c name */
} cells[] = {
	{ "load", "xdp", "load_xdp" },
	{ "load", "tc", "load_tc" },
	{ "load", "sk_skb", "load_sk_skb" },
	{ "load", "cgroup_skb", "load_cgroup_skb" },
	{ "attach", "xdp", "attach_xdp" },
	{ "attach", "tc_clsact", "attach_tc" },
	{ "attach", "tcx", "attach_tcx" },
	{ "attach", "cgroup2", "cgroup_attach" },
	{ "sockmap", "insert", "sockmap" },
	{ "admin", "bpffs", "bpffs" },
	{ "admin", "prog_get_fd_by_id", "prog_get_fd_by_id" },
};

static int setup(struct check_ctx *ctx)
{
	if (containers_prepare())
		snprintf(ctx->skip, sizeof(ctx->skip), "containers: %s", ctr_last_error());
	return 0;
}

static int run(struct check_ctx *ctx)
{
	char err[CTR_ERR_LEN], details[512] = "", list[64];
	const char *phase = NULL;
	uint64_t caps = 0;
	json_t *res, *probes;

	/* Sabotage: no capabilities at all. */
	if (!ctx->sabotage && ctr_caps_parse(CAPS, &caps, err, sizeof(err)))
		return check_error(ctx, -EINVAL, "caps %s: %s", CAPS, err);
	res = ctr_probe_caps(caps, 0);
	if (!res)
		return check_error(ctx, -EIO, "probe: %s", ctr_last_error());
	probes = json_object_get(res, "probes");
	for (size_t i = 0; i < ARRAY_SIZE(cells); i++) {
		json_t *c = json_object_get(probes, cells[i].probe);
		const char *r = json_string_value(json_object_get(c, "result")) ?: "missing";

		if (phase && strcmp(phase, cells[i].phase)) {
			check_observe(ctx, phase, "%s", details);
			details[0] = '\0';
		}
		phase = cells[i].phase;
		check_kv(details, sizeof(details), cells[i].key, "%s", r);
		check_counter(ctx, "errno", cells[i].probe,
			      json_integer_value(json_object_get(c, "errno")));
	}
	if (phase)
		check_observe(ctx, phase, "%s", details);
	ctr_caps_format(caps, list, sizeof(list));
	check_observe(ctx, "caps", "asked=%s cap_eff_matches=%s", list,
		      json_is_true(json_object_get(res, "cap_eff_ok")) ? "yes" : "no");
	json_decref(res);
	return 0;
}

DEFINE_CHECK(caps_in_container,
	.name = "caps-in-container",
	.summary = "a runc container with bpf,net_admin loads and attaches on its own veth; "
		   "bpffs and prog-by-id stay EPERM",
	.tools = "runc busybox",
	.expected = "load: xdp=works tc=works sk_skb=works cgroup_skb=works; "
		    "attach: xdp=works tc_clsact=works tcx=works cgroup2=works; "
		    "sockmap: insert=works; admin: bpffs=EPERM prog_get_fd_by_id=EPERM; "
		    "caps: asked=" CAPS " cap_eff_matches=yes",
	.reference = "kernel/bpf/syscall.c bpf_prog_load() (bpf_capable, CAP_NET_ADMIN for "
		     "net types), bpf_prog_get_fd_by_id() and fs/namespace.c (CAP_SYS_ADMIN)",
	.runc = true,
	.versioned = { { .holds = "tcx=works", .otherwise = "tcx=EINVAL",
			 .kernels = { .since = "6.6", .ref = "e420bed02507 \"bpf: Add fd-based tcx "
				      "multi-prog infra with link support\" (v6.6)" } } },
	.setup = setup,
	.run = run,
	.order = 200,
	.timeout_ms = 45000);
