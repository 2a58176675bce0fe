/* `offloadlab verifier`: the CLI of the verifier study (bench/verifier.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "bench/verifier.h"
#include "cmd/cmd.h"
#include "lib/run.h"
#include "lib/util.h"

struct verifier_cfg {
	const char *parsers, *compilers, *opts, *mcpus;
	bool quick;
	uint64_t budget_ms;
};

static const struct opt_desc verifier_opts[] = {
	{ "parser", 'p', OPT_STR, offsetof(struct verifier_cfg, parsers), "LIST",
	  "parsers, comma-separated: http1, http2, json (default: all)" },
	{ "compiler", 'c', OPT_STR, offsetof(struct verifier_cfg, compilers), "LIST",
	  "clang versions: 13, 14, 15, 16, 19 (default: all; absent ones are rows with "
	  "the reason; install them with make deps-extra)" },
	{ "opt", 'O', OPT_STR, offsetof(struct verifier_cfg, opts), "LIST",
	  "optimisation levels: O1, O2, O3, Os (default: all)" },
	{ "mcpu", 0, OPT_STR, offsetof(struct verifier_cfg, mcpus), "LIST",
	  "BPF ISA versions: v1, v2, v3, v4 (default: all)" },
	{ "quick", 'q', OPT_FLAG, offsetof(struct verifier_cfg, quick), NULL,
	  "clang 14, -O1 and -O2, -mcpu=v3, knobs on powers of two (about a minute); "
	  "the lists above still choose" },
	{ "budget", 0, OPT_MS, offsetof(struct verifier_cfg, budget_ms), "SEC",
	  "time for the knob searches; those left are listed as not searched "
	  "(default 510 s, --quick 40 s)", 1000, 3600000 },
	OPT_END,
};

/* "a,b" against names (or names without their prefix, "16" for "clang-16",
 * "2" for "O2"): a mask, or 0 after a usage error. */
static uint32_t parse_list(const char *path, const char *opt, const char *list,
			   const char *const *names, int n, const char *prefix)
{
	char buf[256], *tok, *save = NULL;
	uint32_t mask = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < n; i++)
			if (!strcmp(tok, names[i]) ||
			    (!strncmp(names[i], prefix, strlen(prefix)) &&
			     !strcmp(tok, names[i] + strlen(prefix))))
				break;
		if (i == n) {
			cli_usage_error(path, "--%s: unknown value '%s'", opt, tok);
			return 0;
		}
		mask |= 1u << i;
	}
	if (!mask)
		cli_usage_error(path, "--%s: empty list", opt);
	return mask;
}

static int read_axes(const struct verifier_cfg *o, struct vf_study_cfg *c)
{
	static char ccbuf[VF_COMPILERS][16];
	const char *parsers[VF_PARSERS], *ccs[VF_COMPILERS];

	for (int i = 0; i < VF_PARSERS; i++)
		parsers[i] = vf_parsers[i].name;
	for (int i = 0; i < VF_COMPILERS; i++) {
		snprintf(ccbuf[i], sizeof(ccbuf[i]), "clang-%d", vf_clang_versions[i]);
		ccs[i] = ccbuf[i];
	}
	if (o->parsers && !(c->parsers = parse_list("verifier", "parser", o->parsers, parsers,
						     VF_PARSERS, "")))
		return -1;
	if (o->compilers && !(c->compilers = parse_list("verifier", "compiler", o->compilers,
							 ccs, VF_COMPILERS, "clang-")))
		return -1;
	if (o->opts && !(c->opts = parse_list("verifier", "opt", o->opts, vf_opt_names, VF_OPTS,
					       "O")))
		return -1;
	if (o->mcpus && !(c->mcpus = parse_list("verifier", "mcpu", o->mcpus, vf_mcpu_names,
						 VF_MCPUS, "v")))
		return -1;
	return 0;
}

/* ---- the human table ---- */

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "";
}

static long long num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* ns per request of the first well-formed sample, "-" without one. */
static void ns_cell(json_t *row, char *buf, size_t len)
{
	json_t *r, *ns;
	size_t i;

	snprintf(buf, len, "-");
	json_array_foreach(json_object_get(row, "requests"), i, r) {
		if (!json_is_true(json_object_get(r, "ok"))) {
			snprintf(buf, len, "%s: %s", str(r, "sample"), str(r, "verdict"));
			return;
		}
		ns = json_object_get(r, "ns_per_request");
		if (ns && !strcmp(str(r, "expect"), "XDP_PASS") && !strcmp(buf, "-"))
			snprintf(buf, len, "%.1f [%.1f, %.1f]",
				 json_real_value(json_object_get(ns, "median")),
				 json_real_value(json_object_get(ns, "ci_lo")),
				 json_real_value(json_object_get(ns, "ci_hi")));
	}
}

