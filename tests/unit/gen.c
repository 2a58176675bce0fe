/* Generator logic: frame building and checksums, flow ports, thread split, pacing. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include "lib/gen.h"
#include "lib/util.h"
#include "tests/test.h"

/* Reference RFC 1071 sum, big-endian words, written independently of lib/gen_frame.c. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* A frame's UDP checksum verifies: pseudo header + datagram sums to 0xffff. */
static bool udp_csum_ok(const uint8_t *f, int family)
{
	unsigned l4 = GEN_L4_OFF(family), ulen = get16(f + l4 + 4);
	uint8_t pseudo[40] = { 0 };
	uint32_t sum;

	if (family == 4) {
		memcpy(pseudo, f + 14 + 12, 8);
		pseudo[9] = 17;
		pseudo[10] = ulen >> 8;
		pseudo[11] = ulen & 0xff;
		sum = ref_sum(0, pseudo, 12);
	} else {
		memcpy(pseudo, f + 14 + 8, 32);
		pseudo[34] = ulen >> 8;
		pseudo[35] = ulen & 0xff;
		pseudo[39] = 17;
		sum = ref_sum(0, pseudo, 40);
	}
	return get16(f + l4 + 6) != 0 && ref_fold(ref_sum(sum, f + l4, ulen)) == 0xffff;
}

