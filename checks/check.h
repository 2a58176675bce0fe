/*
 * Compatibility checks: does an eBPF offload still let the rest of a
 * deployment behave?  One check is one file in checks/ that defines its
 * struct check with DEFINE_CHECK, which also registers it (a linker section,
 * like the commands and benches): adding a check never means editing a list.
 *
 * A check builds its own namespaces, applies real rules with the real tools,
 * sends real traffic, and writes what it saw as "phase: k=v k=v; phase: ..."
 * into ctx->observed.  The framework compares that with the expected outcome (the
 * kernel's semantics, written the same way): equal is pass, different is
 * fail (both printed, with the raw counters).  Each check runs in a forked
 * child with a time limit, so a hang or a crash is a fail, never a stuck run.
 *
 * Every check has a sabotage knob (ctx->sabotage, also set by the
 * environment variable OLAB_CHECK_SABOTAGE=<name|glob>): it breaks the
 * setup on purpose (the XDP program left out, the nft rule without its
 * statement...) so the tests can prove the check is able to fail.
 */
#ifndef OLAB_CHECK_H
#define OLAB_CHECK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "containers/app_runtime.h"
#include "lib/registry.h"
#include "lib/util.h"
#include "netns/netns.h"
#include "netns/topo.h"

enum check_status { CHECK_PASS, CHECK_FAIL, CHECK_SKIP, CHECK_XFAIL, CHECK_STATUS__COUNT };

#define CHECK_TEXT_LEN    1536
#define CHECK_REASON_LEN  256
#define CHECK_TIMEOUT_MS  20000   /* default per-check time limit */
#define CHECK_TIME_SCALE_ENV TIME_SCALE_ENV /* lib/util.h: multiplies time limits */
#define CHECK_SABOTAGE_ENV "OLAB_CHECK_SABOTAGE"
/* Skip reason of the sockmap checks under --runtime runc: their TCP app is
 * the check itself, on the host.  (The benches hand an app in a container
 * the sockhash by fd, which these checks could do too.) */
#define CHECK_RUNC_HOST_TCP_APP \
	"runc runtime: this check is its own TCP app (it puts the socket in the sockmap and " \
	"checks the bytes on the host); it does not run olab-app in a container yet"
/* Skip reason under --runtime runc of a check that sets neither runc nor runc_skip. */
#define CHECK_RUNC_REASON "runc runtime: this check has no app to run in a container"

#define CHECK_FEAT(f) (1ull << (f))

struct check;
struct check_ctx;

/*
 * Kernel releases [since, until), "X.Y[.Z]" as upstream numbers them
 * (lib/kver.h: Debian's "6.1.0-57" is read as its 6.1.192); since NULL:
 * every older one, until NULL: every newer one.  ref: the kernel commit
 * or release note that draws the line.
 */
struct check_kernels {
	const char *since, *until;
	const char *ref;
};
/* A part of the expectation that holds only on some kernels: outside
 * `kernels`, the "key=value" `holds` of check.expected reads `otherwise`. */
struct check_versioned {
	const char *holds, *otherwise;
	struct check_kernels kernels;
};
#define CHECK_VERSIONED_MAX 2
#define CHECK_XFAIL_RANGES 4

/* An undo the check registers with check_defer: fn(a, b). */
typedef void (*check_undo_fn)(void *a, void *b);
#define CHECK_UNDO_MAX 16

struct check_ctx {
	const struct check *check;
	enum app_runtime runtime;
	bool sabotage;              /* break the setup on purpose: the check must fail */
	int cpu_idle;               /* check_run_opts.cpu_idle */
	void *priv;                 /* check->priv_size zeroed bytes */
	uint64_t deadline_ns;       /* now_ns() value the check must finish by */
	/* What the check may adjust in setup (e.g. a kernel-version dependent
	 * expectation); starts as check->expected. */
	char expected[CHECK_TEXT_LEN];
	/* Filled by run(). */
	char observed[CHECK_TEXT_LEN];
	/* A documented kernel bug explains the phases named in xfail_phases
	 * (comma separated): if those are the only ones that differ from the
	 * expectation, the status is xfail with xfail as its reference. */
	char xfail[CHECK_REASON_LEN];
	char xfail_phases[CHECK_REASON_LEN];
	char skip[CHECK_REASON_LEN];  /* a need found missing at run time */
	char error[CHECK_REASON_LEN]; /* why setup or run could not complete */
	json_t *counters;           /* raw numbers behind observed (object) */
	/* Run after teardown, newest first (check_defer). */
	struct { check_undo_fn fn; void *a, *b; } undo[CHECK_UNDO_MAX];
	int n_undo;
};

