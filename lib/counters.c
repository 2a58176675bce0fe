#include <string.h>
#include "lib/counters.h"
#include "lib/util.h"

void counters_snap(const volatile struct cpu_counters *live, struct counters_snap *out)
{
	out->t_ns = now_ns();
	for (int c = 0; c < OLAB_MAX_CPUS; c++) {
		out->cpu[c].packets = live[c].packets;
		out->cpu[c].bytes = live[c].bytes;
		out->cpu[c].dropped = live[c].dropped;
		out->cpu[c].passed = live[c].passed;
		out->cpu[c].redirected = live[c].redirected;
		out->cpu[c].errors = live[c].errors;
	}
}

struct cpu_counters counters_delta(const struct counters_snap *a, const struct counters_snap *b,
				   uint64_t per_cpu_packets[OLAB_MAX_CPUS])
{
	struct cpu_counters d;

	memset(&d, 0, sizeof(d));
	for (int c = 0; c < OLAB_MAX_CPUS; c++) {
		d.packets += b->cpu[c].packets - a->cpu[c].packets;
		d.bytes += b->cpu[c].bytes - a->cpu[c].bytes;
		d.dropped += b->cpu[c].dropped - a->cpu[c].dropped;
		d.passed += b->cpu[c].passed - a->cpu[c].passed;
		d.redirected += b->cpu[c].redirected - a->cpu[c].redirected;
		d.errors += b->cpu[c].errors - a->cpu[c].errors;
		if (per_cpu_packets)
			per_cpu_packets[c] = b->cpu[c].packets - a->cpu[c].packets;
	}
	return d;
}

int counters_busiest_cpu(const struct counters_snap *a, const struct counters_snap *b)
{
	uint64_t best = 0;
	int cpu = -1;

	for (int c = 0; c < OLAB_MAX_CPUS; c++) {
		uint64_t n = b->cpu[c].packets - a->cpu[c].packets;

		if (n > best) {
			best = n;
			cpu = c;
		}
	}
	return cpu;
}
