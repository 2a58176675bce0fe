/*
 * The bench framework's method with a bench that measures nothing: the arms
 * in the order asked for, compare arrays, sandwich averaging, extension to
 * a CI target, a POST method the kernel refuses; and the plan's cells.
 */
#include <errno.h>
#include <string.h>
#include "bench/framework.h"
#include "lib/util.h"
#include "tests/test.h"

struct fake {
	char order[512];          /* arms as measured: M, R, 1, 2; w: warm-up */
	size_t calls;
	double main_v, ref_v;     /* values the arms give */
	bool refuse_post2;
};

static bool accelerate;

static int fake_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct fake *f = c->priv;
	static const char tag[ARM__COUNT] = { 'M', 'R', '1', '2' };
	size_t n = strlen(f->order);

	if (n + 2 < sizeof(f->order)) {
		f->order[n] = t->warmup ? 'w' : tag[t->arm];
		f->order[n + 1] = '\0';
	}
	f->calls++;
	if (t->arm == ARM_POST2 && f->refuse_post2) {
		snprintf(t->why, sizeof(t->why), "refused on purpose");
		return -EOPNOTSUPP;
	}
	/* Both drift with time (calls); main accelerating when asked: no
	 * pairing cancels that, a sandwich cancels a linear drift. */
	t->v[0] = (t->arm == ARM_MAIN ? f->main_v : f->ref_v) +
		  (double)f->calls * (t->arm == ARM_MAIN && accelerate ? (double)f->calls : 1);
	t->v[1] = t->arm == ARM_MAIN ? 50 : 100;
	return 0;
}

static const struct bench fake_bench = {
	.name = "fake", .summary = "test", .priv_size = sizeof(struct fake), .trial = fake_trial,
};

static void cell_for(struct bench_cell *c, unsigned arms, enum bench_pairing p, size_t trials)
{
	bench_cell_init(c, &fake_bench, hook_get(0));
	c->arms = arms;
	c->pairing = p;
	c->compare = CMP_DELTA;
	c->trials = trials;
	c->warmup_ms = 0;
}

OLAB_TEST(bench_framework_pairing_orders)
{
	static const struct {
		enum bench_pairing p;
		const char *want;
	} cases[] = {
		{ PAIR_REF_FIRST, "RMRMRM" },
		{ PAIR_ALTERNATE, "RMMRRM" },
		{ PAIR_SANDWICH, "RMRMRMRMR" },
	};

	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		struct bench_cell c;
		struct bench_series s;

		cell_for(&c, ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF), cases[k].p, 3);
		if (ASSERT_OK(bench_cell_measure(&c, &s), "measure")) {
			ASSERT_STREQ(((struct fake *)c.priv)->order, cases[k].want, "arm order");
			ASSERT_EQ(s.n[ARM_MAIN], 3, "main trials");
			ASSERT_EQ(s.n[ARM_REF], 3, "ref trials");
			ASSERT_EQ(s.main_first[1], cases[k].p != PAIR_REF_FIRST, "second trial's order");
		}
		bench_cell_finish(&c, &s);
	}
}

OLAB_TEST(bench_framework_compare_and_sandwich)
{
	struct bench_cell c;
	struct bench_series s;
	struct fake *f;

	cell_for(&c, ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF), PAIR_SANDWICH, 2);
	c.compare = CMP_COST_PCT;
	if (!ASSERT_OK(bench_cell_measure(&c, &s), "measure"))
		goto out;
	f = c.priv;
	ASSERT_STREQ(f->order, "RMRMRM", "sandwiches");
	/* trial 0: R(call 1) M R(call 3): ref = mean(1, 3) = 2, main 0 */
	ASSERT_DBL_NEAR(s.v[ARM_REF][0][0], 2, 1e-12, "outer windows averaged");
	ASSERT_DBL_NEAR(s.seq[0][0], 1, 1e-12, "first window kept as measured");
	ASSERT_DBL_NEAR(s.seq[0][2], 3, 1e-12, "third window kept as measured");
	/* trial 1: M R(call 5) M: ref 5 */
	ASSERT_DBL_NEAR(s.v[ARM_REF][0][1], 5, 1e-12, "inner ref");
	ASSERT_DBL_NEAR(s.cmp[1][0], 50, 1e-12, "cost % of metric 1: 1 - 50/100");
	ASSERT_EQ(s.regime.nquiet, 2, "one state: every trial quiet");
out:
	bench_cell_finish(&c, &s);
}

