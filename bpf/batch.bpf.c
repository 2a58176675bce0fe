// SPDX-License-Identifier: GPL-2.0
/*
 * bench batch: the program holds requests and passes B of them as one packet.
 *
 * UDP at xdp and tc: a request is a datagram with a BATCH_REQ_SIZE payload to
 * bench_port over IPv4.  The program copies it into this CPU's batch buffer
 * (an ARRAY slot per CPU) and drops the packet; the B-th request's packet
 * passes, grown by (B-1) requests (bpf_xdp_adjust_tail / bpf_skb_change_tail)
 * that are written after its own, with IP and UDP lengths fixed, the IP
 * checksum recomputed and the UDP checksum 0.  A held request arms the
 * slot's bpf_timer if it is not pending (CLOCK_MONOTONIC, pinned to the CPU);
 * a batch is flushed when it is flush_ns old (flush_cb):
 * a callback cannot emit a packet, so a batch still partial when it fires
 * goes to the ringbuf `flushed`, which the app reads beside its socket.  A
 * request is thus delivered once: in a batch packet, or in a flush record.
 * On a veth, a native-XDP frame has only its alignment slack as tailroom
 * (growing by 96 B fails with -EINVAL on 6.18), so xdp puts the held
 * requests in front of this one from the headroom (bpf_xdp_adjust_head,
 * about 200 B: B <= 7) when the tail cannot grow; a batch neither can
 * carry goes whole to the same ringbuf as one record (ring_batches), and
 * the packet is dropped.
 * The slot is touched only on its CPU, by the program (NAPI/softirq context)
 * and the pinned timer's softirq, which do not interleave.  If growing or
 * writing the packet fails, the packet passes with its own request alone and
 * the held ones stay for the timer (errors counts it).
 *
 * UDP at sk-skb-verdict: see batchv_sk at the end.
 *
 * TCP at sk-skb-parser: the parser frames B requests as one message, so the
 * verdict runs (and the app wakes) once per B requests; the verdict
 * redirects the message to the same socket's ingress (an SK_PASS behind a
 * parser stalls on 6.18).  A parser cannot be flushed by a timer: a partial
 * batch waits for the rest of its bytes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "counters.h"
#include "hooks.h"
#include "batch.h"

#define ETH_P_IP        0x0800
#define PROTO_UDP       17
#define TC_ACT_OK       0
#define TC_ACT_SHOT     2
#define CLOCK_MONOTONIC 1
#define REQ_OFF         BATCH_UDP_HDRS
#define FLUSH_WORDS     (BATCH_MAX * BATCH_REQ_SIZE / 8)

char LICENSE[] SEC("license") = "GPL";

/* Set before load. */
const volatile __u16 bench_port = 7777;
const volatile __u32 batch_size = 1;        /* B, 1..BATCH_MAX */
const volatile __u64 flush_ns = 200000;     /* the timer's T */

struct batch_cpu_stats stats[OLAB_MAX_CPUS];

struct batch_slot {
	struct bpf_timer timer;
	__u64 first_ns;   /* when the batch's first request was held */
	__u32 count;      /* requests held */
	__u32 inited;
	__u32 armed;      /* the timer is pending */
	__u32 pad;
	__u8 buf[BATCH_MAX * BATCH_REQ_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OLAB_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct batch_slot);
} slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BATCH_RING_SIZE);
} flushed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, HOOK_SOCKMAP_MAX);
	__type(key, hook_sock_key_t);
	__type(value, __u64);
} sockmap SEC(".maps");

static __always_inline struct batch_cpu_stats *this_cpu_stats(void)
{
	__u64 cpu = bpf_get_smp_processor_id();

	if (cpu >= OLAB_MAX_CPUS)
		return NULL;
	asm volatile("" : "+r"(cpu));
	return &stats[cpu];
}

/*
 * The timer: a partial batch T old to the ringbuf (again later if it is
 * full).  It is armed once, not per batch (starting an hrtimer reprograms
 * the clock event device, a VM exit here): a batch younger than T when it
 * fires re-arms it for the rest of its T.
 */
