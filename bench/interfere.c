/*
 * bench interfere: one flow served entirely at the hook, a second one
 * going to a socket app on the same machine.  bpf/interfere.bpf.c answers
 * requests to the fast-path port itself (XDP_TX, or tc redirect to egress)
 * after `cost` bpf_loop rounds; the udp-echo app answers the second flow.
 * Arms, paired: offload (program attached) and user space (no program: a
 * second udp-echo app on the fast-path port serves that flow too).  The
 * client (bench/interfere_client.c) keeps IFR_WINDOW requests in flight, a
 * fraction ω (--pct) to the fast path.  Per cell: the second flow's
 * throughput and latency, the fast path's latency, rx-CPU time per request,
 * and the published break-even rule ρ < ω checked against the measurement.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "bench/cpu_time.h"
#include "bench/interfere_client.h"
#include "lib/counters.h"
#include "lib/log.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "interfere.skel.h"

#define IFR_HDRS 42 /* Ethernet + IPv4 + UDP */
/* The published interference figure: an echo server sharing the queue with
 * BMC, median 57.9 -> 89.0 us (paper Fig. 16). */
#define PUB_P50_RATIO (89.0 / 57.9)
#define IFR_FOREIGN_MAX 30.0 /* % of the CPUs busy with other work: measure again */
#define IFR_ATTEMPTS    3

/* One trial of one arm. */
struct ifr_trial {
	struct ifr_flow flow[2];
	double rx_cpu_ns_req;     /* busy ns per request on the CPU the program runs on */
	double dut_ns_req;        /* run ns per request of the DUT's threads: NAPI, apps */
	double foreign_pct;       /* CPU 0+1 user+system time of tasks neither the DUT's nor
				   * the client's, % (softirq left out: the run's own too) */
	double cpu_ns_req[2];     /* busy ns per request, CPU 0 and CPU 1 */
	double prog_ns_req;       /* program run time per request (offload, stats on) */
	double prog_ns_run;       /* program run time per run */
	uint64_t requests;
};

struct ifr_cell {
	struct ifr_result r;      /* first: bench_interfere_result() */
	struct topo t;
	struct interfere *skel;
	struct hook_inst *hi, *peer;
	struct rt_app *app, *fast_app;
	struct ifr_client *client;
	struct ifr_trial tr[2][IFR_MAX_TRIALS];
	size_t n[2];
	char variant[48];
};

static uint64_t fixed_requests;

void bench_interfere_fixed_requests(uint64_t n)
{
	fixed_requests = n;
}

const struct ifr_result *bench_interfere_result(const struct bench_cell *c)
{
	return c->priv;
}

/* Packet hooks with a program: the reply is made on the device. */
static bool interfere_applies(const struct bench_cell *c)
{
	return hook_has_program(c->hook) && hook_on_device(c->hook);
}

static int rx_cpu(const struct bench_cell *c)
{
	return c->layout == LAYOUT_RX_CPU1 ? 1 : 0;
}

/* The table shows the variant, not the axes: cost and ω go in it, once
 * the cell has its storage (setup). */
static void set_variant(struct bench_cell *c)
{
	struct ifr_cell *e = c->priv;

	c->variant = NULL;
	if (e) {
		snprintf(e->variant, sizeof(e->variant), "c%u,w%u%s", c->cost, c->pct,
			 c->layout == LAYOUT_RX_CPU1 ? "" : ",own-cpu");
		c->variant = e->variant;
	}
}

static void interfere_plan(struct bench_cell *c)
{
	set_variant(c);
	c->arms |= ARM_BIT(ARM_REF);
	c->pairing = PAIR_ALTERNATE;
	c->compare = CMP_NONE;
	if (c->quick && c->trials_default && !c->trials)
		c->trials = 5; /* noisy shared machine: 5 pairs even when quick */
	if (c->trials > IFR_MAX_TRIALS)
		c->trials = IFR_MAX_TRIALS;
	if (!c->warmup_ms)
		c->warmup_ms = 100;
}

