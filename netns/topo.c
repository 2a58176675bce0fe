/* The standard gen <-> dut testbed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/topo.h"

#define TOPO_MAX_INSTANCE 255

static int set_name(char *buf, size_t len, const char *fmt, int instance)
{
	int n = snprintf(buf, len, fmt, run_prefix(), instance);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static __thread char topo_err[192];

const char *topo_last_error(void)
{
	return topo_err;
}

/* Offloads, lo and the veth end up, addresses (neighbours come later: they
 * need the peer's MAC).  *step names what failed. */
static int end_setup(const struct netns *ns, const char *ifname, const struct topo_opts *o,
		     const char *ip4, const char *ip6, const char **step)
{
	char cidr[64];
	int err;

	*step = "set offloads";
	err = link_set_offloads(ns, ifname, o->gro, o->gso, o->tso);
	if (err)
		goto out;
	*step = "bring links up";
	err = link_set_up(ns, "lo");
	if (!err)
		err = link_set_up(ns, ifname);
	if (err)
		goto out;
	*step = "add addresses";
	snprintf(cidr, sizeof(cidr), "%s/24", ip4);
	err = addr_add(ns, ifname, cidr);
	if (err)
		goto out;
	snprintf(cidr, sizeof(cidr), "%s/64", ip6);
	err = addr_add(ns, ifname, cidr);
out:
	return err;
}

static int neigh_both(const struct netns *ns, const char *ifname, const char *ip4,
		      const char *ip6, const uint8_t mac[6])
{
	int err = neigh_add(ns, ifname, ip4, mac);

	return err ? err : neigh_add(ns, ifname, ip6, mac);
}

static int check_opts(const struct topo_opts *o, unsigned mtu, const char **step)
{
	*step = "options";
	if (o->instance < 0 || o->instance > TOPO_MAX_INSTANCE) {
		*step = "instance (0..255)";
		return -EINVAL;
	}
	if (mtu < 68 || mtu > 65535) {
		*step = "mtu";
		return -EINVAL;
	}
	if (o->rx_cpu >= 64 || (o->rx_cpu >= 0 && o->rx_cpu >= cpu_count())) {
		*step = "rx cpu";
		return -EINVAL;
	}
	/* A veth has NAPI only with GRO (or XDP): threaded NAPI needs it. */
	if (o->threaded_napi && o->gro == 0) {
		*step = "threaded NAPI on a veth needs GRO";
		return -EINVAL;
	}
	return 0;
}

/* Names, addresses, both namespaces, the veth pair and its two ends. */
static int topo_create(struct topo *t, const struct topo_opts *o, struct topo_opts *dut_o,
		       const char **step)
{
	char sfx[32];
	int err;

	*step = "interface names";
	err = set_name(t->if_gen, sizeof(t->if_gen), "%sg%d", o->instance);
	if (!err)
		err = set_name(t->if_dut, sizeof(t->if_dut), "%sd%d", o->instance);
	if (err)
		return err;
	snprintf(t->ip4_gen, sizeof(t->ip4_gen), "198.18.%d.1", o->instance);
	snprintf(t->ip4_dut, sizeof(t->ip4_dut), "198.18.%d.2", o->instance);
	snprintf(t->ip6_gen, sizeof(t->ip6_gen), "2001:2:0:%x::1", o->instance);
	snprintf(t->ip6_dut, sizeof(t->ip6_dut), "2001:2:0:%x::2", o->instance);

	*step = "create the namespaces";
	snprintf(sfx, sizeof(sfx), "gen%d", o->instance);
	err = netns_create(sfx, &t->gen);
	if (err)
		return err;
	snprintf(sfx, sizeof(sfx), "dut%d", o->instance);
	err = netns_create(sfx, &t->dut);
	if (err)
		return err;

	*step = "create the veth pair";
	err = veth_create(&t->gen, t->if_gen, &t->dut, t->if_dut, t->opts.mtu);
	if (err)
		return err;
	err = end_setup(&t->gen, t->if_gen, o, t->ip4_gen, t->ip6_gen, step);
	if (err)
		return err;
	/* GRO on the DUT end gives it NAPI, which threaded NAPI needs. */
	*dut_o = *o;
	if (o->threaded_napi && o->gro < 0)
		dut_o->gro = 1;
	return end_setup(&t->dut, t->if_dut, dut_o, t->ip4_dut, t->ip6_dut, step);
}

