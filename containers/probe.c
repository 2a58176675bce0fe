/*
 * What eBPF work can be done from inside a container with a given set of
 * capabilities: olab-ctr runs each probe in a container joined to the DUT
 * side of a fresh testbed and reports "works" or the errno it got.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/log.h"
#include "lib/util.h"
#include "netns/topo.h"

#define PROBE_TIMEOUT_MS 20000

const struct ctr_probe_desc ctr_probes[] = {
	{ "load_xdp", "load XDP" },
	{ "load_tc", "load TC (sched_cls)" },
	{ "load_sk_skb", "load sk_skb" },
	{ "load_cgroup_skb", "load cgroup_skb" },
	{ "attach_xdp", "attach XDP to own veth" },
	{ "attach_tc", "attach TC (clsact) to own veth" },
	{ "attach_tcx", "attach tcx link to own veth" },
	{ "sockmap", "sockmap + insert app socket" },
	{ "bpffs", "mount and use bpffs" },
	{ "prog_get_fd_by_id", "BPF_PROG_GET_FD_BY_ID" },
	{ "cgroup_attach", "attach to own cgroup v2" },
};
const size_t ctr_probe_count = ARRAY_SIZE(ctr_probes);

/* The last line of out that parses as a JSON object. */
static json_t *last_json_line(char *out)
{
	json_t *j = NULL;

	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *t = line[0] == '{' ? json_loads(line, 0, NULL) : NULL;

		if (t) {
			json_decref(j);
			j = t;
		}
	}
	return j;
}

static json_t *run_helper(uint64_t caps, struct topo *t, int instance)
{
	char name[16], out[8192], err[1024], msg[CTR_ERR_LEN];
	const char *argv[] = { CTR_HELPER, "probe", "--ifname", t->if_dut, NULL };
	struct ctr_opts o = { .name = name, .ns = &t->dut, .caps = caps, .argv = argv };
	struct ctr *c;
	json_t *res = NULL;
	int e;

	snprintf(name, sizeof(name), "probe%d", instance);
	e = ctr_start(&o, &c);
	if (e)
		return NULL;
	e = ctr_wait_stopped(c, PROBE_TIMEOUT_MS);
	if (e) {
		ctr_set_err("probe container %s did not finish in %d ms", c->id, PROBE_TIMEOUT_MS);
		goto out;
	}
	ctr_read_output(c, "out", out, sizeof(out));
	res = last_json_line(out);
	if (!res || !json_is_object(json_object_get(res, "probes"))) {
		ctr_read_output(c, "err", err, sizeof(err));
		ctr_runc_msg(err, msg, sizeof(msg));
		ctr_set_err("probe container %s exited without a result: %s", c->id,
			    msg[0] ? msg : "no output");
		json_decref(res);
		res = NULL;
	}
out:
	ctr_destroy(c);
	return res;
}

json_t *ctr_probe_caps(uint64_t caps, int instance)
{
	struct topo_opts to = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1,
				.instance = instance };
	char list[256];
	const char *eff;
	struct topo t;
	json_t *res;
	uint64_t got;
	int err;

	err = containers_prepare();
	if (err)
		return NULL;
	err = topo_up(&to, &t);
	if (err) {
		ctr_set_err("cannot build the testbed: %s", topo_last_error());
		return NULL;
	}
	res = run_helper(caps, &t, instance);
	topo_down(&t);
	if (!res)
		return NULL;
	eff = json_string_value(json_object_get(res, "cap_eff"));
	got = eff ? strtoull(eff, NULL, 16) : ~0ull;
	if (eff) {
		char hex[24];

		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)got);
		json_object_set_new(res, "cap_eff", json_string(hex));
	}
	ctr_caps_format(caps, list, sizeof(list));
	json_object_set_new(res, "caps", json_string(list));
	json_object_set_new(res, "oci_caps", ctr_caps_oci(caps));
	json_object_set_new(res, "cap_eff_ok", json_boolean(got == caps));
	return res;
}
