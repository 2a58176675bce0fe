/* Programs `offloadlab vm` runs (apt-get, virtiofsd, qemu): children of the
 * run (netns/proc.h: in the manifest, killed at cleanup), output to a file. */
#ifndef OLAB_VM_EXEC_H
#define OLAB_VM_EXEC_H
#include <stddef.h>
#include "netns/proc.h"

/* Start argv (PATH searched) in cwd (NULL: ours) with stdout and stderr
 * appended to log (NULL: /dev/null); 0 or -errno. */
int vm_spawn(struct proc *p, const char *const *argv, const char *cwd, const char *log);
/* Run to completion within timeout_ms: its exit status, or -errno/-ETIMEDOUT. */
int vm_exec_log(const char *const *argv, const char *cwd, const char *log, int timeout_ms);
/* The same with stdout in out (NUL-terminated, truncated to len - 1). */
int vm_exec_capture(const char *const *argv, char *out, size_t len, int timeout_ms);
/* Run to completion with stdout to out_fd and stderr to ours. */
int vm_exec_fd(const char *const *argv, int out_fd, int timeout_ms);

#endif
