#include <math.h>
#include "lib/stats.h"
#include "tests/test.h"

OLAB_TEST(stats_median_odd_even)
{
	double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 };
	struct summary s;

	if (!ASSERT_OK(summarize(odd, 3, &s), "summarize odd"))
		return;
	ASSERT_DBL_NEAR(s.median, 3, 1e-12, "odd median");
	ASSERT_DBL_NEAR(s.min, 1, 1e-12, "min");
	ASSERT_DBL_NEAR(s.max, 5, 1e-12, "max");
	ASSERT_OK(summarize(even, 4, &s), "summarize even");
	ASSERT_DBL_NEAR(s.median, 2.5, 1e-12, "even median");
	ASSERT_DBL_NEAR(s.mean, 2.5, 1e-12, "mean");
	ASSERT_DBL_NEAR(s.stddev, sqrt(5.0 / 3.0), 1e-12, "sample stddev");
	ASSERT_EQ(summarize(even, 0, &s), -EINVAL, "empty input");
}

OLAB_TEST(stats_median_ci_coverage)
{
	double cov;

	/* n=5: only [min,max] is possible, coverage 1 - 2/32. */
	ASSERT_EQ(median_ci_rank(5, 0.95, &cov), 1, "rank n=5");
	ASSERT_DBL_NEAR(cov, 0.9375, 1e-12, "coverage n=5");
	/* n=6: [x1,x6] covers 1 - 2/64 = 0.96875; k=2 would give 0.78. */
	ASSERT_EQ(median_ci_rank(6, 0.95, &cov), 1, "rank n=6");
	ASSERT_DBL_NEAR(cov, 0.96875, 1e-12, "coverage n=6");
	/* n=20: textbook rank 6 (coverage 0.9586). */
	ASSERT_EQ(median_ci_rank(20, 0.95, &cov), 6, "rank n=20");
	ASSERT_DBL_NEAR(cov, 0.958611, 1e-5, "coverage n=20");
	ASSERT_GE(cov * 1000, 950, "coverage at least 95%");
}

OLAB_TEST(stats_ci_brackets_median)
{
	double x[20];
	struct summary s;

	for (int i = 0; i < 20; i++)
		x[i] = (i * 7) % 20; /* a permutation of 0..19 */
	ASSERT_OK(summarize(x, 20, &s), "summarize");
	ASSERT_DBL_NEAR(s.ci_lo, 5, 1e-12, "ci low is x_(6)");
	ASSERT_DBL_NEAR(s.ci_hi, 14, 1e-12, "ci high is x_(15)");
	ASSERT_TRUE(s.ci_lo <= s.median && s.median <= s.ci_hi, "median inside CI");
	ASSERT_DBL_NEAR(x[3], 1, 1e-12, "input left unsorted");
}

OLAB_TEST(stats_percentile)
{
	double v[] = { 10, 20, 30, 40, 50 };

	ASSERT_DBL_NEAR(percentile_sorted(v, 5, 0), 10, 1e-12, "p0");
	ASSERT_DBL_NEAR(percentile_sorted(v, 5, 50), 30, 1e-12, "p50");
	ASSERT_DBL_NEAR(percentile_sorted(v, 5, 99), 49.6, 1e-9, "p99");
	ASSERT_DBL_NEAR(percentile_sorted(v, 5, 100), 50, 1e-12, "p100");
	ASSERT_TRUE(isnan(percentile_sorted(v, 0, 50)), "empty is NaN");
}

OLAB_TEST(stats_regime_split)
{
	/* Per-trial path costs seen here: a fast state (~365 ns) and a slow one
	 * (~500 ns, wider), interleaved in time. */
	double two[] = { 366, 512, 369, 361, 500, 364, 488, 371, 365, 521, 360, 367, 495, 363, 549 };
	double one[40], outlier[] = { 365, 366, 364, 367, 363, 365, 788, 366, 364, 365 };
	double few[] = { 365, 366, 364, 367, 363, 500, 510 };
	double thr;
	size_t k;

	k = regime_split(two, 15, &thr);
	ASSERT_EQ(k, 9, "fast trials found");
	ASSERT_DBL_NEAR(thr, 371, 1e-9, "threshold: the slowest fast trial");
	/* One wide, unimodal spread (uniform 450..645): no regimes. */
	for (int i = 0; i < 40; i++)
		one[i] = 450 + 5 * ((i * 17) % 40);
	ASSERT_EQ(regime_split(one, 40, &thr), 40, "uniform: one state");
	ASSERT_EQ(regime_split(outlier, 10, &thr), 10, "one outlier is not a state");
	ASSERT_EQ(regime_split(few, 7, &thr), 7, "two trials are not a state");
	ASSERT_EQ(regime_split(two, 0, &thr), 0, "empty");
	/* Two states plus far outliers at both ends (a trial across a switch). */
	double both[] = { 366, 512, 369, 361, 500, 364, 488, 371, 365, 521, 360, 367, 495, 1500, 40 };
	k = regime_split(both, 15, &thr);
	ASSERT_EQ(k, 9, "8 fast trials and the low outlier, found past the outliers");
	ASSERT_DBL_NEAR(thr, 371, 1e-9, "threshold past the outliers");
}
