/*
 * Test runner: runs every OLAB_TEST in the generated table (or those whose
 * name contains an argument; "test/sub" also picks subtests), each in its own
 * forked child with its own run prefix, its own process group and a time
 * limit, and prints PASS/FAIL/SKIP lines and a totals line.
 *
 * The runner never waits on anything a test may leave behind: its pipe is
 * close-on-exec, it watches the test process itself (a pidfd) and the
 * deadline, not the pipe's end.  A test over its limit gets SIGTERM (its run
 * unwinds and runs its cleanups), a second SIGTERM (the run's handler runs
 * them itself), then SIGKILL and `offloadlab clean`.  Whatever is left in the
 * test's process group is killed when the test ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "tests/test.h"

struct test_case {
	const char *name;
	void (*fn)(void);
	const int *timeout_s;   /* OLAB_TEST_TIMEOUT(name, s), or NULL */
};

#define X(n) void test_##n(void); extern const int test_timeout_##n __attribute__((weak));
#include TEST_TABLE
#undef X

static const struct test_case tests[] = {
#define X(n) { #n, test_##n, &test_timeout_##n },
#include TEST_TABLE
#undef X
};

#define TEST_TIMEOUT_S 180
#define TERM_GRACE_MS  5000     /* per SIGTERM, before the next step */
#define SELFTEST_ENV   "OLAB_TEST_RUNNER_SELFTEST"
static int failed_asserts;
static int skip_fd = -1;
static char build_dir[512] = "build";
static volatile sig_atomic_t runner_stop;
static int g_argc;
static char **g_argv;
/* In a test's child: the test, its running subtest and the asserts failed before it. */
static const char *cur_test;
static char cur_sub[128];
static char sub_skip[256];      /* test_skip() during the running subtest */
static int sub_failed_before, subs_run, subs_skipped;

const char *test_build_dir(void)
{
	return build_dir;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed_asserts++;
}

static void skip_write(const char *reason)
{
	ssize_t n = write(skip_fd, reason, strlen(reason));

	(void)n;
}

/* In a subtest: skips that subtest only. */
void test_skip(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (cur_sub[0])
		snprintf(sub_skip, sizeof(sub_skip), "%s", buf);
	else
		skip_write(buf);
}

int test_sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[2048];
	size_t n = 0;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out && len) {
		n = fread(out, 1, len - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Whether arg ("test" or "test/sub") names test: its part before '/' is in it. */
static bool arg_names_test(const char *arg, const char *test)
{
	const char *slash = strchr(arg, '/');
	size_t n = slash ? (size_t)(slash - arg) : strlen(arg);

	for (const char *p = test; *p; p++)
		if (!strncmp(p, arg, n))
			return true;
	return n == 0;
}

/* Whether sub runs: no "test/sub" argument for this test, or one in its name. */
static bool sub_wanted(const char *sub)
{
	bool filtered = false;

	for (int a = 1; a < g_argc; a++) {
		const char *slash = strchr(g_argv[a], '/');

		if (!slash || !arg_names_test(g_argv[a], cur_test))
			continue;
		if (strstr(sub, slash + 1))
			return true;
		filtered = true;
	}
	return !filtered;
}

static void subtest_end(void)
{
	bool failed = failed_asserts > sub_failed_before;

	if (!cur_sub[0])
		return;
	if (sub_skip[0] && !failed) {
		printf("  SKIP %s/%s: %s\n", cur_test, cur_sub, sub_skip);
		subs_skipped++;
	} else {
		printf("  %s %s/%s\n", failed ? "FAIL" : "PASS", cur_test, cur_sub);
	}
	fflush(stdout);
	cur_sub[0] = sub_skip[0] = '\0';
}

/* At the test's end: a test whose every subtest skipped is skipped. */
static void subtests_done(void)
{
	char reason[64];

	subtest_end();
	if (subs_run && subs_skipped == subs_run) {
		snprintf(reason, sizeof(reason), "all %d subtests skipped", subs_run);
		skip_write(reason);
	}
}

bool test_subtest(const char *fmt, ...)
{
	char sub[sizeof(cur_sub)];
	va_list ap;

	subtest_end();
	va_start(ap, fmt);
	vsnprintf(sub, sizeof(sub), fmt, ap);
	va_end(ap);
	if (!sub_wanted(sub))
		return false;
	snprintf(cur_sub, sizeof(cur_sub), "%s", sub);
	sub_failed_before = failed_asserts;
	subs_run++;
	return true;
}

/* ---- the runner's own tests (only with OLAB_TEST_RUNNER_SELFTEST=1) ---- */

static void unlink_marker(const char *path, long unused)
{
	unlink(path);
}

/* A file in the run state directory, removed by a cleanup (or by
 * `offloadlab clean` once the run is dead): its absence proves cleanup ran. */
static void selftest_marker(void)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), RUN_STATE_DIR "/%s-selftest", run_prefix());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (ASSERT_TRUE(fd >= 0, "marker created")) {
		close(fd);
		cleanup_add(unlink_marker, path, 0, "selftest marker");
	}
	printf("selftest marker %s\n", path);
	fflush(stdout);
}