static int flush_cb(void *map, __u32 *key, struct batch_slot *s)
{
	struct batch_cpu_stats *st = this_cpu_stats();
	struct batch_flush_rec *r;
	__u32 n = s->count;
	__u64 age;

	if (!n || n > BATCH_MAX) {
		s->armed = 0;
		return 0;
	}
	age = bpf_ktime_get_ns() - s->first_ns;
	if (age < flush_ns) {
		bpf_timer_start(&s->timer, flush_ns - age, BPF_F_TIMER_CPU_PIN);
		return 0;
	}
	r = bpf_ringbuf_reserve(&flushed, sizeof(*r), 0);
	if (!r) {
		if (st)
			st->errors++;
		bpf_timer_start(&s->timer, flush_ns, BPF_F_TIMER_CPU_PIN);
		return 0;
	}
	r->count = n;
	r->cpu = *key;
	for (int i = 0; i < FLUSH_WORDS; i++)
		((__u64 *)r->reqs)[i] = ((__u64 *)s->buf)[i];
	bpf_ringbuf_submit(r, 0);
	s->count = 0;
	s->armed = 0;
	if (st) {
		st->flushed_reqs += n;
		st->flushes++;
	}
	return 0;
}

static __always_inline struct batch_slot *this_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&slots, &cpu);
}

/* Copy the request at req (BATCH_REQ_SIZE readable bytes) into the slot. */
static __always_inline void hold(struct batch_slot *s, const __u64 *req, struct batch_cpu_stats *st)
{
	__u32 n = s->count;
	__u64 *dst;

	if (n >= BATCH_MAX)
		return;
	dst = (__u64 *)&s->buf[n * BATCH_REQ_SIZE];
	dst[0] = req[0];
	dst[1] = req[1];
	dst[2] = req[2];
	dst[3] = req[3];
	s->count = n + 1;
	if (!s->inited) {
		bpf_timer_init(&s->timer, &slots, CLOCK_MONOTONIC);
		bpf_timer_set_callback(&s->timer, flush_cb);
		s->inited = 1;
	}
	if (n == 0)
		s->first_ns = bpf_ktime_get_ns();
	if (!s->armed) {
		s->armed = 1;
		bpf_timer_start(&s->timer, flush_ns, BPF_F_TIMER_CPU_PIN);
	}
	st->held++;
}

/* The request payload of a benchmark datagram in [data, data_end), or NULL. */
static __always_inline void *bench_req(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = (void *)(ip + 1);

	if (data + REQ_OFF + BATCH_REQ_SIZE > data_end)
		return NULL;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != PROTO_UDP ||
	    (ip->frag_off & bpf_htons(0x3fff)))
		return NULL;
	if (udp->dest != bpf_htons(bench_port) || udp->len != bpf_htons(8 + BATCH_REQ_SIZE))
		return NULL;
	return data + REQ_OFF;
}

/* IPv4 and UDP lengths for payload bytes, IP checksum, UDP checksum 0. */
static __always_inline int fix_headers(void *data, void *data_end, __u32 payload)
{
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

	if (data + REQ_OFF > data_end)
		return -1;
	ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*udp) + payload);
	ip->check = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;
	udp->len = bpf_htons(sizeof(*udp) + payload);
	udp->check = 0;
	return 0;
}

/* Hold this request (true: drop its packet) or emit the batch with it. */
static __always_inline bool should_hold(struct batch_slot *s)
{
	return s->count + 1 < batch_size && s->count < BATCH_MAX - 1;
}

static __always_inline void emitted(struct batch_slot *s, struct batch_cpu_stats *st, __u32 n)
{
	s->count = 0;
	st->batches++;
	st->batched_reqs += n + 1;
}

/*
 * xdp: a veth frame has only its alignment slack as tailroom (a grow of
 * 96 B fails with -EINVAL on 6.18), so a batch that does not fit goes whole
 * to the ringbuf as one record (the packet is dropped); the held requests
 * stay for the timer if the ringbuf is full.
 */
