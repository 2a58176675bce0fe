/*
 * `offloadlab gen`: send traffic across the standard testbed and count it at
 * both ends.  live: the in-kernel generator (XDP live frames) into an XDP
 * counting drop on the DUT; udp/tcp: socket clients into socket servers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/cpuidle.h"
#include "lib/gen.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/topo.h"

#define NSEC 1000000000ull
#define SETTLE_NS (2 * NSEC)

struct gen_cmd_cfg {
	int mode;
	uint64_t size;
	int family;            /* index into families */
	uint64_t flows;
	uint64_t count;
	uint64_t duration;
	uint64_t rate;
	uint64_t threads;
	uint64_t cpus;
	uint64_t batch;
	const char *gen_netns, *dut_netns;
	bool no_sink;
	int cpu_idle;
};

static const char *const modes[] = { "live", "udp", "tcp", NULL };
static const char *const families[] = { "4", "6", NULL };

static const struct opt_desc gen_opts[] = {
	{ "mode", 'm', OPT_ENUM, offsetof(struct gen_cmd_cfg, mode), "MODE",
	  "generator: XDP live frames, UDP sendmmsg or TCP requests", 0, 0, modes },
	{ "size", 's', OPT_UINT, offsetof(struct gen_cmd_cfg, size), "BYTES",
	  "Ethernet frame without FCS (MTU + 14 at most); tcp: request size",
	  GEN_MIN_FRAME, GEN_MAX_FRAME },
	{ "family", 'f', OPT_ENUM, offsetof(struct gen_cmd_cfg, family), "4|6",
	  "IP version", 0, 0, families },
	{ "flows", 'F', OPT_UINT, offsetof(struct gen_cmd_cfg, flows), "N",
	  "UDP source ports (tcp: connections)", 1, GEN_MAX_FLOWS },
	{ "count", 'c', OPT_UINT, offsetof(struct gen_cmd_cfg, count), "N",
	  "packets (tcp: requests) to send", 1, 1000000000000ull },
	{ "duration", 'd', OPT_UINT, offsetof(struct gen_cmd_cfg, duration), "SEC",
	  "send for this long (default 1 without --count)", 1, 3600 },
	{ "rate", 'r', OPT_UINT, offsetof(struct gen_cmd_cfg, rate), "PPS",
	  "open-loop rate over all threads, 0 = as fast as possible", 0, 1000000000 },
	{ "threads", 't', OPT_UINT, offsetof(struct gen_cmd_cfg, threads), "N",
	  "sending threads, one per CPU (at most the CPU count)", 1, GEN_MAX_THREADS },
	{ "cpu", 'C', OPT_CPUS, offsetof(struct gen_cmd_cfg, cpus), "LIST",
	  "CPUs for the threads, e.g. 0 or 0-1 (default 0..threads-1)" },
	{ "batch", 'b', OPT_UINT, offsetof(struct gen_cmd_cfg, batch), "N",
	  "live: frames per test_run batch (1..256); udp: sendmmsg batch", 1, 1024 },
	{ "gen-netns", 0, OPT_STR, offsetof(struct gen_cmd_cfg, gen_netns), "NAME",
	  "use an existing testbed: the generator's namespace (olab*)" },
	{ "dut-netns", 0, OPT_STR, offsetof(struct gen_cmd_cfg, dut_netns), "NAME",
	  "use an existing testbed: the DUT's namespace (olab*)" },
	{ "cpu-idle", 0, OPT_ENUM, offsetof(struct gen_cmd_cfg, cpu_idle), "MODE",
	  "poll: hold /dev/cpu_dma_latency at 0 while sending; default: leave idle states "
	  "alone (the default)", 0, 0, cpuidle_mode_names },
	{ "no-sink", 0, OPT_FLAG, offsetof(struct gen_cmd_cfg, no_sink), NULL,
	  "attach no sink on the DUT (live needs an XDP program there already)" },
	OPT_END,
};

static const struct gen_cmd_cfg gen_defaults = { .mode = GEN_MODE_LIVE, .size = GEN_MIN_FRAME,
						 .cpu_idle = CPUIDLE_UNSET };

static double rate_of(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * NSEC / ns : 0;
}

