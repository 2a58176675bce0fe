/*
 * UAPI that the build's linux/bpf.h (linux-libc-dev 6.1) predates: tcx
 * (6.6), netfilter links (6.4), the mprog attach fields and arenas (6.9).  Values are from
 * the kernel's include/uapi/linux/bpf.h and were checked against the running
 * kernel's BTF.  Every definition is guarded, and the attr layouts carry an
 * olab_ prefix, so a newer linux/bpf.h makes this header a no-op rather than
 * an error.  Include it after (or instead of) <linux/bpf.h>.
 */
#ifndef OLAB_BPF_COMPAT_H
#define OLAB_BPF_COMPAT_H
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

/* enum bpf_attach_type */
#ifndef BPF_NETFILTER
#define BPF_NETFILTER 45
#endif
#ifndef BPF_TCX_INGRESS
#define BPF_TCX_INGRESS 46
#endif
#ifndef BPF_TCX_EGRESS
#define BPF_TCX_EGRESS 47
#endif

/* enum bpf_prog_type */
#ifndef BPF_PROG_TYPE_NETFILTER
#define BPF_PROG_TYPE_NETFILTER 32
#endif

/* enum bpf_map_type: an arena of pages shared by programs and user space (6.9) */
#ifndef BPF_MAP_TYPE_ARENA
#define BPF_MAP_TYPE_ARENA 33
#endif

/* enum bpf_link_type */
#ifndef BPF_LINK_TYPE_NETFILTER
#define BPF_LINK_TYPE_NETFILTER 10
#endif
#ifndef BPF_LINK_TYPE_TCX
#define BPF_LINK_TYPE_TCX 11
#endif

/* Generic (mprog) attachment flags. */
#ifndef BPF_F_BEFORE
#define BPF_F_BEFORE (1U << 3)
#endif
#ifndef BPF_F_AFTER
#define BPF_F_AFTER (1U << 4)
#endif
#ifndef BPF_F_ID
#define BPF_F_ID (1U << 5)
#endif
#ifndef BPF_F_LINK
#define BPF_F_LINK (1U << 13)
#endif

/* enum tcx_action_base: what a tcx program returns. */
#ifndef TCX_NEXT
#define TCX_NEXT (-1)
#endif
#ifndef TCX_PASS
#define TCX_PASS 0
#endif
#ifndef TCX_DROP
#define TCX_DROP 2
#endif
#ifndef TCX_REDIRECT
#define TCX_REDIRECT 7
#endif

/* Netfilter link flags (link_create.netfilter.flags). */
#ifndef BPF_F_NETFILTER_IP_DEFRAG
#define BPF_F_NETFILTER_IP_DEFRAG (1U << 0)
#endif
/* linux/netfilter.h values, repeated so this header stands alone. */
#ifndef NF_INET_PRE_ROUTING
#define NF_INET_PRE_ROUTING 0
#define NF_INET_LOCAL_IN 1
#define NF_INET_FORWARD 2
#define NF_INET_LOCAL_OUT 3
#define NF_INET_POST_ROUTING 4
#endif
#ifndef NFPROTO_IPV4
#define NFPROTO_IPV4 2
#define NFPROTO_IPV6 10
#endif
#ifndef NF_ACCEPT
#define NF_DROP 0
#define NF_ACCEPT 1
#endif

/* A netfilter link's hook (6.4+): in link_create and in bpf_link_info alike. */
struct olab_nf_link {
	uint32_t pf;
	uint32_t hooknum;
	int32_t priority;
	uint32_t flags;
};

/*
 * BPF_LINK_CREATE as of 6.6: the per-type union starts at offset 16 (it
 * holds __aligned_u64 members).  Size 64, like the kernel's link_create.
 */
struct olab_link_create_attr {
	uint32_t prog_fd;
	uint32_t target_fd;     /* or target_ifindex */
	uint32_t attach_type;
	uint32_t flags;
	union {
		struct {
			union {
				uint32_t relative_fd;
				uint32_t relative_id;
			};
			uint64_t expected_revision;
		} tcx;
		struct olab_nf_link netfilter;
		uint8_t _pad[48];
	};
} __attribute__((aligned(8)));

/* BPF_PROG_QUERY as of 6.6 (adds link_ids, link_attach_flags, revision). */
struct olab_prog_query_attr {
	uint32_t target_fd;     /* or target_ifindex */
	uint32_t attach_type;
	uint32_t query_flags;
	uint32_t attach_flags;
	uint64_t prog_ids;
	uint32_t prog_cnt;      /* in: room; out: count */
	uint32_t _pad;
	uint64_t prog_attach_flags;
	uint64_t link_ids;
	uint64_t link_attach_flags;
	uint64_t revision;
} __attribute__((aligned(8)));

