// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_skb egress programs for the checks, slots 0..3: each counts the
 * check's flow (UDP to flow_port over IPv4), appends its slot to the run
 * log and allows (verdict 1) or denies (0) as user space says.  A cgroup_skb
 * program sees the packet from its IP header on.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "checks.h"

#define PROTO_UDP 17

char LICENSE[] SEC("license") = "GPL";

__u16 flow_port;
__u32 allow[CHECK_SLOTS];
__u64 runs[CHECK_SLOTS];
__u32 log_n;
__u32 log_slot[CHECK_LOG_MAX];

static __always_inline int cg_slot(struct __sk_buff *skb, __u32 slot)
{
	struct iphdr ip;
	struct udphdr udp;
	__u32 i;

	if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.version != 4 || ip.ihl != 5 ||
	    ip.protocol != PROTO_UDP)
		return 1;
	if (bpf_skb_load_bytes(skb, sizeof(ip), &udp, sizeof(udp)) || !flow_port ||
	    udp.dest != bpf_htons(flow_port))
		return 1;
	__sync_fetch_and_add(&runs[slot], 1);
	i = log_n;
	if (i < CHECK_LOG_MAX)
		log_slot[i] = slot;
	log_n = i + 1;
	return allow[slot] ? 1 : 0;
}

SEC("cgroup_skb/egress") int cg_slot0(struct __sk_buff *skb) { return cg_slot(skb, 0); }
SEC("cgroup_skb/egress") int cg_slot1(struct __sk_buff *skb) { return cg_slot(skb, 1); }
SEC("cgroup_skb/egress") int cg_slot2(struct __sk_buff *skb) { return cg_slot(skb, 2); }
SEC("cgroup_skb/egress") int cg_slot3(struct __sk_buff *skb) { return cg_slot(skb, 3); }
