/*
 * Generating into an existing testbed (gen_topo_attach, see lib/gen.h): its
 * two namespaces by name, and in each the interface with a benchmark-range
 * address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/gen.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/link.h"
#include "netns/netns.h"

static bool in_bench_range4(const struct in_addr *a)
{
	return (ntohl(a->s_addr) & 0xfffe0000u) == 0xc6120000u;  /* 198.18.0.0/15 */
}

static bool in_bench_range6(const struct in6_addr *a)
{
	static const uint8_t pfx[6] = { 0x20, 0x01, 0x00, 0x02, 0x00, 0x00 };  /* 2001:2::/48 */

	return !memcmp(a->s6_addr, pfx, sizeof(pfx));
}

/* The interface of ns with a benchmark-range IPv4 address, and its addresses. */
static int find_end(const struct netns *ns, char *ifname, char *ip4, size_t len4, char *ip6,
		    size_t len6, int *ifindex)
{
	struct ifaddrs *ifa = NULL, *i;
	struct nstoken *tok;
	int err = -ENOENT;

	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	if (getifaddrs(&ifa)) {
		err = -errno;
		goto out;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    !in_bench_range4(&((struct sockaddr_in *)i->ifa_addr)->sin_addr))
			continue;
		snprintf(ifname, IFNAME_LEN, "%s", i->ifa_name);
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip4, len4);
		err = 0;
		break;
	}
	ip6[0] = '\0';
	for (i = ifa; i && !err; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 ||
		    strcmp(i->ifa_name, ifname) ||
		    !in_bench_range6(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			continue;
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, ip6, len6);
		break;
	}
	if (!err) {
		*ifindex = (int)if_nametoindex(ifname);
		if (!*ifindex)
			err = -errno;
	}
out:
	if (ifa)
		freeifaddrs(ifa);
	netns_leave(tok);
	return err;
}

static int open_ns(const char *name, struct netns *ns)
{
	char path[128];

	memset(ns, 0, sizeof(*ns));
	ns->fd = -1;
	ns->cleanup = -1;
	if (!name || strncmp(name, RUN_PREFIX_BASE, strlen(RUN_PREFIX_BASE)) ||
	    strchr(name, '/') || strlen(name) >= sizeof(ns->name))
		return -EINVAL;
	snprintf(ns->name, sizeof(ns->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, name);
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	return ns->fd < 0 ? -errno : 0;
}

int gen_topo_attach(const char *gen_ns, const char *dut_ns, struct topo *t)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->gen.fd = t->dut.fd = -1;
	t->gen.cleanup = t->dut.cleanup = -1;
	t->opts.rx_cpu = -1;
	err = open_ns(gen_ns, &t->gen);
	if (!err)
		err = open_ns(dut_ns, &t->dut);
	if (err) {
		pr_warn("gen: cannot open the testbed namespaces %s, %s: %s\n", gen_ns, dut_ns,
			strerror(-err));
		goto out;
	}
	err = find_end(&t->gen, t->if_gen, t->ip4_gen, sizeof(t->ip4_gen), t->ip6_gen,
		       sizeof(t->ip6_gen), &t->ifindex_gen);
	if (!err)
		err = find_end(&t->dut, t->if_dut, t->ip4_dut, sizeof(t->ip4_dut), t->ip6_dut,
			       sizeof(t->ip6_dut), &t->ifindex_dut);
	if (err) {
		pr_warn("gen: no interface with an address in 198.18.0.0/15 in %s or %s\n", gen_ns,
			dut_ns);
		goto out;
	}
	err = link_get_mac(&t->gen, t->if_gen, t->mac_gen);
	if (!err)
		err = link_get_mac(&t->dut, t->if_dut, t->mac_dut);
	if (!err)
		t->up = true;
out:
	if (err)
		gen_topo_detach(t);
	return err;
}

void gen_topo_detach(struct topo *t)
{
	close_fd(t->gen.fd);
	close_fd(t->dut.fd);
	t->gen.fd = t->dut.fd = -1;
	t->gen.name[0] = t->dut.name[0] = '\0';
	t->up = false;
}
