/* TEMPORARY: hook facts until lib/hooks.h carries them (helper-c merge). */
#ifndef OLAB_BENCH_HOOK_SHIM_H
#define OLAB_BENCH_HOOK_SHIM_H
#include <string.h>
#include "lib/hooks.h"

static inline bool hook_is_tcp(const struct hook_desc *h)
{
	return h->proto && !strcmp(h->proto, "tcp");
}

static inline bool hook_has_program(const struct hook_desc *h)
{
	return h->kind != HOOK_BASELINE;
}

static inline bool hook_peer_needs_xdp(const struct hook_desc *h)
{
	return !strcmp(h->name, "xdp");
}

static inline bool hook_test_run(const struct hook_desc *h)
{
	return h->kind == HOOK_PACKET;
}

static inline const char *hook_reply_at(const struct hook_desc *h)
{
	static const struct { const char *hook, *at; } t[] = {
		{ "xdp", "native XDP: XDP_TX on the DUT veth, before an skb exists" },
		{ "xdp-generic", "generic XDP: XDP_TX of the skb on the DUT veth" },
		{ "tc", "tc ingress: bpf_redirect to the DUT veth's egress" },
		{ "tcx", "tcx ingress: bpf_redirect to the DUT veth's egress" },
		{ "sk-skb-verdict", "sockmap verdict: sk redirect to the socket's own egress" },
		{ "sk-skb-parser", "sockmap parser+verdict: sk redirect to the socket's own egress" },
		{ "udp-socket", "udp-echo app in user space on CPU 1 (recvmmsg + sendmmsg)" },
		{ "tcp-socket", "tcp-echo app in user space on CPU 1 (epoll, recv + send)" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].hook, h->name))
			return t[i].at;
	return h->summary;
}

#endif
