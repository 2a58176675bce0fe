/*
 * Shared by lib/hooks.c (the table and each hook's attach/detach) and
 * lib/hooks_inst.c (instances); the public interface is lib/hooks.h.
 */
#ifndef OLAB_HOOKS_INTERNAL_H
#define OLAB_HOOKS_INTERNAL_H
#include <net/if.h>
#include <stdbool.h>
#include "lib/hooks.h"
#include "hooks.skel.h"

struct hook_inst {
	const struct hook_desc *desc;
	enum hook_action action;
	struct hooks *skel;
	struct bpf_program *prog;    /* the action's program */
	struct bpf_program *parser;  /* sk_parser, stream hooks with a parser */
	char ns_name[64];
	char ifname[IF_NAMESIZE];
	int ifindex;
	int link_fd;                 /* tcx */
	int map_fd;                  /* sockhash, stream hooks */
	bool qdisc_created;          /* tc: we made clsact, so we remove it */
	bool attached;
	int cleanup;
};

#endif