static __always_inline int ring_batch(struct batch_slot *s, struct batch_cpu_stats *st,
				      const __u64 *req, __u32 n)
{
	struct batch_flush_rec *r;
	__u64 *dst;

	if (n >= BATCH_MAX)
		return XDP_PASS;
	r = bpf_ringbuf_reserve(&flushed, sizeof(*r), 0);
	if (!r) {
		st->errors++;
		st->batches++;
		st->batched_reqs++;
		return XDP_PASS;
	}
	for (int i = 0; i < FLUSH_WORDS; i++)
		((__u64 *)r->reqs)[i] = ((__u64 *)s->buf)[i];
	dst = (__u64 *)&r->reqs[n * BATCH_REQ_SIZE];
	dst[0] = req[0];
	dst[1] = req[1];
	dst[2] = req[2];
	dst[3] = req[3];
	r->count = n + 1;
	r->cpu = bpf_get_smp_processor_id() | BATCH_REC_FULL;
	bpf_ringbuf_submit(r, 0);
	s->count = 0;
	st->ring_batches++;
	st->batched_reqs += n + 1;
	return XDP_DROP;
}

/*
 * Make room for grow bytes of held requests between the headers and this
 * request from the headroom: move the headers grow bytes forward and write
 * the held requests after them.  0, or -1 with the packet as it was.
 */
static __always_inline int grow_head(struct xdp_md *ctx, __u32 grow, const __u8 *held)
{
	__u8 hdr[REQ_OFF];

	if (bpf_xdp_adjust_head(ctx, -(int)grow))
		return -1;
	if (bpf_xdp_load_bytes(ctx, grow, hdr, sizeof(hdr)) ||
	    bpf_xdp_store_bytes(ctx, 0, hdr, sizeof(hdr)) ||
	    bpf_xdp_store_bytes(ctx, REQ_OFF, (void *)held, grow)) {
		bpf_xdp_adjust_head(ctx, (int)grow);
		return -1;
	}
	return 0;
}

SEC("xdp")
int batch_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct batch_cpu_stats *st = this_cpu_stats();
	struct batch_slot *s = this_slot();
	__u64 *req = bench_req(data, data_end), own[4];
	__u32 n, grow;

	if (!st || !s)
		return XDP_PASS;
	if (!req) {
		st->other++;
		return XDP_PASS;
	}
	if (should_hold(s)) {
		hold(s, req, st);
		return XDP_DROP;
	}
	n = s->count;
	if (n == 0 || n >= BATCH_MAX) {
		emitted(s, st, 0);
		return XDP_PASS;
	}
	grow = n * BATCH_REQ_SIZE;
	/* Packet pointers do not survive the helper, even when it fails. */
	own[0] = req[0];
	own[1] = req[1];
	own[2] = req[2];
	own[3] = req[3];
	if (bpf_xdp_adjust_tail(ctx, grow)) {
		/* No tailroom: in front of this request, if the headroom has it. */
		if (grow_head(ctx, grow, s->buf))
			return ring_batch(s, st, own, n);
	} else if (bpf_xdp_store_bytes(ctx, REQ_OFF + BATCH_REQ_SIZE, s->buf, grow)) {
		bpf_xdp_adjust_tail(ctx, -(int)grow);
		goto alone;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (fix_headers(data, data_end, grow + BATCH_REQ_SIZE))
		return XDP_DROP; /* cannot happen: the headers were there */
	emitted(s, st, n);
	return XDP_PASS;
alone:
	/* This request alone; the held ones go with the timer's flush. */
	st->errors++;
	st->batches++;
	st->batched_reqs++;
	return XDP_PASS;
}

