/*
 * The sending loop shared by the three generators (lib/gen_live.c,
 * lib/gen_send.c): one thread per CPU, started together, each calling the
 * mode's send function, paced or not, until its count, the duration, a stop
 * or the time limit.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "lib/gen_internal.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/netns.h"

#define TCP_DRAIN_NS      1000000000ull

static void thr_loop(struct gen_thr *th)
{
	const struct gen_cfg *c = th->g->c;
	uint64_t t0 = now_ns(), end = t0 + gen_timeout_ns(c), dur_end = UINT64_MAX;
	unsigned burst = th->rate ? gen_pace_burst(th->rate, th->g->chunk) : th->g->chunk;
	int err = 0;

	if (c->duration_ns)
		dur_end = t0 + c->duration_ns;
	th->st.start_ns = t0;
	for (;;) {
		uint64_t now = now_ns(), n = th->g->chunk;

		if (th->target && th->issued >= th->target)
			break;
		if (run_stopping()) {
			th->interrupted = true;
			break;
		}
		if (now >= dur_end || (c->stop && __atomic_load_n(c->stop, __ATOMIC_ACQUIRE)))
			break;
		if (now >= end) {
			th->timed_out = true;
			break;
		}
		if (th->target && n > th->target - th->issued)
			n = th->target - th->issued;
		if (th->rate) {
			uint64_t want = th->issued + (burst < n ? burst : n);
			uint64_t due_at = t0 + gen_pace_time(th->rate, want - 1), due;

			if (due_at > now) {
				uint64_t lim = dur_end < end ? dur_end : end;

				sleep_ns((due_at < lim ? due_at : lim) - now);
				continue;
			}
			due = gen_pace_due(th->rate, now - t0);
			if (n > due - th->issued)
				n = due - th->issued;
		}
		err = th->g->send(th, n);
		if (err)
			break;
	}
	/* TCP: finish the requests in flight, without starting new ones. */
	if (!err && th->g->mode == GEN_MODE_TCP) {
		uint64_t stop = now_ns() + TCP_DRAIN_NS;

		while (th->inflight && now_ns() < stop && !run_stopping() && !err)
			err = th->g->send(th, 0);
	}
	th->st.end_ns = now_ns();
	if (err == -EINTR)
		th->interrupted = true;
	else if (err)
		th->err = err;
}

static void *thr_main(void *arg)
{
	struct gen_thr *th = arg;
	struct nstoken *tok = NULL;
	int err = 0;

	/* live: test_run resolves ingress_ifindex in the caller's namespace */
	tok = netns_enter(&th->g->t->gen);
	if (!tok)
		err = -errno;
	if (!err)
		err = pin_thread_cpu(th->cpu);
	if (err)
		th->st.cpu = -1;
	pthread_mutex_lock(&th->g->lock);
	while (!th->g->gate)
		pthread_cond_wait(&th->g->cond, &th->g->lock);
	if (th->g->gate < 0 && !err)
		err = -ECANCELED;
	pthread_mutex_unlock(&th->g->lock);
	if (err) {
		th->err = err;
		goto out;
	}
	thr_loop(th);
	if (sched_getcpu() != th->cpu)
		pr_warn("gen: thread %u ran on CPU %d, not %d\n", th->idx, sched_getcpu(), th->cpu);
out:
	netns_leave(tok);
	return NULL;
}

