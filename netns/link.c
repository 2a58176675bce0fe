/*
 * Links, addresses and neighbours inside a namespace, through libnl-route-3.
 * Every netlink socket is opened inside the target namespace, so requests
 * never touch the root namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/sockios.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include "lib/log.h"
#include "lib/util.h"
#include "netns/link.h"

/* libnl error (-NLE_*) to -errno. */
static int nl_errno(int err)
{
	static const struct { int nle, errnum; } map[] = {
		{ NLE_AGAIN, EAGAIN }, { NLE_NOMEM, ENOMEM }, { NLE_EXIST, EEXIST },
		{ NLE_INVAL, EINVAL }, { NLE_RANGE, ERANGE }, { NLE_MSGSIZE, EMSGSIZE },
		{ NLE_OPNOTSUPP, EOPNOTSUPP }, { NLE_AF_NOSUPPORT, EAFNOSUPPORT },
		{ NLE_OBJ_NOTFOUND, ENOENT }, { NLE_NOATTR, EINVAL },
		{ NLE_BUSY, EBUSY }, { NLE_PERM, EPERM }, { NLE_NOACCESS, EACCES },
		{ NLE_NODEV, ENODEV }, { NLE_NOADDR, EADDRNOTAVAIL },
		{ NLE_BAD_SOCK, EBADF },
		{ NLE_INTR, EINTR }, { NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
		{ NLE_IMMUTABLE, EPERM }, { NLE_PARSE_ERR, EINVAL },
		{ NLE_MSG_TOOSHORT, EMSGSIZE }, { NLE_MSG_TRUNC, EMSGSIZE },
	};

	if (err >= 0)
		return err;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (-err == map[i].nle)
			return -map[i].errnum;
	return -EIO;
}

static bool ifname_ok(const char *ifname)
{
	return ifname && ifname[0] && strlen(ifname) < IFNAME_LEN && !strchr(ifname, '/');
}

/* A route netlink socket that lives in ns (NULL: the thread's namespace). */
static int nl_open(const struct netns *ns, struct nl_sock **out)
{
	struct nstoken *tok;
	struct nl_sock *sk;
	int err;

	*out = NULL;
	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	sk = nl_socket_alloc();
	if (!sk) {
		err = -ENOMEM;
		goto out;
	}
	err = nl_errno(nl_connect(sk, NETLINK_ROUTE));
	if (err) {
		nl_socket_free(sk);
		goto out;
	}
	*out = sk;
out:
	netns_leave(tok);
	return err;
}

static int link_get(struct nl_sock *sk, const char *ifname, struct rtnl_link **out)
{
	int err = rtnl_link_get_kernel(sk, 0, ifname, out);

	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return -ENODEV;
	return nl_errno(err);
}

int veth_create(const struct netns *ns_a, const char *name_a,
		const struct netns *ns_b, const char *name_b, unsigned mtu)
{
	struct rtnl_link *link = NULL, *peer = NULL;
	struct nl_sock *sk = NULL;
	int self_fd = -1, err;

	if (!ifname_ok(name_a) || !ifname_ok(name_b))
		return -EINVAL;
	err = nl_open(ns_a, &sk);
	if (err)
		goto out;
	link = rtnl_link_veth_alloc();
	if (!link) {
		err = -ENOMEM;
		goto out;
	}
	peer = rtnl_link_veth_get_peer(link);
	rtnl_link_set_name(link, name_a);
	rtnl_link_set_name(peer, name_b);
	if (mtu) {
		rtnl_link_set_mtu(link, mtu);
		rtnl_link_set_mtu(peer, mtu);
	}
	/* The peer is created straight in its namespace (IFLA_NET_NS_FD in
	 * the peer info); without one it would land next to end a. */
	if (ns_b) {
		rtnl_link_set_ns_fd(peer, ns_b->fd);
	} else if (ns_a) {
		self_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self_fd < 0) {
			err = -errno;
			goto out;
		}
		rtnl_link_set_ns_fd(peer, self_fd);
	}
	err = nl_errno(rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL));
	if (err)
		pr_debug("veth %s/%s: %s\n", name_a, name_b, strerror(-err));
	else
		pr_debug("veth %s (%s) <-> %s (%s)\n", name_a, ns_a ? ns_a->name : "-",
			 name_b, ns_b ? ns_b->name : "-");
out:
	close_fd(self_fd);
	if (peer)
		rtnl_link_put(peer);
	if (link)
		rtnl_link_put(link);
	if (sk)
		nl_socket_free(sk);
	return err;
}

/* A netlink socket in ns and ifname's link: 0, or -errno with nothing held. */
static int link_open(const struct netns *ns, const char *ifname, struct nl_sock **sk,
		     struct rtnl_link **link)
{
	int err;

