/*
 * The stream hooks against the real kernel: every sockmap hook x action on a
 * TCP connection between the gen and dut namespaces (tests/integ/hooks.c has
 * the device hooks, the baselines and what they share).
 */#include <arpa/inet.h>
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

/* Write all of buf, reading echoes into back (if set) as they come. */
bool hooks_tcp_write_read(int fd, const uint8_t *buf, size_t len, uint8_t *back, size_t *got)
{
	size_t sent = 0;
	uint64_t end = now_ns() + 10 * 1000000000ull;

	while ((sent < len || (back && *got < len)) && now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = (sent < len ? POLLOUT : 0) |
							(back ? POLLIN : 0) };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((p.revents & POLLOUT) && sent < len) {
			n = send(fd, buf + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				return false;
			sent += n > 0 ? n : 0;
		}
		if (back && (p.revents & POLLIN)) {
			n = recv(fd, back + *got, len - *got, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN))
				return false;
			*got += n > 0 ? n : 0;
		}
	}
	return sent == len && (!back || *got == len);
}

/*
 * Send total bytes of the pattern.  Paced: a chunk of whole messages no
 * larger than one segment (or one message), then wait until the app has read
 * it (or echoed it back) before the next; else one burst.
 */
static bool tcp_send_all(int fd, struct app *app, const uint8_t *buf, uint8_t *back, size_t total,
			 uint32_t msg, bool paced, size_t *got)
{
	size_t chunk = !paced ? total : msg >= 1448 ? msg : msg ? 1448 / msg * msg : 1448;

	*got = 0;
	for (size_t off = 0; off < total; off += chunk) {
		size_t n = total - off < chunk ? total - off : chunk, g = 0;

		if (!hooks_tcp_write_read(fd, buf + off, n, back ? back + off : NULL, &g))
			return false;
		*got += g;
		if (paced && !back &&
		    app_wait_count(app, offsetof(struct app_stats, bytes), off + n, WAIT_MS))
			return false;
	}
	return true;
}

/* One sockmap hook x action on a TCP connection.  long: the case's steps
 * and the assertions on each read top to bottom. */
static void stream_case(const struct hook_desc *h, enum hook_action act, uint32_t msg,
			struct topo *t, const char *root_before, enum app_kind kind)
{
	struct hook_opts ho = { .port = PORT, .msg_size = msg };
	struct app_opts ao = { .kind = kind, .port = PORT, .cpu = -1, .verify = true,
			       .req_size = msg };
	size_t total = msg ? (size_t)msg * (msg < 64 ? 4000 : 256 * 1024 / msg) : 512 * 1024;
	uint8_t *buf = malloc(total), *back = malloc(total);
	bool echo = act == HOOK_ECHO || kind == APP_TCP_ECHO;
	/* Parser + SK_PASS: paced, see hooks_sk_skb_parser_pass_burst. */
	bool paced = h->parser && (act == HOOK_EMPTY || act == HOOK_COUNT_PASS);
	char root[8192];
	struct hook_inst *hi = NULL;
	struct app *app = NULL;
	struct cpu_counters c;
	struct app_stats st;
	size_t got = 0;
	uint32_t id = 0;
	int fd = -1;

	fprintf(stderr, "  %s/%s msg %u app %s%s\n", h->name, hook_test_actions[act], msg,
		app_kind_name(kind), paced ? " paced" : "");
	if (!ASSERT_OK_PTR(buf, "malloc") || !ASSERT_OK_PTR(back, "malloc"))
		goto cleanup;
	app_pattern_fill(buf, total, 0);
	memset(back, 0, total);
	if (!ASSERT_OK(hook_attach_opts(h, act, &t->dut, NULL, &ho, &hi), "hook_attach"))
		goto cleanup;
	id = hook_prog_id(hi);
	ASSERT_GT(id, 0, "program id");
	ASSERT_GE(hook_sockmap_fd(hi), 0, "sockmap fd");
	ao.sockmap_fd = hook_sockmap_fd(hi);
	if (!ASSERT_OK(app_start(&ao, &t->dut, &app), "tcp app start") ||
	    !ASSERT_OK(app_wait_ready(app, WAIT_MS), "tcp app ready"))
		goto cleanup;
	test_sh(root, sizeof(root), ROOT_NET);
	ASSERT_STREQ(root, root_before, "root bpftool net show after attach");

