/*
 * runc containers joined to the run's testbed.  Each container gets an OCI
 * bundle whose config.json is written here (jansson): read-only rootfs,
 * no-new-privileges, exactly the capabilities asked for (bounding = permitted
 * = effective, nothing inheritable or ambient), its own pid, mount, ipc and
 * uts namespaces, and the network namespace of a testbed host joined by path
 * (/run/netns/<name>).  No seccomp profile: what the probe finds is what the
 * capabilities allow.
 *
 * Everything of a run lives under RUN_STATE_DIR/<prefix>-ctr/:
 *   rootfs/        busybox-static (applet links) + olab-ctr + olab-app,
 *                  assembled once per run, shared read-only by its containers
 *   runc/          runc --root (state of every container of the run)
 *   <name>/        bundle: config.json, out, err (the container's stdio),
 *                  share/ (bind-mounted read-write at CTR_SHARE_DIR)
 * Containers are named "<prefix>-ctr-<name>"; their cgroups (one per v1
 * hierarchy plus the v2 one, nested under offloadlab's own) carry that name.
 * Each container has its own cgroup namespace (as `runc spec` gives on
 * unified hosts), so its /proc/self/cgroup reads "0::/".  Inside, its cgroup
 * v2 directory is where the host has cgroup2 mounted (/proc/self/mountinfo):
 * /sys/fs/cgroup on unified hosts, where runc mounts it; elsewhere (hybrid
 * hosts: /sys/fs/cgroup/unified, as runc 1.1 mounts only v1 hierarchies)
 * the host directory is bind-mounted there read-only.
 *
 * Lifecycle: runc create / start / state / kill / delete.  Each container's
 * removal (kill, delete, cgroups, bundle) is registered with cleanup_add; the
 * run directory is removed after its last container.  What SIGKILLed runs
 * left goes in the one sweep (netns/leftovers.h): containers/clean.c adds a
 * handler for their manifest entry (MANIFEST_CTR_STATE).
 */
#ifndef OLAB_CONTAINER_H
#define OLAB_CONTAINER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "containers/app_shared.h"
#include "lib/apps.h"
#include "netns/netns.h"

#define CTR_BUSYBOX     "/bin/busybox"
#define CTR_SHARE_DIR   "/olab"             /* inside the container */
#define CTR_HELPER      "/bin/olab-ctr"     /* inside the container */
#define CTR_APP         "/bin/olab-app"     /* inside the container */
#define CTR_CGROUPFS_DIR "/sys/fs/cgroup"   /* runc's cgroup mount inside */
#define CTR_NAME_MAX    24
#define CTR_ERR_LEN     256

/* ---- capabilities ---------------------------------------------------- */

/*
 * "bpf,net_admin", "CAP_BPF,cap_perfmon", "none" or "" into a mask of
 * capability numbers (bit n = capability n), each checked with libcap's
 * cap_from_name and against this kernel and offloadlab's bounding set.
 * 0 or -EINVAL with a one-line reason in err.
 */
int ctr_caps_parse(const char *list, uint64_t *mask, char *err, size_t len);
/* "bpf,net_admin" (lower case, no cap_ prefix), "none" for 0. */
void ctr_caps_format(uint64_t mask, char *buf, size_t len);
/*
 * The capabilities of mask that reach past the container's namespaces:
 * sys_admin (mounts, BPF_PROG_GET_FD_BY_ID, most of the host's admin),
 * sys_module (loads kernel modules), dac_read_search (opens any host file
 * by handle).  ctr_start warns when a container gets any of them.
 */
uint64_t ctr_caps_dangerous(uint64_t mask);
/* A JSON array of OCI names, "CAP_BPF"... */
json_t *ctr_caps_oci(uint64_t mask);

/* ---- containers ------------------------------------------------------ */

struct ctr;

struct ctr_opts {
	const char *name;          /* [a-z0-9-], unique in the run, <= CTR_NAME_MAX */
	const struct netns *ns;    /* join this network namespace (required) */
	uint64_t caps;             /* capability mask (ctr_caps_parse) */
	const char *const *argv;   /* NULL-terminated; argv[0] inside the container */
	int pass_fd;               /* > 2: handed to the container as its fd 3 */
	const char *rootfs;        /* NULL: the run's busybox rootfs; else this directory */
	json_t *binds;             /* NULL, or [{"src", "dst"}]: files bound read-only */
	json_t *tmpfs;             /* NULL, or ["/dir"]: writable tmpfs mounts */
	bool pinned;               /* pin its process (and so its threads) to cpu */
	int cpu;
	/* NULL, or called after `runc create`, before `runc start`: its cgroups
	 * exist, its command has not run yet.  Non-zero fails the start. */
	int (*created)(const struct ctr *c, void *arg);
	void *created_arg;
};

struct ctr {
	char id[64];               /* runc container id, "<prefix>-ctr-<name>" */
	char bundle[256];          /* bundle directory on the host */
	char share[288];           /* host side of CTR_SHARE_DIR */
	char cgroup2[512];         /* host path of its cgroup v2 directory, "" if none */
	char ctr_cgroup2[256];     /* the same directory as seen inside, "" if none */
	pid_t pid;                 /* its init process (host pid) */
	int cleanup;               /* handle in the run's cleanup registry */
};

