/* `offloadlab matrix`: one command (env, check or bench) on several kernels
 * (Debian's, booted in qemu; "host": this one), merged into one table:
 * kernel x feature, kernel x check, kernel x figure. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "lib/vm.h"
#include "lib/vm_exec.h"

#define MAX_KERNELS 8
#define EMULATED_NOTE "emulated, not comparable"

struct matrix_cfg {
	const char *kernels;
	int accel;
	uint64_t timeout_s;
};

static const struct matrix_cfg defaults = {
	.kernels = "6.1,6.12,host", .accel = VM_ACCEL_AUTO, .timeout_s = 1800,
};

static const struct opt_desc matrix_opts[] = {
	{ "kernels", 'k', OPT_STR, offsetof(struct matrix_cfg, kernels), "LIST",
	  "comma-separated: 6.1, 6.12, a linux-image-* package, a vmlinuz path, host" },
	{ "accel", 0, OPT_ENUM, offsetof(struct matrix_cfg, accel), "A",
	  "for the guests: auto (KVM when it works), kvm, tcg", 0, 0, vm_accel_names },
	{ "timeout", 0, OPT_UINT, offsetof(struct matrix_cfg, timeout_s), "S",
	  "per kernel", 1, 86400 },
	OPT_END,
};

/* One kernel's run: its JSON document and how it ran. */
struct cell_run {
	const char *label;
	json_t *doc;
	json_t *info;   /* {"kernel", "release", "version"?, "accel", "accel_why", "emulated",
			 * "status", "error"?} */
};

static json_t *host_run(char **argv, uint64_t timeout_s, FILE *out, int *status)
{
	static char exe[PATH_MAX];
	const char *args[260] = { exe, "--json" };
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int n = 2;

	exe[len > 0 ? len : 0] = '\0';

	for (int i = 0; argv[i] && n < 257; i++)
		args[n++] = argv[i];
	/* Measuring commands queue behind another run measuring here (guests
	 * have their own lock): `check ... --wait`, `bench drop ... --wait`. */
	if (strcmp(argv[0], "env"))
		args[n++] = "--wait";
	args[n] = NULL;
	*status = vm_exec_fd(args, fileno(out), (int)(timeout_s * 1000));
	return json_pack("{s:s, s:s, s:s, s:b}", "kernel", "host", "release", kernel_release(),
			 "accel", "none", "emulated", 0);
}

static json_t *guest_run(const char *spec, const struct matrix_cfg *c, char **argv, FILE *out,
			 int *status)
{
	struct vm_opts o = { .accel = c->accel, .cpus = 2, .mem_mb = 1024, .out = out,
			     .boot_timeout_ms = 120000, .timeout_ms = c->timeout_s * 1000 };
	char err[512], *args[260] = { "--json" };
	struct vm_kernel k;
	struct vm_result r = { .accel = "none", .accel_why = "" };
	int n = 1, ret;

	for (int i = 0; argv[i] && n < 258; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	*status = -1;
	ret = vm_kernel_get(spec, &k, err, sizeof(err));
	if (!ret && !(ret = vm_run(&k, &o, args, &r)))
		*status = r.status;
	else if (!ret)
		snprintf(err, sizeof(err), "%s", r.error);
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s*}", "kernel", spec, "release", k.release,
			 "accel", r.accel, "accel_why", r.accel_why, "emulated", !strcmp(r.accel, "tcg"),
			 "error", *status < 0 ? err : NULL);
}