/* struct bpf_link_info with the 6.4+ netfilter and 6.6+ tcx members. */
struct olab_link_info {
	uint32_t type;
	uint32_t id;
	uint32_t prog_id;
	uint32_t _pad;
	union {
		struct olab_nf_link netfilter;
		struct {
			uint32_t ifindex;
			uint32_t attach_type;
		} tcx;
		uint8_t _pad_u[48];
	};
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct olab_link_create_attr) == 64, "link_create layout");
_Static_assert(__builtin_offsetof(struct olab_link_create_attr, tcx.expected_revision) == 24,
	       "tcx.expected_revision offset");
_Static_assert(__builtin_offsetof(struct olab_link_create_attr, netfilter.priority) == 24,
	       "netfilter.priority offset");
_Static_assert(sizeof(struct olab_prog_query_attr) == 64, "prog query layout");
_Static_assert(__builtin_offsetof(struct olab_prog_query_attr, revision) == 56, "query revision");

static inline int olab_sys_bpf(int cmd, void *attr, unsigned int size)
{
	long ret = syscall(__NR_bpf, cmd, attr, size);

	return ret < 0 ? -errno : (int)ret;
}

/*
 * A BPF_MAP_TYPE_ARENA of pages pages (BPF_F_MMAPABLE, no key or value, the
 * user address chosen by the first mmap()): libbpf 1.1.2 cannot create one.
 * Returns the map fd or -errno.
 */
static inline int olab_arena_create(uint32_t pages, const char *name)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_ARENA;
	attr.max_entries = pages;
	attr.map_flags = BPF_F_MMAPABLE;
	strncpy(attr.map_name, name, sizeof(attr.map_name) - 1);
	return olab_sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
}

/*
 * Attach prog_fd to ifindex at BPF_TCX_INGRESS/EGRESS through a tcx link.
 * flags: BPF_F_BEFORE/AFTER/ID/LINK with relative (an fd or, with BPF_F_ID,
 * an id; 0 for none); expected_revision 0 for "any".  Returns the link fd
 * or -errno.
 */
static inline int tcx_link_create(int prog_fd, int ifindex, uint32_t attach_type,
				  uint32_t flags, uint32_t relative, uint64_t expected_revision)
{
	struct olab_link_create_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.target_fd = ifindex;
	attr.attach_type = attach_type;
	attr.flags = flags;
	attr.tcx.relative_fd = relative;
	attr.tcx.expected_revision = expected_revision;
	return olab_sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
}

/*
 * Attach a BPF_PROG_TYPE_NETFILTER program at (pf, hooknum, priority) in the
 * caller's network namespace.  priority must not be NF_IP_PRI_FIRST/LAST.
 * Returns the link fd or -errno.
 */
static inline int netfilter_link_create(int prog_fd, uint32_t pf, uint32_t hooknum,
					int32_t priority, uint32_t nf_flags)
{
	struct olab_link_create_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = prog_fd;
	attr.attach_type = BPF_NETFILTER;
	attr.netfilter.pf = pf;
	attr.netfilter.hooknum = hooknum;
	attr.netfilter.priority = priority;
	attr.netfilter.flags = nf_flags;
	return olab_sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
}

/*
 * Programs (and their links) at a tcx hook.  *cnt is the room in prog_ids and
 * link_ids (either may be NULL) on input and the number attached on output;
 * revision (may be NULL) gets the hook's revision.  0 or -errno.
 */
static inline int tcx_query(int ifindex, uint32_t attach_type, uint32_t *prog_ids,
			    uint32_t *link_ids, uint32_t *cnt, uint64_t *revision)
{
	struct olab_prog_query_attr attr;
	int err;

	memset(&attr, 0, sizeof(attr));
	attr.target_fd = ifindex;
	attr.attach_type = attach_type;
	attr.prog_ids = (uint64_t)(uintptr_t)prog_ids;
	attr.link_ids = (uint64_t)(uintptr_t)link_ids;
	attr.prog_cnt = cnt ? *cnt : 0;
	err = olab_sys_bpf(BPF_PROG_QUERY, &attr, sizeof(attr));
	if (err)
		return err;
	if (cnt)
		*cnt = attr.prog_cnt;
	if (revision)
		*revision = attr.revision;
	return 0;
}

/* BPF_OBJ_GET_INFO_BY_FD on a link, into the newer bpf_link_info layout. */
static inline int olab_link_get_info(int link_fd, struct olab_link_info *info)
{
	union bpf_attr attr;

	memset(info, 0, sizeof(*info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = link_fd;
	attr.info.info_len = sizeof(*info);
	attr.info.info = (uint64_t)(uintptr_t)info;
	return olab_sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr));
}

#endif
