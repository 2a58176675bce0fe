/*
 * Feature probing: see lib/features.h.  Each probe is a function that runs in
 * a forked child (probe_child) and returns 0 or -errno, naming the step that
 * failed in env->where; the parent bounds it in time and caches the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/bpf_compat.h"
#include "lib/features.h"
#include "lib/log.h"
#include "lib/manifest.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/link.h"
#include "probe.skel.h"

#define PROBE_RB_MAGIC 0x0ff10adULL  /* bpf/probe.bpf.c */
#define PROBE_LOOP_N 16
#define PROBE_FRAME_LEN 64
#define HITS_WAIT_TRIES 40           /* x 25 ms */

/* What the child sets up before the probe runs. */
enum {
	PROBE_NEWNET = 1,                /* own network namespace, lo up */
	PROBE_VETH = 2 | PROBE_NEWNET,   /* plus veth p0 <-> p1, both up */
	PROBE_CGROUP = 4 | PROBE_NEWNET, /* plus a throwaway cgroup2 directory */
};

struct probe_env {
	int if0, if1;              /* PROBE_VETH: ifindex of p0, p1 */
	char cgroup[512];          /* PROBE_CGROUP: the directory */
	char cgroup_root[256];     /* PROBE_CGROUP: the cgroup2 mount */
	const char *where;         /* step that failed */
};

/* What the child reports through the pipe. */
struct probe_msg {
	int err;
	char where[112];
};

struct feature_desc {
	const char *name;
	const char *desc;
	unsigned flags;
	int (*probe)(struct probe_env *env);
};

static struct feature_status cache[FEAT__COUNT];
static bool cached[FEAT__COUNT];

/* ---- helpers used by the probes (all run in the child) ---------------- */

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchrnul(p, ',');

		if ((size_t)(end - p) == n && !strncmp(p, name, n))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/*
 * Open the probe skeleton with only the programs in progs and the (non
 * internal) maps in maps autoloaded/autocreated; both comma-separated.
 */
static struct probe *probe_open(struct probe_env *env, const char *progs, const char *maps)
{
	struct bpf_program *p;
	struct bpf_map *m;
	struct probe *skel;

	skel = probe__open();
	if (!skel) {
		env->where = "open skeleton";
		return NULL;
	}
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, in_list(progs, bpf_program__name(p)));
	bpf_object__for_each_map(m, skel->obj)
		if (!bpf_map__is_internal(m))
			bpf_map__set_autocreate(m, in_list(maps, bpf_map__name(m)));
	return skel;
}

static int probe_load(struct probe_env *env, struct probe *skel)
{
	int err = probe__load(skel);

	if (err)
		env->where = "load";
	return err;
}

/* One .bss counter, read through the map (works without mmap). */
static __u64 bss_get(struct probe *skel, size_t off)
{
	struct probe__bss bss;
	__u32 zero = 0;

	if (bpf_map__lookup_elem(skel->maps.bss, &zero, sizeof(zero), &bss, sizeof(bss), 0))
		return 0;
	return *(__u64 *)((char *)&bss + off);
}

#define BSS(skel, field) bss_get(skel, offsetof(struct probe__bss, field))