static json_t *result_json(const struct gen_cfg *c, enum gen_mode mode, const struct gen_result *r,
			   const struct gen_sink_stats *k, const struct topo *t)
{
	json_t *thr = json_array(), *cpus = json_object(), *o, *recv;
	char key[16];

	for (unsigned i = 0; i < r->nthreads; i++) {
		const struct gen_thread_stats *s = &r->thr[i];

		json_array_append_new(thr, json_pack("{s:i, s:I, s:I, s:I, s:I, s:f}",
						     "cpu", s->cpu,
						     "sent", (json_int_t)s->sent,
						     "bytes", (json_int_t)s->bytes,
						     "calls", (json_int_t)s->calls,
						     "errors", (json_int_t)s->errors,
						     "pps", rate_of(s->sent, s->end_ns - s->start_ns)));
	}
	for (int i = 0; k && i < OLAB_MAX_CPUS; i++) {
		if (!k->per_cpu[i])
			continue;
		snprintf(key, sizeof(key), "%d", i);
		json_object_set_new(cpus, key, json_integer((json_int_t)k->per_cpu[i]));
	}
	o = json_pack("{s:s, s:i, s:i, s:i, s:I, s:I}", "mode", gen_mode_name(mode),
		      "family", c->family, "size", c->size, "flows", c->nflows,
		      "rate_target", (json_int_t)c->rate_pps, "count_target", (json_int_t)c->count);
	json_object_set_new(o, "sent", json_pack("{s:I, s:I, s:f, s:f, s:I, s:I, s:b, s:b, s:o}",
						 "packets", (json_int_t)r->sent,
						 "bytes", (json_int_t)r->bytes,
						 "pps", r->pps,
						 "elapsed_s", (double)r->elapsed_ns / NSEC,
						 "errors", (json_int_t)r->errors,
						 "veth_xmit_errors", (json_int_t)r->xmit_errors,
						 "timed_out", r->timed_out,
						 "interrupted", r->interrupted,
						 "threads", thr));
	if (k) {
		recv = json_pack("{s:I, s:I, s:f, s:I, s:i, s:o}",
				 "packets", (json_int_t)k->packets,
				 "bytes", (json_int_t)k->bytes,
				 "pps", rate_of(k->packets, r->elapsed_ns),
				 mode == GEN_MODE_TCP ? "connections" : "other",
				 (json_int_t)k->other,
				 "distinct_sports", (int)k->distinct_sports,
				 "per_cpu", cpus);
	} else {
		json_decref(cpus);
		recv = json_null();
	}
	json_object_set_new(o, "received", recv);
	json_object_set_new(o, "topo", topo_to_json(t));
	json_object_set_new(o, "cpu_idle", cpuidle_config_json());
	json_object_set_new(o, "measurement", cli_measure_json());
	return o;
}

static void result_print(const struct gen_cfg *c, enum gen_mode mode, const struct gen_result *r,
			 const struct gen_sink_stats *k)
{
	const char *unit = mode == GEN_MODE_TCP ? "requests" : mode == GEN_MODE_UDP ? "datagrams"
										      : "frames";

	printf("gen %s IPv%d, %u B %s, %u %s%s, %u thread%s%s\n", gen_mode_name(mode), c->family,
	       c->size, mode == GEN_MODE_TCP ? "requests" : "frames", c->nflows,
	       mode == GEN_MODE_TCP ? "connection" : "flow", c->nflows == 1 ? "" : "s",
	       r->nthreads, r->nthreads == 1 ? "" : "s",
	       r->timed_out ? " (stopped by the time limit)" :
	       r->interrupted ? " (interrupted)" : "");
	printf("  sent      %12llu %s  %8.3f Mpps  %.3f s  errors %llu\n",
	       (unsigned long long)r->sent, unit, r->pps / 1e6, (double)r->elapsed_ns / NSEC,
	       (unsigned long long)r->errors);
	if (mode == GEN_MODE_LIVE)
		printf("  veth      %12llu frames not queued to the DUT (its ring was full)\n",
		       (unsigned long long)r->xmit_errors);
	if (!k)
		goto gen_cpus;
	printf("  received  %12llu %s  %8.3f Mpps  %.2f%% of sent",
	       (unsigned long long)k->packets, unit, rate_of(k->packets, r->elapsed_ns) / 1e6,
	       r->sent ? 100.0 * k->packets / r->sent : 0.0);
	if (mode != GEN_MODE_TCP)
		printf("  %u source ports", k->distinct_sports);
	putchar('\n');
	printf("  sink per CPU:");
	for (int i = 0; i < OLAB_MAX_CPUS; i++)
		if (k->per_cpu[i])
			printf("  cpu%d %llu (%.1f%%)", i, (unsigned long long)k->per_cpu[i],
			       k->packets ? 100.0 * k->per_cpu[i] / k->packets : 0.0);
	putchar('\n');
gen_cpus:
	printf("  generator ran on:");
	for (unsigned i = 0; i < r->nthreads; i++)
		printf("  cpu%d %llu (%.3f Mpps)", r->thr[i].cpu,
		       (unsigned long long)r->thr[i].sent,
		       rate_of(r->thr[i].sent, r->thr[i].end_ns - r->thr[i].start_ns) / 1e6);
	putchar('\n');
}