static int load_program(struct bench_cell *c, struct ifr_cell *e)
{
	struct hook_prog hp;
	int err;

	e->skel = interfere__open();
	if (!e->skel)
		return -errno ? -errno : -ENOMEM;
	e->skel->rodata->fast_port = IFR_FAST_PORT;
	e->skel->rodata->cost = c->cost;
	err = hook_pick_progs(c->hook, e->skel->obj, "interfere", &hp);
	if (!err)
		err = interfere__load(e->skel);
	if (err) {
		pr_warn("bench interfere %s: cannot load the program: %s\n", c->hook->name,
			strerror(-err));
		return err;
	}
	/* Native XDP_TX frames reach gen only when it runs XDP too. */
	if (c->hook->peer_needs_xdp)
		err = hook_attach(c->hook, HOOK_EMPTY, &e->t.gen, e->t.if_gen, 0, &e->peer);
	if (!err)
		err = hook_attach_prog(c->hook, &hp, &e->t.dut, e->t.if_dut, &e->hi);
	return err;
}

static int start_fast_app(struct bench_cell *c, struct ifr_cell *e)
{
	struct rt_app_opts o = {
		.runtime = c->runtime, .name = "interfere-fast", .ns = &e->t.dut,
		.app = { .kind = APP_UDP_ECHO, .family = AF_INET, .port = IFR_FAST_PORT, .cpu = 1 },
	};
	char why[256] = "";
	int err = rt_app_start(&o, &e->fast_app, why, sizeof(why));

	if (err)
		pr_warn("bench interfere: fast-path app: %s\n", why);
	return err;
}

static int interfere_setup(struct bench_cell *c)
{
	struct ifr_cell *e = c->priv;
	size_t len = c->size > IFR_HDRS ? c->size - IFR_HDRS : 0;
	int err;

	set_variant(c);
	if (len < sizeof(struct ifr_msg))
		len = sizeof(struct ifr_msg);
	e->r.len = len;
	c->size = len + IFR_HDRS;
	err = bench_topo_up(c->layout, &e->t);
	if (!err)
		err = load_program(c, e);
	if (!err)
		err = bench_cell_app(c, &e->t, APP_UDP_ECHO, 1, NULL, &e->app);
	if (!err)
		err = start_fast_app(c, e);
	if (!err)
		err = ifr_client_new(&e->t, c->pct, len, &e->client);
	return err;
}

/* The program's run time and count so far (bpf_stats). */
static void prog_stats(struct ifr_cell *e, uint64_t *ns, uint64_t *cnt)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	*ns = *cnt = 0;
	if (!bpf_obj_get_info_by_fd(hook_prog_fd(e->hi), &info, &len)) {
		*ns = info.run_time_ns;
		*cnt = info.run_cnt;
	}
}

