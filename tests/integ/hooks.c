/*
 * The hooks and the apps against the real kernel: every hook x action moves
 * real traffic between the gen and dut namespaces and the test checks what
 * arrived where, that detach leaves nothing behind, and that the root
 * namespace never changes.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/apps.h"
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/hooks.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/link.h"
#include "netns/netns.h"
#include "netns/topo.h"
#include "tests/integ/hooks_kit.h"
#include "tests/test.h"


const char *const hook_test_actions[] = { "empty", "count_pass", "drop", "echo" };

struct topo_opts hooks_bed_opts(void)
{
	return (struct topo_opts){ .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };
}

/* Skip (true) when env says the hook cannot work here. */
bool hooks_skip_unsupported(const struct hook_desc *h)
{
	char why[256];

	if (!hook_supported(h, why, sizeof(why)))
		return false;
	test_skip("%s: %s", h->name, why);
	return true;
}

void hooks_each(bool (*where)(const struct hook_desc *h), void (*test)(const struct hook_desc *h))
{
	for (size_t i = 0; i < hook_count(); i++)
		if (where(hook_get(i)) && test_subtest("%s", hook_get(i)->name))
			test(hook_get(i));
}

bool hooks_bed_up(const struct hook_desc *h, struct topo *t, char *root_before, size_t len)
{
	struct topo_opts o = hooks_bed_opts();

	if (hooks_skip_unsupported(h))
		return false;
	test_sh(root_before, len, ROOT_NET);
	return ASSERT_OK(topo_up(&o, t), "topo_up");
}

bool hooks_prog_gone(uint32_t id)
{
	/* tc frees filters from an RCU work item: allow it a moment. */
	for (int i = 0; i < 200; i++) {
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0 && errno == ENOENT)
			return true;
		if (fd >= 0)
			close(fd);
		sleep_ns(10000000);
	}
	return false;
}

int hooks_gen_socket(struct topo *t, int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct timeval tv = { .tv_sec = 3 };
	int fd;

	fd = netns_socket(&t->gen, AF_INET, type, 0);
	if (fd < 0)
		return fd;
	inet_pton(AF_INET, t->ip4_dut, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void fill_dgram(uint8_t *buf, uint32_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
	app_pattern_fill(buf + 4, UDP_SIZE - 4, seq);
}

/* ---- UDP traffic, closed loop ---------------------------------------- */

struct udp_run {
	int fd;
	struct hook_inst *hi;
	struct app *app;
	enum hook_action act;
	/* echo: replies seen, by sequence number */
	uint8_t seen[UDP_N];
	uint64_t replies, bad_replies, dup_replies;
};

/* Drain echo replies; each must be a datagram we sent, byte for byte. */
static void drain_replies(struct udp_run *r)
{
	uint8_t buf[2048], want[UDP_SIZE];

	for (int i = 0; i < 10000; i++) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);
		uint32_t seq;

		if (n < 0)
			return;
		memcpy(&seq, buf, sizeof(seq));
		if (n != UDP_SIZE || seq >= UDP_N) {
			r->bad_replies++;
			continue;
		}
		fill_dgram(want, seq);
		if (memcmp(buf, want, UDP_SIZE)) {
			r->bad_replies++;
			continue;
		}
		if (r->seen[seq]++)
			r->dup_replies++;
		else
			r->replies++;
	}
}

/* What has arrived where it should, for the closed loop. */
static uint64_t udp_progress(struct udp_run *r, bool echo_by_app)
{
	struct app_stats st;

	if (r->act == HOOK_ECHO || echo_by_app) {
		drain_replies(r);
		return r->replies;
	}
	if (r->act == HOOK_DROP)
		return hook_counters_sum(r->hi).packets;
	app_read(r->app, &st);
	return st.packets;
}

/* Send UDP_N datagrams in bursts, each burst once the previous has arrived.
 * Returns how many arrived (UDP_N when nothing was lost). */
