/*
 * bench summarize against the real kernel: fixed-count runs (closed loop
 * for UDP, so nothing is lost) at xdp, tc, sk-skb-parser and
 * sk-skb-verdict (TCP and UDP), asserting the summary bytes the app got, one summary per
 * request, every request counted once, and p = 0 giving nothing.
 */
#include <stdlib.h>
#include "bench/summarize.h"
#include "lib/util.h"
#include "tests/test.h"

#define NREQ 2000

struct sum_case {
	const char *hook;
	uint32_t size;
	unsigned pct;
	enum bench_arm arm;
	bool udp;      /* UDP at a stream hook (its socket in the sockhash) */
};

static const struct sum_case cases[] = {
	{ "xdp", 256, 50, ARM_MAIN },
	{ "xdp", 256, 0, ARM_MAIN },
	{ "xdp", 4096, 10, ARM_MAIN },   /* three datagrams, one summary */
	{ "xdp", 8192, 50, ARM_MAIN },   /* capped at the final datagram's 1464 B */
	{ "xdp", 4096, 50, ARM_REF },    /* user space: reassembled, summarized */
	{ "tc", 256, 50, ARM_MAIN },
	{ "tc", 2048, 25, ARM_MAIN },
	{ "tc", 1024, 0, ARM_MAIN },
	{ "tcx", 256, 50, ARM_MAIN },
	{ "xdp-generic", 4096, 10, ARM_MAIN },
	{ "sk-skb-parser", 256, 50, ARM_MAIN },
	{ "sk-skb-parser", 1024, 0, ARM_MAIN },
	{ "sk-skb-parser", 1024, 100, ARM_MAIN },
	{ "sk-skb-parser", 1024, 25, ARM_REF },
	{ "sk-skb-verdict", 1024, 50, ARM_MAIN },
	{ "sk-skb-verdict", 256, 50, ARM_MAIN, true },
	{ "sk-skb-verdict", 8192, 25, ARM_MAIN, true },  /* multi-datagram, capped */
	{ "sk-skb-verdict", 1024, 0, ARM_MAIN, true },
};

static void check_udp_main(const struct sum_case *k, const struct sum_count_result *r)
{
	uint64_t nseg = sum_segments(k->size);

	ASSERT_EQ(r->prog.datagrams, NREQ * nseg, "program saw every datagram");
	ASSERT_EQ(r->prog.requests_done, NREQ, "program completed every request once");
	ASSERT_EQ(r->prog.segs_held, NREQ * (nseg - 1), "non-final segments dropped");
	ASSERT_EQ(r->prog.errors, 0, "program errors");
	if (!k->pct) {
		ASSERT_EQ(r->prog.requests_dropped, NREQ, "p = 0: the program dropped every request");
		ASSERT_EQ(r->app.datagrams, 0, "p = 0: the app got nothing");
		ASSERT_EQ(r->app.summary_bytes, 0, "p = 0: no summary bytes");
		return;
	}
	/* At a stream hook one read may hold several summaries: records counted. */
	if (!hook_on_sockmap(hook_by_name(k->hook)))
		ASSERT_EQ(r->app.datagrams, NREQ, "exactly one summary datagram per request");
	ASSERT_EQ(r->app.requests, NREQ, "app finished every request (one summary each)");
	ASSERT_EQ(r->app.bad, 0, "datagrams without a header");
	ASSERT_EQ(r->app.summary_bytes, NREQ * r->expect_summary, "summary bytes the app got");
	ASSERT_EQ(r->prog.summary_bytes, NREQ * r->expect_summary, "summary bytes the program passed");
	ASSERT_EQ(r->prog.capped, r->capped ? NREQ : 0, "capped summaries");
}