/* Run argv on one kernel; the JSON it printed (NULL when none). */
static void run_one(struct cell_run *cr, const struct matrix_cfg *c, char **argv)
{
	FILE *out = tmpfile();
	json_error_t jerr;
	json_t *ver;
	int status = -1;

	cr->doc = NULL;
	if (!out) {
		cr->info = json_pack("{s:s, s:s}", "kernel", cr->label, "error", strerror(errno));
		return;
	}
	pr_info("offloadlab matrix: %s ...\n", cr->label);
	cr->info = !strcmp(cr->label, "host") ? host_run(argv, c->timeout_s, out, &status)
					      : guest_run(cr->label, c, argv, out, &status);
	fflush(out);
	rewind(out);
	cr->doc = json_loadf(out, JSON_DISABLE_EOF_CHECK, &jerr);
	fclose(out);
	json_object_set_new(cr->info, "status", json_integer(status));
	/* the upstream version the checks' kernel ranges saw (env and check say it) */
	ver = json_object_get(json_object_get(cr->doc, "kernel"), "version");
	if (!ver)
		ver = json_object_get(json_array_get(json_object_get(cr->doc, "checks"), 0),
				      "kernel_version");
	if (json_is_string(ver))
		json_object_set(cr->info, "version", ver);
	if (!cr->doc && !json_object_get(cr->info, "error"))
		json_object_set_new(cr->info, "error", json_string("no JSON output"));
}

enum matrix_kind { KIND_ENV, KIND_CHECK, KIND_BENCH };

/* One kernel's cells: row name -> cell, from its document. */
static json_t *cells_of(enum matrix_kind kind, json_t *doc, bool emulated)
{
	json_t *cells = json_object(), *v;
	const char *key;
	size_t i;

	if (kind == KIND_ENV) {
		json_object_foreach(json_object_get(doc, "features"), key, v)
			json_object_set_new(cells, key, json_pack("{s:O?, s:O?}",
				"supported", json_object_get(v, "supported"),
				"reason", json_object_get(v, "reason")));
	} else if (kind == KIND_CHECK) {
		json_array_foreach(json_object_get(doc, "checks"), i, v)
			json_object_set_new(cells, json_string_value(json_object_get(v, "name")) ?: "?",
				json_pack("{s:O?, s:O?}", "status", json_object_get(v, "status"),
					  "reason", json_object_get(v, "reason")));
	} else {
		json_array_foreach(json_object_get(doc, "results"), i, v) {
			char row[256];
			const char *var = json_string_value(json_object_get(v, "variant"));

			snprintf(row, sizeof(row), "%s/%s%s%s %s",
				 json_string_value(json_object_get(v, "bench")) ?: "?",
				 json_string_value(json_object_get(v, "hook")) ?: "?",
				 var ? "/" : "", var ? var : "",
				 json_string_value(json_object_get(v, "metric")) ?: "?");
			json_object_set_new(cells, row, json_pack("{s:O?, s:O?, s:O?, s:s*}",
				"median", json_object_get(v, "median"), "ci95", json_object_get(v, "ci95"),
				"unit", json_object_get(v, "unit"),
				"note", emulated ? EMULATED_NOTE : NULL));
		}
	}
	return cells;
}

/* {"kernels": [info...], "rows": {row: {kernel: cell}}} */
static json_t *merge(enum matrix_kind kind, struct cell_run *runs, int n)
{
	json_t *kernels = json_array(), *rows = json_object(), *cell;
	const char *row;

	for (int k = 0; k < n; k++) {
		json_t *cells = cells_of(kind, runs[k].doc,
					 json_is_true(json_object_get(runs[k].info, "emulated")));

		json_array_append(kernels, runs[k].info);
		json_object_foreach(cells, row, cell) {
			json_t *r = json_object_get(rows, row);

			if (!r)
				json_object_set_new(rows, row, r = json_object());
			json_object_set(r, runs[k].label, cell);
		}
		json_decref(cells);
	}
	return json_pack("{s:s, s:o, s:o, s:s*}", "kind",
			 kind == KIND_ENV ? "env" : kind == KIND_CHECK ? "check" : "bench",
			 "kernels", kernels, "rows", rows, "ratios",
			 kind == KIND_BENCH ? "refused across kernels: emulated figures are not comparable"
					    : NULL);
}

