/*
 * Scenario files (scenarios/NAME.yaml, format: README "Scenarios"): real apps in
 * containers, real offloads on offloadlab's hooks, real clients, run as
 * paired trials (offload attached / none) and judged by expectations.
 *
 *   parse.c     YAML (libyaml) -> struct scenario, every error one line
 *               "FILE:LINE: field: problem"
 *   validate.c  what parsing cannot see: objects, program types vs hooks,
 *               packages, names the expectations use
 *   expect.c    expectation syntax and evaluation
 *   topo.c      hosts, links, nft rulesets, containers (runc or netns)
 *   offload.c   objects: load, attach/detach per arm, maps, counters
 *   sockops.c   sockops on cgroups, sk-msg on sockmaps, the run's cgroups
 *   clients.c   clients and their parsers
 *   run.c       trials, statistics, report, results/run-ID
 */
#ifndef OLAB_SCENARIO_H
#define OLAB_SCENARIO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <regex.h>
#include <sys/types.h>
#include <jansson.h>
#include "netns/netns.h"

#define SCN_NAME_LEN   32
#define SCN_PATH_LEN   512
#define SCN_MAX_HOSTS  8
#define SCN_MAX_LINKS  8
#define SCN_MAX_ADDRS  4
#define SCN_MAX_CTRS   8
#define SCN_MAX_OFFL   4
#define SCN_MAX_PROGS  8
#define SCN_MAX_MAPS   8
#define SCN_MAX_ENTRIES 64
#define SCN_MAX_NFT    8
#define SCN_MAX_CLIENTS 8
#define SCN_MAX_FIGS   16
#define SCN_MAX_EXPECT 32
#define SCN_MAX_ARGS   48
#define SCN_MAX_PKGS   8
#define SCN_MAX_TRIALS 50

enum scn_arm { ARM_NONE, ARM_OFFLOAD, ARM__COUNT };

struct scn_host {
	char name[SCN_NAME_LEN];
	int rx_cpu;                   /* -1: not set */
	int line;
	struct netns ns;
	char cg[SCN_PATH_LEN];        /* run time: its cgroup v2 directory, "" none */
};

struct scn_end {
	int host;
	char ifname[16];
	char addr[SCN_MAX_ADDRS][64];
	int naddr;
	int line;
};

struct scn_link {
	struct scn_end a, b;
	int line;
};

enum scn_ready { READY_NONE, READY_TCP, READY_UDP, READY_DELAY };

struct scn_container {
	char name[SCN_NAME_LEN];
	int host, cpu, line;
	char *pkgs[SCN_MAX_PKGS];
	int npkgs, pkgs_line;
	char rootfs[SCN_PATH_LEN];    /* rootfs: DIR */
	char image[SCN_PATH_LEN];     /* image: DIR[:TAG] */
	char *argv[SCN_MAX_ARGS + 1];
	char *files[SCN_MAX_PKGS];        /* "SRC:DST": bound read-only (SRC resolved) */
	char *writable[SCN_MAX_PKGS];     /* directories given a tmpfs */
	int nfiles, nwritable;
	uint64_t caps;
	enum scn_ready ready;
	char ready_addr[64];
	double ready_s;               /* timeout, or the delay */
	/* run time */
	struct ctr *ctr;
	pid_t pid;                    /* netns runtime: the process */
	int cleanup;
	char cg[SCN_PATH_LEN];        /* netns runtime: the engine's cgroup for it, "" none */
	char rootfs_dir[SCN_PATH_LEN]; /* runc: the rootfs, made once */
	json_t *binds;                /* runc: its bind mounts, made once */
};

struct scn_hook;                      /* offload.c */

struct scn_prog {
	char name[64];
	const struct scn_hook *hook;
	int host, line;
	char ifname[16];
	int cg_ctr, cg_host;          /* sockops target: a container or a host, -1 */
	char map[64];                 /* sk-msg target: a sockmap/sockhash */
	/* run time */
	struct bpf_link *cg_links[SCN_MAX_CTRS + 1]; /* sockops: per container, [SCN_MAX_CTRS] host */
	struct bpf_program *prog;
	struct hook_inst *hi;         /* hooks from lib/hooks.h */
	int link_fd;                  /* tcx egress link */
	bool tc_egress;               /* clsact egress filter attached */
	bool attached;
};

struct scn_bytes {
	uint8_t b[64];
	size_t len;
};

struct scn_entry {
	struct scn_bytes key, value;
	int line;
};

struct scn_map {
	char name[64];
	struct scn_entry e[SCN_MAX_ENTRIES];
	int n, line;
};

struct scn_offload {
	char name[SCN_NAME_LEN];
	char object[SCN_PATH_LEN];    /* resolved path */
	struct scn_prog progs[SCN_MAX_PROGS];
	int nprogs;
	struct scn_map maps[SCN_MAX_MAPS];
	int nmaps, line;
	struct bpf_object *obj;       /* run time */
};

