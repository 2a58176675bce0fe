/*
 * The run's container rootfs: busybox-static with its applet links, plus the
 * embedded olab-ctr and olab-app, assembled once per run under
 * RUN_STATE_DIR/<prefix>-ctr/rootfs and shared read-only by the run's
 * containers.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/manifest.h"
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"

/* Applets the apps, the probe and the tests use. */
static const char *const applets[] = {
	"sh", "cat", "ls", "ip", "sleep", "grep", "echo", "mount", "umount", "ps", "kill",
	"head", "tail", "wc", "tr", "cut", "sort", "true", "false", "env", "id", "hostname",
	"mkdir", "rm", "stat", "nc", "ping", "awk", "sed", "printf", "test", "[",
};

/* Directories runc mounts on (the rootfs is read-only). */
static const char *const dirs[] = { "bin", "proc", "sys", "dev", "tmp", "etc", "olab" };

#define PASSWD "root:x:0:0:root:/:/bin/sh\n"

static char prepared_for[32];       /* run prefix whose rootfs is ready */

int ctr_run_dir(char *buf, size_t len)
{
	int n = snprintf(buf, len, RUN_STATE_DIR "/%s" CTR_SUFFIX, run_prefix());

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A statically linked x86-64/any ELF: no PT_INTERP. */
static int check_static_elf(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(ph)) {
		err = -ENOEXEC;
		goto out;
	}
	for (int i = 0; i < eh.e_phnum && i < 256; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * sizeof(ph)) != sizeof(ph)) {
			err = -ENOEXEC;
			break;
		}
		if (ph.p_type == PT_INTERP) {
			err = -ELIBBAD;
			break;
		}
	}
out:
	close(fd);
	return err;
}

static const char *busybox_path(void)
{
	const char *env = getenv("OLAB_BUSYBOX");

	return env && *env ? env : CTR_BUSYBOX;
}

static int write_blob(const char *path, const char *data, size_t len, unsigned mode)
{
	char tmp[600];
	size_t done = 0;
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)w;
	}
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int copy_file(const char *from, const char *to, unsigned mode)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, err;

	fd = open(from, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > (64 << 20)) {
		err = -EFBIG;
		close(fd);
		return err;
	}
	buf = malloc(st.st_size);
	n = buf ? read(fd, buf, st.st_size) : -1;
	err = n == st.st_size ? 0 : buf ? -EIO : -ENOMEM;
	close(fd);
	if (!err)
		err = write_blob(to, buf, st.st_size, mode);
	free(buf);
	return err;
}

/* Cleanup of the run directory: containers first, then everything. */
static void run_dir_cleanup(const char *name, long num)
{
	ctr_clean_run_dir(name, NULL);
}

static int build_rootfs(const char *rootfs, const char *busybox)
{
	char path[600];
	const char *step;
	int err;

	step = "create directories";
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", rootfs, dirs[i]);
		err = mkdir_p(path, 0755);
		if (err)
			goto fail;
	}
	step = "copy busybox";
	snprintf(path, sizeof(path), "%s/bin/busybox", rootfs);
	err = copy_file(busybox, path, 0755);
	if (err)
		goto fail;
	step = "link busybox applets";
	for (size_t i = 0; i < ARRAY_SIZE(applets); i++) {
		snprintf(path, sizeof(path), "%s/bin/%s", rootfs, applets[i]);
		if (symlink("busybox", path) && errno != EEXIST) {
			err = -errno;
			goto fail;
		}
	}
	step = "write olab-ctr";
	snprintf(path, sizeof(path), "%s%s", rootfs, CTR_HELPER);
	err = write_blob(path, ctr_blob_helper, ctr_blob_helper_end - ctr_blob_helper, 0755);
	if (err)
		goto fail;
	step = "write olab-app";
	snprintf(path, sizeof(path), "%s%s", rootfs, CTR_APP);
	err = write_blob(path, ctr_blob_app, ctr_blob_app_end - ctr_blob_app, 0755);
	if (err)
		goto fail;
	step = "write etc/passwd";
	snprintf(path, sizeof(path), "%s/etc/passwd", rootfs);
	err = write_blob(path, PASSWD, strlen(PASSWD), 0644);
	if (err)
		goto fail;
	return 0;
fail:
	ctr_set_err("cannot assemble the container rootfs in %s (%s): %s", rootfs, step,
		    strerror(-err));
	return err;
}

static int prepare_locked(void)
{
	char dir[256], rootfs[300];
	const char *busybox = busybox_path();
	struct stat st;
	int err, h;

	if (!strcmp(prepared_for, run_prefix()))
		return 0;
	if (!ctr_runc_path())
		return -ENOENT;
	if (stat(busybox, &st)) {
		err = -errno;
		ctr_set_err("busybox not found at %s (install busybox-static)", busybox);
		return err;
	}
	err = check_static_elf(busybox);
	if (err) {
		ctr_set_err("%s is not a statically linked ELF (install busybox-static)", busybox);
		return err;
	}
	if (ctr_blob_helper_end - ctr_blob_helper < 64 || ctr_blob_app_end - ctr_blob_app < 64) {
		ctr_set_err("offloadlab was built without its container binaries");
		return -ENOEXEC;
	}
	err = ctr_run_dir(dir, sizeof(dir));
	if (err) {
		ctr_set_err("run directory name too long");
		return err;
	}
	err = mkdir_p(RUN_STATE_DIR, 0755);
	/* `clean` removes a dead run's containers only when its manifest lists this. */
	if (!err && !mkdir(dir, 0755))
		err = manifest_add_path(MANIFEST_CTR_STATE, dir);
	else if (!err && errno != EEXIST)
		err = -errno;
	if (err) {
		ctr_set_err("cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	h = cleanup_add(run_dir_cleanup, dir, 0, "container state");
	if (h < 0) {
		remove_tree(dir);
		ctr_set_err("cannot register the removal of %s", dir);
		return h;
	}
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	err = build_rootfs(rootfs, busybox);
	if (err) {
		cleanup_run(h);
		return err;
	}
	snprintf(prepared_for, sizeof(prepared_for), "%s", run_prefix());
	pr_debug("containers: rootfs ready in %s\n", rootfs);
	return 0;
}

int containers_prepare(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int err;

	pthread_mutex_lock(&lock);
	err = prepare_locked();
	pthread_mutex_unlock(&lock);
	return err;
}