	*sk = NULL;
	*link = NULL;
	if (!ifname_ok(ifname))
		return -EINVAL;
	err = nl_open(ns, sk);
	if (!err)
		err = link_get(*sk, ifname, link);
	if (err && *sk)
		nl_socket_free(*sk);
	return err;
}

static void link_close(struct nl_sock *sk, struct rtnl_link *link)
{
	rtnl_link_put(link);
	nl_socket_free(sk);
}

int link_ifindex(const struct netns *ns, const char *ifname)
{
	struct rtnl_link *link;
	struct nl_sock *sk;
	int err = link_open(ns, ifname, &sk, &link);

	if (err)
		return err;
	err = rtnl_link_get_ifindex(link);
	link_close(sk, link);
	return err > 0 ? err : -ENODEV;
}

/* Set ifname up (up) and/or its MTU (mtu > 0). */
static int link_set(const struct netns *ns, const char *ifname, bool up, unsigned mtu)
{
	struct rtnl_link *link, *change = rtnl_link_alloc();
	struct nl_sock *sk;
	int err;

	if (!change)
		return -ENOMEM;
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	err = link_open(ns, ifname, &sk, &link);
	if (!err) {
		err = nl_errno(rtnl_link_change(sk, link, change, 0));
		link_close(sk, link);
	}
	rtnl_link_put(change);
	if (err)
		pr_debug("link %s%s mtu %u: %s\n", ifname, up ? " up" : "", mtu, strerror(-err));
	return err;
}

int link_set_up(const struct netns *ns, const char *ifname)
{
	return link_set(ns, ifname, true, 0);
}

int link_set_mtu(const struct netns *ns, const char *ifname, unsigned mtu)
{
	return mtu ? link_set(ns, ifname, false, mtu) : -EINVAL;
}

/* Read a link's MTU, MAC or flags in one request. */
static int link_query(const struct netns *ns, const char *ifname, unsigned *mtu,
		      uint8_t mac[6], unsigned *flags)
{
	struct rtnl_link *link;
	struct nl_sock *sk;
	struct nl_addr *a;
	int err = link_open(ns, ifname, &sk, &link);

	if (err)
		return err;
	if (mtu)
		*mtu = rtnl_link_get_mtu(link);
	if (flags)
		*flags = rtnl_link_get_flags(link);
	if (mac) {
		a = rtnl_link_get_addr(link);
		if (a && nl_addr_get_len(a) == 6)
			memcpy(mac, nl_addr_get_binary_addr(a), 6);
		else
			err = -ENODATA;
	}
	link_close(sk, link);
	return err;
}

int link_get_mac(const struct netns *ns, const char *ifname, uint8_t mac[6])
{
	return link_query(ns, ifname, NULL, mac, NULL);
}

int link_get_mtu(const struct netns *ns, const char *ifname)
{
	unsigned mtu = 0;
	int err = link_query(ns, ifname, &mtu, NULL, NULL);

	return err ? err : (int)mtu;
}

int link_is_up(const struct netns *ns, const char *ifname)
{
	unsigned flags = 0;
	int err = link_query(ns, ifname, NULL, NULL, &flags);

	return err ? err : !!(flags & IFF_UP);
}

int addr_add(const struct netns *ns, const char *ifname, const char *cidr)
{
	struct rtnl_addr *addr = NULL;
	struct nl_addr *local = NULL;
	struct nl_sock *sk = NULL;
	int ifindex, err;

	ifindex = link_ifindex(ns, ifname);
	if (ifindex < 0)
		return ifindex;
	err = nl_errno(nl_addr_parse(cidr, AF_UNSPEC, &local));
	if (err)
		goto out;
	if (nl_addr_get_family(local) != AF_INET && nl_addr_get_family(local) != AF_INET6) {
		err = -EAFNOSUPPORT;
		goto out;
	}
	addr = rtnl_addr_alloc();
	if (!addr) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_addr_set_ifindex(addr, ifindex);
	rtnl_addr_set_family(addr, nl_addr_get_family(local));
	err = nl_errno(rtnl_addr_set_local(addr, local));
	if (err)
		goto out;
	/* No duplicate address detection: usable as soon as it is added. */
	if (nl_addr_get_family(local) == AF_INET6)
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	err = nl_open(ns, &sk);
	if (err)
		goto out;
	err = nl_errno(rtnl_addr_add(sk, addr, 0));
out:
	if (err)
		pr_debug("addr %s on %s: %s\n", cidr, ifname, strerror(-err));
	if (sk)
		nl_socket_free(sk);
	if (addr)
		rtnl_addr_put(addr);
	if (local)
		nl_addr_put(local);
	return err;
}

