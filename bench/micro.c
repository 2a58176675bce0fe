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
