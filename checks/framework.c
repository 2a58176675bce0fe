/*
 * The check framework: the registry (linker section olab_checks), matching
 * by name or glob, running one check in a forked child with a time limit,
 * and the three outputs (terminal matrix, JSON, JUnit XML).
 *
 * The child gets its own run prefix and cleanup registry (like the test
 * runner's children), so everything the check made goes when it ends.  When
 * it overruns its limit it gets SIGTERM (loops poll run_stopping()), a second
 * SIGTERM (its handler runs the cleanups), then SIGKILL, after which the
 * parent removes what still carries the child's prefix.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libxml/xmlwriter.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/cpuidle.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/leftovers.h"

#define MAX_CHECKS   64
#define RESULT_MAX   (64 * 1024)
#define TERM_WAIT_MS 3000

extern const struct check *const __start_olab_checks[] __attribute__((weak));
extern const struct check *const __stop_olab_checks[] __attribute__((weak));

static const struct check *sorted[MAX_CHECKS];
static size_t n_sorted;

static int by_order(const void *a, const void *b)
{
	const struct check *x = *(const struct check *const *)a;
	const struct check *y = *(const struct check *const *)b;

	return x->order != y->order ? x->order - y->order : strcmp(x->name, y->name);
}

static void load_checks(void)
{
	if (n_sorted)
		return;
	for (const struct check *const *c = __start_olab_checks;
	     c < __stop_olab_checks && n_sorted < ARRAY_SIZE(sorted); c++)
		sorted[n_sorted++] = *c;
	qsort(sorted, n_sorted, sizeof(sorted[0]), by_order);
}

size_t check_count(void)
{
	load_checks();
	return n_sorted;
}

const struct check *check_get(size_t i)
{
	load_checks();
	return i < n_sorted ? sorted[i] : NULL;
}

const struct check *check_by_name(const char *name)
{
	load_checks();
	for (size_t i = 0; name && i < n_sorted; i++)
		if (!strcmp(sorted[i]->name, name))
			return sorted[i];
	return NULL;
}

bool check_matches(const struct check *c, const char *pattern)
{
	return c && pattern && (!strcmp(c->name, pattern) || !fnmatch(pattern, c->name, 0));
}

static const char *const status_names[CHECK_STATUS__COUNT] = {
	[CHECK_PASS] = "pass", [CHECK_FAIL] = "fail", [CHECK_SKIP] = "skip", [CHECK_XFAIL] = "xfail",
};

static const char *const runtime_names[CHECK_RT__COUNT] = {
	[CHECK_RT_NETNS] = "netns", [CHECK_RT_RUNC] = "runc",
};

const char *check_status_name(enum check_status s)
{
	return (unsigned)s < CHECK_STATUS__COUNT ? status_names[s] : "?";
}

const char *check_runtime_name(enum check_runtime rt)
{
	return (unsigned)rt < CHECK_RT__COUNT ? runtime_names[rt] : "?";
}

/* ---- needs ---- */

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