static uint64_t udp_closed_loop(struct udp_run *r, bool echo_by_app)
{
	uint8_t buf[UDP_SIZE];
	uint64_t got = 0;

	for (uint32_t seq = 0; seq < UDP_N;) {
		uint64_t end;

		for (int b = 0; b < BURST && seq < UDP_N; b++, seq++) {
			fill_dgram(buf, seq);
			if (send(r->fd, buf, sizeof(buf), 0) != sizeof(buf))
				return got;
		}
		end = now_ns() + WAIT_MS * 1000000ull;
		while ((got = udp_progress(r, echo_by_app)) < seq && now_ns() < end)
			sleep_ns(50000);
		if (got < seq)
			return got;
	}
	return got;
}

/* ---- what is attached, seen directly (not through lib/hooks.c) ------- */

static int direct_attached(const struct hook_desc *h, struct topo *t, char *what, size_t len)
{
	struct nstoken *tok = netns_enter(&t->dut);
	int n = -1;

	if (!tok)
		return -errno;
	what[0] = '\0';
	if (!strncmp(h->name, "xdp", 3)) {
		LIBBPF_OPTS(bpf_xdp_query_opts, o);

		if (!bpf_xdp_query(t->ifindex_dut, 0, &o)) {
			n = o.attach_mode != XDP_ATTACHED_NONE;
			snprintf(what, len, "xdp mode %u drv %u skb %u", o.attach_mode,
				 o.drv_prog_id, o.skb_prog_id);
		}
	} else if (!strcmp(h->name, "tc")) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = t->ifindex_dut, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = 1);
		int err = bpf_tc_query(&hook, &o);

		n = !err;
		snprintf(what, len, "tc query %d prog %u", err, o.prog_id);
	} else if (!strcmp(h->name, "tcx")) {
		uint32_t ids[4], cnt = 4;

		if (!tcx_query(t->ifindex_dut, BPF_TCX_INGRESS, ids, NULL, &cnt, NULL)) {
			n = cnt;
			snprintf(what, len, "tcx count %u", cnt);
		}
	}
	netns_leave(tok);
	return n;
}

/* The DUT's own `tc` view: clsact qdisc and ingress filters. */
static void tc_view(struct topo *t, char *out, size_t len)
{
	test_sh(out, len, "ip netns exec %s tc qdisc show dev %s 2>&1; "
		"ip netns exec %s tc filter show dev %s ingress 2>&1",
		t->dut.name, t->if_dut, t->dut.name, t->if_dut);
}

/* ---- packet hooks ---------------------------------------------------- */

/* One hook x action on UDP.  long: the case's steps and the assertions on
 * each read top to bottom; split, they would pass a dozen counters around. */
