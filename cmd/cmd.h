/*
 * Command table.  Each cmd/X.c defines its commands with DEFINE_COMMAND, which
 * places them in a linker section: adding a command means adding a file.
 * Options are declarative (struct opt_desc) and parsed by cli_parse(), which
 * validates ranges and choices, so every command rejects bad input the same way.
 */
#ifndef OLAB_CMD_H
#define OLAB_CMD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "lib/registry.h"

enum opt_kind {
	OPT_FLAG,   /* bool */
	OPT_UINT,   /* uint64_t within [min, max] */
	OPT_STR,    /* const char * */
	OPT_ENUM,   /* int: index into choices */
	OPT_CPUS,   /* uint64_t CPU mask from "0,1" or "0-1" */
	OPT_MS,     /* uint64_t milliseconds from "2", "1.5" (seconds) or "300ms", within [min, max] */
};

struct opt_desc {
	const char *name;
	char short_name;
	enum opt_kind kind;
	size_t offset;          /* into the command's config struct */
	const char *metavar;
	const char *help;
	uint64_t min, max;
	const char *const *choices; /* NULL-terminated, OPT_ENUM */
};

#define OPT_END { 0 }

/* Capabilities a command needs before it touches anything. */
enum { NEED_BPF = 1, NEED_NET_ADMIN = 2, NEED_SYS_ADMIN = 4, NEED_ALL = 7,
       MEASURES = 8 /* takes the measurement lock (cli_measure_lock); --wait */ };

struct olab_global {
	bool json;
	bool verbose;
	bool wait;              /* --wait: queue behind another measuring run */
};
extern struct olab_global g_opts;

struct olab_cmd {
	const char *name;
	const char *summary;
	const char *args;               /* positional arguments, for usage */
	const struct opt_desc *opts;
	size_t cfg_size;
	const void *cfg_defaults;
	unsigned needs;                 /* NEED_* */
	int (*run)(void *cfg, int argc, char **argv);
	const struct olab_cmd *const *subcmds; /* NULL-terminated; nested table */
	int order;                      /* position in the command list */
};

/* The options of a command: parsed into a struct cfg_type, pre-filled from
 * defaults (may be NULL). */
#define CMD_OPTS(table, cfg_type, defaults) \
	.opts = (table), .cfg_size = sizeof(cfg_type), .cfg_defaults = (defaults)

/* A (sub)command: name, place in the list, NEED_* flags, run function (NULL
 * with .subcmds), one-line summary, then any other fields. */
#define CMD(sym, name_, order_, needs_, run_, summary_, ...) \
	static const struct olab_cmd sym = { .name = (name_), .order = (order_), \
		.needs = (needs_), .run = (run_), .summary = (summary_), __VA_ARGS__ }

/* A top-level command: defined and registered. */
#define COMMAND(sym, ...) CMD(sym, __VA_ARGS__); DEFINE_COMMAND(sym)

/* Top-level commands, in lib/registry.h's section olab_cmds, listed by
 * .order (give each command its own order: ties keep link order). */
#define DEFINE_COMMAND(sym) REGISTRY_ADD(olab_cmds, sym)
#define OLAB_MAX_CMDS 32

/* Parse argv for cmd into cfg (pre-filled with defaults); return index of
 * the first positional argument, or -1 after printing one line (usage error),
 * or -2 when --help was printed. */
int cli_parse(const struct olab_cmd *cmd, const char *path, void *cfg, int argc, char **argv);
/* Options may also follow the positional arguments (`check 'xdp-*' --json`):
 * parse each run of them in place and keep only the positional ones in argv.
 * New argc, or -1 after a usage error, -2 after --help. */
int cli_parse_interleaved(const struct olab_cmd *cmd, const char *path, void *cfg, int argc,
			  char **argv);
void cli_usage(const struct olab_cmd *cmd, const char *path, FILE *f);
/* Run a command (resolving subcommands); returns the exit status. */
int cli_dispatch(const struct olab_cmd *const *table, size_t n, const char *path,
		 int argc, char **argv);
/* Check capabilities; print one line naming what is missing. */
int cli_check_caps(const char *path, unsigned needs);
/* Take the machine-wide measurement lock before measuring: 0, or
 * EXIT_FAIL after one line (another run measures and no --wait; a stop
 * signal while waiting). */
int cli_measure_lock(const char *path);
/* {"lock": "exclusive", "waited_ms", "waited_for", "other_live_runs"}: recorded
 * with results, so they say whether anything else was measuring. */
struct json_t;
struct json_t *cli_measure_json(void);
/* Write doc (may be NULL: fails) to stdout with json_out and drop it:
 * EXIT_OK, or EXIT_FAIL after one line on stderr. */
int cli_json_out(const char *path, struct json_t *doc);
/* Print "offloadlab <path>: <msg>" and return EXIT_USAGE. */
int cli_usage_error(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