int neigh_add(const struct netns *ns, const char *ifname, const char *ip, const uint8_t mac[6])
{
	struct nl_addr *dst = NULL, *ll = NULL;
	struct rtnl_neigh *n = NULL;
	struct nl_sock *sk = NULL;
	int ifindex, err;

	ifindex = link_ifindex(ns, ifname);
	if (ifindex < 0)
		return ifindex;
	err = nl_errno(nl_addr_parse(ip, AF_UNSPEC, &dst));
	if (err)
		goto out;
	ll = nl_addr_build(AF_LLC, mac, 6);
	n = rtnl_neigh_alloc();
	if (!ll || !n) {
		err = -ENOMEM;
		goto out;
	}
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_family(n, nl_addr_get_family(dst));
	rtnl_neigh_set_dst(n, dst);
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	err = nl_open(ns, &sk);
	if (err)
		goto out;
	err = nl_errno(rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE));
out:
	if (err)
		pr_debug("neighbour %s on %s: %s\n", ip, ifname, strerror(-err));
	if (sk)
		nl_socket_free(sk);
	if (n)
		rtnl_neigh_put(n);
	if (ll)
		nl_addr_put(ll);
	if (dst)
		nl_addr_put(dst);
	return err;
}

static int route_type_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	int *type = arg;

	if (h->nlmsg_type == RTM_NEWROUTE && nlmsg_datalen(h) >= (int)sizeof(struct rtmsg))
		*type = ((struct rtmsg *)nlmsg_data(h))->rtm_type;
	return NL_OK;
}

/* RTM_GETROUTE for dst: the route type (RTN_LOCAL for an address of the
 * namespace's own) or -errno. */
static int route_type(struct nl_sock *sk, struct nl_addr *dst)
{
	struct rtmsg rtm = {
		.rtm_family = nl_addr_get_family(dst),
		.rtm_dst_len = nl_addr_get_len(dst) * 8,
	};
	struct nl_msg *msg;
	int type = -1, err;

	msg = nlmsg_alloc_simple(RTM_GETROUTE, 0);
	if (!msg)
		return -ENOMEM;
	err = nl_errno(nlmsg_append(msg, &rtm, sizeof(rtm), NLMSG_ALIGNTO));
	if (!err)
		err = nl_errno(nla_put_addr(msg, RTA_DST, dst));
	if (!err) {
		err = nl_send_auto(sk, msg);
		err = err < 0 ? nl_errno(err) : 0;
	}
	if (!err)
		err = nl_errno(nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM,
						   route_type_cb, &type));
	if (!err)
		err = nl_errno(nl_recvmsgs_default(sk));
	nlmsg_free(msg);
	return err < 0 ? err : type;
}

int addr_wait_local(const struct netns *ns, const char *ip, int timeout_ms)
{
	uint64_t end = now_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct nl_addr *dst = NULL;
	struct nl_sock *sk = NULL;
	int type = -1, err;

	err = nl_errno(nl_addr_parse(ip, AF_UNSPEC, &dst));
	if (err)
		goto out;
	err = nl_open(ns, &sk);
	if (err)
		goto out;
	nl_socket_disable_auto_ack(sk);
	/* Bounded in rounds and time; IPv6 installs the local route from a work item. */
	for (int i = 0; i <= timeout_ms; i++) {
		type = route_type(sk, dst);
		if (type == RTN_LOCAL || now_ns() >= end)
			break;
		sleep_ns(1000000);
	}
	if (type != RTN_LOCAL)
		err = type < 0 && type != -1 ? type : -ETIMEDOUT;
out:
	if (err)
		pr_debug("address %s not usable: %s\n", ip, strerror(-err));
	if (sk)
		nl_socket_free(sk);
	if (dst)
		nl_addr_put(dst);
	return err;
}

/* A socket in ns for ethtool requests on ifname: fd or -errno. */
static int ethtool_socket(const struct netns *ns, const char *ifname)
{
	if (!ifname_ok(ifname))
		return -EINVAL;
	return netns_socket(ns, AF_INET, SOCK_DGRAM, 0);
}

/* One ethtool request (its cmd set) for ifname through fd: 0 or -errno. */
static int ethtool_req(int fd, const char *ifname, void *req)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = req;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

static int ethtool_value(int fd, const char *ifname, uint32_t cmd, uint32_t *val)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *val };
	int err = ethtool_req(fd, ifname, &ev);

	if (!err)
		*val = ev.data;
	return err;
}