static void print_matrix(json_t *doc)
{
	json_t *row;
	size_t i;
	char ns[64];

	printf("%-6s %-9s %-3s %-4s %-14s %9s %6s %5s %8s %7s %6s  %-26s %s\n", "PARSER",
	       "COMPILER", "OPT", "MCPU", "RESULT", "PROCESSED", "STATES", "PEAK", "VERIF_US",
	       "XLATED", "JITED", "NS/REQUEST [95% CI]", "REASON");
	json_array_foreach(json_object_get(doc, "matrix"), i, row) {
		bool loads = json_is_true(json_object_get(row, "loads"));

		ns_cell(row, ns, sizeof(ns));
		printf("%-6s %-9s %-3s %-4s %-14s %9lld %6lld %5lld %8lld %7lld %6lld  %-26s %.90s\n",
		       str(row, "parser"), str(row, "compiler"), str(row, "opt"), str(row, "mcpu"),
		       str(row, "stage"), num(row, "processed_insns"), num(row, "total_states"),
		       num(row, "peak_states"), num(row, "verify_usec"), num(row, "xlated_bytes"),
		       num(row, "jited_bytes"), loads ? ns : "-", str(row, "reason"));
	}
}

static void print_limits(json_t *doc)
{
	json_t *row;
	size_t i;

	printf("\nLIMITS: the largest knob value that loads (others at their defaults)\n");
	printf("%-6s %-21s %-9s %-3s %-4s %7s %6s  %s\n", "PARSER", "KNOB", "COMPILER", "OPT",
	       "MCPU", "LIMIT", "NEXT", "WHY NEXT DOES NOT LOAD");
	json_array_foreach(json_object_get(json_object_get(doc, "findings"), "limit"), i, row) {
		char next[16] = "cap";

		if (!json_is_true(json_object_get(row, "searched"))) {
			printf("%-6s %-21s %-9s %-3s %-4s %7s %6s  not searched: %.80s\n",
			       str(row, "parser"), str(row, "knob"), str(row, "compiler"),
			       str(row, "opt"), str(row, "mcpu"), "-", "-", str(row, "reason"));
			continue;
		}
		if (!json_is_true(json_object_get(row, "capped")))
			snprintf(next, sizeof(next), "%lld", num(row, "next"));
		printf("%-6s %-21s %-9s %-3s %-4s %7lld %6s  %.100s\n", str(row, "parser"),
		       str(row, "knob"), str(row, "compiler"), str(row, "opt"), str(row, "mcpu"),
		       num(row, "limit"), next, str(row, "next_reason"));
	}
}

static void print_clashes(json_t *doc)
{
	json_t *c, *a, *b;
	size_t i;

	printf("\nCLASHES: one flag decides between loading and the verifier's rejection\n");
	json_array_foreach(json_object_get(json_object_get(doc, "findings"), "clashes"), i, c) {
		char knob[64] = "default knobs";

		a = json_object_get(c, "loads");
		b = json_object_get(c, "rejected");
		if (json_is_string(json_object_get(c, "knob")))
			snprintf(knob, sizeof(knob), "%s=%lld", str(c, "knob"), num(c, "value"));
		printf("%-8s %-6s %-26s %s -%s %s loads; %s -%s %s rejected: %.90s\n",
		       str(c, "kind"), str(c, "parser"), knob, str(a, "compiler"), str(a, "opt"),
		       str(a, "mcpu"), str(b, "compiler"), str(b, "opt"), str(b, "mcpu"),
		       str(c, "reason"));
	}
	if (!json_array_size(json_object_get(json_object_get(doc, "findings"), "clashes")))
		printf("none: no flag change turned a load into a rejection, or back\n");
}

static void print_human(json_t *doc)
{
	json_t *s = json_object_get(doc, "summary");

	print_matrix(doc);
	print_limits(doc);
	print_clashes(doc);
	printf("\n%lld cells: %lld loaded, %lld rejected, %lld compile-failed, %lld skipped; "
	       "%lld searches (%lld cut by the budget), %lld clashes; %lld builds, %lld loads "
	       "(%lld from the cache), %.0f s\n", num(s, "cells"), num(s, "loaded"),
	       num(s, "rejected"), num(s, "compile_failed"), num(s, "skipped"), num(s, "searches"),
	       num(s, "searches_cut_by_budget"), num(s, "clashes"), num(s, "builds"),
	       num(s, "loads"), num(s, "cached"),
	       json_real_value(json_object_get(s, "elapsed_s")));
}

static int verifier_run(void *cfg, int argc, char **argv)
{
	struct verifier_cfg *o = cfg;
	struct vf_study_cfg c;
	json_t *doc = NULL;
	char why[512] = "";
	int err;

	if (argc > 0)
		return cli_usage_error("verifier", "unexpected argument '%s'", argv[0]);
	vf_study_defaults(&c, o->quick);
	if (read_axes(o, &c))
		return EXIT_USAGE;
	if (o->budget_ms)
		c.budget_ms = o->budget_ms;
	c.progress = isatty(STDERR_FILENO) || g_opts.verbose;
	if (cli_measure_lock("verifier"))
		return EXIT_FAIL;
	err = vf_study_run(&c, &doc, why, sizeof(why));
	if (err) {
		fprintf(stderr, "offloadlab verifier: %s\n", why);
		return EXIT_FAIL;
	}
	json_object_set_new(json_object_get(doc, "config"), "measure", cli_measure_json());
	if (g_opts.json)
		return cli_json_out("verifier", doc);
	print_human(doc);
	json_decref(doc);
	return EXIT_OK;
}

COMMAND(verifier_cmd, "verifier", 45, NEED_BPF | NEED_NET_ADMIN | MEASURES, verifier_run,
	"the parsers x clang x -O x -mcpu: which load, the verifier's costs and limits, "
	"the flags that decide (--quick: about a minute; full: about 10)",
	CMD_OPTS(verifier_opts, struct verifier_cfg, NULL));
