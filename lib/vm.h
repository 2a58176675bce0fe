/*
 * Kernels in qemu: a Debian kernel package fetched into a cache, booted with
 * an initramfs of ours that mounts the host's root read-only (virtio-fs) under
 * a tmpfs overlay, runs one offloadlab command and powers off with its status.
 */
#ifndef OLAB_VM_H
#define OLAB_VM_H
#include <limits.h>
#include <stdbool.h>
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

/* What --accel auto weighs before a run (vm_accel_decide). */
struct vm_accel_probe {
	int want;                  /* enum vm_accel */
	int dev_kvm_errno;         /* 0: /dev/kvm opens read-write */
	bool cpu_virt;             /* a vmx or svm flag in /proc/cpuinfo */
	bool force_kvm;            /* VM_FORCE_KVM_ENV: try KVM anyway (tests the fallback) */
};
/* Try KVM under --accel auto even without the CPU flag: proves the fallback. */
#define VM_FORCE_KVM_ENV "OLAB_VM_TRY_KVM"
/* "kvm" or "tcg", and why into why. */
const char *vm_accel_decide(const struct vm_accel_probe *p, char *why, size_t len);
/* The probe's facts on this machine (want as given). */
void vm_accel_probe_here(int want, struct vm_accel_probe *p);

/* How a KVM boot under --accel auto is going (vm_kvm_fallback). */
struct vm_kvm_attempt {
	bool exited;               /* qemu has ended */
	bool booted;               /* the guest's /init is up */
	uint64_t waited_ms;        /* since qemu started */
	uint64_t limit_ms;         /* not up by then: give up (0: VM_KVM_BOOT_MS) */
	const char *qemu_log;      /* qemu's output so far */
};
/* A KVM guest that is not up within this is given up for TCG (KVM boots
 * ours in 1-3 s; here it hangs silently or stops on an internal error). */
#define VM_KVM_BOOT_MS 20000
/* Give the KVM attempt up for TCG?  true (and why) when qemu reported a KVM
 * error, ended before the guest was up, or the guest is not up within
 * limit_ms; never once the guest is up. */
bool vm_kvm_fallback(const struct vm_kvm_attempt *a, char *why, size_t len);

struct vm_opts {
	int accel;                 /* enum vm_accel */
	unsigned cpus, mem_mb;
	uint64_t boot_timeout_ms, timeout_ms;
	uint64_t kvm_boot_ms;      /* auto: a KVM boot's limit before TCG (0: VM_KVM_BOOT_MS) */
	FILE *out;                 /* the command's stdout (NULL: ours) */
};

struct vm_result {
	int status;                /* the command's exit status, or -1 */
	const char *accel;         /* "kvm" or "tcg": what ran */
	char accel_why[256];       /* why (auto: the probe, or KVM's failure and the fallback) */
	char error[256];           /* why there is no status */
};

/* Boot k, run argv (an offloadlab command line, without "offloadlab") in the
 * guest; its stdout goes to o->out, its stderr to ours.  0 when the command ran (its
 * status in r->status), -errno otherwise (r->error says why). */
int vm_run(const struct vm_kernel *k, const struct vm_opts *o, char **argv, struct vm_result *r);

#endif
