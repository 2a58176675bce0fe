/* Traffic generators against real testbeds: what is sent is what arrives. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>
#include "lib/gen.h"
#include "lib/util.h"
#include "netns/topo.h"
#include "tests/test.h"

#define NSEC 1000000000ull
#define SETTLE (2 * NSEC)

static bool bed_up(struct topo *t)
{
	struct topo_opts o = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };

	return ASSERT_OK(topo_up(&o, t), "topo_up");
}

static void cfg_count(struct gen_cfg *c, int family, uint64_t count, uint64_t rate)
{
	gen_cfg_init(c);
	c->family = family;
	c->count = count;
	c->duration_ns = 0;
	c->rate_pps = rate;
}

/* Start a sink, run the generator, wait for the sink to see everything. */
static int run_one(struct topo *t, enum gen_mode mode, const struct gen_cfg *c,
		   struct gen_result *r, struct gen_sink_stats *k)
{
	struct gen_sink *s = NULL;
	int err;

	memset(k, 0, sizeof(*k));
	err = gen_sink_start(t, mode, c, &s);
	if (!ASSERT_OK(err, "gen_sink_start"))
		return err;
	err = gen_run(t, mode, c, r);
	ASSERT_OK(err, "gen_run");
	gen_sink_settle(s, r->sent, SETTLE, k);
	gen_sink_stop(s);
	return err;
}

/* Paced: every frame is sent and every frame arrives. */
OLAB_TEST(gen_live_count_exact)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	cfg_count(&c, 4, 300000, 1000000);
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.sent, 300000, "frames sent (program counter)");
	ASSERT_EQ(r.bytes, 300000ull * 64, "bytes sent");
	ASSERT_EQ(k.packets, r.sent, "frames counted by the XDP sink");
	ASSERT_EQ(k.bytes, r.bytes, "bytes at the sink");
	ASSERT_EQ(r.nthreads, 1, "threads");
	ASSERT_EQ(r.thr[0].cpu, 0, "generator CPU");
	ASSERT_EQ(k.distinct_sports, 1, "one flow");
	/* Pacing held (also catches test_run calls that wait for RCU). */
	ASSERT_DBL_NEAR(r.pps, 1e6, 0.1e6, "paced rate");
	ASSERT_FALSE(r.timed_out, "time limit");
cleanup:
	topo_down(&t);
}

/* Unpaced: exact count from the program; the sink may lose a little when its
 * softirq work is pushed to ksoftirqd and the veth ring (256) overflows. */
OLAB_TEST(gen_live_unpaced)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	cfg_count(&c, 4, 2000000, 0);
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.sent, 2000000, "frames sent");
	ASSERT_LE(k.packets, r.sent, "no more received than sent");
	/* How many a busy machine drops is a figure; the accounting is not. */
	ASSERT_EQ(k.packets + r.xmit_errors, r.sent, "every frame received or a veth xmit error");
	printf("    live unpaced: %.2f Mpps sent, %.2f%% received\n", r.pps / 1e6,
	       100.0 * k.packets / r.sent);
cleanup:
	topo_down(&t);
}

OLAB_TEST(gen_live_ipv6)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	cfg_count(&c, 6, 200000, 1000000);
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.sent, 200000, "frames sent");
	ASSERT_EQ(k.packets, 200000, "IPv6 frames at the sink");
	ASSERT_EQ(k.bytes, 200000ull * 64, "bytes at the sink");
cleanup:
	topo_down(&t);
}

OLAB_TEST(gen_live_flows_distinct_ports)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	cfg_count(&c, 4, 100000, 1000000);
	c.nflows = 1000;
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(k.packets, 100000, "frames at the sink");
	ASSERT_EQ(k.distinct_sports, 1000, "distinct source ports at the sink");
	cfg_count(&c, 6, 70000, 2000000);
	c.nflows = GEN_MAX_FLOWS;
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(k.distinct_sports, GEN_MAX_FLOWS, "every port, IPv6");
cleanup:
	topo_down(&t);
}

OLAB_TEST(gen_live_two_threads)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (cpu_count() < 2) {
		test_skip("needs 2 CPUs");
		return;
	}
	if (!bed_up(&t))
		return;
	cfg_count(&c, 4, 1000000, 2000000);
	c.threads = 2;
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.nthreads, 2, "threads");
	ASSERT_EQ(r.sent, 1000000, "frames sent");
	ASSERT_EQ(r.thr[0].sent, 500000, "thread 0 share");
	ASSERT_EQ(r.thr[1].sent, 500000, "thread 1 share");
	ASSERT_EQ(r.thr[0].cpu, 0, "thread 0 CPU");
	ASSERT_EQ(r.thr[1].cpu, 1, "thread 1 CPU");
	ASSERT_LE(k.packets, r.sent, "no more received than sent");
	ASSERT_GT(k.packets, 0, "received");
	/* Unpaced, the two CPUs overrun the DUT's single veth ring: the losses
	 * show up as veth xmit errors (a counter the CPUs update without
	 * atomics, so only about right). */
	c.rate_pps = 0;
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.sent, 1000000, "frames sent, unpaced");
	ASSERT_LE(k.packets, r.sent, "no more received than sent, unpaced");
	ASSERT_DBL_NEAR((double)(k.packets + r.xmit_errors), (double)r.sent, r.sent / 200.0,
			"received + veth xmit errors ~ sent");
	printf("    2 threads unpaced: %.2f Mpps sent, %.2f%% received, %llu veth xmit errors\n",
	       r.pps / 1e6, 100.0 * k.packets / r.sent, (unsigned long long)r.xmit_errors);
