/* `offloadlab topo up|down|smoke`: the gen <-> dut testbed by hand. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/topo.h"

#define NO_CPU UINT64_MAX

/* ---- topo up ---- */

struct up_cfg {
	uint64_t mtu;
	int gro, gso, tso;
	bool hold, threaded_napi;
	uint64_t rx_cpu;
};

static const char *const onoff_choices[] = { "off", "on", NULL };

static const struct up_cfg up_defaults = {
	.mtu = 1500, .gro = -1, .gso = -1, .tso = -1, .rx_cpu = NO_CPU,
};

#define UP_OPT(n, k, f, mv, h) \
	.name = n, .kind = k, .offset = offsetof(struct up_cfg, f), .metavar = mv, .help = h

static const struct opt_desc up_opts[] = {
	{ UP_OPT("hold", OPT_FLAG, hold, NULL,
		 "keep the testbed until SIGINT/SIGTERM, then remove it") },
	{ UP_OPT("mtu", OPT_UINT, mtu, "N",
		 "MTU of the veth pair (IPv6, which the testbed always has, needs at least 1280)"),
	  .min = 1280, .max = 9000 },
	{ UP_OPT("gro", OPT_ENUM, gro, "STATE", "GRO on both veth ends"), .choices = onoff_choices },
	{ UP_OPT("gso", OPT_ENUM, gso, "STATE", "GSO on both veth ends"), .choices = onoff_choices },
	{ UP_OPT("tso", OPT_ENUM, tso, "STATE", "TSO on both veth ends"), .choices = onoff_choices },
	{ UP_OPT("threaded-napi", OPT_FLAG, threaded_napi, NULL,
		 "NAPI kthread on the DUT veth (needs GRO there; turned on unless --gro off)") },
	{ UP_OPT("rx-cpu", OPT_UINT, rx_cpu, "N",
		 "CPU doing receive processing on the DUT veth (RPS)"), .min = 0, .max = 63 },
	OPT_END
};

