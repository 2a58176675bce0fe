/* Programs `offloadlab vm` runs, as children of the run (see vm_exec.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lib/util.h"
#include "lib/vm_exec.h"

struct exec_spec {
	const char *const *argv;
	const char *cwd;
	int out_fd;             /* stdout; -1: /dev/null */
	int err_fd;             /* stderr; -1: /dev/null */
};

/* In the child: stdin from /dev/null, stdout and stderr where asked. */
static int exec_child(void *arg)
{
	const struct exec_spec *s = arg;
	int null = open("/dev/null", O_RDWR);

	if (null < 0 || (s->cwd && chdir(s->cwd)))
		return 127;
	dup2(null, STDIN_FILENO);
	dup2(s->out_fd >= 0 ? s->out_fd : null, STDOUT_FILENO);
	dup2(s->err_fd >= 0 ? s->err_fd : null, STDERR_FILENO);
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	execvp(s->argv[0], (char *const *)s->argv);
	return 127;
}

static int spawn_fd(struct proc *p, const char *const *argv, const char *cwd, int fd, int err_fd)
{
	struct exec_spec s = { .argv = argv, .cwd = cwd, .out_fd = fd, .err_fd = err_fd };

	return proc_spawn(p, NULL, -1, exec_child, &s);
}

int vm_spawn(struct proc *p, const char *const *argv, const char *cwd, const char *log)
{
	int fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
	int ret;

	if (log && fd < 0)
		return -errno;
	ret = spawn_fd(p, argv, cwd, fd, fd);
	close_fd(fd);
	return ret;
}

/* Wait within the timeout; kill on timeout. */
static int finish(struct proc *p, int timeout_ms)
{
	int ret = proc_wait(p, timeout_ms);

	if (ret == -ETIMEDOUT)
		proc_kill(p);
	return ret;
}

int vm_exec_log(const char *const *argv, const char *cwd, const char *log, int timeout_ms)
{
	struct proc p;
	int ret = vm_spawn(&p, argv, cwd, log);

	return ret ? ret : finish(&p, timeout_ms);
}

int vm_exec_capture(const char *const *argv, char *out, size_t len, int timeout_ms)
{
	int fd = memfd_create("olab-vm-out", MFD_CLOEXEC), ret;
	struct proc p;
	ssize_t n;

	if (!len)
		return -EINVAL;
	out[0] = '\0';
	if (fd < 0)
		return -errno;
	ret = spawn_fd(&p, argv, NULL, fd, -1);
	if (!ret)
		ret = finish(&p, timeout_ms);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

int vm_exec_fd(const char *const *argv, int out_fd, int timeout_ms)
{
	struct proc p;
	int ret = spawn_fd(&p, argv, NULL, out_fd, STDERR_FILENO);

	return ret ? ret : finish(&p, timeout_ms);
}
