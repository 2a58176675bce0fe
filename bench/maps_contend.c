/* bench maps: one program run on both CPUs at once (bench/maps_kit.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include "bench/maps_kit.h"
#include "bench/micro.h"

struct contender {
	int prog_fd, cpu;
	const void *frame;
	size_t len;
	uint32_t repeat;
	pthread_barrier_t *start;
	struct micro_run run;
	int err;
	char why[128];
};

static void *contender_main(void *arg)
{
	struct contender *w = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	w->err = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(w->start);
	if (!w->err)
		w->err = micro_test_run(w->prog_fd, w->frame, w->len, w->repeat, &w->run, w->why,
					sizeof(w->why));
	else
		snprintf(w->why, sizeof(w->why), "CPU %d: %s", w->cpu, strerror(-w->err));
	return NULL;
}

int maps_contend_window(int prog_fd, const void *frame, size_t len, uint32_t repeat,
			double run_ns[2], char *why, size_t why_len)
{
	struct contender w[2];
	pthread_barrier_t start;
	pthread_t th[2];
	int started = 0, err = 0;

	if (pthread_barrier_init(&start, NULL, 2))
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		w[i] = (struct contender){ .prog_fd = prog_fd, .cpu = i, .frame = frame, .len = len,
					   .repeat = repeat, .start = &start };
		if (pthread_create(&th[i], NULL, contender_main, &w[i]))
			break;
		started++;
	}
	if (started < 2) {
		/* The barrier waits for two: release the one thread that started. */
		if (started)
			pthread_barrier_wait(&start);
		err = -EAGAIN;
		snprintf(why, why_len, "cannot start the second thread");
	}
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (int i = 0; i < started && !err; i++) {
		err = w[i].err;
		if (err)
			snprintf(why, why_len, "%s", w[i].why);
		run_ns[i] = w[i].run.ns_per_run;
	}
	return err;
}
