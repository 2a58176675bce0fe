/*
 * `scenario run`: deploy, then `trials` pairs of trials, offload attached
 * and none, the order alternating (none first in even pairs), every client
 * at once in each; counters are deltas over each trial.  Then the report:
 * each client figure's medians with 95 % CI per arm and the median of the
 * paired offload/none ratios, counters per arm, per-program runs and run
 * time, per-CPU CPU time, and every expectation with its value and verdict.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bench/cpu_time.h"
#include "lib/log.h"
#include "lib/json_out.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "results/results.h"
#include "scenarios/internal.h"
#include "scenarios/report.h"

static void remove_dir(const char *name, long num)
{
	remove_tree(name);
}

static int make_scratch(char *dir, size_t len, int *cleanup)
{
	int err;

	snprintf(dir, len, "%s/%s-scenario-XXXXXX", SCRATCH_DIR, run_prefix());
	if (!mkdtemp(dir))
		return -errno;
	*cleanup = cleanup_add(remove_dir, dir, 0, "scenario scratch dir");
	err = *cleanup < 0 ? *cleanup : manifest_add_path(MANIFEST_SCRATCH, dir);
	return err;
}

/* Absolute values now: offload counters, programs, map elements, nft. */
static json_t *snapshot(const struct scenario *s)
{
	json_t *o = json_object();

	scn_offloads_read(s, o);
	scn_nft_read(s, o);
	return o;
}

static json_t *delta(json_t *a, json_t *b)
{
	json_t *d = json_object(), *v;
	const char *k;

	json_object_foreach(b, k, v) {
		json_t *w = json_object_get(a, k);

		json_object_set_new(d, k, json_integer(json_integer_value(v) -
						       (w ? json_integer_value(w) : 0)));
	}
	return d;
}

static json_t *cpu_delta(const struct cpu_times *a, const struct cpu_times *b)
{
	json_t *o = json_object();

	for (int c = 0; c < a->ncpu && c < b->ncpu; c++) {
		char k[16];

		snprintf(k, sizeof(k), "cpu%d", c);
		json_object_set_new(o, k, json_pack("{s:I, s:I, s:I}",
			"user_ns", (json_int_t)(b->user_ns[c] - a->user_ns[c]),
			"system_ns", (json_int_t)(b->system_ns[c] - a->system_ns[c]),
			"softirq_ns", (json_int_t)(b->softirq_ns[c] - a->softirq_ns[c])));
	}
	return o;
}

static int one_trial(struct scenario *s, bool offload, int no, double duration,
		     const char *scratch, json_t *trials, char *why, size_t len)
{
	json_t *t = json_pack("{s:s, s:i, s:i}", "arm", offload ? "offload" : "none", "trial", no,
			      "pair", no / 2), *before, *after;
	struct cpu_times c0, c1;
	int err = scn_offloads_set(s, offload);

	if (err)
		snprintf(why, len, "cannot %s the offloads: %s", offload ? "attach" : "detach",
			 strerror(-err));
	/* restart: the apps start with the arm's programs, stop at its end */
	if (!err && s->restart && (err = scn_ctrs_start(s)))
		snprintf(why, len, "cannot start the containers (see above): %s", strerror(-err));
	if (err) {
		if (s->restart)
			scn_ctrs_stop(s);
		json_decref(t);
		return err;
	}
	before = snapshot(s);
	cpu_times_read(0, &c0);
	err = scn_clients_run(s, duration, scratch, t, why, len);
	cpu_times_read(0, &c1);
	after = snapshot(s);
	if (s->restart)
		scn_ctrs_stop(s);
	json_object_set_new(t, "values", delta(before, after));
	json_object_set_new(t, "cpu", cpu_delta(&c0, &c1));
	json_decref(before);
	json_decref(after);
	json_array_append_new(trials, t);
	return err;
}

/* A client that fails (a crash: memcaslap aborts now and then over UDP) costs
 * the trial, measured again once, as the bench framework does; the failed
 * one is kept in `retried` with its reason.  A second failure ends the run. */
