/*
 * bench share, user space: each channel's reader (or, for user-ringbuf, the
 * command producer), run by one thread pinned to the app CPU.  Every read
 * that returns records is timed (the user-space access time, per record as
 * in the paper's Table 4) and its records are checked: magic, CPU, request
 * bytes, and seq strictly increasing per CPU (a jump is counted as a gap).
 * Delivery latency is the read's CLOCK_MONOTONIC time minus the record's
 * bpf_ktime_get_ns() (the same clock).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_xdp.h>
#include <linux/if_link.h>
#include <linux/sock_diag.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/xsk.h>
#include "bench/share.h"
#include "bpf/gen.h"
#include "lib/log.h"
#include "lib/util.h"
#include "netns/cpu.h"
#include "netns/netns.h"
#include "share.skel.h"

#define BATCH          64
#define RB_CAP         32768             /* > records a RINGBUF holds */
#define XSK_FRAMES     4096
#define RUN_MAX_NS     (600ull * 1000000000ull)
#define DRAIN_IDLE_NS  (20ull * 1000000ull)
#define DRAIN_MAX_NS   (1000ull * 1000000ull)
#define UDP_RCVBUF     (4 << 20)

struct share_io {
	struct share *skel;
	int channel, ncpu, map_fd, udp_fd;
	uint8_t expect[SHARE_DATA_LEN];
	bool check_data;
	struct share_rec *ring;
	size_t ring_len;
	struct ring_buffer *rb;
	struct user_ring_buffer *urb;
	void *umem_buf;
	size_t umem_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq, rx;
	struct share_consumer *k;  /* the running consumer (ringbuf callback) */
};

struct share_consumer {
	struct share_io *io;
	pthread_t th;
	clockid_t clk;
	int cpu;
	volatile int stop, quiesce;
	uint64_t last[SHARE_MAX_CPUS];
	uint64_t ext_base, cmd_seq, rate, limit;
	struct share_stats st;
	struct share_rec *batch;
	size_t n, cap;
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ADD(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

/* ---- the readers: records into k->batch, the count returned ---------- */

/* ARRAY: slot of each CPU's next seq, one lookup syscall each. */
static size_t read_array(struct share_consumer *k)
{
	struct share_io *io = k->io;
	size_t n = 0;

	for (int c = 0; c < io->ncpu; c++) {
		uint64_t next = k->last[c] + 1, done = LOAD(io->skel->bss->cpus[c].done);
		uint32_t idx = c * SHARE_SLOTS;
		struct share_rec *r = &k->batch[n];

		if (done < next)
			continue;
		if (done - next >= SHARE_SLOTS - BATCH) { /* overwritten: catch up */
			uint64_t to = done - SHARE_SLOTS / 2;

			k->st.gaps += to - next;
			k->last[c] = to - 1;
			next = to;
		}
		idx += next % SHARE_SLOTS;
		if (bpf_map_lookup_elem(io->map_fd, &idx, r))
			continue;
		if (r->seq == next && r->magic == (SHARE_MAGIC ^ (uint32_t)next)) {
			n++;
		} else if (r->seq > next) { /* overwritten before it was read */
			k->st.gaps++;
			k->last[c] = next;
		} else {
			continue;               /* being written */
		}
		STORE(io->skel->bss->tails[c].tail, next);
	}
	return n;
}

/* HASH: lookup-and-delete of each CPU's next key; missing = not inserted (full). */
static size_t read_hash(struct share_consumer *k)
{
	struct share_io *io = k->io;
	size_t n = 0;

	for (int c = 0; c < io->ncpu; c++) {
		uint64_t next = k->last[c] + 1, done = LOAD(io->skel->bss->cpus[c].done);
		uint64_t key = (uint64_t)c << 48 | next;

		if (done < next)
			continue;
		if (!bpf_map_lookup_and_delete_elem(io->map_fd, &key, &k->batch[n])) {
			n++;
		} else if (errno == ENOENT) {
			k->st.gaps++;
			k->last[c] = next;
		}
	}
	return n;
}

/* mmap ring: everything between tail and head of each CPU's ring. */
static size_t read_ring(struct share_consumer *k)
{
	struct share_io *io = k->io;
	size_t n = 0;

	for (int c = 0; c < io->ncpu && n < k->cap; c++) {
		uint64_t head = LOAD(io->skel->bss->cpus[c].head);
		uint64_t tail = io->skel->bss->tails[c].tail;
		const struct share_rec *base = io->ring + (size_t)c * SHARE_SLOTS;

		while (tail < head && n < k->cap)
			k->batch[n++] = base[tail++ % SHARE_SLOTS];
		STORE(io->skel->bss->tails[c].tail, tail);
	}
	return n;
}

static int rb_sample(void *ctx, void *data, size_t size)
{
	struct share_io *io = ctx;
	struct share_consumer *k = io->k;

	if (size != sizeof(struct share_rec)) {
		k->st.bad++;
		return 0;
	}
	memcpy(&k->batch[k->n++], data, sizeof(struct share_rec));
	return k->n < k->cap ? 0 : -E2BIG;
}

static size_t read_ringbuf(struct share_consumer *k)
{
	k->n = 0;
	ring_buffer__consume(k->io->rb);
	return k->n;
}

/* The shrunk datagrams: each payload is one record. */
static size_t read_udp(struct share_consumer *k)
{
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	size_t n = 0;
	int got;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ &k->batch[i], sizeof(struct share_rec) };
		m[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	got = recvmmsg(k->io->udp_fd, m, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < got; i++) {
		if (m[i].msg_len != sizeof(struct share_rec) || (m[i].msg_hdr.msg_flags & MSG_TRUNC))
			k->st.bad++;
		else if ((size_t)i != n)
			k->batch[n++] = k->batch[i];
		else
			n++;
	}
	return n;
}

/* AF_XDP rx ring: each frame is one record; the frames go back to the fill ring. */
static size_t read_xsk(struct share_consumer *k)
{
	struct share_io *io = k->io;
	uint32_t idx = 0, fidx = 0, got = xsk_ring_cons__peek(&io->rx, BATCH, &idx);
	uint64_t addrs[BATCH];
	size_t n = 0;

	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&io->rx, idx + i);

		addrs[i] = xsk_umem__extract_addr(d->addr);
		if (d->len != SHARE_REC_OFF + sizeof(struct share_rec))
			k->st.bad++;
		else
			memcpy(&k->batch[n++],
			       (char *)xsk_umem__get_data(io->umem_buf, d->addr) + SHARE_REC_OFF,
			       sizeof(struct share_rec));
	}
	if (!got)
		return 0;
	xsk_ring_cons__release(&io->rx, got);
	if (xsk_ring_prod__reserve(&io->fq, got, &fidx) == got) {
		for (uint32_t i = 0; i < got; i++)
			*xsk_ring_prod__fill_addr(&io->fq, fidx + i) = addrs[i];
		xsk_ring_prod__submit(&io->fq, got);
	}
	return n;
}

