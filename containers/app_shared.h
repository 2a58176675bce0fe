/*
 * The statistics file an app in a container shares with the host: olab-app
 * (containers/static/olab-app.c) maps it inside the container at
 * CTR_SHARE_DIR/<file> and copies the app's live struct app_stats into it;
 * the host maps the same file from the bundle's share directory.
 */
#ifndef OLAB_CTR_APP_SHARED_H
#define OLAB_CTR_APP_SHARED_H
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lib/apps.h"

enum { CTR_APP_STARTING = 0, CTR_APP_RUNNING = 1, CTR_APP_EXITED = 2 };

struct ctr_app_shared {
	uint32_t state;          /* CTR_APP_*, written last (release) */
	uint32_t pid;            /* olab-app inside the container's pid namespace */
	int32_t exit_code;       /* once exited: the app's status, 0 clean */
	uint32_t _pad;
	struct app_stats st;     /* copied every few ms while it runs */
};

/* Map the file at path (created, sized) read-write shared, or NULL (errno). */
static inline struct ctr_app_shared *ctr_app_shared_map(const char *path)
{
	struct ctr_app_shared *sh;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return NULL;
	if (ftruncate(fd, sizeof(*sh))) {
		close(fd);
		return NULL;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return sh == MAP_FAILED ? NULL : sh;
}

#endif
