/* BPF programs built at run time (bench/bpf_cc.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include "bench/bpf_cc.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"

#define BPF_CC_ARGS_MAX 24

extern char **environ;

/* Written by the build (Makefile: $(B)/gen/bpf_srcs.S), NULL-terminated. */
extern const struct bpf_cc_src olab_bpf_srcs[];

const struct bpf_cc_src *bpf_cc_src(const char *name)
{
	for (const struct bpf_cc_src *e = olab_bpf_srcs; e->name; e++)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

static void remove_dir(const char *name, long num)
{
	remove_tree(name);
}

static int write_sources(const char *dir)
{
	char path[512];
	int err = 0;

	for (const struct bpf_cc_src *e = olab_bpf_srcs; e->name && !err; e++) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->name);
		err = write_path_atomic(path, e->data, e->len, 0644);
	}
	return err;
}

int bpf_cc_scratch_open(const char *what, char *dir, size_t dir_len, char *why, size_t why_len)
{
	int handle, err;

	/* The run's prefix in the name: `clean` and the tests can tell whose it is. */
	snprintf(dir, dir_len, "%s/%s-%s-XXXXXX", SCRATCH_DIR, run_prefix(), what);
	if (!mkdtemp(dir)) {
		err = -errno;
		snprintf(why, why_len, "mkdtemp %s: %s", dir, strerror(errno));
		return err;
	}
	handle = cleanup_add(remove_dir, dir, 0, "bpf build scratch dir");
	/* Listed in the run's manifest: `clean` removes it after a SIGKILL. */
	err = handle < 0 ? handle : manifest_add_path(MANIFEST_SCRATCH, dir);
	if (!err)
		err = write_sources(dir);
	if (err) {
		snprintf(why, why_len, "%s: %s", dir, strerror(-err));
		bpf_cc_scratch_close(handle, dir);
		return err;
	}
	return handle;
}

void bpf_cc_scratch_close(int handle, const char *dir)
{
	if (handle >= 0)
		cleanup_run(handle);
	else
		remove_tree(dir);
}

/* Wait for pid up to ms (or a stop signal), then kill it: its wait status,
 * or -ETIMEDOUT / -EINTR once it is reaped. */
static int wait_child(pid_t pid, uint64_t ms)
{
	int pfd = pidfd_open(pid, 0), status = 0, ret = 0;
	uint64_t end = now_ns() + ms * 1000000ull;

	while (pfd >= 0) {
		uint64_t now = now_ns();
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		if (run_stopping() || now >= end) {
			ret = run_stopping() ? -EINTR : -ETIMEDOUT;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)((end - now) / 1000000ull) > 50 ? 50 : 1) > 0)
			break;
	}
	close_fd(pfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ret ? ret : status;
}

int bpf_cc_spawn(char *const argv[], const char *out_path, bool merge, uint64_t ms)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (merge)
		posix_spawn_file_actions_adddup2(&fa, 2, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return err ? -err : wait_child(pid, ms);
}

void bpf_cc_first_line(const char *path, char *buf, size_t len)
{
	char text[512];

	buf[0] = '\0';
	if (!read_file(path, text, sizeof(text)))
		snprintf(buf, len, "%.*s", (int)strcspn(text, "\n"), text);
}

void bpf_cc_error_line(const char *path, const char *dir, char *buf, size_t len)
{
	char text[4096], *line, *save = NULL, *last = NULL;

	buf[0] = '\0';
	if (read_file(path, text, sizeof(text)))
		return;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, dir, strlen(dir)) && line[strlen(dir)] == '/')
			line += strlen(dir) + 1;
		if (strstr(line, "error")) {
			snprintf(buf, len, "%s", line);
			return;
		}
		last = line;
	}
	if (last)
		snprintf(buf, len, "%s", last);
}

int bpf_cc_find_clang(const char *dir, const int *versions, char *path, size_t len)
{
	for (; *versions; versions++) {
		snprintf(path, len, "%s/clang-%d", dir, *versions);
		if (!access(path, X_OK))
			return *versions;
	}
	path[0] = '\0';
	return 0;
}

int bpf_cc_compile(const char *clang, const char *dir, const char *src, const char *obj,
		   const char *const flags[], uint64_t ms, char *why, size_t why_len)
{
	char src_path[512], inc[512], err_path[512];
	char *argv[BPF_CC_ARGS_MAX] = { (char *)clang, "-target", "bpf", "-g", inc,
					"-I/usr/include/x86_64-linux-gnu" };
	int n = 6, st;

	snprintf(src_path, sizeof(src_path), "%s/%s", dir, src);
	snprintf(inc, sizeof(inc), "-I%s", dir);
	snprintf(err_path, sizeof(err_path), "%s/cc.err", dir);
	for (; flags && *flags && n < BPF_CC_ARGS_MAX - 6; flags++)
		argv[n++] = (char *)*flags;
	argv[n++] = "-c";
	argv[n++] = src_path;
	argv[n++] = "-o";
	argv[n++] = (char *)obj;
	st = bpf_cc_spawn(argv, err_path, false, ms);
	if (st == 0 || st == -EINTR)
		return st;
	if (st == -ETIMEDOUT)
		snprintf(why, why_len, "compile over its time limit (%llu ms)",
			 (unsigned long long)ms);
	else if (st < 0)
		snprintf(why, why_len, "cannot run %s: %s", clang, strerror(-st));
	else
		bpf_cc_error_line(err_path, dir, why, why_len);
	if (st > 0 && !why[0])
		snprintf(why, why_len, "clang exit status %d",
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return st < 0 ? st : -EINVAL;
}
