/*
 * The feature probes and their table (lib/features_internal.h): each proves
 * one feature by attaching for real and checking that the program ran.
 * Adding a feature: an enum feature_id entry, a probe here and its row.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/bpf_compat.h"
#include "lib/features_internal.h"
#include "lib/log.h"
#include "lib/util.h"

static int probe_xdp_mode(struct probe_env *env, struct probe *skel, __u32 flags, __u8 want_mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err, fd;
	__u32 id = 0;

	fd = bpf_program__fd(skel->progs.xdp_pass);
	err = bpf_xdp_attach(env->if0, fd, flags, NULL);
	if (probe_fails_at(env, err, "attach to veth"))
		return err;
	err = bpf_xdp_query(env->if0, 0, &q);
	if (!err)
		err = probe_prog_id(fd, &id);
	if (probe_fails_at(env, err, "query attachment"))
		return err;
	if (q.attach_mode != want_mode || (want_mode == XDP_ATTACHED_DRV ? q.drv_prog_id :
					   q.skb_prog_id) != id) {
		env->where = "attached in another mode than asked";
		return -EOPNOTSUPP;
	}
	err = probe_kick_until_hit(env, skel, offsetof(struct probe__bss, xdp_hits));
	bpf_xdp_detach(env->if0, flags, NULL);
	return err;
}

static int probe_xdp_native(struct probe_env *env, struct probe *skel)
{
	return probe_xdp_mode(env, skel, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			      XDP_ATTACHED_DRV);
}

static int probe_xdp_generic(struct probe_env *env, struct probe *skel)
{
	return probe_xdp_mode(env, skel, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			      XDP_ATTACHED_SKB);
}

static int probe_xdp_live_frames(struct probe_env *env, struct probe *skel)
{
	struct xdp_md ctx = { .data_end = PROBE_FRAME_LEN, .ingress_ifindex = env->if0 };
	__u8 frame[PROBE_FRAME_LEN];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 8,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	__u64 hits;
	int err;

	probe_build_udp_frame(frame);
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_drop), &opts);
	if (probe_fails_at(env, err, "BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES"))
		return err;
	hits = BSS(skel, xdp_hits);
	if (hits != 8) {
		pr_debug("xdp_live_frames: program ran %llu times, expected 8\n",
			 (unsigned long long)hits);
		env->where = "the program did not run once per frame";
		err = -ENODATA;
	}
	return err;
}

static int probe_tc_clsact(struct probe_env *env, struct probe *skel)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = env->if0, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	LIBBPF_OPTS(bpf_tc_opts, q);
	__u32 id = 0;
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		env->where = "create clsact qdisc";
		return err;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.tc_pass);
	err = bpf_tc_attach(&hook, &opts);
	if (probe_fails_at(env, err, "attach cls_bpf filter"))
		return err;
	q.handle = opts.handle;
	q.priority = opts.priority;
	err = bpf_tc_query(&hook, &q);
	if (!err)
		err = probe_prog_id(opts.prog_fd, &id);
	if (!err && q.prog_id != id)
		err = -ENOENT;
	if (probe_fails_at(env, err, "query the filter"))
		return err;
	err = probe_kick_until_hit(env, skel, offsetof(struct probe__bss, tc_hits));
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	return err;
}

static int probe_tcx(struct probe_env *env, struct probe *skel)
{
	struct olab_link_info info;
	__u32 ids[4] = { 0 }, lids[4] = { 0 }, cnt = 4, id = 0;
	int err, fd, link = -1;

	fd = bpf_program__fd(skel->progs.tcx_pass);
	link = tcx_link_create(fd, env->if0, BPF_TCX_INGRESS, 0, 0, 0);
	if (link < 0) {
		err = link;
		env->where = "BPF_LINK_CREATE at BPF_TCX_INGRESS";
		goto cleanup;
	}
	err = olab_link_get_info(link, &info);
	if (!err && info.type != BPF_LINK_TYPE_TCX)
		err = -EPROTO;
	if (probe_fails_at(env, err, "link info"))
		goto cleanup;
	err = tcx_query(env->if0, BPF_TCX_INGRESS, ids, lids, &cnt, NULL);
	if (!err)
		err = probe_prog_id(fd, &id);
	if (!err && (cnt != 1 || ids[0] != id || lids[0] != info.id))
		err = -ENOENT;
	if (probe_fails_at(env, err, "BPF_PROG_QUERY at BPF_TCX_INGRESS"))
		goto cleanup;
	err = probe_kick_until_hit(env, skel, offsetof(struct probe__bss, tcx_hits));
cleanup:
	close_fd(link);
	return err;
}

/* libbpf 1.1 does not know SEC("netfilter"): typed by hand before the load. */
static void netfilter_before_load(struct probe *skel)
{
	bpf_program__set_type(skel->progs.nf_accept, BPF_PROG_TYPE_NETFILTER);
	bpf_program__set_expected_attach_type(skel->progs.nf_accept, BPF_NETFILTER);
}

