/*
 * bench share against the real kernel: every channel at xdp, tc and
 * sk-skb-verdict, one short trial each through the bench's own code.
 * Counts, not timings: every request the program saw is either read by the
 * consumer or counted lost (and the losses are the ones the program, the
 * socket or the XSK counted), records arrive intact and in order per CPU,
 * the program saw what the generator sent, and every user ringbuf command
 * submitted is drained by the program, in sequence.
 */
#include <string.h>
#include "bench/share.h"
#include "lib/util.h"
#include "tests/test.h"

static bool skip_unsupported(const struct hook_desc *h)
{
	char why[256];

	if (!hook_supported(h, why, sizeof(why)))
		return false;
	test_skip("%s: %s", h->name, why);
	return true;
}

/* Channels whose losses are all counted where they happen (not ARRAY:
 * its overwrites are an estimate, the slot is read while it is rewritten). */
static bool losses_exact(enum bench_channel ch)
{
	return ch != CHAN_ARRAY && ch != CHAN_USER_RINGBUF;
}

static void check_records(const struct bench_cell *c, const struct share_result *r)
{
	const struct share_stats *st = &r->st;
	uint64_t missing = st->gaps + st->tail_missing;

	ASSERT_GT(st->delivered, 0, "records delivered");
	ASSERT_EQ(st->delivered + missing, r->seen, "delivered + lost == requests seen by the program");
	ASSERT_EQ(st->bad, 0, "records intact (magic, CPU, length, addresses and ports)");
	ASSERT_EQ(st->disorder, 0, "seq strictly increasing per CPU");
	if (losses_exact(c->channel))
		ASSERT_EQ(missing, r->prog_lost + st->ext_lost,
			  "records missing == lost counted by the program / socket / XSK");
	else
		ASSERT_LE(r->prog_lost, r->seen, "program-side overwrites bounded");
	if (c->tcp && !missing)
		ASSERT_EQ(st->bytes, r->sent_bytes, "records carry every byte the clients wrote");
}

static void check_cell(const struct bench_cell *c, const struct share_result *r)
{
	fprintf(stderr, "  %s %s: seen %llu delivered %llu gaps %llu tail %llu prog_lost %llu "
		"ext_lost %llu cmds %llu\n", c->hook->name, bench_channel_names[c->channel],
		(unsigned long long)r->seen, (unsigned long long)r->st.delivered,
		(unsigned long long)r->st.gaps, (unsigned long long)r->st.tail_missing,
		(unsigned long long)r->prog_lost, (unsigned long long)r->st.ext_lost,
		(unsigned long long)r->cmds);
	ASSERT_EQ(r->trials, 1, "one kept trial");
	ASSERT_GT(r->seen, 0, "the program saw requests");
	ASSERT_EQ(r->prog_errors, 0, "helper failures");
	if (!c->tcp)
		ASSERT_EQ(r->seen, r->sent - r->xmit_errors, "the program saw every frame sent");
	if (c->channel != CHAN_USER_RINGBUF) {
		check_records(c, r);
		return;
	}
	ASSERT_GT(r->cmds, 0, "commands drained");
	ASSERT_EQ(r->cmds, r->st.delivered, "commands submitted == commands drained");
	ASSERT_EQ(r->cmd_bad, 0, "commands drained in sequence");
}

static void share_cell(const struct bench *b, const struct hook_desc *h, enum bench_channel ch)
{
	struct bench_series s;
	struct bench_cell c;

	bench_cell_init(&c, b, h);
	c.channel = ch;
	c.layout = LAYOUT_APP_OWN_CPU;
	c.size = 256;
	c.trials = 1;
	c.duration_ms = 100;
	c.warmup_ms = 0;
	if (!b->applies(&c))
		return;
	if (!test_subtest("%s/%s", h->name, bench_channel_names[ch]))
		return;
	if (ASSERT_OK(bench_cell_measure(&c, &s), "bench_cell_measure")) {
		const struct share_result *r = bench_share_result(&c);

		if (r->why[0])
			test_skip("%s", r->why);
		else
			check_cell(&c, r);
	}
	bench_cell_finish(&c, &s);
}

OLAB_TEST(bench_share_channels)
{
	const char *hooks[] = { "xdp", "tc", "sk-skb-verdict" };
	const struct bench *b = bench_by_name("share");

	if (!ASSERT_OK_PTR(b, "share bench"))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		const struct hook_desc *h = hook_by_name(hooks[i]);

		if (!ASSERT_OK_PTR(h, hooks[i]) || skip_unsupported(h))
			continue;
		for (int ch = 0; ch < CHAN__COUNT; ch++)
			share_cell(b, h, (enum bench_channel)ch);
	}
}
OLAB_TEST_TIMEOUT(bench_share_channels, 90);