static void packet_case(const struct hook_desc *h, enum hook_action act, struct topo *t,
			const char *root_before)
{
	struct app_opts ao = { .kind = APP_UDP_SINK, .port = PORT, .cpu = -1, .rcvbuf = 4 << 20 };
	struct udp_run *r = calloc(1, sizeof(*r));
	char what[256], root[8192], view[4096];
	struct cpu_counters c;
	struct app_stats st;
	struct hook_inst *hi = NULL;
	struct app *app = NULL;
	uint32_t id = 0, ids[4], cnt = 4;
	uint64_t got;

	if (!ASSERT_OK_PTR(r, "calloc"))
		return;
	r->fd = -1;
	r->act = act;
	fprintf(stderr, "  %s/%s\n", h->name, hook_test_actions[act]);
	if (!ASSERT_OK(app_start(&ao, &t->dut, &app), "udp sink start") ||
	    !ASSERT_OK(app_wait_ready(app, WAIT_MS), "udp sink ready"))
		goto cleanup;
	if (!ASSERT_OK(hook_attach(h, act, &t->dut, t->if_dut, PORT, &hi), "hook_attach"))
		goto cleanup;
	id = hook_prog_id(hi);
	ASSERT_GT(id, 0, "program id");
	ASSERT_GE(hook_prog_fd(hi), 0, "program fd");
	ASSERT_EQ(hook_sockmap_fd(hi), -1, "no sockmap for a packet hook");
	ASSERT_EQ(direct_attached(h, t, what, sizeof(what)), 1, what);
	ASSERT_OK(hook_query(h, &t->dut, t->if_dut, ids, &cnt), "hook_query");
	ASSERT_TRUE(cnt == 1 && ids[0] == id, "hook_query finds our program");
	test_sh(root, sizeof(root), ROOT_NET);
	ASSERT_STREQ(root, root_before, "root bpftool net show after attach");

	r->hi = hi;
	r->app = app;
	r->fd = hooks_gen_socket(t, SOCK_DGRAM);
	if (!ASSERT_GE(r->fd, 0, "gen socket"))
		goto cleanup;
	got = udp_closed_loop(r, false);
	sleep_ns(100000000); /* let stragglers land where they would */
	drain_replies(r);
	c = hook_counters_sum(hi);
	app_read(app, &st);

	/* got: what the app received (empty, count_pass), the program saw
	 * (drop) or came back to gen (echo).  A program counts every datagram. */
	ASSERT_EQ(got, UDP_N, act == HOOK_ECHO ? "replies back in gen" :
			      act == HOOK_DROP ? "datagrams that reached the program" :
			      "datagrams the app received");
	if (act != HOOK_EMPTY)
		ASSERT_EQ(c.packets, UDP_N, "counted packets");
	if (act == HOOK_DROP || act == HOOK_ECHO)
		ASSERT_EQ(st.packets, 0, "the app socket got nothing");
	switch (act) {
	case HOOK_EMPTY:
		ASSERT_EQ(st.packets, UDP_N, "app packets");
		ASSERT_EQ(c.packets + c.bytes + c.passed + c.dropped + c.redirected, 0,
			  "empty touches no counter");
		break;
	case HOOK_COUNT_PASS:
		ASSERT_EQ(st.packets, UDP_N, "app packets");
		ASSERT_EQ(st.bytes, (uint64_t)UDP_N * UDP_SIZE, "app bytes");
		ASSERT_EQ(c.passed, UDP_N, "passed");
		ASSERT_EQ(c.bytes, (uint64_t)UDP_N * UDP_FRAME, "counted frame bytes");
		ASSERT_EQ(c.dropped, 0, "dropped");
		break;
	case HOOK_DROP:
		ASSERT_EQ(c.dropped, UDP_N, "dropped = arrived");
		ASSERT_EQ(c.bytes, (uint64_t)UDP_N * UDP_FRAME, "counted frame bytes");
		break;
	case HOOK_ECHO:
		ASSERT_EQ(r->replies, UDP_N, "every request came back");
		ASSERT_EQ(r->bad_replies, 0, "replies with other bytes");
		ASSERT_EQ(r->dup_replies, 0, "duplicate replies");
		ASSERT_EQ(c.redirected, UDP_N, "echoed at the hook");
		ASSERT_EQ(c.errors, 0, "redirect errors");
		break;
	default:
		break;
	}

cleanup:
	if (r->fd >= 0)
		close(r->fd);
	if (hi) {
		hook_detach(hi);
		ASSERT_EQ(direct_attached(h, t, what, sizeof(what)), 0, what);
		cnt = 4;
		ASSERT_OK(hook_query(h, &t->dut, t->if_dut, ids, &cnt), "hook_query after detach");
		ASSERT_EQ(cnt, 0, "hook_query: nothing attached");
		ASSERT_TRUE(hooks_prog_gone(id), "program freed after detach");
		if (!strcmp(h->name, "tc")) {
			tc_view(t, view, sizeof(view));
			ASSERT_FALSE(strstr(view, "clsact") || strstr(view, "bpf"),
				     "no clsact qdisc or bpf filter left");
		}
		test_sh(root, sizeof(root), ROOT_NET);
		ASSERT_STREQ(root, root_before, "root bpftool net show after detach");
	}
	app_free(app);
	free(r);
}

/* hook_set_attached: the loaded program comes off its attach point and goes
 * back (bench overhead toggles it every window), same program, same counters. */
