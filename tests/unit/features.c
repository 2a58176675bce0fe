/* Pure logic of lib/features*.c: names, reasons, mountinfo parsing (no probing). */
#include <errno.h>
#include <string.h>
#include "lib/features.h"
#include "lib/util.h"
#include "tests/test.h"

/* The JSON contract: `env --json` keys that exist today, in enum order.  A
 * new feature (e.g. for a new hook) needs no edit here: it is checked by the
 * rules every name follows. */
static const char *const contract_names[] = {
	"xdp_native", "xdp_generic", "xdp_live_frames", "tc_clsact", "tcx", "netfilter_link",
	"sk_skb_verdict", "sk_skb_parser", "sk_msg", "cgroup_skb", "fentry", "ringbuf",
	"user_ringbuf", "mmapable_array", "bpf_loop", "spin_lock", "arena",
};

static bool is_key_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

OLAB_TEST(features_names_round_trip)
{
	int prev = -1;

	ASSERT_GE(FEAT__COUNT, ARRAY_SIZE(contract_names), "no contract name removed");
	for (size_t i = 0; i < ARRAY_SIZE(contract_names); i++) {
		int id = feature_by_name(contract_names[i]);

		ASSERT_GT(id, prev, contract_names[i]);
		prev = id;
	}
	for (int i = 0; i < FEAT__COUNT; i++) {
		ASSERT_TRUE(is_key_name(feature_name(i)), "lower-case JSON key");
		ASSERT_EQ(feature_by_name(feature_name(i)), i, "name of each id round-trips");
		ASSERT_TRUE(feature_desc(i) && *feature_desc(i), "every feature has a description");
		for (int j = 0; j < i; j++)
			ASSERT_TRUE(strcmp(feature_name(i), feature_name(j)), "names are unique");
	}
	ASSERT_TRUE(feature_name(FEAT__COUNT) == NULL, "past the end");
	ASSERT_TRUE(feature_name((enum feature_id)-1) == NULL, "negative id");
	ASSERT_EQ(feature_by_name("xdp"), -ENOENT, "prefix is not a name");
	ASSERT_EQ(feature_by_name("XDP_NATIVE"), -ENOENT, "names are lower case");
	ASSERT_EQ(feature_by_name(""), -ENOENT, "empty");
	ASSERT_EQ(feature_by_name(NULL), -ENOENT, "NULL");
}

OLAB_TEST(features_reason_format)
{
	char buf[FEATURE_REASON_LEN], tiny[8];

	feature_format_reason(buf, sizeof(buf), -EPERM, "load");
	ASSERT_STREQ(buf, "EPERM: Operation not permitted (load)", "negative errno with where");
	feature_format_reason(buf, sizeof(buf), EOPNOTSUPP, NULL);
	ASSERT_STREQ(buf, "EOPNOTSUPP: Operation not supported", "positive errno, no where");
	feature_format_reason(buf, sizeof(buf), -ENOENT, "");
	ASSERT_STREQ(buf, "ENOENT: No such file or directory", "empty where adds nothing");
	strcpy(buf, "stale");
	feature_format_reason(buf, sizeof(buf), 0, "load");
	ASSERT_STREQ(buf, "", "success has no reason");
	feature_format_reason(buf, sizeof(buf), -4000, "x");
	ASSERT_STREQ(buf, "E4000: Unknown error 4000 (x)", "errno without a name");
	feature_format_reason(tiny, sizeof(tiny), -ETIMEDOUT, "no answer within 10000 ms");
	ASSERT_EQ(strlen(tiny), sizeof(tiny) - 1, "truncated to the buffer");
	ASSERT_STREQ(tiny, "ETIMEDO", "truncation keeps the start");
}

static const char mountinfo[] =
	"22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"30 22 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
	"31 30 0:27 / /sys/fs/cgroup/systemd rw,relatime shared:10 - cgroup cgroup rw,name=systemd\n"
	"32 30 0:28 / /sys/fs/cgroup/my\\040unified rw,relatime shared:11 master:3 - cgroup2 cgroup2 rw\n"
	"33 30 0:29 / /sys/fs/cgroup/second rw,relatime - cgroup2 cgroup2 rw\n";

OLAB_TEST(features_mountinfo_parse)
{
	char buf[64], tiny[8];

	ASSERT_OK(mountinfo_find_fstype(mountinfo, "cgroup2", buf, sizeof(buf)), "cgroup2 found");
	ASSERT_STREQ(buf, "/sys/fs/cgroup/my unified", "first match, \\040 decoded, optional fields");
	ASSERT_OK(mountinfo_find_fstype(mountinfo, "cgroup", buf, sizeof(buf)), "cgroup v1");
	ASSERT_STREQ(buf, "/sys/fs/cgroup/systemd", "fstype matches exactly, not as a prefix");
	ASSERT_EQ(mountinfo_find_fstype(mountinfo, "bpf", buf, sizeof(buf)), -ENOENT, "absent");
	ASSERT_EQ(mountinfo_find_fstype("", "cgroup2", buf, sizeof(buf)), -ENOENT, "empty input");
	ASSERT_EQ(mountinfo_find_fstype("garbage line - \n", "cgroup2", buf, sizeof(buf)), -ENOENT,
		  "malformed line");
	ASSERT_EQ(mountinfo_find_fstype(mountinfo, "cgroup2", tiny, sizeof(tiny)), -ENAMETOOLONG,
		  "buffer too small");
}
