/*
 * Shared by bpf/hooks.bpf.c and user space (lib/hooks.c, lib/apps.c).
 * Include after vmlinux.h (BPF) or <linux/types.h> (user space).
 *
 * Program names are "<family>_<action>": families xdp (native and generic
 * XDP), tc (tc cls_bpf and tcx: same program type and return codes) and sk
 * (sockmap stream verdict), actions empty, count_pass, drop, echo.  The
 * stream parser is sk_parser.
 */
#ifndef OLAB_BPF_HOOKS_H
#define OLAB_BPF_HOOKS_H

/* Sockets a stream hook can hold (the app's accepted connections). */
#define HOOK_SOCKMAP_MAX 1024

/*
 * The sockhash is keyed by socket cookie (SO_COOKIE), which a stream verdict
 * program reads with bpf_get_socket_cookie(), so echo can redirect a
 * message back out of the socket it came from.
 */
typedef __u64 hook_sock_key_t;

#endif
