/* CPU steering: which CPU does receive processing on a veth, and where processes run. */
#ifndef OLAB_CPU_H
#define OLAB_CPU_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "netns/netns.h"

/* sysfs of a namespace (written from a child with its own sysfs mount, as
 * `ip netns exec` does).  relpath is relative to /sys, e.g. "class/net/X/threaded".
 * ns == NULL: the calling thread's namespace.  Writes are limited to
 * "class/net/..." (the rest of sysfs is global); reads strip trailing newlines. */
int netns_sysfs_write(const struct netns *ns, const char *relpath, const char *val);
int netns_sysfs_read(const struct netns *ns, const char *relpath, char *buf, size_t len);

/* A veth has NAPI (so threaded NAPI can be set) only while up with GRO or XDP on. */
int link_set_threaded_napi(const struct netns *ns, const char *ifname, bool on);
int link_get_threaded_napi(const struct netns *ns, const char *ifname); /* 0, 1.. or -errno */
/* RPS on rx queue 0; mask 0 turns RPS off. */
int link_set_rps(const struct netns *ns, const char *ifname, uint64_t cpumask);
int link_get_rps(const struct netns *ns, const char *ifname, uint64_t *cpumask);
/* Pin the threaded-NAPI kthreads of ifname (any namespace) to cpu: how many, or -errno. */
int link_pin_napi_threads(const char *ifname, int cpu);
/* The pids of ifname's NAPI kthreads, at most max: how many, or -errno. */
int link_napi_threads(const char *ifname, pid_t *pids, int max);
/* CPU time in ns a task has used (/proc/PID/schedstat), or -errno.  For a
 * task running on another CPU it lags by up to a scheduler tick (its CPU
 * clock, read from another process, is no better). */
int64_t task_cpu_ns(pid_t pid);

int pin_thread_cpu(int cpu);             /* calling thread */
int pin_pid_cpu(pid_t pid, int cpu);

#endif
