/*
 * The knob search: the largest value of one knob (the others at their
 * defaults) a combination still loads, on a grid of values: gallop from a
 * hint (another combination's limit, or the default) until the outcome
 * turns, then bisect between the last value that loads and the first that
 * does not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "bench/verifier.h"

static long grid_next(long v, bool coarse)
{
	if (coarse)
		return v * 2;
	if (v < 8)
		return v + 1;
	/* A quarter of the power of two at or below v. */
	return v + (1L << (63 - __builtin_clzl((unsigned long)v))) / 4;
}

/* Fine: every value to 8, then four steps per doubling (8 10 12 14 16 20 ...);
 * coarse: the powers of two.  From min (always in) to VF_KNOB_CAP. */
size_t vf_grid(bool coarse, long min, long *out, size_t cap)
{
	size_t n = 0;

	if (min < 1)
		min = 1;
	for (long v = 1; v <= VF_KNOB_CAP && n < cap; v = grid_next(v, coarse)) {
		if (v > min && n == 0)
			out[n++] = min;
		if (v >= min && n < cap)
			out[n++] = v;
	}
	return n;
}

struct search {
	struct vf_ctx *ctx;
	struct vf_point p;
	const long *grid;
	struct vf_limit *out;
	struct vf_outcome last_fail;
	int err;
};

/* Does grid[i] load?  A failure's outcome is kept for the report. */
static bool loads(struct search *s, size_t i)
{
	struct vf_outcome o;

	s->p.value = s->grid[i];
	s->err = vf_try(s->ctx, &s->p, false, &o);
	s->out->steps++;
	if (s->err)
		return false;
	if (o.stage == VF_LOADED)
		return true;
	s->last_fail = o;
	return false;
}

static size_t start_index(const long *grid, size_t n, long hint)
{
	size_t i = 0;

	while (i + 1 < n && grid[i + 1] <= hint)
		i++;
	return i;
}

/* lo loads (-1: none found), hi does not (n: none found): narrow them. */
static void gallop(struct search *s, size_t n, long *lo, long *hi, size_t start)
{
	size_t step = 1;

	if (loads(s, start)) {
		*lo = (long)start;
		while (!s->err && *lo + 1 < (long)n) {
			long j = *lo + (long)step < (long)n ? *lo + (long)step : (long)n - 1;

			if (!loads(s, (size_t)j)) {
				*hi = j;
				return;
			}
			*lo = j;
			step *= 2;
		}
		return;
	}
	*hi = (long)start;
	while (!s->err && *hi > 0) {
		long j = *hi - (long)step > 0 ? *hi - (long)step : 0;

		if (loads(s, (size_t)j)) {
			*lo = j;
			return;
		}
		*hi = j;
		step *= 2;
	}
}

int vf_limit_search(struct vf_ctx *ctx, const struct vf_point *p, int knob, bool coarse,
		    long hint, struct vf_limit *out)
{
	long grid[64], lo = -1, hi;
	size_t n = vf_grid(coarse, vf_knobs[knob].min, grid, 64);
	struct search s = { .ctx = ctx, .p = *p, .grid = grid, .out = out };

	*out = (struct vf_limit){ 0 };
	if (!n || vf_knobs[knob].flag)
		return -EINVAL;
	hi = (long)n;
	s.p.knob = knob;
	gallop(&s, n, &lo, &hi, start_index(grid, n, hint > 0 ? hint : vf_knobs[knob].def));
	while (!s.err && hi - lo > 1) {
		long m = lo + (hi - lo) / 2;

		if (loads(&s, (size_t)m))
			lo = m;
		else
			hi = m;
	}
	if (s.err)
		return s.err;
	out->limit = lo >= 0 ? grid[lo] : 0;
	out->capped = hi >= (long)n;
	out->next = out->capped ? 0 : grid[hi];
	if (!out->capped) {
		out->next_stage = s.last_fail.stage;
		out->next_processed = s.last_fail.processed_insns;
		snprintf(out->next_reason, sizeof(out->next_reason), "%s", s.last_fail.reason);
	}
	return 0;
}