/* A cell as text: "yes", "no: EINVAL", "pass", "skip", "12.3 us*" (emulated). */
static void cell_text(enum matrix_kind kind, json_t *cell, char *buf, size_t len)
{
	const char *reason = json_string_value(json_object_get(cell, "reason")) ?: "";

	if (!cell) {
		snprintf(buf, len, "-");
	} else if (kind == KIND_ENV) {
		bool yes = json_is_true(json_object_get(cell, "supported"));

		snprintf(buf, len, "%s%s%.*s", yes ? "yes" : "no", yes ? "" : ": ",
			 yes ? 0 : (int)strcspn(reason, ":"), reason);
	} else if (kind == KIND_CHECK) {
		snprintf(buf, len, "%s", json_string_value(json_object_get(cell, "status")) ?: "?");
	} else if (json_is_number(json_object_get(cell, "median"))) {
		double m = json_number_value(json_object_get(cell, "median"));
		const char *sfx = m >= 1e9 ? "G" : m >= 1e6 ? "M" : m >= 1e3 ? "k" : "";
		double div = m >= 1e9 ? 1e9 : m >= 1e6 ? 1e6 : m >= 1e3 ? 1e3 : 1;

		snprintf(buf, len, "%.4g%s %s%s", m / div, sfx,
			 json_string_value(json_object_get(cell, "unit")) ?: "",
			 json_object_get(cell, "note") ? "*" : "");
	} else {
		snprintf(buf, len, "n/a");
	}
}

static void print_kernels(json_t *kernels, FILE *f)
{
	json_t *k;
	size_t i;

	json_array_foreach(kernels, i, k) {
		const char *err = json_string_value(json_object_get(k, "error"));

		const char *why = json_string_value(json_object_get(k, "accel_why"));

		const char *ver = json_string_value(json_object_get(k, "version"));

		fprintf(f, "%-8s release %s%s%s%s, accel %s%s%s%s%s, exit %lld%s%s\n",
			json_string_value(json_object_get(k, "kernel")),
			json_string_value(json_object_get(k, "release")) ?: "?",
			ver ? " (" : "", ver ? ver : "", ver ? ")" : "",
			json_string_value(json_object_get(k, "accel")) ?: "?",
			json_is_true(json_object_get(k, "emulated")) ? " (emulated" : "",
			why && why[0] ? (json_is_true(json_object_get(k, "emulated")) ? ": " : " (")
				      : "",
			why && why[0] ? why : "",
			json_is_true(json_object_get(k, "emulated")) || (why && why[0]) ? ")" : "",
			json_integer_value(json_object_get(k, "status")), err ? ": " : "", err ? err : "");
	}
}

/* Each figure's median and 95 % CI, one line per kernel. */
static void print_cis(json_t *rows, struct cell_run *runs, int n, FILE *f)
{
	const char *row;
	json_t *r;

	fputc('\n', f);
	json_object_foreach(rows, row, r)
		for (int k = 0; k < n; k++) {
			json_t *c = json_object_get(r, runs[k].label), *ci = json_object_get(c, "ci95");

			if (!json_is_number(json_object_get(c, "median")))
				continue;
			fprintf(f, "%s %s: median %.6g, 95%% CI [%.6g, %.6g] %s%s\n", runs[k].label, row,
				json_number_value(json_object_get(c, "median")),
				json_number_value(json_array_get(ci, 0)),
				json_number_value(json_array_get(ci, 1)),
				json_string_value(json_object_get(c, "unit")) ?: "",
				json_object_get(c, "note") ? " (" EMULATED_NOTE ")" : "");
		}
}