static int trial_or_retry(struct scenario *s, bool offload, int no, double duration,
			  const char *scratch, struct scn_results *r, char *why, size_t len)
{
	int err = one_trial(s, offload, no, duration, scratch, r->trials, why, len);
	size_t last = json_array_size(r->trials);

	if (err != -ECHILD || run_stopping() || !last)
		return err;
	json_t *failed = json_incref(json_array_get(r->trials, last - 1));

	json_array_remove(r->trials, last - 1);
	json_object_set_new(failed, "failure", json_string(why));
	json_array_append_new(r->retried, failed);
	pr_warn("scenario %s: trial %d: %s: measured again\n", s->name, no, why);
	return one_trial(s, offload, no, duration, scratch, r->trials, why, len);
}

static int run_trials(struct scenario *s, const struct scn_run_opts *o, const char *scratch,
		      struct scn_results *r, char *why, size_t len)
{
	int pairs = o->quick ? s->quick_trials : s->trials, err = 0;
	double duration = o->quick ? s->quick_duration : s->duration;

	for (int p = 0; p < pairs && !err && !run_stopping(); p++) {
		bool off_first = p % 2;

		if (!o->json)
			fprintf(stderr, "\r\033[Kpair %d/%d", p + 1, pairs);
		for (int k = 0; k < 2 && !err && !run_stopping(); k++)
			err = trial_or_retry(s, off_first ? !k : k, 2 * p + k, duration, scratch,
					     r, why, len);
	}
	if (!o->json)
		fputs("\r\033[K", stderr);
	if (!err && run_stopping()) {
		snprintf(why, len, "interrupted");
		err = -EINTR;
	}
	return err;
}

static int deploy_and_run(struct scenario *s, const struct scn_run_opts *o,
			  struct scn_results *r, char *why, size_t len)
{
	char scratch[SCN_PATH_LEN];
	int err, cleanup = -1, stats_fd;

	err = make_scratch(scratch, sizeof(scratch), &cleanup);
	if (err) {
		snprintf(why, len, "cannot create a scratch directory: %s", strerror(-err));
		return err;
	}
	/* Program run counts and run time (bpf_stats), while the fd is open. */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	err = scn_topo_start(s, o->netns_runtime);
	if (err)
		snprintf(why, len, "cannot deploy (see above): %s", strerror(-err));
	if (!err && (err = scn_offloads_start(s)))
		snprintf(why, len, "cannot load the offloads (see above): %s", strerror(-err));
	if (!err)
		err = run_trials(s, o, scratch, r, why, len);
	scn_offloads_stop(s);
	scn_topo_stop(s);
	if (stats_fd >= 0)
		close(stats_fd);
	cleanup_run(cleanup);
	return err;
}

int scenario_run(struct scenario *s, const struct scn_run_opts *o)
{
	struct scn_results r = { .trials = json_array(), .retried = json_array() };
	struct results res;
	json_t *report, *cfg = results_base_config();
	char why[512] = "";
	int err, failed;

	json_object_set_new(cfg, "scenario", json_pack("{s:s, s:s, s:b, s:s}", "name", s->name,
		"file", s->path, "quick", o->quick, "runtime", o->netns_runtime ? "netns" : "runc"));
	if (results_open(&res, o->out, cfg)) {
		json_decref(r.trials);
		json_decref(r.retried);
		return EXIT_FAIL;
	}
	err = deploy_and_run(s, o, &r, why, sizeof(why));
	report = scn_report(s, &r, o, &failed);
	if (err)
		json_object_set_new(report, "error", json_string(why));
	json_object_set(res.root, "scenario", report);
	scn_report_results(s, &r, &res);
	results_write(&res, err ? why : NULL);
	if (o->json)
		json_out(res.root);
	else
		scn_report_print(report, stdout, res.dir);
	if (err)
		fprintf(stderr, "offloadlab scenario run: %s: %s\n", s->name, why);
	results_close(&res);
	json_decref(report);
	json_decref(r.trials);
	json_decref(r.retried);
	return err || failed ? EXIT_FAIL : EXIT_OK;
}
