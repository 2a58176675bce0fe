/*
 * runc containers joined to the testbed: isolation (own interfaces, pid 1,
 * read-only rootfs), capabilities exactly as asked, an app inside receiving
 * the generator's traffic, clear failures that leave nothing behind, and
 * the sweep of its manifest (manifest_clean_run) after the owning run is SIGKILLed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "containers/container.h"
#include "containers/internal.h"
#include "lib/features.h"
#include "lib/run.h"
#include "lib/util.h"
#include "netns/leftovers.h"
#include "netns/netns.h"
#include "netns/topo.h"
#include "tests/test.h"

#define PORT       7788
#define UDP_N      500
#define WAIT_MS    5000

static int bed_up(struct topo *t)
{
	struct topo_opts o = { .gro = -1, .gso = -1, .tso = -1, .rx_cpu = -1 };

	return topo_up(&o, t);
}

static bool exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* Skip unless runc and busybox-static are here. */
static bool skip_no_runtime(void)
{
	if (!containers_prepare())
		return false;
	test_skip("%s", ctr_last_error());
	return true;
}

/* Skipped without runc; else the testbed: false when skipped or it failed. */
static bool runtime_bed_up(struct topo *t)
{
	return !skip_no_runtime() && ASSERT_OK(bed_up(t), topo_last_error());
}

/* Skipped without runc; else a testbed and app o in a container on its DUT:
 * false (nothing left up) when that failed. */
static bool app_on_bed(struct topo *t, struct ctr_app_opts *o, struct ctr_app **a)
{
	if (!runtime_bed_up(t))
		return false;
	o->ns = &t->dut;
	if (ASSERT_OK(container_run_app(o, a), ctr_last_error()))
		return true;
	topo_down(t);
	return false;
}

/* Run script with sh -c in a container; its stdout into out. */
static int ctr_sh(const struct netns *ns, uint64_t caps, const char *name, const char *script,
		  char *out, size_t len)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct ctr_opts o = { .name = name, .ns = ns, .caps = caps, .argv = argv };
	char bundle[256], cg[512];
	struct ctr *c;
	int err;

	out[0] = '\0';
	err = ctr_start(&o, &c);
	if (!ASSERT_OK(err, ctr_last_error()))
		return err;
	snprintf(bundle, sizeof(bundle), "%s", c->bundle);
	snprintf(cg, sizeof(cg), "%s", c->cgroup2);
	err = ctr_wait_stopped(c, WAIT_MS);
	ASSERT_OK(err, "container finished");
	ctr_read_output(c, "out", out, len);
	ctr_destroy(c);
	ASSERT_FALSE(exists(bundle), "bundle removed");
	if (cg[0])
		ASSERT_FALSE(exists(cg), "cgroup v2 directory removed");
	return err;
}

