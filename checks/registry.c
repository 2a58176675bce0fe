/*
 * The checks' registry: every check file adds itself to the linker section
 * olab_checks (DEFINE_CHECK, lib/registry.h); here they are listed in
 * order, found by name or glob, and their needs (features, tools, runtime)
 * are weighed against this machine.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/registry.h"
#include "lib/util.h"

REGISTRY_DECLARE(olab_checks);

/* By order, equal orders by name: the list never depends on link order. */
static struct registry checks = REGISTRY_TABLE(olab_checks, struct check, order, name);

size_t check_count(void)
{
	return registry_count(&checks);
}

const struct check *check_get(size_t i)
{
	return registry_get(&checks, i);
}

const struct check *check_by_name(const char *name)
{
	return registry_find(&checks, name);
}

bool check_matches(const struct check *c, const char *pattern)
{
	return c && pattern && (!strcmp(c->name, pattern) || !fnmatch(pattern, c->name, 0));
}

static bool tool_in_path(const char *tool, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[1024], file[1200], *save = NULL;

	/* root's usual sbin directories even when PATH lacks them */
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%.*s", d, (int)len, tool);
		if (!access(file, X_OK))
			return true;
	}
	return false;
}

static int features_met(const struct check *c, char *reason, size_t len)
{
	for (int f = 0; f < FEAT__COUNT; f++) {
		const struct feature_status *st;

		if (!(c->features & CHECK_FEAT(f)))
			continue;
		st = feature_probe(f);
		if (!st->supported) {
			snprintf(reason, len, "needs %s: %s", feature_name(f), st->reason);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int tools_met(const struct check *c, char *reason, size_t len)
{
	for (const char *t = c->tools; t && *t;) {
		size_t n = strcspn(t, " ");

		if (n && !tool_in_path(t, n)) {
			snprintf(reason, len, "needs the %.*s binary: not found in PATH", (int)n, t);
			return -EOPNOTSUPP;
		}
		t += n;
		t += strspn(t, " ");
	}
	return 0;
}

int check_needs_met(const struct check *c, enum app_runtime rt, char *reason, size_t len)
{
	reason[0] = '\0';
	if (rt == APP_RT_RUNC && !c->runc) {
		snprintf(reason, len, "%s", c->runc_skip ?: CHECK_RUNC_REASON);
		return -EOPNOTSUPP;
	}
	return features_met(c, reason, len) ?: tools_met(c, reason, len);
}