static int probe_netfilter_link(struct probe_env *env, struct probe *skel)
{
	struct olab_link_info info;
	int err, link = -1;

	link = netfilter_link_create(bpf_program__fd(skel->progs.nf_accept), NFPROTO_IPV4, NF_INET_LOCAL_IN, -128, 0);
	if (link < 0) {
		err = link;
		env->where = "BPF_LINK_CREATE at NF_INET_LOCAL_IN";
		goto cleanup;
	}
	err = olab_link_get_info(link, &info);
	if (!err && (info.type != BPF_LINK_TYPE_NETFILTER ||
		     info.netfilter.hooknum != NF_INET_LOCAL_IN))
		err = -EPROTO;
	if (probe_fails_at(env, err, "link info"))
		goto cleanup;
	err = probe_udp_roundtrip();
	if (probe_fails_at(env, err, "UDP over lo with the hook attached"))
		goto cleanup;
	if (!BSS(skel, nf_hits)) {
		env->where = "attached, but no packet reached the program";
		err = -ENODATA;
	}
cleanup:
	close_fd(link);
	return err;
}

/*
 * Attach progs (with their attach types) to map, put both
 * ends of a TCP pair over lo in it and check bytes still flow through.
 */
static int sockmap_roundtrip(struct probe_env *env, struct bpf_map *map,
			     struct bpf_program *const *progs, const enum bpf_attach_type *types,
			     int nprogs)
{
	int err, c = -1, s = -1, map_fd = bpf_map__fd(map);
	__u32 k0 = 0, k1 = 1;

	for (int i = 0; i < nprogs; i++) {
		err = bpf_prog_attach(bpf_program__fd(progs[i]), map_fd, types[i], 0);
		if (probe_fails_at(env, err, "attach to the map"))
			return err;
	}
	err = probe_tcp_pair(&c, &s);
	if (probe_fails_at(env, err, "TCP connection over lo"))
		goto cleanup;
	err = bpf_map_update_elem(map_fd, &k0, &s, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(map_fd, &k1, &c, BPF_ANY);
	if (probe_fails_at(env, err, "insert a connected TCP socket"))
		goto cleanup;
	if (send(c, "olab", 4, 0) != 4) {
		err = -errno;
		env->where = "send through the map";
		goto cleanup;
	}
	err = probe_recv_expect(s, "olab", 4, 1000);
	if (err)
		env->where = "receive through the map";
cleanup:
	close_fd(c);
	close_fd(s);
	return err;
}

/* The roundtrip, then the counter at hits_off must have moved. */
static int sockmap_probe(struct probe_env *env, struct probe *skel, struct bpf_map *map,
			 struct bpf_program *const *progs, const enum bpf_attach_type *types,
			 int nprogs, size_t hits_off, const char *not_run)
{
	int err = sockmap_roundtrip(env, map, progs, types, nprogs);

	if (!err && !probe_bss_get(skel, hits_off)) {
		env->where = not_run;
		err = -ENODATA;
	}
	return err;
}

static int probe_sk_skb_verdict(struct probe_env *env, struct probe *skel)
{
	return sockmap_probe(env, skel, skel->maps.sock_map,
			     (struct bpf_program *[]){ skel->progs.skb_verdict },
			     (enum bpf_attach_type[]){ BPF_SK_SKB_STREAM_VERDICT }, 1,
			     offsetof(struct probe__bss, verdict_hits), "the verdict program did not run");
}

/* A parser only runs with a verdict program beside it. */
static int probe_sk_skb_parser(struct probe_env *env, struct probe *skel)
{
	return sockmap_probe(env, skel, skel->maps.sock_map,
			     (struct bpf_program *[]){ skel->progs.skb_parser, skel->progs.skb_verdict },
			     (enum bpf_attach_type[]){ BPF_SK_SKB_STREAM_PARSER,
						       BPF_SK_SKB_STREAM_VERDICT }, 2,
			     offsetof(struct probe__bss, parser_hits), "the parser program did not run");
}

static int probe_sk_msg(struct probe_env *env, struct probe *skel)
{
	return sockmap_probe(env, skel, skel->maps.sock_hash,
			     (struct bpf_program *[]){ skel->progs.msg_verdict },
			     (enum bpf_attach_type[]){ BPF_SK_MSG_VERDICT }, 1,
			     offsetof(struct probe__bss, msg_hits), "the sk_msg program did not run");
}

/* The child joins the throwaway cgroup so its sockets are charged to it. */
static int probe_cgroup_skb(struct probe_env *env, struct probe *skel)
{
	char procs[600];
	int err, cg_fd, link_fd;

	cg_fd = open(env->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		env->where = "open the cgroup";
		return -errno;
	}
	/* A link: it dies with its fd, never left on a cgroup by a killed probe. */
	link_fd = bpf_link_create(bpf_program__fd(skel->progs.cg_ingress), cg_fd,
				  BPF_CGROUP_INET_INGRESS, NULL);
	if (link_fd < 0) {
		err = link_fd;
		env->where = "attach to the cgroup (link)";
		goto cleanup;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", env->cgroup);
	err = write_file(procs, "0");
	if (probe_fails_at(env, err, "join the cgroup"))
		goto detach;
	err = probe_udp_roundtrip();
	if (err)
		env->where = "UDP over lo inside the cgroup";
	else if (!BSS(skel, cg_hits)) {
		env->where = "attached, but no packet reached the program";
		err = -ENODATA;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", env->cgroup_root);
	write_file(procs, "0");
detach:
	close(link_fd);
cleanup:
	close(cg_fd);
	return err;
}

static int probe_fentry(struct probe_env *env, struct probe *skel)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct bpf_link *link = NULL;
	int err;

	link = bpf_program__attach(skel->progs.fentry_probe);
	if (!link) {
		err = -errno;
		env->where = "attach";
		goto cleanup;
	}
	/* Test runs of a tracing program call bpf_fentry_test1(). */
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fentry_probe), &opts);
	if (probe_fails_at(env, err, "trigger through BPF_PROG_TEST_RUN"))
		goto cleanup;
	if (!BSS(skel, fentry_hits)) {
		env->where = "attached, but the program did not run";
		err = -ENODATA;
	}
cleanup:
	bpf_link__destroy(link);
	return err;
}

