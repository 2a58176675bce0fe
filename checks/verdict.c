/*
 * Verdicts: a check's observed text against its expected one.  Equal is
 * pass; a skip or an error says so; a difference confined to the phases a
 * documented kernel bug names is xfail; any other difference is fail.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "checks/verdict.h"
#include "lib/kver.h"

static const char *const status_names[CHECK_STATUS__COUNT] = {
	[CHECK_PASS] = "pass", [CHECK_FAIL] = "fail", [CHECK_SKIP] = "skip", [CHECK_XFAIL] = "xfail",
};

const char *check_status_name(enum check_status s)
{
	return (unsigned)s < CHECK_STATUS__COUNT ? status_names[s] : "?";
}

void check_detail_value(const char *details, const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);

	buf[0] = '\0';
	for (const char *p = details; p && *p; p = strchr(p, ' ')) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, len, "%.*s", (int)strcspn(p + klen + 1, " "), p + klen + 1);
			return;
		}
	}
}

bool check_phase_details(const char *s, const char *name, char *buf, size_t len)
{
	size_t nlen = strlen(name);

	for (const char *p = s; p && *p; p = strstr(p, "; ")) {
		while (*p == ';' || *p == ' ')
			p++;
		if (!strncmp(p, name, nlen) && p[nlen] == ':') {
			p += nlen + 1;
			while (*p == ' ')
				p++;
			snprintf(buf, len, "%.*s", (int)(strstr(p, "; ") ? strstr(p, "; ") - p
							: (ptrdiff_t)strlen(p)), p);
			return true;
		}
	}
	return false;
}

/* Is phase name in the comma-separated list phases? */
static bool phase_listed(const char *phases, const char *name)
{
	char list[CHECK_REASON_LEN], *save = NULL;

	snprintf(list, sizeof(list), "%s", phases);
	for (char *ph = strtok_r(list, ",", &save); ph; ph = strtok_r(NULL, ",", &save))
		if (!strcmp(ph, name))
			return true;
	return false;
}

/* Is every phase where observed and expected differ named in phases? */
static bool only_phases_differ(const char *expected, const char *observed, const char *phases)
{
	const char *sides[2] = { expected, observed };

	for (int side = 0; side < 2; side++) {
		char buf[CHECK_TEXT_LEN], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", sides[side]);
		for (char *it = strtok_r(buf, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
			char name[128], a[CHECK_TEXT_LEN], b[CHECK_TEXT_LEN];

			while (*it == ' ')
				it++;
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(it, ":"), it);
			if (check_phase_details(expected, name, a, sizeof(a)) &&
			    check_phase_details(observed, name, b, sizeof(b)) && !strcmp(a, b))
				continue;
			if (!phase_listed(phases, name))
				return false;
		}
	}
	return true;
}

/* A string member of doc into buf ("" when absent). */
static void text_of(const json_t *doc, const char *key, char *buf, size_t len)
{
	snprintf(buf, len, "%s", json_string_value(json_object_get(doc, key)) ?: "");
}

/* What a documented kernel bug explains is an xfail on the kernels it is
 * in, and a fail on any other (the bug is not expected there). */
static void xfail_in_range(struct check_result *r, const char *xfail, const char *phases)
{
	char v[32], ranges[160];

	if (!r->check || check_xfail_kernel(r->check, r->kver, ranges, sizeof(ranges))) {
		r->status = CHECK_XFAIL;
		snprintf(r->reason, sizeof(r->reason), "%.190s (seen in: %.50s)", xfail, phases);
		return;
	}
	r->status = CHECK_FAIL;
	snprintf(r->reason, sizeof(r->reason),
		 "observed differs from expected (in: %.40s) as the known kernel bug would make it, "
		 "but kernel %s is outside the bug's ranges (%.90s)", phases,
		 kver_str(r->kver, v, sizeof(v)), ranges);
}

void check_verdict_from_report(struct check_result *r, const char *text)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	char xfail[CHECK_REASON_LEN], skip[CHECK_REASON_LEN], error[CHECK_REASON_LEN];
	char xfail_phases[CHECK_REASON_LEN];

	if (!doc) {
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "the check ended without a report%s",
			 text[0] ? " (unreadable)" : "");
		return;
	}
	text_of(doc, "expected", r->expected, sizeof(r->expected));
	text_of(doc, "observed", r->observed, sizeof(r->observed));
	text_of(doc, "xfail", xfail, sizeof(xfail));
	text_of(doc, "xfail_phases", xfail_phases, sizeof(xfail_phases));
	text_of(doc, "skip", skip, sizeof(skip));
	text_of(doc, "error", error, sizeof(error));
	r->counters = json_incref(json_object_get(doc, "counters"));
	r->cpu_idle = json_incref(json_object_get(doc, "cpu_idle"));
	json_decref(doc);

	if (skip[0]) {
		r->status = CHECK_SKIP;
		snprintf(r->reason, sizeof(r->reason), "%s", skip);
	} else if (error[0]) {
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "%s", error);
	} else if (!strcmp(r->observed, r->expected)) {
		r->status = CHECK_PASS;
	} else if (xfail[0] && only_phases_differ(r->expected, r->observed, xfail_phases)) {
		xfail_in_range(r, xfail, xfail_phases);
	} else {
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "observed differs from expected");
	}
}