int check_needs_met(const struct check *c, enum check_runtime rt, char *reason, size_t len)
{
	const char *t;

	reason[0] = '\0';
	if (rt == CHECK_RT_RUNC && !c->runc) {
		snprintf(reason, len, "%s", c->runc_skip ?: CHECK_RUNC_REASON);
		return -EOPNOTSUPP;
	}
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
	for (t = c->tools; t && *t;) {
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

/* ---- the child ---- */

static bool sabotage_env(const struct check *c)
{
	const char *v = getenv(CHECK_SABOTAGE_ENV);
	char list[256], *save = NULL;

	if (!v || !*v)
		return false;
	snprintf(list, sizeof(list), "%s", v);
	for (char *p = strtok_r(list, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
		if (check_matches(c, p))
			return true;
	return false;
}

/* setup, run, teardown; the raw outcome as JSON on fd. */
static void child_main(const struct check *c, struct check_ctx *ctx, int fd)
{
	json_t *out;
	char *text;
	int err;

	ctx->priv = calloc(1, c->priv_size ? c->priv_size : 1);
	ctx->counters = json_object();
	if (!ctx->priv || !ctx->counters) {
		check_error(ctx, -ENOMEM, "out of memory");
		goto report;
	}
	cpuidle_set(cpuidle_resolve(ctx->cpu_idle, c->latency ? CPUIDLE_POLL : CPUIDLE_DEFAULT));
	err = c->setup ? c->setup(ctx) : 0;
	if (err && !ctx->error[0] && !ctx->skip[0])
		check_error(ctx, err, "setup: %s", strerror(-err));
	if (!err && !ctx->skip[0]) {
		err = c->run(ctx);
		if (err && !ctx->error[0] && !ctx->skip[0])
			check_error(ctx, err, "run: %s", strerror(-err));
	}
	if (c->teardown)
		c->teardown(ctx);
report:
	cleanup_all();
	if (run_stopping() && !ctx->error[0])
		check_error(ctx, -EINTR, "interrupted");
	out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O?, s:o}", "expected", ctx->expected,
			"observed", ctx->observed, "xfail", ctx->xfail,
			"xfail_phases", ctx->xfail_phases, "skip", ctx->skip,
			"error", ctx->error, "counters", ctx->counters,
			"cpu_idle", cpuidle_config_json());
	text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (text)
		write_all(fd, text, strlen(text));
	free(text);
	json_decref(out);
	json_decref(ctx->counters);
	free(ctx->priv);
}

/* ---- the parent ---- */

/* Remove what the killed check's manifest lists (same sweep as `clean`). */
static void sweep_prefix(pid_t pid)
{
	struct leftovers_report r = { .removed = json_array(), .foreign = json_array() };
	size_t i;
	json_t *e;

	manifest_clean_run(pid, &r);
	json_array_foreach(r.removed, i, e)
		pr_warn("check: removed %s %s left by a killed check\n",
			json_string_value(json_object_get(e, "kind")),
			json_string_value(json_object_get(e, "name")));
	json_array_foreach(r.foreign, i, e)
		pr_warn("check: left %s %s: not created by the check (%s)\n",
			json_string_value(json_object_get(e, "kind")),
			json_string_value(json_object_get(e, "name")),
			json_string_value(json_object_get(e, "why")));
	json_decref(r.removed);
	json_decref(r.foreign);
	run_lock_remove_dead(pid);
}

static bool wait_exit(pid_t pid, int ms, int *st)
{
	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return true;
		sleep_ns(10 * 1000 * 1000);
	}
	return false;
}

/* Read the child's report until EOF or the deadline; true on EOF. */
static bool read_report(int fd, char *buf, size_t len, uint64_t deadline)
{
	size_t used = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = now_ns();
		ssize_t n;
		int r;

		if (now >= deadline || run_stopping())
			return false;
		r = poll(&p, 1, (int)((deadline - now) / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		n = read(fd, buf + used, len - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf[used] = '\0';
			return true;
		}
		used += n;
		if (used >= len - 1) {
			buf[used] = '\0';
			return true;
		}
	}
}

static bool phase_details(const char *s, const char *name, char *buf, size_t len);

/* Is every phase where observed and expected differ named in phases? */
static bool only_phases_differ(const char *expected, const char *observed, const char *phases)
{
	const char *sides[2] = { expected, observed };

	for (int side = 0; side < 2; side++) {
		char buf[CHECK_TEXT_LEN], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", sides[side]);
		for (char *it = strtok_r(buf, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
			char name[128], a[CHECK_TEXT_LEN], b[CHECK_TEXT_LEN], list[CHECK_REASON_LEN];
			char *save2 = NULL, *ph;
			bool named = false;

			while (*it == ' ')
				it++;
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(it, ":"), it);
			if (phase_details(expected, name, a, sizeof(a)) &&
			    phase_details(observed, name, b, sizeof(b)) && !strcmp(a, b))
				continue;
			snprintf(list, sizeof(list), "%s", phases);
			for (ph = strtok_r(list, ",", &save2); ph; ph = strtok_r(NULL, ",", &save2))
				named |= !strcmp(ph, name);
			if (!named)
				return false;
		}
	}
	return true;
}

static void set_from_report(struct check_result *r, const char *text)
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
	snprintf(r->expected, sizeof(r->expected), "%s",
		 json_string_value(json_object_get(doc, "expected")) ?: "");
	snprintf(r->observed, sizeof(r->observed), "%s",
		 json_string_value(json_object_get(doc, "observed")) ?: "");
	snprintf(xfail, sizeof(xfail), "%s", json_string_value(json_object_get(doc, "xfail")) ?: "");
	snprintf(xfail_phases, sizeof(xfail_phases), "%s",
		 json_string_value(json_object_get(doc, "xfail_phases")) ?: "");
	snprintf(skip, sizeof(skip), "%s", json_string_value(json_object_get(doc, "skip")) ?: "");
	snprintf(error, sizeof(error), "%s", json_string_value(json_object_get(doc, "error")) ?: "");
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
		r->status = CHECK_XFAIL;
		snprintf(r->reason, sizeof(r->reason), "%.190s (seen in: %.50s)", xfail, xfail_phases);
	} else {
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "observed differs from expected");
	}
}

