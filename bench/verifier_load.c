/*
 * The verifier study's loads: libbpf loads a built parser with the
 * verifier's statistics log (log_level 4; a rejected one again with
 * log_level 1 for the instructions before the verdict), under a time limit,
 * then the program's sizes and, timed, ns per real request by
 * BPF_PROG_TEST_RUN.  vf_try() puts build and load together, cached.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "bench/micro.h"
#include "bench/verifier.h"
#include "bench/verifier_internal.h"
#include "lib/run.h"
#include "lib/util.h"

/* Allocated lazily by the kernel's writes: room for the verifier's rewinds. */
#define STATS_LOG_SIZE (16 * 1024 * 1024)
#define TRACE_LOG_SIZE (1024 * 1024)
/* A rejected program is loaded again for the instructions before the
 * verdict only when the first try was cheap (level 1 costs several times). */
#define TRACE_MAX_INSNS 200000
#define REASON_LINES 3

/* ---- the time limit ---- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

int vf_timer_init(struct vf_ctx *ctx)
{
	struct sigaction sa = { .sa_handler = on_alarm };   /* no SA_RESTART */
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };

	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &ctx->old_alrm))
		return -errno;
	if (timer_create(CLOCK_MONOTONIC, &ev, &ctx->timer)) {
		int err = -errno;

		sigaction(SIGALRM, &ctx->old_alrm, NULL);
		return err;
	}
	ctx->timer_ok = true;
	return 0;
}

void vf_timer_fini(struct vf_ctx *ctx)
{
	if (!ctx->timer_ok)
		return;
	timer_delete(ctx->timer);
	sigaction(SIGALRM, &ctx->old_alrm, NULL);
	ctx->timer_ok = false;
}

/* Fire after ms, then every 20 ms: the verifier stops at a pending signal
 * (-EAGAIN), and libbpf's retries of the load stop too.  ms 0: disarm. */
static void timer_arm(struct vf_ctx *ctx, uint64_t ms)
{
	struct itimerspec its = { 0 };

	if (ms) {
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
		its.it_interval.tv_nsec = 20 * 1000000L;
	}
	if (ctx->timer_ok)
		timer_settime(ctx->timer, 0, &its, NULL);
}

/* ---- the log ---- */

static bool stats_line(const char *line)
{
	return !strncmp(line, "processed ", 10) || !strncmp(line, "verification time ", 18) ||
	       !strncmp(line, "stack depth ", 12);
}

static void parse_stats_line(const char *line, struct vf_outcome *o)
{
	unsigned long long v;
	uint32_t lim;

	if (sscanf(line, "verification time %llu usec", &v) == 1) {
		o->verify_usec = v;
	} else if (!strncmp(line, "stack depth ", 12)) {
		snprintf(o->stack_depth, sizeof(o->stack_depth), "%.24s", line + 12);
	} else if (sscanf(line, "processed %llu insns (limit %" SCNu32 ") max_states_per_insn %"
			  SCNu32 " total_states %" SCNu32 " peak_states %" SCNu32 " mark_read %"
			  SCNu32, &v, &lim, &o->max_states_per_insn, &o->total_states,
			  &o->peak_states, &o->mark_read) >= 1) {
		o->processed_insns = v;
		o->have_stats = true;
	}
}

void vf_log_parse(const char *log, struct vf_outcome *o, char *reason, size_t len, int lines)
{
	const char *p = log, *keep[8];
	int n = 0;

	if (lines > 8)
		lines = 8;
	while (*p) {
		size_t l = strcspn(p, "\n");
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (stats_line(line)) {
			parse_stats_line(line, o);
		} else if (l) {
			if (n == lines) {
				memmove(keep, keep + 1, sizeof(keep[0]) * (size_t)(lines - 1));
				n--;
			}
			keep[n++] = p;
		}
		p += l + (p[l] == '\n');
	}
	if (!reason)
		return;
	reason[0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t used = strlen(reason);

		snprintf(reason + used, len - used, "%s%.*s", i ? " | " : "",
			 (int)strcspn(keep[i], "\n"), keep[i]);
	}
}

/* ---- one load ---- */

struct loaded {
	struct bpf_object *obj;
	struct bpf_program *prog;
	char *log;
};

static void unload(struct loaded *l)
{
	bpf_object__close(l->obj);
	free(l->log);
	*l = (struct loaded){ 0 };
}

/* libbpf's first warning during a load (a map it could not create...):
 * the reason when the verifier said nothing. */
static libbpf_print_fn_t chained;
static char libbpf_warning[256];

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list copy;
	int n = 0;

	if (level == LIBBPF_WARN && !libbpf_warning[0]) {
		va_copy(copy, ap);
		vsnprintf(libbpf_warning, sizeof(libbpf_warning), fmt, copy);
		va_end(copy);
		libbpf_warning[strcspn(libbpf_warning, "\n")] = '\0';
		if (strstr(libbpf_warning, "Retrying"))         /* not the failure yet */
			libbpf_warning[0] = '\0';
	}
	if (chained)
		n = chained(level, fmt, ap);
	return n;
}

/* Open obj and load it with log level (0: no log); 0 or -errno (load
 * failure: -errno of the load, the log in l->log; o->reason says why it
 * could not try). */