static int thr_setup(struct gen_ctx *g, struct gen_thr *th, unsigned i)
{
	const struct gen_cfg *c = g->c;

	th->g = g;
	th->idx = i;
	th->cpu = gen_thread_cpu(gen_cfg_cpus(c), i);
	th->st.cpu = th->cpu;
	th->target = gen_split(c->count, g->nthr, i);
	th->rate = gen_split(c->rate_pps, g->nthr, i);
	if (c->rate_pps && !th->rate)
		th->rate = 1;
	if (th->cpu < 0 || th->cpu >= OLAB_MAX_CPUS)
		return -EINVAL;

	switch (g->mode) {
	case GEN_MODE_LIVE:
		th->md.ingress_ifindex = g->t->ifindex_gen;
		th->md.data_end = g->frame_len;
		th->topts = (struct bpf_test_run_opts){
			.sz = sizeof(th->topts),
			.data_in = g->frame,
			.data_size_in = g->frame_len,
			.ctx_in = &th->md,
			.ctx_size_in = sizeof(th->md),
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = c->batch ? c->batch : GEN_LIVE_BATCH,
		};
		break;
	case GEN_MODE_UDP:
		th->msgs = calloc(g->chunk, sizeof(*th->msgs));
		if (!th->msgs)
			return -ENOMEM;
		for (unsigned k = 0; k < g->chunk; k++) {
			th->msgs[k].msg_hdr.msg_iov = &g->iov;
			th->msgs[k].msg_hdr.msg_iovlen = 1;
		}
		break;
	case GEN_MODE_TCP:
		/* Connections i, i + n, ... */
		th->conns = calloc(g->nfds, sizeof(*th->conns));
		th->pfds = calloc(g->nfds, sizeof(*th->pfds));
		if (!th->conns || !th->pfds)
			return -ENOMEM;
		for (unsigned k = i; k < g->nfds; k += g->nthr)
			th->conns[th->nconns++].fd = g->fds[k];
		break;
	}
	return 0;
}

/* Threads with a zero count share are not started (count < threads). */
int gen_run_threads(struct gen_ctx *g, struct gen_result *r)
{
	const struct gen_cfg *c = g->c;
	struct gen_thr *thr;
	pthread_t tids[GEN_MAX_THREADS];
	unsigned started = 0;
	uint64_t first = UINT64_MAX, last = 0;
	int err = 0;

	g->nthr = gen_cfg_threads(c);
	if (c->count && c->count < g->nthr)
		g->nthr = (unsigned)c->count;
	thr = calloc(g->nthr, sizeof(*thr));
	if (!thr)
		return -ENOMEM;
	for (unsigned i = 0; i < g->nthr && !err; i++)
		err = thr_setup(g, &thr[i], i);
	if (err)
		goto out;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->gate = 0;
	for (; started < g->nthr; started++) {
		err = -pthread_create(&tids[started], NULL, thr_main, &thr[started]);
		if (err) {
			pr_warn("gen: cannot start thread %u: %s\n", started, strerror(-err));
			break;
		}
	}
	pthread_mutex_lock(&g->lock);
	g->gate = err ? -1 : 1;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
	for (unsigned i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	if (err)
		goto out;

	r->nthreads = g->nthr;
	for (unsigned i = 0; i < g->nthr; i++) {
		struct gen_thr *th = &thr[i];

		r->thr[i] = th->st;
		r->sent += th->st.sent;
		r->bytes += th->st.bytes;
		r->errors += th->st.errors;
		r->timed_out |= th->timed_out;
		r->interrupted |= th->interrupted;
		if (th->st.start_ns && th->st.start_ns < first)
			first = th->st.start_ns;
		if (th->st.end_ns > last)
			last = th->st.end_ns;
		if (th->err && !err) {
			err = th->err;
			pr_warn("gen: thread %u on CPU %d: %s\n", i, th->cpu, strerror(-err));
		}
	}
	r->elapsed_ns = last > first ? last - first : 0;
	r->pps = r->elapsed_ns ? (double)r->sent * NSEC / r->elapsed_ns : 0;
out:
	for (unsigned i = 0; i < g->nthr; i++) {
		free(thr[i].msgs);
		free(thr[i].conns);
		free(thr[i].pfds);
	}
	free(thr);
	return err;
}

void gen_result_init(struct gen_result *r, enum gen_mode mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
}

int gen_check_cfg(const struct gen_cfg *c, enum gen_mode mode)
{
	char why[160];
	int err = gen_cfg_check(c, mode, why, sizeof(why));

	if (err)
		pr_warn("gen: %s\n", why);
	return err;
}
