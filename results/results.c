#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/magic.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "version.h"
#include "results/results.h"

extern const char reference_json[];

json_t *reference_load(void)
{
	json_error_t err;
	json_t *j = json_loads(reference_json, 0, &err);

	if (!j)
		pr_warn("reference.json: %s (line %d)\n", err.text, err.line);
	return j;
}

/* This process's argv joined by spaces (for the report's provenance). */
static json_t *command_line_json(void)
{
	char buf[1024];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	close_fd(fd);
	if (n <= 0)
		return json_null();
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = 0;
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = 0;
	return json_string(buf);
}

json_t *results_base_config(void)
{
	char host[64] = "", started[32];
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:o}", "kernel", kernel_release(),
			 "commit", OLAB_GIT_REV, "offloadlab", OLAB_VERSION, "cpus", cpu_count(),
			 "host", host, "started", started, "command_line", command_line_json());
}

/* ---- where results may go ---- */

/* Fill why (one phrase, printed after "--out 'X': ") and return err. */
static int refuse(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

/* Filesystems that are not storage: results there would be lost or harmful. */
static const char *pseudo_fs_name(long type)
{
	switch (type) {
	case BPF_FS_MAGIC: return "bpffs";
	case CGROUP_SUPER_MAGIC: return "cgroupfs";
	case CGROUP2_SUPER_MAGIC: return "cgroup2fs";
	case PROC_SUPER_MAGIC: return "procfs";
	case SYSFS_MAGIC: return "sysfs";
	default: return NULL;
	}
}

/* Under /sys or /proc though on another filesystem (the tmpfs that holds
 * cgroup v1 mounts at /sys/fs/cgroup): still not a place for files. */
static bool in_pseudo_tree(const char *path)
{
	char real[PATH_MAX];

	if (!realpath(path, real))
		return false;
	return !strncmp(real, "/sys/", 5) || !strncmp(real, "/proc/", 6);
}

/* An open directory files may be written to: writable, real storage. */
static int dir_fd_usable(int fd, const char *shown, char *why, size_t len)
{
	struct statfs sf;
	const char *fs;

	if (fstatfs(fd, &sf))
		return refuse(why, len, -errno, "%s", strerror(errno));
	fs = pseudo_fs_name((long)sf.f_type);
	if (fs)
		return refuse(why, len, -EINVAL, "%s is on %s, not a place for files", shown, fs);
	if (in_pseudo_tree(shown))
		return refuse(why, len, -EINVAL, "%s is under /sys or /proc, not a place for files", shown);
	if (faccessat(fd, ".", W_OK, AT_EACCESS))
		return refuse(why, len, -errno, "%s is not writable", shown);
	return 0;
}

/* path without its trailing slashes ("/" stays "/"). */
static int trim_path(const char *in, char *out, size_t len)
{
	size_t n = strlen(in);

	while (n > 1 && in[n - 1] == '/')
		n--;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, in, n);
	out[n] = '\0';
	return 0;
}

/* The directory a new entry path would go in must exist and be usable. */
static int parent_usable(const char *path, char *why, size_t len)
{
	char copy[PATH_MAX], parent[PATH_MAX];
	int fd, err;

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(parent, sizeof(parent), "%s", dirname(copy));
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		return refuse(why, len, err, err == -ENOENT ? "its folder %s does not exist" :
			      err == -ENOTDIR ? "%s is not a directory" : "cannot open %s", parent);
	}
	err = dir_fd_usable(fd, parent, why, len);
	close(fd);
	return err;
}

/* A run folder of an earlier run: run-* holding a results.json. */
static bool is_run_dir(int fd, const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	return !strncmp(base, "run-", 4) && !faccessat(fd, "results.json", F_OK, AT_SYMLINK_NOFOLLOW);
}

int results_validate_out_dir(const char *dir, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	if (!dir || !*dir)
		return refuse(why, len, -EINVAL, "is empty");
	if (trim_path(dir, path, sizeof(path)))
		return refuse(why, len, -ENAMETOOLONG, "is too long");
	if (lstat(path, &st)) {
		if (errno != ENOENT)
			return refuse(why, len, -errno, "%s", strerror(errno));
		return parent_usable(path, why, len); /* created by results_open */
	}
	if (S_ISLNK(st.st_mode))
		return refuse(why, len, -ELOOP, "is a symbolic link");
	if (!S_ISDIR(st.st_mode))
		return refuse(why, len, -ENOTDIR, "is not a directory");
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return refuse(why, len, -errno, "%s", strerror(errno));
	err = dir_fd_usable(fd, path, why, len);
	if (!err && is_run_dir(fd, path))
		err = refuse(why, len, -EEXIST,
			     "is the folder of an earlier run (it holds results.json); give the folder above it");
	close(fd);
	return err;
}

