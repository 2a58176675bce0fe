#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/run.h"
#include "lib/util.h"
#include "results/results.h"
#include "tests/test.h"

static void add_overhead(struct results *r, const char *hook, double v, double state_ns)
{
	double trials[] = { v - 1, v, v + 1 };
	struct result res = {
		.bench = "overhead", .hook = hook, .metric = "ns_per_packet", .unit = "ns",
		.method = "test", .trials = trials, .n = 3,
		.extra = json_pack("{s:{s:f}}", "regimes", "quiet_no_program_ns", state_ns),
	};

	results_add(r, &res);
}

static json_t *ratio(json_t *refs, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(refs, i, o)
		if (!strcmp(json_string_value(json_object_get(o, "name")), name))
			return o;
	return NULL;
}

/* The "TC overhead / XDP overhead" row for a TC figure of 60 ns (no-program
 * time 350) and the given XDP one; refs holds the references (replaced). */
static json_t *tc_xdp_ratio(struct results *r, json_t **refs, double xdp, double xdp_state)
{
	json_decref(*refs);
	json_array_clear(r->list);
	add_overhead(r, "tc", 60, 350);
	add_overhead(r, "xdp", xdp, xdp_state);
	*refs = results_reference_json(r);
	return ratio(*refs, "TC overhead / XDP overhead");
}

/* Ratios beside the seed: formed from this run's medians, but only between
 * figures measured in the same state of the machine. */
OLAB_TEST(results_reference_ratio_same_state)
{
	struct results r = { .list = json_array() };
	json_t *refs = NULL, *o;

	o = tc_xdp_ratio(&r, &refs, 12, 360);
	if (!ASSERT_OK_PTR(o, "the TC/XDP overhead ratio is defined"))
		goto cleanup;
	ASSERT_DBL_NEAR(json_number_value(json_object_get(o, "here")), 5.0, 1e-9, "60 / 12");
	ASSERT_TRUE(json_number_value(json_object_get(o, "seed")) > 1, "seed ratio from reference.json");
	ASSERT_TRUE(!json_object_get(o, "note"), "no note within one state");

	/* The same figures, xdp measured in the slow state: no ratio. */
	o = tc_xdp_ratio(&r, &refs, 80, 480);
	if (!ASSERT_OK_PTR(o, "ratio row"))
		goto cleanup;
	ASSERT_TRUE(json_is_null(json_object_get(o, "here")), "no ratio across states");
	ASSERT_TRUE(json_object_get(o, "note") &&
		    strstr(json_string_value(json_object_get(o, "note")), "different states"),
		    "the row says why");
cleanup:
	json_decref(refs);
	json_decref(r.list);
}

/* An absolute reference (no den): the published figure beside ours; and a
 * figure's own published/ratio printed beside it. */
OLAB_TEST(results_reference_absolute_and_published)
{
	struct results r = { .list = json_array() };
	double trials[] = { 33, 34, 35 };
	struct result clock = {
		.bench = "clock", .hook = "tc", .variant = "ktime deltas", .metric = "delta_p50",
		.unit = "ns", .method = "test", .trials = trials, .n = 3,
	};
	struct result share = {
		.bench = "share", .hook = "xdp", .variant = "array", .metric = "access_ns",
		.unit = "ns", .method = "test", .trials = trials, .n = 3,
		.extra = json_pack("{s:f, s:f}", "published", 485.0, "ratio", 0.07),
	};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *refs, *o;

	results_add(&r, &clock);
	results_add(&r, &share);
	refs = results_reference_json(&r);
	o = ratio(refs, "bpf_ktime_get_ns back-to-back delta p50 at TC, ns (absolute)");
	if (ASSERT_OK_PTR(o, "the absolute row")) {
		ASSERT_DBL_NEAR(json_number_value(json_object_get(o, "seed")), 34, 1e-9, "published 34");
		ASSERT_DBL_NEAR(json_number_value(json_object_get(o, "here")), 34, 1e-9, "our median");
	}
	if (ASSERT_OK_PTR(f, "memstream")) {
		results_print_reference(&r, f);
		fclose(f);
		ASSERT_STRCONTAINS(text, "share xdp array access_ns", "the figure's own published row");
		ASSERT_STRCONTAINS(text, "ratio   0.07", "its ratio");
	}
	free(text);
	json_decref(refs);
	json_decref(r.list);
}

/* ---- where results may go, and how they are written ---- */

static json_t *load(const char *dir, const char *run_id)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s/results.json", dir, run_id);
	return json_load_file(path, 0, NULL);
}

static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