/*
 * Check runc and busybox, assemble the run's rootfs if not done yet.  Called
 * by ctr_start; callers may call it first to fail early.  0 or -errno, with
 * the reason in ctr_last_error().
 */
int containers_prepare(void);

/*
 * Write the bundle, `runc create` and `runc start`.  On return the process
 * is running (or has already exited: see ctr_status).  0 or -errno, with a
 * one-line reason in ctr_last_error(); nothing is left behind on error.
 */
int ctr_start(const struct ctr_opts *o, struct ctr **out);
/*
 * A rootfs for installed Debian packages: an empty tree under the run's
 * container directory (RUN_STATE_DIR/<prefix>-ctr/<name>.rootfs, with
 * /etc/passwd and /etc/group) and the bind mounts that put into it, read
 * only, every regular file of the packages (`dpkg -L`, but docs and man
 * pages) and the shared-library closure of their ELF files (ldd), at their
 * own paths.  0 or -errno (ctr_last_error()); *binds: a new reference.
 */
int ctr_pkg_rootfs(const char *name, const char *const *pkgs, int npkgs, char *rootfs,
		   size_t len, json_t **binds);
/* A rootfs unpacked from an OCI image layout DIR[:TAG] with umoci
 * (RUN_STATE_DIR/<prefix>-ctr/<name>.image/rootfs).  0 or -errno. */
int ctr_image_rootfs(const char *name, const char *image, char *rootfs, size_t len);

/* `runc state`: "created", "running", "stopped"... into buf; 0 or -errno. */
int ctr_status(struct ctr *c, char *buf, size_t len);
bool ctr_running(struct ctr *c);
/* Poll until stopped: 0 or -ETIMEDOUT. */
int ctr_wait_stopped(struct ctr *c, int timeout_ms);
/* `runc kill <id> <sig>`; 0 or -errno. */
int ctr_kill(struct ctr *c, int sig);
/* The container's stdout ("out") or stderr ("err") so far, NUL-terminated. */
int ctr_read_output(struct ctr *c, const char *which, char *buf, size_t len);
/* Kill, `runc delete`, remove cgroups and bundle; free.  NULL is fine. */
void ctr_destroy(struct ctr *c);

/* "1.1.5+ds1" from `runc --version`; 0 or -errno. */
int ctr_runc_version(char *buf, size_t len);

/* Why the last ctr_ or container_ call of this thread failed, one line. */
const char *ctr_last_error(void);

/* ---- apps in containers --------------------------------------------- */

struct ctr_app_opts {
	const char *name;          /* container name, as in struct ctr_opts */
	const struct netns *ns;
	uint64_t caps;
	struct app_opts app;       /* kind, family, port, cpu, req_size, verify, rcvbuf,
				    * max_conns, timeout_ms; sockmap_fd: a stream hook's
				    * sockhash, handed to the app (needs CAP_BPF) */
};

struct ctr_app {
	struct ctr *ctr;
	struct ctr_app_shared *sh; /* the live statistics file, mapped */
	enum app_kind kind;
	int exit_code;             /* once stopped, else -1 */
};

/*
 * Start olab-app (udp-sink, tcp-sink, udp-echo, tcp-echo) in a container
 * joined to ns and wait until it listens.  0 or -errno (ctr_last_error());
 * an app that dies at start is -ECHILD with its last stderr line.
 */
int container_run_app(const struct ctr_app_opts *o, struct ctr_app **out);
/* Snapshot of its live statistics (as app_read). */
void ctr_app_read(const struct ctr_app *a, struct app_stats *out);
/* Wait until counter field (offsetof in struct app_stats) reaches want. */
int ctr_app_wait_count(const struct ctr_app *a, size_t field, uint64_t want, int timeout_ms);
/* SIGTERM, wait for its final counters (SIGKILL after timeout_ms), remove
 * the container; the app's exit code or -errno.  Statistics stay readable. */
int ctr_app_stop(struct ctr_app *a, int timeout_ms);
/* Stop if running, unmap, free.  NULL is fine. */
void ctr_app_free(struct ctr_app *a);

/* ---- the probe ------------------------------------------------------- */

/* What `containers probe` tries, in matrix order. */
struct ctr_probe_desc {
	const char *name;          /* JSON key, also olab-ctr's */
	const char *label;         /* table row */
};
extern const struct ctr_probe_desc ctr_probes[];
extern const size_t ctr_probe_count;

/*
 * Build a testbed, run olab-ctr in a container with caps on its DUT side
 * and return its findings: {"caps": [...], "cap_eff": "0x..", "cap_eff_ok":
 * bool, "probes": {"load_xdp": {"result": "works"|"EPERM"...}}}.  NULL on
 * failure, with the reason in ctr_last_error().
 */
json_t *ctr_probe_caps(uint64_t caps, int instance);

#endif
