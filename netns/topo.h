/*
 * The standard two-host testbed: a generator namespace and a device-under-test
 * namespace joined by one veth pair, addressed in 198.18.0.0/15 (and the IPv6
 * benchmarking range 2001:2::/48), with static neighbours.
 */
#ifndef OLAB_TOPO_H
#define OLAB_TOPO_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "netns/link.h"

struct topo_opts {
	unsigned mtu;        /* 0: 1500 */
	int gro, gso, tso;   /* 1/0, -1 leave the veth default */
	bool threaded_napi;  /* NAPI kthread on the DUT veth; a veth has NAPI only
			      * with GRO, so GRO is turned on there when gro is -1
			      * (gro 0 with threaded_napi is -EINVAL) */
	int rx_cpu;          /* CPU that does receive processing on the DUT (RPS), -1 none */
	int instance;        /* 0.. : several testbeds per run */
};

struct topo {
	struct netns gen, dut;
	char if_gen[IFNAME_LEN], if_dut[IFNAME_LEN];
	int ifindex_gen, ifindex_dut;  /* each in its own namespace */
	uint8_t mac_gen[6], mac_dut[6];
	char ip4_gen[16], ip4_dut[16];
	char ip6_gen[48], ip6_dut[48];
	struct topo_opts opts;
	bool up;
};

/* 0 or -errno.  On return every address is usable (local routes in place).
 * On error everything made is removed and topo_last_error() (per thread)
 * says which step failed, e.g. "create the veth pair: File exists". */
int topo_up(const struct topo_opts *o, struct topo *t);
const char *topo_last_error(void);
/* Remove both namespaces (and the veth with them); safe to call twice. */
void topo_down(struct topo *t);
/* Names, addresses and CPU layout. */
json_t *topo_to_json(const struct topo *t);
void topo_print(const struct topo *t, FILE *f);

#endif
