#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lib/stats.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void sort_doubles(double *x, size_t n)
{
	qsort(x, n, sizeof(*x), cmp_double);
}

/* P(B <= k) for B ~ Binomial(n, 1/2). */
static double binom_cdf_half(size_t n, size_t k)
{
	double term = pow(0.5, (double)n), sum = 0;

	for (size_t i = 0; i <= k && i <= n; i++) {
		sum += term;
		term = term * (double)(n - i) / (double)(i + 1);
	}
	return sum;
}

size_t median_ci_rank(size_t n, double level, double *coverage)
{
	size_t k = 1;

	/* Largest k with coverage 1 - 2 P(B <= k-1) still >= level. */
	while (k + 1 <= (n + 1) / 2 && 1 - 2 * binom_cdf_half(n, k) >= level)
		k++;
	if (coverage)
		*coverage = n ? 1 - 2 * binom_cdf_half(n, k - 1) : 0;
	return k;
}

double percentile_sorted(const double *s, size_t n, double p)
{
	double pos, frac;
	size_t i;

	if (!n)
		return NAN;
	if (p <= 0)
		return s[0];
	if (p >= 100)
		return s[n - 1];
	pos = p / 100.0 * (double)(n - 1);
	i = (size_t)pos;
	frac = pos - (double)i;
	return i + 1 < n ? s[i] + frac * (s[i + 1] - s[i]) : s[i];
}

int summarize(const double *x, size_t n, struct summary *s)
{
	double *v, sum = 0, sq = 0;
	size_t k;

	memset(s, 0, sizeof(*s));
	if (!n)
		return -EINVAL;
	v = malloc(n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, x, n * sizeof(*v));
	sort_doubles(v, n);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->n = (int)n;
	s->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		sq += (v[i] - s->mean) * (v[i] - s->mean);
	s->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
	s->min = v[0];
	s->max = v[n - 1];
	s->median = percentile_sorted(v, n, 50);
	k = median_ci_rank(n, 0.95, &s->ci_level);
	s->ci_lo = v[k - 1];
	s->ci_hi = v[n - k];
	free(v);
	return 0;
}

double median_abs_dev(const double *x, size_t n)
{
	double *v = malloc(n * sizeof(*v)), med, mad;

	if (!n || !v) {
		free(v);
		return 0;
	}
	memcpy(v, x, n * sizeof(*v));
	sort_doubles(v, n);
	med = percentile_sorted(v, n, 50);
	for (size_t i = 0; i < n; i++)
		v[i] = fabs(v[i] - med);
	sort_doubles(v, n);
	mad = percentile_sorted(v, n, 50);
	free(v);
	return mad;
}

/* Otsu's cut of sorted v[lo, hi): the k maximising the variance between
 * v[lo, k) and v[k, hi); 0 when there is no range. */
static size_t otsu_cut(const double *v, size_t lo, size_t hi)
{
	double total = 0, left = 0, best = -1;
	size_t cut = 0;

	for (size_t i = lo; i < hi; i++)
		total += v[i];
	for (size_t k = lo + 1; k < hi; k++) {
		double n0 = (double)(k - lo), n1 = (double)(hi - k), m0, m1, between;

		left += v[k - 1];
		m0 = left / n0;
		m1 = (total - left) / n1;
		between = n0 * n1 * (m1 - m0) * (m1 - m0);
		if (between > best) {
			best = between;
			cut = k;
		}
	}
	return cut;
}

size_t regime_split(const double *x, size_t n, double *threshold)
{
	double *v = n ? malloc(n * sizeof(*v)) : NULL;
	size_t lo = 0, hi = n, cut = 0;

	*threshold = 0;
	if (!v)
		return n;
	memcpy(v, x, n * sizeof(*v));
	sort_doubles(v, n);
	*threshold = v[n - 1];
	/* A cut that leaves a group too small to be a state has found
	 * outliers: set them aside and cut the rest again. */
	while (hi - lo >= 2 * REGIME_MIN_TRIALS) {
		cut = otsu_cut(v, lo, hi);
		if (cut - lo < REGIME_MIN_TRIALS)
			lo = cut;
		else if (hi - cut < REGIME_MIN_TRIALS)
			hi = cut;
		else
			break;
		cut = 0;
	}
	if (cut) {
		double m0 = percentile_sorted(v + lo, cut - lo, 50);
		double m1 = percentile_sorted(v + cut, hi - cut, 50);
		double spread = 1.4826 * median_abs_dev(v + lo, cut - lo);

		if (m1 - m0 >= REGIME_MIN_STEP * fabs(m0) && m1 - m0 >= 8 * spread)
			*threshold = v[cut - 1];
		else
			cut = 0;
	}
	free(v);
	return cut ? cut : n;
}
