/*
 * The checks' three outputs: the terminal matrix (with expected, observed
 * and what differs for every failure), the JSON document, and JUnit XML
 * through libxml2's xmlwriter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libxml/xmlwriter.h>
#include "checks/check.h"
#include "checks/verdict.h"
#include "lib/kver.h"
#include "lib/util.h"

/* ---- JSON ---- */

static json_t *result_json(const struct check_result *r)
{
	char v[32];
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:b}",
			      "name", r->check->name,
			      "summary", r->check->summary,
			      "status", check_status_name(r->status),
			      "expected", r->expected,
			      "observed", r->observed,
			      "runtime", app_runtime_name(r->runtime),
			      "reason", r->reason,
			      "reference", r->check->reference ?: "",
			      "seconds", r->seconds,
			      "sabotage", r->sabotage);

	if (e && r->kver)
		json_object_set_new(e, "kernel_version",
				    json_string(kver_str(r->kver, v, sizeof(v))));
	if (e && r->counters)
		json_object_set(e, "counters", r->counters);
	if (e && r->cpu_idle)
		json_object_set(e, "cpu_idle", r->cpu_idle);
	return e;
}

json_t *check_results_json(const struct check_result *r, size_t n)
{
	json_t *arr = json_array(), *totals = json_object();
	int count[CHECK_STATUS__COUNT] = { 0 };

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, result_json(&r[i]));
		count[r[i].status]++;
	}
	for (int s = 0; s < CHECK_STATUS__COUNT; s++)
		json_object_set_new(totals, check_status_name(s), json_integer(count[s]));
	return json_pack("{s:o, s:o, s:s}", "checks", arr, "totals", totals,
			 "kernel", kernel_release());
}

/* ---- JUnit XML ---- */

#define XW(call) do { if ((call) < 0) return -EIO; } while (0)

/* tests, failures, skipped (skip and xfail) and time of an element. */
static int junit_totals(xmlTextWriterPtr w, const struct check_result *r, size_t n)
{
	int count[CHECK_STATUS__COUNT] = { 0 };
	double total = 0;

	for (size_t i = 0; i < n; i++) {
		count[r[i].status]++;
		total += r[i].seconds;
	}
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "tests", "%zu", n));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "failures", "%d", count[CHECK_FAIL]));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "skipped", "%d",
					     count[CHECK_SKIP] + count[CHECK_XFAIL]));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "time", "%.3f", total));
	return 0;
}

/* <testsuites><testsuite ...><properties/>, left open. */
static int junit_open(xmlTextWriterPtr w, const struct check_result *r, size_t n)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	XW(xmlTextWriterSetIndent(w, 1));
	XW(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
	XW(xmlTextWriterStartElement(w, BAD_CAST "testsuites"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "offloadlab check"));
	XW(junit_totals(w, r, n));
	XW(xmlTextWriterStartElement(w, BAD_CAST "testsuite"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "offloadlab.check"));
	XW(junit_totals(w, r, n));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "errors", BAD_CAST "0"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "timestamp", BAD_CAST stamp));
	XW(xmlTextWriterStartElement(w, BAD_CAST "properties"));
	XW(xmlTextWriterStartElement(w, BAD_CAST "property"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "kernel"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "value", BAD_CAST kernel_release()));
	XW(xmlTextWriterEndElement(w));
	XW(xmlTextWriterEndElement(w));
	return 0;
}

/* <failure> with expected, observed and counters, or <skipped>. */
static int junit_outcome(xmlTextWriterPtr w, const struct check_result *c)
{
	char msg[CHECK_REASON_LEN + 16];

	if (c->status == CHECK_FAIL) {
		char *counters = c->counters ? json_dumps(c->counters, JSON_COMPACT) : NULL;
		int err;

		XW(xmlTextWriterStartElement(w, BAD_CAST "failure"));
		XW(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "fail"));
		XW(xmlTextWriterWriteAttribute(w, BAD_CAST "message", BAD_CAST c->reason));
		err = xmlTextWriterWriteFormatString(w, "expected: %s\nobserved: %s\ncounters: %s\n",
						     c->expected, c->observed,
						     counters ? counters : "{}");
		free(counters);
		XW(err);
		XW(xmlTextWriterEndElement(w));
	} else if (c->status == CHECK_SKIP || c->status == CHECK_XFAIL) {
		snprintf(msg, sizeof(msg), "%s%s", c->status == CHECK_XFAIL ? "xfail: " : "",
			 c->reason);
		XW(xmlTextWriterStartElement(w, BAD_CAST "skipped"));
		XW(xmlTextWriterWriteAttribute(w, BAD_CAST "message", BAD_CAST msg));
		XW(xmlTextWriterEndElement(w));
	}
	return 0;
}