static int rb_sample(void *ctx, void *data, size_t len)
{
	if (len == sizeof(__u64))
		*(__u64 *)ctx = *(__u64 *)data;
	return 0;
}

static int probe_ringbuf(struct probe_env *env, struct probe *skel)
{
	struct ring_buffer *rb = NULL;
	__u64 got = 0;
	int err;

	rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), rb_sample, &got, NULL);
	if (!rb) {
		err = -errno;
		env->where = "map the ring buffer";
		goto cleanup;
	}
	err = probe_xdp_test_run(env, bpf_program__fd(skel->progs.rb_output), 1, NULL);
	if (err)
		goto cleanup;
	err = ring_buffer__poll(rb, 500);
	if (err < 0) {
		env->where = "poll the ring buffer";
		goto cleanup;
	}
	err = 0;
	if (got != PROBE_RB_MAGIC) {
		env->where = "the record did not arrive";
		err = -ENODATA;
	}
cleanup:
	ring_buffer__free(rb);
	return err;
}

static int probe_user_ringbuf(struct probe_env *env, struct probe *skel)
{
	struct user_ring_buffer *urb = NULL;
	__u64 *sample;
	int err;

	urb = user_ring_buffer__new(bpf_map__fd(skel->maps.urb), NULL);
	if (!urb) {
		err = -errno;
		env->where = "map the user ring buffer";
		goto cleanup;
	}
	sample = user_ring_buffer__reserve(urb, sizeof(*sample));
	if (!sample) {
		err = -errno;
		env->where = "reserve a sample";
		goto cleanup;
	}
	*sample = PROBE_RB_MAGIC;
	user_ring_buffer__submit(urb, sample);
	err = probe_xdp_test_run(env, bpf_program__fd(skel->progs.urb_drain), 1, NULL);
	if (err)
		goto cleanup;
	if (BSS(skel, urb_samples) != 1 || BSS(skel, urb_sum) != PROBE_RB_MAGIC) {
		env->where = "the program did not drain the sample";
		err = -ENODATA;
	}
cleanup:
	user_ring_buffer__free(urb);
	return err;
}

