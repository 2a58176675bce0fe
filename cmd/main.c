/* offloadlab: does offloading a socket application to eBPF pay, and does it still behave? */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cmd.h"
#include "lib/log.h"
#include "lib/registry.h"
#include "lib/util.h"
#include "version.h"

REGISTRY_DECLARE(olab_cmds);

static struct registry commands = REGISTRY_TABLE(olab_cmds, struct olab_cmd, order, name);

static int known_command(const struct olab_cmd **cmds, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(cmds[i]->name, name, strlen(name)))
			return 1;
	return 0;
}

static void usage(const struct olab_cmd **cmds, size_t n, FILE *f)
{
	fputs("Usage: offloadlab [-v] [-j] COMMAND [OPTIONS]\n"
	      "Measure what offloading a socket app to eBPF costs and gains, and check that\n"
	      "the offload still behaves in a real deployment.\n\nCommands:\n", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-12s %s\n", cmds[i]->name, cmds[i]->summary);
	fputs("\nGlobal options: -v/--verbose, -j/--json, -h/--help, --version\n"
	      "Exit status: 0 ok, 1 runtime failure or failed check, 2 usage.\n"
	      "Run 'offloadlab COMMAND --help' for a command's options.\n", f);
}

int main(int argc, char **argv)
{
	const struct olab_cmd *cmds[OLAB_MAX_CMDS];
	size_t n = 0;

	while (n < OLAB_MAX_CMDS && registry_get(&commands, n)) {
		cmds[n] = registry_get(&commands, n);
		n++;
	}
	int i = 1;

	log_hook_libbpf();

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			g_opts.verbose = true;
			log_set_level(LOG_DEBUG);
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			g_opts.json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(cmds, n, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("offloadlab %s (%s)\n", OLAB_VERSION, OLAB_GIT_REV);
			return EXIT_OK;
		} else {
			fprintf(stderr, "offloadlab: unknown option '%s'\n", argv[i]);
			usage(cmds, n, stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(cmds, n, stderr);
		return EXIT_USAGE;
	}
	if (!known_command(cmds, n, argv[i])) {
		fprintf(stderr, "offloadlab: unknown command '%s'\n", argv[i]);
		usage(cmds, n, stderr);
		return EXIT_USAGE;
	}
	return cli_dispatch(cmds, n, "", argc - i, argv + i);
}