	fd = hooks_gen_socket(t, SOCK_STREAM);
	if (!ASSERT_GE(fd, 0, "connect from gen"))
		goto cleanup;
	/* Send only once the socket is in the map, so the program sees every byte. */
	if (!ASSERT_OK(app_wait_count(app, offsetof(struct app_stats, sockmap_added), 1, WAIT_MS),
		       "socket in the sockmap"))
		goto cleanup;
	ASSERT_TRUE(tcp_send_all(fd, app, buf, echo ? back : NULL, total, msg, paced, &got),
		    "send (and read back)");

	switch (act) {
	case HOOK_DROP:
		for (int i = 0; i < 300 && hook_counters_sum(hi).bytes < total; i++)
			sleep_ns(10000000);
		break;
	default:
		if (!echo)
			app_wait_count(app, offsetof(struct app_stats, bytes), total, WAIT_MS);
		break;
	}
	sleep_ns(50000000);
	c = hook_counters_sum(hi);
	app_read(app, &st);
	ASSERT_EQ(st.sockmap_errors, 0, "sockmap insert errors");
	ASSERT_EQ(st.missed_wakeup_bytes, 0, "bytes the app was never woken for");

	if (echo) {
		ASSERT_EQ(got, total, "bytes echoed back");
		ASSERT_TRUE(!memcmp(back, buf, total), "echo returns the same bytes, in order");
	}
	/* The app gets every byte in order (empty, count_pass) or none. */
	if (act == HOOK_EMPTY || act == HOOK_COUNT_PASS) {
		ASSERT_EQ(st.bytes, total, "app bytes");
		ASSERT_EQ(st.bad_bytes, 0, "bytes out of order");
	} else if (act == HOOK_DROP || act == HOOK_ECHO) {
		ASSERT_EQ(st.bytes, 0, "the app got nothing");
	}
	/* A program counts every byte, one verdict per message behind a parser. */
	if (act != HOOK_EMPTY) {
		ASSERT_EQ(c.bytes, total, "counted bytes");
		if (msg)
			ASSERT_EQ(c.packets, total / msg, "one verdict per message");
	}
	switch (act) {
	case HOOK_EMPTY:
		ASSERT_EQ(c.packets + c.bytes, 0, "empty touches no counter");
		break;
	case HOOK_COUNT_PASS:
		ASSERT_EQ(c.passed, c.packets, "passed every skb");
		if (msg)
			ASSERT_EQ(st.requests, total / msg, "app requests");
		break;
	case HOOK_DROP:
		ASSERT_EQ(c.dropped, c.packets, "dropped every skb");
		ASSERT_GT(c.packets, 0, "verdicts");
		break;
	case HOOK_ECHO:
		ASSERT_EQ(c.redirected, c.packets, "redirected every skb");
		ASSERT_EQ(c.errors, 0, "redirect errors");
		break;
	default:
		break;
	}

cleanup:
	if (fd >= 0)
		close(fd);
	app_free(app);
	if (hi) {
		hook_detach(hi);
		if (id)
			ASSERT_TRUE(hooks_prog_gone(id), "program freed after detach");
		test_sh(root, sizeof(root), ROOT_NET);
		ASSERT_STREQ(root, root_before, "root bpftool net show after detach");
	}
	free(buf);
	free(back);
}

static void stream_hook(const struct hook_desc *h)
{
	/* Behind a parser: messages of these sizes; without: each skb (0). */
	static const uint32_t msg_sizes[] = { 100, 1, 1448, 5000, 16384 }, skb[] = { 0 };
	const uint32_t *sizes = h->parser ? msg_sizes : skb;
	size_t nsizes = h->parser ? ARRAY_SIZE(msg_sizes) : ARRAY_SIZE(skb);
	char root_before[8192];
	struct topo t;

	if (!hooks_bed_up(h, &t, root_before, sizeof(root_before)))
		return;
	for (size_t s = 0; s < nsizes; s++)
		for (int a = 0; a < HOOK_ACTION__COUNT; a++)
			stream_case(h, a, sizes[s], &t, root_before, APP_TCP_SINK);
	/* The app itself echoes what the program passes. */
	stream_case(h, HOOK_COUNT_PASS, sizes[0], &t, root_before, APP_TCP_ECHO);
	topo_down(&t);
}

