/*
 * The generators' pure pieces (see lib/gen.h): checksums, building a test
 * frame, flow and thread splits, pacing, and the config and its checks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include "lib/gen_internal.h"
#include "lib/log.h"
#include "lib/util.h"

uint64_t gen_csum_add(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint16_t w;

	for (; len > 1; len -= 2, p += 2) {
		memcpy(&w, p, 2);
		sum += w;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

static uint32_t csum_fold16(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

uint16_t gen_csum_fold(uint64_t sum)
{
	return ~csum_fold16(sum) & 0xffff;
}

int gen_payload_len(int family, unsigned size)
{
	unsigned hdr = GEN_L4_OFF(family) + GEN_UDP_HLEN;

	if ((family != 4 && family != 6) || size < GEN_MIN_FRAME || size > GEN_MAX_FRAME ||
	    size < hdr)
		return -EINVAL;
	return (int)(size - hdr);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

int gen_build_frame(const struct gen_frame_spec *s, uint8_t *buf, size_t len,
		    uint32_t *csum_partial)
{
	int plen = gen_payload_len(s->family, s->size);
	unsigned l3 = GEN_ETH_HLEN, l4 = GEN_L4_OFF(s->family), ulen;
	uint8_t pseudo[40];
	uint64_t sum;
	uint16_t w;

	if (plen < 0 || len < s->size)
		return -EINVAL;
	ulen = s->size - l4;
	memset(buf, 0, s->size);
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	put16(buf + 12, s->family == 6 ? 0x86dd : 0x0800);

	if (s->family == 4) {
		uint8_t *ip = buf + l3;

		ip[0] = 0x45;
		put16(ip + 2, s->size - l3);
		put16(ip + 6, 0x4000);          /* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, s->src_ip, 4);
		memcpy(ip + 16, s->dst_ip, 4);
		w = gen_csum_fold(gen_csum_add(0, ip, GEN_IP4_HLEN));
		memcpy(ip + 10, &w, 2);
		memset(pseudo, 0, sizeof(pseudo));
		memcpy(pseudo, s->src_ip, 4);
		memcpy(pseudo + 4, s->dst_ip, 4);
		pseudo[9] = IPPROTO_UDP;
		put16(pseudo + 10, ulen);
		sum = gen_csum_add(0, pseudo, 12);
	} else {
		uint8_t *ip = buf + l3;

		ip[0] = 0x60;
		put16(ip + 4, ulen);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, s->src_ip, 16);
		memcpy(ip + 24, s->dst_ip, 16);
		memset(pseudo, 0, sizeof(pseudo));
		memcpy(pseudo, s->src_ip, 16);
		memcpy(pseudo + 16, s->dst_ip, 16);
		put16(pseudo + 34, ulen);       /* 32-bit length, < 64 KiB */
		pseudo[39] = IPPROTO_UDP;
		sum = gen_csum_add(0, pseudo, 40);
	}

	/* UDP header: the source port is left out of the partial sum. */
	put16(buf + l4 + 2, s->dport);
	put16(buf + l4 + 4, ulen);
	for (int i = 0; i < plen; i++)
		buf[l4 + GEN_UDP_HLEN + i] = "offloadlab"[i % 10];
	sum = gen_csum_add(sum, buf + l4, ulen);
	if (csum_partial)
		*csum_partial = csum_fold16(sum);
	put16(buf + l4, s->sport);
	memcpy(&w, buf + l4, 2);
	w = gen_udp_csum_with_port(csum_fold16(sum), w);
	memcpy(buf + l4 + 6, &w, 2);
	return 0;
}

static int parse_ip(int family, const char *str, uint8_t *out)
{
	char tmp[64];
	char *slash;

	snprintf(tmp, sizeof(tmp), "%s", str);
	slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	return inet_pton(family == 6 ? AF_INET6 : AF_INET, tmp, out) == 1 ? 0 : -EINVAL;
}

int gen_frame_spec_topo(const struct topo *t, int family, unsigned size, uint16_t dport,
			struct gen_frame_spec *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->family = family;
	s->size = size;
	s->dport = dport ? dport : GEN_DPORT;
	s->sport = gen_flow_sport(0);
	memcpy(s->src_mac, t->mac_gen, 6);
	memcpy(s->dst_mac, t->mac_dut, 6);
	err = parse_ip(family, family == 6 ? t->ip6_gen : t->ip4_gen, s->src_ip);
	if (!err)
		err = parse_ip(family, family == 6 ? t->ip6_dut : t->ip4_dut, s->dst_ip);
	if (!err && gen_payload_len(family, size) < 0)
		err = -EINVAL;
	if (err)
		pr_warn("gen: no IPv%d addresses or bad frame size for %s -> %s\n", family,
			t->gen.name, t->dut.name);
	return err;
}

uint64_t gen_split(uint64_t total, unsigned n, unsigned i)
{
	if (!n || i >= n)
		return 0;
	return total / n + (i < total % n ? 1 : 0);
}