/* The DUT veth's threaded-NAPI kthread ("napi/<if>-<id>"), 0: none. */
static pid_t napi_pid(const char *ifname)
{
	char want[64], comm[64], path[64];
	struct dirent *d;
	pid_t pid = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return 0;
	snprintf(want, sizeof(want), "napi/%s-", ifname);
	while (!pid && (d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/comm", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, want, strlen(want)))
			pid = atoi(d->d_name);
		fclose(f);
	}
	closedir(dir);
	return pid;
}

struct ifr_snap {
	uint64_t t_ns, self_ns;   /* when; this process's run time (the client) */
	uint64_t dut_ns;          /* run time of the DUT's NAPI thread and apps */
	uint64_t dut_task_ns;     /* of its tasks only (not CPU 0's softirq) */
	struct counters_snap prog;
	struct app_stats app, fast;
	struct cpu_times cpu;
	uint64_t run_ns, run_cnt;
};

/* The DUT's threads: the echo apps, and the receive processing: the NAPI
 * kthread (threaded NAPI), else softirq time on CPU 0 (/proc/stat). */
static void take_snap(const struct bench_cell *c, struct ifr_cell *e, struct ifr_snap *s)
{
	pid_t napi = napi_pid(e->t.if_dut);

	counters_snap(e->skel->bss->counters, &s->prog);
	rt_app_read(e->app, &s->app);
	rt_app_read(e->fast_app, &s->fast);
	cpu_times_read(0, &s->cpu);
	s->t_ns = now_ns();
	s->self_ns = task_run_ns(getpid());
	s->dut_ns = task_run_ns(rt_app_pid(e->app)) + task_run_ns(rt_app_pid(e->fast_app));
	if (c->layout == LAYOUT_RX_CPU1)
		s->dut_ns += napi ? task_run_ns(napi) : 0;
	s->dut_task_ns = s->dut_ns;
	if (c->layout != LAYOUT_RX_CPU1)
		s->dut_ns += s->cpu.softirq_ns[0];
	prog_stats(e, &s->run_ns, &s->run_cnt);
}

static double busy_ns(const struct cpu_times *a, const struct cpu_times *b, int cpu)
{
	uint64_t x = a->user_ns[cpu] + a->system_ns[cpu] + a->softirq_ns[cpu];
	uint64_t y = b->user_ns[cpu] + b->system_ns[cpu] + b->softirq_ns[cpu];

	return y > x ? (double)(y - x) : 0;
}

/* User and system time of a CPU: tasks' time (softirq is nobody's). */
static double task_ns(const struct cpu_times *a, const struct cpu_times *b, int cpu)
{
	uint64_t x = a->user_ns[cpu] + a->system_ns[cpu], y = b->user_ns[cpu] + b->system_ns[cpu];

	return y > x ? (double)(y - x) : 0;
}

/* The trial's figures, from the snapshots around it. */
static void trial_figures(struct bench_cell *c, struct ifr_cell *e, const struct ifr_snap *s,
			  bool stats, struct ifr_trial *tr)
{
	uint64_t req;

	for (int f = 0; f < 2; f++)
		ifr_client_flow(e->client, f, &tr->flow[f]);
	req = tr->flow[0].sent + tr->flow[1].sent;
	tr->requests = req;
	for (int k = 0; k < 2; k++)
		tr->cpu_ns_req[k] = req ? busy_ns(&s[0].cpu, &s[1].cpu, k) / (double)req : NAN;
	tr->rx_cpu_ns_req = tr->cpu_ns_req[rx_cpu(c)];
	tr->dut_ns_req = req && s[1].dut_ns > s[0].dut_ns ?
		(double)(s[1].dut_ns - s[0].dut_ns) / (double)req : NAN;
	tr->foreign_pct = (task_ns(&s[0].cpu, &s[1].cpu, 0) + task_ns(&s[0].cpu, &s[1].cpu, 1) -
			   (double)(s[1].dut_task_ns - s[0].dut_task_ns) -
			   (double)(s[1].self_ns - s[0].self_ns))
			  * 100.0 / (2.0 * (double)(s[1].t_ns - s[0].t_ns));
	if (tr->foreign_pct < 0)
		tr->foreign_pct = 0;
	tr->prog_ns_req = stats && req ? (double)(s[1].run_ns - s[0].run_ns) / (double)req : NAN;
	tr->prog_ns_run = stats && s[1].run_cnt > s[0].run_cnt ?
		(double)(s[1].run_ns - s[0].run_ns) / (double)(s[1].run_cnt - s[0].run_cnt) : NAN;
}

/* A kept trial's counts into its arm's totals. */
static void add_totals(struct ifr_arm_total *tot, const struct ifr_trial *tr,
		       const struct ifr_snap *s)
{
	struct cpu_counters d = counters_delta(&s[0].prog, &s[1].prog, NULL);

	tot->ntrials++;
	for (int f = 0; f < 2; f++) {
		struct ifr_flow *a = &tot->flow[f];
		const struct ifr_flow *b = &tr->flow[f];

		a->sent += b->sent;
		a->replies += b->replies;
		a->at_hook += b->at_hook;
		a->by_app += b->by_app;
		a->lost += b->lost;
		a->bad += b->bad;
		a->crossed += b->crossed;
		a->late += b->late;
	}
	tot->prog.packets += d.packets;
	tot->prog.redirected += d.redirected;
	tot->prog.passed += d.passed;
	tot->prog.errors += d.errors;
	tot->prog.bytes += d.bytes;
	tot->app_packets += s[1].app.packets - s[0].app.packets;
	tot->app_sent += s[1].app.sent_packets - s[0].app.sent_packets;
	tot->fast_app_packets += s[1].fast.packets - s[0].fast.packets;
	tot->fast_app_sent += s[1].fast.sent_packets - s[0].fast.sent_packets;
}

/* One window of the client with the arm's setting; snapshots around it. */
static int measure_once(struct bench_cell *c, struct ifr_cell *e, bool offload, uint64_t ms,
			struct ifr_snap *s, bool *stats)
{
	int stats_fd = -1, err = hook_set_attached(e->hi, offload);

	if (err)
		return err;
	if (offload)
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	bench_settle();
	take_snap(c, e, &s[0]);
	err = ifr_client_trial(e->client, ms, fixed_requests);
	bench_settle();
	take_snap(c, e, &s[1]);
	*stats = stats_fd >= 0;
	if (stats_fd >= 0)
		close(stats_fd);
	return err;
}

/* A trial the machine's other work disturbed (IFR_FOREIGN_MAX) is measured
 * again, up to IFR_ATTEMPTS times and half the trials a cell (the run's
 * time); the last one is kept. */
static int interfere_trial(struct bench_cell *c, struct bench_trial *t)
{
	struct ifr_cell *e = c->priv;
	bool offload = t->arm == ARM_MAIN, stats = false;
	int arm = offload ? ARM_MAIN : ARM_REF, err = 0;
	struct ifr_snap s[2];
	struct ifr_trial tr;

	if (t->arm != ARM_MAIN && t->arm != ARM_REF)
		return -EINVAL;
	if (!t->warmup && e->n[arm] >= IFR_MAX_TRIALS)
		return -E2BIG;
	for (int k = 0; k < IFR_ATTEMPTS && !err; k++) {
		err = measure_once(c, e, offload, t->ms, s, &stats);
		if (!err)
			trial_figures(c, e, s, stats, &tr);
		if (err || t->warmup || tr.foreign_pct <= IFR_FOREIGN_MAX ||
		    e->r.retried >= (c->trials + 1) / 2 || k + 1 == IFR_ATTEMPTS)
			break;
		e->r.retried++;
	}
	if (err)
		return err;
	if (!tr.flow[0].replies && !tr.flow[1].replies) {
		pr_warn("bench interfere %s: no replies in a trial\n", c->hook->name);
		return -ETIMEDOUT;
	}
	if (!t->warmup) {
		add_totals(&e->r.arm[arm], &tr, s);
		e->tr[arm][e->n[arm]++] = tr;
		if (offload)
			e->r.stats_on = stats;
	}
	t->v[0] = tr.flow[IFR_FLOW_APP].rate;
	t->v[1] = tr.flow[IFR_FLOW_APP].p50_us;
	t->v[2] = tr.flow[IFR_FLOW_APP].p99_us;
	t->v[3] = tr.flow[IFR_FLOW_FAST].p50_us;
	return 0;
}

static void interfere_teardown(struct bench_cell *c)
{
	struct ifr_cell *e = c->priv;

	ifr_client_free(e->client);
	rt_app_free(e->fast_app);
	rt_app_free(e->app);
	hook_detach(e->hi);
	hook_detach(e->peer);
	interfere__destroy(e->skel);
	topo_down(&e->t);
}

/* ---- report ---------------------------------------------------------------- */

/* Field of each kept trial of an arm, into out; how many. */
static size_t arm_values(const struct ifr_cell *e, int arm, size_t off, double *out)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n[arm]; i++) {
		double v;

		memcpy(&v, (const char *)&e->tr[arm][i] + off, sizeof(v));
		if (!isnan(v))
			out[n++] = v;
	}
	return n;
}

