/*
 * Running runc, the lowest piece of containers/: where runc is, one call
 * with a time limit and its output captured or handed on, the message of
 * its last error; and the last error of this module (ctr_last_error()).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/proc.h"

#define RUNC_MAX_ARGS   16

static __thread char last_err[CTR_ERR_LEN];

void ctr_set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
	pr_debug("containers: %s\n", last_err);
}

const char *ctr_last_error(void)
{
	return last_err[0] ? last_err : "unknown error";
}

const char *ctr_runc_path(void)
{
	static char path[512];
	const char *env = getenv("OLAB_RUNC"), *p;

	if (env && *env) {
		if (access(env, X_OK)) {
			ctr_set_err("runc not found at %s (OLAB_RUNC): %s", env, strerror(errno));
			return NULL;
		}
		return env;
	}
	p = getenv("PATH");
	for (int i = 0; p && *p && i < 64; i++) {
		size_t n = strcspn(p, ":");

		if (n && snprintf(path, sizeof(path), "%.*s/runc", (int)n, p) < (int)sizeof(path) &&
		    !access(path, X_OK))
			return path;
		p += n;
		if (*p == ':')
			p++;
	}
	ctr_set_err("runc not found in PATH (install the runc package)");
	return NULL;
}

static void child_exec(const char *runc, const char **argv, struct runc_io *io, int opipe,
		       int epipe)
{
	int null = open("/dev/null", O_RDWR);
	int out = io->out_fd >= 0 ? io->out_fd : opipe >= 0 ? opipe : null;
	int err = io->err_fd >= 0 ? io->err_fd : epipe >= 0 ? epipe : null;

	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	if (io->pass_fd > 2) {
		/* dup2 onto itself keeps FD_CLOEXEC: clear it by hand. */
		if ((io->pass_fd == 3 ? fcntl(3, F_SETFD, 0) : dup2(io->pass_fd, 3)) < 0)
			_exit(126);
		close_range(4, ~0U, 0);
	} else {
		close_range(3, ~0U, 0);
	}
	execv(runc, (char *const *)argv);
	_exit(127);
}

/* Append what fd has to buf (NUL-terminated, truncated); false at EOF. */
static bool drain(int fd, char *buf, size_t len, size_t *used)
{
	char sink[1024];
	ssize_t n;

	if (buf && *used + 1 < len)
		n = read(fd, buf + *used, len - 1 - *used);
	else
		n = read(fd, sink, sizeof(sink));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	if (buf && *used + 1 < len) {
		*used += (size_t)n;
		buf[*used] = '\0';
	}
	return true;
}

int ctr_runc(const char *root, struct runc_io *io, int timeout_ms, const char *const *args)
{
	const char *runc = ctr_runc_path(), *argv[RUNC_MAX_ARGS + 4];
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, n = 0, left, ret;
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	size_t oused = 0, eused = 0;
	struct proc p = { .cleanup = -1 };
	pid_t parent = getpid();

	if (!runc)
		return -ENOENT;
	argv[n++] = runc;
	argv[n++] = "--root";
	argv[n++] = root;
	for (int i = 0; args[i] && i < RUNC_MAX_ARGS; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (io->out)
		io->out[0] = '\0';
	if (io->err)
		io->err[0] = '\0';
	if ((io->out_fd < 0 && pipe2(op, O_CLOEXEC)) || (io->err_fd < 0 && pipe2(ep, O_CLOEXEC))) {
		ret = -errno;
		goto out;
	}
	fflush(NULL);
	p.pid = run_fork();
	if (p.pid < 0) {
		ret = -errno;
		goto out;
	}
	if (p.pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(125);
		child_exec(runc, argv, io, op[1], ep[1]);
	}
	close_fd(op[1]);
	close_fd(ep[1]);
	op[1] = ep[1] = -1;
	/* Read until both pipes close, bounded by the deadline. */
	for (int i = 0; i < 100000 && (op[0] >= 0 || ep[0] >= 0); i++) {
		struct pollfd pfd[2] = { { .fd = op[0], .events = POLLIN },
					 { .fd = ep[0], .events = POLLIN } };
		uint64_t now = now_ns();

		if (now >= end)
			break;
		if (poll(pfd, 2, (int)((end - now) / 1000000) + 1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents && !drain(op[0], io->out, io->out_len, &oused)) {
			close(op[0]);
			op[0] = -1;
		}
		if (pfd[1].revents && !drain(ep[0], io->err, io->err_len, &eused)) {
			close(ep[0]);
			ep[0] = -1;
		}
	}
	left = now_ns() < end ? (int)((end - now_ns()) / 1000000) + 1 : 0;
	ret = proc_wait(&p, left);
	if (ret == -ETIMEDOUT) {
		proc_kill(&p);
		pr_debug("containers: runc %s timed out\n", args[0]);
	} else if (ret > 125 && ret < 128) {
		ret = -ENOEXEC;
	}
out:
	for (int i = 0; i < 2; i++) {
		close_fd(op[i]);
		close_fd(ep[i]);
	}
	return ret;
}

/* runc logs `time="..." level=error msg="..."`: the last msg, unescaped. */
void ctr_runc_msg(const char *out, char *buf, size_t len)
{
	const char *m = NULL, *p = out, *line;
	size_t o = 0;

	buf[0] = '\0';
	if (!out || !len)
		return;
	for (int i = 0; i < 10000 && (p = strstr(p, "msg=\"")); i++)
		m = p++;
	if (m) {
		for (p = m + 5; *p && *p != '"' && o + 1 < len; p++) {
			if (*p == '\\' && p[1])
				p++;
			buf[o++] = *p == '\n' ? ' ' : *p;
		}
		buf[o] = '\0';
		return;
	}
	/* The last non-empty line. */
	line = NULL;
	for (p = out; *p; p++)
		if ((p == out || p[-1] == '\n') && *p != '\n')
			line = p;
	if (line)
		snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
}