static int probe_mmapable_array(struct probe_env *env, struct probe *skel)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	size_t sz = (size_t)sysconf(_SC_PAGESIZE);
	__u32 n = sz / sizeof(__u64), key = n - 1;
	__u64 *mem = MAP_FAILED, val = 0;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "olab_mmap", sizeof(__u32), sizeof(__u64), n, &opts);
	if (fd < 0) {
		env->where = "create a BPF_F_MMAPABLE array";
		return fd;
	}
	mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		env->where = "mmap";
		goto cleanup;
	}
	mem[key] = PROBE_RB_MAGIC;
	err = bpf_map_lookup_elem(fd, &key, &val);
	if (probe_fails_at(env, err, "lookup"))
		goto cleanup;
	if (val != PROBE_RB_MAGIC) {
		env->where = "a store through mmap is not seen by lookup";
		err = -EBADMSG;
	}
cleanup:
	if (mem != MAP_FAILED)
		munmap(mem, sz);
	close(fd);
	return err;
}

static int probe_bpf_loop(struct probe_env *env, struct probe *skel)
{
	__u32 ret = 0;
	int err;

	err = probe_xdp_test_run(env, bpf_program__fd(skel->progs.loop_prog), 1, &ret);
	if (err)
		return err;
	if (ret != XDP_PASS || BSS(skel, loop_sum) != PROBE_LOOP_N * (PROBE_LOOP_N - 1) / 2) {
		env->where = "the callback did not run the expected number of times";
		err = -EBADMSG;
	}
	return err;
}

static int probe_spin_lock(struct probe_env *env, struct probe *skel)
{
	struct { __u32 lock; __u32 pad; __u64 cnt; } val = { 0 };
	__u32 key = 0;
	int err;

	err = probe_xdp_test_run(env, bpf_program__fd(skel->progs.lock_prog), 10, NULL);
	if (err)
		return err;
	err = bpf_map__lookup_elem(skel->maps.lock_map, &key, sizeof(key), &val, sizeof(val),
				   BPF_F_LOCK);
	if (probe_fails_at(env, err, "lookup with BPF_F_LOCK"))
		return err;
	if (val.cnt != 10) {
		env->where = "the counter under the lock is wrong";
		err = -EBADMSG;
	}
	return err;
}

/* An arena of two pages, mapped: a store on the second page (the fault
 * gives it a page) reads back. */
static int probe_arena(struct probe_env *env, struct probe *skel)
{
	size_t sz = 2 * (size_t)sysconf(_SC_PAGESIZE);
	volatile __u64 *mem;
	int fd = olab_arena_create(2, "olab_arena"), err = 0;

	if (fd < 0) {
		env->where = "BPF_MAP_CREATE of BPF_MAP_TYPE_ARENA";
		return fd;
	}
	mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		err = -errno;
		env->where = "mmap";
	} else {
		mem[sz / sizeof(*mem) - 1] = PROBE_RB_MAGIC;
		if (mem[sz / sizeof(*mem) - 1] != PROBE_RB_MAGIC) {
			env->where = "a store through mmap does not read back";
			err = -EBADMSG;
		}
		munmap((void *)mem, sz);
	}
	close(fd);
	return err;
}

