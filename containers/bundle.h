/* The config.json of a container's OCI bundle (containers/ only). */
#ifndef OLAB_CTR_BUNDLE_H
#define OLAB_CTR_BUNDLE_H
#include <jansson.h>

struct bundle_params {
	const char *id;            /* runc id, also its cgroupsPath (relative) */
	const char *hostname;
	const char *rootfs;        /* absolute; mounted read-only */
	const char *netns_path;    /* /run/netns/<name> */
	const char *share_src;     /* host directory bind-mounted read-write... */
	const char *share_dst;     /* ...here */
	const char *cgroup2_src;   /* NULL: no cgroup v2 bind (read-only) */
	const char *cgroup2_dst;
	json_t *caps;              /* array of "CAP_*" (borrowed) */
	json_t *argv;              /* array of strings (borrowed) */
	json_t *binds;             /* NULL or [{"src", "dst"}]: read-only binds (borrowed) */
	json_t *tmpfs;             /* NULL or ["/dir"]: writable tmpfs (borrowed) */
};

/* A new reference, or NULL on allocation failure. */
json_t *bundle_config(const struct bundle_params *p);

#endif