static __u16 ip_csum(const void *hdr, size_t len)
{
	const __u16 *p = hdr;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *p++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* A 64-byte broadcast Ethernet/IPv4/UDP frame (198.18.0.1:9 -> 198.18.0.2:9). */
static void build_udp_frame(__u8 frame[PROBE_FRAME_LEN])
{
	__u8 *ip = frame + ETH_HLEN, *udp = ip + 20;
	__u16 tot = htons(PROBE_FRAME_LEN - ETH_HLEN), ulen = htons(PROBE_FRAME_LEN - ETH_HLEN - 20);
	__u16 csum;

	memset(frame, 0, PROBE_FRAME_LEN);
	memset(frame, 0xff, ETH_ALEN);
	memcpy(frame + ETH_ALEN, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	frame[12] = ETH_P_IP >> 8;
	frame[13] = ETH_P_IP & 0xff;
	ip[0] = 0x45;
	memcpy(ip + 2, &tot, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	csum = ip_csum(ip, 20);
	memcpy(ip + 10, &csum, 2);
	udp[1] = 9;
	udp[3] = 9;
	memcpy(udp + 4, &ulen, 2);
}

/* Transmit one frame out of ifindex through a packet socket. */
static int send_frame(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = ETH_ALEN,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	__u8 frame[PROBE_FRAME_LEN];
	int fd, err = 0;

	build_udp_frame(frame);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Send frames out of p1 until the counter at off moves (it sees them on p0). */
static int kick_until_hit(struct probe_env *env, struct probe *skel, size_t off)
{
	int err;

	for (int i = 0; i < HITS_WAIT_TRIES; i++) {
		err = send_frame(env->if1);
		if (err) {
			env->where = "send a frame on the veth";
			return err;
		}
		sleep_ns(25 * 1000000ull);
		if (bss_get(skel, off))
			return 0;
	}
	env->where = "attached, but no packet reached the program";
	return -ENODATA;
}

static int xdp_test_run(struct probe_env *env, int prog_fd, int repeat, __u32 *retval)
{
	__u8 frame[PROBE_FRAME_LEN];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = repeat);
	int err;

	build_udp_frame(frame);
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err) {
		env->where = "BPF_PROG_TEST_RUN";
		return err;
	}
	if (retval)
		*retval = opts.retval;
	return 0;
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		err = -errno;
		goto cleanup;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
cleanup:
	close(fd);
	return err;
}

static int veth_setup(struct probe_env *env)
{
	int err;

	err = veth_create(NULL, "p0", NULL, "p1", 0);
	if (err) {
		env->where = "create veth pair";
		return err;
	}
	err = link_set_up(NULL, "p0");
	if (!err)
		err = link_set_up(NULL, "p1");
	if (err) {
		env->where = "set veth up";
		return err;
	}
	env->if0 = link_ifindex(NULL, "p0");
	env->if1 = link_ifindex(NULL, "p1");
	if (env->if0 <= 0 || env->if1 <= 0) {
		env->where = "veth ifindex";
		return env->if0 <= 0 ? (env->if0 ? env->if0 : -ENODEV) : (env->if1 ? env->if1 : -ENODEV);
	}
	return 0;
}

/* A connected TCP pair over 127.0.0.1. */
static int tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int lfd, c = -1, s = -1, err = 0;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &len)) {
		err = -errno;
		goto cleanup;
	}
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto cleanup;
	}
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0) {
		err = -errno;
		goto cleanup;
	}
	*cli = c;
	*srv = s;
	c = s = -1;
cleanup:
	if (c >= 0)
		close(c);
	close(lfd);
	return err;
}

/* Receive exactly len bytes equal to want on fd within timeout_ms. */
static int recv_expect(int fd, const char *want, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[64];
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		got += n;
	}
	return got == len && !memcmp(buf, want, len) ? 0 : -EBADMSG;
}

/* Send a datagram to ourselves over 127.0.0.1 and receive it. */
static int udp_roundtrip(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int s, c = -1, err = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(s, (struct sockaddr *)&sa, &len)) {
		err = -errno;
		goto cleanup;
	}
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c < 0 || sendto(c, "olab", 4, 0, (struct sockaddr *)&sa, sizeof(sa)) != 4) {
		err = -errno;
		goto cleanup;
	}
	err = recv_expect(s, "olab", 4, 1000);
cleanup:
	if (c >= 0)
		close(c);
	close(s);
	return err;
}

static int prog_id(int prog_fd, __u32 *id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int err;

	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(prog_fd, &info, &len);
	if (!err)
		*id = info.id;
	return err;
}

/* ---- the probes -------------------------------------------------------- */

static int probe_xdp_mode(struct probe_env *env, __u32 flags, __u8 want_mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct probe *skel;
	int err, fd;
	__u32 id = 0;

	skel = probe_open(env, "xdp_pass", "");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	fd = bpf_program__fd(skel->progs.xdp_pass);
	err = bpf_xdp_attach(env->if0, fd, flags, NULL);
	if (err) {
		env->where = "attach to veth";
		goto cleanup;
	}
	err = bpf_xdp_query(env->if0, 0, &q);
	if (!err)
		err = prog_id(fd, &id);
	if (err) {
		env->where = "query attachment";
		goto cleanup;
	}
	if (q.attach_mode != want_mode || (want_mode == XDP_ATTACHED_DRV ? q.drv_prog_id :
					   q.skb_prog_id) != id) {
		env->where = "attached in another mode than asked";
		err = -EOPNOTSUPP;
		goto cleanup;
	}
	err = kick_until_hit(env, skel, offsetof(struct probe__bss, xdp_hits));
	bpf_xdp_detach(env->if0, flags, NULL);
cleanup:
	probe__destroy(skel);
	return err;
}

static int probe_xdp_native(struct probe_env *env)
{
	return probe_xdp_mode(env, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			      XDP_ATTACHED_DRV);
}