/* Both ends' MACs and ifindexes, and static neighbours to each other. */
static int topo_link_ends(struct topo *t, const char **step)
{
	int err;

	*step = "read the links back";
	t->ifindex_gen = link_ifindex(&t->gen, t->if_gen);
	t->ifindex_dut = link_ifindex(&t->dut, t->if_dut);
	err = t->ifindex_gen < 0 ? t->ifindex_gen : t->ifindex_dut < 0 ? t->ifindex_dut : 0;
	if (!err)
		err = link_get_mac(&t->gen, t->if_gen, t->mac_gen);
	if (!err)
		err = link_get_mac(&t->dut, t->if_dut, t->mac_dut);
	if (err)
		return err;
	*step = "add static neighbours";
	err = neigh_both(&t->gen, t->if_gen, t->ip4_dut, t->ip6_dut, t->mac_dut);
	if (!err)
		err = neigh_both(&t->dut, t->if_dut, t->ip4_gen, t->ip6_gen, t->mac_gen);
	return err;
}

/* What needs both ends up: GRO re-announced, addresses usable, threaded
 * NAPI and RPS on the DUT. */
static int topo_settle(struct topo *t, const struct topo_opts *o, const struct topo_opts *dut_o,
		       const char **step)
{
	int err = 0;

	/* A veth recomputes whether it may send XDP frames to its peer (the
	 * peer has GRO, hence NAPI) only when the peer's GRO changes while both
	 * are up: without this toggle, XDP_TX/redirect into a GRO-only peer is
	 * dropped on 6.18.  The live-frames generator relies on it. */
	*step = "re-announce GRO to the peer";
	if (o->gro == 1)
		err = link_set_offloads(&t->gen, t->if_gen, 0, -1, -1) ?:
		      link_set_offloads(&t->gen, t->if_gen, 1, -1, -1);
	if (!err && dut_o->gro == 1)
		err = link_set_offloads(&t->dut, t->if_dut, 0, -1, -1) ?:
		      link_set_offloads(&t->dut, t->if_dut, 1, -1, -1);
	if (err)
		return err;

	/* Usable now: IPv6 local routes appear a moment after carrier. */
	*step = "wait for the addresses";
	err = addr_wait_local(&t->gen, t->ip4_gen, 2000) ?:
	      addr_wait_local(&t->gen, t->ip6_gen, 2000) ?:
	      addr_wait_local(&t->dut, t->ip4_dut, 2000) ?:
	      addr_wait_local(&t->dut, t->ip6_dut, 2000);
	if (err)
		return err;

	if (o->threaded_napi) {
		*step = "turn on threaded NAPI";
		err = link_set_threaded_napi(&t->dut, t->if_dut, true);
		if (err)
			return err;
	}
	if (o->rx_cpu >= 0) {
		*step = "set the RPS mask";
		err = link_set_rps(&t->dut, t->if_dut, 1ull << o->rx_cpu);
	}
	return err;
}

int topo_up(const struct topo_opts *o, struct topo *t)
{
	const char *step = "";
	struct topo_opts dut_o;
	int err;

	memset(t, 0, sizeof(*t));
	t->gen.fd = t->dut.fd = -1;
	t->gen.cleanup = t->dut.cleanup = -1;
	t->opts = *o;
	t->opts.mtu = o->mtu ? o->mtu : 1500;
	topo_err[0] = '\0';
	err = check_opts(o, t->opts.mtu, &step) ?:
	      topo_create(t, o, &dut_o, &step) ?:
	      topo_link_ends(t, &step) ?:
	      topo_settle(t, o, &dut_o, &step);
	if (err) {
		snprintf(topo_err, sizeof(topo_err), "%s: %s", step, strerror(-err));
		pr_debug("topo: %s\n", topo_err);
		topo_down(t);
		return err;
	}
	t->up = true;
	pr_debug("topo: %s (%s) <-> %s (%s) up\n", t->gen.name, t->if_gen, t->dut.name, t->if_dut);
	return 0;
}

void topo_down(struct topo *t)
{
	if (!t)
		return;
	netns_destroy(&t->dut);
	netns_destroy(&t->gen);
	t->up = false;
}