static void toggle_case(const struct hook_desc *h, struct topo *t)
{
	struct app_opts ao = { .kind = APP_UDP_SINK, .port = PORT, .cpu = -1, .rcvbuf = 4 << 20 };
	struct udp_run *r = calloc(1, sizeof(*r));
	struct hook_inst *hi = NULL;
	struct app *app = NULL;
	struct app_stats st;
	uint32_t id, ids[4], cnt;
	char what[256];

	if (!ASSERT_OK_PTR(r, "calloc"))
		return;
	r->fd = -1;
	fprintf(stderr, "  %s/toggle\n", h->name);
	if (!ASSERT_OK(app_start(&ao, &t->dut, &app), "udp sink start") ||
	    !ASSERT_OK(app_wait_ready(app, WAIT_MS), "udp sink ready") ||
	    !ASSERT_OK(hook_attach(h, HOOK_DROP, &t->dut, t->if_dut, PORT, &hi), "hook_attach"))
		goto cleanup;
	id = hook_prog_id(hi);
	r->hi = hi;
	r->app = app;
	r->fd = hooks_gen_socket(t, SOCK_DGRAM);
	if (!ASSERT_GE(r->fd, 0, "gen socket"))
		goto cleanup;
	/* Off, on, off first: repeated toggles (tc makes clsact anew each time). */
	for (int k = 0; k < 3; k++) {
		bool on = k == 1;

		if (!ASSERT_OK(hook_set_attached(hi, on), on ? "put it back" : "take it off"))
			goto cleanup;
		ASSERT_EQ(direct_attached(h, t, what, sizeof(what)), on, what);
	}
	r->act = HOOK_COUNT_PASS; /* progress: what the app got */
	ASSERT_EQ(udp_closed_loop(r, false), UDP_N, "off: the app gets every datagram");
	ASSERT_EQ(hook_counters_sum(hi).packets, 0, "off: the program saw nothing");
	if (!ASSERT_OK(hook_set_attached(hi, true), "put it back"))
		goto cleanup;
	ASSERT_OK(hook_set_attached(hi, true), "on twice is a no-op");
	cnt = 4;
	ASSERT_OK(hook_query(h, &t->dut, t->if_dut, ids, &cnt), "hook_query");
	ASSERT_TRUE(cnt == 1 && ids[0] == id, "the same program is back");
	r->act = HOOK_DROP; /* progress: what the program counted */
	ASSERT_EQ(udp_closed_loop(r, false), UDP_N, "on: every datagram reaches the program");
	ASSERT_EQ(hook_counters_sum(hi).dropped, UDP_N, "on: it drops them all");
	app_read(app, &st);
	ASSERT_EQ(st.packets, UDP_N, "on: the app got nothing more");
cleanup:
	if (r->fd >= 0)
		close(r->fd);
	hook_detach(hi);
	ASSERT_EQ(direct_attached(h, t, what, sizeof(what)), 0, what);
	app_free(app);
	free(r);
}

static void packet_hook(const struct hook_desc *h)
{
	struct hook_inst *peer = NULL;
	char root_before[8192];
	struct topo t;

	if (!hooks_bed_up(h, &t, root_before, sizeof(root_before)))
		return;
	/*
	 * gen sends complete UDP checksums, as a wire would: with tx offload a
	 * local socket leaves a partial one, which an skb-less XDP_TX reply
	 * carries back as a bad checksum.
	 */
	if (!ASSERT_EQ(test_sh(NULL, 0, "ip netns exec %s ethtool -K %s tx off 2>&1", t.gen.name,
			       t.if_gen), 0, "tx checksum offload off on the gen end"))
		goto cleanup;
	/* Native XDP_TX frames reach the peer veth only when it runs XDP
	 * itself (GRO on it was not enough here): an empty one on gen. */
	if (h->peer_needs_xdp &&
	    !ASSERT_OK(hook_attach(h, HOOK_EMPTY, &t.gen, t.if_gen, 0, &peer), "XDP on the gen end"))
		goto cleanup;
	for (int a = 0; a < HOOK_ACTION__COUNT; a++)
		packet_case(h, a, &t, root_before);
	toggle_case(h, &t);
cleanup:
	hook_detach(peer);
	topo_down(&t);
}

/* Every hook on a device in the table, one subtest each (a new one needs no edit). */
OLAB_TEST(hooks_device)
{
	hooks_each(hook_on_device, packet_hook);
}
OLAB_TEST_TIMEOUT(hooks_device, 600);

/* ---- baselines: the apps alone --------------------------------------- */

/* long: the four apps (UDP and TCP, sink and echo) in one testbed, each a
 * short block of traffic and its counters. */