int results_validate_out_file(const char *file, char *why, size_t len)
{
	struct stat st;
	size_t n = file ? strlen(file) : 0;

	if (!n)
		return refuse(why, len, -EINVAL, "is empty");
	if (n >= PATH_MAX)
		return refuse(why, len, -ENAMETOOLONG, "is too long");
	if (file[n - 1] == '/')
		return refuse(why, len, -EISDIR, "is a folder, not a file");
	if (!lstat(file, &st)) {
		if (S_ISLNK(st.st_mode))
			return refuse(why, len, -ELOOP, "is a symbolic link");
		if (!S_ISREG(st.st_mode))
			return refuse(why, len, -EINVAL, "is not a regular file");
	} else if (errno != ENOENT) {
		return refuse(why, len, -errno, "%s", strerror(errno));
	}
	return parent_usable(file, why, len);
}

/* ---- the run's folder and file ---- */

/* root_dir (mkdir 0755 if missing, as validated) opened without following a symlink. */
static int open_root_dir(const char *root_dir)
{
	int fd;

	if (mkdir(root_dir, 0755) == 0) {
		fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fchmod(fd, 0755)) {
			close(fd);
			return -errno;
		}
		return fd < 0 ? -errno : fd;
	}
	if (errno != EEXIST)
		return -errno;
	fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The run folder <root>/<run-id>, 0755 whatever the umask; its fd or -errno. */
static int make_run_dir(const char *root_dir, const char *run_id)
{
	int root = open_root_dir(root_dir), fd = -1, err = 0;

	if (root < 0)
		return root;
	if (mkdirat(root, run_id, 0755))
		err = -errno;
	if (!err) {
		fd = openat(root, run_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, 0755))
			err = -errno;
		if (err)
			unlinkat(root, run_id, AT_REMOVEDIR);
	}
	close(root);
	if (err && fd >= 0)
		close(fd);
	return err ? err : fd;
}

int results_open(struct results *r, const char *root_dir, json_t *config)
{
	time_t now = time(NULL);
	struct tm tm;
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->dirfd = -1;
	strftime(r->run_id, sizeof(r->run_id), "run-%Y%m%d-%H%M%S", gmtime_r(&now, &tm));
	snprintf(r->run_id + strlen(r->run_id), sizeof(r->run_id) - strlen(r->run_id), "-%d",
		 (int)getpid());
	if ((size_t)snprintf(r->dir, sizeof(r->dir), "%s/%s", root_dir, r->run_id) >= sizeof(r->dir))
		err = -ENAMETOOLONG;
	else
		r->dirfd = make_run_dir(root_dir, r->run_id);
	if (!err && r->dirfd < 0)
		err = r->dirfd;
	if (err) {
		pr_warn("offloadlab: cannot create the results folder %s: %s\n", r->dir, strerror(-err));
		json_decref(config);
		return err;
	}
	r->on_disk = true;
	r->list = json_array();
	r->root = json_pack("{s:s, s:b, s:o, s:O}", "run_id", r->run_id, "complete", 0, "config",
			    config ? config : json_object(), "results", r->list);
	/* The first write proves the folder takes files (a full disk ends it here). */
	err = results_flush(r);
	if (err) {
		int root = open(root_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (root >= 0) {
			unlinkat(root, r->run_id, AT_REMOVEDIR);
			close(root);
		}
		results_close(r);
	}
	return err;
}

json_t *results_add(struct results *r, const struct result *res)
{
	json_t *trials = json_array(), *o;
	struct summary s;

	for (size_t i = 0; i < res->n; i++)
		json_array_append_new(trials, json_real(res->trials[i]));
	summarize(res->trials, res->n, &s);
	o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s, s:f, s:[f,f], s:f, s:f, s:f, s:o}",
		      "bench", res->bench, "hook", res->hook, "variant", res->variant,
		      "metric", res->metric, "unit", res->unit, "method", res->method,
		      "median", s.median, "ci95", s.ci_lo, s.ci_hi, "ci_coverage", s.ci_level,
		      "mean", s.mean, "stddev", s.stddev, "trials", trials);
	if (!o) {
		json_decref(res->extra);
		return NULL;
	}
	if (!res->n) {
		/* Not measured (unsupported, skipped): no figure, not a zero. */
		const char *keys[] = { "median", "ci95", "ci_coverage", "mean", "stddev" };

		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			json_object_set_new(o, keys[k], json_null());
	}
	if (res->extra)
		json_object_update(o, res->extra);
	json_decref(res->extra);
	json_array_append_new(r->list, o);
	return o;
}

