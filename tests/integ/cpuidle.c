/* CPU idle control: the latency request is held, dropped, never inherited,
 * released by the kernel when the holder is SIGKILLed, and env reports it. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "lib/cpuidle.h"
#include "lib/util.h"
#include "tests/test.h"

/* The machine's current CPU latency limit in us (reading the file gives it), -1: unreadable. */
static int64_t latency_limit(void)
{
	int32_t v;
	int fd = open(CPUIDLE_DMA_LATENCY, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, &v, sizeof(v)) : -1;

	close_fd(fd);
	return n == sizeof(v) ? v : -1;
}

static bool usable(void)
{
	struct cpuidle_info ci;

	cpuidle_info_read(&ci);
	if (!ci.dma_latency_writable || latency_limit() < 0) {
		test_skip("%s", ci.dma_latency_reason[0] ? ci.dma_latency_reason
							: "cpu_dma_latency unreadable");
		return false;
	}
	if (latency_limit() == 0) {
		test_skip("another process already holds cpu_dma_latency at 0");
		return false;
	}
	return true;
}

/* Wait (bounded) until the limit is no longer 0. */
static bool limit_released(void)
{
	for (int i = 0; i < 300; i++) {
		if (latency_limit() != 0)
			return true;
		sleep_ns(10 * 1000 * 1000);
	}
	return false;
}

OLAB_TEST(cpuidle_hold_and_release)
{
	struct cpuidle_usage a, b;
	json_t *j;

	if (!usable())
		return;
	cpuidle_set(CPUIDLE_POLL);
	ASSERT_EQ(latency_limit(), 0, "poll holds the limit at 0");
	ASSERT_TRUE(cpuidle_in_effect(), "in effect");
	j = cpuidle_config_json();
	ASSERT_STREQ(json_string_value(json_object_get(j, "mode")), "poll", "mode recorded");
	ASSERT_TRUE(json_is_true(json_object_get(j, "in_effect")), "in_effect recorded");
	json_decref(j);
	/* While held, an idle CPU enters no state but POLL (state 0); whether
	 * it idles at all depends on the machine's load, so only that is asserted. */
	cpuidle_usage_read(&a);
	sleep_ns(200 * 1000 * 1000);
	cpuidle_usage_read(&b);
	for (int k = 1; k < a.nstates; k++)
		ASSERT_EQ(b.entries[k] - a.entries[k], 0, "no deeper idle state entered");
	cpuidle_set(CPUIDLE_POLL);
	ASSERT_EQ(latency_limit(), 0, "set twice: still held");
	cpuidle_set(CPUIDLE_DEFAULT);
	ASSERT_TRUE(limit_released(), "default releases it");
	j = cpuidle_config_json();
	ASSERT_STREQ(json_string_value(json_object_get(j, "mode")), "default", "mode recorded");
	json_decref(j);
}

/* A child that (poll: after taking the limit itself) waits to be killed. */
static pid_t fork_waiting_child(bool poll)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (poll)
			cpuidle_set(CPUIDLE_POLL);
		pause();
		_exit(0);
	}
	ASSERT_GT(pid, 0, "fork");
	return pid;
}

OLAB_TEST(cpuidle_child_does_not_keep_it)
{
	pid_t pid;
	int st;

	if (!usable())
		return;
	cpuidle_set(CPUIDLE_POLL);
	pid = fork_waiting_child(false);
	if (pid <= 0)
		goto out;
	cpuidle_set(CPUIDLE_DEFAULT);
	ASSERT_TRUE(limit_released(), "released while a forked child still runs");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
out:
	cpuidle_set(CPUIDLE_DEFAULT);
}

OLAB_TEST(cpuidle_sigkill_releases)
{
	pid_t pid;
	int st;

	if (!usable())
		return;
	pid = fork_waiting_child(true);
	if (pid <= 0)
		return;
	for (int i = 0; i < 300 && latency_limit() != 0; i++)
		sleep_ns(10 * 1000 * 1000);
	ASSERT_EQ(latency_limit(), 0, "the child holds it");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	ASSERT_TRUE(limit_released(), "SIGKILL releases it");
}

OLAB_TEST(cpuidle_env_reports_states)
{
	struct cpuidle_info ci;
	json_t *j;

	cpuidle_info_read(&ci);
	j = cpuidle_info_json(&ci);
	ASSERT_TRUE(json_is_array(json_object_get(j, "states")), "states array");
	ASSERT_EQ(json_array_size(json_object_get(j, "states")), ci.nstates, "every state");
	ASSERT_TRUE(json_is_boolean(json_object_get(j, "cpu_dma_latency_writable")), "writable");
	if (ci.driver[0])
		ASSERT_GT(ci.nstates, 0, "a driver has states");
	for (int k = 0; k < ci.nstates; k++)
		ASSERT_TRUE(ci.state[k].name[0], "each state named");
	json_decref(j);
}
