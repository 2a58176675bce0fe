/*
 * The checks' testbeds: the standard topology with the check_pkt programs,
 * a second veth pair to a namespace of its own, and the check_sock programs.
 */
#include <errno.h>
#include <string.h>
#include "checks/check.h"
#include "netns/link.h"
#include "netns/topo.h"
#include "check_pkt.skel.h"
#include "check_sock.skel.h"
#include "lib/run.h"

static void topo_undo(void *t, void *unused)
{
	topo_down(t);
}

static void skel_undo(void *skel, void *unused)
{
	check_pkt__destroy(*(struct check_pkt **)skel);
}

static void sock_undo(void *skel, void *unused)
{
	check_sock__destroy(skel);
}

static void ns_undo(void *ns, void *unused)
{
	netns_destroy(ns);
}

int check_testbed(struct check_ctx *ctx, struct topo *t)
{
	struct topo_opts o = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };
	int err = check_defer(ctx, topo_undo, t, NULL);

	if (err)
		return err;
	err = topo_up(&o, t);
	return err ? check_error(ctx, err, "testbed: %s", topo_last_error()) : 0;
}

int check_pkt_testbed(struct check_ctx *ctx, struct topo *t, struct check_pkt **skel, uint16_t port)
{
	int err;

	*skel = NULL;
	err = check_testbed(ctx, t) ?: check_defer(ctx, skel_undo, skel, NULL);
	if (err)
		return err;
	*skel = check_pkt__open_and_load();
	if (!*skel)
		return check_error(ctx, -errno, "load check_pkt: %s", strerror(errno));
	(*skel)->bss->flow_port = port;
	return 0;
}

int check_sock_load(struct check_ctx *ctx, struct check_sock **skel)
{
	*skel = check_sock__open_and_load();
	if (!*skel)
		return check_error(ctx, -errno, "load check_sock: %s", strerror(errno));
	return check_defer(ctx, sock_undo, *skel, NULL);
}

int check_lo_ns(struct check_ctx *ctx, const char *suffix, struct netns *ns)
{
	int err = netns_create(suffix, ns);

	if (!err)
		err = check_defer(ctx, ns_undo, ns, NULL) ?: link_set_up(ns, "lo");
	return err ? check_error(ctx, err, "namespace: %s", strerror(-err)) : 0;
}

int check_router_link(struct check_ctx *ctx, const struct topo *t, const char *ns_suffix,
		      const char *near_sfx, const char *far_sfx, const char *net,
		      struct check_link *l)
{
	int err = check_link_add(ctx, &t->dut, ns_suffix, near_sfx, far_sfx, net, l);

	if (!err)
		err = check_tool(ctx, &t->gen, "ip route add %s.0/24 via %s", net, t->ip4_dut);
	if (!err)
		err = check_tool(ctx, &t->dut, "sysctl -qw net.ipv4.ip_forward=1");
	return err;
}

int check_send_flow(struct check_ctx *ctx, const char *phase, const struct topo *t,
		    uint16_t sport, uint16_t dport, int n)
{
	int sent = check_udp_send(&t->gen, t->ip4_dut, sport, dport, n, 64);

	check_settle();
	if (sent != n)
		return check_error(ctx, -EIO, "%s: sent %d of %d datagrams", phase, sent, n);
	return 0;
}

int check_link_add(struct check_ctx *ctx, const struct netns *from, const char *ns_suffix,
		   const char *near_sfx, const char *far_sfx, const char *net, struct check_link *l)
{
	char cidr[32], ip[32];
	int err;

	err = netns_create(ns_suffix, &l->ns);
	if (!err)
		err = check_defer(ctx, ns_undo, &l->ns, NULL);
	if (!err)
		err = run_name(l->if_near, sizeof(l->if_near), near_sfx);
	if (!err)
		err = run_name(l->if_far, sizeof(l->if_far), far_sfx);
	if (!err)
		err = veth_create(from, l->if_near, &l->ns, l->if_far, 1500);
	if (!err)
		err = link_set_up(from, l->if_near);
	if (!err)
		err = link_set_up(&l->ns, l->if_far);
	if (!err)
		err = link_set_up(&l->ns, "lo");
	snprintf(cidr, sizeof(cidr), "%s.1/24", net);
	if (!err)
		err = addr_add(from, l->if_near, cidr);
	snprintf(cidr, sizeof(cidr), "%s.2/24", net);
	if (!err)
		err = addr_add(&l->ns, l->if_far, cidr);
	if (!err)
		err = link_get_mac(from, l->if_near, l->mac_near);
	if (!err)
		err = link_get_mac(&l->ns, l->if_far, l->mac_far);
	snprintf(ip, sizeof(ip), "%s.2", net);
	if (!err)
		err = neigh_add(from, l->if_near, ip, l->mac_far);
	if (!err)
		err = addr_wait_local(&l->ns, ip, 2000);
	snprintf(ip, sizeof(ip), "%s.1", net);
	if (!err)
		err = neigh_add(&l->ns, l->if_far, ip, l->mac_near);
	if (err)
		return check_error(ctx, err, "second link: %s", strerror(-err));
	l->ifindex_near = link_ifindex(from, l->if_near);
	l->ifindex_far = link_ifindex(&l->ns, l->if_far);
	return 0;
}