static double median_of(const double *v, size_t n)
{
	struct summary s;

	return n && !summarize(v, n, &s) ? s.median : NAN;
}

#define TR_OFF(field) offsetof(struct ifr_trial, field)

/* Offload and user-space figures of one per-trial field. */
static void arm_pair_figures(struct bench_cell *c, struct ifr_cell *e, const char *metric,
			     const char *unit, const char *what, size_t off, json_t *extra)
{
	double v[IFR_MAX_TRIALS];
	char m[64], method[256];
	size_t n;

	n = arm_values(e, ARM_MAIN, off, v);
	snprintf(method, sizeof(method), "%s, offload at %s (cost %u bpf_loop rounds)", what,
		 c->hook->name, c->cost);
	bench_figure(c, c->variant, metric, unit, method, v, n, extra);
	n = arm_values(e, ARM_REF, off, v);
	snprintf(m, sizeof(m), "%s_user", metric);
	snprintf(method, sizeof(method), "%s, no offload: both flows to udp-echo apps", what);
	bench_figure(c, c->variant, m, unit, method, v, n, NULL);
}

/* ρ: the program's run time per request (all requests) over the user-space
 * path's busy time per request on the same CPU; the rule predicts a gain
 * for the second flow iff ρ < ω. */
struct ifr_rule {
	double rho, omega, prog_ns_req, user_ns_req, offload_ns_req, speedup, lo, hi;
	bool predicts_help, measured_help, significant, holds, known;
	bool cpu_help, cpu_holds;     /* the DUT's run time per request: offload < user */
};

