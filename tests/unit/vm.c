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