cleanup:
	topo_down(&t);
}

/* The frames the program builds and rewrites are good enough for the
 * kernel's UDP stack: checksums (also after the port rewrite), addresses. */
OLAB_TEST(gen_live_frames_reach_socket)
{
	static const int fams[] = { 4, 6 };
	struct gen_sink *xdp = NULL, *udp = NULL;
	struct gen_sink_stats kx, ku;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(fams); i++) {
		cfg_count(&c, fams[i], 20000, 100000);
		c.nflows = 8;
		c.size = 99;
		c.sink_pass = true;
		if (!ASSERT_OK(gen_sink_start(&t, GEN_MODE_LIVE, &c, &xdp), "xdp sink") ||
		    !ASSERT_OK(gen_sink_start(&t, GEN_MODE_UDP, &c, &udp), "udp sink"))
			goto cleanup;
		ASSERT_OK(gen_live_run(&t, &c, &r), "gen_live_run");
		gen_sink_settle(udp, r.sent, SETTLE, &ku);
		gen_sink_read(xdp, &kx);
		ASSERT_EQ(r.sent, 20000, "frames sent");
		ASSERT_EQ(kx.packets, 20000, "frames passed by XDP");
		ASSERT_EQ(ku.packets, 20000, "datagrams the socket received");
		ASSERT_EQ(ku.bytes, 20000ull * gen_payload_len(fams[i], 99), "payload bytes");
		ASSERT_EQ(ku.distinct_sports, 8, "source ports seen by the socket");
		gen_sink_stop(udp);
		gen_sink_stop(xdp);
		udp = xdp = NULL;
	}
cleanup:
	gen_sink_stop(udp);
	gen_sink_stop(xdp);
	topo_down(&t);
}

OLAB_TEST(gen_live_duration_and_rate)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	gen_cfg_init(&c);
	c.duration_ns = NSEC;
	c.rate_pps = 100000;
	if (run_one(&t, GEN_MODE_LIVE, &c, &r, &k))
		goto cleanup;
	/* Behaviour, not speed: it ran its second, stopped, and never outpaced
	 * the rate (a loaded machine may send fewer, never more). */
	ASSERT_GE(r.elapsed_ns, 990000000ull, "ran its second");
	ASSERT_LE(r.elapsed_ns, 5ull * NSEC, "stopped after its second");
	ASSERT_LE((double)r.sent, 100000.0 * r.elapsed_ns / NSEC + 2000, "never above 100 kpps");
	ASSERT_GT(r.sent, 0, "frames sent");
	ASSERT_EQ(k.packets, r.sent, "frames at the sink");
cleanup:
	topo_down(&t);
}

OLAB_TEST(gen_udp_sink_receives_all)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	cfg_count(&c, 4, 100000, 0);
	c.nflows = 4;
	if (run_one(&t, GEN_MODE_UDP, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.sent, 100000, "datagrams sent (sendmmsg returns)");
	ASSERT_EQ(r.bytes, 100000ull * 22, "payload bytes sent");
	ASSERT_EQ(k.packets, r.sent, "datagrams received");
	ASSERT_EQ(k.bytes, r.bytes, "bytes received");
	ASSERT_EQ(k.distinct_sports, 4, "source ports");

	cfg_count(&c, 6, 50000, 0);
	c.nflows = 3;
	c.size = 200;
	if (run_one(&t, GEN_MODE_UDP, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.sent, 50000, "IPv6 datagrams sent");
	ASSERT_EQ(k.packets, r.sent, "IPv6 datagrams received");
	ASSERT_EQ(k.distinct_sports, 3, "IPv6 source ports");
cleanup:
	topo_down(&t);
}

OLAB_TEST(gen_tcp_requests)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t;

	if (!bed_up(&t))
		return;
	cfg_count(&c, 4, 50000, 0);
	c.nflows = 4;
	c.size = 200;
	c.threads = cpu_count() >= 2 ? 2 : 1;
	if (run_one(&t, GEN_MODE_TCP, &c, &r, &k))
		goto cleanup;
	ASSERT_EQ(r.sent, 50000, "requests written");
	ASSERT_EQ(r.bytes, 50000ull * 200, "bytes written");
	ASSERT_EQ(k.bytes, r.bytes, "bytes read by the sink");
	ASSERT_EQ(k.packets, 50000, "requests at the sink");
	ASSERT_EQ(k.other, 4, "connections accepted");
cleanup:
	topo_down(&t);
}

