/*
 * Test helpers in the style of the kernel's selftests/bpf: each ASSERT_*
 * returns a bool so a test can `goto cleanup` on failure, and prints what it
 * expected and what it got.  Define a test with OLAB_TEST(name) in any file
 * under tests/unit (pure logic, built with ASan+UBSan) or tests/integ (real
 * namespaces and BPF, as root); the table is generated from the files.
 */
#ifndef OLAB_TEST_H
#define OLAB_TEST_H
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define OLAB_TEST(name) void test_##name(void)
/* A time limit other than the runner's default (180 s), e.g. after OLAB_TEST(x):
 * OLAB_TEST_TIMEOUT(x, 300);  Over it the test gets SIGTERM (its cleanups run). */
#define OLAB_TEST_TIMEOUT(name, seconds) const int test_timeout_##name = (seconds)

void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Mark the running test skipped, with a reason; the test should return. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Subtests: named parts of one test, e.g. one per entry of a table.  Each
 * call ends the previous subtest (printing "  PASS test/sub" or
 * "  FAIL test/sub") and says whether to run this one: an argument
 * "test/sub" to the runner runs only the subtests whose name contains sub.
 *	for (size_t i = 0; i < hook_count(); i++) {
 *		if (!test_subtest("%s", hook_get(i)->name))
 *			continue;
 *		...asserts...
 *	}
 * The last one ends with the test; the test fails if any subtest failed.
 * test_skip() in a subtest skips that subtest ("  SKIP test/sub: why"); a
 * test whose every subtest skipped is skipped.
 */
bool test_subtest(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Directory of the offloadlab binary under test (build/). */
const char *test_build_dir(void);

#define ASSERT_TRUE(cond, what) ({						\
	bool ___ok = (cond);							\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: expected true: %s", what, #cond); \
	___ok; })
#define ASSERT_FALSE(cond, what) ASSERT_TRUE(!(cond), what)

#define ASSERT_CMP(a, op, b, what) ({						\
	long long ___a = (long long)(a), ___b = (long long)(b);			\
	bool ___ok = ___a op ___b;						\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: expected %s %s %s, got %lld vs %lld", \
			  what, #a, #op, #b, ___a, ___b);				\
	___ok; })
#define ASSERT_EQ(a, b, what) ASSERT_CMP(a, ==, b, what)
#define ASSERT_NE(a, b, what) ASSERT_CMP(a, !=, b, what)
#define ASSERT_GE(a, b, what) ASSERT_CMP(a, >=, b, what)
#define ASSERT_GT(a, b, what) ASSERT_CMP(a, >, b, what)
#define ASSERT_LE(a, b, what) ASSERT_CMP(a, <=, b, what)
#define ASSERT_LT(a, b, what) ASSERT_CMP(a, <, b, what)

/* Fractions and shares: ASSERT_CMP compares as long long (0.99 > 0.9 is 0 > 0). */
#define ASSERT_DBL_CMP(a, op, b, what) ({					\
	double ___a = (a), ___b = (b);						\
	bool ___ok = ___a op ___b;						\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: expected %s %s %s, got %g vs %g", \
			  what, #a, #op, #b, ___a, ___b);				\
	___ok; })
#define ASSERT_DBL_GT(a, b, what) ASSERT_DBL_CMP(a, >, b, what)
#define ASSERT_DBL_LT(a, b, what) ASSERT_DBL_CMP(a, <, b, what)

#define ASSERT_DBL_NEAR(a, b, tol, what) ({					\
	double ___a = (a), ___b = (b);						\
	bool ___ok = ___a - ___b <= (tol) && ___b - ___a <= (tol);		\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: expected %s ~ %s, got %.9g vs %.9g", \
			  what, #a, #b, ___a, ___b);					\
	___ok; })

/* err is 0 or -errno (or a positive errno). */
#define ASSERT_OK(err, what) ({							\
	long long ___e = (long long)(err);					\
	bool ___ok = ___e == 0;							\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s failed: %lld (%s)", what, ___e,	\
			  strerror(___e < 0 ? (int)-___e : (int)___e));		\
	___ok; })
#define ASSERT_ERR(err, what) ({						\
	long long ___e = (long long)(err);					\
	bool ___ok = ___e != 0;							\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: expected an error, got 0", what); \
	___ok; })
#define ASSERT_OK_PTR(p, what) ({						\
	const void *___p = (p);							\
	bool ___ok = ___p != NULL;						\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: NULL (%s)", what, strerror(errno)); \
	___ok; })
#define ASSERT_STREQ(a, b, what) ({						\
	const char *___a = (a), *___b = (b);					\
	bool ___ok = ___a && ___b && !strcmp(___a, ___b);			\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: expected \"%s\", got \"%s\"",	\
			  what, ___b ? ___b : "(null)", ___a ? ___a : "(null)");	\
	___ok; })
#define ASSERT_STRCONTAINS(hay, needle, what) ({				\
	const char *___h = (hay), *___n = (needle);				\
	bool ___ok = ___h && strstr(___h, ___n);				\
	if (!___ok)								\
		test_fail(__FILE__, __LINE__, "%s: \"%s\" not in \"%s\"",		\
			  what, ___n, ___h ? ___h : "(null)");			\
	___ok; })

/* Run a shell command, capture up to len-1 bytes of its stdout; return exit status. */
int test_sh(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
