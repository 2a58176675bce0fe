#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "lib/vm.h"
#include "tests/test.h"

/* 6.1 and 6.12 are told apart, meta packages and unsigned/dbg ones skipped,
 * and -57 is newer than -9 (version order, not text order). */
OLAB_TEST(vm_pick_package)
{
	const char list[] = "linux-image-6.1.0-9-cloud-amd64\n"
			    "linux-image-6.1.0-57-cloud-amd64\n"
			    "linux-image-6.1.0-57-cloud-amd64-unsigned\n"
			    "linux-image-6.1.0-57-cloud-amd64-dbg\n"
			    "linux-image-6.1.0-56-cloud-amd64\n"
			    "linux-image-6.1.0-99-amd64\n"
			    "linux-image-6.12-cloud-amd64\n"
			    "linux-image-6.12.9+deb12-cloud-amd64\n"
			    "linux-image-6.12.117+deb12-cloud-amd64\n"
			    "linux-image-6.12.100+deb12-cloud-amd64\n";
	char names[sizeof(list)], pkg[128];

	memcpy(names, list, sizeof(list));
	ASSERT_OK(vm_pick_package("6.1", names, pkg, sizeof(pkg)), "6.1");
	ASSERT_STREQ(pkg, "linux-image-6.1.0-57-cloud-amd64", "newest 6.1");
	memcpy(names, list, sizeof(list));
	ASSERT_OK(vm_pick_package("6.12", names, pkg, sizeof(pkg)), "6.12");
	ASSERT_STREQ(pkg, "linux-image-6.12.117+deb12-cloud-amd64", "newest 6.12");
	memcpy(names, list, sizeof(list));
	ASSERT_ERR(vm_pick_package("6.6", names, pkg, sizeof(pkg)), "no 6.6");
}

OLAB_TEST(vm_kernel_spec)
{
	ASSERT_TRUE(vm_kernel_spec_valid("6.1"), "short");
	ASSERT_TRUE(vm_kernel_spec_valid("6.12"), "short");
	ASSERT_TRUE(vm_kernel_spec_valid("linux-image-6.1.0-57-cloud-amd64"), "package");
	ASSERT_TRUE(vm_kernel_spec_valid("/boot/vmlinuz-6.1"), "path");
	ASSERT_FALSE(vm_kernel_spec_valid("6"), "no minor");
	ASSERT_FALSE(vm_kernel_spec_valid("6.1;rm"), "shell");
	ASSERT_FALSE(vm_kernel_spec_valid("linux-image-6.1 x"), "space in package");
	ASSERT_FALSE(vm_kernel_spec_valid("host"), "host is matrix's");
	ASSERT_FALSE(vm_kernel_spec_valid(""), "empty");
}

/* --accel auto's probe, with this machine's facts injected or not. */
OLAB_TEST(vm_accel_decide)
{
	struct vm_accel_probe here = { .want = VM_ACCEL_AUTO }, p;
	char why[256];

	p = here;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), "tcg", "no CPU flag: tcg");
	ASSERT_STRCONTAINS(why, "no vmx/svm", "says why");
	p.cpu_virt = true;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), "kvm", "flag and /dev/kvm: kvm");
	p.dev_kvm_errno = ENOENT;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), "tcg", "no /dev/kvm: tcg");
	ASSERT_STRCONTAINS(why, "/dev/kvm: ", "names /dev/kvm");
	p = here;
	p.force_kvm = true;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), "kvm", "forced: kvm (to test the fallback)");
	p.dev_kvm_errno = EACCES;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), "tcg", "forced, no /dev/kvm: tcg");
	p = here;
	p.want = VM_ACCEL_KVM;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), "kvm", "asked for kvm");
	p.want = VM_ACCEL_TCG;
	p.cpu_virt = true;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), "tcg", "asked for tcg");
	/* this machine: the probe's facts as they are (no vmx/svm here: tcg) */
	vm_accel_probe_here(VM_ACCEL_AUTO, &p);
	p.force_kvm = false;
	ASSERT_STREQ(vm_accel_decide(&p, why, sizeof(why)), p.cpu_virt && !p.dev_kvm_errno ? "kvm"
		     : "tcg", "here");
}

/* When a KVM boot is given up for TCG: a KVM error at once, qemu gone before
 * the guest is up, or nothing up by the limit; never once the guest is up. */
OLAB_TEST(vm_kvm_fallback)
{
	struct vm_kvm_attempt a = { .waited_ms = 500, .qemu_log = "" };
	char why[256];

	ASSERT_FALSE(vm_kvm_fallback(&a, why, sizeof(why)), "booting, 0.5 s: wait");
	a.qemu_log = "KVM internal error. Suberror: 1\nextra data[0]: 0x0\n";
	ASSERT_TRUE(vm_kvm_fallback(&a, why, sizeof(why)), "KVM internal error");
	ASSERT_STREQ(why, "qemu: KVM internal error. Suberror: 1", "the error line");
	a.booted = true;
	ASSERT_FALSE(vm_kvm_fallback(&a, why, sizeof(why)), "up: never");
	a = (struct vm_kvm_attempt){ .exited = true, .waited_ms = 100, .qemu_log = "boom\n" };
	ASSERT_TRUE(vm_kvm_fallback(&a, why, sizeof(why)), "qemu ended before boot");
	ASSERT_STRCONTAINS(why, "ended before the guest was up: boom", "says so");
	a = (struct vm_kvm_attempt){ .waited_ms = VM_KVM_BOOT_MS - 1, .qemu_log = "" };
	ASSERT_FALSE(vm_kvm_fallback(&a, why, sizeof(why)), "just under the limit");
	a.waited_ms = VM_KVM_BOOT_MS;
	ASSERT_TRUE(vm_kvm_fallback(&a, why, sizeof(why)), "silent hang: the limit");
	ASSERT_STRCONTAINS(why, "not up within 20.0 s", "names the limit");
	a = (struct vm_kvm_attempt){ .waited_ms = 2500, .limit_ms = 2000, .qemu_log = NULL };
	ASSERT_TRUE(vm_kvm_fallback(&a, why, sizeof(why)), "own limit");
	a.booted = true;
	a.exited = true;
	ASSERT_FALSE(vm_kvm_fallback(&a, why, sizeof(why)), "booted and ended: the command's end");
}