/* An emulated kernel (`offloadlab vm` under TCG) runs several times slower:
 * time limits scale by CHECK_TIME_SCALE_ENV (1-50, default 1). */
static int time_scale(void)
{
	const char *v = getenv(CHECK_TIME_SCALE_ENV);
	uint64_t n;

	return v && !parse_u64(v, 1, 50, &n) ? (int)n : 1;
}

int check_run(const struct check *c, const struct check_run_opts *o, struct check_result *r)
{
	struct check_run_opts none = { .cpu_idle = CPUIDLE_UNSET };
	int timeout_ms = (c->timeout_ms ? c->timeout_ms : CHECK_TIMEOUT_MS) * time_scale();
	uint64_t t0 = now_ns();
	char *buf = NULL;
	int pfd[2], st = 0, err = 0;
	pid_t pid, parent = getpid();
	bool done;

	if (!o)
		o = &none;
	memset(r, 0, sizeof(*r));
	r->check = c;
	r->runtime = o->runtime;
	r->sabotage = o->sabotage || sabotage_env(c);
	snprintf(r->expected, sizeof(r->expected), "%s", o->expected ? o->expected : c->expected);
	if (check_needs_met(c, o->runtime, r->reason, sizeof(r->reason))) {
		r->status = CHECK_SKIP;
		return 0;
	}
	buf = malloc(RESULT_MAX);
	if (!buf || pipe2(pfd, O_CLOEXEC)) {
		err = -errno ?: -ENOMEM;
		goto fail;
	}
	fflush(NULL);
	pid = run_fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		goto fail;
	}
	if (pid == 0) {
		struct check_ctx ctx = { .check = c, .runtime = o->runtime, .sabotage = r->sabotage,
					 .cpu_idle = o->cpu_idle };

		close(pfd[0]);
		run_init();
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		/* The check's own loops stop a second before the hard limit. */
		ctx.deadline_ns = t0 + (uint64_t)(timeout_ms - 1000) * 1000000;
		snprintf(ctx.expected, sizeof(ctx.expected), "%s", r->expected);
		child_main(c, &ctx, pfd[1]);
		close(pfd[1]);
		fflush(NULL);
		_exit(0);
	}
	close(pfd[1]);
	done = read_report(pfd[0], buf, RESULT_MAX, t0 + (uint64_t)timeout_ms * 1000000);
	close(pfd[0]);
	if (!done) {
		/* Overran: let it unwind, then make sure. */
		kill(pid, SIGTERM);
		if (!wait_exit(pid, TERM_WAIT_MS, &st)) {
			kill(pid, SIGTERM);
			if (!wait_exit(pid, TERM_WAIT_MS, &st)) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
			}
		}
		sweep_prefix(pid);
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "%s after %d ms (time limit)",
			 run_stopping() ? "interrupted" : "did not finish", timeout_ms);
		snprintf(r->observed, sizeof(r->observed), "timeout");
		goto out;
	}
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st) && !buf[0]) {
		r->status = CHECK_FAIL;
		snprintf(r->reason, sizeof(r->reason), "the check was killed by signal %d",
			 WTERMSIG(st));
		sweep_prefix(pid);
		goto out;
	}
	set_from_report(r, buf);
	if (r->status != CHECK_SKIP && r->sabotage) {
		/* Recorded so nobody mistakes a sabotaged run for a real one. */
		size_t n = strlen(r->reason);

		snprintf(r->reason + n, sizeof(r->reason) - n, "%s(sabotaged)", n ? " " : "");
	}
out:
	r->seconds = (now_ns() - t0) / 1e9;
	free(buf);
	return 0;
fail:
	r->status = CHECK_FAIL;
	snprintf(r->reason, sizeof(r->reason), "cannot start the check: %s", strerror(-err));
	r->seconds = (now_ns() - t0) / 1e9;
	free(buf);
	return err;
}