static size_t read_channel(struct share_consumer *k)
{
	switch (k->io->channel) {
	case SHARE_CHAN_PACKET:        return read_udp(k);
	case SHARE_CHAN_ARRAY:         return read_array(k);
	case SHARE_CHAN_HASH:          return read_hash(k);
	case SHARE_CHAN_MMAP_RING:     return read_ring(k);
	case SHARE_CHAN_AF_XDP:        return read_xsk(k);
	default:                       return read_ringbuf(k);
	}
}

/* ---- checks and the loop -------------------------------------------- */

static void check_records(struct share_consumer *k, size_t n, uint64_t t_read)
{
	struct share_io *io = k->io;
	uint64_t delivered = 0;

	for (size_t i = 0; i < n; i++) {
		const struct share_rec *r = &k->batch[i];
		uint32_t c = r->cpu;

		if (c >= (uint32_t)io->ncpu || r->magic != (SHARE_MAGIC ^ (uint32_t)r->seq) ||
		    !r->len || (io->check_data && memcmp(r->data + SHARE_CHECK_OFF, io->expect + SHARE_CHECK_OFF,
						    SHARE_CHECK_LEN))) {
			if (!k->st.bad)
				pr_debug("share: bad record: cpu %u seq %llu magic %#x len %u data %02x%02x%02x%02x\n",
					 c, (unsigned long long)r->seq, r->magic, r->len, r->data[0],
					 r->data[1], r->data[2], r->data[3]);
			k->st.bad++;
			if (c < (uint32_t)io->ncpu && r->seq > k->last[c]) { /* read: move on */
				k->st.gaps += r->seq - k->last[c] - 1;
				k->last[c] = r->seq;
			}
			continue;
		}
		if (r->seq <= k->last[c]) {
			k->st.disorder++;
			continue;
		}
		k->st.gaps += r->seq - k->last[c] - 1;
		k->last[c] = r->seq;
		if (t_read > r->ktime)
			k->st.hist[share_bucket(t_read - r->ktime)]++;
		k->st.bytes += r->len;
		delivered++;
	}
	ADD(k->st.delivered, delivered);
}

