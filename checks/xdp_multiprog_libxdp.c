/*
 * xdp-multiprog-libxdp: several XDP programs on one interface through
 * libxdp's dispatcher.  Programs run in run-priority order (lower first); a
 * verdict in a program's chain-call actions (XDP_PASS by default) lets the
 * next one run, any other (XDP_DROP) ends the chain.
 *
 * The dispatcher attaches the programs as freplace extensions.  Where the
 * kernel refuses freplace (EPERM, as it refuses fentry on some kernels),
 * libxdp can only load one program without a dispatcher (legacy mode): the
 * check then skips and says so, it never passes on one program.
 *
 * libxdp keeps its state in bpffs: the work runs in a child with its own
 * mount namespace (/ made rslave, a private bpffs on /sys/fs/bpf), so the
 * root namespace's mounts are never touched.
 */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "checks/check.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/util.h"
#include "bpf/checks.h"
#include "netns/proc.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"

#define PORT        7120
#define NPKT        20
#define CHILD_MS    15000
#define PRIO_FIRST  10
#define PRIO_SECOND 20

/* What the child found, in shared memory. */
struct outcome {
	int done;
	int multi_err;            /* xdp_program__attach_multi of both */
	int single_err;           /* one program, after that failed */
	int legacy;               /* xdp_multiprog__is_legacy, -1 unknown */
	int nprogs;               /* xdp_multiprog__program_count */
	uint64_t pass_first, pass_second;  /* both XDP_PASS */
	uint64_t drop_first, drop_second;  /* first returns XDP_DROP */
	char error[CHECK_REASON_LEN];
	char libxdp_msg[CHECK_REASON_LEN]; /* libxdp's own words on the dispatcher */
};

struct priv {
	struct topo t;
	struct outcome *out;
	bool sabotage;
};

struct prog_side {
	struct bpf_object *obj;
	struct xdp_program *prog;
	struct check_pkt__bss *bss;  /* live, once loaded */
	size_t bss_size;
};

static struct outcome *g_out;

/* Keep libxdp's first word on why the dispatcher failed. */
static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	char line[CHECK_REASON_LEN];
	const char *msg;

	if (level > LIBXDP_INFO || !g_out)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	pr_debug("%s\n", line);
	msg = strncmp(line, "libxdp: ", 8) ? line : line + 8;
	if (!g_out->libxdp_msg[0] && strcasestr(msg, "dispatcher") && strcasestr(msg, "fail"))
		snprintf(g_out->libxdp_msg, sizeof(g_out->libxdp_msg), "%s", msg);
	return 0;
}

/* "EPERM" from a message ending in strerror(EPERM), else NULL. */
static const char *msg_errno(const char *msg)
{
	const char *tail = strrchr(msg, ':');

	for (int e = 1; tail && e < 134; e++)
		if (!strcmp(tail + 2, strerror(e)))
			return check_errname(-e);
	return NULL;
}

static struct bpf_map *bss_map(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		if (bpf_map__is_internal(m) && strstr(bpf_map__name(m), ".bss"))
			return m;
	return NULL;
}

/* One program of its own copy of check_pkt (its own .bss), not loaded yet. */
static int side_open(struct prog_side *s, const char *name, int slot, unsigned prio)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, xo);
	struct check_pkt__bss *init;
	struct bpf_map *map;
	const void *elf, *cur;
	size_t sz;
	int err;

	elf = check_pkt__elf_bytes(&sz);
	s->obj = bpf_object__open_mem(elf, sz, NULL);
	if (!s->obj)
		return -errno;
	/* The flow and a PASS verdict as the .bss's initial value. */
	map = bss_map(s->obj);
	cur = map ? bpf_map__initial_value(map, &sz) : NULL;
	/* the section may end before the struct's tail padding */
	if (!cur || sz < offsetof(struct check_pkt__bss, packets) + sizeof(init->packets) ||
	    sz < offsetof(struct check_pkt__bss, verdict) + sizeof(init->verdict))
		return -ENOENT;
	init = calloc(1, sizeof(*init) > sz ? sizeof(*init) : sz);
	if (!init)
		return -ENOMEM;
	memcpy(init, cur, sz);
	init->flow_port = PORT;
	init->verdict[slot] = XDP_PASS;
	err = bpf_map__set_initial_value(map, init, sz);
	free(init);
	if (err)
		return err;
	s->bss_size = sz;
	xo.obj = s->obj;
	xo.prog_name = name;
	s->prog = xdp_program__create(&xo);
	err = libxdp_get_error(s->prog);
	if (err) {
		s->prog = NULL;
		return err;
	}
	err = xdp_program__set_run_prio(s->prog, prio);
	if (!err)
		err = xdp_program__set_chain_call_enabled(s->prog, XDP_PASS, true);
	return err;
}