/* Sleep until SIGINT/SIGTERM/SIGHUP; the run's handler sets run_stop_signal. */
static void wait_for_stop(void)
{
	sigset_t block, old, wait;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	wait = old;
	sigdelset(&wait, SIGINT);
	sigdelset(&wait, SIGTERM);
	sigdelset(&wait, SIGHUP);
	while (!run_stopping())
		sigsuspend(&wait);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void show(const struct topo *t)
{
	if (g_opts.json)
		cli_json_out("topo up", topo_to_json(t));
	else
		topo_print(t, stdout);
	fflush(stdout);
}

static int up_run(void *cfg, int argc, char **argv)
{
	const struct up_cfg *c = cfg;
	struct topo_opts o = {
		.mtu = (unsigned)c->mtu, .gro = c->gro, .gso = c->gso, .tso = c->tso,
		.threaded_napi = c->threaded_napi, .rx_cpu = -1, .instance = 0,
	};
	struct topo t;
	int err;

	if (c->rx_cpu != NO_CPU) {
		if (c->rx_cpu >= (uint64_t)cpu_count())
			return cli_usage_error("topo up", "--rx-cpu %llu: this machine has CPUs 0..%d",
					       (unsigned long long)c->rx_cpu, cpu_count() - 1);
		o.rx_cpu = (int)c->rx_cpu;
	}
	if (c->threaded_napi && c->gro == 0)
		return cli_usage_error("topo up", "--threaded-napi needs GRO on the veth (drop --gro off)");

	err = topo_up(&o, &t);
	if (err) {
		fprintf(stderr, "offloadlab topo up: cannot build the testbed: %s\n", topo_last_error());
		return EXIT_FAIL;
	}
	if (run_stopping()) {
		topo_down(&t);
		fprintf(stderr, "offloadlab topo up: interrupted, testbed removed\n");
		return EXIT_FAIL;
	}
	show(&t);
	if (c->hold) {
		pr_info("holding the testbed; SIGINT or SIGTERM removes it\n");
		wait_for_stop();
		topo_down(&t);
		return EXIT_OK;
	}
	/* Leave it in place: the run's cleanup must not remove it. */
	cleanup_forget(t.gen.cleanup);
	cleanup_forget(t.dut.cleanup);
	t.gen.cleanup = t.dut.cleanup = -1;
	pr_info("testbed left in place; 'offloadlab topo down' or 'offloadlab clean' removes it\n");
	return EXIT_OK;
}

CMD(cmd_topo_up, "up", 20, NEED_ALL, up_run,
	"build the gen <-> dut testbed and print it",
	CMD_OPTS(up_opts, struct up_cfg, &up_defaults));

/* ---- topo down ---- */

/* "olab<pid>-gen<N>" or "olab<pid>-dut<N>". */
static bool testbed_name(const char *name)
{
	const char *dash = strchr(name, '-');

	if (!run_prefix_pid(name) || !dash)
		return false;
	return (!strncmp(dash + 1, "gen", 3) || !strncmp(dash + 1, "dut", 3)) &&
	       dash[4] >= '0' && dash[4] <= '9';
}

static int down_run(void *cfg, int argc, char **argv)
{
	json_t *removed = json_array(), *kept = json_array();
	struct dirent *de;
	int failures = 0, n = 0;
	DIR *d;

	d = opendir(NETNS_RUN_DIR);
	while (d && n++ < 100000 && (de = readdir(d))) {
		pid_t pid = run_prefix_pid(de->d_name);
		int err;

		if (!testbed_name(de->d_name))
			continue;
		if (run_owner_alive(pid)) {
			json_array_append_new(kept, json_string(de->d_name));
			continue;
		}
		err = netns_delete_by_name(de->d_name);
		if (err) {
			fprintf(stderr, "offloadlab topo down: cannot remove %s: %s\n", de->d_name,
				strerror(-err));
			failures++;
			continue;
		}
		json_array_append_new(removed, json_string(de->d_name));
	}
	if (d)
		closedir(d);

	if (g_opts.json) {
		if (cli_json_out("topo down", json_pack("{s:o, s:o, s:i}", "removed", removed,
							"kept", kept, "failures", failures)))
			return EXIT_FAIL;
	} else {
		size_t i;
		json_t *e;

		json_array_foreach(removed, i, e)
			printf("removed netns %s\n", json_string_value(e));
		json_array_foreach(kept, i, e)
			printf("kept netns %s (its run is still alive)\n", json_string_value(e));
		if (!json_array_size(removed) && !failures)
			printf("no testbed to remove\n");
		json_decref(removed);
		json_decref(kept);
	}
	return failures ? EXIT_FAIL : EXIT_OK;
}

CMD(cmd_topo_down, "down", 20, NEED_ALL, down_run,
	"remove testbeds whose run is gone (left by 'topo up')");

/* ---- topo smoke ---- */

#define SMOKE_UDP_PORT   40000
#define SMOKE_TCP_PORT   40001
#define SMOKE_DATAGRAMS  1000
#define SMOKE_BATCH      100
#define SMOKE_TCP_BYTES  (1u << 20)
#define SMOKE_TIMEOUT_MS 10000
#define SMOKE_MAGIC      0x6f6c6162u /* "olab" */

struct smoke {
	int udp_sent, udp_received;
	bool udp_in_order;
	size_t tcp_sent, tcp_received;
	bool tcp_verified;
	char err[160];
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(((uint32_t)i * 2654435761u) >> 24);
}

static int dut_addr(const struct topo *t, int port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	return inet_pton(AF_INET, t->ip4_dut, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static int smoke_fail(struct smoke *s, const char *what, int err)
{
	if (!s->err[0])
		snprintf(s->err, sizeof(s->err), "%s: %s", what, strerror(err < 0 ? -err : err));
	return err < 0 ? err : -err;
}

/* Numbered datagrams gen -> dut, in batches that fit the receive buffer. */
static int smoke_udp(const struct topo *t, struct smoke *s)
{
	struct timeval tv = { .tv_sec = 2 };
	struct sockaddr_in sa;
	uint32_t buf[16];
	int rfd = -1, sfd = -1, err;

	s->udp_in_order = true;
	err = dut_addr(t, SMOKE_UDP_PORT, &sa);
	if (err)
		goto out;
	rfd = netns_socket(&t->dut, AF_INET, SOCK_DGRAM, 0);
	sfd = netns_socket(&t->gen, AF_INET, SOCK_DGRAM, 0);
	if (rfd < 0 || sfd < 0) {
		err = smoke_fail(s, "udp socket", rfd < 0 ? rfd : sfd);
		goto out;
	}
	if (setsockopt(rfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    bind(rfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    connect(sfd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = smoke_fail(s, "udp setup", errno);
		goto out;
	}
	for (int base = 0; base < SMOKE_DATAGRAMS && !run_stopping(); base += SMOKE_BATCH) {
		int n = SMOKE_DATAGRAMS - base < SMOKE_BATCH ? SMOKE_DATAGRAMS - base : SMOKE_BATCH;

		for (int i = 0; i < n; i++) {
			memset(buf, 0, sizeof(buf));
			buf[0] = htonl(SMOKE_MAGIC);
			buf[1] = htonl(base + i);
			if (send(sfd, buf, sizeof(buf), 0) != sizeof(buf)) {
				err = smoke_fail(s, "udp send", errno);
				goto out;
			}
			s->udp_sent++;
		}
		for (int i = 0; i < n; i++) {
			ssize_t r = recv(rfd, buf, sizeof(buf), 0);

			if (r < 0) {
				err = smoke_fail(s, "udp receive", errno == EAGAIN ? ETIMEDOUT : errno);
				goto out;
			}
			if (r != sizeof(buf) || ntohl(buf[0]) != SMOKE_MAGIC) {
				err = smoke_fail(s, "udp receive (bad datagram)", EPROTO);
				goto out;
			}
			if (ntohl(buf[1]) != (uint32_t)s->udp_received)
				s->udp_in_order = false;
			s->udp_received++;
		}
	}
	/* Nothing extra (duplicates) may be left. */
	if (recv(rfd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		err = smoke_fail(s, "udp receive (extra datagram)", EPROTO);
out:
	close_fd(rfd);
	close_fd(sfd);
	return err;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r = poll(&p, 1, timeout_ms);

	return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* A listener in the DUT, a nonblocking client in gen, and the accepted end. */
static int smoke_tcp_connect(const struct topo *t, struct smoke *s, int fd[3])
{
	struct sockaddr_in sa;
	int one = 1, soerr = 0, err;
	socklen_t sl = sizeof(soerr);

	err = dut_addr(t, SMOKE_TCP_PORT, &sa);
	if (err)
		return err;
	fd[0] = netns_socket(&t->dut, AF_INET, SOCK_STREAM, 0);
	fd[1] = netns_socket(&t->gen, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd[0] < 0 || fd[1] < 0)
		return smoke_fail(s, "tcp socket", fd[0] < 0 ? fd[0] : fd[1]);
	setsockopt(fd[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd[0], (struct sockaddr *)&sa, sizeof(sa)) || listen(fd[0], 1))
		return smoke_fail(s, "tcp listen", errno);
	if (connect(fd[1], (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS)
		return smoke_fail(s, "tcp connect", errno);
	err = wait_fd(fd[0], POLLIN, 5000);
	if (!err) {
		fd[2] = accept4(fd[0], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		err = fd[2] < 0 ? -errno : 0;
	}
	if (!err)
		err = wait_fd(fd[1], POLLOUT, 5000);
	if (!err && !getsockopt(fd[1], SOL_SOCKET, SO_ERROR, &soerr, &sl) && soerr)
		err = -soerr;
	return err ? smoke_fail(s, "tcp connect", err) : 0;
}

/* Send the next chunk of the pattern; shut down writing after the last. */
static int smoke_tcp_send(int cfd, struct smoke *s)
{
	static uint8_t chunk[65536];
	size_t n = SMOKE_TCP_BYTES - s->tcp_sent;
	ssize_t w;

	n = n < sizeof(chunk) ? n : sizeof(chunk);
	for (size_t i = 0; i < n; i++)
		chunk[i] = pattern(s->tcp_sent + i);
	w = send(cfd, chunk, n, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN)
		return smoke_fail(s, "tcp send", errno);
	if (w > 0)
		s->tcp_sent += w;
	if (s->tcp_sent == SMOKE_TCP_BYTES)
		shutdown(cfd, SHUT_WR);
	return 0;
}

/* Receive what is there and check it against the pattern. */
static int smoke_tcp_recv(int afd, struct smoke *s, bool *eof)
{
	uint8_t rbuf[65536];
	ssize_t r = recv(afd, rbuf, sizeof(rbuf), 0);

	if (r < 0 && errno != EAGAIN)
		return smoke_fail(s, "tcp receive", errno);
	if (r == 0)
		*eof = true;
	for (ssize_t i = 0; i < r; i++)
		if (rbuf[i] != pattern(s->tcp_received + i))
			return smoke_fail(s, "tcp receive (corrupt byte)", EPROTO);
	if (r > 0)
		s->tcp_received += r;
	return 0;
}

/* One connection gen -> dut carrying 1 MiB of a known pattern. */
static int smoke_tcp(const struct topo *t, struct smoke *s)
{
	uint64_t end = now_ns() + SMOKE_TIMEOUT_MS * 1000000ull;
	int fd[3] = { -1, -1, -1 }; /* listener, client, accepted */
	bool eof = false;
	int err;

	err = smoke_tcp_connect(t, s, fd);
	/* Bounded in rounds and in time. */
	for (int round = 0; !err && round < 1000000 && !eof; round++) {
		struct pollfd p[2] = {
			{ .fd = fd[2], .events = POLLIN },
			{ .fd = fd[1], .events = s->tcp_sent < SMOKE_TCP_BYTES ? POLLOUT : 0 },
		};
		uint64_t now = now_ns();

		if (now >= end || run_stopping())
			err = smoke_fail(s, "tcp transfer", ETIMEDOUT);
		else if (poll(p, 2, (int)((end - now) / 1000000) + 1) < 0 && errno != EINTR)
			err = smoke_fail(s, "tcp poll", errno);
		if (!err && s->tcp_sent < SMOKE_TCP_BYTES && (p[1].revents & (POLLOUT | POLLERR)))
			err = smoke_tcp_send(fd[1], s);
		if (!err && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			err = smoke_tcp_recv(fd[2], s, &eof);
	}
	s->tcp_verified = !err && eof && s->tcp_received == SMOKE_TCP_BYTES;
	if (!err && !s->tcp_verified)
		err = smoke_fail(s, "tcp transfer (short)", EPROTO);
	for (int i = 0; i < 3; i++)
		close_fd(fd[i]);
	return err;
}

static int smoke_run(void *cfg, int argc, char **argv)
{
	struct topo_opts o = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };
	struct smoke s = { 0 };
	uint64_t t0 = now_ns();
	struct topo t;
	double secs;
	bool ok;
	int err;

	err = topo_up(&o, &t);
	if (err) {
		fprintf(stderr, "offloadlab topo smoke: cannot build the testbed: %s\n",
			topo_last_error());
		return EXIT_FAIL;
	}
	err = smoke_udp(&t, &s);
	if (!err)
		err = smoke_tcp(&t, &s);
	topo_down(&t);
	secs = (now_ns() - t0) / 1e9;
	ok = !err && s.udp_received == SMOKE_DATAGRAMS && s.udp_in_order && s.tcp_verified;

	if (g_opts.json) {
		if (cli_json_out("topo smoke",
				 json_pack("{s:b, s:{s:i, s:i, s:b}, s:{s:I, s:I, s:b}, s:f, s:s?}",
					   "ok", ok,
					   "udp", "sent", s.udp_sent, "received", s.udp_received,
					   "in_order", s.udp_in_order,
					   "tcp", "sent", (json_int_t)s.tcp_sent,
					   "received", (json_int_t)s.tcp_received,
					   "verified", s.tcp_verified,
					   "seconds", secs, "error", s.err[0] ? s.err : NULL)))
			return EXIT_FAIL;
	} else {
		printf("topo smoke: %s: udp %d/%d datagrams%s, tcp %zu/%u bytes%s (%.2f s)%s%s\n",
		       ok ? "ok" : "FAILED", s.udp_received, SMOKE_DATAGRAMS,
		       s.udp_in_order ? " in order" : " OUT OF ORDER", s.tcp_received,
		       SMOKE_TCP_BYTES, s.tcp_verified ? " verified" : "", secs,
		       s.err[0] ? ": " : "", s.err);
	}
	return ok ? EXIT_OK : EXIT_FAIL;
}

CMD(cmd_topo_smoke, "smoke", 20, NEED_ALL, smoke_run,
	"build a testbed, check UDP and TCP gen -> dut, remove it");

static const struct olab_cmd *const topo_subcmds[] = {
	&cmd_topo_up, &cmd_topo_down, &cmd_topo_smoke, NULL,
};

COMMAND(cmd_topo, "topo", 20, NEED_ALL, NULL,
	"the gen <-> dut network namespace testbed (up, down, smoke)",
	.subcmds = topo_subcmds);