static uint64_t position(const struct share_consumer *k)
{
	uint64_t sum = 0;

	for (int c = 0; c < k->io->ncpu; c++)
		sum += k->last[c];
	return sum;
}

/* One timed read; the epoll consumer first sleeps until the ring wakes it.
 * Records read, or 1 when only losses were found (progress all the same). */
static size_t drain_once(struct share_consumer *k)
{
	uint64_t t0, t1, pos = position(k);
	size_t n;

	if (k->io->channel == SHARE_CHAN_RINGBUF_EPOLL) {
		struct epoll_event ev;

		if (epoll_wait(ring_buffer__epoll_fd(k->io->rb), &ev, 1, 10) <= 0)
			return 0;
	}
	t0 = now_ns();
	n = read_channel(k);
	if (!n)
		return position(k) != pos;
	t1 = now_ns();
	ADD(k->st.access_ns, t1 - t0);
	ADD(k->st.reads, 1);
	check_records(k, n, t1);
	return n;
}

static uint64_t seen_sum(const struct share_io *io)
{
	uint64_t sum = 0;

	for (int c = 0; c < io->ncpu; c++)
		sum += LOAD(io->skel->bss->cpus[c].seen);
	return sum;
}

/* User ringbuf: commands in batches as fast as the ring takes them, or
 * one at a time at k->rate a second. */
static void produce(struct share_consumer *k, uint64_t deadline)
{
	uint64_t start = now_ns(), made = 0, seen0 = seen_sum(k->io);
	int batch = k->rate ? 1 : BATCH;

	/* Paced: from the first packet on (it drains the commands). */
	while (k->rate && seen_sum(k->io) == seen0 && !k->stop && now_ns() < start + DRAIN_MAX_NS)
		;
	start = now_ns();

	while (!k->quiesce && !k->stop && now_ns() < deadline && (!k->limit || made < k->limit)) {
		uint64_t t0 = now_ns(), sent = 0;

		if (k->rate && made * 1000000000ull / k->rate > t0 - start)
			continue;  /* not due yet */
		made++;
		for (int i = 0; i < batch; i++) {
			struct share_cmd *cmd = user_ring_buffer__reserve(k->io->urb, sizeof(*cmd));

			if (!cmd) {
				ADD(k->st.failed, 1);
				break;
			}
			k->cmd_seq++;
			*cmd = (struct share_cmd){ .seq = k->cmd_seq, .ktime = now_ns(),
						   .flow = k->cmd_seq % SHARE_FLOWS,
						   .action = (uint32_t)(k->cmd_seq & 1) };
			user_ring_buffer__submit(k->io->urb, cmd);
			sent++;
		}
		if (sent) {
			ADD(k->st.access_ns, now_ns() - t0);
			ADD(k->st.reads, 1);
			ADD(k->st.delivered, sent);
		}
	}
}

