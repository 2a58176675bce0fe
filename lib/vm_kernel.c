/* Kernels for `offloadlab vm`: a vmlinuz path, or a Debian package fetched with
 * apt-get into VM_CACHE_DIR/kernels/<package> (extracted, depmod run) under a
 * lock, so two runs never download the same package at once. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "lib/vm.h"
#include "lib/vm_exec.h"

#define KERNELS_DIR   VM_CACHE_DIR "/kernels"
#define LOCK_WAIT_NS  (600ull * 1000000000ull)
#define APT_TIMEOUT_MS (300 * 1000)

static bool is_short_form(const char *s)
{
	size_t d1 = strspn(s, "0123456789");

	return d1 && s[d1] == '.' && s[d1 + 1] && strspn(s + d1 + 1, "0123456789") == strlen(s + d1 + 1);
}

static bool is_package_name(const char *s)
{
	return !strncmp(s, "linux-image-", 12) && strlen(s) < 100 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.+-") == strlen(s);
}

int vm_kernel_spec_valid(const char *spec)
{
	return spec && (strchr(spec, '/') || is_short_form(spec) || is_package_name(spec));
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* "linux-image-<ver>[.-]<digit>...-cloud-amd64": a versioned cloud kernel of <ver>. */
static bool matches_short(const char *name, const char *ver)
{
	size_t pl = strlen("linux-image-"), vl = strlen(ver), nl = strlen(name);
	const char *tail = "-cloud-amd64";

	return nl > pl + vl + strlen(tail) + 1 && !strncmp(name + pl, ver, vl) &&
	       (name[pl + vl] == '.' || name[pl + vl] == '-') && isdigit((unsigned char)name[pl + vl + 1]) &&
	       !strcmp(name + nl - strlen(tail), tail);
}

int vm_pick_package(const char *ver, char *names, char *pkg, size_t len)
{
	char *save = NULL;

	pkg[0] = '\0';
	for (char *l = strtok_r(names, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (matches_short(l, ver) && strlen(l) < len && (!pkg[0] || strverscmp(l, pkg) > 0))
			snprintf(pkg, len, "%s", l);
	return pkg[0] ? 0 : -ENOENT;
}

/* The newest linux-image-<ver>*-cloud-amd64 apt knows. */
static int newest_package(const char *ver, char *pkg, size_t len, char *err, size_t elen)
{
	char out[65536], prefix[64];
	const char *argv[] = { "apt-cache", "pkgnames", prefix, NULL };
	int ret;

	snprintf(prefix, sizeof(prefix), "linux-image-%s", ver);
	ret = vm_exec_capture(argv, out, sizeof(out), 60000);
	if (ret < 0 || ret > 1) {
		snprintf(err, elen, "apt-cache pkgnames failed (%d)", ret);
		return -EIO;
	}
	if (vm_pick_package(ver, out, pkg, len)) {
		snprintf(err, elen, "no linux-image-%s*-cloud-amd64 package in apt's lists "
			 "(apt-get update?)", ver);
		return -ENOENT;
	}
	return 0;
}

/* Fill k from an extracted package root (boot/vmlinuz-R, lib/modules/R). */
static int kernel_from_root(const char *root, struct vm_kernel *k)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/lib/modules", root);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	k->release[0] = '\0';
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(k->release))
			memcpy(k->release, de->d_name, strlen(de->d_name) + 1);
	closedir(d);
	if (!k->release[0])
		return -ENOENT;
	if (snprintf(k->moddir, sizeof(k->moddir), "%s/%s", dir, k->release) >= (int)sizeof(k->moddir) ||
	    snprintf(k->vmlinuz, sizeof(k->vmlinuz), "%s/boot/vmlinuz-%s", root, k->release) >=
	    (int)sizeof(k->vmlinuz))
		return -ENAMETOOLONG;
	return access(k->vmlinuz, R_OK) ? -ENOENT : 0;
}

/* Cleanup: a half-made fetch folder. */
static void fetch_dir_cleanup(const char *name, long num)
{
	remove_tree(name);
}