int results_flush(struct results *r)
{
	char *text;
	int err;

	if (!r->on_disk)
		return 0;
	text = json_dumps(r->root, JSON_INDENT(2) | JSON_REAL_PRECISION(8));
	err = text ? write_file_atomic(r->dirfd, "results.json", text, strlen(text), 0644) : -ENOMEM;
	free(text);
	if (err && !r->write_err)
		pr_warn("offloadlab: cannot write %s/results.json: %s%s\n", r->dir, strerror(-err),
			json_array_size(r->list) ? " (the file keeps what was written before; every figure is on stdout)" : "");
	if (err && !r->write_err)
		r->write_err = err;
	return err;
}

int results_write(struct results *r, const char *failed)
{
	int sig = run_stop_signal;
	char why[160] = "";

	if (sig)
		snprintf(why, sizeof(why), "stopped by SIG%s", sigabbrev_np(sig) ?: "?");
	else if (failed)
		snprintf(why, sizeof(why), "%s", failed);
	json_object_set_new(r->root, "reference", results_reference_json(r));
	json_object_set_new(r->root, "complete", json_boolean(!why[0]));
	json_object_del(r->root, "incomplete_reason");
	if (why[0])
		json_object_set_new(r->root, "incomplete_reason", json_string(why));
	return results_flush(r);
}