struct scn_nft {
	int host, line;
	char file[SCN_PATH_LEN];
};

struct scn_figure {
	char name[SCN_NAME_LEN];
	char *regex;
	regex_t re;
	bool compiled;
};

struct scn_client {
	char name[SCN_NAME_LEN];
	int host;                     /* where it runs (a container's host) */
	int container;                /* -1: a host */
	char *argv[SCN_MAX_ARGS + 1];
	int parser;                   /* index in the parser table, -1: figures only */
	struct scn_figure figs[SCN_MAX_FIGS];
	int nfigs, line;
	bool may_fail;
};

/* An expectation: lhs (or ratio(lhs, rhs)) OP number. */
enum scn_src { SRC_CLIENT, SRC_COUNTER, SRC_MAP, SRC_PROGRAM, SRC_NFT };
enum scn_stat { STAT_NONE, STAT_OFFLOAD, STAT_RATIO };

struct scn_ref {
	enum scn_src src;
	char a[SCN_NAME_LEN], b[64], c[64];  /* client/offload/host, figure/var/map/prog/table, counter */
	char field[16];                       /* program: runs, run_time_ns */
	struct scn_bytes key;                 /* map key */
	bool has_key;
	enum scn_stat stat;
};

enum scn_op { OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE };

struct scn_expect {
	char text[256];
	int line;
	bool is_ratio;
	struct scn_ref lhs, rhs;
	enum scn_op op;
	double number;
};

struct scenario {
	char path[SCN_PATH_LEN], dir[SCN_PATH_LEN];
	char name[SCN_NAME_LEN], description[256];
	int trials, quick_trials;
	double duration, quick_duration;
	struct scn_host hosts[SCN_MAX_HOSTS];
	struct scn_link links[SCN_MAX_LINKS];
	struct scn_container ctrs[SCN_MAX_CTRS];
	struct scn_offload offl[SCN_MAX_OFFL];
	struct scn_nft nft[SCN_MAX_NFT];
	struct scn_client clients[SCN_MAX_CLIENTS];
	struct scn_expect expect[SCN_MAX_EXPECT];
	int nhosts, nlinks, nctrs, noffl, nnft, nclients, nexpect;
	bool restart;                 /* containers started and stopped in every trial */
	int restart_line;             /* the `restart:` key, 0 absent */
	/* run time */
	bool netns_runtime, sock_on;  /* sockops attached (the offload arm) */
};

/* ---- parse.c / validate.c ---- */

/*
 * Read and validate path: 0, or -EINVAL after printing exactly one line
 * "FILE:LINE: field: problem" on stderr (nothing is created).  *out is
 * freed with scenario_free.
 */
int scenario_load(const char *path, struct scenario **out);
void scenario_free(struct scenario *s);
/* Print "FILE:LINE: field: problem" (first call only per load); -EINVAL. */
int scn_error(const struct scenario *s, int line, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int scn_validate(struct scenario *s);
/* Resolve a file named in s: relative to its directory; 0 or -ENOENT. */
int scn_resolve(const struct scenario *s, const char *name, bool bpf_dir, char *out, size_t len);
/* Address within 198.18.0.0/15 or 2001:2::/48, with a prefix length. */
bool scn_addr_ok(const char *cidr, char *why, size_t len);
int scn_host_by_name(const struct scenario *s, const char *name);

/* ---- expect.c ---- */

/* Parse text into e (one line error through scn_error on failure). */
int scn_expect_parse(struct scenario *s, struct scn_expect *e);
struct scn_results;
/* Value of e's left side from the run; false with why when not evaluable. */
bool scn_expect_eval(const struct scenario *s, const struct scn_results *r,
		     const struct scn_expect *e, double *value, bool *pass, char *why, size_t len);
/* Bytes of a {u32|u64|ipv4|lpm4|hex: X} value. */
int scn_bytes_parse(const char *kind, const char *text, struct scn_bytes *out, char *why,
		    size_t len);

/* ---- clients.c ---- */

/* Built-in parsers: index by name, -1 when unknown. */
int scn_parser_by_name(const char *name);
const char *scn_parser_name(int idx);
/* Does the client produce this figure name (parser or its own regexes)? */
bool scn_client_has_figure(const struct scn_client *c, const char *fig);
/* Figures parsed from out: name -> number; a new object. */
json_t *scn_client_figures(const struct scn_client *c, const char *out);

/* ---- run.c ---- */

struct scn_run_opts {
	bool quick, json;
	bool netns_runtime;           /* --runtime netns */
	const char *out;              /* results root */
};
/* 0 every expectation passed, 1 otherwise or on failure. */
int scenario_run(struct scenario *s, const struct scn_run_opts *o);

#endif
