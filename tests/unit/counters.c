#include <linux/types.h>
#include "lib/counters.h"
#include "tests/test.h"

OLAB_TEST(counters_delta_and_busiest)
{
	static struct cpu_counters live[OLAB_MAX_CPUS];
	static struct counters_snap a, b;
	uint64_t per[OLAB_MAX_CPUS];
	struct cpu_counters d;

	live[0].packets = 10;
	live[1].packets = 5;
	counters_snap(live, &a);
	live[0].packets += 3;
	live[1].packets += 7;
	live[1].dropped += 7;
	live[1].bytes += 448;
	counters_snap(live, &b);
	d = counters_delta(&a, &b, per);
	ASSERT_EQ(d.packets, 10, "summed delta");
	ASSERT_EQ(d.dropped, 7, "dropped delta");
	ASSERT_EQ(d.bytes, 448, "bytes delta");
	ASSERT_EQ(per[0], 3, "cpu0");
	ASSERT_EQ(per[1], 7, "cpu1");
	ASSERT_EQ(counters_busiest_cpu(&a, &b), 1, "busiest cpu");
	ASSERT_EQ(counters_busiest_cpu(&b, &b), -1, "no work");
	ASSERT_GE(b.t_ns, a.t_ns, "monotonic timestamps");
}
