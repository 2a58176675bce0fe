/*
 * The method of one cell: setup, warm-up, trials (paired arms in the
 * bench's order, a pair with no reading measured again once), extension
 * to a CI target, the other methods (POST arms), the regime split.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench/bench.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/stats.h"

#define EXTEND_BATCH 10  /* trials between CI checks once past the planned ones */
#define EXTEND_MAX   6   /* at most this many times the planned trials */

static const char *arm_name(const struct bench_cell *c, enum bench_arm a)
{
	static const char *const dflt[ARM__COUNT] = { "main", "reference", "post1", "post2" };

	return c->bench->arm_names[a] ? c->bench->arm_names[a] : dflt[a];
}

static bool paired(const struct bench_cell *c)
{
	return c->arms & ARM_BIT(ARM_REF);
}

static size_t max_trials(const struct bench_cell *c)
{
	size_t n = c->trials;

	if (c->ci_target > 0 && c->trials_default && !c->quick)
		n *= EXTEND_MAX;
	return n < BENCH_MAX_TRIALS ? n : BENCH_MAX_TRIALS;
}

static int series_alloc(struct bench_series *s, size_t n)
{
	memset(s, 0, sizeof(*s));
	for (int a = 0; a < ARM__COUNT; a++) {
		s->detail[a] = json_array();
		for (int m = 0; m < BENCH_MAX_METRICS; m++)
			if (!(s->v[a][m] = calloc(n, sizeof(double))))
				return -ENOMEM;
	}
	for (int m = 0; m < BENCH_MAX_METRICS; m++)
		if (!(s->cmp[m] = calloc(n, sizeof(double))))
			return -ENOMEM;
	s->main_first = calloc(n, sizeof(bool));
	s->seq = calloc(n, sizeof(*s->seq));
	s->regime.quiet = calloc(n, sizeof(double));
	s->regime.slow = calloc(n, sizeof(double));
	return s->main_first && s->seq && s->regime.quiet && s->regime.slow ? 0 : -ENOMEM;
}

static void series_free(struct bench_series *s)
{
	for (int a = 0; a < ARM__COUNT; a++) {
		json_decref(s->detail[a]);
		for (int m = 0; m < BENCH_MAX_METRICS; m++)
			free(s->v[a][m]);
	}
	for (int m = 0; m < BENCH_MAX_METRICS; m++)
		free(s->cmp[m]);
	free(s->main_first);
	free(s->seq);
	free(s->regime.quiet);
	free(s->regime.slow);
	memset(s, 0, sizeof(*s));
}

/* One measurement of arm; its values in t (detail owned by the caller). */
static int measure_arm(struct bench_cell *c, enum bench_arm arm, size_t i, uint64_t ms,
		       bool warmup, struct bench_trial *t)
{
	memset(t, 0, sizeof(*t));
	t->arm = arm;
	t->index = i;
	t->ms = ms;
	t->warmup = warmup;
	return c->bench->trial(c, t);
}

static void keep(struct bench_series *s, enum bench_arm arm, size_t i, const double *v,
		 json_t *detail)
{
	for (int m = 0; m < BENCH_MAX_METRICS; m++)
		s->v[arm][m][i] = v[m];
	if (s->n[arm] < i + 1)
		s->n[arm] = i + 1;
	json_array_append_new(s->detail[arm], detail ? detail : json_object());
}

/* The arms of trial i in the cell's order: how many, and which. */
static int trial_order(const struct bench_cell *c, size_t i, enum bench_arm seq[3])
{
	bool main_first = c->pairing != PAIR_REF_FIRST && i % 2;

	if (!paired(c)) {
		seq[0] = ARM_MAIN;
		return 1;
	}
	seq[0] = main_first ? ARM_MAIN : ARM_REF;
	seq[1] = main_first ? ARM_REF : ARM_MAIN;
	seq[2] = seq[0];
	return c->pairing == PAIR_SANDWICH ? 3 : 2;
}

static double compare(enum bench_compare how, double main, double ref)
{
	if (how == CMP_DELTA)
		return main - ref;
	if (how == CMP_COST_PCT)
		return ref > 0 ? (1 - main / ref) * 100 : 0;
	return 0;
}

/* Trial i: every arm in order; sandwich outers averaged. */
static int one_trial(struct bench_cell *c, size_t i, struct bench_series *s)
{
	enum bench_arm seq[3];
	struct bench_trial t[3];
	int n = trial_order(c, i, seq), err = 0, k;

	for (k = 0; k < n && !err; k++) {
		bench_progress(c, "trial %zu/%zu: %s", i + 1, (size_t)c->trials,
			       arm_name(c, seq[k]));
		err = measure_arm(c, seq[k], i, c->duration_ms, false, &t[k]);
	}
	if (err) {
		for (int j = 0; j < k; j++)
			json_decref(t[j].detail);
		return err;
	}
	if (n == 3) {
		for (int k2 = 0; k2 < 3; k2++)
			s->seq[i][k2] = t[k2].v[0];
		for (int m = 0; m < BENCH_MAX_METRICS; m++)
			t[0].v[m] = (t[0].v[m] + t[2].v[m]) / 2;
		json_decref(t[2].detail);
	}
	for (k = 0; k < (n == 3 ? 2 : n); k++)
		keep(s, seq[k], i, t[k].v, t[k].detail);
	s->main_first[i] = seq[0] == ARM_MAIN;
	for (int m = 0; paired(c) && m < BENCH_MAX_METRICS; m++)
		s->cmp[m][i] = compare(c->compare, s->v[ARM_MAIN][m][i], s->v[ARM_REF][m][i]);
	return 0;
}