struct check {
	const char *name;
	const char *summary;        /* one line */
	uint64_t features;          /* CHECK_FEAT(FEAT_...) | ...: env must support all */
	const char *tools;          /* binaries it runs, space separated ("nft conntrack") */
	const char *expected;       /* "phase: k=v ...; ..." the kernel's semantics predict */
	const char *reference;      /* where that behaviour is defined */
	size_t priv_size;
	/* 0 or -errno (and ctx->error); teardown runs whenever setup was called. */
	int (*setup)(struct check_ctx *ctx);
	int (*run)(struct check_ctx *ctx);
	void (*teardown)(struct check_ctx *ctx);
	/* --runtime runc: the check puts its app in a container (ctx->runtime
	 * says which), or runc_skip says why it cannot (NULL: CHECK_RUNC_REASON). */
	bool runc;
	const char *runc_skip;
	int order;                  /* position in the list */
	int timeout_ms;             /* 0: CHECK_TIMEOUT_MS */
	/* Compares timings: run with the CPUs held in POLL unless the user
	 * says --cpu-idle default (lib/cpuidle.h). */
	bool latency;
	/* Version-dependent expectations (holds NULL: none). */
	struct check_versioned versioned[CHECK_VERSIONED_MAX];
	/* The kernels with the documented bug the check reports as xfail
	 * (check_xfail_phase), each range with its reference (stable backports
	 * make several): on any other kernel what it would explain is a fail.
	 * None (since and until NULL): any kernel. */
	struct check_kernels xfail_kernels[CHECK_XFAIL_RANGES];
};

/* The usual steps of a check file: its priv struct and the static
 * functions setup and run it defines (a teardown is named on its own; what
 * the kit's setup helpers made they undo themselves, see check_defer). */
#define CHECK_STEPS(priv_type) .priv_size = sizeof(priv_type), .setup = setup, .run = run

/* Defines sym, a struct check with the designated initializers that
 * follow (DEFINE_CHECK(x, .name = "x", ...)), and registers it in the
 * linker section olab_checks. */
#define DEFINE_CHECK(sym, ...) \
	static const struct check sym = { __VA_ARGS__ }; \
	REGISTRY_ADD(olab_checks, sym)

/* ---- registry (checks/registry.c) ---- */

size_t check_count(void);
const struct check *check_get(size_t i);
const struct check *check_by_name(const char *name);
/* fnmatch(3) glob, or the exact name. */
bool check_matches(const struct check *c, const char *pattern);

const char *check_status_name(enum check_status s);

/* ---- kernel ranges (checks/kernels.c) ---- */

/* Is kver (lib/kver.h) in k's range?  An unknown kver (0) is in every range. */
bool check_kernels_match(const struct check_kernels *k, uint32_t kver);
/* "6.6 and later", "before 6.6", "6.6 to 6.9" (until excluded), "any". */
const char *check_kernels_text(const struct check_kernels *k, char *buf, size_t len);
/* Is c's documented bug expected on kver (c.xfail_kernels; none: yes)?  Its
 * ranges as text ("6.1.130 to 6.2, 6.14 and later") into buf. */
bool check_xfail_kernel(const struct check *c, uint32_t kver, char *buf, size_t len);
/* c's expectation on kernel kver (its versioned parts applied) into buf. */
void check_expected_for(const struct check *c, uint32_t kver, char *buf, size_t len);
/* [{"applies_to", "since", "until", "ref", ...}] for c's ranges (may be empty). */
json_t *check_kernels_json(const struct check *c);

