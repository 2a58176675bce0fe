/*
 * Shared by the feature files only (the public interface is lib/features.h):
 * lib/features.c runs a probe in a forked child, lib/features_probes.c holds
 * the probes and the table of features, lib/features_kit.c the helpers the
 * probes share (all run in the child).
 */
#ifndef OLAB_FEATURES_INTERNAL_H
#define OLAB_FEATURES_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "lib/features.h"
#include "probe.skel.h"

#define PROBE_RB_MAGIC 0x0ff10adULL  /* bpf/probe.bpf.c */
#define PROBE_LOOP_N 16
#define PROBE_FRAME_LEN 64

/* What the child sets up before the probe runs. */
enum {
	PROBE_NEWNET = 1,                /* own network namespace, lo up */
	PROBE_VETH = 2 | PROBE_NEWNET,   /* plus veth p0 <-> p1, both up */
	PROBE_CGROUP = 4 | PROBE_NEWNET, /* plus a throwaway cgroup2 directory */
};

struct probe_env {
	int if0, if1;              /* PROBE_VETH: ifindex of p0, p1 */
	char cgroup[512];          /* PROBE_CGROUP: the directory */
	char cgroup_root[256];     /* PROBE_CGROUP: the cgroup2 mount */
	const char *where;         /* step that failed */
};

/*
 * A feature: the child sets up flags, opens the probe skeleton with only
 * progs and maps (comma-separated; progs NULL: no skeleton, skel is NULL),
 * calls before_load (may be NULL), loads it, then runs probe, which returns
 * 0 or -errno with the failed step in env->where.
 */
struct feature_desc {
	const char *name;
	const char *desc;
	unsigned flags;
	const char *progs, *maps;
	void (*before_load)(struct probe *skel);
	int (*probe)(struct probe_env *env, struct probe *skel);
};

extern const struct feature_desc feature_table[FEAT__COUNT];

/* ---- lib/features_kit.c ---- */

/* err, naming step as env->where when it is not 0:
 * `if (probe_fails_at(env, err, "attach")) return err;` */
int probe_fails_at(struct probe_env *env, int err, const char *step);
/* name is one of the comma-separated list (NULL: empty). */
bool probe_in_list(const char *list, const char *name);
/* The probe skeleton with only progs and the (non internal) maps in maps
 * autoloaded/autocreated; NULL with env->where set. */
struct probe *probe_open(struct probe_env *env, const char *progs, const char *maps);
int probe_load(struct probe_env *env, struct probe *skel);
/* One .bss counter, read through the map (works without mmap). */
__u64 probe_bss_get(struct probe *skel, size_t off);
#define BSS(skel, field) probe_bss_get(skel, offsetof(struct probe__bss, field))
/* A 64-byte broadcast Ethernet/IPv4/UDP frame (198.18.0.1:9 -> 198.18.0.2:9). */
void probe_build_udp_frame(__u8 frame[PROBE_FRAME_LEN]);
/* Send frames out of p1 until the counter at off moves (it sees them on p0). */
int probe_kick_until_hit(struct probe_env *env, struct probe *skel, size_t off);
/* BPF_PROG_TEST_RUN of prog_fd on the UDP frame; *retval (may be NULL). */
int probe_xdp_test_run(struct probe_env *env, int prog_fd, int repeat, __u32 *retval);
int probe_lo_up(void);
/* veth p0 <-> p1, both up, their ifindexes in env. */
int probe_veth_setup(struct probe_env *env);
/* A connected TCP pair over 127.0.0.1. */
int probe_tcp_pair(int *cli, int *srv);
/* Receive exactly len bytes equal to want on fd within timeout_ms. */
int probe_recv_expect(int fd, const char *want, size_t len, int timeout_ms);
/* Send a datagram to ourselves over 127.0.0.1 and receive it. */
int probe_udp_roundtrip(void);
int probe_prog_id(int prog_fd, __u32 *id);

#endif
