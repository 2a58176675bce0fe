#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

struct cleanup_entry {
	uint64_t seq;          /* registration order: newest runs first */
	cleanup_fn fn;
	char name[128];
	long num;
	char what[48];
	bool used;
};

static struct cleanup_entry *entries;
static int n_entries, cap_entries;
static uint64_t next_seq = 1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char prefix[24];
static pid_t owner_pid;
static int lock_fd = -1;
volatile sig_atomic_t run_stop_signal;

static int sig_pipe[2] = { -1, -1 };

/* Only flags and a byte down a pipe: everything else runs in normal flow. */
static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (!run_stop_signal)
		run_stop_signal = sig;
	if (sig_pipe[1] >= 0 && write(sig_pipe[1], &c, 1) < 0)
		(void)0;
	errno = saved;
}

/* Cleanups taken (run or dropped) so far, and those running now: the main
 * path's unwinding, which the second signal's watcher waits for. */
static uint64_t cleanups_taken;
static int cleanups_running;

/* Wait while the main path keeps unwinding: until it has taken no cleanup
 * for UNWIND_QUIET_NS, at most UNWIND_MAX_NS (it may exit meanwhile). */
#define UNWIND_QUIET_NS (2000 * 1000000ull)
#define UNWIND_MAX_NS   (10000 * 1000000ull)
static void wait_unwinding(void)
{
	uint64_t start = now_ns(), quiet_since = start;
	uint64_t seen = __atomic_load_n(&cleanups_taken, __ATOMIC_ACQUIRE);

	while (now_ns() - start < UNWIND_MAX_NS && now_ns() - quiet_since < UNWIND_QUIET_NS) {
		uint64_t now_taken;

		sleep_ns(50 * 1000000ull);
		now_taken = __atomic_load_n(&cleanups_taken, __ATOMIC_ACQUIRE);
		/* A cleanup that is running counts as progress: never cut it off. */
		if (now_taken != seen || __atomic_load_n(&cleanups_running, __ATOMIC_ACQUIRE)) {
			seen = now_taken;
			quiet_since = now_ns();
		}
	}
}

/*
 * The first stop signal lets the main path unwind (it polls run_stopping()).
 * A second one asks to hurry: this thread, in normal flow, lets a main path
 * that is still unwinding finish (its cleanups free what they name), then
 * runs what is left (never a forked helper's) and ends the process.
 */
static void *signal_watch(void *arg)
{
	int seen = 0;
	char c;

	for (;;) {
		ssize_t n = read(sig_pipe[0], &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		if (++seen < 2)
			continue;
		wait_unwinding();
		if (getpid() == owner_pid)
			cleanup_all();
		_exit(128 + c);
	}
	return arg;
}

static void close_signal_pipe(void)
{
	for (int i = 0; i < 2; i++) {
		close_fd(sig_pipe[i]);
		sig_pipe[i] = -1;
	}
}

/* Block SIGINT, SIGTERM and SIGHUP in this thread; the old mask into old. */
static void block_stop_signals(sigset_t *old)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, old);
}

/* The watcher blocks the stop signals, so they interrupt the main thread. */
static int start_signal_watch(void)
{
	sigset_t old;
	pthread_t th;
	int err;

	/* The handler's end never blocks; the watcher's read does. */
	if (pipe2(sig_pipe, O_CLOEXEC) ||
	    fcntl(sig_pipe[1], F_SETFL, fcntl(sig_pipe[1], F_GETFL) | O_NONBLOCK)) {
		err = -errno;
		close_signal_pipe();
		return err;
	}
	block_stop_signals(&old);
	err = pthread_create(&th, NULL, signal_watch, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close_signal_pipe();
		return -err;
	}
	pthread_detach(th);
	return 0;
}


static void at_exit(void)
{
	if (getpid() == owner_pid)
		cleanup_all();
}

static void unlink_lock(const char *name, long num)
{
	unlink(name);
	close_fd(lock_fd);
	lock_fd = -1;
}