void check_result_free(struct check_result *r)
{
	if (!r)
		return;
	json_decref(r->counters);
	json_decref(r->cpu_idle);
	r->counters = r->cpu_idle = NULL;
}

/* ---- outputs ---- */

json_t *check_results_json(const struct check_result *r, size_t n)
{
	json_t *arr = json_array(), *totals = json_object(), *doc;
	int count[CHECK_STATUS__COUNT] = { 0 };

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:b}",
				      "name", r[i].check->name,
				      "summary", r[i].check->summary,
				      "status", check_status_name(r[i].status),
				      "expected", r[i].expected,
				      "observed", r[i].observed,
				      "runtime", check_runtime_name(r[i].runtime),
				      "reason", r[i].reason,
				      "reference", r[i].check->reference ?: "",
				      "seconds", r[i].seconds,
				      "sabotage", r[i].sabotage);

		if (e && r[i].counters)
			json_object_set(e, "counters", r[i].counters);
		if (e && r[i].cpu_idle)
			json_object_set(e, "cpu_idle", r[i].cpu_idle);
		json_array_append_new(arr, e);
		count[r[i].status]++;
	}
	for (int s = 0; s < CHECK_STATUS__COUNT; s++)
		json_object_set_new(totals, status_names[s], json_integer(count[s]));
	doc = json_pack("{s:o, s:o, s:s}", "checks", arr, "totals", totals,
			"kernel", kernel_release());
	return doc;
}

#define XW(call) do { if ((call) < 0) { err = -EIO; goto out; } } while (0)

int check_write_junit(const char *path, const struct check_result *r, size_t n)
{
	int count[CHECK_STATUS__COUNT] = { 0 };
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	char stamp[32], num[32];
	double total = 0;
	time_t now = time(NULL);
	struct tm tm;
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		count[r[i].status]++;
		total += r[i].seconds;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* Built in memory, then written whole (temp file + rename, 0644). */
	buf = xmlBufferCreate();
	w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	if (!w) {
		xmlBufferFree(buf);
		return -ENOMEM;
	}
	XW(xmlTextWriterSetIndent(w, 1));
	XW(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
	XW(xmlTextWriterStartElement(w, BAD_CAST "testsuites"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "offloadlab check"));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "tests", "%zu", n));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "failures", "%d", count[CHECK_FAIL]));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "skipped", "%d",
					     count[CHECK_SKIP] + count[CHECK_XFAIL]));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "time", "%.3f", total));

	XW(xmlTextWriterStartElement(w, BAD_CAST "testsuite"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "offloadlab.check"));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "tests", "%zu", n));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "failures", "%d", count[CHECK_FAIL]));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "errors", BAD_CAST "0"));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "skipped", "%d",
					     count[CHECK_SKIP] + count[CHECK_XFAIL]));
	XW(xmlTextWriterWriteFormatAttribute(w, BAD_CAST "time", "%.3f", total));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "timestamp", BAD_CAST stamp));
	XW(xmlTextWriterStartElement(w, BAD_CAST "properties"));
	XW(xmlTextWriterStartElement(w, BAD_CAST "property"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST "kernel"));
	XW(xmlTextWriterWriteAttribute(w, BAD_CAST "value", BAD_CAST kernel_release()));
	XW(xmlTextWriterEndElement(w));
	XW(xmlTextWriterEndElement(w));

	for (size_t i = 0; i < n; i++) {
		const struct check_result *c = &r[i];
		char classname[64];

		snprintf(classname, sizeof(classname), "offloadlab.check.%s",
			 check_runtime_name(c->runtime));
		snprintf(num, sizeof(num), "%.3f", c->seconds);
		XW(xmlTextWriterStartElement(w, BAD_CAST "testcase"));
		XW(xmlTextWriterWriteAttribute(w, BAD_CAST "classname", BAD_CAST classname));
		XW(xmlTextWriterWriteAttribute(w, BAD_CAST "name", BAD_CAST c->check->name));
		XW(xmlTextWriterWriteAttribute(w, BAD_CAST "time", BAD_CAST num));
		if (c->status == CHECK_FAIL) {
			char *counters = c->counters ? json_dumps(c->counters, JSON_COMPACT) : NULL;

			XW(xmlTextWriterStartElement(w, BAD_CAST "failure"));
			XW(xmlTextWriterWriteAttribute(w, BAD_CAST "type", BAD_CAST "fail"));
			XW(xmlTextWriterWriteAttribute(w, BAD_CAST "message", BAD_CAST c->reason));
			err = xmlTextWriterWriteFormatString(w, "expected: %s\nobserved: %s\ncounters: %s\n",
							     c->expected, c->observed,
							     counters ? counters : "{}");
			free(counters);
			if (err < 0) {
				err = -EIO;
				goto out;
			}
			err = 0;
			XW(xmlTextWriterEndElement(w));
		} else if (c->status == CHECK_SKIP || c->status == CHECK_XFAIL) {
			char msg[CHECK_REASON_LEN + 16];

			snprintf(msg, sizeof(msg), "%s%s", c->status == CHECK_XFAIL ? "xfail: " : "",
				 c->reason);
			XW(xmlTextWriterStartElement(w, BAD_CAST "skipped"));
			XW(xmlTextWriterWriteAttribute(w, BAD_CAST "message", BAD_CAST msg));
			XW(xmlTextWriterEndElement(w));
		}
		XW(xmlTextWriterStartElement(w, BAD_CAST "system-out"));
		XW(xmlTextWriterWriteFormatString(w, "status: %s\nexpected: %s\nobserved: %s\n",
						  check_status_name(c->status), c->expected,
						  c->observed));
		XW(xmlTextWriterEndElement(w));
		XW(xmlTextWriterEndElement(w));
	}
	XW(xmlTextWriterEndDocument(w));
	xmlFreeTextWriter(w); /* flushes into buf */
	w = NULL;
	err = write_path_atomic(path, xmlBufferContent(buf), (size_t)xmlBufferLength(buf), 0644);