static int load_once(struct vf_ctx *ctx, const char *obj, int parser, unsigned level,
		     size_t log_size, struct loaded *l, struct vf_outcome *o)
{
	uint64_t t0;
	int err, fired;

	l->obj = bpf_object__open_file(obj, NULL);
	if (!l->obj) {
		err = -errno;
		snprintf(o->reason, sizeof(o->reason), "libbpf cannot open the object: %s",
			 strerror(-err));
		return err;
	}
	l->prog = bpf_object__find_program_by_name(l->obj, vf_parsers[parser].prog);
	l->log = calloc(1, log_size);
	if (!l->prog || !l->log) {
		snprintf(o->reason, sizeof(o->reason), "%s", l->log ? "no program of that name"
			 : strerror(ENOMEM));
		return l->log ? -ENOENT : -ENOMEM;
	}
	o->obj_insns = (uint32_t)bpf_program__insn_cnt(l->prog);
	if (level) {
		bpf_program__set_log_buf(l->prog, l->log, log_size);
		bpf_program__set_log_level(l->prog, level);
	}
	libbpf_warning[0] = '\0';
	chained = libbpf_set_print(capture_print);
	fired = alarms;
	t0 = now_ns();
	timer_arm(ctx, ctx->lim.load_ms);
	err = bpf_object__load(l->obj);
	timer_arm(ctx, 0);
	o->load_ms = (double)(now_ns() - t0) / 1e6;
	libbpf_set_print(chained);
	o->timed_out = err && alarms != fired;
	ctx->n_loads++;
	return err;
}

static void prog_sizes(int fd, struct vf_outcome *o)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	o->verified_insns = info.verified_insns;
	o->xlated_bytes = info.xlated_prog_len;
	o->jited_bytes = info.jited_prog_len;
}

/* Why a load failed: the verifier's last lines, again with the trace of
 * instructions when that is cheap; libbpf's warning when the verifier did
 * not run. */
static void rejected(struct vf_ctx *ctx, const char *obj, int parser, int err, struct loaded *l,
		     struct vf_outcome *o)
{
	struct vf_outcome again = { 0 };
	struct loaded t = { 0 };
	char warning[256];

	snprintf(warning, sizeof(warning), "%s", libbpf_warning);
	o->stage = VF_LOAD;
	vf_log_parse(l->log, o, o->reason, sizeof(o->reason), 1);
	if (o->timed_out) {
		snprintf(o->reason, sizeof(o->reason), "load over its time limit (%llu ms)",
			 (unsigned long long)ctx->lim.load_ms);
		return;
	}
	if (!o->reason[0] && warning[0])
		snprintf(o->reason, sizeof(o->reason), "%s%s",
			 strncmp(warning, "libbpf: ", 8) ? "libbpf: " : "", warning);
	else if (!o->reason[0])
		snprintf(o->reason, sizeof(o->reason), "load failed: %s", strerror(-err));
	if (!o->have_stats || o->processed_insns > TRACE_MAX_INSNS || run_stopping())
		return;
	if (load_once(ctx, obj, parser, 1 | 4, TRACE_LOG_SIZE, &t, &again) && !again.timed_out)
		vf_log_parse(t.log, &again, o->reason, sizeof(o->reason), REASON_LINES);
	unload(&t);
}

/*
 * The verdict.  The statistics need log_level 4, and the kernel fails a
 * load with ENOSPC when its log ever outgrew the buffer, even if what is
 * left in it at the end is short (it rewinds the log over paths it drops):
 * then the program is loaded again without a log for the verdict, and the
 * statistics are the level-4 log's (the same verification).
 */
static int verdict(struct vf_ctx *ctx, const char *obj, int parser, struct loaded *l,
		   struct vf_outcome *o)
{
	struct loaded quiet = { 0 };
	struct vf_outcome q = { 0 };
	int err = load_once(ctx, obj, parser, 4, STATS_LOG_SIZE, l, o);

	if (err != -ENOSPC || o->timed_out)
		return err;
	o->log_overflow = true;
	err = load_once(ctx, obj, parser, 0, 1, &quiet, &q);
	if (err) {
		o->timed_out = q.timed_out;
		unload(&quiet);
		return err;
	}
	vf_log_parse(l->log, o, NULL, 0, 0);
	unload(l);
	*l = quiet;
	return 0;
}

int vf_load(struct vf_ctx *ctx, const char *obj, int parser, bool timed, struct vf_outcome *o)
{
	struct loaded l = { 0 };
	int err = verdict(ctx, obj, parser, &l, o);

	if (err && !l.log) {
		o->stage = VF_LOAD;
		unload(&l);
		return err == -ENOMEM ? err : 0;
	}
	if (err) {
		rejected(ctx, obj, parser, err, &l, o);
	} else {
		o->stage = VF_LOADED;
		if (!o->log_overflow)
			vf_log_parse(l.log, o, NULL, 0, 0);
		prog_sizes(bpf_program__fd(l.prog), o);
		if (timed)
			err = vf_time_samples(ctx, bpf_program__fd(l.prog), parser, o);
	}
	unload(&l);
	return err == -EINTR || err == -ENOMEM ? err : 0;
}
