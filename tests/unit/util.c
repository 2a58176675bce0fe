#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/run.h"
#include "lib/util.h"
#include "tests/test.h"

OLAB_TEST(util_parse_u64)
{
	uint64_t v = 0;

	ASSERT_OK(parse_u64("64", 64, 1500, &v), "in range");
	ASSERT_EQ(v, 64, "value");
	ASSERT_EQ(parse_u64("63", 64, 1500, &v), -ERANGE, "below range");
	ASSERT_EQ(parse_u64("1501", 64, 1500, &v), -ERANGE, "above range");
	ASSERT_EQ(parse_u64("12x", 0, 100, &v), -EINVAL, "trailing junk");
	ASSERT_EQ(parse_u64("-1", 0, 100, &v), -EINVAL, "negative");
	ASSERT_EQ(parse_u64("", 0, 100, &v), -EINVAL, "empty");
	ASSERT_EQ(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -EINVAL, "overflow");
}

OLAB_TEST(util_parse_cpu_list)
{
	uint64_t m = 0;

	ASSERT_OK(parse_cpu_list("0", &m), "single");
	ASSERT_EQ(m, 1, "mask 0");
	ASSERT_OK(parse_cpu_list("0,2-3", &m), "list and range");
	ASSERT_EQ(m, 0xd, "mask 0,2-3");
	ASSERT_EQ(parse_cpu_list("3-1", &m), -ERANGE, "reversed range");
	ASSERT_EQ(parse_cpu_list("64", &m), -ERANGE, "too large");
	ASSERT_EQ(parse_cpu_list("a", &m), -EINVAL, "not a number");
	ASSERT_EQ(parse_cpu_list("1,", &m), 0, "trailing comma tolerated");
	ASSERT_EQ(parse_cpu_list("1-", &m), -EINVAL, "open range");
}

OLAB_TEST(run_prefix_parsing)
{
	ASSERT_EQ(run_prefix_pid("olab1234-gen0"), 1234, "netns name");
	ASSERT_EQ(run_prefix_pid("olab42d0"), 42, "ifname");
	ASSERT_EQ(run_prefix_pid("olab-x"), 0, "no pid");
	ASSERT_EQ(run_prefix_pid("olab0123"), 0, "leading zero is not ours");
	ASSERT_EQ(run_prefix_pid("eth0"), 0, "foreign name");
	ASSERT_EQ(run_prefix_pid(run_prefix()), getpid(), "own prefix");
}

static int calls[4], order[4], n_order;
static void record(const char *name, long num)
{
	calls[num]++;
	order[n_order++] = (int)num;
}

OLAB_TEST(run_cleanup_order)
{
	int h0 = cleanup_add(record, "a", 0, "t");
	int h1 = cleanup_add(record, "b", 1, "t");
	int h2 = cleanup_add(record, "c", 2, "t");
	int h3 = cleanup_add(record, "d", 3, "t");

	ASSERT_TRUE(h0 >= 0 && h1 >= 0 && h2 >= 0 && h3 >= 0, "handles");
	cleanup_run(h1);
	ASSERT_EQ(calls[1], 1, "run one now");
	cleanup_run(h1);
	ASSERT_EQ(calls[1], 1, "run once only");
	cleanup_forget(h2);
	cleanup_all();
	ASSERT_EQ(calls[2], 0, "forgotten not run");
	ASSERT_EQ(n_order, 3, "three ran");
	ASSERT_EQ(order[1], 3, "newest first");
	ASSERT_EQ(order[2], 0, "oldest last");
	cleanup_all();
	ASSERT_EQ(n_order, 3, "idempotent");
}

OLAB_TEST(util_remove_tree_refuses_foreign)
{
	ASSERT_EQ(remove_tree("/tmp"), -EPERM, "refuses a path without the run prefix");
}

OLAB_TEST(util_parse_duration_ms)
{
	uint64_t ms = 0;

	ASSERT_OK(parse_duration_ms("2", &ms), "seconds");
	ASSERT_EQ(ms, 2000, "2 s");
	ASSERT_OK(parse_duration_ms("1.5", &ms), "fraction");
	ASSERT_EQ(ms, 1500, "1.5 s");
	ASSERT_OK(parse_duration_ms("300ms", &ms), "ms suffix");
	ASSERT_EQ(ms, 300, "300 ms");
	ASSERT_OK(parse_duration_ms("3s", &ms), "s suffix");
	ASSERT_EQ(ms, 3000, "3 s");
	ASSERT_EQ(parse_duration_ms("3min", &ms), -EINVAL, "unknown unit");
	ASSERT_EQ(parse_duration_ms("-1", &ms), -EINVAL, "negative");
	ASSERT_EQ(parse_duration_ms("", &ms), -EINVAL, "empty");
	ASSERT_EQ(parse_duration_ms("x", &ms), -EINVAL, "junk");
}

/* write_file_atomic replaces the file (never writes through a symlink at its
 * name), sets the mode whatever the umask and leaves no temp file. */
OLAB_TEST(util_write_file_atomic)
{
	char tmp[] = "/tmp/olab-unit-atomic.XXXXXX", p[128], buf[64] = "";
	mode_t old = umask(077);
	struct stat st;
	DIR *d = NULL;
	struct dirent *e;
	int fd = -1, n = 0;

	if (!ASSERT_OK_PTR(mkdtemp(tmp), "mkdtemp"))
		goto out;
	fd = open(tmp, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%s/target", tmp);
	ASSERT_OK(write_file_atomic(fd, "target", "keep", 4, 0600), "write the symlink's target");
	ASSERT_OK(symlinkat("target", fd, "f.json"), "symlink at the name");
	ASSERT_OK(write_file_atomic(fd, "f.json", "{\"a\": 1}", 8, 0644), "write");
	ASSERT_OK(read_file(p, buf, sizeof(buf)), "read the target");
	ASSERT_STREQ(buf, "keep", "the symlink's target is untouched");
	snprintf(p, sizeof(p), "%s/f.json", tmp);
	ASSERT_OK(lstat(p, &st), "lstat");
	ASSERT_TRUE(S_ISREG(st.st_mode), "the name is now a regular file");
	ASSERT_EQ(st.st_mode & 07777, 0644, "mode under umask 077");
	ASSERT_OK(read_file(p, buf, sizeof(buf)), "read");
	ASSERT_STREQ(buf, "{\"a\": 1}", "content");
	d = opendir(tmp);
	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	ASSERT_EQ(n, 2, "target and f.json only, no temp file");
out:
	if (d)
		closedir(d);
	close_fd(fd);
	umask(old);
	remove_tree(tmp);
}
