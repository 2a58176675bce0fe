/*
 * Rootfs for real apps: installed Debian packages' files plus their shared
 * library closure, bound read-only into an otherwise empty tree, so that an
 * app runs exactly as installed on the host; or an OCI image layout
 * unpacked with umoci.  Both live in the run's container directory and go
 * with it (cleanup, or `clean` after a SIGKILL).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/log.h"
#include "lib/util.h"

#define LIST_MAX (256 * 1024)
#define MAX_BINDS 512

static const char *const skip_prefixes[] = {
	"/usr/share/doc/", "/usr/share/man/", "/usr/share/lintian/", "/usr/share/bug/",
	"/etc/init.d/", "/lib/systemd/", "/usr/lib/systemd/", "/etc/logrotate.d/",
};
static const char *const dirs[] = { "proc", "sys", "dev", "tmp", "etc", "olab", "run", "var/run" };

static bool skipped(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(skip_prefixes); i++)
		if (!strncmp(path, skip_prefixes[i], strlen(skip_prefixes[i])))
			return true;
	return false;
}

static bool listed(json_t *binds, const char *dst)
{
	size_t i;
	json_t *b;

	json_array_foreach(binds, i, b)
		if (!strcmp(json_string_value(json_object_get(b, "dst")), dst))
			return true;
	return false;
}

/* Bind dst (a host path, followed to a regular file) at the same path. */
static void add_bind(json_t *binds, const char *dst)
{
	char real[PATH_MAX];
	struct stat st;

	if (json_array_size(binds) >= MAX_BINDS || listed(binds, dst) || !realpath(dst, real) ||
	    stat(real, &st) || !S_ISREG(st.st_mode))
		return;
	json_array_append_new(binds, json_pack("{s:s, s:s}", "src", real, "dst", dst));
}

static bool is_elf(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool elf = fd >= 0 && read(fd, magic, 4) == 4 && !memcmp(magic, "\177ELF", 4);

	close_fd(fd);
	return elf;
}

/* ldd's "libx.so => /path (0x..)" and "/lib64/ld-linux... (0x..)" lines. */
static void add_closure(json_t *binds, const char *elf, char *buf, size_t len)
{
	const char *argv[] = { "ldd", elf, NULL };
	char *save = NULL;

	if (capture_stdout(argv, buf, len))
		return;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(l, "=> "), *p = arrow ? arrow + 3 : l;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '/')
			continue;
		p[strcspn(p, " (")] = '\0';
		add_bind(binds, p);
	}
}

static int add_package(json_t *binds, const char *pkg, char *list, char *tmp)
{
	const char *argv[] = { "dpkg-query", "-L", pkg, NULL };
	char *save = NULL;
	size_t first = json_array_size(binds);

	if (capture_stdout(argv, list, LIST_MAX)) {
		ctr_set_err("package '%s' is not installed (dpkg-query -L failed)", pkg);
		return -ENOENT;
	}
	for (char *l = strtok_r(list, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (l[0] == '/' && !skipped(l))
			add_bind(binds, l);
	for (size_t i = first; i < json_array_size(binds); i++) {
		const char *src = json_string_value(json_object_get(json_array_get(binds, i), "src"));

		if (is_elf(src))
			add_closure(binds, src, tmp, LIST_MAX);
	}
	return 0;
}

static int make_tree(const char *rootfs)
{
	static const char passwd[] = "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
	static const char group[] = "root:x:0:\nnogroup:x:65534:\n";
	char path[PATH_MAX];
	int err = mkdir_p(rootfs, 0755);

	for (size_t i = 0; !err && i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", rootfs, dirs[i]);
		err = mkdir_p(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/etc/passwd", rootfs);
	if (!err)
		err = write_path_atomic(path, passwd, strlen(passwd), 0644);
	snprintf(path, sizeof(path), "%s/etc/group", rootfs);
	if (!err)
		err = write_path_atomic(path, group, strlen(group), 0644);
	return err;
}

int ctr_pkg_rootfs(const char *name, const char *const *pkgs, int npkgs, char *rootfs,
		   size_t len, json_t **binds)
{
	char dir[256], *list = malloc(LIST_MAX), *tmp = malloc(LIST_MAX);
	json_t *b = json_array();
	int err = containers_prepare();

	*binds = NULL;
	if (!err && (!list || !tmp || !b))
		err = -ENOMEM;
	if (!err)
		err = ctr_run_dir(dir, sizeof(dir));
	if (!err && snprintf(rootfs, len, "%s/%s.rootfs", dir, name) >= (int)len)
		err = -ENAMETOOLONG;
	if (!err && (err = make_tree(rootfs)))
		ctr_set_err("cannot create %s: %s", rootfs, strerror(-err));
	for (int i = 0; !err && i < npkgs; i++)
		err = add_package(b, pkgs[i], list, tmp);
	free(list);
	free(tmp);
	if (err) {
		json_decref(b);
		return err;
	}
	pr_debug("containers: %s: %zu files bound from %d packages\n", name, json_array_size(b),
		 npkgs);
	*binds = b;
	return 0;
}

int ctr_image_rootfs(const char *name, const char *image, char *rootfs, size_t len)
{
	char dir[256], bundle[320], out[4096];
	const char *argv[] = { "umoci", "raw", "unpack", "--rootless", "--image", image, bundle,
			       NULL };
	int err = containers_prepare(), rc;

	if (!err)
		err = ctr_run_dir(dir, sizeof(dir));
	if (err)
		return err;
	snprintf(bundle, sizeof(bundle), "%s/%s.image", dir, name);
	argv[3] = "--keep-dirlinks";
	rc = capture_stdout(argv, out, sizeof(out));
	if (rc) {
		ctr_set_err("umoci raw unpack %s failed (exit %d)", image, rc);
		return -EIO;
	}
	snprintf(rootfs, len, "%s", bundle);
	return 0;
}
