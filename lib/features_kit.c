/* Helpers the feature probes share (lib/features_internal.h); all run in
 * the probe's child. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/features_internal.h"
#include "lib/util.h"
#include "netns/link.h"

#define HITS_WAIT_TRIES 40           /* x 25 ms */

bool probe_in_list(const char *list, const char *name)
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
struct probe *probe_open(struct probe_env *env, const char *progs, const char *maps)
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
		bpf_program__set_autoload(p, probe_in_list(progs, bpf_program__name(p)));
	bpf_object__for_each_map(m, skel->obj)
		if (!bpf_map__is_internal(m))
			bpf_map__set_autocreate(m, probe_in_list(maps, bpf_map__name(m)));
	return skel;
}

int probe_load(struct probe_env *env, struct probe *skel)
{
	int err = probe__load(skel);

	if (err)
		env->where = "load";
	return err;
}

/* One .bss counter, read through the map (works without mmap). */
__u64 probe_bss_get(struct probe *skel, size_t off)
{
	struct probe__bss bss;
	__u32 zero = 0;

	if (bpf_map__lookup_elem(skel->maps.bss, &zero, sizeof(zero), &bss, sizeof(bss), 0))
		return 0;
	return *(__u64 *)((char *)&bss + off);
}

#define BSS(skel, field) probe_bss_get(skel, offsetof(struct probe__bss, field))

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
void probe_build_udp_frame(__u8 frame[PROBE_FRAME_LEN])
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

	probe_build_udp_frame(frame);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/* Send frames out of p1 until the counter at off moves (it sees them on p0). */
int probe_kick_until_hit(struct probe_env *env, struct probe *skel, size_t off)
{
	int err;

	for (int i = 0; i < HITS_WAIT_TRIES; i++) {
		err = send_frame(env->if1);
		if (err) {
			env->where = "send a frame on the veth";
			return err;
		}
		sleep_ns(25 * 1000000ull);
		if (probe_bss_get(skel, off))
			return 0;
	}
	env->where = "attached, but no packet reached the program";
	return -ENODATA;
}

int probe_xdp_test_run(struct probe_env *env, int prog_fd, int repeat, __u32 *retval)
{
	__u8 frame[PROBE_FRAME_LEN];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = repeat);
	int err;

	probe_build_udp_frame(frame);
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	if (err) {
		env->where = "BPF_PROG_TEST_RUN";
		return err;
	}
	if (retval)
		*retval = opts.retval;
	return 0;
}

int probe_fails_at(struct probe_env *env, int err, const char *step)
{
	if (err)
		env->where = step;
	return err;
}

int probe_lo_up(void)
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

int probe_veth_setup(struct probe_env *env)
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
int probe_tcp_pair(int *cli, int *srv)
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
	close_fd(c);
	close(lfd);
	return err;
}

/* Receive exactly len bytes equal to want on fd within timeout_ms. */
int probe_recv_expect(int fd, const char *want, size_t len, int timeout_ms)
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
int probe_udp_roundtrip(void)
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
	err = probe_recv_expect(s, "olab", 4, 1000);
cleanup:
	close_fd(c);
	close(s);
	return err;
}

int probe_prog_id(int prog_fd, __u32 *id)
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