/* Every feature: what the child sets up, the skeleton pieces loaded before
 * its probe runs (progs NULL: none), and the probe. */
const struct feature_desc feature_table[FEAT__COUNT] = {
	[FEAT_XDP_NATIVE] = { "xdp_native", "XDP in driver mode on veth, packets seen",
			      PROBE_VETH, "xdp_pass", "", NULL, probe_xdp_native },
	[FEAT_XDP_GENERIC] = { "xdp_generic", "XDP in generic (skb) mode, packets seen",
			       PROBE_VETH, "xdp_pass", "", NULL, probe_xdp_generic },
	[FEAT_XDP_LIVE_FRAMES] = { "xdp_live_frames", "BPF_PROG_TEST_RUN with live frames on veth",
				   PROBE_VETH, "xdp_drop", "", NULL, probe_xdp_live_frames },
	[FEAT_TC_CLSACT] = { "tc_clsact", "cls_bpf on a clsact qdisc, packets seen",
			     PROBE_VETH, "tc_pass", "", NULL, probe_tc_clsact },
	[FEAT_TCX] = { "tcx", "tcx link at ingress, queried and packets seen",
		       PROBE_VETH, "tcx_pass", "", NULL, probe_tcx },
	[FEAT_NETFILTER_LINK] = { "netfilter_link", "netfilter link at LOCAL_IN, packets seen",
				  PROBE_NEWNET, "nf_accept", "", netfilter_before_load,
				  probe_netfilter_link },
	[FEAT_SK_SKB_VERDICT] = { "sk_skb_verdict", "sockmap stream verdict, TCP data flows",
				  PROBE_NEWNET, "skb_verdict", "sock_map", NULL,
				  probe_sk_skb_verdict },
	[FEAT_SK_SKB_PARSER] = { "sk_skb_parser", "sockmap stream parser, TCP data flows",
				 PROBE_NEWNET, "skb_parser,skb_verdict", "sock_map", NULL,
				 probe_sk_skb_parser },
	[FEAT_SK_MSG] = { "sk_msg", "sockhash msg verdict, TCP data flows",
			  PROBE_NEWNET, "msg_verdict", "sock_hash", NULL, probe_sk_msg },
	[FEAT_CGROUP_SKB] = { "cgroup_skb", "cgroup_skb ingress on a cgroup2 directory",
			      PROBE_CGROUP, "cg_ingress", "", NULL, probe_cgroup_skb },
	[FEAT_FENTRY] = { "fentry", "fentry on bpf_fentry_test1, program ran",
			  0, "fentry_probe", "", NULL, probe_fentry },
	[FEAT_RINGBUF] = { "ringbuf", "BPF ring buffer, record received",
			   0, "rb_output", "rb", NULL, probe_ringbuf },
	[FEAT_USER_RINGBUF] = { "user_ringbuf", "user ring buffer, sample drained",
				0, "urb_drain", "urb", NULL, probe_user_ringbuf },
	[FEAT_MMAPABLE_ARRAY] = { "mmapable_array", "BPF_F_MMAPABLE array, stores visible",
				  0, NULL, NULL, NULL, probe_mmapable_array },
	[FEAT_BPF_LOOP] = { "bpf_loop", "bpf_loop() with a callback",
			    0, "loop_prog", "", NULL, probe_bpf_loop },
	[FEAT_SPIN_LOCK] = { "spin_lock", "bpf_spin_lock in a map value",
			     0, "lock_prog", "lock_map", NULL, probe_spin_lock },
	[FEAT_ARENA] = { "arena", "BPF_MAP_TYPE_ARENA (6.9+) created and mmap'd, a store read back",
			 0, NULL, NULL, NULL, probe_arena },
};
