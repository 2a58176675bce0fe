#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/json_out.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

struct olab_global g_opts;

static const struct opt_desc common_opts[] = {
	{ "json", 'j', OPT_FLAG, 0, NULL, "machine-readable JSON on stdout" },
	{ "verbose", 'v', OPT_FLAG, 0, NULL, "debug and libbpf output" },
	{ "help", 'h', OPT_FLAG, 0, NULL, "show this help" },
	{ "wait", 0, OPT_FLAG, 0, NULL,
	  "when another run is measuring on this machine, wait for it instead of refusing" },
};

json_t *cli_measure_json(void)
{
	const struct run_measure_info *m = run_measure_info();

	return json_pack("{s:s, s:b, s:I, s:i, s:i, s:s}",
			 "lock", m->held ? "exclusive" : "not taken", "waited", m->waited,
			 "waited_ms", (json_int_t)m->waited_ms, "waited_for", (int)m->waited_for,
			 "other_live_runs", m->other_live_runs,
			 "note", m->held ? "no other offloadlab run measured while this one held the "
					   "lock; other_live_runs were alive without measuring"
					 : "the lock was not taken: other runs may have measured too");
}

static bool common_applies(const struct olab_cmd *cmd, const struct opt_desc *o)
{
	return strcmp(o->name, "wait") || (cmd->needs & MEASURES);
}

int cli_measure_lock(const char *path)
{
	pid_t holder = 0;
	int err = run_measure_lock(false, &holder);

	if (err == -EWOULDBLOCK && g_opts.wait) {
		pr_warn("offloadlab %s: waiting for run %d to finish measuring\n", path, (int)holder);
		err = run_measure_lock(true, &holder);
	}
	if (!err)
		return 0;
	if (err == -EWOULDBLOCK)
		fprintf(stderr, "offloadlab %s: another run (pid %d) is measuring on this machine; "
			"add --wait to queue behind it\n", path, (int)holder);
	else
		fprintf(stderr, "offloadlab %s: measurement lock: %s\n", path, strerror(-err));
	return EXIT_FAIL;
}