OLAB_TEST(hooks_baselines)
{
	const struct hook_desc *udp = hook_by_name("udp-socket"), *tcp = hook_by_name("tcp-socket");
	struct topo_opts o = hooks_bed_opts();
	struct hook_inst *hi = NULL;
	struct udp_run *r = NULL;
	struct app *app = NULL;
	struct app_stats st;
	size_t total = 1 << 20, got = 0;
	uint8_t *buf = NULL, *back = NULL;
	struct topo t;
	int fd;

	if (!ASSERT_OK_PTR(udp, "udp-socket") || !ASSERT_OK_PTR(tcp, "tcp-socket"))
		return;
	ASSERT_EQ(hook_attach(udp, HOOK_DROP, NULL, NULL, PORT, &hi), -EINVAL,
		  "a baseline has no drop");
	if (!ASSERT_OK(topo_up(&o, &t), "topo_up"))
		return;

	/* udp-socket: the sink gets every datagram, the echo app answers each. */
	ASSERT_OK(hook_attach(udp, HOOK_EMPTY, &t.dut, t.if_dut, PORT, &hi), "attach baseline");
	ASSERT_EQ(hook_prog_fd(hi), -1, "no program");
	ASSERT_EQ(hook_sockmap_fd(hi), -1, "no sockmap");
	ASSERT_TRUE(hook_counters(hi) == NULL, "no counters");
	hook_detach(hi);
	for (int k = 0; k < 2; k++) {
		struct app_opts ao = { .kind = k ? APP_UDP_ECHO : APP_UDP_SINK, .port = PORT,
				       .cpu = 0, .rcvbuf = 4 << 20 };

		r = calloc(1, sizeof(*r));
		if (!ASSERT_OK_PTR(r, "calloc"))
			goto cleanup;
		r->act = HOOK_EMPTY;
		if (!ASSERT_OK(app_start(&ao, &t.dut, &app), "udp app") ||
		    !ASSERT_OK(app_wait_ready(app, WAIT_MS), "udp app ready"))
			goto cleanup;
		r->app = app;
		r->fd = hooks_gen_socket(&t, SOCK_DGRAM);
		if (!ASSERT_GE(r->fd, 0, "gen socket"))
			goto cleanup;
		ASSERT_EQ(udp_closed_loop(r, k == 1), UDP_N, app_kind_name(ao.kind));
		close(r->fd);
		/* The app counts a reply after sending it: the client may see the
		 * reply first, so wait (bounded) for the counters to catch up. */
		app_wait_count(app, k ? offsetof(struct app_stats, sent_packets)
				      : offsetof(struct app_stats, packets), UDP_N, WAIT_MS);
		app_read(app, &st);
		ASSERT_EQ(st.packets, UDP_N, "app packets");
		ASSERT_EQ(st.bytes, (uint64_t)UDP_N * UDP_SIZE, "app bytes");
		ASSERT_EQ(st.cpu_packets[0], UDP_N, "counted on the CPU it was pinned to");
		if (k == 1) {
			ASSERT_EQ(st.sent_packets, UDP_N, "echo app sent");
			ASSERT_EQ(r->bad_replies, 0, "replies with other bytes");
		}
		ASSERT_EQ(app_stop(app, WAIT_MS), 0, "app exit status");
		app_free(app);
		app = NULL;
		free(r);
		r = NULL;
	}

	/* tcp-socket: the sink sees the pattern in order, the echo app returns it. */
	buf = malloc(total);
	back = malloc(total);
	if (!ASSERT_OK_PTR(buf, "malloc") || !ASSERT_OK_PTR(back, "malloc"))
		goto cleanup;
	app_pattern_fill(buf, total, 0);
	for (int k = 0; k < 2; k++) {
		struct app_opts ao = { .kind = k ? APP_TCP_ECHO : APP_TCP_SINK, .port = PORT,
				       .cpu = 1 % cpu_count(), .verify = true, .req_size = 1000 };

		if (!ASSERT_OK(app_start(&ao, &t.dut, &app), "tcp app") ||
		    !ASSERT_OK(app_wait_ready(app, WAIT_MS), "tcp app ready"))
			goto cleanup;
		fd = hooks_gen_socket(&t, SOCK_STREAM);
		if (!ASSERT_GE(fd, 0, "connect"))
			goto cleanup;
		got = 0;
		memset(back, 0, total);
		ASSERT_TRUE(hooks_tcp_write_read(fd, buf, total, k ? back : NULL, &got), "send");
		app_wait_count(app, offsetof(struct app_stats, bytes), total, WAIT_MS);
		close(fd);
		ASSERT_OK(app_wait_count(app, offsetof(struct app_stats, conns_closed), 1, WAIT_MS),
			  "app saw the close");
		app_read(app, &st);
		ASSERT_EQ(st.bytes, total, "app bytes");
		ASSERT_EQ(st.bad_bytes, 0, "bytes in order");
		ASSERT_EQ(st.requests, total / 1000, "requests of 1000 bytes");
		ASSERT_EQ(st.conns, 1, "connections");
		ASSERT_EQ(st.sockmap_added, 0, "no sockmap");
		if (k) {
			ASSERT_EQ(got, total, "echoed bytes");
			ASSERT_TRUE(!memcmp(back, buf, total), "echo is the same bytes");
		}
		ASSERT_EQ(app_stop(app, WAIT_MS), 0, "app exit status");
		app_free(app);
		app = NULL;
	}
cleanup:
	if (r && r->fd > 0)
		close(r->fd);
	free(r);
	app_free(app);
	free(buf);
	free(back);
	topo_down(&t);
}

