// SPDX-License-Identifier: GPL-2.0
/*
 * bench share: the program drops each request and shares a 64 B record of
 * it (struct share_rec, with its bpf_ktime_get_ns() time) with user space
 * through the channel selected by rodata `channel` (bpf/share.h):
 *
 *   packet        the record replaces the UDP payload, the packet shrinks to it and passes
 *   array         ARRAY slot cpu * SLOTS + seq % SLOTS (overwrites; overwritten unread = lost)
 *   hash          HASH key cpu << 48 | seq, BPF_NOEXIST (full = lost)
 *   mmap-ring     BPF_F_MMAPABLE ARRAY, one ring per CPU; head here, tail from user space
 *   ringbuf-*     RINGBUF reserve/submit (epoll: wakeups; poll: BPF_RB_NO_WAKEUP)
 *   af-xdp        (xdp) the record replaces the frame, which shrinks and goes to the XSKMAP
 *   user-ringbuf  the other direction: each request drains user space's commands
 *
 * Packet programs act on UDP over IPv4 to bench_port; the stream program on
 * the sockets whose local port is bench_port (one record per verdict).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "share.h"

#define ETH_P_IP  0x0800
#define PROTO_UDP 17
#define TC_ACT_OK   0
#define TC_ACT_SHOT 2
#define HDRS (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define barrier() asm volatile("" ::: "memory")
#define READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

char LICENSE[] SEC("license") = "GPL";

const volatile __u16 bench_port;
const volatile __u32 channel;

struct share_cpu cpus[SHARE_MAX_CPUS];
struct share_tail tails[SHARE_MAX_CPUS];
__u32 flow_action[SHARE_FLOWS];
__u64 cmd_hist[SHARE_MAX_CPUS][SHARE_HIST]; /* command submit -> drain ns */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHARE_MAX_CPUS * SHARE_SLOTS);
	__type(key, __u32);
	__type(value, struct share_rec);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHARE_HASH_MAX);
	__type(key, __u64);
	__type(value, struct share_rec);
} recs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SHARE_MAX_CPUS * SHARE_SLOTS);
	__type(key, __u32);
	__type(value, struct share_rec);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SHARE_RINGBUF_BYTES);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, SHARE_URB_BYTES);
} urb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, SHARE_XSK_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} sockmap SEC(".maps");

/* The calling CPU's counters (NULL beyond SHARE_MAX_CPUS) and a new record. */
static __always_inline struct share_cpu *start(struct share_rec *r, __u32 len)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct share_cpu *c;

	if (cpu >= SHARE_MAX_CPUS)
		return NULL;
	asm volatile("" : "+r"(cpu));
	c = &cpus[cpu];
	r->seq = ++c->seen;
	r->ktime = bpf_ktime_get_ns();
	r->cpu = cpu;
	r->len = len;
	r->magic = SHARE_MAGIC ^ (__u32)r->seq;
	return c;
}

static __always_inline void put_slot(struct share_rec *dst, const struct share_rec *r)
{
	__builtin_memcpy(dst->data, r->data, SHARE_DATA_LEN);
	dst->ktime = r->ktime;
	dst->cpu = r->cpu;
	dst->len = r->len;
	dst->flow = r->flow;
	dst->magic = r->magic;
	barrier();
	WRITE_ONCE(dst->seq, r->seq); /* last: user space takes seq as "complete" */
}

static __always_inline int to_array(struct share_cpu *c, const struct share_rec *r)
{
	__u32 idx = r->cpu * SHARE_SLOTS + (__u32)(r->seq % SHARE_SLOTS);
	struct share_rec *s = bpf_map_lookup_elem(&slots, &idx);
	__u32 cpu = r->cpu;

	if (!s || cpu >= SHARE_MAX_CPUS)
		return -1;
	put_slot(s, r);
	/* The slot held seq - SLOTS: lost if user space had not read it. */
	return r->seq > SHARE_SLOTS &&
	       READ_ONCE(tails[cpu].tail) < r->seq - SHARE_SLOTS ? -1 : 0;
}

