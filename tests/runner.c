/*
 * Test runner: runs every OLAB_TEST in the generated table (or those whose
 * name contains an argument), each in its own forked child with its own run
 * prefix and a time limit, and prints PASS/FAIL/SKIP lines and a totals line.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "tests/test.h"

#define X(n) void test_##n(void);
#include TEST_TABLE
#undef X

static const struct { const char *name; void (*fn)(void); } tests[] = {
#define X(n) { #n, test_##n },
#include TEST_TABLE
#undef X
};

#define TEST_TIMEOUT_S 180
static int failed_asserts;
static int skip_fd = -1;
static char build_dir[512] = "build";

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

void test_skip(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = write(skip_fd, buf, strlen(buf));
	(void)n;
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

static int run_one(int idx, char *reason, size_t rlen)
{
	int pfd[2], st = 0;
	pid_t pid;
	ssize_t n;

	if (pipe(pfd))
		return 1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		skip_fd = pfd[1];
		cleanup_disown();
		run_init();
		alarm(TEST_TIMEOUT_S);
		tests[idx].fn();
		cleanup_all();
		exit(failed_asserts ? 1 : 0);
	}
	close(pfd[1]);
	n = read(pfd[0], reason, rlen - 1);
	reason[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st)) {
		snprintf(reason, rlen, "killed by signal %d%s", WTERMSIG(st),
			 WTERMSIG(st) == SIGALRM ? " (time limit)" : "");
		return 1;
	}
	if (WEXITSTATUS(st))
		return 1;
	return reason[0] ? 2 : 0;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;
	char *slash;

	if (readlink("/proc/self/exe", build_dir, sizeof(build_dir) - 1) > 0 &&
	    (slash = strrchr(build_dir, '/')))
		*slash = '\0';
	log_hook_libbpf();
	if (getenv("OLAB_TEST_VERBOSE"))
		log_set_level(LOG_DEBUG);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		char reason[256];
		uint64_t t0;
		bool want = argc < 2;
		int r;

		for (int a = 1; a < argc; a++)
			if (strstr(tests[i].name, argv[a]))
				want = true;
		if (!want)
			continue;
		t0 = now_ns();
		r = run_one(i, reason, sizeof(reason));
		if (r == 0) {
			passed++;
			printf("PASS %s (%.2fs)\n", tests[i].name, (now_ns() - t0) / 1e9);
		} else if (r == 2) {
			skipped++;
			printf("SKIP %s: %s\n", tests[i].name, reason);
		} else {
			failed++;
			printf("FAIL %s%s%s\n", tests[i].name, reason[0] ? ": " : "", reason);
		}
	}
	printf("# totals %d %d %d\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