/* ---- the table as `env --json` lists it ------------------------------ */

OLAB_TEST(hooks_json)
{
	json_t *arr = hooks_to_json();

	if (!ASSERT_TRUE(json_is_array(arr), "an array") ||
	    !ASSERT_EQ(json_array_size(arr), hook_count(), "one entry per hook"))
		goto out;
	for (size_t i = 0; i < hook_count(); i++) {
		const struct hook_desc *h = hook_get(i);
		json_t *e = json_array_get(arr, i), *feat = json_object_get(e, "feature");
		const char *reason = json_string_value(json_object_get(e, "reason"));

		if (!test_subtest("%s", h->name))
			continue;
		ASSERT_STREQ(json_string_value(json_object_get(e, "name")), h->name, "in table order");
		ASSERT_STREQ(json_string_value(json_object_get(e, "proto")), hook_proto_name(h->proto),
			     "proto");
		ASSERT_EQ(json_is_true(json_object_get(e, "program")), hook_has_program(h), "program");
		if (h->feature >= 0)
			ASSERT_STREQ(json_string_value(feat), feature_name(h->feature), "feature");
		else
			ASSERT_TRUE(json_is_null(feat), "no feature");
		ASSERT_EQ(json_is_true(json_object_get(e, "supported")),
			  hook_supported(h, NULL, 0) == 0, "supported as hook_supported says");
		ASSERT_TRUE(reason && (json_is_true(json_object_get(e, "supported")) == !*reason),
			    "a reason iff unsupported");
	}
out:
	json_decref(arr);
}

/* ---- cleanup on SIGTERM (the table itself: tests/unit/hooks.c) ------- */

