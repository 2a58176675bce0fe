/* What the benches measure on: layouts, background traffic, windows. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "bench/testbed.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/link.h"

const char *const bench_layout_names[] = { "app-shares-rx-cpu", "app-own-cpu", NULL };

const char *bench_layout_name(enum bench_layout l)
{
	return (unsigned)l < LAYOUT__COUNT ? bench_layout_names[l] : "?";
}

static int pin_napi(const struct topo *t, int cpu)
{
	int n = link_pin_napi_threads(t->if_dut, cpu);

	if (n == 0)
		n = -ESRCH;
	return n < 0 ? n : 0;
}

int bench_topo_up(enum bench_layout l, struct topo *t)
{
	struct topo_opts o = {
		.mtu = 1500, .gro = 1, .gso = -1, .tso = -1, .rx_cpu = -1,
		.threaded_napi = l == LAYOUT_RX_CPU1,
	};
	int err;

	if (cpu_count() < 2)
		return -EOPNOTSUPP; /* every layout needs two CPUs */
	err = topo_up(&o, t);
	if (err) {
		pr_warn("testbed: %s: %s\n", topo_last_error(), strerror(-err));
		return err;
	}
	/* With tx checksum offload (hence TSO) on, socket traffic from the gen
	 * end skips the DUT veth's NAPI and is processed on the sending CPU, so
	 * the layout would not hold for TCP: every bench sends full checksums. */
	err = link_set_tx_csum(&t->gen, t->if_gen, false);
	if (err) {
		pr_warn("testbed: cannot turn tx checksum offload off on %s: %s\n", t->if_gen,
			strerror(-err));
		topo_down(t);
		return err;
	}
	if (l == LAYOUT_RX_CPU1) {
		err = pin_napi(t, 1);
		if (err) {
			pr_warn("testbed: cannot pin the NAPI thread of %s: %s\n", t->if_dut,
				strerror(-err));
			topo_down(t);
		}
	}
	return err;
}

json_t *bench_layout_json(enum bench_layout l, const struct topo *t)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:i, s:b}", "layout", bench_layout_name(l),
			 "generator_cpu", 0,
			 "rx_processing", l == LAYOUT_RX_CPU1 ? "threaded NAPI pinned to CPU 1"
							      : "softirq on the generator's CPU 0",
			 "dut_if", t->if_dut, "app_cpu", 1, "gen_tx_csum_offload", 0);
}

/* dport above 0xffff: raw frames of EtherType dport >> 16 (bench_traffic_start). */
static int send_port(const struct topo *t, enum gen_mode mode, uint64_t size, uint32_t dport,
		     uint64_t duration_ms, const volatile int *stop, struct gen_result *r)
{
	struct gen_cfg c;

	gen_cfg_init(&c);
	c.size = size;
	c.count = 0;
	c.duration_ns = duration_ms * 1000000ull;
	c.cpus = 1; /* CPU 0 */
	c.threads = 1;
	c.nflows = mode == GEN_MODE_TCP ? 4 : 1;
	c.dport = dport & 0xffff;
	c.ethertype = dport >> 16;
	c.stop = stop;
	return gen_run(t, mode, &c, r);
}

void bench_settle(void)
{
	sleep_ns(30 * 1000000ull);
}

struct bench_traffic {
	const struct topo *t;
	enum gen_mode mode;
	uint32_t dport;
	uint64_t size, ms;
	struct gen_result *r;
	volatile int stop;
	int err;
	pthread_t th;
};

static void *traffic_main(void *arg)
{
	struct bench_traffic *tr = arg;

	tr->err = send_port(tr->t, tr->mode, tr->size, tr->dport, tr->ms, &tr->stop, tr->r);
	return NULL;
}

static int traffic_start(struct bench_traffic *tr)
{
	return -pthread_create(&tr->th, NULL, traffic_main, tr);
}

/* Wait for the generator; 0 when every sending thread covered [t0, t1],
 * -EAGAIN when one did not (the machine was too busy to keep to the plan). */
