/* Shared between the files of scenarios/ only. */
#ifndef OLAB_SCN_INTERNAL_H
#define OLAB_SCN_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "scenarios/scenario.h"
#include "scenarios/yaml_kit.h"

/* A hook a scenario names: one of lib/hooks.h's table, or an egress hook
 * the engine attaches itself (the table's tc and tcx are ingress only). */
struct scn_hook {
	const char *name;
	const char *table;            /* lib/hooks.h name, NULL: engine's own */
	enum bpf_prog_type type;
	bool egress_tc, egress_tcx;
	bool sockops, sk_msg;         /* cgroup / sockmap targets (sockops.c) */
};
const struct scn_hook *scn_hook_by_name(const char *name);
const char *scn_hook_names(void);    /* "xdp-native, ..." for errors */

/* What a trial collected: {"arm", "clients": {c: {fig: v}}, "values": {k: v},
 * "client_exit": {c: status}}. */
struct scn_results {
	json_t *trials;               /* array, in run order */
	json_t *retried;              /* trials measured again: a client failed once */
};

/* ---- offload.c ---- */
/* Open (not load) each object and check programs, hooks, maps, variables. */
int scn_offloads_check(struct scenario *s);
/* Load, write the initial map contents, attach (then detached: arm none). */
int scn_offloads_start(struct scenario *s);
int scn_offloads_set(struct scenario *s, bool on);
void scn_offloads_stop(struct scenario *s);
/* Current absolute values: counter.O.V, program.O.P.runs / .run_time_ns,
 * and the map elements expectations name, into obj. */
void scn_offloads_read(const struct scenario *s, json_t *obj);
int scn_find_var(struct bpf_object *obj, const char *var, struct bpf_map **map, size_t *off,
		 size_t *elem, size_t *count);
/* Is there such a variable / map with this key size / program? */
int scn_offload_by_name(const struct scenario *s, const char *name);
int scn_counter_check(const struct scn_offload *o, const char *var, char *why, size_t len);
int scn_map_check(const struct scn_offload *o, const char *map, size_t key_size, char *why,
		  size_t len);
/* The key of a map element expectation: "map.O.M[hex]". */
void scn_map_ref_key(const struct scn_ref *r, char *buf, size_t len);

/* ---- expect.c ---- */
/* Per-trial values of r in arm (STAT_NONE/STAT_OFFLOAD); paired ratios. */
int scn_series(const struct scn_results *res, const struct scn_ref *r, enum scn_stat arm,
	       double *out, int max);
int scn_paired_ratios(const struct scn_results *res, const struct scn_ref *r, double *out,
		      int max);
void scn_ref_value_key(const struct scn_ref *r, char *buf, size_t len);

/* ---- sockops.c: sockops on cgroups, sk-msg on sockmaps ---- */
/* Target {cgroup: CONTAINER | "host:NAME"} or {map: NAME} of p; one line error. */
int scn_sock_target(struct ykit *y, yaml_node_t *t, const char *f, struct scn_prog *p);
/* Does the scenario have a sockops / sk-msg program? */
bool scn_has_sock_progs(const struct scenario *s);
/* The map of an sk-msg program is a sockmap/sockhash of its object; one line error. */
int scn_sock_check(struct scenario *s, struct scn_offload *o, struct scn_prog *p, int i);
/* Arm on/off for one sockops / sk-msg program (sk-msg: the map emptied on off). */
int scn_sock_prog_set(struct scenario *s, struct scn_prog *p, bool on);
/* The cgroups the run needs (host targets; every container under --runtime netns). */
int scn_cgroups_setup(struct scenario *s);
/* Kill what is left in them and remove them, children first. */
void scn_cgroups_remove(void);
/* A container's cgroup exists (runc: created, not started): attach the
 * sockops programs of the offload arm that target it (runc: or its host). */
int scn_sock_ctr_started(struct scenario *s, int ci, const char *cgroup);
/* The container stops: its own links go; netns runtime: kill its cgroup. */
void scn_sock_ctr_stopping(struct scenario *s, int ci);

/* ---- topo.c ---- */
/* Hosts, links, nft, cgroups; the containers too unless s->restart. */
int scn_topo_start(struct scenario *s, bool netns_runtime);
void scn_topo_stop(struct scenario *s);
/* s->restart: start every container (and wait until ready) / stop them all. */
int scn_ctrs_start(struct scenario *s);
void scn_ctrs_stop(struct scenario *s);
/* Named nft counters of every host with a ruleset: "nft.H.T.C" -> packets. */
void scn_nft_read(const struct scenario *s, json_t *obj);

/* ---- clients.c ---- */
/* Run every client at once for duration seconds; their figures and exit
 * statuses into trial.  0, or -errno when a client that may not fail did. */
int scn_clients_run(struct scenario *s, double duration, const char *scratch, json_t *trial,
		    char *why, size_t len);

#endif
