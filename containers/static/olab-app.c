/*
 * olab-app: offloadlab's socket apps (lib/apps.c) as a static binary that
 * runs inside a container, as /bin/olab-app:
 *
 *   olab-app KIND --port N [--family 4|6] [--cpu N] [--req-size N] [--verify]
 *            [--rcvbuf N] [--max-conns N] [--timeout-ms N] [--stats FILE]
 *            [--sockmap-fd FD]
 *
 * The app runs in a child (app_start); this process copies its live
 * statistics into FILE (struct ctr_app_shared, mmapped by the host too) every
 * few milliseconds, stops it on SIGTERM/SIGINT, and prints the final counters
 * as one JSON line on stdout.  Exit 0 when the app stopped cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "containers/app_shared.h"
#include "lib/apps.h"
#include "lib/util.h"

#define COPY_EVERY_NS  (10 * 1000000ull)
#define STOP_WAIT_MS   3000
#define READY_WAIT_MS  10000

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

static void publish(struct ctr_app_shared *sh, const struct app *a)
{
	struct app_stats s;
	uint64_t *dst = (uint64_t *)&sh->st;
	const uint64_t *src = (const uint64_t *)&s;

	app_read(a, &s);
	for (size_t i = 0; i < sizeof(s) / sizeof(uint64_t); i++)
		__atomic_store_n(&dst[i], src[i], __ATOMIC_RELAXED);
}

static void print_final(const struct app *a, int status)
{
	struct app_stats s;

	app_read(a, &s);
	printf("{\"app\":\"%s\",\"port\":%u,\"status\":%d,\"error\":%d,\"packets\":%llu,"
	       "\"bytes\":%llu,\"requests\":%llu,\"sent_packets\":%llu,\"sent_bytes\":%llu,"
	       "\"send_errors\":%llu,\"conns\":%llu,\"bad_bytes\":%llu}\n",
	       app_kind_name(a->o.kind), a->o.port, status, s.error,
	       (unsigned long long)s.packets, (unsigned long long)s.bytes,
	       (unsigned long long)s.requests, (unsigned long long)s.sent_packets,
	       (unsigned long long)s.sent_bytes, (unsigned long long)s.send_errors,
	       (unsigned long long)s.conns, (unsigned long long)s.bad_bytes);
	fflush(stdout);
}

static int usage(const char *msg)
{
	fprintf(stderr, "olab-app: %s\nusage: olab-app udp-sink|tcp-sink|udp-echo|tcp-echo --port N "
		"[--family 4|6] [--cpu N] [--req-size N] [--verify] [--rcvbuf N] "
		"[--max-conns N] [--timeout-ms N] [--stats FILE] [--sockmap-fd FD]\n", msg);
	return 2;
}

static int num(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	return parse_u64(s, min, max, v);
}

/* Options after the app kind into o; 0, or usage()'s exit status. */
static int parse_args(int argc, char **argv, struct app_opts *o, const char **stats)
{
	static const struct option lopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "family", required_argument, NULL, 'f' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "req-size", required_argument, NULL, 'r' },
		{ "verify", no_argument, NULL, 'V' },
		{ "rcvbuf", required_argument, NULL, 'b' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "stats", required_argument, NULL, 's' },
		{ "sockmap-fd", required_argument, NULL, 'M' },
		{ 0 }
	};
	uint64_t v;
	int c, err;

	optind = 2;
	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		err = 0;
		switch (c) {
		case 'p': err = num(optarg, 1, 65535, &v); o->port = (uint16_t)v; break;
		case 'f': err = num(optarg, 4, 6, &v); o->family = v == 6 ? AF_INET6 : AF_INET; break;
		case 'c': err = num(optarg, 0, 63, &v); o->cpu = (int)v; break;
		case 'r': err = num(optarg, 0, 1 << 30, &v); o->req_size = (uint32_t)v; break;
		case 'V': o->verify = true; break;
		case 'b': err = num(optarg, 0, 1 << 30, &v); o->rcvbuf = (int)v; break;
		case 'm': err = num(optarg, 1, 65536, &v); o->max_conns = (unsigned)v; break;
		case 't': err = num(optarg, 1, 24 * 3600 * 1000, &v); o->timeout_ms = (unsigned)v; break;
		case 's': *stats = optarg; break;
		case 'M':
			/* A stream hook's sockhash; lib/apps.c puts each accepted socket in it. */
			err = num(optarg, 3, 1023, &v);
			o->sockmap_fd = (int)v;
			break;
		default: return usage("unknown option");
		}
		if (err)
			return usage("bad number");
	}
	return o->port ? 0 : usage("--port is required");
}

/* Until the app exits, a stop signal or its time limit: publish its counters. */
static void serve(struct app *a, struct ctr_app_shared *sh)
{
	/* Bounded by the app's own time limit plus a margin. */
	uint64_t end = now_ns() + ((uint64_t)(a->o.timeout_ms ? a->o.timeout_ms :
					      APP_DEFAULT_TIMEOUT_MS) + STOP_WAIT_MS) * 1000000ull;
	uint64_t last = 0;

	while (!stop_sig && now_ns() < end) {
		int status;

		if (sh && now_ns() - last >= COPY_EVERY_NS) {
			publish(sh, a);
			last = now_ns();
		}
		status = proc_wait(&a->proc, 10);
		if (status != -ETIMEDOUT) {
			a->exit_status = status;
			break;
		}
	}
}

static void set_state(struct ctr_app_shared *sh, uint32_t state, int exit_code)
{
	if (!sh)
		return;
	if (state == CTR_APP_EXITED)
		__atomic_store_n(&sh->exit_code, exit_code, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&sh->pid, (uint32_t)getpid(), __ATOMIC_RELAXED);
	__atomic_store_n(&sh->state, state, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	struct app_opts o = { .family = AF_INET, .cpu = -1 };
	struct sigaction sa = { .sa_handler = on_stop };
	struct ctr_app_shared *sh = NULL;
	const char *stats = NULL;
	struct app *a = NULL;
	int k, err, status;

	if (argc < 2 || (k = app_kind_by_name(argv[1])) < 0)
		return usage("first argument must be an app kind");
	o.kind = k;
	err = parse_args(argc, argv, &o, &stats);
	if (err)
		return err;
	if (stats && !(sh = ctr_app_shared_map(stats))) {
		fprintf(stderr, "olab-app: cannot map %s: %s\n", stats, strerror(errno));
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = app_start(&o, NULL, &a);
	if (err) {
		fprintf(stderr, "olab-app: cannot start %s: %s\n", argv[1], strerror(-err));
		set_state(sh, CTR_APP_EXITED, 1);
		return 1;
	}
	set_state(sh, CTR_APP_RUNNING, 0);
	err = app_wait_ready(a, READY_WAIT_MS);
	if (err)
		fprintf(stderr, "olab-app: %s not ready: %s\n", argv[1], strerror(-err));
	else
		serve(a, sh);
	status = app_stop(a, STOP_WAIT_MS);
	if (sh)
		publish(sh, a);
	set_state(sh, CTR_APP_EXITED, status);
	print_final(a, status);
	app_free(a);
	return status == 0 && !err ? 0 : 1;
}