static void *consume_main(void *arg)
{
	struct share_consumer *k = arg;
	uint64_t start = now_ns(), idle_since = 0;
	struct timespec ts;

	pin_thread_cpu(k->cpu);
	if (k->io->channel == SHARE_CHAN_USER_RINGBUF) {
		produce(k, start + RUN_MAX_NS);
	} else {
		while (!k->stop && now_ns() < start + RUN_MAX_NS)
			drain_once(k);
		/* What is still in the channel. */
		start = now_ns();
		while (now_ns() < start + DRAIN_MAX_NS) {
			if (drain_once(k))
				idle_since = 0;
			else if (!idle_since)
				idle_since = now_ns();
			else if (now_ns() - idle_since > DRAIN_IDLE_NS)
				break;
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	STORE(k->st.cpu_ns, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	return NULL;
}

/* Records lost outside the program: the socket's drops, the XSK's rx drops. */
static uint64_t ext_lost(const struct share_io *io)
{
	if (io->channel == SHARE_CHAN_PACKET) {
		uint32_t mem[SK_MEMINFO_VARS] = { 0 };
		socklen_t len = sizeof(mem);

		if (!getsockopt(io->udp_fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
			return mem[SK_MEMINFO_DROPS];
	} else if (io->channel == SHARE_CHAN_AF_XDP) {
		struct xdp_statistics s = { 0 };
		socklen_t len = sizeof(s);

		if (!getsockopt(xsk_socket__fd(io->xsk), SOL_XDP, XDP_STATISTICS, &s, &len)) {
			pr_debug("share: xsk: rx_dropped %llu (fill ring empty %llu) rx_ring_full %llu\n",
				 (unsigned long long)s.rx_dropped,
				 (unsigned long long)s.rx_fill_ring_empty_descs,
				 (unsigned long long)s.rx_ring_full);
			return s.rx_dropped + s.rx_ring_full;
		}
	}
	return 0;
}

int share_consumer_start(struct share_io *io, int cpu, uint64_t rate, uint64_t limit,
			 struct share_consumer **out)
{
	struct share_consumer *k = calloc(1, sizeof(*k));
	int err;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	k->io = io;
	k->cpu = cpu;
	k->rate = rate;
	k->limit = limit;
	k->cap = io->channel == SHARE_CHAN_RINGBUF_EPOLL || io->channel == SHARE_CHAN_RINGBUF_POLL
			 ? RB_CAP : BATCH;
	k->batch = calloc(k->cap, sizeof(*k->batch));
	if (!k->batch) {
		free(k);
		return -ENOMEM;
	}
	for (int c = 0; c < io->ncpu; c++)
		k->last[c] = LOAD(io->skel->bss->cpus[c].seen);
	k->ext_base = ext_lost(io);
	io->k = k;
	err = -pthread_create(&k->th, NULL, consume_main, k);
	if (!err && pthread_getcpuclockid(k->th, &k->clk))
		k->clk = -1;
	if (err) {
		free(k->batch);
		free(k);
		return err;
	}
	*out = k;
	return 0;
}

void share_consumer_read(struct share_consumer *k, struct share_stats *out)
{
	struct timespec ts;

	*out = (struct share_stats){
		.delivered = LOAD(k->st.delivered), .access_ns = LOAD(k->st.access_ns),
		.reads = LOAD(k->st.reads), .failed = LOAD(k->st.failed),
	};
	if (k->clk != (clockid_t)-1 && !clock_gettime(k->clk, &ts))
		out->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void share_consumer_quiesce(struct share_consumer *k)
{
	__atomic_store_n(&k->quiesce, 1, __ATOMIC_RELEASE);
}

void share_consumer_stop(struct share_consumer *k, struct share_stats *out)
{
	struct share_io *io = k->io;

	__atomic_store_n(&k->stop, 1, __ATOMIC_RELEASE);
	pthread_join(k->th, NULL);
	for (int c = 0; c < io->ncpu && io->channel != SHARE_CHAN_USER_RINGBUF; c++) {
		uint64_t done = LOAD(io->skel->bss->cpus[c].done);

		if (done > k->last[c])
			k->st.tail_missing += done - k->last[c];
	}
	k->st.ext_lost = ext_lost(io) - k->ext_base;
	*out = k->st;
	io->k = NULL;
	free(k->batch);
	free(k);
}

double share_hist_pct(const uint64_t *hist, double p)
{
	uint64_t total = 0, acc = 0;

	for (int b = 0; b < SHARE_HIST; b++)
		total += hist[b];
	for (int b = 0; b < SHARE_HIST && total; b++) {
		acc += hist[b];
		if (acc >= p * total)  /* the bucket's middle */
			return (share_bucket_lo(b) + share_bucket_lo(b + 1)) / 2.0;
	}
	return 0;
}

/* ---- the channel's user-space end ----------------------------------- */

static int open_udp(struct share_io *io, const struct netns *ns, char *why, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(GEN_DPORT) };
	int one = 1, buf = UDP_RCVBUF;

	io->udp_fd = netns_socket(ns, AF_INET, SOCK_DGRAM, 0);
	if (io->udp_fd < 0) {
		snprintf(why, len, "UDP socket in the DUT namespace: %s", strerror(-io->udp_fd));
		return io->udp_fd;
	}
	setsockopt(io->udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(io->udp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(io->udp_fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(io->udp_fd, (struct sockaddr *)&a, sizeof(a))) {
		snprintf(why, len, "bind UDP :%d: %s", GEN_DPORT, strerror(errno));
		return -errno;
	}
	return 0;
}

/* AF_XDP socket on queue 0 of ifname (copy mode: veth has no zero-copy),
 * its fill ring full, in the program's XSKMAP. */
static int open_xsk(struct share_io *io, const struct netns *ns, const char *ifname, char *why,
		    size_t len)
{
	struct xsk_socket_config cfg = {
		.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = XDP_FLAGS_DRV_MODE, .bind_flags = XDP_COPY,
	};
	uint32_t idx = 0, nfill = XSK_RING_PROD__DEFAULT_NUM_DESCS, key = 0;
	struct nstoken *tok;
	int err, fd;

	io->umem_len = (size_t)XSK_FRAMES * XSK_UMEM__DEFAULT_FRAME_SIZE;
	io->umem_buf = mmap(NULL, io->umem_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (io->umem_buf == MAP_FAILED) {
		io->umem_buf = NULL;
		return -ENOMEM;
	}
	/* The umem's socket becomes the XSK: both made in the DUT namespace,
	 * where bind() looks the device up. */
	tok = netns_enter(ns);
	if (!tok)
		return -errno;
	err = xsk_umem__create(&io->umem, io->umem_buf, io->umem_len, &io->fq, &io->cq, NULL);
	if (!err)
		err = xsk_socket__create(&io->xsk, ifname, 0, io->umem, &io->rx, NULL, &cfg);
	netns_leave(tok);
	if (err) {
		snprintf(why, len, "xsk_socket__create (%s queue 0, XDP_COPY): %s", ifname,
			 strerror(-err));
		return err;
	}
	if (xsk_ring_prod__reserve(&io->fq, nfill, &idx) != nfill)
		return -ENOSPC;
	for (uint32_t i = 0; i < nfill; i++)
		*xsk_ring_prod__fill_addr(&io->fq, idx + i) = (uint64_t)i * XSK_UMEM__DEFAULT_FRAME_SIZE;
	xsk_ring_prod__submit(&io->fq, nfill);
	fd = xsk_socket__fd(io->xsk);
	if (bpf_map_update_elem(bpf_map__fd(io->skel->maps.xsks), &key, &fd, 0)) {
		snprintf(why, len, "XSKMAP update: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_maps(struct share_io *io, char *why, size_t len)
{
	struct share *s = io->skel;

	switch (io->channel) {
	case SHARE_CHAN_ARRAY:
		io->map_fd = bpf_map__fd(s->maps.slots);
		return 0;
	case SHARE_CHAN_HASH:
		io->map_fd = bpf_map__fd(s->maps.recs);
		return 0;
	case SHARE_CHAN_MMAP_RING:
		io->ring_len = (size_t)SHARE_MAX_CPUS * SHARE_SLOTS * sizeof(struct share_rec);
		io->ring = mmap(NULL, io->ring_len, PROT_READ, MAP_SHARED, bpf_map__fd(s->maps.ring), 0);
		if (io->ring != MAP_FAILED)
			return 0;
		io->ring = NULL;
		snprintf(why, len, "mmap of the BPF_F_MMAPABLE array: %s", strerror(errno));
		return -errno;
	case SHARE_CHAN_RINGBUF_EPOLL:
	case SHARE_CHAN_RINGBUF_POLL:
		io->rb = ring_buffer__new(bpf_map__fd(s->maps.rb), rb_sample, io, NULL);
		if (io->rb)
			return 0;
		snprintf(why, len, "ring_buffer__new: %s", strerror(errno));
		return -errno;
	case SHARE_CHAN_USER_RINGBUF:
		io->urb = user_ring_buffer__new(bpf_map__fd(s->maps.urb), NULL);
		if (io->urb)
			return 0;
		snprintf(why, len, "user_ring_buffer__new: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int share_io_open(struct share *skel, int channel, const struct netns *ns, const char *ifname,
		  const uint8_t *expect, bool check_data, struct share_io **out, char *why,
		  size_t len)
{
	struct share_io *io = calloc(1, sizeof(*io));
	int err;

	*out = NULL;
	if (!io)
		return -ENOMEM;
	io->skel = skel;
	io->channel = channel;
	io->udp_fd = -1;
	io->ncpu = cpu_count() < SHARE_MAX_CPUS ? cpu_count() : SHARE_MAX_CPUS;
	io->check_data = check_data;
	if (expect)
		memcpy(io->expect, expect, SHARE_DATA_LEN);
	if (channel == SHARE_CHAN_PACKET)
		err = open_udp(io, ns, why, len);
	else if (channel == SHARE_CHAN_AF_XDP)
		err = open_xsk(io, ns, ifname, why, len);
	else
		err = open_maps(io, why, len);
	if (err) {
		share_io_close(io);
		return err;
	}
	*out = io;
	return 0;
}

void share_io_close(struct share_io *io)
{
	if (!io)
		return;
	if (io->xsk)
		xsk_socket__delete(io->xsk);
	if (io->umem)
		xsk_umem__delete(io->umem);
	if (io->umem_buf)
		munmap(io->umem_buf, io->umem_len);
	if (io->ring)
		munmap(io->ring, io->ring_len);
	ring_buffer__free(io->rb);
	user_ring_buffer__free(io->urb);
	if (io->udp_fd >= 0)
		close(io->udp_fd);
	free(io);
}