static int probe_xdp_generic(struct probe_env *env)
{
	return probe_xdp_mode(env, XDP_FLAGS_SKB_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST,
			      XDP_ATTACHED_SKB);
}

static int probe_xdp_live_frames(struct probe_env *env)
{
	struct xdp_md ctx = { .data_end = PROBE_FRAME_LEN, .ingress_ifindex = env->if0 };
	__u8 frame[PROBE_FRAME_LEN];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 8,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	struct probe *skel;
	__u64 hits;
	int err;

	build_udp_frame(frame);
	skel = probe_open(env, "xdp_drop", "");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_drop), &opts);
	if (err) {
		env->where = "BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES";
		goto cleanup;
	}
	hits = BSS(skel, xdp_hits);
	if (hits != 8) {
		pr_debug("xdp_live_frames: program ran %llu times, expected 8\n",
			 (unsigned long long)hits);
		env->where = "the program did not run once per frame";
		err = -ENODATA;
	}
cleanup:
	probe__destroy(skel);
	return err;
}

static int probe_tc_clsact(struct probe_env *env)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = env->if0, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts);
	LIBBPF_OPTS(bpf_tc_opts, q);
	struct probe *skel;
	__u32 id = 0;
	int err;

	skel = probe_open(env, "tc_pass", "");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		env->where = "create clsact qdisc";
		goto cleanup;
	}
	opts.prog_fd = bpf_program__fd(skel->progs.tc_pass);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		env->where = "attach cls_bpf filter";
		goto cleanup;
	}
	q.handle = opts.handle;
	q.priority = opts.priority;
	err = bpf_tc_query(&hook, &q);
	if (!err)
		err = prog_id(opts.prog_fd, &id);
	if (!err && q.prog_id != id)
		err = -ENOENT;
	if (err) {
		env->where = "query the filter";
		goto cleanup;
	}
	err = kick_until_hit(env, skel, offsetof(struct probe__bss, tc_hits));
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
cleanup:
	probe__destroy(skel);
	return err;
}

static int probe_tcx(struct probe_env *env)
{
	struct olab_link_info info;
	__u32 ids[4] = { 0 }, lids[4] = { 0 }, cnt = 4, id = 0;
	struct probe *skel;
	int err, fd, link = -1;

	skel = probe_open(env, "tcx_pass", "");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
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
	if (err) {
		env->where = "link info";
		goto cleanup;
	}
	err = tcx_query(env->if0, BPF_TCX_INGRESS, ids, lids, &cnt, NULL);
	if (!err)
		err = prog_id(fd, &id);
	if (!err && (cnt != 1 || ids[0] != id || lids[0] != info.id))
		err = -ENOENT;
	if (err) {
		env->where = "BPF_PROG_QUERY at BPF_TCX_INGRESS";
		goto cleanup;
	}
	err = kick_until_hit(env, skel, offsetof(struct probe__bss, tcx_hits));
cleanup:
	if (link >= 0)
		close(link);
	probe__destroy(skel);
	return err;
}

static int probe_netfilter_link(struct probe_env *env)
{
	struct olab_link_info info;
	struct bpf_program *p;
	struct probe *skel;
	int err, link = -1;

	skel = probe_open(env, "nf_accept", "");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	p = skel->progs.nf_accept;
	bpf_program__set_type(p, BPF_PROG_TYPE_NETFILTER);
	bpf_program__set_expected_attach_type(p, BPF_NETFILTER);
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	link = netfilter_link_create(bpf_program__fd(p), NFPROTO_IPV4, NF_INET_LOCAL_IN, -128, 0);
	if (link < 0) {
		err = link;
		env->where = "BPF_LINK_CREATE at NF_INET_LOCAL_IN";
		goto cleanup;
	}
	err = olab_link_get_info(link, &info);
	if (!err && (info.type != BPF_LINK_TYPE_NETFILTER ||
		     info.netfilter.hooknum != NF_INET_LOCAL_IN))
		err = -EPROTO;
	if (err) {
		env->where = "link info";
		goto cleanup;
	}
	err = udp_roundtrip();
	if (err) {
		env->where = "UDP over lo with the hook attached";
		goto cleanup;
	}
	if (!BSS(skel, nf_hits)) {
		env->where = "attached, but no packet reached the program";
		err = -ENODATA;
	}
cleanup:
	if (link >= 0)
		close(link);
	probe__destroy(skel);
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
		if (err) {
			env->where = "attach to the map";
			return err;
		}
	}
	err = tcp_pair(&c, &s);
	if (err) {
		env->where = "TCP connection over lo";
		goto cleanup;
	}
	err = bpf_map_update_elem(map_fd, &k0, &s, BPF_ANY);
	if (!err)
		err = bpf_map_update_elem(map_fd, &k1, &c, BPF_ANY);
	if (err) {
		env->where = "insert a connected TCP socket";
		goto cleanup;
	}
	if (send(c, "olab", 4, 0) != 4) {
		err = -errno;
		env->where = "send through the map";
		goto cleanup;
	}
	err = recv_expect(s, "olab", 4, 1000);
	if (err)
		env->where = "receive through the map";
