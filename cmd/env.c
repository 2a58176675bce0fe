/* `offloadlab env`: what this kernel really supports, found by trying each feature. */
#include <stdio.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

static void print_human(const struct env_kernel *k, FILE *f)
{
	fprintf(f, "%-16s %s\n", "kernel", k->release);
	if (k->jit_known)
		fprintf(f, "%-16s %s (bpf_jit_enable=%d)\n", "bpf_jit",
			k->jit_value ? "enabled" : "disabled", k->jit_value);
	else
		fprintf(f, "%-16s unknown\n", "bpf_jit");
	if (k->stats_supported)
		fprintf(f, "%-16s supported, %s now\n", "bpf_stats",
			k->stats_enabled_now ? "enabled" : "off");
	else
		fprintf(f, "%-16s unsupported: %s\n", "bpf_stats", k->stats_reason);
	fprintf(f, "%-16s %s %s\n", "bpffs", k->bpffs_path,
		k->bpffs_mounted ? "mounted" : "not mounted");
	fprintf(f, "%-16s %s\n", "cgroup2", k->cgroup2[0] ? k->cgroup2 : "not mounted");
	fprintf(f, "%-16s %d\n", "cpus", k->cpus);
	fprintf(f, "%-16s %s\n", "libbpf", k->libbpf);

	fprintf(f, "\n%-16s %-4s %s\n", "FEATURE", "OK", "REASON / WHAT WAS PROVEN");
	for (int i = 0; i < FEAT__COUNT; i++) {
		const struct feature_status *st = feature_probe(i);

		fprintf(f, "%-16s %-4s %s\n", feature_name(i), st->supported ? "yes" : "no",
			st->supported ? feature_desc(i) : st->reason);
	}
}

static int env_run(void *cfg, int argc, char **argv)
{
	struct env_kernel k;
	json_t *doc = NULL;
	int failed, ret = EXIT_OK;

	env_kernel_probe(&k);
	failed = feature_probe_all();
	if (run_stopping()) {
		pr_warn("offloadlab env: interrupted\n");
		return EXIT_FAIL;
	}
	if (failed) {
		pr_warn("offloadlab env: %d probe%s could not run\n", failed, failed > 1 ? "s" : "");
		ret = EXIT_FAIL;
	}
	if (!g_opts.json) {
		print_human(&k, stdout);
		return ret;
	}
	doc = json_pack("{s:o?, s:o?}", "kernel", env_kernel_to_json(&k),
			"features", features_to_json());
	if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) || fputc('\n', stdout) == EOF) {
		pr_warn("offloadlab env: cannot write JSON\n");
		ret = EXIT_FAIL;
	}
	json_decref(doc);
	return ret;
}

static const struct olab_cmd env_cmd = {
	.name = "env",
	.summary = "probe which BPF hooks and features this kernel really supports",
	.needs = NEED_ALL,
	.run = env_run,
	.order = 10,
};
DEFINE_COMMAND(env_cmd);