/* Map the loaded .bss so verdicts change and counters read live. */
static int side_map(struct prog_side *s)
{
	struct bpf_map *m = bss_map(s->obj);
	void *p;

	if (!m || bpf_map__fd(m) < 0)
		return -ENOENT;
	p = mmap(NULL, s->bss_size, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED)
		return -errno;
	s->bss = p;
	return 0;
}

static void side_close(struct prog_side *s)
{
	if (s->bss)
		munmap(s->bss, s->bss_size);
	if (s->prog)
		xdp_program__close(s->prog);
	else if (s->obj)
		bpf_object__close(s->obj);
}

static int send_flow(struct priv *p, struct prog_side *first, struct prog_side *second,
		     uint64_t *a, uint64_t *b)
{
	uint64_t a0 = first->bss->packets[5], b0 = second->bss->packets[4];

	if (check_udp_send(&p->t.gen, p->t.ip4_dut, 0, PORT, NPKT, 64) != NPKT)
		return -EIO;
	check_settle();
	*a = first->bss->packets[5] - a0;
	*b = second->bss->packets[4] - b0;
	return 0;
}

/* In the child: own mount namespace, in the DUT's network namespace. */
static int child(void *arg)
{
	struct priv *p = arg;
	struct outcome *o = p->out;
	struct prog_side first = { 0 }, second = { 0 };
	struct xdp_program *progs[2];
	struct xdp_multiprog *mp;
	int ifx = p->t.ifindex_dut, err;

	g_out = o;
	o->legacy = -1;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) ||
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		snprintf(o->error, sizeof(o->error), "private bpffs: %s", strerror(errno));
		return 1;
	}
	libxdp_set_print(libxdp_log);
	/* "first" (slot 5) should run first; sabotage swaps the priorities. */
	err = side_open(&first, "xdp_slot5", 5, p->sabotage ? PRIO_SECOND : PRIO_FIRST);
	if (!err)
		err = side_open(&second, "xdp_slot4", 4, p->sabotage ? PRIO_FIRST : PRIO_SECOND);
	if (err) {
		snprintf(o->error, sizeof(o->error), "open the programs: %s", strerror(-err));
		goto out;
	}
	progs[0] = second.prog;
	progs[1] = first.prog;
	o->multi_err = xdp_program__attach_multi(progs, 2, ifx, XDP_MODE_NATIVE, 0);
	if (o->multi_err) {
		/* Does libxdp still manage one program?  Legacy is the fallback. */
		o->single_err = xdp_program__attach(first.prog, ifx, XDP_MODE_NATIVE, 0);
	}
	mp = xdp_multiprog__get_from_ifindex(ifx);
	if (!libxdp_get_error(mp) && mp) {
		o->legacy = xdp_multiprog__is_legacy(mp);
		o->nprogs = xdp_multiprog__program_count(mp);
		if (o->legacy)
			o->nprogs = 1;
		xdp_multiprog__close(mp);
	}
	if (o->multi_err || o->legacy != 0)
		goto detach;
	err = side_map(&first);
	if (!err)
		err = side_map(&second);
	if (!err)
		err = send_flow(p, &first, &second, &o->pass_first, &o->pass_second);
	if (!err) {
		first.bss->verdict[5] = XDP_DROP;
		err = send_flow(p, &first, &second, &o->drop_first, &o->drop_second);
	}
	if (err)
		snprintf(o->error, sizeof(o->error), "traffic: %s", strerror(-err));
detach:
	mp = xdp_multiprog__get_from_ifindex(ifx);
	if (!libxdp_get_error(mp) && mp) {
		xdp_multiprog__detach(mp);
		xdp_multiprog__close(mp);
	}
out:
	side_close(&first);
	side_close(&second);
	o->done = 1;
	return 0;
}

