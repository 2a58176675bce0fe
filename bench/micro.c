/* BPF_PROG_TEST_RUN microbenchmarks: the frame, the run, the facts. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bench/micro.h"
#include "lib/gen.h"
#include "lib/stats.h"
#include "lib/util.h"
#include "version.h"

int micro_frame(uint8_t *buf, size_t len)
{
	struct gen_frame_spec s = {
		.family = 4, .src_mac = { 0x02, 0, 0, 0, 0, 1 }, .dst_mac = { 0x02, 0, 0, 0, 0, 2 },
		.src_ip = { 198, 18, 0, 1 }, .dst_ip = { 198, 18, 0, 2 },
		.sport = GEN_SPORT_BASE, .dport = GEN_DPORT, .size = (unsigned)len,
	};

	if (len < GEN_MIN_FRAME || len > MICRO_FRAME_MAX)
		return -EINVAL;
	return gen_build_frame(&s, buf, len, NULL);
}

int micro_test_run(int prog_fd, const void *frame, size_t len, uint32_t repeat,
		   struct micro_run *out, char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		int err = -errno;

		snprintf(why, why_len, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		return err;
	}
	out->ns_per_run = opts.duration;
	out->retval = opts.retval;
	return 0;
}

static json_t *sysctl_json(const char *name)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), "/proc/sys/net/core/%s", name);
	if (read_file(path, val, sizeof(val)))
		return json_null();
	return json_integer(strtoll(val, NULL, 10));
}

json_t *micro_prog_facts(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	json_t *o = json_pack("{s:{s:o, s:o, s:o}, s:s, s:s}", "jit",
			      "enable", sysctl_json("bpf_jit_enable"),
			      "harden", sysctl_json("bpf_jit_harden"),
			      "kallsyms", sysctl_json("bpf_jit_kallsyms"),
			      "compiler", OLAB_BPF_CC, "bpf_cflags", OLAB_BPF_CFLAGS);

	if (!bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		json_object_set_new(o, "xlated_bytes", json_integer(info.xlated_prog_len));
		json_object_set_new(o, "jited_bytes", json_integer(info.jited_prog_len));
		json_object_set_new(o, "verified_insns", json_integer(info.verified_insns));
	}
	return o;
}

void micro_snap(const volatile struct micro_loop *l, int prog_fd, struct micro_snap *s)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	s->in_prog_ns = l->in_prog_ns;
	s->runs = l->runs;
	if (!bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		s->run_time_ns = info.run_time_ns;
		s->run_cnt = info.run_cnt;
	}
}

double micro_in_prog_ns(const struct micro_snap *a, const struct micro_snap *b)
{
	return b->runs > a->runs ? (double)(b->in_prog_ns - a->in_prog_ns) /
				   (double)(b->runs - a->runs) : 0;
}

int micro_window_test_run(int prog_fd, const volatile struct micro_loop *l, const void *frame,
			  size_t len, uint32_t repeat, struct micro_snap *a, struct micro_snap *b,
			  double *run_ns, char *why, size_t why_len)
{
	struct micro_run r = { 0 };
	int err;

	micro_snap(l, prog_fd, a);
	err = micro_test_run(prog_fd, frame, len, repeat, &r, why, why_len);
	micro_snap(l, prog_fd, b);
	*run_ns = r.ns_per_run;
	return err;
}

struct live_snaps {
	const volatile struct micro_loop *l;
	int prog_fd;
	struct micro_snap *a, *b;
};

static void live_snap(void *arg, int when)
{
	struct live_snaps *ls = arg;

	if (when < 2)
		micro_snap(ls->l, ls->prog_fd, when == 0 ? ls->a : ls->b);
}

int micro_window_live(const struct bench_cell *c, const struct topo *t,
		      const struct hook_prog *hp, const volatile struct micro_loop *l, uint64_t ms,
		      struct micro_snap *a, struct micro_snap *b, double *run_ns)
{
	struct live_snaps ls = { l, bpf_program__fd(hp->prog), a, b };
	struct hook_inst *hi = NULL;
	struct rt_app *app = NULL;
	struct gen_result r;
	uint64_t win_ns = 0;
	int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	int err = stats_fd < 0 ? -errno : 0;

	if (!err)
		err = hook_attach_prog(c->hook, hp, &t->dut, t->if_dut, &hi);
	if (!err)
		err = bench_cell_app(c, t, APP_TCP_SINK, 1, hi, &app);
	if (!err)
		err = bench_measure(t, GEN_MODE_TCP, 64, ms, live_snap, &ls, &r, &win_ns);
	rt_app_free(app);
	hook_detach(hi);
	if (stats_fd >= 0)
		close(stats_fd);
	*run_ns = b->run_cnt > a->run_cnt ? (double)(b->run_time_ns - a->run_time_ns) /
					    (double)(b->run_cnt - a->run_cnt) : 0;
	if (!err && b->runs == a->runs)
		err = -ENODATA;
	return err;
}

const char *micro_agreement(const double *a, const double *b, size_t n)
{
	struct summary sa, sb;

	if (summarize(a, n, &sa) || summarize(b, n, &sb))
		return "no data";
	return sa.ci_lo <= sb.ci_hi && sb.ci_lo <= sa.ci_hi ? "agree (CIs overlap)" : "differ";
}

#define MICRO_LOG_SIZE (64 * 1024)

char *micro_log_attach(struct bpf_program *prog)
{
	char *log = calloc(1, MICRO_LOG_SIZE);

	if (log && prog)
		bpf_program__set_log_buf(prog, log, MICRO_LOG_SIZE);
	return log;
}

void micro_log_done(char *log, int err, char *why, size_t len)
{
	const char *end, *start;

	if (!err || !log) {
		if (err)
			snprintf(why, len, "%s", strerror(-err));
		free(log);
		return;
	}
	for (end = log + strlen(log);; end = start) {
		while (end > log && end[-1] == '\n')
			end--;
		start = end;
		while (start > log && start[-1] != '\n')
			start--;
		if (start == end || strncmp(start, "processed ", 10))
			break;
	}
	if (start == end)
		snprintf(why, len, "%s", strerror(-err));
	else
		snprintf(why, len, "verifier: %.*s", (int)(end - start), start);
	free(log);
}

static int micro_load(struct bench_cell *c, struct micro_cell *m, int i)
{
	const struct micro_skel_ops *ops = m->ops;
	char *log;
	int err;

	m->arm[i].skel = ops->open();
	if (!m->arm[i].skel)
		return -errno;
	ops->configure(m->arm[i].skel, c, i == 1);
	err = hook_pick_progs(c->hook, ops->obj(m->arm[i].skel), ops->prefix, &m->arm[i].hp);
	if (err)
		return err;
	if (ops->pick)
		ops->pick(m->arm[i].skel, c, i == 1);
	log = micro_log_attach(m->arm[i].hp.prog);
	err = ops->load(m->arm[i].skel);
	micro_log_done(log, err, c->refused, sizeof(c->refused));
	if (!err && ops->sockmap_fd)
		m->arm[i].hp.sockmap_fd = ops->sockmap_fd(m->arm[i].skel);
	return err;
}

int micro_setup(struct bench_cell *c, struct micro_cell *m, const struct micro_skel_ops *ops,
		size_t frame_len)
{
	int err;

	m->ops = ops;
	m->frame_len = frame_len;
	/* What this kernel refuses: the cell records the verifier's reason. */
	if (micro_load(c, m, 1) || micro_load(c, m, 0))
		return 0;
	c->refused[0] = 0;
	m->facts = micro_prog_facts(bpf_program__fd(m->arm[0].hp.prog));
	if (!micro_live(c))
		return micro_frame(m->frame, frame_len);
	err = bench_topo_up(c->layout, &m->t);
	m->topo_up = !err;
	return err;
}