cleanup:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	return err;
}

static int probe_sk_skb_verdict(struct probe_env *env)
{
	enum bpf_attach_type types[] = { BPF_SK_SKB_STREAM_VERDICT };
	struct probe *skel;
	int err;

	skel = probe_open(env, "skb_verdict", "sock_map");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	err = sockmap_roundtrip(env, skel->maps.sock_map,
				(struct bpf_program *[]){ skel->progs.skb_verdict }, types, 1);
	if (!err && !BSS(skel, verdict_hits)) {
		env->where = "the verdict program did not run";
		err = -ENODATA;
	}
cleanup:
	probe__destroy(skel);
	return err;
}

/* A parser only runs with a verdict program beside it. */
static int probe_sk_skb_parser(struct probe_env *env)
{
	enum bpf_attach_type types[] = { BPF_SK_SKB_STREAM_PARSER, BPF_SK_SKB_STREAM_VERDICT };
	struct probe *skel;
	int err;

	skel = probe_open(env, "skb_parser,skb_verdict", "sock_map");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	err = sockmap_roundtrip(env, skel->maps.sock_map,
				(struct bpf_program *[]){ skel->progs.skb_parser,
							  skel->progs.skb_verdict }, types, 2);
	if (!err && !BSS(skel, parser_hits)) {
		env->where = "the parser program did not run";
		err = -ENODATA;
	}
cleanup:
	probe__destroy(skel);
	return err;
}

static int probe_sk_msg(struct probe_env *env)
{
	enum bpf_attach_type types[] = { BPF_SK_MSG_VERDICT };
	struct probe *skel;
	int err;

	skel = probe_open(env, "msg_verdict", "sock_hash");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	err = sockmap_roundtrip(env, skel->maps.sock_hash,
				(struct bpf_program *[]){ skel->progs.msg_verdict }, types, 1);
	if (!err && !BSS(skel, msg_hits)) {
		env->where = "the sk_msg program did not run";
		err = -ENODATA;
	}
cleanup:
	probe__destroy(skel);
	return err;
}

/* The child joins the throwaway cgroup so its sockets are charged to it. */
static int probe_cgroup_skb(struct probe_env *env)
{
	char procs[600];
	struct probe *skel;
	int err, cg_fd, prog_fd, link_fd;

	cg_fd = open(env->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		env->where = "open the cgroup";
		return -errno;
	}
	skel = probe_open(env, "cg_ingress", "");
	if (!skel) {
		err = -errno;
		goto cleanup_fd;
	}
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	prog_fd = bpf_program__fd(skel->progs.cg_ingress);
	/* A link: it dies with its fd, never left on a cgroup by a killed probe. */
	link_fd = bpf_link_create(prog_fd, cg_fd, BPF_CGROUP_INET_INGRESS, NULL);
	if (link_fd < 0) {
		err = link_fd;
		env->where = "attach to the cgroup (link)";
		goto cleanup;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", env->cgroup);
	err = write_file(procs, "0");
	if (err) {
		env->where = "join the cgroup";
		goto detach;
	}
	err = udp_roundtrip();
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
	probe__destroy(skel);
cleanup_fd:
	close(cg_fd);
	return err;
}

static int probe_fentry(struct probe_env *env)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct bpf_link *link = NULL;
	struct probe *skel;
	int err;

	skel = probe_open(env, "fentry_probe", "");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	link = bpf_program__attach(skel->progs.fentry_probe);
	if (!link) {
		err = -errno;
		env->where = "attach";
		goto cleanup;
	}
	/* Test runs of a tracing program call bpf_fentry_test1(). */
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.fentry_probe), &opts);
	if (err) {
		env->where = "trigger through BPF_PROG_TEST_RUN";
		goto cleanup;
	}
	if (!BSS(skel, fentry_hits)) {
		env->where = "attached, but the program did not run";
		err = -ENODATA;
	}
cleanup:
	bpf_link__destroy(link);
	probe__destroy(skel);
	return err;
}

static int rb_sample(void *ctx, void *data, size_t len)
{
	if (len == sizeof(__u64))
		*(__u64 *)ctx = *(__u64 *)data;
	return 0;
}