static int setup(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	p->out = mmap(NULL, sizeof(*p->out), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (p->out == MAP_FAILED) {
		p->out = NULL;
		return check_error(ctx, -errno, "shared memory: %s", strerror(errno));
	}
	return check_testbed(ctx, &p->t);
}

static int run(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;
	struct outcome *o = p->out;
	char a[32], b[32];
	struct proc pr;
	int err, st;

	p->sabotage = ctx->sabotage;
	err = proc_spawn(&pr, &p->t.dut, -1, child, p);
	if (err)
		return check_error(ctx, err, "start the libxdp child: %s", strerror(-err));
	st = proc_wait(&pr, CHILD_MS);
	if (st == -ETIMEDOUT)
		proc_kill(&pr);
	if (!o->done)
		return check_error(ctx, -EIO, "libxdp child: %s (exit %d)",
				   o->error[0] ? o->error : "no result", st);
	check_counter(ctx, "libxdp", "attach_multi_errno", -o->multi_err);
	check_counter(ctx, "libxdp", "attach_single_errno", -o->single_err);
	check_counter(ctx, "libxdp", "legacy", o->legacy);
	check_counter(ctx, "libxdp", "programs", o->nprogs);
	if (o->error[0])
		return check_error(ctx, -EIO, "%s", o->error);
	/* A skip only for a fallback seen to happen: one program, legacy mode. */
	if (o->multi_err && o->legacy != 1)
		return check_error(ctx, o->multi_err, "libxdp attach of 2 programs: %s%s%s",
				   check_errname(o->multi_err), o->libxdp_msg[0] ? "; " : "",
				   o->libxdp_msg);
	if (o->legacy == 1) {
		snprintf(ctx->skip, sizeof(ctx->skip),
			 "libxdp fell back to a single program: "
			 "dispatcher load failed: %s%s%.110s%s "
			 "(2 programs: %s; 1 program: %s%s)",
			 msg_errno(o->libxdp_msg) ?: check_errname(o->multi_err),
			 o->libxdp_msg[0] ? " (" : "", o->libxdp_msg, o->libxdp_msg[0] ? ")" : "",
			 check_errname(o->multi_err), check_errname(o->single_err),
			 o->legacy == 1 ? ", legacy" : "");
		check_observe(ctx, "dispatcher", "legacy=yes programs=%d", o->nprogs);
		return 0;
	}
	check_observe(ctx, "dispatcher", "legacy=%s programs=%d", o->legacy ? "unknown" : "no",
		      o->nprogs);
	check_observe(ctx, "chain_pass", "first=%s second=%s",
		      check_share(a, sizeof(a), o->pass_first, NPKT),
		      check_share(b, sizeof(b), o->pass_second, NPKT));
	check_observe(ctx, "first_drops", "first=%s second=%s",
		      check_share(a, sizeof(a), o->drop_first, NPKT),
		      check_share(b, sizeof(b), o->drop_second, NPKT));
	check_counter(ctx, "chain_pass", "first", o->pass_first);
	check_counter(ctx, "chain_pass", "second", o->pass_second);
	check_counter(ctx, "first_drops", "first", o->drop_first);
	check_counter(ctx, "first_drops", "second", o->drop_second);
	return 0;
}

static void teardown(struct check_ctx *ctx)
{
	struct priv *p = ctx->priv;

	if (p->out)
		munmap(p->out, sizeof(*p->out));
}

DEFINE_CHECK(xdp_multiprog_libxdp,
	.name = "xdp-multiprog-libxdp",
	.summary = "libxdp dispatcher: run priority orders the programs, XDP_PASS chains, "
		   "XDP_DROP stops",
	.features = CHECK_FEAT(FEAT_XDP_NATIVE),
	.expected = "dispatcher: legacy=no programs=2; chain_pass: first=all second=all; "
		    "first_drops: first=all second=0",
	.reference = "xdp-tools lib/libxdp/protocol.org (run priority, chain call actions), "
		     "lib/libxdp/xdp-dispatcher.c; kernel/bpf/trampoline.c (freplace)",
	.runc_skip = "runc runtime: no app; libxdp needs bpffs, which the container cannot "
		     "mount (caps-in-container: bpffs=EPERM)",
	CHECK_STEPS(struct priv),
	.teardown = teardown,
	.order = 210);