int run_init(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char path[64];
	int err;

	if (owner_pid == getpid())
		return 0;
	owner_pid = getpid();
	snprintf(prefix, sizeof(prefix), RUN_PREFIX_BASE "%d", (int)owner_pid);
	err = start_signal_watch();
	if (err)
		pr_warn("offloadlab: no signal watcher (%s): a second signal will not clean up\n",
			strerror(-err));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(at_exit);

	/* Without its lock a run would look dead to `offloadlab clean`. */
	snprintf(path, sizeof(path), RUN_STATE_DIR "/%s.lock", prefix);
	if (mkdir_p(RUN_STATE_DIR, 0755) ||
	    (lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    flock(lock_fd, LOCK_EX | LOCK_NB)) {
		err = -errno;

		pr_warn("offloadlab: cannot take the run lock %s: %s\n", path, strerror(errno));
		close_fd(lock_fd);
		lock_fd = -1;
		return err ? err : -EIO;
	}
	cleanup_add(unlink_lock, path, 0, "run lock");
	return 0;
}

const char *run_prefix(void)
{
	if (!prefix[0])
		snprintf(prefix, sizeof(prefix), RUN_PREFIX_BASE "%d", (int)getpid());
	return prefix;
}

int run_name(char *buf, size_t len, const char *suffix)
{
	int n = snprintf(buf, len, "%s%s", run_prefix(), suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cleanup_add(cleanup_fn fn, const char *name, long num, const char *what)
{
	int i, h = -ENOMEM;

	pthread_mutex_lock(&lock);
	for (i = 0; i < n_entries; i++)
		if (!entries[i].used)
			break;
	if (i == n_entries) {
		if (n_entries == cap_entries) {
			int ncap = cap_entries ? cap_entries * 2 : 64;
			void *p = realloc(entries, ncap * sizeof(*entries));

			if (!p)
				goto out;
			entries = p;
			cap_entries = ncap;
		}
		n_entries++;
	}
	entries[i] = (struct cleanup_entry){ .seq = next_seq++, .fn = fn, .num = num, .used = true };
	snprintf(entries[i].name, sizeof(entries[i].name), "%s", name ? name : "");
	snprintf(entries[i].what, sizeof(entries[i].what), "%s", what ? what : "");
	h = i;
out:
	pthread_mutex_unlock(&lock);
	return h;
}

static bool take(int h, struct cleanup_entry *out)
{
	bool ok = false;

	pthread_mutex_lock(&lock);
	if (h >= 0 && h < n_entries && entries[h].used) {
		*out = entries[h];
		entries[h].used = false;
		__atomic_add_fetch(&cleanups_taken, 1, __ATOMIC_RELEASE);
		ok = true;
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

void cleanup_run(int h)
{
	struct cleanup_entry e;

	if (take(h, &e)) {
		__atomic_add_fetch(&cleanups_running, 1, __ATOMIC_RELEASE);
		pr_debug("cleanup: %s %s\n", e.what, e.name);
		e.fn(e.name, e.num);
		__atomic_sub_fetch(&cleanups_running, 1, __ATOMIC_RELEASE);
	}
}

void cleanup_forget(int h)
{
	struct cleanup_entry e;

	take(h, &e);
}

void cleanup_all(void)
{
	for (;;) {
		uint64_t best = 0;
		int h = -1;

		pthread_mutex_lock(&lock);
		for (int i = 0; i < n_entries; i++)
			if (entries[i].used && entries[i].seq > best) {
				best = entries[i].seq;
				h = i;
			}
		pthread_mutex_unlock(&lock);
		if (h < 0)
			break;
		cleanup_run(h);
	}
}

void cleanup_disown(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	run_stop_signal = 0;
	close_signal_pipe();
	/* A terminal's Ctrl-C reaches the run alone, which stops its children
	 * in order; and a child never outlives it. */
	if (setpgid(0, 0))
		pr_debug("setpgid: %s\n", strerror(errno));
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < n_entries; i++)
		entries[i].used = false;
	pthread_mutex_unlock(&lock);
	owner_pid = 0;
	close_fd(lock_fd);
	lock_fd = -1;
}

pid_t run_fork(void)
{
	sigset_t old;
	pid_t pid;
	int saved;

	block_stop_signals(&old);
	pid = fork();
	saved = errno;
	if (pid == 0)
		cleanup_disown();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

pid_t run_prefix_pid(const char *s)
{
	size_t n = strlen(RUN_PREFIX_BASE);
	long pid = 0;

	if (strncmp(s, RUN_PREFIX_BASE, n))
		return 0;
	s += n;
	if (*s < '1' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9' && pid < 100000000)
		pid = pid * 10 + (*s++ - '0');
	return (pid_t)pid;
}

const char *run_prefix_rest(const char *s)
{
	if (!run_prefix_pid(s))
		return NULL;
	s += strlen(RUN_PREFIX_BASE);
	return s + strspn(s, "0123456789");
}

bool run_owner_alive(pid_t pid)
{
	char path[64];
	bool alive;
	int fd;

	if (pid == getpid())
		return true;
	snprintf(path, sizeof(path), RUN_STATE_DIR "/" RUN_PREFIX_BASE "%d.lock", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	alive = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

int run_lock_remove_dead(pid_t pid)
{
	char path[64];
	int fd, err = 0;

	if (pid == getpid())
		return -EBUSY;
	snprintf(path, sizeof(path), RUN_STATE_DIR "/" RUN_PREFIX_BASE "%d.lock", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_EX | LOCK_NB))
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	else if (unlink(path) && errno != ENOENT)
		err = -errno;
	close(fd);
	return err;
}

bool run_sleep_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	for (uint64_t now = now_ns(); now < end; now = now_ns()) {
		uint64_t left = end - now, chunk = left < 20000000ull ? left : 20000000ull;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)chunk };

		if (run_stopping())
			return false;
		nanosleep(&ts, NULL);
	}
	return !run_stopping();
}

static struct run_measure_info measure;

static pid_t read_holder(int fd)
{
	char buf[24] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	return n > 0 ? (pid_t)strtol(buf, NULL, 10) : 0;
}

int run_measure_lock(bool wait, pid_t *holder)
{
	uint64_t t0 = now_ns();
	char pid[24];
	int fd, n;

	if (measure.held)
		return 0;
	if (mkdir_p(RUN_STATE_DIR, 0755))
		return -errno;
	fd = open(RUN_STATE_DIR "/measure.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int err = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;

		*holder = read_holder(fd);
		if (err != -EWOULDBLOCK || !wait) {
			close(fd);
			return err;
		}
		measure.waited = true;
		measure.waited_for = *holder;
		/* Polled, so a stop signal at any moment ends the wait. */
		while (flock(fd, LOCK_EX | LOCK_NB)) {
			if (errno != EWOULDBLOCK || !run_sleep_ns(100 * 1000000ull)) {
				err = run_stopping() ? -EINTR : -errno;
				close(fd);
				return err;
			}
		}
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, n, 0) != n)
		pr_debug("measure lock: cannot record the holder: %s\n", strerror(errno));
	measure.held = true;
	measure.waited_ms = (now_ns() - t0) / 1000000;
	measure.other_live_runs = run_count_live_others();
	return 0; /* fd stays open: the lock lives as long as the process */
}

const struct run_measure_info *run_measure_info(void)
{
	return &measure;
}

int run_count_live_others(void)
{
	DIR *d = opendir(RUN_STATE_DIR);
	struct dirent *de;
	int n = 0, guard = 0;

	while (d && guard++ < 100000 && (de = readdir(d))) {
		pid_t pid = run_prefix_pid(de->d_name);

		if (pid && pid != getpid() && strstr(de->d_name, ".lock") && run_owner_alive(pid))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}
