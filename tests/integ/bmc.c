/*
 * The BMC-style memcached cache (bpf/bmc.bpf.c) on crafted frames, with
 * BPF_PROG_TEST_RUN: a VALUE reply through bmc_tx fills it, a GET hit through
 * bmc_rx becomes the reply memcached would send, byte for byte; misses,
 * invalidated keys, sources outside allow4 and malformed requests pass
 * untouched.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "bmc.skel.h"
#include "bpf/bmc.h"
#include "tests/test.h"

#define FRAME_MAX 2048
#define CLIENT_IN "198.18.0.2"
#define CLIENT_OUT "198.18.1.2"
#define SERVER "198.18.0.1"
#define VALUE_REPLY "VALUE olab:key1 7 5\r\nhello\r\n"

static const uint8_t mac_client[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_server[6] = { 0x02, 0, 0, 0, 0, 0x01 };

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
};

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (p[i] << 8) | p[i + 1];
	if (n & 1)
		sum += p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Checksum over the UDP/TCP pseudo-header and segment of an IPv4 frame. */
static uint16_t l4_csum(const uint8_t *f, uint32_t l4len, uint8_t proto)
{
	uint32_t sum = sum16(f + 26, 8, 0) + proto + l4len;

	return fold(sum16(f + 34, l4len, sum));
}

/* Ethernet + IPv4 (+ ports, l4 header of hlen bytes) + payload, valid checksums. */
static void build(struct frame *fr, uint8_t proto, const char *src, const char *dst,
		  uint16_t sport, uint16_t dport, const void *payload, uint32_t plen)
{
	uint8_t *f = fr->b;
	uint32_t hlen = proto == IPPROTO_UDP ? 8 : 20, l4len = hlen + plen;
	bool to_server = dport == BMC_PORT;
	uint16_t c;

	memset(f, 0, 54);
	memcpy(f, to_server ? mac_server : mac_client, 6);
	memcpy(f + 6, to_server ? mac_client : mac_server, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (20 + l4len) >> 8;
	f[17] = (20 + l4len) & 0xff;
	f[18] = 0x12;                          /* IP id */
	f[20] = 0x40;                          /* DF */
	f[22] = 64;
	f[23] = proto;
	inet_pton(AF_INET, src, f + 26);
	inet_pton(AF_INET, dst, f + 30);
	c = fold(sum16(f + 14, 20, 0));
	f[24] = c >> 8;
	f[25] = c & 0xff;
	f[34] = sport >> 8;
	f[35] = sport & 0xff;
	f[36] = dport >> 8;
	f[37] = dport & 0xff;
	if (proto == IPPROTO_UDP) {
		f[38] = l4len >> 8;
		f[39] = l4len & 0xff;
	} else {
		f[46] = 5 << 4;                /* doff */
		f[47] = 0x18;                  /* PSH ACK */
	}
	memcpy(f + 34 + hlen, payload, plen);
	fr->len = 34 + l4len;
	c = l4_csum(f, l4len, proto);
	f[proto == IPPROTO_UDP ? 40 : 50] = c >> 8;
	f[proto == IPPROTO_UDP ? 41 : 51] = c & 0xff;
}

/* A memcached UDP datagram: frame header (id, seq 0, total 1) + text. */
static void build_mc(struct frame *fr, const char *src, const char *dst, uint16_t sport,
		     uint16_t dport, uint16_t id, const char *text)
{
	uint8_t p[FRAME_MAX] = { id >> 8, id & 0xff, 0, 0, 0, 1, 0, 0 };
	size_t n = strlen(text);

	memcpy(p + 8, text, n);
	build(fr, IPPROTO_UDP, src, dst, sport, dport, p, 8 + n);
}

static int run(int prog_fd, const struct frame *in, struct frame *out, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in->b, .data_size_in = in->len,
		.data_out = out->b, .data_size_out = sizeof(out->b),
		.repeat = 1);
	int err = bpf_prog_test_run_opts(prog_fd, &opts);

	out->len = opts.data_size_out;
	*retval = opts.retval;
	return err;
}

/* Run prog on in: return the verdict, checking "passed" frames come back as they went in. */
static int64_t verdict(int prog_fd, const struct frame *in, struct frame *out)
{
	uint32_t ret;

	if (!ASSERT_OK(run(prog_fd, in, out, &ret), "test_run"))
		return -1;
	if (ret == XDP_PASS && !ASSERT_TRUE(out->len == in->len && !memcmp(out->b, in->b, in->len),
					    "passed frame untouched"))
		return -1;
	return ret;
}

static bool fill(struct bmc *skel, const char *reply)
{
	struct frame in, out;
	uint32_t ret;
	uint64_t before = skel->bss->fills;

	build_mc(&in, SERVER, CLIENT_IN, BMC_PORT, 40000, 7, reply);
	return ASSERT_OK(run(bpf_program__fd(skel->progs.bmc_tx), &in, &out, &ret), "tc run") &&
	       ASSERT_EQ(ret, 0, "tc verdict TC_ACT_OK") &&
	       ASSERT_EQ(skel->bss->fills, before + 1, "fills");
}