void micro_teardown(struct micro_cell *m)
{
	if (m->topo_up)
		topo_down(&m->t);
	for (int i = 0; i < 2 && m->ops; i++)
		if (m->arm[i].skel)
			m->ops->destroy(m->arm[i].skel);
	json_decref(m->facts);
}

void *micro_skel(const struct micro_cell *m, const struct bench_trial *t)
{
	return m->arm[t->arm == ARM_MAIN ? 0 : 1].skel;
}

int micro_trial(struct bench_cell *c, struct micro_cell *m, struct bench_trial *t,
		uint32_t repeat, double per_run)
{
	int i = t->arm == ARM_MAIN ? 0 : 1, err;
	volatile struct micro_loop *l = m->ops->loop(m->arm[i].skel);
	struct micro_snap a = { 0 }, b = { 0 };
	double run_ns = 0;

	if (micro_live(c))
		err = micro_window_live(c, &m->t, &m->arm[i].hp, l, t->ms, &a, &b, &run_ns);
	else
		err = micro_window_test_run(bpf_program__fd(m->arm[i].hp.prog), l, m->frame,
					    m->frame_len, repeat, &a, &b, &run_ns, t->why,
					    sizeof(t->why));
	if (err)
		return err;
	t->v[0] = run_ns / per_run;
	t->v[1] = micro_in_prog_ns(&a, &b) / per_run;
	t->detail = json_pack("{s:I, s:I}", "runs", (json_int_t)(b.runs - a.runs),
			      micro_live(c) ? "run_cnt" : "repeat",
			      (json_int_t)(micro_live(c) ? b.run_cnt - a.run_cnt : repeat));
	return 0;
}

void micro_plan(struct bench_cell *c, const char *variant)
{
	c->variant = variant;
	c->arms = ARM_BIT(ARM_MAIN) | ARM_BIT(ARM_REF);
	c->pairing = PAIR_ALTERNATE;
	c->compare = CMP_DELTA;
	if (!c->trials)
		c->trials = 5;
	if (!micro_live(c) && !c->duration_ms)
		c->duration_ms = 1; /* a test_run call: the repeat sets the length */
	/* Live windows: bpf_stats over thousands of runs even when short. */
	if (micro_live(c) && !c->duration_ms)
		c->duration_ms = c->quick ? 150 : 300;
}
