/*
 * The hook table: every place offloadlab can put the offloaded app, by the
 * name used for --hook everywhere.  A new hook is one entry in lib/hooks.c
 * (plus its programs, "<family>_<action>", in bpf/hooks.bpf.c).
 *
 * Attaching builds an instance: its own skeleton (so counters are its own),
 * the one program the action needs, and the attachment, whose removal is
 * registered with the run's cleanup so SIGINT/SIGTERM remove it too.
 */
#ifndef OLAB_HOOKS_H
#define OLAB_HOOKS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include <jansson.h>
#include <bpf/libbpf.h>
#include "bpf/counters.h"
#include "netns/netns.h"

enum hook_kind {
	HOOK_PACKET,    /* program on a device: sees packets, UDP flow filter */
	HOOK_STREAM,    /* program on a sockmap: sees a TCP socket's bytes */
	HOOK_BASELINE,  /* no program: the plain socket app */
};

/* The traffic a hook is measured with. */
enum hook_proto {
	HOOK_PROTO_UDP,
	HOOK_PROTO_TCP,
};

enum hook_action {
	HOOK_EMPTY,      /* return pass, touch nothing */
	HOOK_COUNT_PASS, /* count per CPU, pass */
	HOOK_DROP,       /* count per CPU, drop */
	HOOK_ECHO,       /* reply at the hook */
	HOOK_ACTION__COUNT
};

struct hook_inst;

struct hook_desc {
	const char *name;          /* --hook name */
	const char *summary;
	int feature;               /* enum feature_id it needs, -1 for none */
	const char *attach_mode;   /* how it is attached, for reports */
	enum hook_kind kind;
	enum hook_proto proto;     /* the traffic it is measured with */
	const char *family;        /* program names: "<family>_<action>", NULL: none */
	/* Also attach sk_parser: one verdict per message, so a bench that wants
	 * one verdict per request sets hook_opts.msg_size to the request size. */
	bool parser;
	const char *reply_at;      /* where its echo reply is made, for reports */
	/* Its XDP_TX frames reach the peer veth only when the peer runs an XDP
	 * program too (native XDP: GRO on the peer was not enough on 6.18). */
	bool peer_needs_xdp;
	bool test_run;             /* BPF_PROG_TEST_RUN runs its programs */
	const char *no_test_run;   /* why not, when !test_run */
	/* A known kernel problem to name when its traffic stalls, NULL: none. */
	const char *known_issue;
	int (*attach)(struct hook_inst *hi);
	int (*detach)(struct hook_inst *hi);      /* 0 or -errno (logged) */
	/* Programs now attached where this hook attaches (ifindex in the
	 * calling thread's namespace): ids into ids[*cnt], 0 or -errno. */
	int (*query)(int ifindex, uint32_t *ids, uint32_t *cnt);
};

struct hook_opts {
	uint16_t port;      /* benchmark flow: UDP dport / TCP local port, 0: all */
	uint32_t msg_size;  /* stream parser message size, 0: each skb */
};

size_t hook_count(void);
const struct hook_desc *hook_get(size_t i);
const struct hook_desc *hook_by_name(const char *name);

/* What a hook is, from its kind: benches ask these, not the kind. */
bool hook_has_program(const struct hook_desc *h);  /* not a baseline */
bool hook_on_device(const struct hook_desc *h);    /* on a veth in a namespace; togglable */
bool hook_on_sockmap(const struct hook_desc *h);   /* the app puts its sockets in a sockmap */
bool hook_is_tcp(const struct hook_desc *h);       /* measured with TCP */
/* Whether traffic of proto p runs through its program: device hooks run on
 * every packet (and act on the UDP flow only), the others on their own proto. */
bool hook_sees_proto(const struct hook_desc *h, enum hook_proto p);
const char *hook_proto_name(enum hook_proto p);    /* "udp", "tcp"; NULL when unknown */

/*
 * The program name for action a: "<family>_<action>" into buf.  0, or
 * -EINVAL for a baseline or an action it does not have.
 */
int hook_prog_name(const struct hook_desc *h, enum hook_action a, char *buf, size_t len);
/* Every program h's actions need is in hooks.bpf.c (opened, not loaded). */
bool hook_programs_present(const struct hook_desc *h);

const char *hook_action_name(enum hook_action a);
/* "count_pass" or "count-pass"...; -EINVAL when unknown. */
int hook_action_by_name(const char *name);
/* Baselines only have HOOK_EMPTY (nothing to run). */
bool hook_has_action(const struct hook_desc *h, enum hook_action a);

/* [{name, proto, program, feature, supported, reason}] for `env --json`. */
json_t *hooks_to_json(void);

/* 0 when env says the hook works here, else -EOPNOTSUPP and the reason. */
int hook_supported(const struct hook_desc *h, char *reason, size_t len);

/*
 * Load and attach h's program for action a on ifname in ns (packet hooks;
 * stream hooks ignore ifname), acting only on the flow to udp_port (0: all).
 * ns must be one of the run's namespaces.  0 or -errno; -EOPNOTSUPP when env
 * says the hook's feature is unsupported.
 */
int hook_attach(const struct hook_desc *h, enum hook_action a, const struct netns *ns,
		const char *ifname, uint16_t udp_port, struct hook_inst **out);
int hook_attach_opts(const struct hook_desc *h, enum hook_action a, const struct netns *ns,
		     const char *ifname, const struct hook_opts *o, struct hook_inst **out);
/*
 * A program of the caller's own object at h (the pattern benches): prog of
 * h's program type, parser for hooks with a parser, sockmap_fd the
 * sockhash the app's sockets go in (stream hooks).  The caller loads the
 * object and keeps it until hook_detach(); the instance has no counters.
 */
struct hook_prog {
	struct bpf_program *prog, *parser;
	int sockmap_fd;
};
/* Before loading obj: pick "<prefix>_<family>" ("xdp", "tc", "sk") and, for
 * hooks with a parser, "<prefix>_parser"; every other program of obj is
 * not loaded.  0 or -ENOENT (logged) / -EINVAL (a baseline). */
int hook_pick_progs(const struct hook_desc *h, struct bpf_object *obj, const char *prefix,
		    struct hook_prog *out);
int hook_attach_prog(const struct hook_desc *h, const struct hook_prog *p, const struct netns *ns,
		     const char *ifname, struct hook_inst **out);
/* Remove the attachment and free everything.  NULL is fine. */
void hook_detach(struct hook_inst *hi);

/*
 * Packet hooks: take the loaded program off its attach point, or put it
 * back, without reloading it (same program, same counters).  0 or -errno.
 */
int hook_set_attached(struct hook_inst *hi, bool on);

/* Program fd (bpf_stats, BPF_PROG_TEST_RUN), -1 for baselines. */
int hook_prog_fd(struct hook_inst *hi);
uint32_t hook_prog_id(struct hook_inst *hi);
/* Stream hooks: the sockhash the app puts its sockets in; -1 otherwise. */
int hook_sockmap_fd(struct hook_inst *hi);
/* The program's live per-CPU counters (mmapped .bss); NULL for baselines. */
const volatile struct cpu_counters *hook_counters(struct hook_inst *hi);
/* Sum over CPUs of the live counters; zeroes for baselines. */
struct cpu_counters hook_counters_sum(struct hook_inst *hi);

/* Programs attached where h attaches on ifname in ns (0: none), or -errno. */
int hook_query(const struct hook_desc *h, const struct netns *ns, const char *ifname,
	       uint32_t *ids, uint32_t *cnt);

#endif