/* Every bad --out is refused with a reason; good ones pass; nothing created. */
OLAB_TEST(results_validate_out)
{
	char tmp[] = "/tmp/olab-unit-out.XXXXXX", p[256], why[256];
	const char *bad_dirs[] = { "", "link", "file", "file/sub", "run-20260101-000000-1",
				   "missing/sub" };
	const char *bad_files[] = { "", "link", "real", "real/", "file/x.xml", "missing/x.xml" };
	FILE *f;

	if (!ASSERT_OK_PTR(mkdtemp(tmp), "mkdtemp"))
		return;
	snprintf(p, sizeof(p), "%s/real", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run-20260101-000000-1", tmp);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/run-20260101-000000-1/results.json", tmp);
	f = fopen(p, "w");
	if (f)
		fclose(f);
	snprintf(p, sizeof(p), "%s/file", tmp);
	f = fopen(p, "w");
	if (f)
		fclose(f);
	snprintf(p, sizeof(p), "%s/link", tmp);
	ASSERT_OK(symlink("real", p), "symlink");
	for (size_t i = 0; i < sizeof(bad_dirs) / sizeof(bad_dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s%s", *bad_dirs[i] ? tmp : "", *bad_dirs[i] ? "/" : "", bad_dirs[i]);
		why[0] = '\0';
		ASSERT_ERR(results_validate_out_dir(p, why, sizeof(why)), p);
		ASSERT_TRUE(why[0], "a reason is given");
	}
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		snprintf(p, sizeof(p), "%s%s%s", *bad_files[i] ? tmp : "", *bad_files[i] ? "/" : "", bad_files[i]);
		why[0] = '\0';
		ASSERT_ERR(results_validate_out_file(p, why, sizeof(why)), p);
		ASSERT_TRUE(why[0], "a reason is given");
	}
	snprintf(p, sizeof(p), "%s/link/", tmp);
	ASSERT_EQ(results_validate_out_dir(p, why, sizeof(why)), -ELOOP, "a trailing slash does not hide the link");
	ASSERT_ERR(results_validate_out_dir("/proc", why, sizeof(why)), "procfs");
	ASSERT_STRCONTAINS(why, "procfs", "says which filesystem");
	ASSERT_ERR(results_validate_out_dir("/sys/kernel", why, sizeof(why)), "sysfs");
	ASSERT_ERR(results_validate_out_file("/proc/self/x.xml", why, sizeof(why)), "junit on procfs");
	/* Good: an existing folder, a new one in it, a run folder's parent, files. */
	ASSERT_OK(results_validate_out_dir(tmp, why, sizeof(why)), "the folder itself");
	snprintf(p, sizeof(p), "%s/real/new", tmp);
	ASSERT_OK(results_validate_out_dir(p, why, sizeof(why)), "a new folder in a real one");
	ASSERT_EQ(mode_of(p), -1, "validation created nothing");
	snprintf(p, sizeof(p), "%s/file", tmp);
	ASSERT_OK(results_validate_out_file(p, why, sizeof(why)), "an existing regular file");
	snprintf(p, sizeof(p), "%s/new.xml", tmp);
	ASSERT_OK(results_validate_out_file(p, why, sizeof(why)), "a new file");
	remove_tree(tmp);
}

/* results.json exists from the open on, says "complete": false until the
 * final write, holds each flushed figure, 0644 in a 0755 folder whatever
 * the umask; a stop signal is named in incomplete_reason. */
OLAB_TEST(results_flush_complete)
{
	char tmp[] = "/tmp/olab-unit-res.XXXXXX", p[700], id[64];
	double t[] = { 1, 2, 3 };
	struct result fig = { .bench = "drop", .hook = "xdp", .metric = "pps", .unit = "packets/s",
			      .method = "test", .trials = t, .n = 3 };
	struct results r;
	mode_t old = umask(077);
	json_t *j = NULL;

	if (!ASSERT_OK_PTR(mkdtemp(tmp), "mkdtemp"))
		goto out;
	snprintf(p, sizeof(p), "%s/new", tmp);
	if (!ASSERT_OK(results_open(&r, p, json_object()), "results_open"))
		goto out;
	snprintf(id, sizeof(id), "%s", r.run_id);
	j = load(p, id);
	ASSERT_TRUE(json_is_false(json_object_get(j, "complete")), "open: not complete");
	ASSERT_EQ(json_array_size(json_object_get(j, "results")), 0, "open: no figure yet");
	json_decref(j);
	results_add(&r, &fig);
	ASSERT_OK(results_flush(&r), "flush");
	j = load(p, id);
	ASSERT_TRUE(json_is_false(json_object_get(j, "complete")), "flushed: not complete");
	ASSERT_EQ(json_array_size(json_object_get(j, "results")), 1, "flushed: the figure");
	ASSERT_TRUE(!json_object_get(j, "reference"), "no reference block before the end");
	json_decref(j);
	ASSERT_EQ(mode_of(p), 0755, "--out folder mode");
	snprintf(p, sizeof(p), "%s/new/%s", tmp, id);
	ASSERT_EQ(mode_of(p), 0755, "run folder mode");
	snprintf(p, sizeof(p), "%s/new/%s/results.json", tmp, id);
	ASSERT_EQ(mode_of(p), 0644, "results.json mode");

	run_stop_signal = SIGTERM;
	ASSERT_OK(results_write(&r, NULL), "final write");
	run_stop_signal = 0;
	snprintf(p, sizeof(p), "%s/new", tmp);
	j = load(p, id);
	ASSERT_TRUE(json_is_false(json_object_get(j, "complete")), "stopped: not complete");
	ASSERT_STREQ(json_string_value(json_object_get(j, "incomplete_reason")), "stopped by SIGTERM",
		     "the reason");
	json_decref(j);
	ASSERT_OK(results_write(&r, "1 of 2 cells failed"), "final write, a cell failed");
	j = load(p, id);
	ASSERT_TRUE(json_is_false(json_object_get(j, "complete")), "failed: not complete");
	ASSERT_STREQ(json_string_value(json_object_get(j, "incomplete_reason")),
		     "1 of 2 cells failed", "the failure as reason");
	json_decref(j);
	ASSERT_OK(results_write(&r, NULL), "final write, normal end");
	j = load(p, id);
	ASSERT_TRUE(json_is_true(json_object_get(j, "complete")), "normal end: complete");
	ASSERT_TRUE(!json_object_get(j, "incomplete_reason"), "normal end: no reason");
	ASSERT_TRUE(json_is_array(json_object_get(j, "reference")), "the reference block at the end");
	results_close(&r);
out:
	json_decref(j);
	umask(old);
	remove_tree(tmp);
}