static void check_tcp_main(const struct sum_case *k, const struct sum_count_result *r,
			   bool parser)
{
	uint64_t sent = (uint64_t)NREQ * k->size;

	ASSERT_EQ(r->prog.bytes_in, sent, "program saw every request byte");
	ASSERT_EQ(r->prog.errors, 0, "program errors (redirects)");
	ASSERT_EQ(r->app.sockmap_added, 1, "the app's socket went in the sockhash");
	if (!parser) {
		/* Unframed: pct % of each skb, rounded down per skb. */
		ASSERT_EQ(r->app.summary_bytes, r->prog.summary_bytes, "app got what was passed");
		ASSERT_LE(r->app.summary_bytes, sent * k->pct / 100, "at most pct % of the stream");
		ASSERT_GE(r->app.summary_bytes + r->prog.datagrams, sent * k->pct / 100,
			  "pct % of each skb, rounded down");
		return;
	}
	ASSERT_EQ(r->prog.requests_done, NREQ, "every request framed and counted once");
	if (!k->pct) {
		ASSERT_EQ(r->prog.requests_dropped, NREQ, "p = 0: every request dropped");
		ASSERT_EQ(r->app.bytes, 0, "p = 0: the app got nothing");
		return;
	}
	ASSERT_EQ(r->app.summary_bytes, NREQ * r->expect_summary, "summary bytes the app got");
	ASSERT_EQ(r->app.requests, NREQ, "one summary per request");
}

static void check_ref(const struct sum_case *k, const struct sum_count_result *r, bool tcp)
{
	uint32_t sum = sum_len_of(k->size, k->pct);

	ASSERT_EQ(r->app.requests, NREQ, "app reassembled every request");
	ASSERT_EQ(r->app.incomplete, 0, "incomplete requests");
	ASSERT_EQ(r->app.summary_bytes, (uint64_t)NREQ * sum, "app extracted pct % of each");
	ASSERT_EQ(r->prog.datagrams, 0, "no program ran");
	if (!tcp)
		ASSERT_EQ(r->app.datagrams, NREQ * sum_segments(k->size), "every datagram");
}

static void run_case(const struct sum_case *k)
{
	const struct hook_desc *h = hook_by_name(k->hook);
	struct sum_count_result r;
	char why[256];
	bool tcp;

	if (!ASSERT_OK_PTR(h, "hook"))
		return;
	if (hook_supported(h, why, sizeof(why))) {
		test_skip("%s: %s", h->name, why);
		return;
	}
	tcp = hook_is_tcp(h) && !k->udp;
	if (!ASSERT_OK(summarize_count_run(h, LAYOUT_RX_CPU1, tcp, k->size, k->pct, k->arm, NREQ, &r),
		       "summarize_count_run"))
		return;
	fprintf(stderr, "  %s size %u pct %u %s: sent %llu, app requests %llu, summary bytes %llu, "
		"program done %llu dropped %llu\n", k->hook, k->size, k->pct,
		k->arm == ARM_MAIN ? "offload" : "user space", (unsigned long long)r.sent.requests,
		(unsigned long long)r.app.requests, (unsigned long long)r.app.summary_bytes,
		(unsigned long long)r.prog.requests_done, (unsigned long long)r.prog.requests_dropped);
	ASSERT_EQ(r.sent.requests, NREQ, "sent every request");
	ASSERT_EQ(r.sent.err, 0, "sender");
	if (k->arm == ARM_REF)
		check_ref(k, &r, tcp);
	else if (tcp)
		check_tcp_main(k, &r, h->parser);
	else
		check_udp_main(k, &r);
}

OLAB_TEST(bench_summarize_counts)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct sum_case *k = &cases[i];

		bool tcp = hook_is_tcp(hook_by_name(k->hook)) && !k->udp;

		if (test_subtest("%s-%s-%u-%u-%s", k->hook, tcp ? "tcp" : "udp", k->size, k->pct,
				 k->arm == ARM_MAIN ? "offload" : "user"))
			run_case(k);
	}
}
OLAB_TEST_TIMEOUT(bench_summarize_counts, 120);
