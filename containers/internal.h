/* Shared between the files of containers/ only. */
#ifndef OLAB_CTR_INTERNAL_H
#define OLAB_CTR_INTERNAL_H
#include <stddef.h>
#include <jansson.h>

#define CTR_RUNC_TIMEOUT_MS 30000
/* After the run prefix: its state directory "olab<pid>-ctr", container ids
 * and cgroups "olab<pid>-ctr-<name>". */
#define CTR_SUFFIX "-ctr"

/* The static binaries, embedded by containers/blobs.c. */
extern const char ctr_blob_helper[], ctr_blob_helper_end[];
extern const char ctr_blob_app[], ctr_blob_app_end[];

/*
 * The files depend on each other in one direction only:
 *   exec.c (runc calls, errors) <- clean.c <- rootfs.c <- runc.c <- app.c, probe.c
 */

/* ---- exec.c ---- */

void ctr_set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* runc's absolute path (OLAB_RUNC, else PATH); NULL with the reason set. */
const char *ctr_runc_path(void);

/*
 * Run `runc --root <root> args...` with a time limit.  out_fd/err_fd >= 0
 * become its stdout/stderr (runc create hands them to the container);
 * otherwise its output is captured into out/err (either may be NULL).
 * Returns its exit status (0..255) or -errno (-ETIMEDOUT).
 */
struct runc_io {
	int out_fd, err_fd;
	int pass_fd;               /* > 2: becomes fd 3 of runc (--preserve-fds 1); else none */
	char *out, *err;
	size_t out_len, err_len;
};
int ctr_runc(const char *root, struct runc_io *io, int timeout_ms, const char *const *args);
/* The message of runc's last error line ("msg=..."), or its last line. */
void ctr_runc_msg(const char *out, char *buf, size_t len);

/* ---- clean.c ---- */

/* Remove one container of a run directory (kill, delete, cgroups, bundle). */
int ctr_teardown(const char *run_dir, const char *id);
/* Every container of a run directory, then the directory; failures. */
int ctr_clean_run_dir(const char *run_dir, json_t *removed);

/* ---- rootfs.c ---- */

/* RUN_STATE_DIR/<prefix>-ctr of this run, and its rootfs and runc root. */
int ctr_run_dir(char *buf, size_t len);

#endif