OLAB_TEST(hooks_detach_on_sigterm)
{
	const char *names[] = { "xdp", "tc", "tcx", "sk-skb-parser" };
	struct topo_opts o = hooks_bed_opts();
	uint32_t ids[ARRAY_SIZE(names)] = { 0 };
	int pfd[2] = { -1, -1 }, st = 0;
	struct topo t;
	char what[256];
	pid_t pid;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (hooks_skip_unsupported(hook_by_name(names[i])))
			return;
	if (!ASSERT_OK(topo_up(&o, &t), "topo_up") || !ASSERT_OK(pipe(pfd), "pipe"))
		goto cleanup;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* A run of its own: attach everything, report ids, wait for SIGTERM,
		 * unwind through exit() and the cleanup registry. */
		struct hook_inst *hi;

		cleanup_disown();
		run_init();
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			const struct hook_desc *h = hook_by_name(names[i]);

			if (hook_attach(h, HOOK_DROP, &t.dut, t.if_dut, PORT, &hi))
				_exit(2);
			ids[i] = hook_prog_id(hi);
		}
		if (write(pfd[1], ids, sizeof(ids)) != sizeof(ids))
			_exit(3);
		for (int i = 0; i < 10000 && !run_stopping(); i++)
			sleep_ns(1000000);
		exit(run_stopping() ? 0 : 4);
	}
	close(pfd[1]);
	pfd[1] = -1;
	if (!ASSERT_GT(pid, 0, "fork"))
		goto cleanup;
	if (ASSERT_EQ(read(pfd[0], ids, sizeof(ids)), sizeof(ids), "ids from the child")) {
		ASSERT_EQ(direct_attached(hook_by_name("xdp"), &t, what, sizeof(what)), 1, what);
		ASSERT_EQ(direct_attached(hook_by_name("tc"), &t, what, sizeof(what)), 1, what);
		ASSERT_EQ(direct_attached(hook_by_name("tcx"), &t, what, sizeof(what)), 1, what);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child unwound on SIGTERM");
	for (size_t i = 0; i < 3; i++) {
		ASSERT_EQ(direct_attached(hook_by_name(names[i]), &t, what, sizeof(what)), 0, what);
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		ASSERT_TRUE(ids[i] && hooks_prog_gone(ids[i]), names[i]);
cleanup:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	topo_down(&t);
}

/* ---- apps are bounded ------------------------------------------------ */

/* Gone, or a zombie nobody has reaped yet. */
static bool dead(pid_t pid)
{
	char path[64], stat[256], *p;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_file(path, stat, sizeof(stat)))
		return true;
	p = strrchr(stat, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

OLAB_TEST(apps_bounded)
{
	struct app_opts ao = { .kind = APP_TCP_SINK, .port = PORT, .cpu = -1 };
	struct topo_opts o = hooks_bed_opts();
	int pfd[2], st = 0;
	struct app *app = NULL;
	pid_t mid, app_pid = 0;
	struct topo t;

	if (!ASSERT_OK(topo_up(&o, &t), "topo_up"))
		return;
	/* The stop flag. */
	for (int k = 0; k < APP_KIND__COUNT; k++) {
		ao.kind = k;
		if (!ASSERT_OK(app_start(&ao, &t.dut, &app), "start") ||
		    !ASSERT_OK(app_wait_ready(app, WAIT_MS), "ready"))
			goto cleanup;
		ASSERT_EQ(app_stop(app, 2000), 0, app_kind_name(k));
		app_free(app);
		app = NULL;
	}
	/* Its own time limit. */
	ao.kind = APP_UDP_SINK;
	ao.timeout_ms = 300;
	if (!ASSERT_OK(app_start(&ao, &t.dut, &app), "start"))
		goto cleanup;
	ASSERT_EQ(proc_wait(&app->proc, 3000), 0, "exits by itself at its time limit");
	app_free(app);
	app = NULL;
	/* A port in use is reported, not hidden. */
	ao.timeout_ms = 0;
	{
		struct app *a2 = NULL;

		ao.kind = APP_TCP_SINK;
		if (ASSERT_OK(app_start(&ao, &t.dut, &app), "first") &&
		    ASSERT_OK(app_wait_ready(app, WAIT_MS), "first ready") &&
		    ASSERT_OK(app_start(&ao, &t.dut, &a2), "second")) {
			ASSERT_EQ(app_wait_ready(a2, WAIT_MS), -EADDRINUSE, "second cannot listen");
		}
		app_free(a2);
		app_free(app);
		app = NULL;
	}
	/* The parent's death. */
	if (!ASSERT_OK(pipe(pfd), "pipe"))
		goto cleanup;
	fflush(NULL);
	mid = fork();
	if (mid == 0) {
		struct app *a = NULL;
		pid_t p;

		cleanup_disown();
		ao.kind = APP_UDP_SINK;
		p = app_start(&ao, &t.dut, &a) || app_wait_ready(a, WAIT_MS) ? 0 : a->proc.pid;
		if (write(pfd[1], &p, sizeof(p)) != sizeof(p))
			_exit(1);
		_exit(0); /* without stopping it */
	}
	close(pfd[1]);
	ASSERT_EQ(read(pfd[0], &app_pid, sizeof(app_pid)), sizeof(app_pid), "app pid");
	close(pfd[0]);
	waitpid(mid, &st, 0);
	if (ASSERT_GT(app_pid, 0, "app started by the middle process")) {
		bool gone = false;

		for (int i = 0; i < 200 && !gone; i++) {
			gone = dead(app_pid);
			sleep_ns(10000000);
		}
		ASSERT_TRUE(gone, "app died with its parent");
	}
cleanup:
	app_free(app);
	topo_down(&t);
}
