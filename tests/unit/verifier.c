/* The verifier study's pure parts: reading the verifier's log, the knob
 * grid, the sample frames. */
#include <string.h>
#include "bench/verifier.h"
#include "bench/verifier_internal.h"
#include "tests/test.h"

OLAB_TEST(verifier_log_parse)
{
	static const char log[] =
		"0: R1=ctx() R10=fp0\n"
		"12: (71) r3 = *(u8 *)(r2 +0)\n"
		"R2 invalid mem access 'scalar'\n"
		"verification time 1234 usec\n"
		"stack depth 64+16\n"
		"processed 4567 insns (limit 1000000) max_states_per_insn 3 total_states 210 "
		"peak_states 99 mark_read 7\n";
	struct vf_outcome o = { 0 };
	char reason[256];

	vf_log_parse(log, &o, reason, sizeof(reason), 2);
	ASSERT_TRUE(o.have_stats, "stats found");
	ASSERT_EQ(o.processed_insns, 4567, "processed");
	ASSERT_EQ(o.verify_usec, 1234, "verification time");
	ASSERT_EQ(o.max_states_per_insn, 3, "max states per insn");
	ASSERT_EQ(o.total_states, 210, "total states");
	ASSERT_EQ(o.peak_states, 99, "peak states");
	ASSERT_EQ(o.mark_read, 7, "mark_read");
	ASSERT_STREQ(o.stack_depth, "64+16", "stack depth");
	ASSERT_STREQ(reason, "12: (71) r3 = *(u8 *)(r2 +0) | R2 invalid mem access 'scalar'",
		     "the last two lines that are not statistics");
	vf_log_parse(log, &o, reason, sizeof(reason), 1);
	ASSERT_STREQ(reason, "R2 invalid mem access 'scalar'", "the last line");

	memset(&o, 0, sizeof(o));
	vf_log_parse("", &o, reason, sizeof(reason), 3);
	ASSERT_FALSE(o.have_stats, "no stats in an empty log");
	ASSERT_STREQ(reason, "", "no reason in an empty log");
}

OLAB_TEST(verifier_grid)
{
	long fine[64], coarse[64];
	size_t nf = vf_grid(false, 1, fine, 64), nc = vf_grid(true, 16, coarse, 64);

	ASSERT_EQ(fine[0], 1, "fine grid starts at min");
	ASSERT_EQ(fine[7], 8, "every value to 8");
	ASSERT_EQ(fine[8], 10, "then quarter steps");
	ASSERT_EQ(fine[nf - 1], VF_KNOB_CAP, "fine grid ends at the cap");
	for (size_t i = 1; i < nf; i++)
		ASSERT_GT(fine[i], fine[i - 1], "increasing");
	ASSERT_EQ(coarse[0], 16, "coarse grid starts at min");
	ASSERT_EQ(nc, 9, "16..4096 in powers of two");
	ASSERT_EQ(coarse[nc - 1], VF_KNOB_CAP, "coarse grid ends at the cap");
	ASSERT_EQ(vf_grid(true, 24, coarse, 64), 9, "a min off the grid comes first");
	ASSERT_EQ(coarse[0], 24, "min first");
	ASSERT_EQ(coarse[1], 32, "then the grid above it");
}

OLAB_TEST(verifier_samples)
{
	for (int pa = 0; pa < VF_PARSERS; pa++) {
		struct vf_sample s[VF_MAX_SAMPLES];
		int n = vf_samples(pa, s, VF_MAX_SAMPLES), valid = 0, invalid = 0;

		ASSERT_GE(n, 2, "samples per parser");
		for (int i = 0; i < n; i++) {
			size_t udp_len = (size_t)s[i].frame[38] << 8 | s[i].frame[39];
			size_t ip_len = (size_t)s[i].frame[16] << 8 | s[i].frame[17];

			ASSERT_EQ(s[i].frame[12], 0x08, "IPv4 ethertype");
			ASSERT_EQ(s[i].frame[14], 0x45, "IPv4, IHL 5");
			ASSERT_EQ(s[i].frame[23], 17, "UDP");
			ASSERT_EQ(udp_len + 34, s[i].len, "UDP length: to the frame's end");
			ASSERT_EQ(ip_len + 14, s[i].len, "IP length: to the frame's end");
			if (pa == 0)
				ASSERT_OK(memcmp(s[i].frame + 42, "GET ", 4), "HTTP/1.1 request at byte 42");
			else if (pa == 1)
				ASSERT_EQ(s[i].frame[42 + 3], 0x01, "HTTP/2 HEADERS frame at byte 42");
			else
				ASSERT_EQ(s[i].frame[42], '{', "JSON object at byte 42");
			valid += s[i].valid;
			invalid += !s[i].valid;
		}
		ASSERT_GE(valid, 1, "a well-formed request");
		ASSERT_GE(invalid, 1, "a malformed one");
	}
	ASSERT_EQ(vf_samples(VF_PARSERS, NULL, 0), -EINVAL, "no such parser");
}
