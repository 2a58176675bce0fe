/*
 * Shared by bpf/interfere.bpf.c and bench/interfere*.c: the request every
 * datagram of bench interfere carries (UDP payload, both flows).  Replies
 * are the same bytes; a reply made at the hook has made_at set.
 * Include after vmlinux.h (BPF) or <linux/types.h> (user space).
 */
#ifndef OLAB_BPF_INTERFERE_H
#define OLAB_BPF_INTERFERE_H

#define IFR_MAGIC        0x52464649u /* "IFFR" little-endian */
#define IFR_FLOW_APP     0           /* the second flow: to the socket app */
#define IFR_FLOW_FAST    1           /* the fast path: served at the hook */
#define IFR_MADE_AT_HOOK 1           /* made_at of a reply the hook made */

struct ifr_msg {
	__u32 magic;
	__u8 flow;        /* IFR_FLOW_* */
	__u8 made_at;     /* request: 0; the hook's reply: IFR_MADE_AT_HOOK */
	__u16 slot;       /* the client's window slot */
	__u32 seq;        /* the client's sequence number */
	__u32 pad;
	__u64 sent_ns;    /* CLOCK_MONOTONIC at send */
};

#endif
