// SPDX-License-Identifier: GPL-2.0
/*
 * Sidecar loopback shortcut (the Cilium / Merbridge pattern): sock_ops puts
 * every established local TCP socket of a listed port into a sockhash keyed
 * by its 4-tuple; sk_msg, run on each sendmsg of those sockets, looks up the
 * peer by the reversed 4-tuple and queues the data straight into the peer's
 * receive queue (BPF_F_INGRESS): no skb, no loopback xmit, no OUTPUT/INPUT.
 * IPv4 only.  A miss (peer not in the map) passes the data to TCP as usual.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2

/* Ports in host order; addresses as the kernel stores them (network order). */
struct sock_key {
	__u32 sip;
	__u32 dip;
	__u32 sport;
	__u32 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 65536);
	__type(key, struct sock_key);
	__type(value, __u64);
} sidecar_socks SEC(".maps");

/* Ports whose connections are shortcut (either end), value != 0. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} accel_ports SEC(".maps");

/* Also shortcut listed ports when neither end is in 127.0.0.0/8 (both ends
 * must still be sockets of this host: same address). */
const volatile bool any_local_address;

__u64 socks_added, socks_add_errors, msgs_redirected, bytes_redirected, msg_misses, msg_runs;

static bool is_loopback(__u32 addr)
{
	return (bpf_ntohl(addr) >> 24) == 127;
}

static bool port_listed(__u32 port)
{
	__u32 *on = bpf_map_lookup_elem(&accel_ports, &port);

	return on && *on;
}

static bool local_pair(__u32 local, __u32 remote)
{
	if (is_loopback(local) && is_loopback(remote))
		return true;
	return any_local_address && local == remote;
}

SEC("sockops")
int sidecar_sockops(struct bpf_sock_ops *skops)
{
	struct sock_key key;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (skops->family != AF_INET || !local_pair(skops->local_ip4, skops->remote_ip4))
		return 1;
	key.sip = skops->local_ip4;
	key.dip = skops->remote_ip4;
	key.sport = skops->local_port;
	key.dport = bpf_ntohl(skops->remote_port);
	if (!port_listed(key.sport) && !port_listed(key.dport))
		return 1;
	if (bpf_sock_hash_update(skops, &sidecar_socks, &key, BPF_NOEXIST))
		__sync_fetch_and_add(&socks_add_errors, 1);
	else
		__sync_fetch_and_add(&socks_added, 1);
	return 1;
}

SEC("sk_msg")
int sidecar_msg(struct sk_msg_md *msg)
{
	struct sock_key peer;
	__u32 size = msg->size;

	__sync_fetch_and_add(&msg_runs, 1);
	if (msg->family != AF_INET)
		return SK_PASS;
	peer.sip = msg->remote_ip4;
	peer.dip = msg->local_ip4;
	peer.sport = bpf_ntohl(msg->remote_port);
	peer.dport = msg->local_port;
	if (bpf_msg_redirect_hash(msg, &sidecar_socks, &peer, BPF_F_INGRESS) != SK_PASS) {
		__sync_fetch_and_add(&msg_misses, 1);
		return SK_PASS;           /* not ours: the normal TCP path */
	}
	__sync_fetch_and_add(&msgs_redirected, 1);
	__sync_fetch_and_add(&bytes_redirected, size);
	return SK_PASS;
}