/* ---- running (checks/runner.c, checks/verdict.c, checks/report.c) ---- */

struct check_run_opts {
	enum app_runtime runtime;
	bool sabotage;              /* also true when OLAB_CHECK_SABOTAGE matches */
	const char *expected;       /* override the expectation (tests), NULL: the check's */
	int cpu_idle;               /* enum cpuidle_mode; CPUIDLE_UNSET: poll for latency checks */
};

struct check_result {
	const struct check *check;
	enum check_status status;
	enum app_runtime runtime;
	bool sabotage;
	char expected[CHECK_TEXT_LEN];
	char observed[CHECK_TEXT_LEN];
	char reason[CHECK_REASON_LEN]; /* skip reason, xfail reference, or why it failed */
	json_t *counters;           /* owned; check_result_free() */
	json_t *cpu_idle;           /* owned: the mode it ran under (cpuidle_config_json) */
	double seconds;
	uint32_t kver;              /* the kernel version it was judged for (lib/kver.h) */
};

/* Skip reason when env or PATH lacks a need (0), else -EOPNOTSUPP and reason. */
int check_needs_met(const struct check *c, enum app_runtime rt, char *reason, size_t len);
/* Run one check in a forked child with its time limit; fills r.  0, or
 * -errno when the framework itself could not run it (r is a fail then). */
int check_run(const struct check *c, const struct check_run_opts *o, struct check_result *r);
void check_result_free(struct check_result *r);

/* {"checks": [{"name", "status", "expected", "observed", "runtime", ...}], "totals": {...}} */
json_t *check_results_json(const struct check_result *r, size_t n);
/* JUnit XML through libxml2's xmlwriter; 0 or -errno. */
int check_write_junit(const char *path, const struct check_result *r, size_t n);
/* The matrix, then expected/observed/counters of every failure. */
void check_print_matrix(FILE *f, const struct check_result *r, size_t n);

/* ---- helpers for checks (observe, tools, netfilter, attach, traffic, testbed, app .c) ---- */

/* Have fn(a, b) run when the check ends, after its teardown, newest first.
 * 0, or -ENOSPC (and ctx->error). */
int check_defer(struct check_ctx *ctx, check_undo_fn fn, void *a, void *b);