static void rule_eval(struct ifr_cell *e, const struct bench_cell *c, double *speedup, size_t n,
		      struct ifr_rule *r)
{
	double v[IFR_MAX_TRIALS];
	struct summary s = { 0 };

	memset(r, 0, sizeof(*r));
	r->omega = c->pct / 100.0;
	r->prog_ns_req = median_of(v, arm_values(e, ARM_MAIN, TR_OFF(prog_ns_req), v));
	r->user_ns_req = median_of(v, arm_values(e, ARM_REF, TR_OFF(dut_ns_req), v));
	r->offload_ns_req = median_of(v, arm_values(e, ARM_MAIN, TR_OFF(dut_ns_req), v));
	r->rho = r->user_ns_req > 0 ? r->prog_ns_req / r->user_ns_req : NAN;
	summarize(speedup, n, &s);
	r->speedup = n ? s.median : NAN;
	r->lo = s.ci_lo;
	r->hi = s.ci_hi;
	r->known = n && !isnan(r->rho) && !isnan(r->speedup);
	r->predicts_help = r->rho < r->omega;
	/* Helps: the 95 % CI of the paired speedups is above 1. */
	r->measured_help = n && s.ci_lo > 1;
	r->significant = n && (s.ci_lo > 1 || s.ci_hi < 1);
	r->holds = r->known && r->predicts_help == r->measured_help;
	r->cpu_help = r->offload_ns_req < r->user_ns_req;
	r->cpu_holds = r->known && r->predicts_help == r->cpu_help;
}

static json_t *rule_json(const struct ifr_rule *r)
{
	return json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:s, s:b, s:b, s:b, s:b, s:s, s:b, s:b,"
			 " s:b, s:[f,f]}",
		"published_rule", "partial offload helps only if rho < omega (paper sec. 5)",
		"rho", r->rho, "omega", r->omega, "prog_ns_per_request", r->prog_ns_req,
		"dut_ns_per_request_user", r->user_ns_req,
		"dut_ns_per_request_offload", r->offload_ns_req,
		"rho_definition", "program run time per request over all requests (bpf_stats "
		"run_time_ns, +~20 ns accounting a run) / run time per request of the DUT's "
		"threads (echo apps + NAPI kthread, schedstat; app-own-cpu: + CPU 0 softirq "
		"from /proc/stat) without offload",
		"rule_known", r->known, "rule_predicts_help", r->predicts_help,
		"measured_help", r->measured_help, "measured_significant", r->significant,
		"measured_help_definition", "95 % CI of the paired second-flow speedups above 1",
		"rule_holds", r->holds, "dut_cpu_help", r->cpu_help,
		"rule_holds_dut_cpu", r->cpu_holds, "speedup_ci95", r->lo, r->hi);
}

