/* config.json of an OCI runtime bundle (runtime-spec 1.0.2), built with jansson. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "containers/bundle.h"
#include "containers/container.h"
#include "lib/run.h"
#include "lib/util.h"

/*
 * `runc spec`'s masked paths (libcontainer/specconv/example.go) and Docker's
 * (daemon/pkg/oci/defaults.go: /proc/interrupts, powercap, and each CPU's
 * thermal_throttle, added by cpu_masked_paths).  runc skips those missing.
 */
static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", "/sys/devices/virtual/tpm",
};
/* Both agree on these. */
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
#define CPU_SYSFS "/sys/devices/system/cpu"

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* Docker masks /sys/devices/system/cpu/cpuN/thermal_throttle where it exists. */
static void cpu_masked_paths(json_t *masked)
{
	DIR *d = opendir(CPU_SYSFS);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300];
		struct stat st;
		size_t n = strlen(e->d_name);

		if (n <= 3 || strncmp(e->d_name, "cpu", 3) ||
		    strspn(e->d_name + 3, "0123456789") != n - 3)
			continue;
		snprintf(path, sizeof(path), CPU_SYSFS "/%s/thermal_throttle", e->d_name);
		if (!stat(path, &st))
			json_array_append_new(masked, json_string(path));
	}
	closedir(d);
}

static json_t *mount_entry(const char *dst, const char *type, const char *src,
			   const char *const *opts, size_t nopts)
{
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
			 "options", strings(opts, nopts));
}

#define MOUNT(dst, type, src, ...)							\
	mount_entry(dst, type, src, (const char *const[]){ __VA_ARGS__ },		\
		    sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static json_t *mounts(const struct bundle_params *p)
{
	json_t *m = json_array();

	if (!m)
		return NULL;
	json_array_append_new(m, MOUNT("/proc", "proc", "proc", "nosuid", "noexec", "nodev"));
	json_array_append_new(m, MOUNT("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime",
				       "mode=755", "size=65536k"));
	json_array_append_new(m, MOUNT("/dev/pts", "devpts", "devpts", "nosuid", "noexec",
				       "newinstance", "ptmxmode=0666", "mode=0620"));
	json_array_append_new(m, MOUNT("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev",
				       "mode=1777", "size=65536k"));
	json_array_append_new(m, MOUNT("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec",
				       "nodev"));
	json_array_append_new(m, MOUNT("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"));
	json_array_append_new(m, MOUNT(CTR_CGROUPFS_DIR, "cgroup", "cgroup", "nosuid", "noexec",
				       "nodev", "relatime", "ro"));
	json_array_append_new(m, MOUNT("/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777",
				       "size=16m"));
	json_array_append_new(m, MOUNT(p->share_dst, "bind", p->share_src, "rbind", "nosuid",
				       "nodev", "rw"));
	for (size_t i = 0; p->binds && i < json_array_size(p->binds); i++) {
		json_t *b = json_array_get(p->binds, i);

		json_array_append_new(m, MOUNT(json_string_value(json_object_get(b, "dst")), "bind",
					       json_string_value(json_object_get(b, "src")), "bind",
					       "ro", "nosuid", "nodev"));
	}
	for (size_t i = 0; p->tmpfs && i < json_array_size(p->tmpfs); i++)
		json_array_append_new(m, MOUNT(json_string_value(json_array_get(p->tmpfs, i)), "tmpfs",
					       "tmpfs", "nosuid", "nodev", "mode=1777", "size=16m"));
	if (p->cgroup2_src && p->cgroup2_dst)
		json_array_append_new(m, MOUNT(p->cgroup2_dst, "bind", p->cgroup2_src, "rbind",
					       "nosuid", "noexec", "nodev", "ro"));
	return m;
}

json_t *bundle_config(const struct bundle_params *p)
{
	json_t *caps = p->caps, *proc, *linux_, *ns, *masked;
	char env_id[96];

	snprintf(env_id, sizeof(env_id), "OLAB_CTR_ID=%s", p->id);
	proc = json_pack("{s:b, s:{s:i, s:i}, s:O, s:[s, s, s], s:s,"
			 " s:{s:O, s:O, s:O, s:[], s:[]},"
			 " s:[{s:s, s:i, s:i}], s:b}",
			 "terminal", 0,
			 "user", "uid", 0, "gid", 0,
			 "args", p->argv,
			 "env", "PATH=/bin", "HOME=/", env_id,
			 "cwd", "/",
			 "capabilities", "bounding", caps, "effective", caps, "permitted", caps,
			 "inheritable", "ambient",
			 "rlimits", "type", "RLIMIT_NOFILE", "hard", 4096, "soft", 4096,
			 "noNewPrivileges", 1);
	/* cgroup: its /proc/self/cgroup and cgroupfs start at its own cgroup. */
	ns = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}, {s:s, s:s}]",
		       "type", "pid", "type", "ipc", "type", "uts", "type", "mount",
		       "type", "cgroup", "type", "network", "path", p->netns_path);
	masked = strings(masked_paths, ARRAY_SIZE(masked_paths));
	if (masked)
		cpu_masked_paths(masked);
	linux_ = json_pack("{s:s, s:o, s:{s:[{s:b, s:s}]}, s:o, s:o}",
			   "cgroupsPath", p->id,
			   "namespaces", ns,
			   "resources", "devices", "allow", 0, "access", "rwm",
			   "maskedPaths", masked,
			   "readonlyPaths", strings(readonly_paths, ARRAY_SIZE(readonly_paths)));
	if (!proc || !linux_) {
		json_decref(proc);
		json_decref(linux_);
		return NULL;
	}
	return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}",
			 "ociVersion", "1.0.2",
			 "process", proc,
			 "root", "path", p->rootfs, "readonly", 1,
			 "hostname", p->hostname,
			 "mounts", mounts(p),
			 "linux", linux_);
}
