/*
 * Kernels in qemu: a Debian kernel package fetched into a cache, booted with
 * an initramfs of ours that mounts the host's root read-only (virtio-fs) under
 * a tmpfs overlay, runs one offloadlab command and powers off with its status.
 */
#ifndef OLAB_VM_H
#define OLAB_VM_H
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VM_CACHE_DIR "/var/cache/offloadlab"

struct vm_kernel {
	char name[128];            /* package name, or the vmlinuz file name */
	char vmlinuz[PATH_MAX];
	char moddir[PATH_MAX];     /* lib/modules/<release>, "" when unknown */
	char release[128];         /* "" when unknown */
};

/* Is spec a kernel spec at all ("6.1", "linux-image-...", a path)? */
int vm_kernel_spec_valid(const char *spec);
/* The newest "linux-image-<ver>[.-]<digit>...-cloud-amd64" among names (one
 * a line, modified), in version order: 0, or -ENOENT. */
int vm_pick_package(const char *ver, char *names, char *pkg, size_t len);
/* Resolve spec into a kernel on disk, fetching and extracting its package
 * into VM_CACHE_DIR under a lock.  0, or -errno after one line in err
 * (-ENOENT: no such package; -EHOSTUNREACH: the download failed). */
int vm_kernel_get(const char *spec, struct vm_kernel *k, char *err, size_t len);

enum vm_accel { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG };
extern const char *const vm_accel_names[];

struct vm_opts {
	int accel;                 /* enum vm_accel */
	unsigned cpus, mem_mb;
	uint64_t boot_timeout_ms, timeout_ms;
	FILE *out;                 /* the command's stdout (NULL: ours) */
};

struct vm_result {
	int status;                /* the command's exit status, or -1 */
	const char *accel;         /* "kvm" or "tcg": what ran */
	char accel_why[128];       /* why auto chose it */
	char error[256];           /* why there is no status */
};

/* Boot k, run argv (an offloadlab command line, without "offloadlab") in the
 * guest; its stdout goes to o->out, its stderr to ours.  0 when the command ran (its
 * status in r->status), -errno otherwise (r->error says why). */
int vm_run(const struct vm_kernel *k, const struct vm_opts *o, char **argv, struct vm_result *r);

#endif