out:
	xmlFreeTextWriter(w);
	xmlBufferFree(buf);
	return err;
}

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

/* Value of key in a "k=v k=v" details string, into buf ("" when absent). */
static void detail_value(const char *details, const char *key, char *buf, size_t len)
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

/* Find phase "name: ..." in s; its details into buf. */
static bool phase_details(const char *s, const char *name, char *buf, size_t len)
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

/* One line per observed value that differs from the expected one. */
static void print_diff(FILE *f, const char *expected, const char *observed)
{
	char obs[CHECK_TEXT_LEN], *save = NULL;

	snprintf(obs, sizeof(obs), "%s", observed);
	for (char *it = strtok_r(obs, ";", &save); it; it = strtok_r(NULL, ";", &save)) {
		char name[128], exp[CHECK_TEXT_LEN], *colon, *tok, *save2 = NULL;

		while (*it == ' ')
			it++;
		colon = strchr(it, ':');
		if (!colon) {
			fprintf(f, "    %-9s%s\n", "differs", it);
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(colon - it), it);
		if (!phase_details(expected, name, exp, sizeof(exp))) {
			fprintf(f, "    %-9s%s: not expected at all\n", "differs", name);
			continue;
		}
		for (tok = strtok_r(colon + 1, " ", &save2); tok; tok = strtok_r(NULL, " ", &save2)) {
			char key[128], want[128];
			char *eq = strchr(tok, '=');

			if (!eq)
				continue;
			snprintf(key, sizeof(key), "%.*s", (int)(eq - tok), tok);
			detail_value(exp, key, want, sizeof(want));
			if (strcmp(want, eq + 1))
				fprintf(f, "    %-9s%s %s: expected %s, observed %s\n", "differs", name,
					key, want[0] ? want : "(nothing)", eq + 1);
		}
	}
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
			check_runtime_name(c->runtime), check_status_name(c->status), c->seconds,
			detail);
	}
	for (size_t i = 0; i < n; i++) {
		const struct check_result *c = &r[i];
		char *counters;

		if (c->status != CHECK_FAIL)
			continue;
		fprintf(f, "\nFAIL %s: %s\n", c->check->name, c->reason);
		print_items(f, "expected", c->expected);
		print_items(f, "observed", c->observed[0] ? c->observed : "(nothing)");
		print_diff(f, c->expected, c->observed);
		counters = c->counters ? json_dumps(c->counters, JSON_COMPACT) : NULL;
		if (counters)
			fprintf(f, "    %-9s%s\n", "counters", counters);
		free(counters);
	}
	fprintf(f, "\n%d passed, %d failed, %d skipped, %d xfail\n", count[CHECK_PASS],
		count[CHECK_FAIL], count[CHECK_SKIP], count[CHECK_XFAIL]);
}
