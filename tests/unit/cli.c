#include <stddef.h>
#include <stdint.h>
#include "cmd/cmd.h"
#include "tests/test.h"

struct fake_cfg {
	uint64_t size;
	int hook;
	bool hold;
	const char *out;
	uint64_t cpus;
};

static const char *const hooks[] = { "xdp", "tc", NULL };
static const struct opt_desc fake_opts[] = {
	{ "size", 's', OPT_UINT, offsetof(struct fake_cfg, size), "BYTES", "frame size", 64, 1500 },
	{ "hook", 0, OPT_ENUM, offsetof(struct fake_cfg, hook), "HOOK", "hook", 0, 0, hooks },
	{ "hold", 0, OPT_FLAG, offsetof(struct fake_cfg, hold), NULL, "hold" },
	{ "out", 'o', OPT_STR, offsetof(struct fake_cfg, out), "DIR", "output" },
	{ "cpus", 0, OPT_CPUS, offsetof(struct fake_cfg, cpus), "LIST", "cpus" },
	OPT_END,
};
static const struct olab_cmd fake = { .name = "fake", .summary = "x", .opts = fake_opts,
				      .args = " [NAME...]", .cfg_size = sizeof(struct fake_cfg) };

static int parse(struct fake_cfg *c, int argc, char **argv)
{
	memset(c, 0, sizeof(*c));
	return cli_parse(&fake, "fake", c, argc, argv);
}

OLAB_TEST(cli_parse_options)
{
	char *argv[] = { "fake", "--size", "128", "--hook=tc", "--hold", "-o", "/x", "--cpus", "0",
			 "pos", NULL };
	struct fake_cfg c;
	int first = parse(&c, 10, argv);

	ASSERT_EQ(first, 9, "first positional");
	ASSERT_EQ(c.size, 128, "size");
	ASSERT_EQ(c.hook, 1, "hook index");
	ASSERT_TRUE(c.hold, "flag");
	ASSERT_STREQ(c.out, "/x", "string");
	ASSERT_EQ(c.cpus, 1, "cpu mask");
}

OLAB_TEST(cli_parse_rejects_bad_input)
{
	char *range[] = { "fake", "--size", "63", NULL };
	char *junk[] = { "fake", "--size", "6x", NULL };
	char *hook[] = { "fake", "--hook", "bogus", NULL };
	char *unknown[] = { "fake", "--nope", NULL };
	char *missing[] = { "fake", "--size", NULL };
	char *cpus[] = { "fake", "--cpus", "63", NULL };
	struct fake_cfg c;

	ASSERT_EQ(parse(&c, 3, range), -1, "size below range");
	ASSERT_EQ(parse(&c, 3, junk), -1, "size not a number");
	ASSERT_EQ(parse(&c, 3, hook), -1, "unknown enum");
	ASSERT_EQ(parse(&c, 2, unknown), -1, "unknown option");
	ASSERT_EQ(parse(&c, 2, missing), -1, "missing argument");
	ASSERT_EQ(parse(&c, 3, cpus), -1, "cpu not on this machine");
}

OLAB_TEST(cli_help_returns_minus_two)
{
	char *argv[] = { "fake", "--help", NULL };
	struct fake_cfg c;

	ASSERT_EQ(parse(&c, 2, argv), -2, "help");
}

REGISTRY_DECLARE(olab_cmds);

/* The command list is sorted by .order, and no two commands share one (a tie
 * would fall back to link order). */
OLAB_TEST(cli_commands_load_in_order)
{
	const struct olab_cmd *cmds[OLAB_MAX_CMDS];
	size_t n = REGISTRY_LOAD(olab_cmds, struct olab_cmd, order, cmds, OLAB_MAX_CMDS);

	ASSERT_GE(n, 9, "top-level commands");
	ASSERT_LT(n, OLAB_MAX_CMDS, "room for more");
	ASSERT_STREQ(cmds[0]->name, "env", "first command");
	ASSERT_STREQ(cmds[n - 1]->name, "clean", "last command");
	for (size_t i = 1; i < n; i++)
		ASSERT_LT(cmds[i - 1]->order, cmds[i]->order, cmds[i]->name);
}