static double median_of(const double *x, size_t n)
{
	struct summary s;

	return summarize(x, n, &s) ? NAN : s.median;
}

/* cmp[0] of the n trials by the machine's state (the ref's level). */
static void split_regimes(const struct bench_cell *c, struct bench_series *s, size_t n)
{
	double *ref = s->v[ARM_REF][0], qb[BENCH_MAX_TRIALS], sb[BENCH_MAX_TRIALS];
	struct summary q;

	s->regime.nquiet = s->regime.nslow = 0;
	if (c->regime_split)
		regime_split(ref, n, &s->regime.threshold);
	else
		s->regime.threshold = INFINITY;
	for (size_t i = 0; i < n; i++) {
		bool quiet = ref[i] <= s->regime.threshold;

		if (quiet) {
			qb[s->regime.nquiet] = ref[i];
			s->regime.quiet[s->regime.nquiet++] = s->cmp[0][i];
		} else {
			sb[s->regime.nslow] = ref[i];
			s->regime.slow[s->regime.nslow++] = s->cmp[0][i];
		}
	}
	s->regime.two_states = s->regime.nslow > 0;
	s->regime.quiet_ref = median_of(qb, s->regime.nquiet);
	s->regime.slow_ref = median_of(sb, s->regime.nslow);
	/* Below 6 trials no order-statistic interval reaches 95%. */
	s->regime.target_met = c->ci_target > 0 && !summarize(s->regime.quiet, s->regime.nquiet, &q) &&
			       q.ci_level >= 0.95 && (q.ci_hi - q.ci_lo) / 2 <= c->ci_target;
}

/* The planned trials, then more in batches until the CI target is met. */
static int trials(struct bench_cell *c, struct bench_series *s)
{
	size_t max_n = max_trials(c), i;
	int err = 0;

	s->planned = c->trials;
	for (i = 0; i < max_n && !err && !run_stopping(); i++) {
		if (i >= c->trials && i % EXTEND_BATCH == 0 && paired(c)) {
			split_regimes(c, s, i);
			if (s->regime.target_met)
				break;
		}
		err = one_trial(c, i, s);
		if (err == -EIO) {
			pr_debug("%s %s: trial %zu had no usable reading; measuring it again\n",
				 c->bench->name, c->hook->name, i + 1);
			err = one_trial(c, i, s);
		}
	}
	if (!err && paired(c))
		split_regimes(c, s, s->n[ARM_MAIN]);
	return err;
}

/* The other methods, planned-trials times each. */
static int post_arms(struct bench_cell *c, struct bench_series *s)
{
	struct bench_trial t;
	int err = 0;

	for (int a = ARM_POST1; a < ARM__COUNT && !err; a++) {
		for (size_t i = 0; (c->arms & ARM_BIT(a)) && i < c->trials && !run_stopping(); i++) {
			bench_progress(c, "%s %zu/%zu", arm_name(c, a), i + 1, (size_t)c->trials);
			err = measure_arm(c, a, i, c->duration_ms, false, &t);
			if (err == -EOPNOTSUPP) {
				snprintf(s->unsupported[a], sizeof(s->unsupported[a]), "%s", t.why);
				s->n[a] = 0;
				json_decref(t.detail);
				err = 0;
				break;
			}
			if (err)
				break;
			keep(s, a, i, t.v, t.detail);
		}
	}
	return err;
}

static int warm_up(struct bench_cell *c)
{
	struct bench_trial t;
	int err = 0;

	for (int a = ARM_MAIN; a <= ARM_REF && !err && c->warmup_ms; a++) {
		if (!(c->arms & ARM_BIT(a)))
			continue;
		bench_progress(c, "warm-up: %s", arm_name(c, a));
		err = measure_arm(c, a, 0, c->warmup_ms, true, &t);
		json_decref(t.detail);
	}
	return err;
}

int bench_cell_measure(struct bench_cell *c, struct bench_series *s)
{
	const struct bench *b = c->bench;
	int err = series_alloc(s, max_trials(c));

	if (!err && b->priv_size && !(c->priv = calloc(1, b->priv_size)))
		err = -ENOMEM;
	if (!err && b->setup)
		err = b->setup(c);
	if (!err && c->refused[0])
		return 0;
	if (!err)
		err = warm_up(c);
	if (!err)
		err = trials(c, s);
	if (!err)
		err = post_arms(c, s);
	if (!err && run_stopping())
		err = -EINTR;
	return err;
}

void bench_cell_finish(struct bench_cell *c, struct bench_series *s)
{
	if (c->bench->teardown && (c->priv || !c->bench->priv_size))
		c->bench->teardown(c);
	free(c->priv);
	c->priv = NULL;
	series_free(s);
}
