/*
 * The checks' traffic: UDP senders and sinks, connected TCP pairs, and
 * waiting for bytes to arrive.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/tcp.h>
#include "checks/check.h"
#include "lib/run.h"
#include "lib/util.h"

#define SETTLE_MS 40

int check_udp_send(const struct netns *ns, const char *dst, uint16_t sport, uint16_t dport,
		   int n, size_t size)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(dport) };
	struct sockaddr_in from = { .sin_family = AF_INET, .sin_port = htons(sport) };
	uint8_t buf[1472];
	int fd, one = 1, sent = 0;

	if (size > sizeof(buf) || inet_pton(AF_INET, dst, &to.sin_addr) != 1)
		return -EINVAL;
	fd = netns_socket(ns, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sport && bind(fd, (struct sockaddr *)&from, sizeof(from))) {
		sent = -errno;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		memset(buf, (uint8_t)i, size);
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)size)
			sent++;
	}
out:
	close(fd);
	return sent;
}

int check_udp_sink(const struct netns *ns, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = netns_socket(ns, AF_INET, SOCK_DGRAM, 0), err;

	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int check_udp_drain(int fd)
{
	char buf[2048];
	int n = 0;

	while (n < 1000000 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

int check_tcp_pair(const struct netns *ns, uint16_t port, int *client, int *server)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd, cfd = -1, sfd = -1, one = 1, err = 0;

	*client = *server = -1;
	lfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return lfd;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cfd = netns_socket(ns, AF_INET, SOCK_STREAM, 0);
	if (cfd < 0) {
		err = cfd;
		goto out;
	}
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4) ||
	    connect(cfd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto out;
	}
	sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sfd < 0)
		err = -errno;
out:
	close(lfd);
	if (err) {
		if (cfd >= 0)
			close(cfd);
		return err;
	}
	*client = cfd;
	*server = sfd;
	return 0;
}

/* fd's TCP_INFO, all 0 when it has none. */
static struct tcp_info tcp_info_of(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		memset(&ti, 0, sizeof(ti));
	return ti;
}

uint64_t check_tcp_bytes_received(int fd)
{
	return tcp_info_of(fd).tcpi_bytes_received;
}

uint32_t check_tcp_segs_in(int fd)
{
	return tcp_info_of(fd).tcpi_segs_in;
}

int check_tcp_wait_received(int fd, uint64_t want, int timeout_ms)
{
	uint64_t until = now_ns() + (uint64_t)timeout_ms * 1000000;

	while (check_tcp_bytes_received(fd) < want) {
		if (now_ns() >= until || run_stopping())
			return -ETIMEDOUT;
		sleep_ns(2 * 1000000);
	}
	return 0;
}

size_t check_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t idle_until = now_ns() + (uint64_t)timeout_ms * 1000000;
	size_t got = 0;

	/* poll may say readable and recv still EAGAIN: bounded by time, not calls */
	while (got < len && now_ns() < idle_until && !run_stopping()) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 20) <= 0)
			continue;
		n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			sleep_ns(200000);
			continue;
		}
		if (n <= 0)
			break;
		got += n;
		idle_until = now_ns() + (uint64_t)timeout_ms * 1000000;
	}
	return got;
}

void check_settle(void)
{
	sleep_ns((uint64_t)SETTLE_MS * 1000000);
}

void check_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void check_close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_close(&fds[i]);
}

static void close_undo(void *fd, void *unused)
{
	check_close(fd);
}

int check_defer_close(struct check_ctx *ctx, int *fd)
{
	*fd = -1;
	return check_defer(ctx, close_undo, fd, NULL);
}