static int gen_cmd_run(void *cfgp, int argc, char **argv)
{
	struct gen_cmd_cfg *cc = cfgp;
	struct topo_opts to = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };
	enum gen_mode mode = cc->mode;
	struct gen_sink *sink = NULL;
	struct gen_sink_stats k = { 0 };
	struct gen_result r = { 0 };
	struct gen_cfg c;
	struct topo t;
	bool attached;
	char why[160];
	int err;

	gen_cfg_init(&c);
	c.family = cc->family ? 6 : 4;
	c.size = cc->size;
	c.nflows = cc->flows ? cc->flows : 1;
	c.count = cc->count;
	c.duration_ns = cc->duration * NSEC;
	if (!c.count && !c.duration_ns)
		c.duration_ns = NSEC;
	c.rate_pps = cc->rate;
	c.threads = cc->threads;
	c.cpus = cc->cpus;
	c.batch = cc->batch;
	if (gen_cfg_check(&c, mode, why, sizeof(why)))
		return cli_usage_error("gen", "%s", why);
	if (!cc->gen_netns != !cc->dut_netns)
		return cli_usage_error("gen", "--gen-netns and --dut-netns go together");
	for (int i = 0; i < 2; i++) {
		const char *ns = i ? cc->dut_netns : cc->gen_netns;
		pid_t owner = ns ? run_prefix_pid(ns) : 0;

		if (owner && owner != getpid() && run_owner_alive(owner))
			return cli_usage_error("gen", "--%s-netns %s belongs to run %d, which is still "
					       "alive: use a testbed left by `topo up` (without --hold)",
					       i ? "dut" : "gen", ns, (int)owner);
	}

	if (cli_measure_lock("gen"))
		return EXIT_FAIL;
	attached = cc->gen_netns != NULL;
	err = attached ? gen_topo_attach(cc->gen_netns, cc->dut_netns, &t) : topo_up(&to, &t);
	if (err)
		return EXIT_FAIL;
	if (!cc->no_sink) {
		err = gen_sink_start(&t, mode, &c, &sink);
		if (err)
			goto cleanup;
	}
	cpuidle_set(cpuidle_resolve(cc->cpu_idle, CPUIDLE_DEFAULT));
	err = gen_run(&t, mode, &c, &r);
	if (err && !r.sent)
		goto cleanup;
	if (sink)
		gen_sink_settle(sink, r.sent, SETTLE_NS, &k);

	if (g_opts.json) {
		if (cli_json_out("gen", result_json(&c, mode, &r, sink ? &k : NULL, &t)))
			err = -EIO;
	} else {
		result_print(&c, mode, &r, sink ? &k : NULL);
	}
cleanup:
	cpuidle_set(CPUIDLE_DEFAULT);
	if (err)
		pr_warn("offloadlab gen: %s\n", strerror(-err));
	gen_sink_stop(sink);
	if (attached)
		gen_topo_detach(&t);
	else
		topo_down(&t);
	return err || r.interrupted ? EXIT_FAIL : EXIT_OK;
}

COMMAND(cmd_gen, "gen", 30, NEED_ALL | MEASURES, gen_cmd_run,
	"send traffic across the testbed (XDP live frames, UDP or TCP) and count it",
	CMD_OPTS(gen_opts, struct gen_cmd_cfg, &gen_defaults));