int link_ethtool_stat_sum(const struct netns *ns, const char *ifname, const char *suffix,
			  uint64_t *out)
{
	struct ethtool_sset_info *info = NULL;
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *vals = NULL;
	size_t slen = strlen(suffix);
	uint32_t n;
	int fd, err;

	*out = 0;
	fd = ethtool_socket(ns, ifname);
	if (fd < 0)
		return fd;
	info = calloc(1, sizeof(*info) + sizeof(uint32_t));
	if (!info) {
		err = -ENOMEM;
		goto out;
	}
	info->cmd = ETHTOOL_GSSET_INFO;
	info->sset_mask = 1ull << ETH_SS_STATS;
	err = ethtool_req(fd, ifname, info);
	if (err)
		goto out;
	n = info->sset_mask ? info->data[0] : 0;
	names = calloc(1, sizeof(*names) + (size_t)n * ETH_GSTRING_LEN);
	vals = calloc(1, sizeof(*vals) + (size_t)n * sizeof(uint64_t));
	if (!names || !vals) {
		err = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n;
	vals->cmd = ETHTOOL_GSTATS;
	vals->n_stats = n;
	err = ethtool_req(fd, ifname, names);
	if (!err)
		err = ethtool_req(fd, ifname, vals);
	for (uint32_t i = 0; !err && i < n && i < vals->n_stats; i++) {
		const char *name = (const char *)names->data + (size_t)i * ETH_GSTRING_LEN;
		size_t len = strnlen(name, ETH_GSTRING_LEN);

		if (len >= slen && !memcmp(name + len - slen, suffix, slen))
			*out += vals->data[i];
	}
out:
	free(info);
	free(names);
	free(vals);
	close(fd);
	return err;
}

static const struct {
	const char *name;
	uint32_t get, set;
} offloads[] = {
	{ "gro", ETHTOOL_GGRO, ETHTOOL_SGRO },
	{ "gso", ETHTOOL_GGSO, ETHTOOL_SGSO },
	{ "tso", ETHTOOL_GTSO, ETHTOOL_STSO },
};

int link_set_offloads(const struct netns *ns, const char *ifname, int gro, int gso, int tso)
{
	int want[3] = { gro, gso, tso };
	int fd, err = 0;

	fd = ethtool_socket(ns, ifname);
	if (fd < 0)
		return fd;
	for (int i = 0; i < 3 && !err; i++) {
		uint32_t v = want[i] > 0;

		if (want[i] < 0)
			continue;
		err = ethtool_value(fd, ifname, offloads[i].set, &v);
		if (err)
			pr_debug("link %s: cannot turn %s %s: %s\n", ifname, offloads[i].name,
				 want[i] ? "on" : "off", strerror(-err));
	}
	close(fd);
	return err;
}

int link_get_offloads(const struct netns *ns, const char *ifname, int *gro, int *gso, int *tso)
{
	int *out[3] = { gro, gso, tso };
	int fd, err = 0;

	fd = ethtool_socket(ns, ifname);
	if (fd < 0)
		return fd;
	for (int i = 0; i < 3 && !err; i++) {
		uint32_t v = 0;

		if (!out[i])
			continue;
		err = ethtool_value(fd, ifname, offloads[i].get, &v);
		*out[i] = err ? -1 : !!v;
	}
	close(fd);
	return err;
}

int link_set_tx_csum(const struct netns *ns, const char *ifname, bool on)
{
	uint32_t v = on;
	int fd, err;

	fd = ethtool_socket(ns, ifname);
	if (fd < 0)
		return fd;
	err = ethtool_value(fd, ifname, ETHTOOL_STXCSUM, &v);
	close(fd);
	return err;
}

struct link_stats_reader {
	struct nl_sock *sk;
	char ifname[IF_NAMESIZE];
};

int link_stats_open(const struct netns *ns, const char *ifname, struct link_stats_reader **out)
{
	struct link_stats_reader *r;
	int err;

	*out = NULL;
	if (!ifname_ok(ifname))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->ifname, sizeof(r->ifname), "%s", ifname);
	err = nl_open(ns, &r->sk);
	if (err) {
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

int link_stats_read(struct link_stats_reader *r, uint64_t *packets, uint64_t *nohandler)
{
	struct rtnl_link *link = NULL;
	int err = link_get(r->sk, r->ifname, &link);

	if (err)
		return err;
	if (packets)
		*packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
	if (nohandler)
		*nohandler = rtnl_link_get_stat(link, RTNL_LINK_RX_NOHANDLER);
	rtnl_link_put(link);
	return 0;
}

void link_stats_close(struct link_stats_reader *r)
{
	if (!r)
		return;
	nl_socket_free(r->sk);
	free(r);
}

int link_get_rx_stats(const struct netns *ns, const char *ifname, uint64_t *packets,
		      uint64_t *nohandler)
{
	struct link_stats_reader *r;
	int err = link_stats_open(ns, ifname, &r);

	if (!err)
		err = link_stats_read(r, packets, nohandler);
	link_stats_close(r);
	return err;
}
