/* Kernel versions (lib/kver.c) and the checks' kernel ranges (checks/kernels.c,
 * checks/verdict.c) with the kernel version injected. */
#include <stdlib.h>
#include <string.h>
#include "checks/check.h"
#include "checks/verdict.h"
#include "lib/kver.h"
#include "tests/test.h"

static uint32_t from_uname(const char *release, const char *version, const char *sig)
{
	uint32_t v = 0;

	return kver_from_uname(release, version, sig, &v) ? 0 : v;
}

OLAB_TEST(kver_parse)
{
	uint32_t v = 0;
	char buf[32];

	ASSERT_OK(kver_parse("6.18.44-fc-v669", &v), "lab kernel");
	ASSERT_EQ(v, KVER(6, 18, 44), "6.18.44");
	ASSERT_OK(kver_parse("6.12.117+deb12-cloud-amd64", &v), "Debian 6.12");
	ASSERT_EQ(v, KVER(6, 12, 117), "6.12.117");
	ASSERT_OK(kver_parse("6.6", &v), "X.Y");
	ASSERT_EQ(v, KVER(6, 6, 0), "6.6 is 6.6.0");
	ASSERT_STREQ(kver_str(KVER(6, 1, 192), buf, sizeof(buf)), "6.1.192", "printed");
	ASSERT_ERR(kver_parse("6", &v), "no minor");
	ASSERT_ERR(kver_parse("v6.1", &v), "leading text");
	ASSERT_ERR(kver_parse("6.x", &v), "minor not a number");
	ASSERT_ERR(kver_parse("", &v), "empty");
	ASSERT_ERR(kver_parse(NULL, &v), "NULL");
	ASSERT_ERR(kver_parse("6.1234567", &v), "absurd minor");
}

/* Numbers, not text: 6.12 > 6.9, 6.1.192 > 6.1.57, and a patch over 255 stays ordered. */
OLAB_TEST(kver_compare)
{
	ASSERT_GT(KVER(6, 12, 0), KVER(6, 9, 0), "6.12 > 6.9");
	ASSERT_GT(KVER(6, 1, 192), KVER(6, 1, 57), "6.1.192 > 6.1.57");
	ASSERT_GT(KVER(4, 9, 337), KVER(4, 9, 255), "patch beyond a byte");
	ASSERT_GT(KVER(7, 0, 0), KVER(6, 255, 9999), "major first");
	ASSERT_EQ(kver_in_range(KVER(6, 6, 0), "6.6", NULL), 1, "since is included");
	ASSERT_EQ(kver_in_range(KVER(6, 5, 99), "6.6", NULL), 0, "before since");
	ASSERT_EQ(kver_in_range(KVER(6, 9, 0), "6.6", "6.9"), 0, "until is excluded");
	ASSERT_EQ(kver_in_range(KVER(6, 8, 12), "6.6", "6.9"), 1, "inside");
	ASSERT_EQ(kver_in_range(KVER(3, 0, 0), NULL, NULL), 1, "open both ways");
	ASSERT_ERR(kver_in_range(KVER(6, 6, 0), "six", NULL), "bad bound");
}

/* uname -r is not always upstream's: Debian's 6.1 says 6.1.0-57, its uname -v
 * says 6.1.192; Ubuntu's signature ends with the upstream version. */
OLAB_TEST(kver_from_uname)
{
	ASSERT_EQ(from_uname("6.1.0-57-cloud-amd64",
			     "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1 (2026-03-02)", NULL),
		  KVER(6, 1, 192), "Debian 6.1");
	ASSERT_EQ(from_uname("6.12.117+deb12-cloud-amd64",
			     "#1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1~deb12u1 (2026-11-14)", NULL),
		  KVER(6, 12, 117), "Debian 6.12");
	ASSERT_EQ(from_uname("6.18.44-fc-v669", "#1 SMP PREEMPT_DYNAMIC @0", NULL),
		  KVER(6, 18, 44), "lab kernel: release as is");
	ASSERT_EQ(from_uname("6.8.0-45-generic", "#45-Ubuntu SMP PREEMPT_DYNAMIC",
			     "Ubuntu 6.8.0-45.45-generic 6.8.12\n"), KVER(6, 8, 12), "Ubuntu");
	/* another series or an older number is not a refinement */
	ASSERT_EQ(from_uname("6.1.0-57-cloud-amd64", "#1 SMP Debian 5.10.200-1", NULL),
		  KVER(6, 1, 0), "other series ignored");
	ASSERT_EQ(from_uname("6.1.50", "#1 SMP Debian 6.1.3-1", NULL), KVER(6, 1, 50),
		  "older ignored");
	ASSERT_EQ(from_uname("garbage", "Debian 6.1.192-1", NULL), 0, "release must parse");
}

