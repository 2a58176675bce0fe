/*
 * bench interfere against the real kernel: xdp, ω = 50 %, cost 0 and 1000
 * bpf_loop rounds, a fixed number of requests a trial.  With the offload
 * every fast-path request is answered at the hook (the program's count, the
 * reply's made_at mark) and the app answers exactly the second flow; without
 * it the two user-space echo apps answer everything.  No reply is lost,
 * altered or crosses to the other flow.
 */
#include <jansson.h>
#include "bench/interfere_client.h"
#include "lib/util.h"
#include "tests/test.h"

#define REQUESTS 2000 /* a trial, both flows */

static void check_offload(const struct ifr_arm_total *a, uint64_t fast, uint64_t app)
{
	const struct ifr_flow *f = &a->flow[IFR_FLOW_FAST], *s = &a->flow[IFR_FLOW_APP];

	ASSERT_EQ(a->ntrials, 1, "offload: one kept trial");
	ASSERT_EQ(f->sent, fast, "fast-path requests sent");
	ASSERT_EQ(s->sent, app, "second-flow requests sent");
	/* The fast path: all at the hook. */
	ASSERT_EQ(a->prog.redirected, f->sent, "program's replies == fast-path requests");
	ASSERT_EQ(f->replies, f->sent, "every fast-path request got a reply");
	ASSERT_EQ(f->at_hook, f->sent, "every fast-path reply made at the hook");
	ASSERT_EQ(a->prog.errors, 0, "program errors");
	ASSERT_EQ(a->fast_app_packets, 0, "the fast-path app got nothing");
	/* The second flow: all by the app, through the program. */
	ASSERT_GE(a->prog.passed, s->sent, "program passed the second flow");
	ASSERT_EQ(a->app_packets, s->sent, "app received exactly the second flow");
	ASSERT_EQ(a->app_sent, s->sent, "app answered exactly the second flow");
	ASSERT_EQ(s->replies, s->sent, "every second-flow request got a reply");
	ASSERT_EQ(s->by_app, s->sent, "every second-flow reply made by the app");
	ASSERT_EQ(s->at_hook, 0, "no second-flow reply made at the hook");
}

static void check_user(const struct ifr_arm_total *a, uint64_t fast, uint64_t app)
{
	const struct ifr_flow *f = &a->flow[IFR_FLOW_FAST], *s = &a->flow[IFR_FLOW_APP];

	ASSERT_EQ(a->ntrials, 1, "user space: one kept trial");
	ASSERT_EQ(f->sent, fast, "fast-path requests sent");
	ASSERT_EQ(s->sent, app, "second-flow requests sent");
	ASSERT_EQ(a->prog.packets, 0, "no program attached");
	ASSERT_EQ(a->fast_app_packets, f->sent, "fast-path app received its flow");
	ASSERT_EQ(a->fast_app_sent, f->sent, "fast-path app answered its flow");
	ASSERT_EQ(a->app_packets, s->sent, "app received exactly the second flow");
	ASSERT_EQ(a->app_sent, s->sent, "app answered exactly the second flow");
	ASSERT_EQ(f->by_app, f->sent, "every fast-path reply made in user space");
	ASSERT_EQ(s->by_app, s->sent, "every second-flow reply made in user space");
	ASSERT_EQ(f->at_hook + s->at_hook, 0, "no reply made at the hook");
}

static void check_clean(const struct ifr_arm_total *a)
{
	for (int k = 0; k < 2; k++) {
		const struct ifr_flow *f = &a->flow[k];

		ASSERT_EQ(f->lost, 0, "lost");
		ASSERT_EQ(f->bad, 0, "altered replies");
		ASSERT_EQ(f->crossed, 0, "replies of the other flow");
		ASSERT_EQ(f->late, 0, "late replies");
	}
}

static void interfere_cell(const struct bench *b, const struct hook_desc *h, unsigned cost)
{
	struct bench_series s;
	struct bench_cell c;

	bench_cell_init(&c, b, h);
	c.pct = 50;
	c.cost = cost;
	c.trials = 1;
	c.duration_ms = 10000; /* a cap: the trial ends after REQUESTS */
	c.warmup_ms = 100;
	if (ASSERT_OK(bench_cell_measure(&c, &s), "bench_cell_measure")) {
		const struct ifr_result *r = bench_interfere_result(&c);

		fprintf(stderr, "  xdp cost %u: offload fast %llu at hook, app %llu; user %llu + %llu\n",
			cost, (unsigned long long)r->arm[ARM_MAIN].flow[1].at_hook,
			(unsigned long long)r->arm[ARM_MAIN].app_packets,
			(unsigned long long)r->arm[ARM_REF].fast_app_packets,
			(unsigned long long)r->arm[ARM_REF].app_packets);
		ASSERT_EQ(s.n[ARM_MAIN], 1, "offload trials");
		ASSERT_EQ(s.n[ARM_REF], 1, "user-space trials");
		ASSERT_GE(r->len, sizeof(struct ifr_msg), "request carries its header");
		check_offload(&r->arm[ARM_MAIN], REQUESTS / 2, REQUESTS / 2);
		check_user(&r->arm[ARM_REF], REQUESTS / 2, REQUESTS / 2);
		check_clean(&r->arm[ARM_MAIN]);
		check_clean(&r->arm[ARM_REF]);
	}
	bench_cell_finish(&c, &s);
}

OLAB_TEST(bench_interfere_xdp)
{
	const struct bench *b = bench_by_name("interfere");
	const struct hook_desc *h = hook_by_name("xdp");
	static const unsigned costs[] = { 0, 1000 };
	char why[256];

	if (!ASSERT_OK_PTR(b, "interfere bench") || !ASSERT_OK_PTR(h, "xdp hook"))
		return;
	if (hook_supported(h, why, sizeof(why))) {
		test_skip("xdp: %s", why);
		return;
	}
	bench_interfere_fixed_requests(REQUESTS);
	for (size_t i = 0; i < ARRAY_SIZE(costs); i++)
		if (test_subtest("cost %u", costs[i]))
			interfere_cell(b, h, costs[i]);
	bench_interfere_fixed_requests(0);
}
OLAB_TEST_TIMEOUT(bench_interfere_xdp, 60);
