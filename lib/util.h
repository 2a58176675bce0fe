/* Small helpers shared by every part of offloadlab. */
#ifndef OLAB_UTIL_H
#define OLAB_UTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses: 0 ok, 1 runtime failure or failed check, 2 usage. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

uint64_t now_ns(void); /* CLOCK_MONOTONIC */
void sleep_ns(uint64_t ns);
/* close(fd) when it is open (>= 0): for cleanup paths. */
void close_fd(int fd);

/* Whole-file I/O; return 0 or -errno. */
int write_file(const char *path, const char *s);
/* Every byte of p to fd (EINTR retried): 0 or -errno. */
int write_all(int fd, const char *p, size_t len);
int read_file(const char *path, char *buf, size_t len);
/* Replace dirfd/name with len bytes of data, atomically: a temp file in the
 * same directory (O_EXCL, O_NOFOLLOW), fchmod to mode whatever the umask,
 * write, fsync, rename over name, fsync the directory.  0 or -errno; on
 * error the old file (if any) is left as it was and the temp file removed. */
int write_file_atomic(int dirfd, const char *name, const void *data, size_t len, unsigned mode);
/* The same for a path: its folder opened, then write_file_atomic. */
int write_path_atomic(const char *path, const void *data, size_t len, unsigned mode);

/* Parse a whole decimal integer within [min, max]; return 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* How many times slower this machine runs than a real one: TIME_SCALE_ENV
 * (1-50; `offloadlab vm` sets 10 under TCG), default 1.  Time limits and
 * lead-ins multiply by it. */
#define TIME_SCALE_ENV "OLAB_TIME_SCALE"
int time_scale(void);
/* "2" or "1.5" (seconds), "300ms" or "2s" into milliseconds. */
int parse_duration_ms(const char *s, uint64_t *ms);
/* Parse "0,1" or "0-1" into a CPU bitmask (CPUs < 64). */
int parse_cpu_list(const char *s, uint64_t *mask);

/* mkdir -p; rm -rf restricted to paths that contain "olab". */
int mkdir_p(const char *path, unsigned mode);
int remove_tree(const char *path);

/* First mount point of fstype in a /proc/self/mountinfo-format stream
 * (octal escapes decoded); 0, -ENOENT or -ENAMETOOLONG. */
int mountinfo_find_fstype(const char *mountinfo, const char *fstype, char *buf, size_t len);
/* This process's first mount point of fstype ("cgroup2": where cgroup v2 is,
 * /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones). */
int mount_point_of(const char *fstype, char *buf, size_t len);

/* Kernel release string (uname -r) and online CPU count. */
const char *kernel_release(void);
int cpu_count(void);
/* Run argv (stdin and stderr /dev/null), its stdout into out, NUL-terminated
 * and cut at len - 1 bytes; its exit status (255 after a signal) or -errno. */
int capture_stdout(const char *const *argv, char *out, size_t len);

#endif