static __always_inline int to_mmap_ring(struct share_cpu *c, const struct share_rec *r)
{
	__u64 head = c->head;
	__u32 cpu = r->cpu, idx;
	struct share_rec *s;

	if (cpu >= SHARE_MAX_CPUS || head - READ_ONCE(tails[cpu].tail) >= SHARE_SLOTS)
		return -1;
	idx = cpu * SHARE_SLOTS + (__u32)(head % SHARE_SLOTS);
	s = bpf_map_lookup_elem(&ring, &idx);
	if (!s)
		return -1;
	put_slot(s, r);
	barrier();
	WRITE_ONCE(c->head, head + 1);
	return 0;
}

static __always_inline int to_ringbuf(const struct share_rec *r)
{
	struct share_rec *s = bpf_ringbuf_reserve(&rb, sizeof(*s), 0);

	if (!s)
		return -1;
	__builtin_memcpy(s, r, sizeof(*s));
	bpf_ringbuf_submit(s, channel == SHARE_CHAN_RINGBUF_POLL ? BPF_RB_NO_WAKEUP : 0);
	return 0;
}

/* bpf_user_ringbuf_drain's ctx must be on the stack: the CPU's index. */
struct drain_ctx {
	__u32 cpu;
};

static long take_cmd(struct bpf_dynptr *d, void *ctx)
{
	struct drain_ctx *x = ctx;
	struct share_cmd cmd;
	struct share_cpu *c;
	__u32 cpu = x->cpu, b;

	if (cpu >= SHARE_MAX_CPUS || bpf_dynptr_read(&cmd, sizeof(cmd), d, 0, 0))
		return 0;
	c = &cpus[cpu];
	c->cmds++;
	if (cmd.seq != c->cmd_last + 1 && c->cmd_last)
		c->cmd_bad++;
	c->cmd_last = cmd.seq;
	flow_action[cmd.flow % SHARE_FLOWS] = cmd.action;
	b = share_bucket(bpf_ktime_get_ns() - cmd.ktime);
	if (b < SHARE_HIST)
		cmd_hist[cpu][b]++;
	return 0;
}

/* Record r in the map channels; 0, or -1 when it was lost. */
static __always_inline int share(struct share_cpu *c, const struct share_rec *r)
{
	__u64 key = (__u64)r->cpu << 48 | r->seq;
	struct drain_ctx x = { .cpu = r->cpu };
	int lost = 0;

	switch (channel) {
	case SHARE_CHAN_ARRAY:
		lost = to_array(c, r);
		break;
	case SHARE_CHAN_HASH:
		lost = bpf_map_update_elem(&recs, &key, r, BPF_NOEXIST) ? -1 : 0;
		break;
	case SHARE_CHAN_MMAP_RING:
		lost = to_mmap_ring(c, r);
		break;
	case SHARE_CHAN_RINGBUF_EPOLL:
	case SHARE_CHAN_RINGBUF_POLL:
		lost = to_ringbuf(r);
		break;
	case SHARE_CHAN_USER_RINGBUF:
		bpf_user_ringbuf_drain(&urb, take_cmd, &x, 0);
		break;
	}
	if (lost)
		c->lost++;
	barrier();
	c->done++;
	return lost;
}

/* ---- packet hooks ---------------------------------------------------- */

/* The benchmark datagram at [data, data_end): its IPv4 header, or NULL. */
static __always_inline struct iphdr *bench_udp(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	if ((void *)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->ihl != 5 || ip->protocol != PROTO_UDP || (ip->frag_off & bpf_htons(0x3fff)))
		return NULL;
	if (bench_port && udp->dest != bpf_htons(bench_port))
		return NULL;
	return ip;
}

/* The record of a frame: its bytes from the IP header on. */
static __always_inline struct share_cpu *frame_rec(void *data, void *data_end,
						   struct share_rec *r)
{
	struct udphdr *udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);

	if (data + SHARE_DATA_OFF + SHARE_DATA_LEN > data_end)
		return NULL;
	__builtin_memcpy(r->data, data + SHARE_DATA_OFF, SHARE_DATA_LEN);
	r->flow = bpf_ntohs(udp->source);
	return start(r, data_end - data);
}