OLAB_TEST(kver_running_env)
{
	const char *old = getenv(KVER_ENV);
	char *saved = old ? strdup(old) : NULL;

	setenv(KVER_ENV, "6.1.192", 1);
	ASSERT_EQ(kver_running(), KVER(6, 1, 192), "override");
	if (saved)
		setenv(KVER_ENV, saved, 1);
	else
		unsetenv(KVER_ENV);
	free(saved);
	ASSERT_GE(kver_running(), KVER(3, 0, 0), "this kernel");
}

/* Every range bound parses, every versioned part is in the expectation once. */
OLAB_TEST(check_kernel_ranges_valid)
{
	for (size_t i = 0; i < check_count(); i++) {
		const struct check *c = check_get(i);
		for (int k = 0; k < CHECK_XFAIL_RANGES; k++) {
			const struct check_kernels *x = &c->xfail_kernels[k];

			ASSERT_TRUE(kver_in_range(0, x->since, x->until) >= 0, c->name);
			ASSERT_TRUE(!(x->since || x->until) || (x->ref && x->ref[0]),
				    "xfail range has a ref");
		}
		for (int k = 0; k < CHECK_VERSIONED_MAX && c->versioned[k].holds; k++) {
			const struct check_versioned *v = &c->versioned[k];
			const char *at = strstr(c->expected, v->holds);

			ASSERT_TRUE(kver_in_range(0, v->kernels.since, v->kernels.until) >= 0, c->name);
			ASSERT_TRUE(v->kernels.ref && v->kernels.ref[0], "versioned has a ref");
			ASSERT_TRUE(v->otherwise && v->otherwise[0], "versioned has otherwise");
			if (ASSERT_OK_PTR(at, "holds is in expected"))
				ASSERT_FALSE(strstr(at + 1, v->holds), "holds only once");
		}
	}
}

/* caps-in-container expects tcx to work from 6.6 on, EINVAL before. */
OLAB_TEST(check_expected_by_kernel)
{
	const struct check *c = check_by_name("caps-in-container");
	char buf[CHECK_TEXT_LEN];

	if (!ASSERT_OK_PTR(c, "caps-in-container"))
		return;
	check_expected_for(c, KVER(6, 18, 44), buf, sizeof(buf));
	ASSERT_STREQ(buf, c->expected, "6.18: as written");
	ASSERT_STRCONTAINS(buf, "tcx=works cgroup2=works", "6.18: tcx works");
	check_expected_for(c, KVER(6, 6, 0), buf, sizeof(buf));
	ASSERT_STREQ(buf, c->expected, "6.6: as written");
	check_expected_for(c, KVER(6, 1, 192), buf, sizeof(buf));
	ASSERT_STRCONTAINS(buf, "tc_clsact=works tcx=EINVAL cgroup2=works", "6.1: EINVAL");
	ASSERT_EQ(strlen(buf), strlen(c->expected) - strlen("works") + strlen("EINVAL"),
		  "only that value changed");
	check_expected_for(c, 0, buf, sizeof(buf));
	ASSERT_STREQ(buf, c->expected, "unknown kernel: as written");
}

/* The same stall report: xfail on a kernel in strparser-delivery's bug
 * ranges (6.14+, and the stable lines from their backport on), fail on one
 * outside them (older point releases, 6.13, 5.15). */
OLAB_TEST(check_xfail_by_kernel)
{
	const struct check *c = check_by_name("strparser-delivery");
	const char *report =
		"{\"expected\": \"burst: delivered=all; other: x=1\","
		" \"observed\": \"burst: delivered=100/262100-stalled; other: x=1\","
		" \"xfail\": \"kernel bug\", \"xfail_phases\": \"burst\","
		" \"skip\": \"\", \"error\": \"\", \"counters\": {}}";
	const uint32_t kernels[] = { KVER(6, 18, 44), KVER(6, 12, 117), KVER(6, 1, 192),
				     KVER(6, 6, 80), KVER(6, 1, 129), KVER(6, 12, 16),
				     KVER(6, 13, 5), KVER(5, 15, 180) };
	const enum check_status want[] = { CHECK_XFAIL, CHECK_XFAIL, CHECK_XFAIL, CHECK_XFAIL,
					   CHECK_FAIL, CHECK_FAIL, CHECK_FAIL, CHECK_FAIL };

	if (!ASSERT_OK_PTR(c, "strparser-delivery"))
		return;
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++) {
		struct check_result r = { .check = c, .kver = kernels[i] };
		char v[32];

		kver_str(kernels[i], v, sizeof(v));
		check_verdict_from_report(&r, report);
		ASSERT_EQ(r.status, want[i], v);
		if (want[i] == CHECK_FAIL)
			ASSERT_STRCONTAINS(r.reason, "outside the bug's ranges (6.1.130 to 6.2, 6.6.80 to 6.7, ", v);
		check_result_free(&r);
	}
}
