/*
 * Choosing the accelerator: the probe before the run (/dev/kvm, the CPU's
 * vmx/svm flag) and, under --accel auto, the verdict on a KVM boot that is
 * not going anywhere (KVM here opens fine and then stops on "KVM internal
 * error" or hangs), after which the run is retried under TCG.  Both are
 * pure functions of their inputs so the unit tests can feed any machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/util.h"
#include "lib/vm.h"

const char *vm_accel_decide(const struct vm_accel_probe *p, char *why, size_t len)
{
	if (p->want == VM_ACCEL_TCG || p->want == VM_ACCEL_KVM) {
		snprintf(why, len, "asked for");
		return p->want == VM_ACCEL_KVM ? "kvm" : "tcg";
	}
	if (p->dev_kvm_errno) {
		snprintf(why, len, "/dev/kvm: %s", strerror(p->dev_kvm_errno));
		return "tcg";
	}
	if (p->force_kvm) {
		snprintf(why, len, VM_FORCE_KVM_ENV " set: trying KVM%s",
			 p->cpu_virt ? "" : " without a vmx/svm CPU flag");
		return "kvm";
	}
	if (!p->cpu_virt) {
		snprintf(why, len, "no vmx/svm CPU flag (no nested virtualisation)");
		return "tcg";
	}
	snprintf(why, len, "/dev/kvm and a vmx/svm CPU flag");
	return "kvm";
}

void vm_accel_probe_here(int want, struct vm_accel_probe *p)
{
	static char cpuinfo[1 << 16];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	const char *force = getenv(VM_FORCE_KVM_ENV);

	p->want = want;
	p->dev_kvm_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	p->cpu_virt = !read_file("/proc/cpuinfo", cpuinfo, sizeof(cpuinfo)) &&
		      (strstr(cpuinfo, " vmx") || strstr(cpuinfo, " svm"));
	p->force_kvm = force && !strcmp(force, "1");
}

/* The line of log that contains what, into buf (without its newline). */
static bool log_line(const char *log, const char *what, char *buf, size_t len)
{
	const char *at = log ? strstr(log, what) : NULL;

	if (!at)
		return false;
	snprintf(buf, len, "%.*s", (int)strcspn(at, "\n"), at);
	return true;
}

bool vm_kvm_fallback(const struct vm_kvm_attempt *a, char *why, size_t len)
{
	char line[160];

	if (a->booted)
		return false;
	if (log_line(a->qemu_log, "KVM internal error", line, sizeof(line)) ||
	    log_line(a->qemu_log, "failed to initialize kvm", line, sizeof(line)) ||
	    log_line(a->qemu_log, "failed to initialize KVM", line, sizeof(line))) {
		snprintf(why, len, "qemu: %s", line);
		return true;
	}
	if (a->exited) {
		snprintf(why, len, "qemu ended before the guest was up%s%.120s",
			 a->qemu_log && a->qemu_log[0] ? ": " : "", a->qemu_log ? a->qemu_log : "");
		return true;
	}
	if (a->waited_ms >= (a->limit_ms ?: VM_KVM_BOOT_MS)) {
		snprintf(why, len, "the guest was not up within %.1f s",
			 (double)(a->limit_ms ?: VM_KVM_BOOT_MS) / 1000);
		return true;
	}
	return false;
}