/* A helper that outlives the test and holds the pipe's write end (forked,
 * not exec'd, so close-on-exec does not help), plus an exec'd one. */
static void selftest_orphans(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	printf("selftest helper %d\n", (int)pid);
	ASSERT_EQ(system("sleep 1000 & echo selftest helper $!"), 0, "sleep spawned");
	fflush(stdout);
}

/* Passes at once, leaving its helpers behind. */
static void selftest_leaves_helpers(void)
{
	selftest_orphans();
}

/* Over its limit; stops when told (the first SIGTERM). */
static void selftest_timeout(void)
{
	selftest_marker();
	selftest_orphans();
	while (!run_stopping())
		pause();
}

/* Over its limit and ignores the first SIGTERM's flag. */
static void selftest_timeout_stubborn(void)
{
	selftest_marker();
	for (;;)
		pause();
}

static const int selftest_timeout_s = 2;
static const struct test_case selftests[] = {
	{ "selftest_runner_leaves_helpers", selftest_leaves_helpers, NULL },
	{ "selftest_runner_timeout", selftest_timeout, &selftest_timeout_s },
	{ "selftest_runner_timeout_stubborn", selftest_timeout_stubborn, &selftest_timeout_s },
};

/* ---- running one test ---- */

static void on_stop(int sig)
{
	runner_stop = sig;
}

/* In the forked child: its own process group, run prefix and cleanups. */
static void __attribute__((noreturn)) child_main(const struct test_case *t, int wfd, pid_t parent)
{
	setpgid(0, 0);
	skip_fd = wfd;
	cleanup_disown();
	run_init();
	/* A runner that dies stops its test the way a time limit does. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		_exit(127);
	cur_test = t->name;
	t->fn();
	subtests_done();
	cleanup_all();
	exit(failed_asserts ? 1 : 0);
}

static bool exited(pid_t pid)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == pid;
}

/* Append what the pipe holds now to reason; false at EOF or when full. */
static bool read_reason(int rfd, char *reason, size_t rlen)
{
	size_t used = strlen(reason);
	ssize_t n;

	if (used >= rlen - 1)
		return false;
	n = read(rfd, reason + used, rlen - 1 - used);
	if (n < 0 && errno == EINTR)
		return true;
	reason[used + (n > 0 ? n : 0)] = '\0';
	return n > 0;
}

/* Wait (without reaping) until the test exits or the deadline passes (or,
 * when stoppable, the runner is told to stop), reading its skip reason
 * meanwhile; true when it exited. */
static bool await_exit(pid_t pid, int pidfd, int rfd, uint64_t deadline, bool stoppable,
		       char *reason, size_t rlen)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = rfd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
		uint64_t now = now_ns();
		int ms;

		if (exited(pid))
			return true;
		if (now >= deadline || (stoppable && runner_stop))
			return false;
		/* Without a pidfd, look again every 50 ms. */
		ms = (int)((deadline - now) / 1000000) + 1;
		if (pidfd < 0 && ms > 50)
			ms = 50;
		if (poll(p, 2, ms) > 0 && (p[0].revents & (POLLIN | POLLHUP)) &&
		    !read_reason(rfd, reason, rlen))
			rfd = -1;       /* EOF, or full: stop polling it */
	}
}

/* Over its limit: SIGTERM, a second SIGTERM, then SIGKILL of the group and
 * `offloadlab clean` for what its cleanups could not remove. */