static int probe_ringbuf(struct probe_env *env)
{
	struct ring_buffer *rb = NULL;
	struct probe *skel;
	__u64 got = 0;
	int err;

	skel = probe_open(env, "rb_output", "rb");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), rb_sample, &got, NULL);
	if (!rb) {
		err = -errno;
		env->where = "map the ring buffer";
		goto cleanup;
	}
	err = xdp_test_run(env, bpf_program__fd(skel->progs.rb_output), 1, NULL);
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
	probe__destroy(skel);
	return err;
}

static int probe_user_ringbuf(struct probe_env *env)
{
	struct user_ring_buffer *urb = NULL;
	struct probe *skel;
	__u64 *sample;
	int err;

	skel = probe_open(env, "urb_drain", "urb");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
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
	err = xdp_test_run(env, bpf_program__fd(skel->progs.urb_drain), 1, NULL);
	if (err)
		goto cleanup;
	if (BSS(skel, urb_samples) != 1 || BSS(skel, urb_sum) != PROBE_RB_MAGIC) {
		env->where = "the program did not drain the sample";
		err = -ENODATA;
	}
cleanup:
	user_ring_buffer__free(urb);
	probe__destroy(skel);
	return err;
}

static int probe_mmapable_array(struct probe_env *env)
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
	if (err) {
		env->where = "lookup";
		goto cleanup;
	}
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

static int probe_bpf_loop(struct probe_env *env)
{
	struct probe *skel;
	__u32 ret = 0;
	int err;

	skel = probe_open(env, "loop_prog", "");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	err = xdp_test_run(env, bpf_program__fd(skel->progs.loop_prog), 1, &ret);
	if (err)
		goto cleanup;
	if (ret != XDP_PASS || BSS(skel, loop_sum) != PROBE_LOOP_N * (PROBE_LOOP_N - 1) / 2) {
		env->where = "the callback did not run the expected number of times";
		err = -EBADMSG;
	}
cleanup:
	probe__destroy(skel);
	return err;
}

static int probe_spin_lock(struct probe_env *env)
{
	struct { __u32 lock; __u32 pad; __u64 cnt; } val = { 0 };
	struct probe *skel;
	__u32 key = 0;
	int err;

	skel = probe_open(env, "lock_prog", "lock_map");
	if (!skel)
		return errno ? -errno : -ENOMEM;
	err = probe_load(env, skel);
	if (err)
		goto cleanup;
	err = xdp_test_run(env, bpf_program__fd(skel->progs.lock_prog), 10, NULL);
	if (err)
		goto cleanup;
	err = bpf_map__lookup_elem(skel->maps.lock_map, &key, sizeof(key), &val, sizeof(val),
				   BPF_F_LOCK);
	if (err) {
		env->where = "lookup with BPF_F_LOCK";
		goto cleanup;
	}
	if (val.cnt != 10) {
		env->where = "the counter under the lock is wrong";
		err = -EBADMSG;
	}
cleanup:
	probe__destroy(skel);
	return err;
}

static const struct feature_desc features[FEAT__COUNT] = {
	[FEAT_XDP_NATIVE] = { "xdp_native", "XDP in driver mode on veth, packets seen",
			      PROBE_VETH, probe_xdp_native },
	[FEAT_XDP_GENERIC] = { "xdp_generic", "XDP in generic (skb) mode, packets seen",
			       PROBE_VETH, probe_xdp_generic },
	[FEAT_XDP_LIVE_FRAMES] = { "xdp_live_frames", "BPF_PROG_TEST_RUN with live frames on veth",
				   PROBE_VETH, probe_xdp_live_frames },
	[FEAT_TC_CLSACT] = { "tc_clsact", "cls_bpf on a clsact qdisc, packets seen",
			     PROBE_VETH, probe_tc_clsact },
	[FEAT_TCX] = { "tcx", "tcx link at ingress, queried and packets seen",
		       PROBE_VETH, probe_tcx },
	[FEAT_NETFILTER_LINK] = { "netfilter_link", "netfilter link at LOCAL_IN, packets seen",
				  PROBE_NEWNET, probe_netfilter_link },
	[FEAT_SK_SKB_VERDICT] = { "sk_skb_verdict", "sockmap stream verdict, TCP data flows",
				  PROBE_NEWNET, probe_sk_skb_verdict },
	[FEAT_SK_SKB_PARSER] = { "sk_skb_parser", "sockmap stream parser, TCP data flows",
				 PROBE_NEWNET, probe_sk_skb_parser },
	[FEAT_SK_MSG] = { "sk_msg", "sockhash msg verdict, TCP data flows",
			  PROBE_NEWNET, probe_sk_msg },
	[FEAT_CGROUP_SKB] = { "cgroup_skb", "cgroup_skb ingress on a cgroup2 directory",
			      PROBE_CGROUP, probe_cgroup_skb },
	[FEAT_FENTRY] = { "fentry", "fentry on bpf_fentry_test1, program ran",
			  0, probe_fentry },
	[FEAT_RINGBUF] = { "ringbuf", "BPF ring buffer, record received", 0, probe_ringbuf },
	[FEAT_USER_RINGBUF] = { "user_ringbuf", "user ring buffer, sample drained",
				0, probe_user_ringbuf },
	[FEAT_MMAPABLE_ARRAY] = { "mmapable_array", "BPF_F_MMAPABLE array, stores visible",
				  0, probe_mmapable_array },
	[FEAT_BPF_LOOP] = { "bpf_loop", "bpf_loop() with a callback", 0, probe_bpf_loop },
	[FEAT_SPIN_LOCK] = { "spin_lock", "bpf_spin_lock in a map value", 0, probe_spin_lock },
};

