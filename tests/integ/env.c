/* `offloadlab env` and lib/features.c against the running kernel. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include "lib/features.h"
#include "lib/run.h"
#include "lib/util.h"
#include "tests/test.h"


/* Run `offloadlab env --json`; parsed document or NULL (after a failed assert). */
static json_t *env_json(double *seconds)
{
	static char out[1 << 16];
	json_error_t jerr;
	uint64_t t0 = now_ns();
	json_t *doc;
	int rc;

	rc = test_sh(out, sizeof(out), "%s/offloadlab env --json 2>/dev/null", test_build_dir());
	if (seconds)
		*seconds = (now_ns() - t0) / 1e9;
	if (!ASSERT_EQ(rc, 0, "env --json exit status"))
		return NULL;
	doc = json_loads(out, 0, &jerr);
	if (!ASSERT_OK_PTR(doc, "env --json parses"))
		fprintf(stderr, "    line %d: %s\n", jerr.line, jerr.text);
	return doc;
}

static bool is_errno_reason(const char *r)
{
	const char *colon = strstr(r, ": ");

	if (!colon || r[0] != 'E' || colon == r + 1 || !colon[2])
		return false;
	for (const char *p = r + 1; p < colon; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

OLAB_TEST(env_json_contract)
{
	json_t *doc, *k, *feats, *f, *v;
	const char *key;
	double secs = 0;
	int n = 0;

	doc = env_json(&secs);
	if (!doc)
		return;
	k = json_object_get(doc, "kernel");
	feats = json_object_get(doc, "features");
	if (!ASSERT_TRUE(json_is_object(k) && json_is_object(feats), "kernel and features objects"))
		goto cleanup;

	ASSERT_STREQ(json_string_value(json_object_get(k, "release")), kernel_release(), "release");
	v = json_object_get(k, "bpf_jit");
	ASSERT_TRUE(json_is_boolean(json_object_get(v, "enabled")), "bpf_jit.enabled is bool");
	ASSERT_TRUE(json_is_integer(json_object_get(v, "value")) ||
		    json_is_null(json_object_get(v, "value")), "bpf_jit.value");
	if (json_is_integer(json_object_get(v, "value")))
		ASSERT_EQ(json_is_true(json_object_get(v, "enabled")),
			  json_integer_value(json_object_get(v, "value")) != 0, "enabled iff value != 0");
	v = json_object_get(k, "bpf_stats");
	ASSERT_TRUE(json_is_boolean(json_object_get(v, "supported")) &&
		    json_is_boolean(json_object_get(v, "enabled_now")) &&
		    json_is_string(json_object_get(v, "reason")), "bpf_stats fields");
	ASSERT_EQ(json_is_true(json_object_get(v, "supported")),
		  !*json_string_value(json_object_get(v, "reason")), "bpf_stats reason iff unsupported");
	v = json_object_get(k, "bpffs");
	ASSERT_TRUE(json_is_boolean(json_object_get(v, "mounted")), "bpffs.mounted");
	ASSERT_STREQ(json_string_value(json_object_get(v, "path")), "/sys/fs/bpf", "bpffs.path");
	v = json_object_get(k, "cgroup2");
	ASSERT_TRUE(json_is_null(v) || (json_is_string(v) && json_string_value(v)[0] == '/'),
		    "cgroup2 is a path or null");
	ASSERT_EQ(json_integer_value(json_object_get(k, "cpus")), cpu_count(), "cpus");
	ASSERT_TRUE(json_is_string(json_object_get(k, "libbpf")), "libbpf version");

	for (int i = 0; i < FEAT__COUNT; i++) {
		const char *name = feature_name(i), *reason;
		json_t *sup, *rsn;

		f = json_object_get(feats, name);
		if (!ASSERT_TRUE(json_is_object(f), name))
			continue;
		sup = json_object_get(f, "supported");
		rsn = json_object_get(f, "reason");
		if (!ASSERT_TRUE(json_is_boolean(sup) && json_is_string(rsn), name))
			continue;
		reason = json_string_value(rsn);
		if (!ASSERT_EQ(json_is_true(sup), reason[0] == '\0', "reason non-empty iff unsupported"))
			fprintf(stderr, "    %s: \"%s\"\n", name, reason);
		if (!json_is_true(sup) && !ASSERT_TRUE(is_errno_reason(reason),
						       "reason is \"ENAME: text\""))
			fprintf(stderr, "    %s: \"%s\"\n", name, reason);
	}
	json_object_foreach(feats, key, f) {
		n++;
		if (!ASSERT_TRUE(feature_by_name(key) >= 0, "no unknown feature keys"))
			fprintf(stderr, "    unknown key %s\n", key);
	}
	ASSERT_EQ(n, FEAT__COUNT, "feature count");
cleanup:
	json_decref(doc);
}

/*
 * An independent fentry attempt, with a hand-written two-instruction program
 * on bpf_fentry_test1 and a raw link: env must agree with it, and when both
 * fail, name the same errno.
 */
OLAB_TEST(env_fentry_matches_independent_attempt)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	const struct feature_status *st;
	struct btf *vmlinux;
	int fd = -1, link = -1, err = 0, id;
	char prefix[64];

	vmlinux = btf__load_vmlinux_btf();
	if (!ASSERT_OK_PTR(vmlinux, "vmlinux BTF"))
		return;
	id = btf__find_by_name_kind(vmlinux, "bpf_fentry_test1", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (!ASSERT_GT(id, 0, "bpf_fentry_test1 in BTF"))
		return;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "olab_fentry", "GPL", insns, 2, &opts);
	if (fd < 0) {
		err = fd;
	} else {
		link = bpf_link_create(fd, 0, BPF_TRACE_FENTRY, NULL);
		if (link < 0)
			err = link;
	}

	st = feature_probe(FEAT_FENTRY);
	ASSERT_EQ(st->supported, err == 0, "env agrees with the independent attempt");
	if (err) {
		snprintf(prefix, sizeof(prefix), "%s: ", strerrorname_np(-err));
		if (!ASSERT_TRUE(!strncmp(st->reason, prefix, strlen(prefix)), "same errno"))
			fprintf(stderr, "    env: \"%s\", independent: %s\n", st->reason, prefix);
	}
	close_fd(link);
	close_fd(fd);
}

/* Names of everything an env run could leave in the root namespace. */
static int snapshot(char *buf, size_t len, const char *cgroup2)
{
	return test_sh(buf, len,
		       "{ ip -o link | awk -F': ' '{print \"link \" $2}'; "
		       "ip netns list | awk '{print \"netns \" $1}'; "
		       "bpftool net show 2>/dev/null | sed 's/^/net /'; "
		       "ls -1 '%s' 2>/dev/null | grep olab | sed 's/^/cgroup /'; } | sort",
		       cgroup2);
}

/* Lines of b missing from a ("\n"-prefixed), except objects of another live run. */
static int new_lines(const char *a, char *b, const char *what)
{
	char *save = NULL;
	int n = 0;

	for (char *l = strtok_r(b, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *name = strchr(l, ' ');
		char needle[300];
		pid_t owner;

		snprintf(needle, sizeof(needle), "\n%s\n", l);
		if (strstr(a, needle))
			continue;
		owner = name ? run_prefix_pid(name + 1) : 0;
		if (owner && owner != getpid() && run_owner_alive(owner))
			continue; /* a concurrent run's object */
		fprintf(stderr, "    %s: new \"%s\"\n", what, l);
		n++;
	}
	return n;
}

OLAB_TEST(env_leaves_root_namespace_untouched)
{
	static char before[1 << 15], after[1 << 15];
	char cg[256] = "/nonexistent";
	json_t *doc, *xdp;

	env_cgroup2_mount(cg, sizeof(cg));
	before[0] = '\n';
	ASSERT_EQ(snapshot(before + 1, sizeof(before) - 1, cg), 0, "snapshot before");
	doc = env_json(NULL);
	if (!doc)
		return;
	ASSERT_EQ(snapshot(after, sizeof(after), cg), 0, "snapshot after");
	xdp = json_object_get(json_object_get(doc, "features"), "xdp_native");
	if (!ASSERT_TRUE(json_is_true(json_object_get(xdp, "supported")), "xdp_native on veth"))
		fprintf(stderr, "    reason: %s\n",
			json_string_value(json_object_get(xdp, "reason")));
	ASSERT_EQ(new_lines(before, after, "after env"), 0, "nothing new in the root namespace");
	json_decref(doc);
}

/* In-process: the cgroup probe removes its directory; results are cached. */
OLAB_TEST(env_probe_cache_and_cgroup_cleanup)
{
	const struct feature_status *a, *b;
	char cg[256], path[512], name[64];
	double probe_ms;

	if (env_cgroup2_mount(cg, sizeof(cg))) {
		test_skip("no cgroup2 mount");
		return;
	}
	a = feature_probe(FEAT_CGROUP_SKB);
	if (!ASSERT_TRUE(a->supported, "cgroup_skb"))
		fprintf(stderr, "    reason: %s\n", a->reason);
	run_name(name, sizeof(name), "-probe");
	snprintf(path, sizeof(path), "%s/%s", cg, name);
	ASSERT_TRUE(access(path, F_OK) != 0 && errno == ENOENT, "probe cgroup removed");

	probe_ms = a->probe_ms;
	b = feature_probe(FEAT_CGROUP_SKB);
	ASSERT_TRUE(a == b, "same cached status");
	ASSERT_TRUE(b->probe_ms == probe_ms, "second call does not probe again (same timing record)");
	ASSERT_EQ(feature_require(FEAT_CGROUP_SKB, "test"), a->supported ? 0 : -EOPNOTSUPP,
		  "feature_require follows the probe");
	feature_cache_reset();
	b = feature_probe(FEAT_MMAPABLE_ARRAY);
	ASSERT_TRUE(b->supported, "mmapable array after a cache reset");
	ASSERT_TRUE(b->probe_ms > 0, "a fresh probe was timed");
}

OLAB_TEST(env_human_table_matches_json)
{
	static char out[1 << 15];
	json_t *doc, *feats;
	int rc;

	rc = test_sh(out, sizeof(out), "%s/offloadlab env 2>/dev/null", test_build_dir());
	ASSERT_EQ(rc, 0, "env exit status");
	doc = env_json(NULL);
	if (!doc)
		return;
	feats = json_object_get(doc, "features");
	for (int i = 0; i < FEAT__COUNT; i++) {
		bool sup = json_is_true(json_object_get(json_object_get(feats, feature_name(i)),
							"supported"));
		char line[64];

		snprintf(line, sizeof(line), "\n%-16s %-4s ", feature_name(i), sup ? "yes" : "no");
		if (!ASSERT_TRUE(strstr(out, line) != NULL, "feature row agrees with --json"))
			fprintf(stderr, "    missing row \"%s\"\n", line + 1);
	}
	ASSERT_STRCONTAINS(out, "kernel ", "kernel row");
	ASSERT_EQ(test_sh(NULL, 0, "%s/offloadlab env surplus >/dev/null 2>&1", test_build_dir()),
		  EXIT_USAGE, "positional argument is a usage error");
	json_decref(doc);
}