OLAB_TEST(bench_framework_extends_to_ci_target)
{
	struct bench_cell c;
	struct bench_series s;

	/* A growing delta never meets a 1e-9 target: 6x the planned trials. */
	accelerate = true;
	cell_for(&c, ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF), PAIR_REF_FIRST, 10);
	c.quick = false;
	c.ci_target = 1e-9;
	if (ASSERT_OK(bench_cell_measure(&c, &s), "measure")) {
		ASSERT_EQ(s.planned, 10, "planned");
		ASSERT_EQ(s.n[ARM_MAIN], 60, "extended to the limit");
		ASSERT_FALSE(s.regime.target_met, "target not met");
	}
	bench_cell_finish(&c, &s);
	accelerate = false;
	/* Linear drift: a sandwich's delta is constant and meets it at the first check. */
	cell_for(&c, ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF), PAIR_SANDWICH, 10);
	c.quick = false;
	c.ci_target = 1e-9;
	if (ASSERT_OK(bench_cell_measure(&c, &s), "measure")) {
		ASSERT_EQ(s.n[ARM_MAIN], 10, "no extension needed");
		ASSERT_TRUE(s.regime.target_met, "target met");
	}
	bench_cell_finish(&c, &s);
}

OLAB_TEST(bench_framework_post_arms)
{
	struct bench_cell c;
	struct bench_series s;
	struct fake *f;

	cell_for(&c, ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_POST1) | ARM_BIT(ARM_POST2), PAIR_REF_FIRST, 3);
	c.warmup_ms = 10;
	if (!ASSERT_OK(bench_cell_measure(&c, &s), "measure (priv)"))
		goto out;
	bench_cell_finish(&c, &s);
	cell_for(&c, ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_POST1) | ARM_BIT(ARM_POST2), PAIR_REF_FIRST, 3);
	c.warmup_ms = 10;
	/* priv is allocated by measure: refuse from the first POST2 call on */
	if (!ASSERT_OK(bench_cell_measure(&c, &s), "measure"))
		goto out;
	f = c.priv;
	ASSERT_STREQ(f->order, "wMMM111222", "warm-up, trials, then each method");
	ASSERT_EQ(s.n[ARM_POST1], 3, "post1");
	ASSERT_EQ(json_array_size(s.detail[ARM_MAIN]), 3, "a detail per trial");
out:
	bench_cell_finish(&c, &s);
}

static int refusing_trial(struct bench_cell *c, struct bench_trial *t)
{
	((struct fake *)c->priv)->refuse_post2 = true;
	return fake_trial(c, t);
}

OLAB_TEST(bench_framework_refused_method)
{
	struct bench fb = fake_bench;
	struct bench_cell c;
	struct bench_series s;

	fb.trial = refusing_trial;
	bench_cell_init(&c, &fb, hook_get(0));
	c.arms = ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_POST2);
	c.trials = 3;
	c.warmup_ms = 0;
	if (ASSERT_OK(bench_cell_measure(&c, &s), "a refused method is not a failure")) {
		ASSERT_EQ(s.n[ARM_POST2], 0, "no figures");
		ASSERT_STREQ(s.unsupported[ARM_POST2], "refused on purpose", "the reason");
		ASSERT_STREQ(((struct fake *)c.priv)->order, "MMM2", "tried once");
	}
	bench_cell_finish(&c, &s);
}

static size_t count_cells(const char *bench, const char *hooks, const char *layouts,
			  const char *sizes, char *why)
{
	struct bench_opts o = { .out = "/tmp", .only = -1, .warmup_ms = BENCH_WARMUP_MS };
	struct bench_plan *p;
	size_t n;

	for (size_t i = 0; i < bench_count(); i++)
		if (!strcmp(bench_get(i)->name, bench))
			o.only = (int)i;
	o.axis[AXIS_HOOK] = hooks;
	o.axis[AXIS_LAYOUT] = layouts;
	o.axis[AXIS_SIZE] = sizes;
	if (bench_plan_make(&o, &p, why, 256))
		return 0;
	n = bench_plan_count(p);
	bench_plan_free(p);
	return n;
}

/* Cells from the hook table: drop measures programs at one layout and the
 * baselines at two; lists multiply. */
OLAB_TEST(bench_framework_plan_cells)
{
	size_t programs = 0, baselines = 0;
	char why[256] = "";

	for (size_t i = 0; i < hook_count(); i++) {
		if (hook_has_program(hook_get(i)))
			programs++;
		else
			baselines++;
	}
	ASSERT_EQ(count_cells("drop", NULL, NULL, NULL, why), programs + 2 * baselines, why);
	ASSERT_EQ(count_cells("overhead", NULL, NULL, NULL, why), programs, why);
	ASSERT_EQ(count_cells("drop", "udp-socket", NULL, "64,128,64", why), 4, "sizes x layouts");
	ASSERT_EQ(count_cells("drop", hook_get(0)->name, "app-own-cpu", NULL, why), 1,
		  "a layout the user asks for is measured");
	ASSERT_EQ(count_cells("drop", NULL, NULL, "63", why), 0, "size out of range");
	ASSERT_STRCONTAINS(why, "--size", "names the option");
	ASSERT_EQ(count_cells("overhead", "udp-socket", NULL, NULL, why), 0, "no program");
	ASSERT_STRCONTAINS(why, "does not apply", "why");
	ASSERT_EQ(count_cells("drop", "bogus", NULL, NULL, why), 0, "unknown hook");
	ASSERT_STRCONTAINS(why, "unknown value 'bogus'", "why");
}
