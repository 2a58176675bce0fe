/* Summaries of repeated trials: median with a distribution-free 95% CI. */
#ifndef OLAB_STATS_H
#define OLAB_STATS_H
#include <stddef.h>

struct summary {
	int n;
	double median;
	double ci_lo, ci_hi;   /* order-statistic CI of the median */
	double ci_level;       /* its exact coverage (e.g. 0.9375 for n=5) */
	double mean, stddev, min, max;
};

/* Summarise x[0..n) (not modified); 0 or -EINVAL when n == 0. */
int summarize(const double *x, size_t n, struct summary *s);
/* Rank k (1-based) such that [x_(k), x_(n+1-k)] covers the median with
 * probability >= level, or the widest interval when n is too small;
 * *coverage gets the exact coverage. */
size_t median_ci_rank(size_t n, double level, double *coverage);
/* p in [0,100] of a sorted array, linear interpolation. */
double percentile_sorted(const double *sorted, size_t n, double p);
void sort_doubles(double *x, size_t n);

/*
 * Two states of the machine in one series?  x[0..n) are per-trial costs of
 * the same path.  Take the cut that best separates them (Otsu: most
 * variance between the two groups; groups smaller than REGIME_MIN_TRIALS
 * at either end are outliers, set aside before cutting again); keep it
 * only when the upper median stands above the lower one by at
 * least REGIME_MIN_STEP of it and by 8 robust SDs (1.4826 MAD) of the lower
 * group, which one wide, unimodal spread never does.  Returns how many
 * trials are in the lower state (n: one state) and *threshold, the largest
 * of them (x <= threshold: lower state).
 */
#define REGIME_MIN_TRIALS 3
#define REGIME_MIN_STEP 0.10
size_t regime_split(const double *x, size_t n, double *threshold);
/* Median of |x - median|. */
double median_abs_dev(const double *x, size_t n);

#endif