static json_t *arm_total_json(const struct ifr_arm_total *a)
{
	json_t *flows = json_object();

	for (int f = 0; f < 2; f++) {
		const struct ifr_flow *x = &a->flow[f];

		json_object_set_new(flows, f == IFR_FLOW_APP ? "app" : "fast", json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "sent", (json_int_t)x->sent,
			"replies", (json_int_t)x->replies, "made_at_hook", (json_int_t)x->at_hook,
			"made_by_app", (json_int_t)x->by_app, "lost", (json_int_t)x->lost,
			"bad", (json_int_t)x->bad, "crossed", (json_int_t)x->crossed,
			"late", (json_int_t)x->late));
	}
	return json_pack("{s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"trials", (json_int_t)a->ntrials, "flows", flows,
		"prog_packets", (json_int_t)a->prog.packets,
		"prog_replies", (json_int_t)a->prog.redirected,
		"prog_passed", (json_int_t)a->prog.passed, "app_received", (json_int_t)a->app_packets,
		"app_sent", (json_int_t)a->app_sent, "fast_app_received",
		(json_int_t)a->fast_app_packets, "fast_app_sent", (json_int_t)a->fast_app_sent);
}

/* Median over an arm's trials of one field. */
static double arm_median(const struct ifr_cell *e, int arm, size_t off)
{
	double v[IFR_MAX_TRIALS];

	return median_of(v, arm_values(e, arm, off, v));
}

/* Median busy ns per request of each CPU by arm, and the foreign load. */
static json_t *cpu_json(const struct ifr_cell *e)
{
	json_t *o = json_object();

	for (int arm = ARM_MAIN; arm <= ARM_REF; arm++)
		json_object_set_new(o, arm == ARM_MAIN ? "offload" : "user_space", json_pack(
			"[f,f]", arm_median(e, arm, TR_OFF(cpu_ns_req[0])),
			arm_median(e, arm, TR_OFF(cpu_ns_req[1]))));
	return json_pack("{s:o, s:I, s:f, s:s}", "busy_ns_per_request_cpu0_cpu1", o,
			 "trials_measured_again", (json_int_t)e->r.retried,
			 "foreign_busy_pct", arm_median(e, ARM_MAIN, TR_OFF(foreign_pct)),
			 "foreign_busy_what", "% of CPUs 0+1 in user+system time of tasks other "
			 "than the DUT's threads and the client (other work on the machine; softirq "
			 "left out), median of the offload trials");
}

static json_t *cell_json(struct bench_cell *c, struct ifr_cell *e)
{
	json_t *o = json_pack("{s:o, s:s, s:s, s:i, s:i, s:I, s:i, s:o, s:o}",
		"layout", bench_layout_json(c->layout, &e->t), "attach_mode", c->hook->attach_mode,
		"client", "1 thread, gen netns, CPU 0; window of requests in flight, a fraction "
			  "omega to the fast-path port; replies matched by slot and bytes",
		"window", IFR_WINDOW, "fast_port", IFR_FAST_PORT, "payload_bytes",
		(json_int_t)e->r.len, "app_port", GEN_DPORT,
		"offload", arm_total_json(&e->r.arm[ARM_MAIN]),
		"user_space", arm_total_json(&e->r.arm[ARM_REF]));

	json_object_update_new(o, cpu_json(e));
	return o;
}

static json_t *pub_json(double ours)
{
	return json_pack("{s:f, s:s, s:f}", "published", PUB_P50_RATIO,
			 "published_what", "second-flow p50 with / without offload: unrelated echo "
			 "server sharing the queue with BMC, 57.9 -> 89.0 us (paper Fig. 16)",
			 "ratio", ours / PUB_P50_RATIO);
}