static bool fill_key1(struct bmc *skel)
{
	return fill(skel, VALUE_REPLY "END\r\n");
}

static int64_t get(struct bpf_program *prog, const char *src, const char *key, struct frame *out)
{
	char text[300];
	struct frame in;

	snprintf(text, sizeof(text), "get %s\r\n", key);
	build_mc(&in, src, SERVER, 40000, BMC_PORT, 0xabcd, text);
	return verdict(bpf_program__fd(prog), &in, out);
}

/* Fill with reply, GET key: XDP_TX and exactly the frame memcached would send. */
static void hit_reply(struct bmc *skel, const char *key, const char *reply)
{
	struct frame out, want;
	uint64_t n = 0;
	uint32_t src;

	if (!fill(skel, reply) ||
	    !ASSERT_EQ(get(skel->progs.bmc_rx, CLIENT_IN, key, &out), XDP_TX, "GET hit"))
		return;
	build_mc(&want, SERVER, CLIENT_IN, BMC_PORT, 40000, 0xabcd, reply);
	ASSERT_EQ(out.len, want.len, "reply length");
	ASSERT_TRUE(!memcmp(out.b, want.b, want.len), "reply byte-exact");
	ASSERT_EQ(fold(sum16(out.b + 14, 20, 0)), 0, "IP checksum verifies");
	ASSERT_EQ(l4_csum(out.b, out.len - 34, IPPROTO_UDP), 0, "UDP checksum verifies");
	ASSERT_EQ(skel->bss->hits, 1, "hits");
	ASSERT_EQ(skel->bss->gets, 1, "gets");
	ASSERT_EQ(skel->bss->tx_errors, 0, "tx_errors");
	inet_pton(AF_INET, CLIENT_IN, &src);
	ASSERT_OK(bpf_map_lookup_elem(bpf_map__fd(skel->maps.replies_by_src), &src, &n),
		  "replies_by_src lookup");
	ASSERT_EQ(n, 1, "replies_by_src[client]");
	ASSERT_EQ(skel->bss->outside_hits, 0, "outside_hits");
}

/* A small reply grows the frame into its headroom. */
static void test_hit_reply(struct bmc *skel)
{
	hit_reply(skel, "olab:key1", VALUE_REPLY "END\r\n");
}

/* 400 bytes of value: more growth than the 256 bytes of headroom, so the tail grows. */
static void test_big_hit_reply(struct bmc *skel)
{
	char reply[600], value[401];

	memset(value, 'v', 400);
	value[400] = 0;
	snprintf(reply, sizeof(reply), "VALUE olab:big 1 400\r\n%s\r\nEND\r\n", value);
	hit_reply(skel, "olab:big", reply);
}

static void test_other_key(struct bmc *skel)
{
	struct frame out;

	if (!fill_key1(skel))
		return;
	ASSERT_EQ(get(skel->progs.bmc_rx, CLIENT_IN, "olab:key2", &out), XDP_PASS, "GET other key");
	ASSERT_EQ(get(skel->progs.bmc_rx, CLIENT_IN, "olab:key", &out), XDP_PASS, "GET prefix");
	ASSERT_EQ(skel->bss->misses, 2, "misses");
	ASSERT_EQ(skel->bss->hits, 0, "hits");
}

static void test_tcp_set(struct bmc *skel, const char *cmd)
{
	struct frame in, out;

	if (!fill_key1(skel))
		return;
	build(&in, IPPROTO_TCP, CLIENT_IN, SERVER, 40001, BMC_PORT, cmd, strlen(cmd));
	ASSERT_EQ(verdict(bpf_program__fd(skel->progs.bmc_rx), &in, &out), XDP_PASS, "TCP passes");
	ASSERT_EQ(skel->bss->invalidations, 1, "invalidations");
	ASSERT_EQ(get(skel->progs.bmc_rx, CLIENT_IN, "olab:key1", &out), XDP_PASS, "GET after");
	ASSERT_EQ(skel->bss->hits, 0, "hits");
}

static bool allow_prefix(struct bmc *skel, const char *net, uint32_t plen)
{
	struct bmc_lpm4 k = { .prefixlen = plen };
	uint32_t one = 1;

	inet_pton(AF_INET, net, k.addr);
	return ASSERT_OK(bpf_map_update_elem(bpf_map__fd(skel->maps.allow4), &k, &one, 0),
			 "allow4 update");
}

static void test_allow_list(struct bmc *skel)
{
	struct frame out;

	if (!fill_key1(skel) || !allow_prefix(skel, "198.18.0.0", 24))
		return;
	/* Without the allow-list, the blocked client gets its answer: the bypass. */
	ASSERT_EQ(get(skel->progs.bmc_rx, CLIENT_OUT, "olab:key1", &out), XDP_TX, "bmc_rx outsider");
	ASSERT_EQ(skel->bss->outside_hits, 1, "outside_hits");
	ASSERT_EQ(get(skel->progs.bmc_rx_allow, CLIENT_OUT, "olab:key1", &out), XDP_PASS,
		  "bmc_rx_allow outsider");
	ASSERT_EQ(skel->bss->refused, 1, "refused");
	ASSERT_EQ(get(skel->progs.bmc_rx_allow, CLIENT_IN, "olab:key1", &out), XDP_TX,
		  "bmc_rx_allow insider");
	ASSERT_EQ(skel->bss->hits, 2, "hits");
}

