/*
 * What this kernel really does, found by trying: every feature is probed by
 * loading a tiny program (bpf/probe.bpf.c) or creating a tiny map, attaching
 * it for real where the feature is about attaching, and checking that it
 * fired.  Probes run in a forked child with a time limit; network probes in
 * an anonymous network namespace that vanishes with the child, so the root
 * namespace is never touched.  Results are cached for the process.  Probe
 * before starting threads (each probe forks).
 *
 * Users: benches refuse a hook env says is unsupported (feature_require),
 * checks skip with its reason.
 */
#ifndef OLAB_FEATURES_H
#define OLAB_FEATURES_H
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

enum feature_id {
	FEAT_XDP_NATIVE,
	FEAT_XDP_GENERIC,
	FEAT_XDP_LIVE_FRAMES,
	FEAT_TC_CLSACT,
	FEAT_TCX,
	FEAT_NETFILTER_LINK,
	FEAT_SK_SKB_VERDICT,
	FEAT_SK_SKB_PARSER,
	FEAT_SK_MSG,
	FEAT_CGROUP_SKB,
	FEAT_FENTRY,
	FEAT_RINGBUF,
	FEAT_USER_RINGBUF,
	FEAT_MMAPABLE_ARRAY,
	FEAT_BPF_LOOP,
	FEAT_SPIN_LOCK,
	FEAT_ARENA,
	FEAT__COUNT
};

#define FEATURE_REASON_LEN 160
/* How long one probe may take before it is killed and reported ETIMEDOUT. */
#define FEATURE_PROBE_TIMEOUT_MS 10000

struct feature_status {
	bool supported;
	/* "" when supported, else "<ERRNO_NAME>: <strerror> (<where>)". */
	char reason[FEATURE_REASON_LEN];
	int err;             /* 0 or the negative errno behind reason */
	bool probe_failed;   /* the probe itself could not run (fork, pipe...) */
	double probe_ms;     /* wall time of the probe */
};

/* JSON name ("xdp_native"...), NULL when out of range. */
const char *feature_name(enum feature_id id);
/* One-line description of what the probe proves. */
const char *feature_desc(enum feature_id id);
/* enum feature_id for a JSON name, or -ENOENT. */
int feature_by_name(const char *name);

/* Probe once (later calls return the cached status); never NULL. */
const struct feature_status *feature_probe(enum feature_id id);
/* Probe everything not probed yet; number of probes that could not run. */
int feature_probe_all(void);
/* Forget cached results (tests). */
void feature_cache_reset(void);
/* 0 when supported, else pr_warn "<what> needs <feature>: <reason>" and -EOPNOTSUPP. */
int feature_require(enum feature_id id, const char *what);

/* "<ERRNO_NAME>: <strerror text>" plus " (<where>)" when where is set.
 * err may be negative or positive; 0 gives "". */
void feature_format_reason(char *buf, size_t len, int err, const char *where);

/* Kernel and environment facts reported by `offloadlab env`. */
struct env_kernel {
	char release[128];
	bool jit_known;          /* /proc/sys/net/core/bpf_jit_enable readable */
	int jit_value;
	bool stats_supported;    /* bpf_enable_stats(BPF_STATS_RUN_TIME) worked */
	bool stats_enabled_now;  /* kernel.bpf_stats_enabled was already on */
	char stats_reason[FEATURE_REASON_LEN];
	bool bpffs_mounted;
	const char *bpffs_path;
	char cgroup2[256];       /* "" when no cgroup2 mount */
	int cpus;
	char libbpf[16];
};

int env_kernel_probe(struct env_kernel *k);
/* The cgroup2 mount point of this machine (mount_point_of() in lib/util.h);
 * 0 or -ENOENT. */
int env_cgroup2_mount(char *buf, size_t len);

/* The "kernel" object, and the "features" object {"<name>": {"supported",
 * "reason"}} (probes what is not cached yet).  NULL on allocation failure. */
json_t *env_kernel_to_json(const struct env_kernel *k);
json_t *features_to_json(void);

#endif
