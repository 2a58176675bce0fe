/*
 * Kernel ranges on checks: an expectation that changed with a kernel
 * release (check.versioned) and the kernels a documented bug is in
 * (check.xfail_kernels), each with the commit or release note behind it.
 */
#include <stdio.h>
#include <string.h>
#include "checks/check.h"
#include "lib/kver.h"

bool check_kernels_match(const struct check_kernels *k, uint32_t kver)
{
	return !kver || kver_in_range(kver, k->since, k->until) != 0;
}

const char *check_kernels_text(const struct check_kernels *k, char *buf, size_t len)
{
	if (k->since && k->until)
		snprintf(buf, len, "%s to %s", k->since, k->until);
	else if (k->since)
		snprintf(buf, len, "%s and later", k->since);
	else if (k->until)
		snprintf(buf, len, "before %s", k->until);
	else
		snprintf(buf, len, "any");
	return buf;
}

static bool is_set(const struct check_kernels *k)
{
	return k->since || k->until;
}

bool check_xfail_kernel(const struct check *c, uint32_t kver, char *buf, size_t len)
{
	bool any = false, match = false;
	size_t n = 0;
	char one[64];

	buf[0] = '\0';
	for (int i = 0; i < CHECK_XFAIL_RANGES && is_set(&c->xfail_kernels[i]); i++) {
		any = true;
		match |= check_kernels_match(&c->xfail_kernels[i], kver);
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "",
			      check_kernels_text(&c->xfail_kernels[i], one, sizeof(one)));
	}
	return !any || match;
}

void check_expected_for(const struct check *c, uint32_t kver, char *buf, size_t len)
{
	snprintf(buf, len, "%s", c->expected);
	for (int i = 0; i < CHECK_VERSIONED_MAX && c->versioned[i].holds; i++) {
		const struct check_versioned *v = &c->versioned[i];
		char *at = strstr(buf, v->holds), rest[CHECK_TEXT_LEN];

		if (!at || check_kernels_match(&v->kernels, kver))
			continue;
		snprintf(rest, sizeof(rest), "%s", at + strlen(v->holds));
		snprintf(at, len - (size_t)(at - buf), "%s%s", v->otherwise, rest);
	}
}

static json_t *range_json(const char *applies_to, const struct check_kernels *k)
{
	char text[64];

	return json_pack("{s:s, s:s?, s:s?, s:s, s:s}", "applies_to", applies_to,
			 "since", k->since, "until", k->until, "ref", k->ref ?: "",
			 "text", check_kernels_text(k, text, sizeof(text)));
}

json_t *check_kernels_json(const struct check *c)
{
	json_t *arr = json_array();

	for (int i = 0; i < CHECK_VERSIONED_MAX && c->versioned[i].holds; i++) {
		json_t *e = range_json("expected", &c->versioned[i].kernels);

		json_object_set_new(e, "holds", json_string(c->versioned[i].holds));
		json_object_set_new(e, "otherwise", json_string(c->versioned[i].otherwise));
		json_array_append_new(arr, e);
	}
	for (int i = 0; i < CHECK_XFAIL_RANGES && is_set(&c->xfail_kernels[i]); i++)
		json_array_append_new(arr, range_json("xfail", &c->xfail_kernels[i]));
	return arr;
}