static int traffic_join(struct bench_traffic *tr, uint64_t t0, uint64_t t1)
{
	const struct gen_result *r = tr->r;

	pthread_join(tr->th, NULL);
	if (tr->err || !t1)
		return tr->err;
	for (unsigned i = 0; i < r->nthreads; i++) {
		if (!r->thr[i].start_ns || r->thr[i].start_ns > t0 || r->thr[i].end_ns < t1) {
			pr_debug("bench: the generator did not send through the whole measurement "
				 "window (it sent %.3f..%.3f s, the window was %.3f..%.3f s%s)\n",
				 r->thr[i].start_ns / 1e9, r->thr[i].end_ns / 1e9, t0 / 1e9,
				 t1 / 1e9, r->timed_out ? "; it hit its time limit" : "");
			return -EAGAIN;
		}
	}
	return 0;
}

int bench_traffic_start(const struct topo *t, uint64_t size, uint16_t ethertype, uint64_t max_ms,
			struct gen_result *r, struct bench_traffic **out)
{
	struct bench_traffic *tr = calloc(1, sizeof(*tr));
	int err;

	*out = NULL;
	if (!tr)
		return -ENOMEM;
	*tr = (struct bench_traffic){ .t = t, .mode = GEN_MODE_LIVE, .size = size, .r = r,
				      .dport = (uint32_t)ethertype << 16 | GEN_DPORT, .ms = max_ms };
	err = traffic_start(tr);
	if (err) {
		free(tr);
		return err;
	}
	*out = tr;
	return 0;
}

int bench_traffic_stop(struct bench_traffic *tr, uint64_t t0, uint64_t t1)
{
	int err;

	__atomic_store_n(&tr->stop, 1, __ATOMIC_RELEASE);
	err = traffic_join(tr, t0, t1);
	free(tr);
	if (err == -EAGAIN) {
		pr_warn("bench: the generator did not send through the whole stream\n");
		err = -EIO;
	}
	return err;
}

#define LEAD_MS (100 * time_scale()) /* program load, connections, queues filling; x10 in a TCG guest */
#define TAIL_MS (50 * time_scale())

static int measure(const struct topo *t, enum gen_mode mode, uint64_t size, uint32_t dport,
		   uint64_t window_ms, bench_snap_fn snap, void *arg, struct gen_result *r,
		   uint64_t *window_ns)
{
	struct bench_traffic tr = { .t = t, .mode = mode, .size = size, .r = r, .dport = dport,
				    .ms = LEAD_MS + window_ms + TAIL_MS };
	uint64_t t0, t1;
	int err;

	err = traffic_start(&tr);
	if (err)
		return err;
	sleep_ns(LEAD_MS * 1000000ull);
	t0 = now_ns();
	snap(arg, 0);
	run_sleep_ns(window_ms * 1000000ull);
	snap(arg, 1);
	t1 = now_ns();
	err = traffic_join(&tr, t0, t1);
	bench_settle();
	snap(arg, 2);
	*window_ns = t1 - t0;
	return err;
}

/* A window the generator did not cover is measured again (a busy machine
 * can delay the window past the traffic), at most MEASURE_TRIES times. */
#define MEASURE_TRIES 3
int bench_measure(const struct topo *t, enum gen_mode mode, uint64_t size, uint64_t window_ms,
		  bench_snap_fn snap, void *arg, struct gen_result *r, uint64_t *window_ns)
{
	int err = -EAGAIN;

	for (int i = 0; i < MEASURE_TRIES && err == -EAGAIN && !run_stopping(); i++) {
		memset(r, 0, sizeof(*r));
		err = measure(t, mode, size, GEN_DPORT, window_ms, snap, arg, r, window_ns);
	}
	if (run_stopping())
		return -EINTR;
	if (err == -EAGAIN) {
		pr_warn("bench: the generator did not send through the whole measurement window "
			"%d times in a row (the machine is too busy)\n", MEASURE_TRIES);
		err = -EIO;
	}
	return err;
}
