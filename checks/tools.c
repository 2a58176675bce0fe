/*
 * Running the real tools (nft, iptables, conntrack, ip...) inside one of
 * the run's namespaces, never the root one, with a time limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checks/check.h"
#include "checks/kit.h"
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"

#define EXEC_TIMEOUT_MS 10000

/* Only the run's namespaces: never run a tool in the root one. */
static bool our_ns(const struct netns *ns)
{
	return ns && ns->fd >= 0 && !strncmp(ns->name, RUN_PREFIX_BASE, strlen(RUN_PREFIX_BASE));
}

struct nstoken *check_enter_ns(const struct netns *ns)
{
	if (!our_ns(ns)) {
		errno = EINVAL;
		return NULL;
	}
	return netns_enter(ns);
}

static void leave_undo(void *tok, void *unused)
{
	netns_leave(tok);
}

int check_stay_in_ns(struct check_ctx *ctx, const struct netns *ns)
{
	struct nstoken *tok = check_enter_ns(ns);

	if (!tok)
		return check_error(ctx, -errno, "enter %s: %s", ns->name, strerror(errno));
	return check_defer(ctx, leave_undo, tok, NULL);
}

int check_exec(const struct netns *ns, char *out, size_t len, const char *const *argv)
{
	uint64_t deadline = now_ns() + (uint64_t)EXEC_TIMEOUT_MS * 1000000;
	size_t used = 0;
	int pfd[2], st = 0;
	pid_t pid;

	if (out && len)
		out[0] = '\0';
	if (!our_ns(ns) || !argv || !argv[0])
		return -EINVAL;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = run_fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (setns(ns->fd, CLONE_NEWNET))
			_exit(126);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	manifest_add_process(pid);	/* best effort: it is bounded by the deadline */
	close(pfd[1]);
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		char sink[512];
		uint64_t now = now_ns();
		ssize_t n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)((deadline - now) / 1000000) + 1) <= 0)
			continue;
		if (out && used + 1 < len)
			n = read(pfd[0], out + used, len - 1 - used);
		else
			n = read(pfd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out && used + 1 < len && (size_t)n <= len - 1 - used) {
			used += n;
			out[used] = '\0';
		}
	}
	close(pfd[0]);
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (WIFSIGNALED(st))
		return -ETIMEDOUT;
	pr_debug("check: [%s] %s -> %d\n", ns->name, argv[0], WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

int check_cmd(const struct netns *ns, char *out, size_t len, const char *fmt, ...)
{
	const char *argv[48];
	char line[1024], *save = NULL;
	size_t n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *t = strtok_r(line, " ", &save); t && n + 1 < ARRAY_SIZE(argv);
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	pr_debug("check: %s: %s\n", ns ? ns->name : "?", fmt);
	return check_exec(ns, out, len, argv);
}

int check_tool(struct check_ctx *ctx, const struct netns *ns, const char *fmt, ...)
{
	char line[1024], out[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rc = check_cmd(ns, out, sizeof(out), "%s", line);
	if (!rc)
		return 0;
	out[strcspn(out, "\n")] = '\0';
	check_error(ctx, -EIO, "%s: %s", line, rc < 0 ? strerror(-rc) : out);
	return -EIO;
}
