/*
 * The hook table, entry by entry (one subtest each): every fact a bench or a
 * check asks of a hook is there and agrees with the others.  Nothing here
 * names a hook, so a new table entry is tested with no edit.
 */
#include <errno.h>
#include <string.h>
#include "lib/apps.h"
#include "lib/features.h"
#include "lib/hooks.h"
#include "lib/util.h"
#include "tests/test.h"

#define PORT 7777

/* The program lookup: "<family>_<action>" for each action it has, and
 * those programs exist in hooks.bpf.c. */
static void check_programs(const struct hook_desc *h)
{
	char prog[64];

	for (int a = 0; a < HOOK_ACTION__COUNT; a++) {
		bool has = hook_has_program(h) || a == HOOK_EMPTY;

		ASSERT_EQ(hook_has_action(h, a), has, "actions: all, or a baseline's empty");
		if (!hook_has_program(h)) {
			ASSERT_EQ(hook_prog_name(h, a, prog, sizeof(prog)), -EINVAL, "no program name");
			continue;
		}
		if (ASSERT_OK(hook_prog_name(h, a, prog, sizeof(prog)), "program name"))
			ASSERT_TRUE(!strncmp(prog, h->family, strlen(h->family)) &&
				    !strcmp(prog + strlen(h->family) + 1, hook_action_name(a)),
				    "\"<family>_<action>\"");
	}
	if (hook_has_program(h))
		ASSERT_TRUE(hook_programs_present(h), "its programs are in hooks.bpf.c");
}

static void check_entry(size_t i, const struct hook_desc *h)
{
	bool prog = hook_has_program(h);

	ASSERT_TRUE(h->name && *h->name && h->summary && h->attach_mode && h->reply_at,
		    "named and described");
	ASSERT_TRUE(hook_by_name(h->name) == h, "found by its name: names are unique");
	ASSERT_TRUE(hook_get(i) == h, "hook_get");
	ASSERT_TRUE(hook_proto_name(h->proto) != NULL, "a known protocol");
	ASSERT_EQ(hook_is_tcp(h), h->proto == HOOK_PROTO_TCP, "hook_is_tcp");
	ASSERT_TRUE(hook_sees_proto(h, h->proto), "sees its own traffic");
	ASSERT_EQ(prog, h->attach != NULL && h->detach != NULL, "attach iff program");
	ASSERT_EQ(prog, h->feature >= 0, "feature iff program");
	ASSERT_EQ(prog, h->family != NULL, "program family iff program");
	ASSERT_EQ(prog, hook_on_device(h) || hook_on_sockmap(h), "a program is somewhere");
	ASSERT_FALSE(hook_on_device(h) && hook_on_sockmap(h), "in one place");
	if (h->feature >= 0)
		ASSERT_TRUE(feature_name(h->feature) != NULL, "its feature is a known one");
	if (hook_on_device(h))
		ASSERT_TRUE(h->query != NULL, "device hooks can be queried");
	ASSERT_TRUE(!h->test_run || prog, "test_run needs a program");
	ASSERT_TRUE(h->test_run || (h->no_test_run && *h->no_test_run), "why no test_run");
	ASSERT_TRUE(!h->peer_needs_xdp || hook_on_device(h), "peer XDP: device hooks only");
	ASSERT_TRUE(!h->parser || hook_on_sockmap(h), "a parser is on a sockmap");
	check_programs(h);
}

OLAB_TEST(hooks_table)
{
	struct hook_inst *hi;

	ASSERT_GT(hook_count(), 0, "hooks");
	for (size_t i = 0; i < hook_count(); i++) {
		const struct hook_desc *h = hook_get(i);

		if (ASSERT_OK_PTR(h, "hook_get") && test_subtest("%s", h->name))
			check_entry(i, h);
	}
	if (!test_subtest("lookups"))
		return;
	ASSERT_TRUE(hook_get(hook_count()) == NULL, "past the end");
	ASSERT_TRUE(hook_by_name("nope") == NULL, "unknown hook");
	ASSERT_TRUE(hook_by_name(NULL) == NULL, "NULL");
	ASSERT_STREQ(hook_proto_name(HOOK_PROTO_UDP), "udp", "udp");
	ASSERT_STREQ(hook_proto_name(HOOK_PROTO_TCP), "tcp", "tcp");
	ASSERT_TRUE(hook_proto_name((enum hook_proto)99) == NULL, "unknown protocol");
	ASSERT_EQ(hook_action_by_name("count-pass"), HOOK_COUNT_PASS, "count-pass");
	ASSERT_EQ(hook_action_by_name("echo"), HOOK_ECHO, "echo");
	ASSERT_EQ(hook_action_by_name("bounce"), -EINVAL, "unknown action");
	ASSERT_STREQ(hook_action_name(HOOK_DROP), "drop", "action name");
	ASSERT_EQ(app_kind_by_name("tcp-echo"), APP_TCP_ECHO, "app kind");
	ASSERT_EQ(app_kind_by_name("tcp"), -EINVAL, "unknown app kind");
	/* Never the root namespace, never without one: refused before any bpf(). */
	for (size_t i = 0; i < hook_count(); i++) {
		const struct hook_desc *h = hook_get(i);

		if (!hook_on_device(h))
			continue;
		ASSERT_EQ(hook_attach(h, HOOK_DROP, NULL, "lo", PORT, &hi), -EINVAL,
			  "device hook without a namespace");
		ASSERT_TRUE(hi == NULL, "no instance on failure");
	}
}