/* ---- running a probe ----------------------------------------------------- */

const char *feature_name(enum feature_id id)
{
	return (unsigned)id < FEAT__COUNT ? features[id].name : NULL;
}

const char *feature_desc(enum feature_id id)
{
	return (unsigned)id < FEAT__COUNT ? features[id].desc : NULL;
}

int feature_by_name(const char *name)
{
	for (int i = 0; name && i < FEAT__COUNT; i++)
		if (!strcmp(features[i].name, name))
			return i;
	return -ENOENT;
}

void feature_format_reason(char *buf, size_t len, int err, const char *where)
{
	const char *name;

	if (!len)
		return;
	if (err < 0)
		err = -err;
	if (!err) {
		buf[0] = '\0';
		return;
	}
	name = strerrorname_np(err);
	if (name)
		snprintf(buf, len, "%s: %s%s%s%s", name, strerror(err),
			 where && *where ? " (" : "", where && *where ? where : "",
			 where && *where ? ")" : "");
	else
		snprintf(buf, len, "E%d: %s%s%s%s", err, strerror(err),
			 where && *where ? " (" : "", where && *where ? where : "",
			 where && *where ? ")" : "");
}

static __attribute__((noreturn)) void probe_child(const struct feature_desc *d,
						  struct probe_env *env, int wfd, pid_t parent)
{
	struct probe_msg m;
	int err = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1); /* the parent died before PDEATHSIG was armed */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (d->flags & PROBE_NEWNET) {
		/* Anonymous: it vanishes with this process, whatever kills it. */
		if (unshare(CLONE_NEWNET)) {
			err = -errno;
			env->where = "unshare(CLONE_NEWNET)";
			goto out;
		}
		err = lo_up();
		if (err) {
			env->where = "set lo up";
			goto out;
		}
	}
	if ((d->flags & PROBE_VETH) == PROBE_VETH) {
		err = veth_setup(env);
		if (err)
			goto out;
	}
	err = d->probe(env);
out:
	memset(&m, 0, sizeof(m));
	m.err = err > 0 ? -err : err;
	snprintf(m.where, sizeof(m.where), "%s", err && env->where ? env->where : "");
	if (write(wfd, &m, sizeof(m)) != sizeof(m))
		_exit(1);
	_exit(0);
}

static void rmdir_cgroup(const char *path, long num)
{
	/* The probe child has been reaped; its css may take a moment to go. */
	for (int i = 0; i < 100; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		sleep_ns(10 * 1000000ull);
	}
	pr_warn("cannot remove probe cgroup %s: %s\n", path, strerror(errno));
}

/* Registered while a probe child runs, so a fatal signal does not orphan it. */
static void kill_probe_child(const char *name, long pid)
{
	kill((pid_t)pid, SIGKILL);
	waitpid((pid_t)pid, NULL, 0);
}

/* Wait for pid until deadline (ns), then SIGKILL it; -ETIMEDOUT when killed. */
static int reap(pid_t pid, uint64_t deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (now_ns() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		sleep_ns(1000000);
	}
}

