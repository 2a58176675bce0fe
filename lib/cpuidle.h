/*
 * CPU idle control for latency figures.  On a guest whose cpuidle driver is
 * haltpoll, waking an idle vCPU costs tens of microseconds, more than the
 * hooks being measured.  Holding /dev/cpu_dma_latency open at 0 (what tuned's
 * latency-performance profile does) keeps every CPU in the POLL state; the
 * kernel drops the request when the fd closes, on any exit, SIGKILL included.
 */
#ifndef OLAB_CPUIDLE_H
#define OLAB_CPUIDLE_H
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define CPUIDLE_DMA_LATENCY "/dev/cpu_dma_latency"
#define CPUIDLE_MAX_STATES  10

/* Option values: index into cpuidle_mode_names; CPUIDLE_UNSET: the caller's default. */
enum cpuidle_mode { CPUIDLE_UNSET = -1, CPUIDLE_POLL = 0, CPUIDLE_DEFAULT = 1 };
extern const char *const cpuidle_mode_names[]; /* "poll", "default", NULL */

struct cpuidle_state_desc {
	char name[32];
	char desc[64];
	uint64_t exit_latency_us;
	uint64_t residency_us;
	bool disabled;
};

struct cpuidle_info {
	char driver[32];            /* "" when the machine has no cpuidle */
	char governor[32];
	int nstates;
	struct cpuidle_state_desc state[CPUIDLE_MAX_STATES]; /* CPU 0's */
	bool dma_latency_writable;
	char dma_latency_reason[128]; /* why not, when not */
};

/* Entries into each idle state, summed over the online CPUs. */
struct cpuidle_usage {
	int nstates;
	uint64_t entries[CPUIDLE_MAX_STATES];
};

void cpuidle_info_read(struct cpuidle_info *ci);
json_t *cpuidle_info_json(const struct cpuidle_info *ci);

/*
 * Hold (poll) or release (default) the process's latency request.  Never
 * fails the caller: when the file is missing or not writable it says so in
 * one line (once) and records why.  Forked children close their copy.
 */
void cpuidle_set(enum cpuidle_mode m);
/* m, or dflt when m is CPUIDLE_UNSET. */
enum cpuidle_mode cpuidle_resolve(int m, enum cpuidle_mode dflt);
/* {"mode", "in_effect", "driver", "how", "reason"?}: what
 * the figures measured now were measured under. */
json_t *cpuidle_config_json(void);
enum cpuidle_mode cpuidle_current(void);
bool cpuidle_in_effect(void);

void cpuidle_usage_read(struct cpuidle_usage *u);
/* {"<state>": entries b - a, ...}: proof of which states the CPUs used. */
json_t *cpuidle_usage_delta_json(const struct cpuidle_usage *a, const struct cpuidle_usage *b);

#endif