/* Value of "<key>:\t..." in a /proc/self/status dump, as hex. */
static bool status_hex(const char *text, const char *key, uint64_t *v)
{
	const char *p = strstr(text, key);

	if (!p)
		return false;
	*v = strtoull(p + strlen(key) + 1, NULL, 16);
	return true;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

static int count_lines(const char *text)
{
	int n = 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

OLAB_TEST(containers_caps_parse)
{
	char err[CTR_ERR_LEN], buf[128];
	uint64_t m;
	json_t *a;

	ASSERT_OK(ctr_caps_parse("none", &m, err, sizeof(err)), "none");
	ASSERT_EQ(m, 0, "none is empty");
	ASSERT_OK(ctr_caps_parse("", &m, err, sizeof(err)), "empty list");
	ASSERT_OK(ctr_caps_parse("net_admin,CAP_BPF,cap_perfmon", &m, err, sizeof(err)), "mixed");
	ASSERT_EQ(m, (1ull << 12) | (1ull << 39) | (1ull << 38), "bits 12, 38, 39");
	ctr_caps_format(m, buf, sizeof(buf));
	ASSERT_STREQ(buf, "bpf,net_admin,perfmon", "formatted");
	a = ctr_caps_oci(m);
	ASSERT_EQ(json_array_size(a), 3, "three OCI names");
	ASSERT_STREQ(json_string_value(json_array_get(a, 0)), "CAP_NET_ADMIN", "OCI spelling");
	json_decref(a);
	ASSERT_EQ(ctr_caps_parse("bpf,nosuchcap", &m, err, sizeof(err)), -EINVAL, "unknown name");
	ASSERT_STRCONTAINS(err, "unknown capability 'nosuchcap'", "reason");
	ASSERT_EQ(ctr_caps_parse("12", &m, err, sizeof(err)), -EINVAL, "numbers are not names");
	ASSERT_EQ(ctr_caps_parse("bpf,", &m, err, sizeof(err)), -EINVAL, "trailing comma");
	ASSERT_EQ(ctr_caps_parse("bpf,,net_admin", &m, err, sizeof(err)), -EINVAL, "empty name");
	ASSERT_OK(ctr_caps_parse("bpf,net_admin,perfmon", &m, err, sizeof(err)), "eBPF set");
	ASSERT_EQ(ctr_caps_dangerous(m), 0, "bpf,net_admin,perfmon: nothing dangerous");
	ASSERT_OK(ctr_caps_parse("bpf,sys_admin,sys_module,dac_read_search,kill", &m, err,
				 sizeof(err)), "mixed set");
	ASSERT_EQ(ctr_caps_dangerous(m), (1ull << 21) | (1ull << 16) | (1ull << 2),
		  "sys_admin (21), sys_module (16), dac_read_search (2)");
}

/* Own interfaces only, pid 1, its hostname, read-only rootfs, no new privileges. */
OLAB_TEST(containers_isolation)
{
	struct topo t;
	char out[4096], want[64];
	uint64_t nnp;
	int err;

	if (!runtime_bed_up(&t))
		return;
	err = ctr_sh(&t.dut, 0, "iso",
		     "ls /sys/class/net; echo ---; ip -o link | cut -d: -f2 | tr -d ' ' | cut -d@ -f1;"
		     "echo ---; echo pid=$$; hostname; grep NoNewPrivs /proc/self/status;"
		     "(echo x > /bin/x) 2>/dev/null && echo rootfs-rw || echo rootfs-ro",
		     out, sizeof(out));
	if (err)
		goto out;
	/* lo and the DUT veth end, twice (sysfs, netlink), nothing else. */
	snprintf(want, sizeof(want), "%s", t.if_dut);
	ASSERT_TRUE(has_line(out, "lo"), "sees lo");
	ASSERT_TRUE(has_line(out, want), "sees its veth end");
	ASSERT_FALSE(has_line(out, t.if_gen), "does not see the gen end");
	ASSERT_FALSE(has_line(out, "eth0"), "does not see the host's interfaces");
	ASSERT_EQ(count_lines(out), 2 + 1 + 2 + 1 + 4, "output lines: two interfaces twice");
	ASSERT_TRUE(has_line(out, "pid=1"), "own pid namespace");
	ASSERT_TRUE(has_line(out, "iso"), "own uts namespace (hostname)");
	ASSERT_TRUE(status_hex(out, "NoNewPrivs:", &nnp) && nnp == 1, "no_new_privs set");
	ASSERT_TRUE(has_line(out, "rootfs-ro"), "read-only rootfs");
out:
	topo_down(&t);
}

/*
 * Its own cgroup namespace ("0::/" in /proc/self/cgroup), its cgroup v2
 * directory where the host mounts cgroup2 and holding it, `runc spec`'s and
 * Docker's masked paths empty, /proc/sys read-only.  net_admin, so only the
 * read-only mount can stop the (same-value) sysctl write.
 */
OLAB_TEST(containers_cgroupns_masked_readonly)
{
	char out[2048], mnt[256], want[300], err_s[CTR_ERR_LEN];
	struct topo t;
	uint64_t caps;
	int err;

	if (skip_no_runtime())
		return;
	if (!ASSERT_OK(env_cgroup2_mount(mnt, sizeof(mnt)), "host has cgroup2"))
		return;
	ASSERT_OK(ctr_caps_parse("net_admin", &caps, err_s, sizeof(err_s)), "net_admin");
	err = bed_up(&t);
	if (!ASSERT_OK(err, topo_last_error()))
		return;
	err = ctr_sh(&t.dut, caps, "cgns",
		     "grep '^0::' /proc/self/cgroup;"
		     "cg=$(awk '$3 == \"cgroup2\" { print $2; exit }' /proc/self/mounts);"
		     "echo cg2=$cg; grep -qx 1 $cg/cgroup.procs && echo cg2-holds-pid1;"
		     "echo interrupts=$(wc -c < /proc/interrupts);"
		     "echo timer_list=$(wc -c < /proc/timer_list);"
		     "echo firmware=$(ls -A /sys/firmware | wc -l);"
		     "v=$(cat /proc/sys/net/ipv4/ip_forward);"
		     "(echo $v > /proc/sys/net/ipv4/ip_forward) 2>/dev/null && echo sys-rw || echo sys-ro",
		     out, sizeof(out));
	if (err)
		goto out;
	if (!ASSERT_TRUE(has_line(out, "0::/"), "own cgroup namespace: 0::/"))
		fprintf(stderr, "    container said:\n%s", out);
	snprintf(want, sizeof(want), "cg2=%s", mnt);
	ASSERT_TRUE(has_line(out, want), "cgroup2 where the host mounts it");
	ASSERT_TRUE(has_line(out, "cg2-holds-pid1"), "that cgroup2 directory is its own");
	ASSERT_TRUE(has_line(out, "interrupts=0"), "/proc/interrupts masked (Docker's)");
	ASSERT_TRUE(has_line(out, "timer_list=0"), "/proc/timer_list masked (runc spec's)");
	ASSERT_TRUE(has_line(out, "firmware=0"), "/sys/firmware masked");
	ASSERT_TRUE(has_line(out, "sys-ro"), "/proc/sys read-only");
out:
	topo_down(&t);
}

/* Whether array (of strings, or of objects whose key is that string) has want. */
static bool json_array_has(json_t *array, const char *key, const char *want)
{
	size_t i;
	json_t *v;

	json_array_foreach(array, i, v) {
		const char *s = json_string_value(key ? json_object_get(v, key) : v);

		if (s && !strcmp(s, want))
			return true;
	}
	return false;
}

/*
 * config.json has every masked path of `runc spec` and Docker, their
 * read-only paths and a cgroup namespace: most of those paths do not exist
 * on a given host, so the test above cannot see them masked.
 */
OLAB_TEST(containers_config_defaults)
{
	static const char *const masked[] = {
		"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
		"/sys/devices/virtual/tpm",
	};
	static const char *const readonly[] = {
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	};
	const char *argv[] = { "/bin/true", NULL };
	struct topo t;
	struct ctr_opts o = { .name = "cfg", .ns = &t.dut, .argv = argv };
	struct ctr *c;
	json_t *cfg = NULL, *lnx;
	char path[320];

	if (!runtime_bed_up(&t))
		return;
	if (ASSERT_OK(ctr_start(&o, &c), ctr_last_error())) {
		snprintf(path, sizeof(path), "%s/config.json", c->bundle);
		cfg = json_load_file(path, 0, NULL);
		ctr_destroy(c);
	}
	topo_down(&t);
	lnx = json_object_get(cfg, "linux");
	if (!ASSERT_TRUE(json_is_object(lnx), "config.json has linux"))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
		if (!ASSERT_TRUE(json_array_has(json_object_get(lnx, "maskedPaths"), NULL, masked[i]),
				 "masked"))
			fprintf(stderr, "    missing %s\n", masked[i]);
	for (size_t i = 0; i < ARRAY_SIZE(readonly); i++)
		if (!ASSERT_TRUE(json_array_has(json_object_get(lnx, "readonlyPaths"), NULL,
						readonly[i]), "read-only"))
			fprintf(stderr, "    missing %s\n", readonly[i]);
	ASSERT_TRUE(json_array_has(json_object_get(lnx, "namespaces"), "type", "cgroup"),
		    "cgroup namespace");
out:
	json_decref(cfg);
}

/* CapEff (and the bounding, permitted sets) exactly as asked; nothing inheritable. */
OLAB_TEST(containers_capeff_exact)
{
	static const char *const sets[] = {
		"none", "bpf,net_admin", "bpf,net_admin,perfmon", "sys_admin", "net_raw,kill",
	};
	char out[2048], err_s[CTR_ERR_LEN], name[16];
	struct topo t;

	if (!runtime_bed_up(&t))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		uint64_t mask, eff = ~0ull, prm = ~0ull, bnd = ~0ull, inh = ~0ull, amb = ~0ull;

		if (!ASSERT_OK(ctr_caps_parse(sets[i], &mask, err_s, sizeof(err_s)), sets[i]))
			continue;
		snprintf(name, sizeof(name), "caps%zu", i);
		if (ctr_sh(&t.dut, mask, name, "cat /proc/self/status", out, sizeof(out)))
			continue;
		ASSERT_TRUE(status_hex(out, "CapEff:", &eff), "CapEff present");
		status_hex(out, "CapPrm:", &prm);
		status_hex(out, "CapBnd:", &bnd);
		status_hex(out, "CapInh:", &inh);
		status_hex(out, "CapAmb:", &amb);
		if (!ASSERT_EQ(eff, mask, "CapEff is exactly the set"))
			fprintf(stderr, "    set %s\n", sets[i]);
		ASSERT_EQ(prm, mask, "CapPrm");
		ASSERT_EQ(bnd, mask, "CapBnd");
		ASSERT_EQ(inh, 0, "CapInh");
		ASSERT_EQ(amb, 0, "CapAmb");
	}
	topo_down(&t);
}

static int send_udp(const struct topo *t, int n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	char payload[64];
	int fd, sent = 0;

	memset(payload, 0xab, sizeof(payload));
	inet_pton(AF_INET, t->ip4_dut, &sa.sin_addr);
	fd = netns_socket(&t->gen, AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return fd;
	for (int i = 0; i < n; i++) {
		if (sendto(fd, payload, sizeof(payload), 0, (struct sockaddr *)&sa, sizeof(sa)) ==
		    sizeof(payload))
			sent++;
		if (i % 64 == 63)
			usleep(1000);
	}
	close(fd);
	return sent;
}

/* udp-sink in a container (no capabilities) counts the generator's datagrams. */
OLAB_TEST(containers_app_udp_sink)
{
	struct ctr_app_opts o = { .name = "sink", .caps = 0,
				  .app = { .kind = APP_UDP_SINK, .port = PORT, .cpu = -1,
					   .timeout_ms = 60000 } };
	struct ctr_app *a = NULL;
	struct app_stats s;
	struct topo t;
	char bundle[256];
	int sent;

	if (!app_on_bed(&t, &o, &a))
		return;
	snprintf(bundle, sizeof(bundle), "%s", a->ctr->bundle);
	sent = send_udp(&t, UDP_N);
	ASSERT_EQ(sent, UDP_N, "datagrams sent from gen");
	ASSERT_OK(ctr_app_wait_count(a, offsetof(struct app_stats, packets), UDP_N, WAIT_MS),
		  "the app in the container counted them");
	ASSERT_EQ(ctr_app_stop(a, WAIT_MS), 0, "app exit code");
	ctr_app_read(a, &s);
	ASSERT_EQ(s.packets, UDP_N, "final packet count");
	ASSERT_EQ(s.bytes, UDP_N * 64ull, "final byte count");
	ASSERT_EQ(s.error, 0, "no app error");
	ASSERT_FALSE(exists(bundle), "bundle removed after stop");
	ctr_app_free(a);
	topo_down(&t);
}

/* tcp-echo in a container echoes a TCP stream back to gen. */
OLAB_TEST(containers_app_tcp_echo)
{
	struct ctr_app_opts o = { .name = "echo", .caps = 0,
				  .app = { .kind = APP_TCP_ECHO, .port = PORT, .cpu = -1,
					   .timeout_ms = 60000 } };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	char msg[] = "hello from gen to a container", back[64];
	struct ctr_app *a = NULL;
	struct topo t;
	size_t got = 0;
	int fd = -1;

	if (!app_on_bed(&t, &o, &a))
		return;
	inet_pton(AF_INET, t.ip4_dut, &sa.sin_addr);
	fd = netns_socket(&t.gen, AF_INET, SOCK_STREAM, 0);
	if (!ASSERT_GE(fd, 0, "gen socket"))
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_sec = 5 }, sizeof(struct timeval));
	if (!ASSERT_OK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0, "connect"))
		goto out;
	ASSERT_EQ(send(fd, msg, sizeof(msg), 0), (long long)sizeof(msg), "send");
	for (int i = 0; i < 100 && got < sizeof(msg); i++) {
		ssize_t n = recv(fd, back + got, sizeof(back) - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	ASSERT_EQ(got, sizeof(msg), "echoed bytes");
	ASSERT_TRUE(!memcmp(back, msg, sizeof(msg)), "echoed the same bytes");
	ASSERT_EQ(ctr_app_stop(a, WAIT_MS), 0, "app exit code");
out:
	close_fd(fd);
	ctr_app_free(a);
	topo_down(&t);
}

static int count_dir(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A container that cannot start, an app that dies at start: a clear error, nothing left. */
OLAB_TEST(containers_dies_at_start)
{
	const char *argv[] = { "/bin/no-such-binary", NULL };
	struct ctr_app_opts ao = { .name = "a1", .app = { .kind = APP_TCP_SINK, .port = PORT,
							  .cpu = -1, .timeout_ms = 60000 } };
	struct ctr_opts o = { .name = "bad", .argv = argv };
	struct ctr_app *a1 = NULL, *a2 = NULL;
	char run_dir[256], runc_root[300];
	struct ctr *c = NULL;
	struct topo t;
	int err;

	if (!runtime_bed_up(&t))
		return;
	snprintf(run_dir, sizeof(run_dir), RUN_STATE_DIR "/%s-ctr", run_prefix());
	snprintf(runc_root, sizeof(runc_root), "%s/runc", run_dir);
	o.ns = &t.dut;
	err = ctr_start(&o, &c);
	ASSERT_ERR(err, "start of a missing binary");
	ASSERT_STRCONTAINS(ctr_last_error(), "runc create", "names the step");
	ASSERT_STRCONTAINS(ctr_last_error(), "no-such-binary", "names the binary");
	ASSERT_FALSE(strchr(ctr_last_error(), '\n'), "one line");
	ASSERT_EQ(count_dir(runc_root), 0, "no runc state left");
	ASSERT_EQ(count_dir(run_dir), 1 + (exists(runc_root) ? 1 : 0), "only the rootfs left");

	/* The second tcp-sink on the same port cannot listen. */
	ao.ns = &t.dut;
	if (!ASSERT_OK(container_run_app(&ao, &a1), ctr_last_error()))
		goto out;
	ao.name = "a2";
	err = container_run_app(&ao, &a2);
	ASSERT_EQ(err, -EADDRINUSE, "second listener on the port");
	ASSERT_STRCONTAINS(ctr_last_error(), "a2", "names the container");
	ASSERT_FALSE(strchr(ctr_last_error(), '\n'), "one line");
	ASSERT_EQ(count_dir(runc_root), 1, "only the first container left");
out:
	ctr_app_free(a1);
	ctr_app_free(a2);
	topo_down(&t);
	ASSERT_EQ(count_dir(runc_root), 0, "no runc state left at the end");
}

/* A rootfs that cannot be assembled: one line naming the step, nothing left. */
OLAB_TEST(containers_rootfs_failure)
{
	char dir[256], path[300];
	int err, fd;

	snprintf(dir, sizeof(dir), RUN_STATE_DIR "/%s-ctr", run_prefix());
	snprintf(path, sizeof(path), "%s/rootfs", dir);
	if (!ASSERT_OK(mkdir_p(dir, 0755), "run dir"))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (!ASSERT_GE(fd, 0, "a file where the rootfs goes")) {
		remove_tree(dir);
		return;
	}
	close(fd);
	err = containers_prepare();
	if (err && !strstr(ctr_last_error(), "rootfs")) {
		test_skip("%s", ctr_last_error());
		remove_tree(dir);
		return;
	}
	ASSERT_ERR(err, "prepare over a file");
	ASSERT_STRCONTAINS(ctr_last_error(), "cannot assemble the container rootfs", "reason");
	ASSERT_FALSE(strchr(ctr_last_error(), '\n'), "one line");
	ASSERT_FALSE(exists(dir), "run directory removed");
	remove_tree(dir);
}

/* What a SIGKILLed run left, found before the kill. */
struct leftovers {
	char run_dir[256];
	char id[64];
	char cgroups[16][512];
	int ncg;
	char netns[2][64];
	pid_t pid;
};

/* The child: a run of its own with an app in a container, then wait for SIGKILL. */
static void sigkill_child(int wfd)
{
	struct ctr_app_opts o = { .name = "victim", .app = { .kind = APP_UDP_SINK, .port = PORT,
							     .cpu = -1, .timeout_ms = 120000 } };
	struct ctr_app *a;
	struct topo t;
	char msg[256] = "";

	cleanup_disown();
	run_init();
	if (bed_up(&t)) {
		snprintf(msg, sizeof(msg), "topo: %s", topo_last_error());
	} else {
		o.ns = &t.dut;
		if (container_run_app(&o, &a))
			snprintf(msg, sizeof(msg), "app: %s", ctr_last_error());
		else
			snprintf(msg, sizeof(msg), "ok %s %s %s", a->ctr->id, t.gen.name, t.dut.name);
	}
	if (write(wfd, msg, strlen(msg) + 1) < 0)
		_exit(1);
	for (int i = 0; i < 600; i++)
		sleep(1);
	_exit(0);
}

static void read_cgroups(struct leftovers *l)
{
	char file[512];
	json_t *st, *v;
	const char *key;

	snprintf(file, sizeof(file), "%s/runc/%s/state.json", l->run_dir, l->id);
	st = json_load_file(file, 0, NULL);
	json_object_foreach(json_object_get(st, "cgroup_paths"), key, v)
		if (l->ncg < 16 && json_string_value(v))
			snprintf(l->cgroups[l->ncg++], 512, "%s", json_string_value(v));
	json_decref(st);
}

OLAB_TEST(containers_sigkill_clean)
{
	struct leftovers l = { 0 };
	char msg[300] = "", path[512];
	struct leftovers_report r = { .removed = json_array(), .foreign = json_array() }, r2 = { 0 };
	int p[2], st;
	bool found = false;
	json_t *e;
	size_t i;
	ssize_t n;

	if (skip_no_runtime())
		goto out;
	if (!ASSERT_OK(pipe(p), "pipe"))
		goto out;
	fflush(NULL);
	l.pid = fork();
	if (l.pid == 0) {
		close(p[0]);
		sigkill_child(p[1]);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	msg[n > 0 ? n : 0] = '\0';
	if (!ASSERT_TRUE(!strncmp(msg, "ok ", 3), msg)) {
		kill(l.pid, SIGKILL);
		waitpid(l.pid, &st, 0);
		goto out;
	}
	sscanf(msg + 3, "%63s %63s %63s", l.id, l.netns[0], l.netns[1]);
	snprintf(l.run_dir, sizeof(l.run_dir), RUN_STATE_DIR "/olab%d-ctr", (int)l.pid);
	read_cgroups(&l);
	ASSERT_GE(l.ncg, 1, "the container has cgroups");

	kill(l.pid, SIGKILL);
	waitpid(l.pid, &st, 0);
	snprintf(path, sizeof(path), "%s/runc/%s", l.run_dir, l.id);
	ASSERT_TRUE(exists(path), "SIGKILL leaves the runc state");
	ASSERT_TRUE(l.ncg && exists(l.cgroups[0]), "SIGKILL leaves the cgroup");

	ASSERT_OK(manifest_clean_run(l.pid, &r), "clean the dead run");
	ASSERT_EQ(r.failures, 0, "clean failures");
	json_array_foreach(r.removed, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "name")) ?: "", l.id))
			found = true;
	ASSERT_TRUE(found, "clean reports the container");
	ASSERT_FALSE(exists(path), "no runc state");
	snprintf(path, sizeof(path), "%s/rootfs", l.run_dir);
	ASSERT_FALSE(exists(path), "no rootfs directory");
	ASSERT_FALSE(exists(l.run_dir), "no run directory");
	for (int c = 0; c < l.ncg; c++)
		if (!ASSERT_FALSE(exists(l.cgroups[c]), "no cgroup"))
			fprintf(stderr, "    left: %s\n", l.cgroups[c]);
	ASSERT_EQ(manifest_clean_run(l.pid, &r2), -ENOENT, "second clean: no manifest left");
	snprintf(path, sizeof(path), RUN_STATE_DIR "/%s-ctr/rootfs", run_prefix());
	ASSERT_TRUE(exists(path), "the live run's rootfs is spared");
out:
	/* After a failure: what the sweep may have left. */
	for (int k = 0; k < 2; k++)
		if (l.netns[k][0])
			netns_delete_by_name(l.netns[k]);
	if (l.pid > 0) {
		snprintf(path, sizeof(path), RUN_STATE_DIR "/olab%d.lock", (int)l.pid);
		unlink(path);
		if (exists(l.run_dir))
			ctr_clean_run_dir(l.run_dir, NULL);
	}
	json_decref(r.removed);
	json_decref(r.foreign);
}