void results_close(struct results *r)
{
	if (r->on_disk)
		close(r->dirfd);
	json_decref(r->list);
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* A selector {bench, hook, variant?, metric} matches a primary figure. */
static bool matches(json_t *sel, json_t *fig)
{
	return str_eq(jstr(sel, "bench"), jstr(fig, "bench")) &&
	       str_eq(jstr(sel, "hook"), jstr(fig, "hook")) &&
	       str_eq(jstr(sel, "variant"), jstr(fig, "variant")) &&
	       str_eq(jstr(sel, "metric"), jstr(fig, "metric")) &&
	       !json_is_false(json_object_get(fig, "primary"));
}

static json_t *find(json_t *list, json_t *sel)
{
	size_t i;
	json_t *f;

	json_array_foreach(list, i, f)
		if (matches(sel, f))
			return f;
	return NULL;
}

static double fig_value(json_t *f, const char *key)
{
	json_t *v = f ? json_object_get(f, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The no-program path cost of the state a figure was measured in (bench
 * overhead's "regimes"), NaN for figures that carry none. */
static double state_cost(json_t *fig)
{
	return fig_value(fig ? json_object_get(fig, "regimes") : NULL, "quiet_no_program_ns");
}

#define STATE_TOLERANCE 0.10

json_t *results_reference_json(const struct results *r)
{
	json_t *ref = reference_load(), *out = json_array(), *ratios, *rt;
	size_t i;

	if (!ref)
		return out;
	ratios = json_object_get(ref, "ratios");
	json_array_foreach(ratios, i, rt) {
		json_t *num = json_object_get(rt, "num"), *den = json_object_get(rt, "den");
		json_t *figs = json_object_get(ref, "figures");
		json_t *mn = find(r->list, num), *md = find(r->list, den);
		/* No den: the published figure itself, beside ours (absolute). */
		double seed = fig_value(find(figs, num), "value") /
			      (den ? fig_value(find(figs, den), "value") : 1.0);
		double here = fig_value(mn, "median") / (den ? fig_value(md, "median") : 1.0);
		json_t *o = json_pack("{s:s}", "name", jstr(rt, "name"));

		double sn = state_cost(mn), sd = state_cost(md);

		/* Two figures that both record their state: only within one state. */
		if (isfinite(sn) && isfinite(sd) && fabs(sn - sd) > STATE_TOLERANCE * fmin(sn, sd)) {
			char note[160];

			snprintf(note, sizeof(note),
				 "measured in different states of the machine (no-program path %.0f vs %.0f ns per frame)",
				 sn, sd);
			json_object_set_new(o, "note", json_string(note));
			here = NAN;
		}
		json_object_set_new(o, "seed", isfinite(seed) ? json_real(seed) : json_null());
		json_object_set_new(o, "here", isfinite(here) ? json_real(here) : json_null());
		if (mn && md && den && isfinite(here)) {
			json_t *cn = json_object_get(mn, "ci95"), *cd = json_object_get(md, "ci95");
			double lo = json_real_value(json_array_get(cn, 0)) /
				    json_real_value(json_array_get(cd, 1));
			double hi = json_real_value(json_array_get(cn, 1)) /
				    json_real_value(json_array_get(cd, 0));

			/* Conservative: the ratio of the CI ends. */
			if (isfinite(lo) && isfinite(hi))
				json_object_set_new(o, "here_range", json_pack("[f,f]", lo, hi));
		}
		json_array_append_new(out, o);
	}
	json_decref(ref);
	return out;
}

static void fmt_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 1e6)
		snprintf(buf, len, "%.3gM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.1f", v);
}

void results_print_table(const struct results *r, FILE *f)
{
	size_t i;
	json_t *o;

	fprintf(f, "%-9s %-15s %-18s %-7s %-16s %10s %-23s %s\n", "BENCH", "HOOK", "VARIANT",
		"RUNTIME", "METRIC", "MEDIAN", "95% CI", "METHOD");
	json_array_foreach(r->list, i, o) {
		json_t *ci = json_object_get(o, "ci95");
		char med[24], lo[24], hi[24], cis[56];

		fmt_num(med, sizeof(med), fig_value(o, "median"));
		fmt_num(lo, sizeof(lo), json_real_value(json_array_get(ci, 0)));
		fmt_num(hi, sizeof(hi), json_real_value(json_array_get(ci, 1)));
		snprintf(cis, sizeof(cis), "[%s, %s]", lo, hi);
		if (!json_is_array(ci)) { /* not measured */
			snprintf(med, sizeof(med), "n/a");
			cis[0] = '\0';
		}
		fprintf(f, "%-9s %-15s %-18s %-7s %-16s %10s %-23s %s\n", jstr(o, "bench"), jstr(o, "hook"),
			jstr(o, "variant") ? jstr(o, "variant") : "",
			jstr(o, "runtime") ? jstr(o, "runtime") : "", jstr(o, "metric"), med, cis,
			jstr(o, "method"));
	}
}

/* The methods that measured the same thing, and whether they agreed. */
static void print_agreements(const struct results *r, FILE *f)
{
	bool header = false;
	size_t i;
	json_t *o;

	json_array_foreach(r->list, i, o) {
		json_t *ag = json_object_get(o, "agreement"), *pt = ag ? json_object_get(ag, "bpf_stats_vs_test_run") : NULL;

		if (!ag)
			continue;
		if (!header)
			fprintf(f, "\nWhere methods overlap (see the JSON for each pair):\n");
		header = true;
		fprintf(f, "  %-9s %-15s delta vs bpf_stats: %s (%+.1f ns)", jstr(o, "bench"), jstr(o, "hook"),
			jstr(ag, "delta_vs_bpf_stats"), fig_value(ag, "difference_ns"));
		if (pt)
			fprintf(f, "; bpf_stats vs test_run: %s (%+.1f ns)", jstr(pt, "verdict"),
				fig_value(pt, "difference_ns"));
		fputc('\n', f);
	}
}

/* Figures that carry their own published counterpart ("published", "ratio":
 * ours over it, in the units the figure's JSON gives). */
static void print_published(const struct results *r, FILE *f)
{
	bool header = false;
	size_t i;
	json_t *o;

	json_array_foreach(r->list, i, o) {
		double pub = fig_value(o, "published"), ratio = fig_value(o, "ratio");
		char name[96];

		if (isnan(pub) || isnan(ratio))
			continue;
		if (!header)
			fprintf(f, "\nBeside the published figure of the same cell (ratio: ours / "
				"published, see each figure's published_* fields):\n");
		header = true;
		snprintf(name, sizeof(name), "%s %s %s %s", jstr(o, "bench"), jstr(o, "hook"),
			 jstr(o, "variant") ? jstr(o, "variant") : "", jstr(o, "metric"));
		fprintf(f, "  %-60s published %8.3g  ratio %6.2f\n", name, pub, ratio);
	}
}

void results_print_reference(const struct results *r, FILE *f)
{
	json_t *refs = results_reference_json(r), *o;
	size_t i;

	print_agreements(r, f);
	print_published(r, f);
	fprintf(f, "\nBeside the published figures (seed: KVM VM, kernel 6.8.7); ratios travel across machines:\n");
	fprintf(f, "%-58s %10s %10s\n", "RATIO", "SEED", "HERE");
	json_array_foreach(refs, i, o) {
		double seed = fig_value(o, "seed"), here = fig_value(o, "here");
		char s[24], h[24];

		if (isnan(here) && !jstr(o, "note"))
			continue;
		snprintf(s, sizeof(s), isnan(seed) ? "-" : "%.3f", seed);
		snprintf(h, sizeof(h), isnan(here) ? "n/a" : "%.3f", here);
		fprintf(f, "%-58s %10s %10s%s%s\n", jstr(o, "name"), s, h, isnan(here) ? "  " : "",
			isnan(here) ? jstr(o, "note") : "");
	}
	json_decref(refs);
}