/* Read the child's answer until deadline; 1 when complete, 0 on EOF, -ETIMEDOUT, -EINTR. */
static int read_answer(int fd, struct probe_msg *m, uint64_t deadline)
{
	size_t off = 0;

	while (off < sizeof(*m)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = ((int64_t)deadline - (int64_t)now_ns()) / 1000000;
		ssize_t n;
		int r;

		if (run_stopping())
			return -EINTR;
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		n = read(fd, (char *)m + off, sizeof(*m) - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		off += n;
	}
	return 1;
}

/* Parent side of a probe needing a cgroup: make the directory, register its removal. */
static int cgroup_prepare(struct probe_env *env, const char **where)
{
	char name[64];
	int err, h;

	err = env_cgroup2_mount(env->cgroup_root, sizeof(env->cgroup_root));
	if (err) {
		*where = "no cgroup2 mount";
		return err;
	}
	err = run_name(name, sizeof(name), "-probe");
	if (!err && snprintf(env->cgroup, sizeof(env->cgroup), "%s/%s", env->cgroup_root,
			     name) >= (int)sizeof(env->cgroup))
		err = -ENAMETOOLONG;
	if (!err && mkdir(env->cgroup, 0755))
		err = -errno;
	if (err) {
		*where = "create a cgroup2 directory";
		return err;
	}
	h = manifest_add_path(MANIFEST_CGROUP, env->cgroup);
	if (!h)
		h = cleanup_add(rmdir_cgroup, env->cgroup, 0, "probe cgroup");
	if (h < 0) {
		rmdir_cgroup(env->cgroup, 0);
		*where = "register the cgroup's removal";
	}
	return h;
}

static void run_probe(enum feature_id id, struct feature_status *st)
{
	const struct feature_desc *d = &features[id];
	uint64_t t0 = now_ns(), deadline = t0 + FEATURE_PROBE_TIMEOUT_MS * 1000000ull;
	struct probe_env env = { .if0 = -1, .if1 = -1 };
	int pfd[2] = { -1, -1 }, cg = -1, kc, status = 0, err = 0, r;
	const char *where = NULL;
	struct probe_msg m;
	char what[64];
	pid_t pid, self = getpid();

	memset(st, 0, sizeof(*st));
	memset(&m, 0, sizeof(m));
	if (run_stopping()) {
		err = -EINTR;
		st->probe_failed = true;
		where = "interrupted";
		goto out;
	}
	if ((d->flags & PROBE_CGROUP) == PROBE_CGROUP) {
		cg = cgroup_prepare(&env, &where);
		if (cg < 0) {
			err = cg;
			/* No cgroup2 or no room is data; failing to register a cleanup is not. */
			st->probe_failed = cg == -ENOMEM;
			goto out;
		}
	}
	if (pipe2(pfd, O_CLOEXEC)) {
		err = -errno;
		st->probe_failed = true;
		where = "pipe";
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		st->probe_failed = true;
		where = "fork";
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		cleanup_disown();
		probe_child(d, &env, pfd[1], self);
	}
	close(pfd[1]);
	pfd[1] = -1;
	kc = cleanup_add(kill_probe_child, d->name, pid, "probe child");

	r = read_answer(pfd[0], &m, deadline);
	/* After an answer or EOF the child is exiting; otherwise kill it now. */
	reap(pid, r >= 0 ? now_ns() + 2000000000ull : 0, &status);
	if (kc >= 0)
		cleanup_forget(kc);
	if (r == 1) {
		err = m.err;
		m.where[sizeof(m.where) - 1] = '\0';
		where = m.where;
	} else if (r == -EINTR) {
		err = -EINTR;
		st->probe_failed = true;
		where = "interrupted";
	} else if (r == -ETIMEDOUT) {
		err = -ETIMEDOUT;
		snprintf(what, sizeof(what), "no answer within %d ms", FEATURE_PROBE_TIMEOUT_MS);
		where = what;
	} else if (WIFSIGNALED(status)) {
		err = -ECANCELED;
		snprintf(what, sizeof(what), "probe killed by signal %d", WTERMSIG(status));
		where = what;
	} else {
		err = r < 0 ? r : -EPROTO;
		snprintf(what, sizeof(what), "probe exited with status %d without an answer",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		where = what;
	}
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (cg >= 0)
		cleanup_run(cg);
	st->err = err > 0 ? -err : err;
	st->supported = !err;
	feature_format_reason(st->reason, sizeof(st->reason), err, where);
	st->probe_ms = (now_ns() - t0) / 1e6;
	pr_debug("probe %s: %s%s%s (%.1f ms)\n", d->name,
		 st->supported ? "supported" : "unsupported", st->reason[0] ? ": " : "",
		 st->reason, st->probe_ms);
}

/* OLAB_DISABLE_FEATURES=tcx,sk_msg makes env report them unsupported: for
 * tests of the refusal paths, and for users who want a hook left out. */
static bool disabled_by_env(enum feature_id id)
{
	const char *list = getenv("OLAB_DISABLE_FEATURES"), *name = feature_name(id);
	size_t n = strlen(name);

	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, name, n) && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

const struct feature_status *feature_probe(enum feature_id id)
{
	static const struct feature_status bad = { .reason = "EINVAL: Invalid argument (no such feature)",
						   .err = -EINVAL };

	if ((unsigned)id >= FEAT__COUNT)
		return &bad;
	if (!cached[id] && disabled_by_env(id)) {
		memset(&cache[id], 0, sizeof(cache[id]));
		cache[id].err = -EOPNOTSUPP;
		snprintf(cache[id].reason, sizeof(cache[id].reason),
			 "EOPNOTSUPP: disabled by OLAB_DISABLE_FEATURES");
		cached[id] = true;
	}
	if (!cached[id]) {
		run_probe(id, &cache[id]);
		/* An interrupted probe is not an answer: ask again next time. */
		cached[id] = !(cache[id].probe_failed && cache[id].err == -EINTR);
	}
	return &cache[id];
}

int feature_probe_all(void)
{
	int failed = 0;

	for (int i = 0; i < FEAT__COUNT; i++)
		if (feature_probe(i)->probe_failed)
			failed++;
	return failed;
}

void feature_cache_reset(void)
{
	memset(cached, 0, sizeof(cached));
}

int feature_require(enum feature_id id, const char *what)
{
	const struct feature_status *st = feature_probe(id);

	if (st->supported)
		return 0;
	pr_warn("%s needs %s, which this kernel does not support: %s\n", what,
		feature_name(id) ? feature_name(id) : "?", st->reason);
	return -EOPNOTSUPP;
}

/* ---- kernel facts -------------------------------------------------------- */

int env_cgroup2_mount(char *buf, size_t len)
{
	return mount_point_of("cgroup2", buf, len);
}

int env_kernel_probe(struct env_kernel *k)
{
	char val[32];
	struct statfs sfs;
	uint64_t v;
	int fd;

	memset(k, 0, sizeof(*k));
	snprintf(k->release, sizeof(k->release), "%s", kernel_release());

	if (!read_file("/proc/sys/net/core/bpf_jit_enable", val, sizeof(val)) &&
	    !parse_u64(val, 0, 1000, &v)) {
		k->jit_known = true;
		k->jit_value = (int)v;
	}

	if (!read_file("/proc/sys/kernel/bpf_stats_enabled", val, sizeof(val)))
		k->stats_enabled_now = !strcmp(val, "1");
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd >= 0) {
		k->stats_supported = true;
		close(fd); /* stats go back off unless someone else holds them on */
	} else {
		feature_format_reason(k->stats_reason, sizeof(k->stats_reason), fd,
				      "bpf_enable_stats");
	}

	k->bpffs_path = RUN_BPFFS_DIR;
	k->bpffs_mounted = !statfs(RUN_BPFFS_DIR, &sfs) && sfs.f_type == BPF_FS_MAGIC;
	if (env_cgroup2_mount(k->cgroup2, sizeof(k->cgroup2)))
		k->cgroup2[0] = '\0';
	k->cpus = cpu_count();
	snprintf(k->libbpf, sizeof(k->libbpf), "%u.%u", libbpf_major_version(),
		 libbpf_minor_version());
	return 0;
}

json_t *env_kernel_to_json(const struct env_kernel *k)
{
	return json_pack("{s:s, s:{s:b, s:o}, s:{s:b, s:b, s:s}, s:{s:b, s:s}, s:o, s:i, s:s}",
			 "release", k->release,
			 "bpf_jit", "enabled", k->jit_known && k->jit_value != 0,
			 "value", k->jit_known ? json_integer(k->jit_value) : json_null(),
			 "bpf_stats", "supported", k->stats_supported,
			 "enabled_now", k->stats_enabled_now, "reason", k->stats_reason,
			 "bpffs", "mounted", k->bpffs_mounted, "path", k->bpffs_path,
			 "cgroup2", k->cgroup2[0] ? json_string(k->cgroup2) : json_null(),
			 "cpus", k->cpus,
			 "libbpf", k->libbpf);
}

json_t *features_to_json(void)
{
	json_t *o = json_object();

	for (int i = 0; o && i < FEAT__COUNT; i++) {
		const struct feature_status *st = feature_probe(i);

		if (json_object_set_new(o, feature_name(i),
					json_pack("{s:b, s:s}", "supported", st->supported,
						  "reason", st->reason))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