/* Every sockmap hook in the table, one subtest each. */
OLAB_TEST(hooks_sockmap)
{
	hooks_each(hook_on_sockmap, stream_hook);
}
OLAB_TEST_TIMEOUT(hooks_sockmap, 360);

/* bytes_received of the DUT's established connection to PORT, from ss. */
static uint64_t dut_tcp_bytes_received(struct topo *t)
{
	char out[4096], *p;

	test_sh(out, sizeof(out), "ip netns exec %s ss -tniH state established '( sport = :%d )'",
		t->dut.name, PORT);
	p = strstr(out, "bytes_received:");
	return p ? strtoull(p + strlen("bytes_received:"), NULL, 10) : 0;
}

/*
 * Parser + SK_PASS under a burst.  Kernels since 6.14 (and stable backports)
 * set copied_seq wrongly in tcp_bpf_strp_read_sock() when SK_PASS data from
 * an earlier read is still unread: the reader then spins on EAGAIN or is
 * never woken, and the rest of the stream never reaches it.  Upstream fix
 * proposed as "bpf, sockmap: Fix tp->copied_seq update in
 * tcp_bpf_strp_read_sock".  With that signature (every byte received by TCP,
 * fewer delivered, none corrupted) the test skips naming the defect;
 * anything else that loses or corrupts bytes fails.
 */
OLAB_TEST(hooks_sk_skb_parser_pass_burst)
{
	const struct hook_desc *h = hook_by_name("sk-skb-parser");
	const uint32_t msg = 100;
	const size_t total = msg * 2621;
	struct hook_opts ho = { .port = PORT, .msg_size = msg };
	struct app_opts ao = { .kind = APP_TCP_SINK, .port = PORT, .cpu = -1, .verify = true,
			       .req_size = msg };
	struct topo_opts o = hooks_bed_opts();
	struct hook_inst *hi = NULL;
	struct app *app = NULL;
	uint8_t *buf = malloc(total);
	struct app_stats st;
	uint64_t tcp_rx;
	size_t got;
	struct topo t;
	int fd = -1;

	if (!ASSERT_OK_PTR(buf, "malloc") || !ASSERT_OK_PTR(h, "hook") || hooks_skip_unsupported(h)) {
		free(buf);
		return;
	}
	app_pattern_fill(buf, total, 0);
	if (!ASSERT_OK(topo_up(&o, &t), "topo_up")) {
		free(buf);
		return;
	}
	if (!ASSERT_OK(hook_attach_opts(h, HOOK_COUNT_PASS, &t.dut, NULL, &ho, &hi), "attach"))
		goto cleanup;
	ao.sockmap_fd = hook_sockmap_fd(hi);
	if (!ASSERT_OK(app_start(&ao, &t.dut, &app), "app") ||
	    !ASSERT_OK(app_wait_ready(app, WAIT_MS), "app ready"))
		goto cleanup;
	fd = hooks_gen_socket(&t, SOCK_STREAM);
	if (!ASSERT_GE(fd, 0, "connect") ||
	    !ASSERT_OK(app_wait_count(app, offsetof(struct app_stats, sockmap_added), 1, WAIT_MS),
		       "socket in the sockmap"))
		goto cleanup;
	ASSERT_TRUE(tcp_send_all(fd, app, buf, NULL, total, msg, false, &got), "send");
	app_wait_count(app, offsetof(struct app_stats, bytes), total, WAIT_MS);
	app_read(app, &st);
	tcp_rx = dut_tcp_bytes_received(&t);
	ASSERT_EQ(st.bad_bytes, 0, "bytes out of order");
	if (st.bytes < total && tcp_rx == total && !st.bad_bytes) {
		test_skip("known kernel defect (tcp_bpf_strp_read_sock copied_seq, SK_PASS behind a "
			  "parser): TCP received %zu bytes, the app got %llu", total,
			  (unsigned long long)st.bytes);
		goto cleanup;
	}
	ASSERT_EQ(st.bytes, total, "app bytes");
	ASSERT_EQ(hook_counters_sum(hi).packets, total / msg, "one verdict per message");
cleanup:
	if (fd >= 0)
		close(fd);
	app_free(app);
	hook_detach(hi);
	topo_down(&t);
	free(buf);
}

