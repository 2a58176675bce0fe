/*
 * Named network namespaces owned by the run.  They live in /run/netns like
 * `ip netns add` ones (so users can `ip netns exec` into them), are named
 * "<run prefix>-<suffix>", and are removed by the run's cleanup.
 */
#ifndef OLAB_NETNS_H
#define OLAB_NETNS_H
#include <stdbool.h>

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
/* Remove a namespace by name (used by clean); 0 or -errno.  Only names that
 * start with "olab" are accepted (-EINVAL otherwise); -ENOENT if absent. */
int netns_delete_by_name(const char *name);

/* Move the calling thread into ns; NULL on failure (errno set).  Like the
 * kernel selftests' open_netns()/close_netns().  ns == NULL gives a token
 * that changes nothing (the thread stays where it is). */
struct nstoken *netns_enter(const struct netns *ns);
void netns_leave(struct nstoken *tok);

/* A socket (SOCK_CLOEXEC added) created inside ns (NULL: the calling
 * thread's namespace); it stays there whichever thread uses it.  fd or -errno. */
int netns_socket(const struct netns *ns, int domain, int type, int protocol);

#endif