int gen_thread_cpu(uint64_t cpus, unsigned i)
{
	for (int cpu = 0; cpu < 64; cpu++) {
		if (!(cpus & (1ull << cpu)))
			continue;
		if (i-- == 0)
			return cpu;
	}
	return -1;
}

uint64_t gen_pace_time(uint64_t rate, uint64_t k)
{
	if (!rate)
		return 0;
	/* ceil(k * 1e9 / rate): frame k is due at or after this many ns */
	return (uint64_t)(((unsigned __int128)k * NSEC + rate - 1) / rate);
}

uint64_t gen_pace_due(uint64_t rate, uint64_t elapsed_ns)
{
	unsigned __int128 due;

	if (!rate)
		return UINT64_MAX;
	due = (unsigned __int128)elapsed_ns * rate / NSEC + 1;
	return due > UINT64_MAX ? UINT64_MAX : (uint64_t)due;
}

unsigned gen_pace_burst(uint64_t rate, unsigned max)
{
	uint64_t b = (uint64_t)((unsigned __int128)rate * GEN_PACE_TICK_NS / NSEC);

	if (b < 1)
		b = 1;
	if (max && b > max)
		b = max;
	return (unsigned)b;
}

uint64_t gen_timeout_ns(const struct gen_cfg *c)
{
	uint64_t t;

	if (c->timeout_ns)
		return c->timeout_ns;
	if (c->duration_ns)
		return c->duration_ns + 5 * NSEC;
	if (c->rate_pps)
		t = gen_pace_time(c->rate_pps, c->count);
	else
		t = c->count * 10000;   /* no slower than 100k per second */
	return t + t / 2 + 10 * NSEC;
}

const char *gen_mode_name(enum gen_mode m)
{
	switch (m) {
	case GEN_MODE_LIVE:
		return "live";
	case GEN_MODE_UDP:
		return "udp";
	case GEN_MODE_TCP:
		return "tcp";
	}
	return "?";
}

void gen_cfg_init(struct gen_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->family = 4;
	c->size = GEN_MIN_FRAME;
	c->nflows = 1;
	c->threads = 1;
	c->duration_ns = NSEC;
}

unsigned gen_cfg_threads(const struct gen_cfg *c)
{
	if (c->threads)
		return c->threads;
	return c->cpus ? (unsigned)__builtin_popcountll(c->cpus) : 1;
}

uint64_t gen_cfg_cpus(const struct gen_cfg *c)
{
	unsigned n = gen_cfg_threads(c);

	if (c->cpus)
		return c->cpus;
	return n >= 64 ? ~0ull : (1ull << n) - 1;
}

int gen_cfg_check(const struct gen_cfg *c, enum gen_mode mode, char *why, size_t len)
{
	unsigned n = gen_cfg_threads(c), flows = c->nflows ? c->nflows : 1;
	int ncpu = cpu_count();

#define BAD(...) do { snprintf(why, len, __VA_ARGS__); return -EINVAL; } while (0)
	if (c->family != 4 && c->family != 6)
		BAD("family must be 4 or 6");
	if (mode == GEN_MODE_TCP) {
		if (c->size < 1 || c->size > 65536)
			BAD("request size %u is out of range 1..65536", c->size);
		if (flows > GEN_MAX_TCP_CONNS)
			BAD("%u connections is more than %d", flows, GEN_MAX_TCP_CONNS);
		if (n > flows)
			BAD("%u threads need at least as many connections (--flows)", n);
	} else {
		if (gen_payload_len(c->family, c->size) < 0)
			BAD("frame size %u is out of range %d..%d", c->size, GEN_MIN_FRAME,
			    GEN_MAX_FRAME);
		if (flows > GEN_MAX_FLOWS)
			BAD("%u flows is more than %d", flows, GEN_MAX_FLOWS);
	}
	if (!c->count && !c->duration_ns)
		BAD("give a count or a duration");
	if (n < 1 || (int)n > ncpu || n > GEN_MAX_THREADS)
		BAD("%u threads is out of range 1..%d (CPUs)", n, ncpu);
	if (c->cpus && (c->cpus >> ncpu))
		BAD("CPU list names CPUs this machine does not have (0..%d)", ncpu - 1);
	if (c->cpus && (unsigned)__builtin_popcountll(c->cpus) < n)
		BAD("%u threads need %u CPUs in the CPU list, it has %d", n, n,
		    __builtin_popcountll(c->cpus));
	if (mode == GEN_MODE_LIVE && c->batch > 256)
		BAD("live batch %u is out of range 1..256", c->batch);
	if (mode == GEN_MODE_UDP && c->batch > 1024)
		BAD("sendmmsg batch %u is out of range 1..1024", c->batch);
#undef BAD
	return 0;
}

int gen_sockaddr(int family, const char *ip, uint16_t port, struct sockaddr_storage *ss,
		 socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
		return ip ? parse_ip(6, ip, (uint8_t *)&a->sin6_addr) : 0;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
		return ip ? parse_ip(4, ip, (uint8_t *)&a->sin_addr) : 0;
	}
}