SEC("tc")
int batch_tc(struct __sk_buff *skb)
{
	struct batch_cpu_stats *st = this_cpu_stats();
	struct batch_slot *s = this_slot();
	void *data, *data_end;
	__u64 *req;
	__u32 n, grow;

	if (!st || !s)
		return TC_ACT_OK;
	if (skb->len >= REQ_OFF + BATCH_REQ_SIZE && bpf_skb_pull_data(skb, REQ_OFF + BATCH_REQ_SIZE))
		return TC_ACT_OK;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	req = bench_req(data, data_end);
	if (!req) {
		st->other++;
		return TC_ACT_OK;
	}
	if (should_hold(s)) {
		hold(s, req, st);
		return TC_ACT_SHOT;
	}
	n = s->count;
	if (n == 0 || n >= BATCH_MAX) {
		emitted(s, st, 0);
		return TC_ACT_OK;
	}
	grow = n * BATCH_REQ_SIZE;
	if (bpf_skb_change_tail(skb, skb->len + grow, 0))
		goto alone;
	if (bpf_skb_store_bytes(skb, REQ_OFF + BATCH_REQ_SIZE, s->buf, grow, 0) ||
	    bpf_skb_pull_data(skb, REQ_OFF)) {
		bpf_skb_change_tail(skb, skb->len - grow, 0);
		goto alone;
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (fix_headers(data, data_end, grow + BATCH_REQ_SIZE))
		return TC_ACT_SHOT; /* cannot happen: pulled above */
	emitted(s, st, n);
	return TC_ACT_OK;
alone:
	st->errors++;
	st->batches++;
	st->batched_reqs++;
	return TC_ACT_OK;
}

/* ---- TCP: the parser frames B requests as one message ------------------ */

SEC("sk_skb/stream_parser")
int batch_parser(struct __sk_buff *skb)
{
	__u32 b = batch_size;

	return (b ? b : 1) * BATCH_REQ_SIZE;
}

SEC("sk_skb/stream_verdict")
int batch_sk(struct __sk_buff *skb)
{
	struct batch_cpu_stats *st = this_cpu_stats();
	hook_sock_key_t key = bpf_get_socket_cookie(skb);
	long ret;

	if (skb->local_port != bench_port)
		return SK_PASS;
	/* Ingress of the same socket: the app reads the message. */
	ret = bpf_sk_redirect_hash(skb, &sockmap, &key, BPF_F_INGRESS);
	if (st) {
		if (ret == SK_PASS) {
			st->batches++;
			st->batched_reqs += batch_size ? batch_size : 1;
		} else {
			st->errors++;
		}
	}
	return ret;
}

/*
 * UDP at sk-skb-verdict (prefix batchv): a UDP socket in the sockhash runs
 * the verdict (no parser) on each datagram's payload.  It holds requests
 * like the packet hooks (SK_DROP), grows the B-th datagram with
 * bpf_skb_change_tail and passes it to the socket (SK_PASS: no parser, so
 * no stall); the timer flushes to the same ringbuf.
 */
SEC("sk_skb/stream_verdict")
int batchv_sk(struct __sk_buff *skb)
{
	struct batch_cpu_stats *st = this_cpu_stats();
	struct batch_slot *s = this_slot();
	__u64 req[4];
	__u32 n, grow;

	if (!st || !s || skb->local_port != bench_port)
		return SK_PASS;
	if (skb->len != BATCH_REQ_SIZE || bpf_skb_load_bytes(skb, 0, req, sizeof(req))) {
		st->other++;
		return SK_PASS;
	}
	if (should_hold(s)) {
		hold(s, req, st);
		return SK_DROP;
	}
	n = s->count;
	if (n == 0 || n >= BATCH_MAX) {
		emitted(s, st, 0);
		return SK_PASS;
	}
	grow = n * BATCH_REQ_SIZE;
	if (bpf_skb_change_tail(skb, BATCH_REQ_SIZE + grow, 0))
		goto alone;
	if (bpf_skb_store_bytes(skb, BATCH_REQ_SIZE, s->buf, grow, 0)) {
		bpf_skb_change_tail(skb, BATCH_REQ_SIZE, 0);
		goto alone;
	}
	emitted(s, st, n);
	return SK_PASS;
alone:
	st->errors++;
	st->batches++;
	st->batched_reqs++;
	return SK_PASS;
}
