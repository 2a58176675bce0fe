#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/cpuidle.h"
#include "lib/log.h"
#include "lib/util.h"

#define CPUIDLE_SYS "/sys/devices/system/cpu/cpuidle"
#define CPU_SYS     "/sys/devices/system/cpu"

const char *const cpuidle_mode_names[] = { "poll", "default", NULL };

static struct {
	int fd;                     /* held request, -1: none */
	enum cpuidle_mode mode;
	bool atfork_set, warned;
	char reason[160];           /* why poll is not in effect */
} hold = { .fd = -1, .mode = CPUIDLE_DEFAULT };

/* The latency file; OLAB_CPU_DMA_LATENCY names another one (tests of the refusal path). */
static const char *dma_latency_path(void)
{
	const char *p = getenv("OLAB_CPU_DMA_LATENCY");

	return p && p[0] ? p : CPUIDLE_DMA_LATENCY;
}

static void read_trimmed(const char *path, char *buf, size_t len)
{
	if (read_file(path, buf, len))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static uint64_t read_u64(const char *path)
{
	char buf[32];

	read_trimmed(path, buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

/* CPU idle state k of cpu: its sysfs directory. */
static void state_dir(char *buf, size_t len, int cpu, int k)
{
	snprintf(buf, len, CPU_SYS "/cpu%d/cpuidle/state%d", cpu, k);
}

static int probe_dma_latency(char *why, size_t len)
{
	int fd = open(dma_latency_path(), O_WRONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "%s: %s", dma_latency_path(), strerror(errno));
		return -errno;
	}
	close(fd);
	why[0] = '\0';
	return 0;
}

void cpuidle_info_read(struct cpuidle_info *ci)
{
	char dir[128], path[160];

	memset(ci, 0, sizeof(*ci));
	read_trimmed(CPUIDLE_SYS "/current_driver", ci->driver, sizeof(ci->driver));
	read_trimmed(CPUIDLE_SYS "/current_governor", ci->governor, sizeof(ci->governor));
	if (!ci->governor[0])
		read_trimmed(CPUIDLE_SYS "/current_governor_ro", ci->governor, sizeof(ci->governor));
	for (int k = 0; k < CPUIDLE_MAX_STATES; k++) {
		struct cpuidle_state_desc *s = &ci->state[k];

		state_dir(dir, sizeof(dir), 0, k);
		snprintf(path, sizeof(path), "%s/name", dir);
		read_trimmed(path, s->name, sizeof(s->name));
		if (!s->name[0])
			break;
		snprintf(path, sizeof(path), "%s/desc", dir);
		read_trimmed(path, s->desc, sizeof(s->desc));
		snprintf(path, sizeof(path), "%s/latency", dir);
		s->exit_latency_us = read_u64(path);
		snprintf(path, sizeof(path), "%s/residency", dir);
		s->residency_us = read_u64(path);
		snprintf(path, sizeof(path), "%s/disable", dir);
		s->disabled = read_u64(path) != 0;
		ci->nstates++;
	}
	ci->dma_latency_writable = !probe_dma_latency(ci->dma_latency_reason,
						      sizeof(ci->dma_latency_reason));
}

json_t *cpuidle_info_json(const struct cpuidle_info *ci)
{
	json_t *states = json_array();

	for (int k = 0; k < ci->nstates; k++) {
		const struct cpuidle_state_desc *s = &ci->state[k];

		json_array_append_new(states, json_pack("{s:s, s:s, s:I, s:I, s:b}",
			"name", s->name, "desc", s->desc,
			"exit_latency_us", (json_int_t)s->exit_latency_us,
			"target_residency_us", (json_int_t)s->residency_us, "disabled", s->disabled));
	}
	return json_pack("{s:s?, s:s?, s:o, s:b, s:s}",
			 "driver", ci->driver[0] ? ci->driver : NULL,
			 "governor", ci->governor[0] ? ci->governor : NULL, "states", states,
			 "cpu_dma_latency_writable", ci->dma_latency_writable,
			 "cpu_dma_latency_reason", ci->dma_latency_reason);
}

/* A forked child must not keep the parent's request alive. */
static void close_in_child(void)
{
	close_fd(hold.fd);
	hold.fd = -1;
}

static int hold_poll(void)
{
	int32_t zero = 0;
	int fd = open(dma_latency_path(), O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, &zero, sizeof(zero)) != sizeof(zero)) {
		int err = -errno;

		close(fd);
		return err ? err : -EIO;
	}
	hold.fd = fd;
	return 0;
}

void cpuidle_set(enum cpuidle_mode m)
{
	int err;

	if (m == CPUIDLE_UNSET)
		m = CPUIDLE_DEFAULT;
	hold.mode = m;
	if (m == CPUIDLE_DEFAULT) {
		close_in_child();
		hold.reason[0] = '\0';
		return;
	}
	if (hold.fd >= 0)
		return;
	if (!hold.atfork_set && !pthread_atfork(NULL, NULL, close_in_child))
		hold.atfork_set = true;
	err = hold_poll();
	if (!err) {
		hold.reason[0] = '\0';
		return;
	}
	snprintf(hold.reason, sizeof(hold.reason), "%s: %s (CPUs may enter deep idle states)",
		 dma_latency_path(), strerror(-err));
	if (!hold.warned)
		pr_warn("offloadlab: --cpu-idle poll not in effect: %s\n", hold.reason);
	hold.warned = true;
}

enum cpuidle_mode cpuidle_resolve(int m, enum cpuidle_mode dflt)
{
	return m == CPUIDLE_POLL || m == CPUIDLE_DEFAULT ? (enum cpuidle_mode)m : dflt;
}

enum cpuidle_mode cpuidle_current(void)
{
	return hold.mode;
}

bool cpuidle_in_effect(void)
{
	return hold.mode == CPUIDLE_DEFAULT || hold.fd >= 0;
}

json_t *cpuidle_config_json(void)
{
	char driver[32];
	bool poll = hold.mode == CPUIDLE_POLL;

	read_trimmed(CPUIDLE_SYS "/current_driver", driver, sizeof(driver));
	return json_pack("{s:s, s:b, s:s?, s:s, s:s?}", "mode", cpuidle_mode_names[hold.mode],
			 "in_effect", cpuidle_in_effect(), "driver", driver[0] ? driver : NULL,
			 "how", poll ? CPUIDLE_DMA_LATENCY " held open at 0 for the run"
				     : "no latency request from this run",
			 "reason", hold.reason[0] ? hold.reason : NULL);
}

void cpuidle_usage_read(struct cpuidle_usage *u)
{
	char dir[128], path[160];
	int ncpu = cpu_count();

	memset(u, 0, sizeof(*u));
	for (int k = 0; k < CPUIDLE_MAX_STATES; k++) {
		state_dir(dir, sizeof(dir), 0, k);
		if (access(dir, F_OK))
			break;
		for (int cpu = 0; cpu < ncpu; cpu++) {
			state_dir(dir, sizeof(dir), cpu, k);
			snprintf(path, sizeof(path), "%s/usage", dir);
			u->entries[k] += read_u64(path);
		}
		u->nstates = k + 1;
	}
}

json_t *cpuidle_usage_delta_json(const struct cpuidle_usage *a, const struct cpuidle_usage *b)
{
	json_t *o = json_object();
	char path[160], name[32];

	for (int k = 0; k < a->nstates && k < b->nstates; k++) {
		snprintf(path, sizeof(path), CPU_SYS "/cpu0/cpuidle/state%d/name", k);
		read_trimmed(path, name, sizeof(name));
		json_object_set_new(o, name[0] ? name : "?",
				    json_integer((json_int_t)(b->entries[k] - a->entries[k])));
	}
	return o;
}