int cli_json_out(const char *path, json_t *doc)
{
	int err = json_out(doc);

	json_decref(doc);
	if (err) {
		fprintf(stderr, "offloadlab %s: cannot write JSON\n", path);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int cli_usage_error(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "offloadlab %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void print_opt(FILE *f, const struct opt_desc *o)
{
	char left[64];
	int n;

	if (o->short_name)
		n = snprintf(left, sizeof(left), "  -%c, --%s", o->short_name, o->name);
	else
		n = snprintf(left, sizeof(left), "      --%s", o->name);
	if (o->kind != OPT_FLAG && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - n, " %s", o->metavar ? o->metavar : "ARG");
	fprintf(f, "%-30s %s", left, o->help ? o->help : "");
	if (o->kind == OPT_MS && o->max)
		fprintf(f, " (%.3g..%.3g s)", o->min / 1e3, o->max / 1e3);
	if (o->kind == OPT_UINT && o->max)
		fprintf(f, " (%llu..%llu)", (unsigned long long)o->min, (unsigned long long)o->max);
	/* OPT_STR with choices: a comma list of them. */
	if ((o->kind == OPT_ENUM || o->kind == OPT_STR) && o->choices) {
		fputs(" (", f);
		for (int i = 0; o->choices[i]; i++)
			fprintf(f, "%s%s", i ? "|" : "", o->choices[i]);
		fputc(')', f);
	}
	fputc('\n', f);
}

void cli_usage(const struct olab_cmd *cmd, const char *path, FILE *f)
{
	fprintf(f, "Usage: offloadlab %s%s%s%s\n", path,
		cmd->subcmds ? " COMMAND" : "", cmd->opts || !cmd->subcmds ? " [OPTIONS]" : "",
		cmd->args ? cmd->args : "");
	if (cmd->summary)
		fprintf(f, "%s\n", cmd->summary);
	if (cmd->subcmds) {
		fputs("\nCommands:\n", f);
		for (int i = 0; cmd->subcmds[i]; i++)
			fprintf(f, "  %-12s %s\n", cmd->subcmds[i]->name, cmd->subcmds[i]->summary);
	}
	fputs("\nOptions:\n", f);
	for (const struct opt_desc *o = cmd->opts; o && o->name; o++)
		print_opt(f, o);
	for (size_t i = 0; i < ARRAY_SIZE(common_opts); i++)
		if (common_applies(cmd, &common_opts[i]))
			print_opt(f, &common_opts[i]);
}

static int set_opt(const struct opt_desc *o, const char *path, void *cfg, const char *arg)
{
	char *field = (char *)cfg + o->offset;
	uint64_t v;
	int err;

	switch (o->kind) {
	case OPT_FLAG:
		*(bool *)field = true;
		return 0;
	case OPT_STR:
		*(const char **)field = arg;
		return 0;
	case OPT_UINT:
		err = parse_u64(arg, o->min, o->max ? o->max : UINT64_MAX, &v);
		if (err == -ERANGE)
			return cli_usage_error(path, "--%s %s is out of range %llu..%llu: %s", o->name,
					       arg, (unsigned long long)o->min,
					       (unsigned long long)o->max, o->help ? o->help : "");
		if (err)
			return cli_usage_error(path, "--%s needs a number, not '%s'", o->name, arg);
		*(uint64_t *)field = v;
		return 0;
	case OPT_MS:
		err = parse_duration_ms(arg, &v);
		if (!err && (v < o->min || (o->max && v > o->max)))
			err = -ERANGE;
		if (err)
			return cli_usage_error(path, "--%s '%s' is not a duration in %.3g..%.3g s", o->name,
					       arg, o->min / 1e3, o->max / 1e3);
		*(uint64_t *)field = v;
		return 0;
	case OPT_CPUS:
		err = parse_cpu_list(arg, &v);
		if (!err && cpu_count() < 64 && (v >> cpu_count()))
			err = -ERANGE;
		if (err)
			return cli_usage_error(path, "--%s '%s' is not a CPU list of this machine (0..%d)",
					       o->name, arg, cpu_count() - 1);
		*(uint64_t *)field = v;
		return 0;
	case OPT_ENUM:
		for (int i = 0; o->choices[i]; i++) {
			if (!strcmp(o->choices[i], arg)) {
				*(int *)field = i;
				return 0;
			}
		}
		fprintf(stderr, "offloadlab %s: unknown --%s '%s' (choose one of:", path, o->name, arg);
		for (int i = 0; o->choices[i]; i++)
			fprintf(stderr, " %s", o->choices[i]);
		fputs(")\n", stderr);
		return EXIT_USAGE;
	}
	return EXIT_USAGE;
}

int cli_parse_interleaved(const struct olab_cmd *cmd, const char *path, void *cfg, int argc,
			  char **argv)
{
	char *sub[64];
	int kept = 0;

	for (int i = 0; i < argc;) {
		int k, used;

		/* "-" alone is positional, never an option. */
		if (argv[i][0] != '-' || !argv[i][1]) {
			argv[kept++] = argv[i++];
			continue;
		}
		sub[0] = (char *)path;
		for (k = 1; i + k - 1 < argc && k < (int)ARRAY_SIZE(sub) - 1; k++)
			sub[k] = argv[i + k - 1];
		sub[k] = NULL;
		used = cli_parse(cmd, path, cfg, k, sub);
		if (used < 0)
			return used;
		i += used - 1;
	}
	return kept;
}

int cli_parse(const struct olab_cmd *cmd, const char *path, void *cfg, int argc, char **argv)
{
	struct option lopts[64];
	const struct opt_desc *map[64];
	char sopts[160] = "+";
	size_t n = 0, sl = 1;
	int c, idx;

	for (const struct opt_desc *o = cmd->opts; o && o->name && n < 60; o++)
		map[n++] = o;
	for (size_t i = 0; i < ARRAY_SIZE(common_opts); i++)
		if (common_applies(cmd, &common_opts[i]))
			map[n++] = &common_opts[i];
	for (size_t i = 0; i < n; i++) {
		lopts[i] = (struct option){ map[i]->name,
					    map[i]->kind == OPT_FLAG ? no_argument : required_argument,
					    NULL, 256 + (int)i };
		if (map[i]->short_name && sl + 3 < sizeof(sopts)) {
			sopts[sl++] = map[i]->short_name;
			if (map[i]->kind != OPT_FLAG)
				sopts[sl++] = ':';
		}
	}
	lopts[n] = (struct option){ 0 };
	sopts[sl] = '\0';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, sopts, lopts, &idx)) != -1) {
		const struct opt_desc *o = NULL;

		if (c >= 256)
			o = map[c - 256];
		else if (c != '?' && c != ':')
			for (size_t i = 0; i < n; i++)
				if (map[i]->short_name == c)
					o = map[i];
		if (!o) {
			if (c == ':' || (optopt && strchr(sopts, optopt)))
				cli_usage_error(path, "option '%s' needs an argument", argv[optind - 1]);
			else
				cli_usage_error(path, "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
		if (o >= common_opts && o < common_opts + ARRAY_SIZE(common_opts)) {
			if (!strcmp(o->name, "help")) {
				cli_usage(cmd, path, stdout);
				return -2;
			}
			if (!strcmp(o->name, "json"))
				g_opts.json = true;
			if (!strcmp(o->name, "wait"))
				g_opts.wait = true;
			if (!strcmp(o->name, "verbose")) {
				g_opts.verbose = true;
				log_set_level(LOG_DEBUG);
			}
			continue;
		}
		if (set_opt(o, path, cfg, optarg))
			return -1;
	}
	return optind;
}

int cli_check_caps(const char *path, unsigned needs)
{
	static const struct { unsigned need; cap_value_t cap; const char *name; } caps[] = {
		{ NEED_BPF, CAP_BPF, "CAP_BPF" },
		{ NEED_NET_ADMIN, CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ NEED_SYS_ADMIN, CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	};
	char missing[128] = "";
	cap_t cur = cap_get_proc();

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (!(needs & caps[i].need))
			continue;
		if (!cur || cap_get_flag(cur, caps[i].cap, CAP_EFFECTIVE, &v) || v != CAP_SET) {
			if (missing[0])
				strcat(missing, ", ");
			strcat(missing, caps[i].name);
		}
	}
	cap_free(cur);
	if (!missing[0])
		return 0;
	fprintf(stderr, "offloadlab %s: missing capability %s (run as root)\n", path, missing);
	return EXIT_FAIL;
}

/* Exact name, else a unique prefix. */
static const struct olab_cmd *find_cmd(const struct olab_cmd *const *table, size_t n,
				       const char *name, bool *ambiguous)
{
	const struct olab_cmd *hit = NULL;
	size_t len = strlen(name);

	*ambiguous = false;
	for (size_t i = 0; i < n; i++)
		if (table[i] && !strcmp(table[i]->name, name))
			return table[i];
	for (size_t i = 0; i < n && len; i++) {
		if (!table[i] || strncmp(table[i]->name, name, len))
			continue;
		if (hit)
			*ambiguous = true;
		hit = table[i];
	}
	return *ambiguous ? NULL : hit;
}

int cli_dispatch(const struct olab_cmd *const *table, size_t n, const char *path,
		 int argc, char **argv)
{
	const struct olab_cmd *cmd;
	char sub_path[128];
	bool ambiguous;
	void *cfg;
	int first, ret;

	if (argc < 1)
		return EXIT_USAGE;
	cmd = find_cmd(table, n, argv[0], &ambiguous);
	if (!cmd) {
		cli_usage_error(path[0] ? path : argv[0], "%s command '%s'",
				ambiguous ? "ambiguous" : "unknown", argv[0]);
		return EXIT_USAGE;
	}
	snprintf(sub_path, sizeof(sub_path), "%s%s%s", path, path[0] ? " " : "", cmd->name);

	if (cmd->subcmds) {
		size_t ns = 0;

		while (cmd->subcmds[ns])
			ns++;
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			cli_usage(cmd, sub_path, stdout);
			return EXIT_OK;
		}
		if (argc >= 2 && argv[1][0] == '-')
			return cli_usage_error(sub_path, "unknown option '%s'", argv[1]);
		if (argc < 2) {
			cli_usage(cmd, sub_path, stderr);
			return EXIT_USAGE;
		}
		return cli_dispatch(cmd->subcmds, ns, sub_path, argc - 1, argv + 1);
	}

	cfg = calloc(1, cmd->cfg_size ? cmd->cfg_size : 1);
	if (!cfg)
		return EXIT_FAIL;
	if (cmd->cfg_defaults)
		memcpy(cfg, cmd->cfg_defaults, cmd->cfg_size);
	first = cli_parse(cmd, sub_path, cfg, argc, argv);
	if (first == -2) {
		ret = EXIT_OK;
	} else if (first < 0) {
		ret = EXIT_USAGE;
	} else if (!cmd->args && first < argc) {
		ret = cli_usage_error(sub_path, "unexpected argument '%s'", argv[first]);
	} else if ((ret = cli_check_caps(sub_path, cmd->needs)) == 0) {
		if (cmd->needs && run_init())
			ret = EXIT_FAIL;
		else
			ret = cmd->run(cfg, argc - first, argv + first);
	}
	free(cfg);
	return ret;
}
