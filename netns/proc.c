/* Child processes of the run, each inside a namespace, pinned, and killed at cleanup. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/proc.h"

#define KILL_WAIT_MS 5000

/* olab-app (containers/containers.mk) links this file without lib/manifest.c:
 * inside a container there is no run manifest, and the reference resolves to
 * NULL.  Drop this once CTR_APP_SRCS lists lib/manifest.c. */
#pragma weak manifest_add_process

/* Cleanup: num is the pid. */
static void proc_cleanup(const char *name, long num)
{
	pid_t pid = (pid_t)num;
	struct proc p = { .pid = pid, .cleanup = -1 };

	if (pid > 0)
		proc_kill(&p);
}

int proc_spawn(struct proc *p, const struct netns *ns, int cpu, int (*fn)(void *), void *arg)
{
	pid_t parent = getpid(), pid;
	char what[32];
	int ret;

	p->pid = 0;
	p->cleanup = -1;
	if (!fn || (ns && ns->fd < 0))
		return -EINVAL;
	fflush(NULL);
	pid = run_fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		if (ns && setns(ns->fd, CLONE_NEWNET)) {
			fprintf(stderr, "proc: cannot enter %s: %s\n", ns->name, strerror(errno));
			_exit(126);
		}
		if (cpu >= 0 && (ret = pin_thread_cpu(cpu))) {
			fprintf(stderr, "proc: cannot pin to CPU %d: %s\n", cpu, strerror(-ret));
			_exit(125);
		}
		ret = fn(arg);
		fflush(NULL);
		_exit(ret & 0xff);
	}
	p->pid = pid;
	snprintf(what, sizeof(what), "process %d", (int)pid);
	/* In the manifest first, so `clean` can tie it to this run if we die. */
	ret = manifest_add_process ? manifest_add_process(pid) : 0;
	p->cleanup = ret ? ret : cleanup_add(proc_cleanup, what, pid, "process");
	if (p->cleanup < 0) {
		ret = p->cleanup;
		proc_kill(p);
		return ret;
	}
	return 0;
}

static int decode(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

static void reaped(struct proc *p)
{
	if (p->cleanup >= 0)
		cleanup_forget(p->cleanup);
	p->cleanup = -1;
	p->pid = 0;
}

int proc_wait(struct proc *p, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
	int pidfd, st = 0, ret = -ETIMEDOUT;
	pid_t r;

	if (!p || p->pid <= 0)
		return -ECHILD;
	pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	/* Bounded by the deadline; with a pidfd each round sleeps in poll(). */
	for (int i = 0; i < 1000000; i++) {
		uint64_t now;

		r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid) {
			ret = decode(st);
			reaped(p);
			break;
		}
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			reaped(p);
			break;
		}
		now = now_ns();
		if (now >= end)
			break;
		if (pidfd >= 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

			poll(&pfd, 1, (int)((end - now) / 1000000) + 1);
		} else {
			sleep_ns(end - now < 2000000 ? end - now : 2000000);
		}
	}
	close_fd(pidfd);
	return ret;
}

void proc_kill(struct proc *p)
{
	if (!p || p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	if (proc_wait(p, KILL_WAIT_MS) == -ETIMEDOUT) {
		pr_warn("proc: pid %d did not exit after SIGKILL\n", (int)p->pid);
		reaped(p);
	}
}
