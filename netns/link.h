/* Links inside the run's namespaces, configured through libnl-route-3. */
#ifndef OLAB_LINK_H
#define OLAB_LINK_H
#include <stdint.h>
#include "netns/netns.h"

#define IFNAME_LEN 16

/* In every function here ns == NULL means the calling thread's current
 * network namespace. */

/* A veth pair with end a in ns_a and end b in ns_b; nothing appears in the
 * root namespace, even briefly.  Removed with its namespaces. */
int veth_create(const struct netns *ns_a, const char *name_a,
		const struct netns *ns_b, const char *name_b, unsigned mtu);

int link_ifindex(const struct netns *ns, const char *ifname);   /* >0 or -errno */
int link_set_up(const struct netns *ns, const char *ifname);
int link_set_mtu(const struct netns *ns, const char *ifname, unsigned mtu);
int link_get_mac(const struct netns *ns, const char *ifname, uint8_t mac[6]);
int link_get_mtu(const struct netns *ns, const char *ifname);   /* >0 or -errno */
int link_is_up(const struct netns *ns, const char *ifname);     /* 1, 0 or -errno */
/* cidr: "198.18.0.1/30" or "2001:2::1/64" (IPv6 added with IFA_F_NODAD). */
int addr_add(const struct netns *ns, const char *ifname, const char *cidr);
/* Wait until ip (no prefix length) is a local address of ns, i.e. packets to
 * it are delivered there.  IPv6 installs that route asynchronously, and only
 * once the link has carrier.  0, -ETIMEDOUT or -errno. */
int addr_wait_local(const struct netns *ns, const char *ip, int timeout_ms);
/* Permanent neighbour entry: ip -> mac. */
int neigh_add(const struct netns *ns, const char *ifname, const char *ip, const uint8_t mac[6]);

/* Offloads through the ethtool ioctl: each of gro/gso/tso is 1 on, 0 off, -1 unchanged.
 * link_get_offloads: any pointer may be NULL. */
int link_set_offloads(const struct netns *ns, const char *ifname, int gro, int gso, int tso);
int link_get_offloads(const struct netns *ns, const char *ifname, int *gro, int *gso, int *tso);
/* Sum of the ethtool statistics (ethtool -S) of ifname whose names end in
 * suffix, e.g. "xdp_xmit_errors". */
int link_ethtool_stat_sum(const struct netns *ns, const char *ifname, const char *suffix,
			  uint64_t *out);
/* TX checksum offload: off makes local sockets send complete checksums, which
 * packets turned around by native XDP (XDP_TX) need to stay valid. */
int link_set_tx_csum(const struct netns *ns, const char *ifname, bool on);
/* Received packets, and those dropped for want of a protocol handler. */
int link_get_rx_stats(const struct netns *ns, const char *ifname, uint64_t *packets,
		      uint64_t *nohandler);
/* The same, many times and fast: one netlink socket kept open in ns. */
struct link_stats_reader;
int link_stats_open(const struct netns *ns, const char *ifname, struct link_stats_reader **out);
int link_stats_read(struct link_stats_reader *r, uint64_t *packets, uint64_t *nohandler);
void link_stats_close(struct link_stats_reader *r);

#endif
