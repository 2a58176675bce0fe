/*
 * bench batch against the real kernel: a fixed number of requests that is
 * not a multiple of B goes through the batching program at xdp, tc,
 * sk-skb-verdict (UDP) and sk-skb-parser (TCP), and every request must be counted exactly once: by the
 * app (ids in a bitmap, no duplicates), and by the program as B-request
 * batches plus the timer's flush of the rest.  The timer is long (0.5 s)
 * against the sender's pace (5k requests/s), so only the last partial
 * batch is flushed and the batch counts are exact.
 */
#include <stdlib.h>
#include "bench/batch.h"
#include "bench/bench.h"
#include "lib/util.h"
#include "tests/test.h"

#define N_REQ     1003          /* 125 x 8 + 3: a multiple of neither 4 nor 8 */
/* Slow: a NAPI thread starved by other load for 50 ms still drops nothing
 * from its veth's 256-frame ring. */
#define RATE      5000
#define FLUSH_US  500000

static void check_held_hook(unsigned b, const struct batch_exact *r, bool packets)
{
	const struct batch_cpu_stats *p = &r->prog;
	uint64_t full = N_REQ / b, rest = N_REQ % b;

	ASSERT_EQ(r->app_requests, N_REQ, "the app got every request");
	ASSERT_EQ(p->batched_reqs + p->flushed_reqs, N_REQ, "batched + flushed by the timer = sent");
	ASSERT_EQ(p->batches + p->ring_batches, full, "floor(sent / B) full batches");
	ASSERT_EQ(p->batched_reqs, full * b, "full batches hold B requests each");
	ASSERT_EQ(p->flushed_reqs, rest, "the timer flushed the last sent % B");
	ASSERT_EQ(p->flushes, rest ? 1 : 0, "one flush");
	ASSERT_EQ(p->held, N_REQ - full, "every request but each batch's last was held");
	ASSERT_EQ(p->errors, 0, "errors");
	/* A socket's ingress queue (verdict) may join datagrams in one read. */
	if (packets)
		ASSERT_EQ(r->datagrams, p->batches, "one datagram per batch packet");
	ASSERT_EQ(r->ring_records, p->ring_batches + p->flushes, "ringbuf records");
	ASSERT_EQ(r->ring_requests, p->ring_batches * b + p->flushed_reqs, "ringbuf requests");
}

static void check_parser_hook(unsigned b, const struct batch_exact *r)
{
	const struct batch_cpu_stats *p = &r->prog;
	uint64_t full = N_REQ / b;

	/* A parser has no timer: the last partial batch never leaves it. */
	ASSERT_EQ(r->app_requests, full * b, "the app got the full batches");
	ASSERT_EQ(p->batches, full, "one verdict per B requests");
	ASSERT_EQ(p->batched_reqs, full * b, "requests in verdicts");
	ASSERT_EQ(p->flushed_reqs, 0, "no timer at a parser");
	ASSERT_EQ(p->errors, 0, "redirect errors");
	ASSERT_EQ(r->ring_records, 0, "no ringbuf");
}

static void batch_hook(const char *name, bool tcp, unsigned b)
{
	const struct hook_desc *h = hook_by_name(name);
	struct batch_exact r;
	char why[256];

	if (!ASSERT_OK_PTR(h, "hook"))
		return;
	if (hook_supported(h, why, sizeof(why))) {
		test_skip("%s: %s", name, why);
		return;
	}
	if (!ASSERT_OK(batch_exact_run(h, tcp, b, N_REQ, RATE, FLUSH_US, &r), "batch_exact_run"))
		return;
	fprintf(stderr, "  %s B=%u: sent %llu, app %llu, packets %llu, ring %llu+%llu, flushed %llu\n",
		name, b, (unsigned long long)r.sent, (unsigned long long)r.app_requests,
		(unsigned long long)r.prog.batches, (unsigned long long)r.prog.ring_batches,
		(unsigned long long)r.prog.flushes, (unsigned long long)r.prog.flushed_reqs);
	ASSERT_EQ(r.sent, N_REQ, "sender sent them all");
	ASSERT_EQ(r.dups, 0, "no request id twice");
	ASSERT_EQ(r.bad, 0, "no malformed request");
	if (tcp)
		check_parser_hook(b, &r);
	else
		check_held_hook(b, &r, hook_on_device(h));
}

OLAB_TEST(bench_batch)
{
	static const struct {
		const char *hook;
		bool tcp;
	} hooks[] = { { "xdp" }, { "tc" }, { "sk-skb-verdict" }, { "sk-skb-parser", true } };
	static const unsigned batches[] = { 1, 4, 8 };

	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++)
		for (size_t k = 0; k < ARRAY_SIZE(batches); k++)
			if (test_subtest("%s/b%u", hooks[i].hook, batches[k]))
				batch_hook(hooks[i].hook, hooks[i].tcp, batches[k]);
}

/* One cell of the bench itself (tc, B 8): both arms measured, figures made,
 * requests counted once, the program batching in the main arm only. */
OLAB_TEST(bench_batch_cell)
{
	const struct bench *b = bench_by_name("batch");
	const struct hook_desc *h = hook_by_name("tc");
	struct bench_series s;
	struct bench_cell c;

	if (!ASSERT_OK_PTR(b, "batch bench") || !ASSERT_OK_PTR(h, "tc"))
		return;
	bench_cell_init(&c, b, h);
	c.batch = 8;
	c.trials = 1;
	c.duration_ms = 150;
	c.warmup_ms = 0;
	if (ASSERT_OK(bench_cell_measure(&c, &s), "bench_cell_measure")) {
		ASSERT_EQ(s.n[ARM_MAIN], 1, "main arm trial");
		ASSERT_EQ(s.n[ARM_REF], 1, "reference arm trial");
		ASSERT_GT(s.v[ARM_MAIN][0][0], 0, "batched requests/s");
		ASSERT_GT(s.v[ARM_REF][0][0], 0, "unbatched requests/s");
		ASSERT_TRUE(s.v[ARM_MAIN][1][0] <= s.v[ARM_MAIN][2][0], "p50 <= p99");
		ASSERT_OK(b->report(&c, &s), "report: no duplicate or malformed request");
	}
	bench_cell_finish(&c, &s);
}