/* Record one observation "phase: details" (appended with "; "). */
void check_observe(struct check_ctx *ctx, const char *phase, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Append " key=value" (or "key=value" to an empty buf) to a details buffer. */
void check_kv(char *buf, size_t len, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A documented kernel bug (ref) explains what phase observed. */
void check_xfail_phase(struct check_ctx *ctx, const char *phase, const char *ref);
/* Record a raw counter under counters[group][name]. */
void check_counter(struct check_ctx *ctx, const char *group, const char *name, int64_t v);
/* Set ctx->error (first one wins) and return err. */
int check_error(struct check_ctx *ctx, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * One phase's observation as it is built: "key=value" details, each value
 * also recorded as counters[name][key]; check_phase_end observes it.
 */
struct check_phase {
	struct check_ctx *ctx;
	const char *name;
	uint64_t of;                /* what shares are of (packets sent) */
	char details[CHECK_TEXT_LEN];
};
void check_phase_begin(struct check_phase *ph, struct check_ctx *ctx, const char *name,
		       uint64_t of);
/* key=0|all|v/of (check_share), counter v. */
void check_phase_share(struct check_phase *ph, const char *key, uint64_t v);
/* key=value, no counter. */
void check_phase_kv(struct check_phase *ph, const char *key, const char *value);
/* key=v in decimal, counter v. */
void check_phase_num(struct check_phase *ph, const char *key, int64_t v);
/* Each rule's label=share of after[i] - before[i], counters too. */
struct check_nf_rule;
void check_phase_rules(struct check_phase *ph, const struct check_nf_rule *rules, size_t n,
		       const uint64_t *before, const uint64_t *after);
void check_phase_end(struct check_phase *ph);

/* "0", "all" (v == n) or "v/n": how much of n packets a counter saw. */
const char *check_share(char *buf, size_t len, uint64_t v, uint64_t n);
/* "ok" or the errno name ("EBUSY") of a 0/-errno result. */
const char *check_errname(int err);
bool check_time_left(const struct check_ctx *ctx);
/* CHECK_TIME_SCALE_ENV (1-50, default 1): how much slower this kernel runs
 * (10 in a TCG guest); time limits and a check's own waits multiply by it. */
int check_time_scale(void);

/* Run argv (argv[0] looked up in PATH) inside ns; stdout+stderr into out.
 * Exit status, or -errno; killed after 10 s. */
int check_exec(const struct netns *ns, char *out, size_t len, const char *const *argv);
/* Same, the command line split on spaces (no quoting). */
int check_cmd(const struct netns *ns, char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* check_cmd that must succeed: a non-zero exit sets ctx->error (with the
 * tool's first output line) and returns -EIO. */
int check_tool(struct check_ctx *ctx, const struct netns *ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* nftables through libnftables inside ns: 0 or -EINVAL with the error in ctx. */
int check_nft(struct check_ctx *ctx, const struct netns *ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* nft chains (inside a "table ip ...") counting a UDP port at prerouting,
 * forward and postrouting, commented so; the format takes the port 3 times. */
#define CHECK_NFT_ROUTE_CHAINS \
	"  chain pre { type filter hook prerouting priority raw;\n" \
	"    udp dport %d counter comment \"prerouting\"; }\n" \
	"  chain forward { type filter hook forward priority filter;\n" \
	"    udp dport %d counter comment \"forward\"; }\n" \
	"  chain post { type filter hook postrouting priority mangle;\n" \
	"    udp dport %d counter comment \"postrouting\"; }\n"
/* Packet counter of the rule commented `comment` in "family table" (nft -j). */
int check_nft_counter(const struct netns *ns, const char *family_table, const char *comment,
		      uint64_t *packets);
/* Packet count of the rule carrying `-m comment --comment <comment>` in an
 * iptables-nft or iptables-legacy chain (bin is the binary). */
int check_ipt_counter(const struct netns *ns, const char *bin, const char *table,
		      const char *chain, const char *comment, uint64_t *packets);
/* A counted rule, read through the tool that made it. */
enum check_nf_tool { CHECK_NFT, CHECK_IPT_LEGACY, CHECK_IPT_NFT };
struct check_nf_rule {
	const char *label;          /* observation key */
	enum check_nf_tool tool;
	const char *table;          /* nft: "ip olab"; iptables: "raw", "mangle"... */
	const char *chain;          /* iptables chain; unused for nft */
	const char *comment;        /* the rule's comment */
};
/* Packet counters of rules[0..n) into out[]; 0 or the first error. */
int check_nf_read(const struct netns *ns, const struct check_nf_rule *rules, size_t n,
		  uint64_t *out);

/* check_nf_read for a phase: a failure sets ctx->error ("<phase>: read
 * counters: ...") and is returned. */
int check_nf_counts(struct check_ctx *ctx, const char *phase, const struct netns *ns,
		    const struct check_nf_rule *rules, size_t n, uint64_t *out);

/* Conntrack entries of UDP flows from sport (conntrack -L in ns). */
int check_conntrack_udp(const struct netns *ns, uint16_t sport, uint64_t *entries);

/* Send n UDP datagrams of size bytes from ns (bound to sport, 0: any) to
 * dst:dport; the number sent or -errno. */
int check_udp_send(const struct netns *ns, const char *dst, uint16_t sport, uint16_t dport,
		   int n, size_t size);
/* Attachments made inside ns (ifindex is ns's), all 0/-errno unless said.
 * XDP: prog_fd -1 detaches whatever is there in that mode. */
int check_xdp_set(const struct netns *ns, int ifindex, int prog_fd, uint32_t flags);
/* cls_bpf direct-action at handle 1, priority prio, on a clsact qdisc
 * (created when missing); egress false is ingress. */
int check_tc_add(const struct netns *ns, int ifindex, bool egress, int prog_fd, uint32_t prio);
int check_tc_del(const struct netns *ns, int ifindex, bool egress, uint32_t prio);
/* A tcx link (lib/bpf_compat.h tcx_link_create): link fd or -errno. */
int check_tcx_link(const struct netns *ns, int ifindex, bool egress, int prog_fd, uint32_t flags,
		   uint32_t relative, uint64_t expected_revision);

/* BPF_PROG_ATTACH with the 6.6+ fields (relative_fd, expected_revision),
 * which libbpf 1.1 cannot pass: target is an ifindex (tcx, in the calling
 * thread's namespace) or a cgroup fd.  0 or -errno. */
int check_prog_attach(int target, int prog_fd, uint32_t attach_type, uint32_t flags,
		      int replace_fd, int relative_fd, uint64_t expected_revision);

/* One tc program at ingress or egress, through clsact (cls_bpf da, handle 1,
 * priority prio) or a tcx link; detach undoes exactly that. */
enum check_tc_mode { CHECK_CLSACT, CHECK_TCX };
struct check_tc_att {
	const struct netns *ns;
	int ifindex;
	bool egress;
	enum check_tc_mode mode;
	uint32_t prio;              /* clsact; 0: 1 */
	int link_fd;                /* tcx */
	bool on;
};
int check_tc_attach(struct check_tc_att *a, int prog_fd);
void check_tc_detach(struct check_tc_att *a);
/* check_tc_detach(a) when the check ends (check_defer). */
int check_defer_detach(struct check_ctx *ctx, struct check_tc_att *a);
const char *check_tc_mode_name(enum check_tc_mode m);

/* The app: a UDP socket bound to port in ns (fd or -errno), and how many
 * datagrams are waiting on it (drained). */
int check_udp_sink(const struct netns *ns, uint16_t port);
int check_udp_drain(int fd);

/* The runtime can run apps here (runc: containers work); else ctx->skip
 * says why and -EOPNOTSUPP. */
int check_runtime_ready(struct check_ctx *ctx);
/* The app as the runtime has it (checks/app.c): a UDP socket bound to port
 * in ns, the check's own (netns: the check reads, and answers when echo) or
 * olab-app udp-sink/udp-echo in a runc container joined to ns with
 * bpf,net_admin (runc; name: the container's).  Sets ctx->skip when
 * containers cannot run.  0 or -errno.  Closed when the check ends, or
 * earlier by check_app_close. */
struct check_app {
	int fd;
	struct rt_app *rapp;
	uint64_t seen;
};
int check_app_udp(struct check_ctx *ctx, struct check_app *a, const struct netns *ns,
		  uint16_t port, const char *name, bool echo);
/* Datagrams the app received since the last call (netns: drained). */
int check_app_take(struct check_app *a);
void check_app_close(struct check_app *a);

/*
 * Two check_pkt tc programs at the dut's ingress and the app (checks/tc_pair.c).
 * The check sets label[] and slot[].mode/prio (slot 0 runs the phase's
 * verdict, slot 1 says TC_ACT_OK), then check_tc_pair_up (undone when the
 * check ends).  A phase sends
 * CHECK_TC_PAIR_NPKT datagrams and observes "first=<label|none> <label0>=
 * <label1>= app=" (shares).
 */
#define CHECK_TC_PAIR_NPKT 40
struct check_tc_pair {
	const char *label[2];
	struct check_tc_att slot[2];
	struct topo t;
	struct check_pkt *skel;
	struct check_app app;
	uint16_t port;
};
int check_tc_pair_up(struct check_ctx *ctx, struct check_tc_pair *tp, uint16_t port);
int check_tc_pair_phase(struct check_ctx *ctx, struct check_tc_pair *tp, const char *name,
			int verdict);

/* A connected TCP pair over 127.0.0.1:port inside ns (its lo must be up):
 * the client end and the accepted end.  0 or -errno. */
int check_tcp_pair(const struct netns *ns, uint16_t port, int *client, int *server);

/* A namespace of the run's with only lo, up (destroyed when the check
 * ends): 0 or -errno (and ctx->error). */
int check_lo_ns(struct check_ctx *ctx, const char *suffix, struct netns *ns);

/* A second veth pair from `from` to a new namespace "<prefix>-<ns_suffix>":
 * ends "<prefix><near_sfx>" (net.1/24) and "<prefix><far_sfx>" (net.2/24),
 * up, with static neighbours.  The namespace goes when the check ends. */
struct check_link {
	struct netns ns;
	char if_near[16], if_far[16];
	int ifindex_near, ifindex_far;
	uint8_t mac_near[6], mac_far[6];
};
int check_link_add(struct check_ctx *ctx, const struct netns *from, const char *ns_suffix,
		   const char *near_sfx, const char *far_sfx, const char *net, struct check_link *l);

/* A router: check_link_add from t's dut to a new namespace (net.0/24), with
 * gen's route to it through dut and IPv4 forwarding on in dut. */
int check_router_link(struct check_ctx *ctx, const struct topo *t, const char *ns_suffix,
		      const char *near_sfx, const char *far_sfx, const char *net,
		      struct check_link *l);

/* The check_sock programs (sockmap checks), destroyed when the check ends:
 * 0 or -errno (and ctx->error). */
struct check_sock;
int check_sock_load(struct check_ctx *ctx, struct check_sock **skel);
/* Enter ns for the rest of the check (left when it ends): 0 or -errno (and
 * ctx->error). */
int check_stay_in_ns(struct check_ctx *ctx, const struct netns *ns);

/* The standard testbed (topo_up, default options), taken down when the
 * check ends: 0 or -errno (and ctx->error). */
int check_testbed(struct check_ctx *ctx, struct topo *t);
/* The standard testbed and the check_pkt programs, filtering on UDP port;
 * undone when the check ends (check_defer). */
struct check_pkt;
int check_pkt_testbed(struct check_ctx *ctx, struct topo *t, struct check_pkt **skel, uint16_t port);
/* The priv of a check that needs no more than that testbed and its programs. */
struct check_pkt_bed {
	struct topo t;
	struct check_pkt *skel;
};
/* A check_pkt tc slot's verdict: cls_bpf TC_ACT_UNSPEC / tcx TCX_NEXT,
 * TC_ACT_OK / TCX_PASS, TC_ACT_SHOT / TCX_DROP. */
enum check_tc_verdict { CHECK_TC_NEXT = -1, CHECK_TC_OK = 0, CHECK_TC_SHOT = 2 };
/* Send n 64-byte datagrams from t's gen to its dut (sport, 0: any) and let
 * them settle; a short send sets ctx->error ("<phase>: sent ...") and is
 * returned. */
int check_send_flow(struct check_ctx *ctx, const char *phase, const struct topo *t,
		    uint16_t sport, uint16_t dport, int n);
/* TCP's count of bytes received on fd (tcpi_bytes_received), and of
 * segments (tcpi_segs_in); 0 when fd has no TCP_INFO. */
uint64_t check_tcp_bytes_received(int fd);
uint32_t check_tcp_segs_in(int fd);
/* Wait (bounded, without reading) until fd's TCP has received want bytes.
 * Sockmap checks read only after this: a recv() racing with the arrival
 * can take data straight from the receive queue, around the verdict. */
int check_tcp_wait_received(int fd, uint64_t want, int timeout_ms);
/* Read exactly len bytes (or until timeout_ms without progress); bytes read. */
size_t check_read_full(int fd, void *buf, size_t len, int timeout_ms);

/* Close *fd when open (>= 0) and mark it closed (-1). */
void check_close(int *fd);
/* check_close on each of fds[0..n). */
void check_close_all(int *fds, size_t n);
/* Mark *fd closed (-1) now and have check_close(fd) run when the check
 * ends: 0 or -ENOSPC (check_defer). */
int check_defer_close(struct check_ctx *ctx, int *fd);

/* Sleep long enough for in-flight packets on a veth to be processed. */
void check_settle(void);

#endif
