/*
 * bench summarize's figures: throughput per arm, CPU ns per request per
 * CPU and of the app, the speedup offload / user space per pair of trials
 * (median and CI), and the break-even p of each (hook, layout, proto,
 * size): the largest p such that the speedup's CI lower bound is above 1
 * at it and at every smaller p measured (the offload wins below it); the
 * largest winning p alone is in its extra.
 */
#include <stdlib.h>
#include <string.h>
#include "bench/summarize.h"
#include "lib/stats.h"

/* Published: summarization of 1024 B requests to 16 B (kpps), offload over
 * the UDP socket app (anchor-figures.md, bpf_preproc_reduce_size/old). */
#define PUB_SOCKET_KPPS 545.0
static double published_ratio(const struct hook_desc *h)
{
	if (!strncmp(h->name, "xdp", 3))
		return 512.0 / PUB_SOCKET_KPPS;
	if (!strncmp(h->name, "tc", 2))
		return 505.0 / PUB_SOCKET_KPPS;
	return 140.0 / PUB_SOCKET_KPPS; /* SK_SKB */
}

/* The cells of one (hook, layout, proto, size) follow each other, p innermost. */
static struct {
	const struct hook_desc *h;
	enum bench_layout l;
	bool tcp;
	uint64_t size;
	int best;             /* largest winning p so far, -1: none */
	int below;            /* largest p with a win at every p up to it, -1: none */
	bool all_won;
	json_t *seen;         /* [{pct, wins}] */
} group;

static int break_even_add(const struct bench_cell *c, bool wins)
{
	if (group.h != c->hook || group.l != c->layout || group.tcp != c->tcp ||
	    group.size != c->size) {
		json_decref(group.seen);
		group.h = c->hook;
		group.l = c->layout;
		group.tcp = c->tcp;
		group.size = c->size;
		group.best = group.below = -1;
		group.all_won = true;
		group.seen = json_array();
	}
	group.all_won &= wins;
	if (group.all_won)
		group.below = (int)c->pct;
	json_array_append_new(group.seen, json_pack("{s:i, s:b}", "pct", (int)c->pct, "wins", wins));
	if (wins && (int)c->pct > group.best)
		group.best = (int)c->pct;
	return group.below;
}

static const char *const metric_names[2][4] = {
	{ "rps", "cpu0_ns_per_req", "cpu1_ns_per_req", "app_ns_per_req" },
	{ "rps_user_space", "cpu0_ns_per_req_user_space", "cpu1_ns_per_req_user_space",
	  "app_ns_per_req_user_space" },
};

static const char *const metric_methods[4] = {
	"requests the app finished per second of the window (offload: summaries received, plus "
	"requests the program dropped at p = 0; user space: whole requests reassembled and "
	"summarized)",
	"CPU 0 user+system+softirq time (/proc/stat) per finished request; CPU 0 also runs the "
	"sender",
	"CPU 1 user+system+softirq time (/proc/stat) per finished request",
	"the app's own run time (schedstat) per finished request",
};

static void arm_figures(struct bench_cell *c, const struct bench_series *s, enum bench_arm a,
			json_t *extra)
{
	for (int m = 0; m < 4; m++) {
		json_t *e = m == 0 ? json_deep_copy(extra)
				   : json_pack("{s:s, s:b}", "proto", c->tcp ? "tcp" : "udp",
					       "primary", 0);

		if (m == 0)
			json_object_set(e, "per_trial", s->detail[a]);
		bench_figure(c, c->variant, metric_names[a == ARM_REF][m],
			     m == 0 ? "requests/s" : "ns/request", metric_methods[m], s->v[a][m],
			     s->n[a], e);
	}
}

static void speedup_figure(struct bench_cell *c, const struct bench_series *s, json_t *extra)
{
	size_t n = s->n[ARM_MAIN] < s->n[ARM_REF] ? s->n[ARM_MAIN] : s->n[ARM_REF];
	double *r = calloc(n ? n : 1, sizeof(*r));
	struct summary sm = { 0 };
	bool wins;
	int best;

	if (!r) {
		json_decref(extra);
		return;
	}
	for (size_t i = 0; i < n; i++)
		r[i] = s->v[ARM_REF][0][i] > 0 ? s->v[ARM_MAIN][0][i] / s->v[ARM_REF][0][i] : 0;
	wins = !summarize(r, n, &sm) && sm.ci_lo > 1;
	best = break_even_add(c, wins);
	json_object_set_new(extra, "offload_wins", json_boolean(wins));
	json_object_set_new(extra, "ci_level", json_real(sm.ci_level));
	json_object_set_new(extra, "break_even_pct_so_far", json_integer(best));
	json_object_set_new(extra, "largest_winning_pct_so_far", json_integer(group.best));
	json_object_set_new(extra, "pcts_so_far", json_deep_copy(group.seen));
	if (c->size == 1024 && c->pct == 10) {
		double pub = published_ratio(c->hook);

		json_object_set_new(extra, "published", json_real(pub));
		json_object_set_new(extra, "published_what", json_string(
			"offload/socket kpps, 1024 B requests summarized to 16 B (1.6 %), bare metal; "
			"anchor-figures.md, bpf_preproc_reduce_size/old"));
		json_object_set_new(extra, "ratio", json_real(sm.median / pub));
	}
	bench_figure(c, c->variant, "speedup", "x",
		     "offload rps / user-space rps, per pair of trials (alternating order)", r, n,
		     extra);
	if (c->pct == 100) {
		double v = best;

		bench_figure(c, c->variant, "break_even_pct", "%",
			     "largest p of this hook/layout/proto/size such that the speedup's CI "
			     "lower bound > 1 at it and every smaller p measured (-1: not even at "
			     "the smallest)", &v, 1,
			     json_pack("{s:O, s:i, s:s, s:b}", "pcts", group.seen,
				       "largest_winning_pct", group.best, "proto",
				       c->tcp ? "tcp" : "udp", "primary", 0));
	}
	free(r);
}

int summarize_report(struct bench_cell *c, const struct bench_series *s, json_t *extra)
{
	arm_figures(c, s, ARM_MAIN, extra);
	arm_figures(c, s, ARM_REF, extra);
	if (s->n[ARM_POST1])
		bench_figure(c, c->variant, "rps_none", "requests/s",
			     "no program; the app receives whole requests and does nothing with them",
			     s->v[ARM_POST1][0], s->n[ARM_POST1],
			     json_pack("{s:O, s:s, s:b}", "per_trial", s->detail[ARM_POST1], "proto",
				       c->tcp ? "tcp" : "udp", "primary", 0));
	speedup_figure(c, s, extra);
	return 0;
}
