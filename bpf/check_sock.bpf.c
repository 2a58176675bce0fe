// SPDX-License-Identifier: GPL-2.0
/*
 * Sockmap programs for the checks: two stream verdicts (slots 0, 1), an skb
 * verdict (slot 2) and a stream parser that cuts msg_size-byte messages
 * (0: each skb is a message).  Every verdict is SK_PASS: the data goes to
 * the socket it arrived on, through the psock's ingress queue.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "checks.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} map_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} map_b SEC(".maps");

__u32 msg_size;
__u32 corrupt;                   /* sabotage: flip the first byte of each skb */
__u64 parser_runs;
__u64 verdict_runs[4];
__u64 verdict_bytes[4];

SEC("sk_skb/stream_parser")
int sk_parser(struct __sk_buff *skb)
{
	__sync_fetch_and_add(&parser_runs, 1);
	return msg_size ? msg_size : skb->len;
}

static __always_inline int verdict(struct __sk_buff *skb, __u32 slot)
{
	__sync_fetch_and_add(&verdict_runs[slot], 1);
	__sync_fetch_and_add(&verdict_bytes[slot], skb->len);
	if (corrupt) {
		__u8 b;

		if (!bpf_skb_load_bytes(skb, 0, &b, 1)) {
			b ^= 0xff;
			bpf_skb_store_bytes(skb, 0, &b, 1, 0);
		}
	}
	return SK_PASS;
}

SEC("sk_skb/stream_verdict") int sk_verdict0(struct __sk_buff *skb) { return verdict(skb, 0); }
SEC("sk_skb/stream_verdict") int sk_verdict1(struct __sk_buff *skb) { return verdict(skb, 1); }
/* libbpf 1.1 has no "sk_skb/verdict": plain sk_skb, attached as BPF_SK_SKB_VERDICT */
SEC("sk_skb") int sk_skb_verdict2(struct __sk_buff *skb) { return verdict(skb, 2); }
