/*
 * The live-frames generator (see lib/gen.h): bpf/gen.bpf.c's gen_xdp run
 * with BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES by the sending loop's
 * threads; the gen veth's xdp_xmit_errors (ethtool -S) are read around the run.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lib/gen_internal.h"
#include "lib/log.h"
#include "lib/run.h"
#include "netns/link.h"
#include "netns/netns.h"
#include "gen.skel.h"

#define LIVE_CHUNK        (1u << 16)  /* test_run repeat per call, unpaced */

static int live_send(struct gen_thr *th, uint64_t n)
{
	const volatile struct cpu_counters *cnt = &th->g->skel->bss->gen_cnt[th->cpu];
	uint64_t p0 = cnt->packets, b0 = cnt->bytes, got;
	int err;

	th->topts.repeat = (int)(n > LIVE_CHUNK ? LIVE_CHUNK : n);
	err = bpf_prog_test_run_opts(bpf_program__fd(th->g->skel->progs.gen_xdp), &th->topts);
	th->st.calls++;
	got = cnt->packets - p0;
	th->st.sent += got;
	th->st.bytes += cnt->bytes - b0;
	th->issued += got;
	if (!err)
		return 0;
	th->st.errors++;
	if (err == -ENOMEM || err == -EAGAIN || (err == -EINTR && !run_stopping()))
		return 0;
	return err;
}

/*
 * test_run adds the program to the XDP dispatcher and removes it afterwards,
 * with a synchronize_rcu() each time unless it is already there.  Attaching
 * it to lo of the gen namespace (generic XDP; the program passes anything
 * not from test_run) keeps it there and makes a call cost microseconds
 * instead of tens of milliseconds.  Best effort: NULL if it cannot.
 */
static struct bpf_link *dispatcher_pin(struct gen_ctx *g)
{
	struct bpf_link *link;
	struct nstoken *tok;
	int lo;

	tok = netns_enter(&g->t->gen);
	if (!tok)
		return NULL;
	lo = if_nametoindex("lo");
	link = lo ? bpf_program__attach_xdp(g->skel->progs.gen_xdp, lo) : NULL;
	if (!link)
		pr_warn("gen: cannot attach the generator to lo (%s): "
			"every test_run call will wait for RCU\n", strerror(errno));
	netns_leave(tok);
	return link;
}

int gen_live_run(const struct topo *t, const struct gen_cfg *c, struct gen_result *r)
{
	struct gen_ctx g = { .t = t, .c = c, .mode = GEN_MODE_LIVE, .send = live_send };
	struct gen_frame_spec spec;
	uint64_t x0 = 0, x1 = 0;
	uint32_t partial;
	bool have_x0;
	int err;

	gen_result_init(r, GEN_MODE_LIVE);
	err = gen_check_cfg(c, GEN_MODE_LIVE);
	if (err)
		return err;
	err = gen_frame_spec_topo(t, c->family, c->size, c->dport, &spec);
	if (!err)
		err = gen_build_frame(&spec, g.frame, sizeof(g.frame), &partial);
	if (err)
		goto cleanup;
	g.frame_len = c->size;
	if (c->ethertype) {
		g.frame[12] = c->ethertype >> 8;
		g.frame[13] = c->ethertype & 0xff;
	}
	g.chunk = LIVE_CHUNK;

	g.skel = gen__open();
	if (!g.skel) {
		err = -errno;
		goto cleanup;
	}
	g.skel->rodata->gen_family = c->family;
	g.skel->rodata->gen_nflows = c->nflows ? c->nflows : 1;
	g.skel->rodata->gen_csum_partial = partial;
	g.skel->rodata->gen_ifindex = t->ifindex_gen;
	bpf_program__set_autoload(g.skel->progs.sink_xdp, false);
	err = gen__load(g.skel);
	if (err) {
		pr_warn("gen: cannot load the generator program: %s\n", strerror(-err));
		goto cleanup;
	}
	g.pin_link = dispatcher_pin(&g);
	have_x0 = !link_ethtool_stat_sum(&t->gen, t->if_gen, "xdp_xmit_errors", &x0);
	err = gen_run_threads(&g, r);
	if (have_x0 && !link_ethtool_stat_sum(&t->gen, t->if_gen, "xdp_xmit_errors", &x1))
		r->xmit_errors = x1 - x0;
	if (err == -EINVAL || err == -EOPNOTSUPP)
		pr_warn("gen: live frames failed (kernel without BPF_F_TEST_XDP_LIVE_FRAMES, "
			"or no XDP on the peer?)\n");
cleanup:
	bpf_link__destroy(g.pin_link);
	gen__destroy(g.skel);
	return err;
}
