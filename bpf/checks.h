/*
 * Shared by the checks' programs (bpf/check_<name>.bpf.c) and the checks.
 * Include after vmlinux.h (BPF) or <linux/types.h> (user space).
 *
 * Packet programs come in numbered slots: each slot counts the check's flow
 * (UDP to flow_port over IPv4), notes the mark it saw, may set a mark,
 * appends its number to a run log (so user space sees the order programs
 * ran in) and returns the verdict user space put in its slot.  Everything is
 * in .bss, mmapped by the skeleton, so verdicts change between phases
 * without reloading.
 */
#ifndef OLAB_BPF_CHECKS_H
#define OLAB_BPF_CHECKS_H

#define CHECK_SLOTS   8
#define CHECK_LOG_MAX 64
#define CHECK_MARK    0x4f4c4142   /* "OLAB" */

/* Slots of bpf/check_pkt.bpf.c: tc_slot0..3, 6, 7 and xdp_slot4..5. */
#define CHECK_XDP_SLOT0 4

#endif