static void print_table(enum matrix_kind kind, json_t *m, struct cell_run *runs, int n, FILE *f)
{
	json_t *rows = json_object_get(m, "rows"), *r;
	const char *row;
	char buf[64];

	print_kernels(json_object_get(m, "kernels"), f);
	fprintf(f, "\n%-30s", kind == KIND_ENV ? "FEATURE" : kind == KIND_CHECK ? "CHECK" : "FIGURE");
	for (int k = 0; k < n; k++)
		fprintf(f, k + 1 < n ? " %-18s" : " %s", runs[k].label);
	fputc('\n', f);
	json_object_foreach(rows, row, r) {
		fprintf(f, "%-30s", row);
		for (int k = 0; k < n; k++) {
			cell_text(kind, json_object_get(r, runs[k].label), buf, sizeof(buf));
			fprintf(f, k + 1 < n ? " %-18s" : " %s", buf);
		}
		fputc('\n', f);
	}
	for (int k = 0; kind == KIND_BENCH && k < n; k++)
		if (json_is_true(json_object_get(runs[k].info, "emulated"))) {
			fprintf(f, "\n* " EMULATED_NOTE " (TCG); no ratios across kernels\n");
			break;
		}
	if (kind == KIND_BENCH)
		print_cis(rows, runs, n, f);
	if (kind != KIND_CHECK)
		return;
	fputc('\n', f);
	json_object_foreach(rows, row, r)
		for (int k = 0; k < n; k++) {
			json_t *c = json_object_get(r, runs[k].label);
			const char *st = json_string_value(json_object_get(c, "status"));

			if (st && strcmp(st, "pass"))
				fprintf(f, "%s %s: %s: %s\n", runs[k].label, row, st,
					json_string_value(json_object_get(c, "reason")) ?: "");
		}
}

/* "6.1,6.12,host" into labels (in s, which is modified). */
static int parse_kernels(char *s, struct cell_run *runs)
{
	char *save = NULL;
	int n = 0;

	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == MAX_KERNELS)
			return cli_usage_error("matrix", "at most %d kernels", MAX_KERNELS);
		if (strcmp(t, "host") && !vm_kernel_spec_valid(t))
			return cli_usage_error("matrix", "kernel '%s': not 6.1, a package, a path or host", t);
		runs[n++].label = t;
	}
	return n ? -n : cli_usage_error("matrix", "--kernels is empty");
}

static int matrix_run(void *cfg, int argc, char **argv)
{
	const struct matrix_cfg *c = cfg;
	static const char *const kinds[] = { "env", "check", "bench" };
	struct cell_run runs[MAX_KERNELS] = { 0 };
	char list[512];
	int n, kind = -1, ret = EXIT_OK;
	json_t *m;

	for (int i = 0; argc > 0 && i < 3; i++)
		if (!strcmp(argv[0], kinds[i]))
			kind = i;
	if (kind < 0)
		return cli_usage_error("matrix", "give env, check or bench after --");
	snprintf(list, sizeof(list), "%s", c->kernels);
	if ((n = parse_kernels(list, runs)) >= 0)
		return n;
	n = -n;
	for (int k = 0; k < n && !run_stopping(); k++) {
		run_one(&runs[k], c, argv);
		if (!runs[k].doc || json_integer_value(json_object_get(runs[k].info, "status")))
			ret = EXIT_FAIL;
	}
	if (run_stopping())
		ret = EXIT_FAIL;
	m = merge(kind, runs, run_stopping() ? 0 : n);
	if (g_opts.json) {
		if (cli_json_out("matrix", m))
			ret = EXIT_FAIL;
	} else {
		print_table(kind, m, runs, run_stopping() ? 0 : n, stdout);
		json_decref(m);
	}
	for (int k = 0; k < n; k++) {
		json_decref(runs[k].doc);
		json_decref(runs[k].info);
	}
	return ret;
}

COMMAND(cmd_matrix, "matrix", 81, NEED_ALL, matrix_run,
	"run env, check or bench on several kernels (qemu) and merge the results",
	.args = " -- env|check|bench ...", CMD_OPTS(matrix_opts, struct matrix_cfg, &defaults));