/* Headers of a packet cut to HDRS + one record: lengths, IP checksum, no UDP checksum. */
static __always_inline void shrink_headers(struct iphdr *ip, struct udphdr *udp)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

	ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*udp) + sizeof(struct share_rec));
	ip->check = 0;
	for (int i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;
	udp->len = bpf_htons(sizeof(*udp) + sizeof(struct share_rec));
	udp->check = 0;
}

/*
 * XDP: cut the frame to its headers + the record, which replaces the UDP
 * payload; the packet channel also fixes the headers for the stack.  The
 * live generator recycles its frames without copying them again, so what
 * is written here shows in later frames: only payload and the lengths
 * change (records check addresses and ports, not lengths).
 */
static __always_inline int xdp_shrink(struct xdp_md *ctx, const struct share_rec *r, bool fix)
{
	const int keep = HDRS + sizeof(*r);
	void *data, *data_end;
	int len = ctx->data_end - ctx->data;

	if (len < keep || bpf_xdp_adjust_tail(ctx, keep - len))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + keep > data_end)
		return -1;
	if (fix)
		shrink_headers(data + sizeof(struct ethhdr),
			       data + sizeof(struct ethhdr) + sizeof(struct iphdr));
	__builtin_memcpy(data + HDRS, r, sizeof(*r));
	return 0;
}

SEC("xdp")
int share_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct share_rec r = {};
	struct share_cpu *c;
	long act;

	if (!bench_udp(data, data_end))
		return XDP_PASS;
	c = frame_rec(data, data_end, &r);
	if (!c)
		return XDP_DROP;
	if (channel == SHARE_CHAN_PACKET || channel == SHARE_CHAN_AF_XDP) {
		bool xsk = channel == SHARE_CHAN_AF_XDP;

		if (xdp_shrink(ctx, &r, !xsk)) {
			c->errors++;
			c->lost++;
			c->done++;
			return XDP_DROP;
		}
		act = xsk ? bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP) : XDP_PASS;
		if (act != XDP_PASS && act != XDP_REDIRECT) {
			c->errors++;
			c->lost++;
		}
		c->done++;
		return act;
	}
	share(c, &r);
	return XDP_DROP;
}

SEC("tc")
int share_tc(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct share_rec r = {};
	struct share_cpu *c;

	if (skb->len < HDRS + SHARE_DATA_LEN || bpf_skb_pull_data(skb, HDRS + SHARE_DATA_LEN))
		return TC_ACT_OK;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (!bench_udp(data, data_end))
		return TC_ACT_OK;
	c = frame_rec(data, data_end, &r);
	if (!c)
		return TC_ACT_SHOT;
	r.len = skb->len;
	if (channel != SHARE_CHAN_PACKET) {
		share(c, &r);
		return TC_ACT_SHOT;
	}
	if (skb->len < HDRS + sizeof(r) || bpf_skb_change_tail(skb, HDRS + sizeof(r), 0) ||
	    bpf_skb_store_bytes(skb, HDRS, &r, sizeof(r), 0)) {
		c->errors++;
		c->lost++;
		c->done++;
		return TC_ACT_SHOT;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	c->done++;
	if (data + HDRS > data_end) {
		c->errors++;
		return TC_ACT_SHOT;
	}
	shrink_headers(data + sizeof(struct ethhdr),
		       data + sizeof(struct ethhdr) + sizeof(struct iphdr));
	return TC_ACT_OK;
}

/* ---- stream hook ------------------------------------------------------ */

SEC("sk_skb/stream_verdict")
int share_sk(struct __sk_buff *skb)
{
	struct share_rec r = {};
	struct share_cpu *c;

	if (bench_port && skb->local_port != bench_port)
		return SK_PASS;
	if (!skb->len)  /* no request bytes (seen at connection end) */
		return SK_DROP;
	if (skb->len >= SHARE_DATA_LEN)
		bpf_skb_load_bytes(skb, 0, r.data, SHARE_DATA_LEN);
	c = start(&r, skb->len);
	if (c)
		share(c, &r);
	return SK_DROP;
}