static void spec_init(struct gen_frame_spec *s, int family, unsigned size)
{
	static const uint8_t v6src[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t v6dst[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

	memset(s, 0, sizeof(*s));
	s->family = family;
	s->size = size;
	memcpy(s->src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(s->dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	if (family == 4) {
		memcpy(s->src_ip, "\xc6\x12\x00\x01", 4);   /* 198.18.0.1 */
		memcpy(s->dst_ip, "\xc6\x12\x00\x02", 4);
	} else {
		memcpy(s->src_ip, v6src, 16);
		memcpy(s->dst_ip, v6dst, 16);
	}
	s->sport = gen_flow_sport(0);
	s->dport = GEN_DPORT;
}

OLAB_TEST(gen_csum_known_vector)
{
	/* The textbook IPv4 header whose checksum is 0xb861. */
	uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t w = gen_csum_fold(gen_csum_add(0, ip, sizeof(ip)));
	uint8_t odd[3] = { 0x01, 0x02, 0x03 };

	memcpy(ip + 10, &w, 2);
	ASSERT_EQ(get16(ip + 10), 0xb861, "IPv4 header checksum");
	ASSERT_EQ(gen_csum_fold(gen_csum_add(0, ip, sizeof(ip))), 0, "header verifies");
	/* Odd length: the last byte is the high byte of a zero-padded word. */
	w = gen_csum_fold(gen_csum_add(0, odd, 3));
	ASSERT_EQ(ntohs(w), (uint16_t)~ref_fold(0x0102 + 0x0300), "odd length");
}

OLAB_TEST(gen_frame_ipv4)
{
	struct gen_frame_spec s;
	uint8_t f[GEN_MAX_FRAME];
	uint32_t partial;

	spec_init(&s, 4, 64);
	ASSERT_OK(gen_build_frame(&s, f, sizeof(f), &partial), "build");
	ASSERT_EQ(get16(f + 12), 0x0800, "ethertype");
	ASSERT_EQ(memcmp(f, s.dst_mac, 6), 0, "dst mac");
	ASSERT_EQ(memcmp(f + 6, s.src_mac, 6), 0, "src mac");
	ASSERT_EQ(f[14], 0x45, "version/ihl");
	ASSERT_EQ(get16(f + 16), 50, "IP total length");
	ASSERT_EQ(f[23], 17, "protocol");
	ASSERT_EQ(ref_fold(ref_sum(0, f + 14, 20)), 0xffff, "IP header checksum verifies");
	ASSERT_EQ(get16(f + 34), 10000, "source port of flow 0");
	ASSERT_EQ(get16(f + 36), GEN_DPORT, "destination port");
	ASSERT_EQ(get16(f + 38), 30, "UDP length");
	ASSERT_TRUE(udp_csum_ok(f, 4), "UDP checksum verifies");
	f[50] ^= 1;
	ASSERT_FALSE(udp_csum_ok(f, 4), "a flipped payload bit is caught");

	/* Odd payload length. */
	spec_init(&s, 4, 65);
	ASSERT_OK(gen_build_frame(&s, f, sizeof(f), NULL), "build 65");
	ASSERT_TRUE(udp_csum_ok(f, 4), "UDP checksum, odd payload");
	spec_init(&s, 4, 1514);
	ASSERT_OK(gen_build_frame(&s, f, sizeof(f), NULL), "build 1514");
	ASSERT_EQ(get16(f + 16), 1500, "IP total length at MTU");
	ASSERT_TRUE(udp_csum_ok(f, 4), "UDP checksum at MTU");
}

OLAB_TEST(gen_frame_ipv6)
{
	struct gen_frame_spec s;
	uint8_t f[GEN_MAX_FRAME];

	spec_init(&s, 6, 64);
	ASSERT_OK(gen_build_frame(&s, f, sizeof(f), NULL), "build");
	ASSERT_EQ(get16(f + 12), 0x86dd, "ethertype");
	ASSERT_EQ(f[14] >> 4, 6, "version");
	ASSERT_EQ(get16(f + 18), 10, "payload length");
	ASSERT_EQ(f[20], 17, "next header");
	ASSERT_EQ(f[21], 64, "hop limit");
	ASSERT_EQ(get16(f + 54), 10000, "source port");
	ASSERT_EQ(get16(f + 58), 10, "UDP length");
	ASSERT_TRUE(udp_csum_ok(f, 6), "UDP checksum verifies");
	spec_init(&s, 6, 333);
	ASSERT_OK(gen_build_frame(&s, f, sizeof(f), NULL), "build 333");
	ASSERT_TRUE(udp_csum_ok(f, 6), "UDP checksum, odd payload");
}

/* What gen_xdp does per frame: rewrite the source port, checksum from the partial sum. */
OLAB_TEST(gen_port_rewrite_checksum)
{
	static const int fams[] = { 4, 6 };
	static const unsigned sizes[] = { 64, 99, 1514 };
	struct gen_frame_spec s;
	uint8_t f[GEN_MAX_FRAME];
	uint32_t partial;
	int bad = 0, zero = 0;

	for (size_t a = 0; a < ARRAY_SIZE(fams); a++) {
		for (size_t b = 0; b < ARRAY_SIZE(sizes); b++) {
			unsigned l4 = GEN_L4_OFF(fams[a]);

			spec_init(&s, fams[a], sizes[b]);
			ASSERT_OK(gen_build_frame(&s, f, sizeof(f), &partial), "build");
			for (uint32_t i = 0; i < GEN_MAX_FLOWS; i += 97) {
				uint16_t be = htons(gen_flow_sport(i)), c;

				memcpy(f + l4, &be, 2);
				c = gen_udp_csum_with_port(partial, be);
				memcpy(f + l4 + 6, &c, 2);
				bad += !udp_csum_ok(f, fams[a]);
				zero += c == 0;
			}
		}
	}
	ASSERT_EQ(bad, 0, "rewritten frames whose checksum does not verify");
	ASSERT_EQ(zero, 0, "checksum 0 sent");
}

OLAB_TEST(gen_frame_rejects_bad_sizes)
{
	struct gen_frame_spec s;
	uint8_t f[GEN_MAX_FRAME];

	spec_init(&s, 4, 63);
	ASSERT_EQ(gen_build_frame(&s, f, sizeof(f), NULL), -EINVAL, "63 B");
	spec_init(&s, 4, 1515);
	ASSERT_EQ(gen_build_frame(&s, f, sizeof(f), NULL), -EINVAL, "1515 B");
	spec_init(&s, 4, 128);
	ASSERT_EQ(gen_build_frame(&s, f, 100, NULL), -EINVAL, "buffer too small");
	ASSERT_EQ(gen_payload_len(4, 64), 22, "IPv4 payload of 64 B");
	ASSERT_EQ(gen_payload_len(6, 64), 2, "IPv6 payload of 64 B");
	ASSERT_EQ(gen_payload_len(4, 1514), 1472, "IPv4 payload at MTU");
	ASSERT_EQ(gen_payload_len(5, 64), -EINVAL, "family 5");
}

OLAB_TEST(gen_flow_ports_distinct)
{
	static uint8_t seen[65536];
	unsigned dup = 0, zero = 0;

	memset(seen, 0, sizeof(seen));
	for (uint32_t i = 0; i < GEN_MAX_FLOWS; i++) {
		uint16_t p = gen_flow_sport(i);

		zero += p == 0;
		dup += seen[p];
		seen[p] = 1;
	}
	ASSERT_EQ(zero, 0, "port 0 used");
	ASSERT_EQ(dup, 0, "duplicate ports over 65535 flows");
	ASSERT_EQ(gen_flow_sport(0), GEN_SPORT_BASE, "flow 0");
	ASSERT_EQ(gen_flow_sport(65535 - GEN_SPORT_BASE), 65535, "last before wrap");
	ASSERT_EQ(gen_flow_sport(65536 - GEN_SPORT_BASE), 1, "wraps to 1");
	ASSERT_EQ(gen_flow_sport(GEN_MAX_FLOWS), gen_flow_sport(0), "periodic");
}

OLAB_TEST(gen_split_threads_and_cpus)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < 3; i++) {
		uint64_t n = gen_split(1000001, 3, i);

		ASSERT_TRUE(n == 333333 || n == 333334, "even split");
		sum += n;
	}
	ASSERT_EQ(sum, 1000001, "split sums to the total");
	ASSERT_EQ(gen_split(5, 2, 2), 0, "out of range thread");
	ASSERT_EQ(gen_thread_cpu(0xa, 0), 1, "first CPU of 1,3");
	ASSERT_EQ(gen_thread_cpu(0xa, 1), 3, "second CPU of 1,3");
	ASSERT_EQ(gen_thread_cpu(0xa, 2), -1, "no third CPU");
}

OLAB_TEST(gen_pacing_arithmetic)
{
	static const uint64_t rates[] = { 1, 3, 1000, 999983, 3000000, 1000000000 };
	int bad = 0;

	ASSERT_EQ(gen_pace_time(1000, 1000), 1000000000ull, "1000 pps: frame 1000 at 1 s");
	ASSERT_EQ(gen_pace_time(3, 1), 333333334ull, "rounded up");
	ASSERT_EQ(gen_pace_due(1000, 0), 1, "frame 0 due at once");
	ASSERT_EQ(gen_pace_due(1000, 999999), 1, "frame 1 not before 1 ms");
	ASSERT_EQ(gen_pace_due(1000, 1000000), 2, "frame 1 at 1 ms");
	ASSERT_EQ(gen_pace_due(0, 5), UINT64_MAX, "unpaced: all due");
	/* No overflow: an hour at 1 G pps. */
	ASSERT_EQ(gen_pace_due(1000000000, 3600000000000ull), 3600000000001ull,
		  "an hour at 1 Gpps");
	ASSERT_EQ(gen_pace_time(1000000000, 3600000000000ull), 3600000000000ull, "and back");
	/* time and due agree: frame k is due exactly from time(k) on. */
	for (size_t r = 0; r < ARRAY_SIZE(rates); r++) {
		for (uint64_t k = 1; k < 5000; k += 7) {
			uint64_t t = gen_pace_time(rates[r], k);

			bad += gen_pace_due(rates[r], t) < k + 1;
			bad += gen_pace_due(rates[r], t - 1) > k;
		}
	}
	ASSERT_EQ(bad, 0, "pace_time/pace_due disagreements");
	ASSERT_EQ(gen_pace_burst(1000000, 65536), 200, "1 Mpps: 200 per 200 us");
	ASSERT_EQ(gen_pace_burst(100, 64), 1, "slow rates: one at a time");
	ASSERT_EQ(gen_pace_burst(1000000000, 64), 64, "capped");
}

OLAB_TEST(gen_cfg_validation)
{
	struct gen_cfg c;
	char why[160];

	gen_cfg_init(&c);
	ASSERT_OK(gen_cfg_check(&c, GEN_MODE_LIVE, why, sizeof(why)), "defaults");
	c.size = 63;
	ASSERT_EQ(gen_cfg_check(&c, GEN_MODE_LIVE, why, sizeof(why)), -EINVAL, "63 B");
	ASSERT_STRCONTAINS(why, "out of range", "reason");
	c.size = 1515;
	ASSERT_EQ(gen_cfg_check(&c, GEN_MODE_UDP, why, sizeof(why)), -EINVAL, "1515 B");
	c.size = 2000;
	ASSERT_OK(gen_cfg_check(&c, GEN_MODE_TCP, why, sizeof(why)), "tcp request of 2000 B");
	/* The defaults with one field set to a bad value are refused. */
#define REFUSED(mode, field, value, what) do { \
		gen_cfg_init(&c); \
		c.field = (value); \
		ASSERT_EQ(gen_cfg_check(&c, mode, why, sizeof(why)), -EINVAL, what); \
	} while (0)
	REFUSED(GEN_MODE_LIVE, threads, cpu_count() + 1, "too many threads");
	REFUSED(GEN_MODE_LIVE, family, 5, "family 5");
	REFUSED(GEN_MODE_LIVE, duration_ns, 0, "no bound");
	REFUSED(GEN_MODE_TCP, nflows, 2000, "2000 connections");
	REFUSED(GEN_MODE_LIVE, batch, 257, "live batch 257");
#undef REFUSED
	/* Time limits: always bounded, and longer than the planned run. */
	gen_cfg_init(&c);
	c.duration_ns = 0;
	c.count = 1000;
	c.rate_pps = 100;
	ASSERT_GT(gen_timeout_ns(&c), 10000000000ull, "10 s at 100 pps");
	c.duration_ns = 2000000000ull;
	ASSERT_EQ(gen_timeout_ns(&c), 7000000000ull, "duration + 5 s");
}
