// SPDX-License-Identifier: GPL-2.0
/* sk_msg ingress redirect for output-drop-vs-sk-msg: what a socket sends to
 * the flow's port goes straight into the peer socket's receive queue. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} socks SEC(".maps");

const volatile __u32 flow_port;  /* host order */
__u32 peer_key;                  /* sockhash key of the receiving socket */
__u64 msg_runs, redirected;

SEC("sk_msg")
int msg_redirect(struct sk_msg_md *msg)
{
	__sync_fetch_and_add(&msg_runs, 1);
	if (msg->remote_port != bpf_htonl(flow_port))
		return SK_PASS;
	if (bpf_msg_redirect_hash(msg, &socks, &peer_key, BPF_F_INGRESS) == SK_PASS)
		__sync_fetch_and_add(&redirected, 1);
	return SK_PASS;
}