static void mac_str(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Live state of one end, read back from the kernel. */
struct end_state {
	int mtu, up;
	int gro, gso, tso;
};

static void end_read(const struct netns *ns, const char *ifname, struct end_state *s)
{
	s->mtu = link_get_mtu(ns, ifname);
	s->up = link_is_up(ns, ifname);
	s->gro = s->gso = s->tso = -1;
	link_get_offloads(ns, ifname, &s->gro, &s->gso, &s->tso);
}

static json_t *onoff_json(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

static json_t *end_json(const struct netns *ns, const char *ifname, int ifindex,
			const uint8_t mac[6], const char *ip4, const char *ip6)
{
	struct end_state s;
	char m[24];

	end_read(ns, ifname, &s);
	mac_str(mac, m, sizeof(m));
	return json_pack("{s:s, s:s, s:i, s:s, s:s+, s:s+, s:o, s:o, s:{s:o, s:o, s:o}}",
			 "netns", ns->name, "ifname", ifname, "ifindex", ifindex, "mac", m,
			 "ipv4", ip4, "/24", "ipv6", ip6, "/64",
			 "mtu", s.mtu > 0 ? json_integer(s.mtu) : json_null(),
			 "up", onoff_json(s.up),
			 "offloads", "gro", onoff_json(s.gro), "gso", onoff_json(s.gso),
			 "tso", onoff_json(s.tso));
}

/* CPU layout on the DUT end: threaded NAPI and the RPS mask, read back. */
static void cpu_read(const struct topo *t, int *threaded, long long *rps)
{
	uint64_t mask = 0;

	*threaded = link_get_threaded_napi(&t->dut, t->if_dut);
	*rps = link_get_rps(&t->dut, t->if_dut, &mask) ? -1 : (long long)mask;
}

json_t *topo_to_json(const struct topo *t)
{
	long long rps;
	int threaded;
	char mask[24];

	if (!t->up)
		return json_pack("{s:b}", "up", 0);
	cpu_read(t, &threaded, &rps);
	snprintf(mask, sizeof(mask), "%llx", rps < 0 ? 0 : rps);
	return json_pack("{s:b, s:i, s:o, s:o, s:{s:i, s:s, s:o, s:o, s:o}}",
			 "up", 1, "instance", t->opts.instance,
			 "gen", end_json(&t->gen, t->if_gen, t->ifindex_gen, t->mac_gen,
					 t->ip4_gen, t->ip6_gen),
			 "dut", end_json(&t->dut, t->if_dut, t->ifindex_dut, t->mac_dut,
					 t->ip4_dut, t->ip6_dut),
			 "cpu", "count", cpu_count(), "dut_ifname", t->if_dut,
			 "threaded_napi", onoff_json(threaded),
			 "rps_cpus", rps < 0 ? json_null() : json_string(mask),
			 "rx_cpu", t->opts.rx_cpu >= 0 ? json_integer(t->opts.rx_cpu) : json_null());
}

static const char *onoff(int v)
{
	return v < 0 ? "?" : v ? "on" : "off";
}

static void end_print(FILE *f, const char *role, const struct netns *ns, const char *ifname,
		      int ifindex, const uint8_t mac[6], const char *ip4, const char *ip6)
{
	struct end_state s;
	char m[24];

	end_read(ns, ifname, &s);
	mac_str(mac, m, sizeof(m));
	fprintf(f, "  %-4s netns %s  if %s (index %d)  mac %s\n", role, ns->name, ifname, ifindex, m);
	fprintf(f, "       %s/24  %s/64  mtu %d  %s  gro %s gso %s tso %s\n", ip4, ip6, s.mtu,
		s.up > 0 ? "up" : "down", onoff(s.gro), onoff(s.gso), onoff(s.tso));
}

void topo_print(const struct topo *t, FILE *f)
{
	long long rps;
	int threaded;

	if (!t->up) {
		fprintf(f, "testbed: down\n");
		return;
	}
	cpu_read(t, &threaded, &rps);
	fprintf(f, "testbed %d:\n", t->opts.instance);
	end_print(f, "gen", &t->gen, t->if_gen, t->ifindex_gen, t->mac_gen, t->ip4_gen, t->ip6_gen);
	end_print(f, "dut", &t->dut, t->if_dut, t->ifindex_dut, t->mac_dut, t->ip4_dut, t->ip6_dut);
	fprintf(f, "  cpu  %d CPUs  dut threaded NAPI %s  rps_cpus ", cpu_count(), onoff(threaded));
	if (rps < 0)
		fprintf(f, "?");
	else
		fprintf(f, "%llx", rps);
	if (t->opts.rx_cpu >= 0)
		fprintf(f, " (rx cpu %d)", t->opts.rx_cpu);
	fputc('\n', f);
}