static int interfere_report(struct bench_cell *c, const struct bench_series *s)
{
	struct ifr_cell *e = c->priv;
	size_t n = s->n[ARM_MAIN] < s->n[ARM_REF] ? s->n[ARM_MAIN] : s->n[ARM_REF];
	double speedup[BENCH_MAX_TRIALS], lat[BENCH_MAX_TRIALS];
	struct ifr_rule rule;
	json_t *extra;

	if (c->pct >= 100)
		n = 0; /* no second flow */
	for (size_t i = 0; i < n; i++) {
		speedup[i] = s->v[ARM_REF][0][i] > 0 ? s->v[ARM_MAIN][0][i] / s->v[ARM_REF][0][i]
						     : NAN;
		lat[i] = s->v[ARM_MAIN][1][i] / s->v[ARM_REF][1][i];
	}
	rule_eval(e, c, speedup, n, &rule);
	extra = rule_json(&rule);
	json_object_update_new(extra, cell_json(c, e));
	json_object_set_new(extra, "prog_ns_per_run", json_real(arm_median(e, ARM_MAIN,
			    TR_OFF(prog_ns_run))));
	bench_figure(c, c->variant, "app_speedup", "x",
		     "second flow's req/s with offload / without, per pair of trials", speedup, n,
		     extra);
	arm_pair_figures(c, e, "app_rps", "req/s", "second flow's replies per second",
			 TR_OFF(flow[IFR_FLOW_APP].rate), NULL);
	arm_pair_figures(c, e, "app_p50_us", "us", "second flow's p50 round trip",
			 TR_OFF(flow[IFR_FLOW_APP].p50_us),
			 pub_json(median_of(lat, n)));
	arm_pair_figures(c, e, "app_p99_us", "us", "second flow's p99 round trip",
			 TR_OFF(flow[IFR_FLOW_APP].p99_us), NULL);
	if (c->pct) {
		arm_pair_figures(c, e, "fast_p50_us", "us", "fast-path flow's p50 round trip",
				 TR_OFF(flow[IFR_FLOW_FAST].p50_us), NULL);
		arm_pair_figures(c, e, "fast_rps", "req/s", "fast-path flow's replies per second",
				 TR_OFF(flow[IFR_FLOW_FAST].rate), NULL);
	}
	arm_pair_figures(c, e, "dut_ns_req", "ns", "run ns per request (both flows) of the "
			 "DUT's threads: echo apps + NAPI kthread (schedstat; own-cpu: + CPU 0 "
			 "softirq)", TR_OFF(dut_ns_req), NULL);
	if (rule.known)
		pr_info("interfere %s %s: rho %.3f omega %.2f -> predicts %s; second flow x%.3f "
			"[%.3f, %.3f]: rule %s; DUT ns/req %.0f -> %.0f: rule %s\n", c->hook->name,
			c->variant, rule.rho, rule.omega, rule.predicts_help ? "gain" : "no gain",
			rule.speedup, rule.lo, rule.hi, rule.holds ? "holds" : "fails",
			rule.user_ns_req, rule.offload_ns_req, rule.cpu_holds ? "holds" : "fails");
	if (arm_median(e, ARM_MAIN, TR_OFF(foreign_pct)) > IFR_FOREIGN_MAX)
		pr_warn("interfere %s %s: %.0f %% of the CPUs was busy with other work during the "
			"trials: the figures are disturbed\n", c->hook->name, c->variant,
			arm_median(e, ARM_MAIN, TR_OFF(foreign_pct)));
	return 0;
}

static const struct bench bench_interfere = {
	.name = "interfere",
	.summary = "a flow served at the hook vs a second flow to a socket app: rho < omega?",
	.order = 84,
	.latency = true,
	.axes = {
		[AXIS_HOOK] = { "xdp", "xdp" },
		[AXIS_LAYOUT] = { "app-shares-rx-cpu" },
		[AXIS_COST] = { "0,1000,10000", "1000" },
		[AXIS_PCT] = { "0,50,90", "50,90" },
		[AXIS_RUNTIME] = { "netns" },
	},
	.arm_names = { [ARM_MAIN] = "offload", [ARM_REF] = "user space" },
	BENCH_METHODS(interfere, struct ifr_cell),
};
DEFINE_BENCH(bench_interfere);
