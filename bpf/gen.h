/*
 * Shared by bpf/gen.bpf.c and user space (lib/gen_*.c): constants of the
 * generated traffic and the flow -> source port mapping.  Include after
 * vmlinux.h (BPF) or <linux/types.h> (user space).
 */
#ifndef OLAB_BPF_GEN_H
#define OLAB_BPF_GEN_H

#define GEN_DPORT        7777   /* UDP/TCP destination port of generated traffic */
#define GEN_SPORT_BASE   10000  /* source port of flow 0 */
#define GEN_MAX_FLOWS    65535  /* every non-zero port once */
#define GEN_ETH_HLEN     14
#define GEN_IP4_HLEN     20
#define GEN_IP6_HLEN     40
#define GEN_UDP_HLEN     8
#define GEN_MIN_FRAME    64     /* Ethernet frame without FCS */
#define GEN_MAX_FRAME    1514   /* MTU 1500 + Ethernet header */

/* Offsets of the UDP header and of its source port/checksum in a frame. */
#define GEN_L4_OFF(fam)  (GEN_ETH_HLEN + ((fam) == 6 ? GEN_IP6_HLEN : GEN_IP4_HLEN))

/*
 * Source port of flow i (0 <= i < GEN_MAX_FLOWS): GEN_SPORT_BASE upwards,
 * wrapping to 1 after 65535, so n flows always give n distinct ports != 0.
 */
static inline __u16 gen_flow_sport(__u32 i)
{
	__u32 p = GEN_SPORT_BASE + i % GEN_MAX_FLOWS;

	return p > 65535 ? p - 65535 : p;
}

/*
 * UDP checksum for a source port, from the one's-complement sum of the rest
 * of the datagram and pseudo header (folded to 16 bits, words as loaded from
 * memory in host order) and the port in network order.  Returns the value to
 * store (in the same memory order); 0 is sent as 0xffff.
 */
static inline __u16 gen_udp_csum_with_port(__u32 partial, __u16 sport_be)
{
	__u32 s = partial + sport_be;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	return s ? s : 0xffff;
}

#endif
