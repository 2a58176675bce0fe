/*
 * The run: a per-process prefix ("olab<pid>") carried by every object the run
 * creates, and a registry of cleanups that runs in reverse order on normal
 * exit, on error exit and on SIGINT/SIGTERM/SIGHUP.  A run also holds an flock
 * on RUN_STATE_DIR/<prefix>.lock so `offloadlab clean` can tell a live owner
 * from one that was SIGKILLed, without trusting pids.
 */
#ifndef OLAB_RUN_H
#define OLAB_RUN_H
#include <signal.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RUN_PREFIX_BASE "olab"
#define RUN_STATE_DIR   "/run/offloadlab"
#define RUN_BPFFS_DIR   "/sys/fs/bpf"

typedef void (*cleanup_fn)(const char *name, long num);

int run_init(void);
const char *run_prefix(void);
/* "<prefix><suffix>": pass "-name" for namespaces, "g0" for 15-char ifnames. */
int run_name(char *buf, size_t len, const char *suffix);

/* Register a cleanup; returns a handle >= 0 or -errno. name is copied. */
int cleanup_add(cleanup_fn fn, const char *name, long num, const char *what);
/* Run one cleanup now and drop it; drop without running. */
void cleanup_run(int handle);
void cleanup_forget(int handle);
/* Run every registered cleanup, newest first.  Idempotent. */
void cleanup_all(void);
/* fork() with the stop signals blocked until the child has disowned the
 * parent's cleanups and handlers (cleanup_disown), so a Ctrl-C in between is
 * never counted twice by the parent's watcher.  The pid, as fork(). */
pid_t run_fork(void);
/* After fork(): the child must not run the parent's cleanups; it gets its
 * own process group (a terminal's Ctrl-C reaches only the run, which stops
 * its children in order) and dies with its parent (PDEATHSIG). */
void cleanup_disown(void);

/* Set by SIGINT/SIGTERM/SIGHUP; long loops poll it and unwind. */
extern volatile sig_atomic_t run_stop_signal;
static inline bool run_stopping(void) { return run_stop_signal != 0; }
/* Sleep ns, or less when a stop signal comes (checked at least every 20 ms):
 * false when stopped early. */
bool run_sleep_ns(uint64_t ns);

/*
 * The machine-wide measurement lock (RUN_STATE_DIR/measure.lock): runs that
 * measure take it, so two never pin the same CPUs or share bpf_stats.  Busy:
 * -EWOULDBLOCK with the holder's pid, or with wait, block (a stop signal
 * ends the wait with -EINTR).  Held until the process exits.
 */
struct run_measure_info {
	bool held;
	bool waited;            /* another run was measuring when this one asked */
	pid_t waited_for;       /* its pid (0: unknown) */
	uint64_t waited_ms;
	int other_live_runs;    /* offloadlab runs alive (not measuring) when the lock was taken */
};
int run_measure_lock(bool wait, pid_t *holder);
const struct run_measure_info *run_measure_info(void);
/* Live runs other than this one (their locks are held). */
int run_count_live_others(void);

/* Parse "olab<pid>" at the start of s; return pid or 0. */
pid_t run_prefix_pid(const char *s);
/* What follows "olab<pid>" in s ("-ctr", ".lock", ...), or NULL when s does
 * not start with a run prefix. */
const char *run_prefix_rest(const char *s);
/* True when the run that owns prefix "olab<pid>" is still alive (holds its lock). */
bool run_owner_alive(pid_t pid);
/* Remove a dead run's lock file while holding its lock, so a live run that
 * reuses the pid meanwhile keeps its own: 0, -EBUSY (alive) or -errno. */
int run_lock_remove_dead(pid_t pid);

#endif