static void stop_test(pid_t pid, int pidfd, char *how, size_t len)
{
	char out[1024] = "";

	for (int i = 0; i < 2; i++) {
		kill(pid, SIGTERM);
		if (await_exit(pid, pidfd, -1, now_ns() + TERM_GRACE_MS * 1000000ull, false, NULL, 0)) {
			snprintf(how, len, "stopped by SIGTERM%s", i ? " (twice)" : "");
			return;
		}
	}
	kill(-pid, SIGKILL);
	waitid(P_PID, pid, &(siginfo_t){ 0 }, WEXITED | WNOWAIT);
	snprintf(how, len, "SIGKILLed, cleanups not run");
	snprintf(out, sizeof(out), "%s/offloadlab", build_dir);
	if (geteuid() != 0 || access(out, X_OK))
		return;
	test_sh(out, sizeof(out), "%s/offloadlab clean 2>&1", build_dir);
	fprintf(stderr, "    offloadlab clean after SIGKILL:\n%s", out);
	snprintf(how, len, "SIGKILLed, then offloadlab clean");
}

static int test_timeout_s(const struct test_case *t)
{
	return t->timeout_s && *t->timeout_s > 0 ? *t->timeout_s : TEST_TIMEOUT_S;
}

/* 0 pass, 1 fail, 2 skip (reason filled). */
static int run_one(const struct test_case *t, char *reason, size_t rlen)
{
	int pfd[2], st = 0, pidfd, limit = test_timeout_s(t);
	pid_t pid, parent = getpid();
	char how[64] = "";
	bool in_time;

	reason[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC))
		return 1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		child_main(t, pfd[1], parent);
	}
	setpgid(pid, pid);      /* also here: no window where it is in ours */
	close(pfd[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	in_time = await_exit(pid, pidfd, pfd[0], now_ns() + limit * 1000000000ull, true, reason,
			     rlen);
	if (!in_time)
		stop_test(pid, pidfd, how, sizeof(how));
	/* Its helpers: the exited, unreaped leader keeps the group id ours. */
	kill(-pid, SIGKILL);
	while (poll(&(struct pollfd){ .fd = pfd[0], .events = POLLIN }, 1, 0) > 0 &&
	       read_reason(pfd[0], reason, rlen))
		;
	waitpid(pid, &st, 0);
	close_fd(pidfd);
	close(pfd[0]);
	if (!in_time) {
		if (runner_stop)
			snprintf(reason, rlen, "interrupted (%s)", how);
		else
			snprintf(reason, rlen, "time limit after %d s (%s)", limit, how);
		return 1;
	}
	if (WIFSIGNALED(st)) {
		snprintf(reason, rlen, "killed by signal %d", WTERMSIG(st));
		return 1;
	}
	if (WEXITSTATUS(st))
		return 1;
	return reason[0] ? 2 : 0;
}

static bool wanted(const char *name, int argc, char **argv)
{
	for (int a = 1; a < argc; a++)
		if (arg_names_test(argv[a], name))
			return true;
	return argc < 2;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop };  /* no SA_RESTART: poll wakes */
	size_t n_self = getenv(SELFTEST_ENV) ? ARRAY_SIZE(selftests) : 0;
	int passed = 0, failed = 0, skipped = 0;
	char *slash;

	g_argc = argc;
	g_argv = argv;
	if (readlink("/proc/self/exe", build_dir, sizeof(build_dir) - 1) > 0 &&
	    (slash = strrchr(build_dir, '/')))
		*slash = '\0';
	log_hook_libbpf();
	if (getenv("OLAB_TEST_VERBOSE"))
		log_set_level(LOG_DEBUG);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(tests) + n_self && !runner_stop; i++) {
		const struct test_case *t = i < ARRAY_SIZE(tests) ? &tests[i] :
					    &selftests[i - ARRAY_SIZE(tests)];
		char reason[256];
		uint64_t t0;
		int r;

		if (!wanted(t->name, argc, argv))
			continue;
		t0 = now_ns();
		r = run_one(t, reason, sizeof(reason));
		if (r == 0) {
			passed++;
			printf("PASS %s (%.2fs)\n", t->name, (now_ns() - t0) / 1e9);
		} else if (r == 2) {
			skipped++;
			printf("SKIP %s: %s\n", t->name, reason);
		} else {
			failed++;
			printf("FAIL %s%s%s\n", t->name, reason[0] ? ": " : "", reason);
		}
	}
	printf("# totals %d %d %d\n", passed, failed, skipped);
	return failed || runner_stop ? 1 : 0;
}