static int junit_case(xmlTextWriterPtr w, const struct check_result *c)
{
	char classname[64], num[32];

	snprintf(classname, sizeof(classname), "offloadlab.check.%s",
		 app_runtime_name(c->runtime));
	snprintf(num, sizeof(num), "%.3f", c->seconds);
	XW(xmlTextWriterStartElement(w, BAD_CAST "testcase"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "classname", BAD_CAST classname));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST c->check->name));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST num));
	XW(junit_outcome(w, c));
	XW(xmlTextWriterStartElement(w, BAD_CAST "system-out"));
	XW(xmlTextWriterWriteFormatString(w, "status: %s\nexpected: %s\nobserved: %s\n",
					  check_status_name(c->status), c->expected,
					  c->observed));
	XW(xmlTextWriterEndElement(w));
	XW(xmlTextWriterEndElement(w));
	return 0;
}

static int junit_write_all(xmlTextWriterPtr w, const struct check_result *r, size_t n)
{
	XW(junit_open(w, r, n));
	for (size_t i = 0; i < n; i++)
		XW(junit_case(w, &r[i]));
	XW(xmlTextWriterEndDocument(w));
	return 0;
}

int check_write_junit(const char *path, const struct check_result *r, size_t n)
{
	/* Built in memory, then written whole (temp file + rename, 0644). */
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	int err;

	if (!w) {
		xmlBufferFree(buf);
		return -ENOMEM;
	}
	err = junit_write_all(w, r, n);
	xmlFreeTextWriter(w); /* flushes into buf */
	if (!err)
		err = write_path_atomic(path, xmlBufferContent(buf),
					(size_t)xmlBufferLength(buf), 0644);
	xmlBufferFree(buf);
	return err;
}

/* ---- the terminal ---- */

/* Break "k=v; k=v" into one item a line, indented. */
static void print_items(FILE *f, const char *label, const char *s)
{
	fprintf(f, "    %-9s", label);
	for (const char *p = s; *p; p++) {
		if (p[0] == ';' && p[1] == ' ') {
			fprintf(f, "\n    %-9s", "");
			p++;
			continue;
		}
		fputc(*p, f);
	}
	fputc('\n', f);
}

/* One line per key of phase name whose observed value (details) differs. */
static void print_phase_diff(FILE *f, const char *name, const char *exp, char *details)
{
	char *save = NULL;

	for (char *tok = strtok_r(details, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char key[128], want[128];
		char *eq = strchr(tok, '=');

		if (!eq)
			continue;
		snprintf(key, sizeof(key), "%.*s", (int)(eq - tok), tok);
		check_detail_value(exp, key, want, sizeof(want));
		if (strcmp(want, eq + 1))
			fprintf(f, "    %-9s%s %s: expected %s, observed %s\n", "differs", name,
				key, want[0] ? want : "(nothing)", eq + 1);
	}
}

/* One line per observed value that differs from the expected one. */
static void print_diff(FILE *f, const char *expected, const char *observed)
{
	char obs[CHECK_TEXT_LEN], *save = NULL;

	snprintf(obs, sizeof(obs), "%s", observed);
	for (char *it = strtok_r(obs, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
		char name[128], exp[CHECK_TEXT_LEN], *colon;

		while (*it == ' ')
			it++;
		colon = strchr(it, ':');
		if (!colon) {
			fprintf(f, "    %-9s%s\n", "differs", it);
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(colon - it), it);
		if (!check_phase_details(expected, name, exp, sizeof(exp)))
			fprintf(f, "    %-9s%s: not expected at all\n", "differs", name);
		else
			print_phase_diff(f, name, exp, colon + 1);
	}
}

static void print_failure(FILE *f, const struct check_result *c)
{
	char *counters = c->counters ? json_dumps(c->counters, JSON_COMPACT) : NULL;

	fprintf(f, "\nFAIL %s: %s\n", c->check->name, c->reason);
	print_items(f, "expected", c->expected);
	print_items(f, "observed", c->observed[0] ? c->observed : "(nothing)");
	print_diff(f, c->expected, c->observed);
	if (counters)
		fprintf(f, "    %-9s%s\n", "counters", counters);
	free(counters);
}

void check_print_matrix(FILE *f, const struct check_result *r, size_t n)
{
	int count[CHECK_STATUS__COUNT] = { 0 };
	int w = 5;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(r[i].check->name) > w)
			w = (int)strlen(r[i].check->name);
	fprintf(f, "%-*s  %-6s %-7s %6s  %s\n", w, "CHECK", "RT", "STATUS", "TIME", "DETAIL");
	for (size_t i = 0; i < n; i++) {
		const struct check_result *c = &r[i];
		const char *detail = c->status == CHECK_PASS ? c->check->summary : c->reason;

		count[c->status]++;
		fprintf(f, "%-*s  %-6s %-7s %5.1fs  %s\n", w, c->check->name,
			app_runtime_name(c->runtime), check_status_name(c->status), c->seconds,
			detail);
	}
	for (size_t i = 0; i < n; i++)
		if (r[i].status == CHECK_FAIL)
			print_failure(f, &r[i]);
	fprintf(f, "\n%d passed, %d failed, %d skipped, %d xfail\n", count[CHECK_PASS],
		count[CHECK_FAIL], count[CHECK_SKIP], count[CHECK_XFAIL]);
}