/* apt-get download, dpkg-deb -x, depmod: into tmp, then renamed to dest. */
static int fetch_package(const char *pkg, const char *dest, char *err, size_t elen)
{
	char tmp[PATH_MAX], root[PATH_MAX + 8], log[PATH_MAX + 8], rel[PATH_MAX + 16];
	const char *dl[] = { "apt-get", "download", "-q", pkg, NULL };
	struct vm_kernel k;
	glob_t g = { 0 };
	int ret, h;

	snprintf(tmp, sizeof(tmp), KERNELS_DIR "/.%s-fetch", run_prefix());
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(log, sizeof(log), "%s/log", tmp);
	remove_tree(tmp);
	if ((ret = mkdir_p(tmp, 0755)))
		return ret;
	h = cleanup_add(fetch_dir_cleanup, tmp, 0, "kernel fetch folder");
	ret = vm_exec_log(dl, tmp, log, APT_TIMEOUT_MS);
	if (ret) {
		snprintf(err, elen, "cannot fetch kernel package %s: apt-get download failed "
			 "(%d): unknown package or registry unreachable (try apt-get download %s)",
			 pkg, ret, pkg);
		ret = -EHOSTUNREACH;
		goto out;
	}
	snprintf(rel, sizeof(rel), "%s/*.deb", tmp);
	if (glob(rel, 0, NULL, &g) || g.gl_pathc != 1) {
		snprintf(err, elen, "apt-get download %s left no single .deb", pkg);
		ret = -EIO;
		goto out;
	}
	{
		const char *x[] = { "dpkg-deb", "-x", g.gl_pathv[0], root, NULL };

		ret = vm_exec_log(x, tmp, log, APT_TIMEOUT_MS);
	}
	if (!ret && !(ret = kernel_from_root(root, &k))) {
		const char *dm[] = { "depmod", "-b", root, k.release, NULL };

		ret = vm_exec_log(dm, tmp, log, APT_TIMEOUT_MS);
	}
	if (ret) {
		snprintf(err, elen, "cannot extract %s: dpkg-deb or depmod failed (%d)", pkg, ret);
		ret = -EIO;
	} else if (rename(root, dest)) {
		ret = -errno;
		snprintf(err, elen, "cannot move %s into %s: %s", pkg, dest, strerror(-ret));
	}
out:
	globfree(&g);
	if (h >= 0)
		cleanup_run(h);
	return ret;
}

/* The cache lock, polled so a stop signal ends the wait. */
static int cache_lock(char *err, size_t elen)
{
	int fd, ret = mkdir_p(KERNELS_DIR, 0755);
	uint64_t end = now_ns() + LOCK_WAIT_NS;

	if (ret || (fd = open(VM_CACHE_DIR "/kernels.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		snprintf(err, elen, "cannot open the kernel cache " VM_CACHE_DIR ": %s",
			 strerror(ret ? -ret : errno));
		return ret ? ret : -errno;
	}
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK || now_ns() > end || !run_sleep_ns(100000000ull)) {
			snprintf(err, elen, "the kernel cache lock " VM_CACHE_DIR "/kernels.lock is busy");
			close(fd);
			return -EBUSY;
		}
	}
	return fd;
}

static int kernel_from_path(const char *path, struct vm_kernel *k, char *err, size_t elen)
{
	char copy[PATH_MAX], *base, *dir;
	const char *rel;

	if (access(path, R_OK)) {
		snprintf(err, elen, "kernel %s: %s", path, strerror(errno));
		return -ENOENT;
	}
	snprintf(k->vmlinuz, sizeof(k->vmlinuz), "%s", path);
	snprintf(copy, sizeof(copy), "%s", path);
	base = basename(copy);
	snprintf(k->name, sizeof(k->name), "%s", base);
	rel = !strncmp(base, "vmlinuz-", 8) ? base + 8 : "";
	snprintf(k->release, sizeof(k->release), "%s", rel);
	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	snprintf(k->moddir, sizeof(k->moddir), "%s/../lib/modules/%s", dir, rel);
	if (!rel[0] || !is_dir(k->moddir))
		k->moddir[0] = '\0';
	return 0;
}

int vm_kernel_get(const char *spec, struct vm_kernel *k, char *err, size_t elen)
{
	char dest[PATH_MAX];
	int fd, ret = 0;

	memset(k, 0, sizeof(*k));
	if (!vm_kernel_spec_valid(spec)) {
		snprintf(err, elen, "kernel '%s': not a version (6.1), a package or a path", spec);
		return -EINVAL;
	}
	if (strchr(spec, '/'))
		return kernel_from_path(spec, k, err, elen);
	if (is_short_form(spec))
		ret = newest_package(spec, k->name, sizeof(k->name), err, elen);
	else
		snprintf(k->name, sizeof(k->name), "%s", spec);
	if (ret)
		return ret;
	if ((fd = cache_lock(err, elen)) < 0)
		return fd;
	snprintf(dest, sizeof(dest), KERNELS_DIR "/%s", k->name);
	if (!is_dir(dest)) {
		pr_info("offloadlab vm: fetching %s into " KERNELS_DIR "\n", k->name);
		ret = fetch_package(k->name, dest, err, elen);
	}
	if (!ret && kernel_from_root(dest, k)) {
		snprintf(err, elen, "cached %s has no boot/vmlinuz or lib/modules", dest);
		ret = -EIO;
	}
	close(fd);
	return ret;
}
