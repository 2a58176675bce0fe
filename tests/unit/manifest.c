#include <sys/prctl.h>
#include <unistd.h>
#include "lib/manifest.h"
#include "tests/test.h"

/* Fields are read after the last ')': a comm with spaces and parentheses
 * does not shift them. */
OLAB_TEST(manifest_proc_ident)
{
	struct proc_ident id;

	prctl(PR_SET_NAME, "a) 1 2 (b");
	if (!ASSERT_OK(proc_ident_read(getpid(), &id), "proc_ident_read"))
		return;
	ASSERT_EQ(id.ppid, getppid(), "ppid");
	ASSERT_EQ(id.state, 'R', "running");
	ASSERT_GT(id.start, 0, "start time");
	ASSERT_TRUE(proc_matches(getpid(), id.start), "same start time matches");
	ASSERT_FALSE(proc_matches(getpid(), id.start + 1), "another start time does not");
	ASSERT_FALSE(proc_matches(0, id.start), "pid 0 never matches");
	ASSERT_EQ(proc_ident_read(-5, &id), -ENOENT, "no such process");
}
