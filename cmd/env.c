/* `offloadlab env`: what this kernel really supports, found by trying each feature. */
#include <stdio.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/cpuidle.h"
#include "lib/features.h"
#include "lib/hooks.h"
#include "lib/kver.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

static void print_cpuidle(const struct cpuidle_info *ci, FILE *f)
{
	fprintf(f, "%-16s driver %s, governor %s\n", "cpuidle",
		ci->driver[0] ? ci->driver : "none", ci->governor[0] ? ci->governor : "none");
	for (int i = 0; i < ci->nstates; i++)
		fprintf(f, "%-16s state%d %-10s exit latency %llu us, residency %llu us%s\n", "", i,
			ci->state[i].name, (unsigned long long)ci->state[i].exit_latency_us,
			(unsigned long long)ci->state[i].residency_us,
			ci->state[i].disabled ? " (disabled)" : "");
	fprintf(f, "%-16s %s\n", "cpu_dma_latency", ci->dma_latency_writable
		? "writable: --cpu-idle poll can hold the CPUs in POLL" : ci->dma_latency_reason);
}

static void print_human(const struct env_kernel *k, const struct cpuidle_info *ci, FILE *f)
{
	char v[32];

	fprintf(f, "%-16s %s (upstream %s)\n", "kernel", k->release,
		kver_running() ? kver_str(kver_running(), v, sizeof(v)) : "unknown");
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
	print_cpuidle(ci, f);

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
	struct cpuidle_info ci;
	json_t *doc = NULL, *kernel;
	int failed, ret = EXIT_OK;

	env_kernel_probe(&k);
	cpuidle_info_read(&ci);
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
		print_human(&k, &ci, stdout);
		return ret;
	}
	kernel = env_kernel_to_json(&k);
	if (kernel)
		json_object_set_new(kernel, "cpuidle", cpuidle_info_json(&ci));
	doc = json_pack("{s:o?, s:o?, s:o?}", "kernel", kernel,
			"features", features_to_json(), "hooks", hooks_to_json());
	return cli_json_out("env", doc) ?: ret;
}

COMMAND(env_cmd, "env", 10, NEED_ALL, env_run,
	"probe which BPF hooks and features this kernel really supports");