/* Nothing named after the CLI's run (olab<pid>) is left in /run/netns. */
static bool leftovers(const char *pid)
{
	char out[256];

	test_sh(out, sizeof(out), "ls /run/netns 2>/dev/null | grep '^olab%s-'", pid);
	return out[0] != '\0';
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

OLAB_TEST(gen_cli_rejects_bad_size)
{
	static const char *const bad[] = { "--size 63", "--size 1515", "--threads 99",
					   "--mode tcp --flows 5000" };
	char out[1024], pid[32];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *nl;
		int rc;

		rc = test_sh(out, sizeof(out), "sh -c 'echo $$; exec %s/offloadlab gen %s' 2>&1",
			     test_build_dir(), bad[i]);
		ASSERT_EQ(rc, 2, bad[i]);
		nl = strchr(out, '\n');
		if (!ASSERT_OK_PTR(nl, "pid line"))
			continue;
		snprintf(pid, sizeof(pid), "%.*s", (int)(nl - out), out);
		ASSERT_EQ(count_lines(nl + 1), 1, "one line on stderr");
		ASSERT_STRCONTAINS(nl + 1, "offloadlab gen: ", bad[i]);
		ASSERT_FALSE(leftovers(pid), "namespaces left behind");
	}
}

static long long jint(json_t *o, const char *obj, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(o, obj), key));
}

OLAB_TEST(gen_cli_json)
{
	char out[16384], pid[32], *body;
	json_t *o = NULL;
	json_error_t jerr;
	int rc;

	rc = test_sh(out, sizeof(out),
		     "sh -c 'echo $$; exec %s/offloadlab -j gen --count 200000 --rate 1000000 "
		     "--flows 10'", test_build_dir());
	ASSERT_EQ(rc, 0, "exit status");
	body = strchr(out, '\n');
	if (!ASSERT_OK_PTR(body, "output"))
		return;
	snprintf(pid, sizeof(pid), "%.*s", (int)(body - out), out);
	o = json_loads(body + 1, 0, &jerr);
	if (!ASSERT_OK_PTR(o, "JSON"))
		goto cleanup;
	ASSERT_EQ(jint(o, "sent", "packets"), 200000, "sent.packets");
	ASSERT_EQ(jint(o, "received", "packets"), 200000, "received.packets");
	ASSERT_EQ(jint(o, "received", "distinct_sports"), 10, "received.distinct_sports");
	ASSERT_STREQ(json_string_value(json_object_get(o, "mode")), "live", "mode");
	ASSERT_FALSE(leftovers(pid), "namespaces left behind");
cleanup:
	json_decref(o);
}

static bool same_ip6(const char *x, const char *y)
{
	struct in6_addr a, b;

	return inet_pton(AF_INET6, x, &a) == 1 && inet_pton(AF_INET6, y, &b) == 1 &&
	       !memcmp(&a, &b, sizeof(a));
}

/* A testbed built elsewhere: found by namespace names, used, left in place. */
OLAB_TEST(gen_attach_existing_testbed)
{
	struct gen_sink_stats k;
	struct gen_result r;
	struct gen_cfg c;
	struct topo t, a;
	char path[128];

	if (!bed_up(&t))
		return;
	ASSERT_EQ(gen_topo_attach("netns-not-ours", t.dut.name, &a), -EINVAL, "foreign name");
	if (!ASSERT_OK(gen_topo_attach(t.gen.name, t.dut.name, &a), "gen_topo_attach"))
		goto cleanup;
	ASSERT_STREQ(a.if_gen, t.if_gen, "gen interface");
	ASSERT_STREQ(a.if_dut, t.if_dut, "dut interface");
	ASSERT_EQ(a.ifindex_gen, t.ifindex_gen, "gen ifindex");
	ASSERT_EQ(memcmp(a.mac_dut, t.mac_dut, 6), 0, "dut MAC");
	ASSERT_STREQ(a.ip4_dut, t.ip4_dut, "dut IPv4");
	ASSERT_TRUE(same_ip6(a.ip6_dut, t.ip6_dut), "dut IPv6");
	cfg_count(&c, 6, 100000, 1000000);
	if (!run_one(&a, GEN_MODE_LIVE, &c, &r, &k)) {
		ASSERT_EQ(r.sent, 100000, "frames sent");
		ASSERT_EQ(k.packets, 100000, "frames at the sink");
	}
	gen_topo_detach(&a);
	snprintf(path, sizeof(path), "/run/netns/%s", t.gen.name);
	ASSERT_EQ(access(path, F_OK), 0, "the testbed is still there after detach");
cleanup:
	topo_down(&t);
}
