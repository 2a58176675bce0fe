/*
 * Named network namespaces owned by the run.  They live in /run/netns like
 * `ip netns add` ones (so users can `ip netns exec` into them), are named
 * "<run prefix>-<suffix>", and are removed by the run's cleanup.
 */
#ifndef OLAB_NETNS_H
#define OLAB_NETNS_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#define NETNS_RUN_DIR "/run/netns"

struct netns {
	char name[64];
	int fd;          /* open /run/netns/<name>, O_CLOEXEC */
	int cleanup;     /* handle in the run's cleanup registry, or -1 */
};

/* Create "<prefix>-<suffix>" and register its removal; 0 or -errno. */
int netns_create(const char *suffix, struct netns *ns);
/* Remove now (also kills processes still inside it). Safe on a zeroed struct. */
void netns_destroy(struct netns *ns);
/* Remove a namespace by name, killing every process inside; 0 or -errno.
 * Only names that start with "olab" are accepted (-EINVAL otherwise);
 * -ENOENT if absent.  Refuses (netns_identify) symlinks, anything but an nsfs
 * bind mount, the root namespace and the caller's. */
int netns_delete_by_name(const char *name);
/* Unmount and unlink /run/netns/<name> without killing anyone: the namespace
 * dies with its last process.  want_ino != 0: only if that is its inode
 * (-ESTALE otherwise).  Same refusals as netns_delete_by_name. */
int netns_unmount(const char *name, uint64_t want_ino);
/* Is path an nsfs bind mount (not a symlink) of a namespace other than the
 * root one (pid 1's) and the caller's?  0, or -ENOENT, -ELOOP (symlink),
 * -EINVAL (not nsfs), -EPERM (root or caller's) with *why saying which;
 * *st: the namespace's identity. */
int netns_identify(const char *path, struct stat *st, const char **why);

/* Move the calling thread into ns; NULL on failure (errno set).  Like the
 * kernel selftests' open_netns()/close_netns().  ns == NULL gives a token
 * that changes nothing (the thread stays where it is). */
struct nstoken *netns_enter(const struct netns *ns);
void netns_leave(struct nstoken *tok);

/* A socket (SOCK_CLOEXEC added) created inside ns (NULL: the calling
 * thread's namespace); it stays there whichever thread uses it.  fd or -errno. */
int netns_socket(const struct netns *ns, int domain, int type, int protocol);

#endif
