/* `offloadlab containers probe`: what eBPF work a container can do, per capability set. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "containers/container.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

#define MAX_SETS 4

struct probe_cfg {
	const char *caps;
};

static const struct opt_desc probe_opts[] = {
	{ .name = "caps", .kind = OPT_STR, .offset = offsetof(struct probe_cfg, caps),
	  .metavar = "LIST",
	  .help = "the container's capabilities, e.g. bpf,net_admin or none (default: probe none; "
		  "bpf,net_admin; bpf,net_admin,perfmon; sys_admin)" },
	OPT_END
};

static const char *const default_sets[] = {
	"none", "bpf,net_admin", "bpf,net_admin,perfmon", "sys_admin",
};

static const char *cell(json_t *res, const char *probe)
{
	json_t *c = json_object_get(json_object_get(res, "probes"), probe);

	return json_string_value(json_object_get(c, "result")) ?: "?";
}

static void print_table(json_t *sets, const char *runc)
{
	size_t n = json_array_size(sets), w[MAX_SETS];
	json_t *res;
	size_t i;

	printf("eBPF from inside a runc container (kernel %s, runc %s)\n\n", kernel_release(), runc);
	printf("%-32s", "capabilities");
	json_array_foreach(sets, i, res) {
		const char *caps = json_string_value(json_object_get(res, "caps"));

		w[i] = strlen(caps) + 2 > 14 ? strlen(caps) + 2 : 14;
		printf("%-*s", i + 1 < n ? (int)w[i] : 0, caps);
	}
	putchar('\n');
	for (size_t p = 0; p < ctr_probe_count; p++) {
		printf("%-32s", ctr_probes[p].label);
		for (i = 0; i < n; i++)
			printf("%-*s", i + 1 < n ? (int)w[i] : 0,
			       cell(json_array_get(sets, i), ctr_probes[p].name));
		putchar('\n');
	}
	printf("%-32s", "CapEff inside");
	json_array_foreach(sets, i, res)
		printf("%-*s", i + 1 < n ? (int)w[i] : 0,
		       json_string_value(json_object_get(res, "cap_eff")) ?: "?");
	putchar('\n');
}

static int probe_run(void *cfgp, int argc, char **argv)
{
	const struct probe_cfg *cfg = cfgp;
	const char *path = "containers probe";
	uint64_t masks[MAX_SETS];
	char err[CTR_ERR_LEN], runc[64];
	json_t *sets = NULL;
	size_t nsets = 0;
	int ret = EXIT_FAIL;

	if (cfg->caps) {
		if (ctr_caps_parse(cfg->caps, &masks[0], err, sizeof(err)))
			return cli_usage_error(path, "--caps: %s", err);
		nsets = 1;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(default_sets); i++) {
			if (ctr_caps_parse(default_sets[i], &masks[nsets], err, sizeof(err))) {
				pr_warn("offloadlab %s: skipping set %s: %s\n", path, default_sets[i], err);
				continue;
			}
			nsets++;
		}
	}
	if (containers_prepare() || ctr_runc_version(runc, sizeof(runc))) {
		fprintf(stderr, "offloadlab %s: %s\n", path, ctr_last_error());
		return EXIT_FAIL;
	}
	sets = json_array();
	for (size_t i = 0; sets && i < nsets; i++) {
		json_t *res;
		char list[128];

		if (run_stopping()) {
			fprintf(stderr, "offloadlab %s: interrupted\n", path);
			goto out;
		}
		ctr_caps_format(masks[i], list, sizeof(list));
		pr_debug("containers: probing with caps %s\n", list);
		res = ctr_probe_caps(masks[i], (int)i);
		if (!res) {
			fprintf(stderr, "offloadlab %s: caps %s: %s\n", path, list, ctr_last_error());
			goto out;
		}
		if (!json_is_true(json_object_get(res, "cap_eff_ok"))) {
			fprintf(stderr, "offloadlab %s: caps %s: the container got CapEff %s\n", path,
				list, json_string_value(json_object_get(res, "cap_eff")) ?: "?");
			json_decref(res);
			goto out;
		}
		json_array_append_new(sets, res);
	}
	if (!sets)
		goto out;
	if (g_opts.json) {
		ret = cli_json_out(path, json_pack("{s:s, s:s, s:O}", "kernel", kernel_release(),
						   "runc", runc, "sets", sets));
	} else {
		print_table(sets, runc);
		ret = EXIT_OK;
	}
out:
	json_decref(sets);
	return ret;
}

CMD(cmd_containers_probe, "probe", 60, NEED_ALL, probe_run,
	"what eBPF work a runc container can do with given capabilities",
	CMD_OPTS(probe_opts, struct probe_cfg, NULL));

static const struct olab_cmd *const containers_subcmds[] = { &cmd_containers_probe, NULL };

COMMAND(cmd_containers, "containers", 60, NEED_ALL, NULL,
	"apps in runc containers joined to the testbed (probe)",
	.subcmds = containers_subcmds);