static const char *const bad_requests[] = {
	"get olab:key1",                 /* no CRLF */
	"get olab:key1\r",
	"get olab:key1\n",
	"get olab:key1 olab:key1\r\n",  /* multi-key */
	"gets olab:key1\r\n",
	"GET olab:key1\r\n",
	"get \r\n",
	"get olab:key1\r\nget olab:key1\r\n",
	"get olab:k\ny1\r\n",
	"",
};

static void test_malformed(struct bmc *skel)
{
	struct frame in, out;
	int prog = bpf_program__fd(skel->progs.bmc_rx);

	if (!fill_key1(skel))
		return;
	for (size_t i = 0; i < sizeof(bad_requests) / sizeof(*bad_requests); i++) {
		build_mc(&in, CLIENT_IN, SERVER, 40000, BMC_PORT, 1, bad_requests[i]);
		ASSERT_EQ(verdict(prog, &in, &out), XDP_PASS, bad_requests[i]);
	}
	build_mc(&in, CLIENT_IN, SERVER, 40000, BMC_PORT, 1, "get olab:key1\r\n");
	in.b[47] = 2;                                  /* total: two datagrams */
	ASSERT_EQ(verdict(prog, &in, &out), XDP_PASS, "multi-datagram request");
	build_mc(&in, CLIENT_IN, SERVER, 40000, BMC_PORT, 1, "get olab:key1\r\n");
	in.len -= 3;                                   /* truncated: IP length says more */
	ASSERT_EQ(verdict(prog, &in, &out), XDP_PASS, "truncated frame");
	build_mc(&in, CLIENT_IN, SERVER, 40000, BMC_PORT, 1, "get olab:key1\r\n");
	in.b[39] += 1;                                 /* UDP length off by one */
	ASSERT_EQ(verdict(prog, &in, &out), XDP_PASS, "bad UDP length");
	in.len = 30;
	ASSERT_EQ(verdict(prog, &in, &out), XDP_PASS, "cut in the IP header");
	ASSERT_EQ(skel->bss->hits, 0, "hits");
}

static void test_bad_fill(struct bmc *skel)
{
	static const char *const bad[] = {
		"VALUE olab:key1 7 6\r\nhello\r\nEND\r\n",   /* wrong length */
		"VALUE olab:key1 7 5\r\nhello\r\n",          /* no END */
		"VALUE olab:key1 x 5\r\nhello\r\nEND\r\n",
		"VALUE olab:key1 7 5 99\r\nhello\r\nEND\r\n", /* gets (cas) */
		"VALUE olab:key1 7 5\r\nhelloXX\r\nEND\r\n",
	};
	struct frame in, out;
	uint32_t ret;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		build_mc(&in, SERVER, CLIENT_IN, BMC_PORT, 40000, 7, bad[i]);
		ASSERT_OK(run(bpf_program__fd(skel->progs.bmc_tx), &in, &out, &ret), "tc run");
	}
	ASSERT_EQ(skel->bss->fills, 0, "fills");
	ASSERT_EQ(get(skel->progs.bmc_rx, CLIENT_IN, "olab:key1", &out), XDP_PASS, "GET");
}

OLAB_TEST(bmc)
{
	static const char *const sets[] = {
		"set olab:key1 0 0 5\r\nworld\r\n",
		"delete olab:key1\r\n",
		"get olab:x\r\nset olab:key1 0 0 1\r\nz\r\n",   /* second line of a segment */
	};
	static const char *const set_names[] = { "tcp_set_invalidates", "tcp_delete_invalidates",
						 "tcp_pipelined_set_invalidates" };
	struct {
		const char *name;
		void (*fn)(struct bmc *);
	} cases[] = {
		{ "fill_then_hit_reply", test_hit_reply },
		{ "big_value_hit_reply", test_big_hit_reply },
		{ "other_key_passes", test_other_key },
		{ "allow_list", test_allow_list },
		{ "malformed_pass_untouched", test_malformed },
		{ "bad_value_not_filled", test_bad_fill },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases) + 3; i++) {
		bool is_set = i >= sizeof(cases) / sizeof(*cases);
		size_t j = i - sizeof(cases) / sizeof(*cases);
		struct bmc *skel;

		if (!test_subtest("%s", is_set ? set_names[j] : cases[i].name))
			continue;
		skel = bmc__open_and_load();     /* a fresh cache and counters per subtest */
		if (!ASSERT_OK_PTR(skel, "bmc__open_and_load"))
			continue;
		if (is_set)
			test_tcp_set(skel, sets[j]);
		else
			cases[i].fn(skel);
		bmc__destroy(skel);
	}
}
