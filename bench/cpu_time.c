/* CPU time per request: /proc/stat per CPU and a task's schedstat. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "bench/cpu_time.h"

static uint64_t ticks_ns(unsigned long long ticks)
{
	static long hz;

	if (!hz)
		hz = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
	return (uint64_t)ticks * (1000000000ull / (uint64_t)hz);
}

uint64_t task_run_ns(pid_t pid)
{
	char path[64], line[128];
	struct dirent *d;
	uint64_t sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		unsigned long long run;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && sscanf(line, "%llu", &run) == 1)
			sum += run;
		fclose(f);
	}
	closedir(dir);
	return sum;
}

int cpu_times_read(pid_t pid, struct cpu_times *out)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	char line[512];
	FILE *f;
	int cpu;

	memset(out, 0, sizeof(*out));
	f = fopen("/proc/stat", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice,
			   &sys, &idle, &iowait, &irq, &softirq) != 8 ||
		    cpu < 0 || cpu >= OLAB_MAX_CPUS)
			continue;
		out->user_ns[cpu] = ticks_ns(user + nice);
		out->system_ns[cpu] = ticks_ns(sys + irq);
		out->softirq_ns[cpu] = ticks_ns(softirq);
		if (cpu + 1 > out->ncpu)
			out->ncpu = cpu + 1;
	}
	fclose(f);
	out->task_ns = pid > 0 ? task_run_ns(pid) : 0;
	return out->ncpu ? 0 : -ENOENT;
}

static double per(uint64_t a, uint64_t b, uint64_t requests)
{
	double d = b >= a ? (double)(b - a) : 0;

	return requests ? d / (double)requests : d;
}

json_t *cpu_times_per_request(const struct cpu_times *a, const struct cpu_times *b,
			      uint64_t requests)
{
	json_t *o = json_object();
	char key[16];

	for (int c = 0; c < b->ncpu && c < OLAB_MAX_CPUS; c++) {
		snprintf(key, sizeof(key), "cpu%d", c);
		json_object_set_new(o, key, json_pack("{s:f, s:f, s:f}",
			"user_ns", per(a->user_ns[c], b->user_ns[c], requests),
			"system_ns", per(a->system_ns[c], b->system_ns[c], requests),
			"softirq_ns", per(a->softirq_ns[c], b->softirq_ns[c], requests)));
	}
	json_object_set_new(o, "task_ns", json_real(per(a->task_ns, b->task_ns, requests)));
	json_object_set_new(o, "unit", json_string(requests ? "ns per request" : "ns"));
	return o;
}
