/* `offloadlab vm`: boot a kernel in qemu and run one offloadlab command in it.
 * Everything lives in RUN_STATE_DIR/<prefix>-vm (initramfs, sockets, the
 * shared results folder, the console log): removed at cleanup, and by
 * `offloadlab clean` after a SIGKILL; qemu and virtiofsd are in the manifest. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/run.h"
#include "lib/util.h"
#include "lib/vm.h"
#include "lib/vm_exec.h"

#define VIRTIOFSD       "/usr/lib/qemu/virtiofsd"
#define QEMU            "qemu-system-x86_64"
#define BUSYBOX         "/bin/busybox"
#define SOCKET_WAIT_NS  (10ull * 1000000000ull)
#define POLL_MS         100
#define VM_TCG_TIME_SCALE 10

const char *const vm_accel_names[] = { "auto", "kvm", "tcg", NULL };

/* The guest's /init: the host's root read-only under a tmpfs overlay, the
 * results folder at /run/olab-vm, one command, its status, power off. */
static const char guest_init[] =
	"#!/bin/busybox sh\n"
	"B=/bin/busybox N=/newroot\n"
	"fail() { echo \"olab-init: $*\"; $B sync; $B poweroff -f; }\n"
	"$B mkdir -p /proc /sys /dev /out /lower /rw $N\n"
	"$B mount -t proc proc /proc; $B mount -t sysfs sys /sys; $B mount -t devtmpfs dev /dev\n"
	"for m in /mods/*.ko; do [ -e \"$m\" ] && $B insmod \"$m\"; done\n"
	"$B mount -t virtiofs olabout /out || fail 'cannot mount the results share'\n"
	"echo booted > /out/booted\n"
	". /out/vm.conf\n"
	"$B mount -t virtiofs -o ro olabroot /lower || fail 'cannot mount the host root'\n"
	"$B mount -t tmpfs -o mode=0755 rw /rw && $B mkdir /rw/up /rw/work\n"
	"$B mount -t overlay -o lowerdir=/lower,upperdir=/rw/up,workdir=/rw/work ovl $N ||"
	" fail 'cannot mount the overlay'\n"
	"$B mount -t proc proc $N/proc; $B mount -t sysfs sys $N/sys\n"
	"$B mount -t devtmpfs dev $N/dev; $B mkdir -p $N/dev/shm; $B mount -t tmpfs shm $N/dev/shm\n"
	/* A fresh /run (locks, netns, run state); /tmp stays the host's, under the
	 * overlay, where a fresh clone's binary may live. */
	"$B mount -t tmpfs -o mode=0755 run $N/run\n"
	"$B mount -t bpf bpf $N/sys/fs/bpf; $B mount -t cgroup2 cgroup2 $N/sys/fs/cgroup\n"
	"$B mount -t tracefs tracefs $N/sys/kernel/tracing 2>/dev/null\n"
	"R=$($B uname -r)\n"
	"if [ -n \"$OLAB_MODDIR\" ]; then $B mkdir -p $N/lib/modules/$R &&"
	" $B mount --bind $N$OLAB_MODDIR $N/lib/modules/$R; fi\n"
	"echo /sbin/modprobe > /proc/sys/kernel/modprobe\n"
	"$B mkdir -p $N/run/olab-vm && $B mount --move /out $N/run/olab-vm || fail 'cannot move /out'\n"
	"$B chroot $N /bin/sh /run/olab-vm/cmd.sh\n"
	"echo $? > $N/run/olab-vm/status\n"
	"$B sync\n"
	"$B poweroff -f\n";

/* Module requests from the guest kernel run the host's modprobe in the new root. */
static const char guest_modprobe[] =
	"#!/bin/busybox sh\nexec /bin/busybox chroot /newroot /sbin/modprobe \"$@\"\n";

/* Builds the initramfs: busybox, our init, the modules virtio-fs needs (in
 * load order; built-in ones are simply absent). $1 dir, $2 out, $3 moddir. */
static const char initrd_script[] =
	"set -e; d=$1; i=10\n"
	"mkdir -p \"$d/bin\" \"$d/sbin\" \"$d/mods\"; cp " BUSYBOX " \"$d/bin/busybox\"\n"
	"chmod 755 \"$d/init\" \"$d/sbin/modprobe\"\n"
	"for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci fuse"
	" virtiofs overlay; do\n"
	"  f=; [ -z \"$3\" ] || f=$(find \"$3/kernel\" -name \"$m.ko\" -o -name \"$m.ko.xz\" | head -n1)\n"
	"  case \"$f\" in '') ;; *.xz) xz -dc \"$f\" > \"$d/mods/$i-$m.ko\";;"
	" *) cp \"$f\" \"$d/mods/$i-$m.ko\";; esac; i=$((i+1))\n"
	"done\n"
	"cd \"$d\" && find . | " BUSYBOX " cpio -o -H newc -R 0:0 > \"$2\" 2>/dev/null\n";

struct vm_state {
	char dir[128];
	int dir_cleanup;
	struct proc fs_root, fs_out, qemu;
};

static void path_in(const struct vm_state *s, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", s->dir, name);
}

/* Cleanup: the state folder (processes are stopped first: newer cleanups). */
static void state_dir_cleanup(const char *name, long num)
{
	remove_tree(name);
}

/* Single-quoted for sh. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		*s == '\'' ? fputs("'\\''", f) : fputc(*s, f);
	fputc('\'', f);
}

/* out/cmd.sh (run by the guest's sh in the host's root) and out/vm.conf. */
static int write_command(const struct vm_state *s, const struct vm_kernel *k, char **argv,
			 const char *accel)
{
	char path[PATH_MAX], exe[PATH_MAX], cwd[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f;

	if (n <= 0 || !getcwd(cwd, sizeof(cwd)))
		return -errno;
	exe[n] = '\0';
	path_in(s, "out/cmd.sh", path, sizeof(path));
	if (!(f = fopen(path, "w")))
		return -errno;
	fputs("cd ", f);
	put_quoted(f, cwd);
	fputs(" 2>/dev/null || cd /\n", f);
	/* Emulated CPUs are ~10x slower: the checks' time limits follow. */
	fprintf(f, "export OLAB_TIME_SCALE=%d\n", strcmp(accel, "tcg") ? 1 : VM_TCG_TIME_SCALE);
	put_quoted(f, exe);
	for (int i = 0; argv[i]; i++) {
		fputc(' ', f);
		put_quoted(f, argv[i]);
	}
	fputs(" >/run/olab-vm/stdout 2>/run/olab-vm/stderr\n", f);
	if (fclose(f))
		return -errno;
	path_in(s, "out/vm.conf", path, sizeof(path));
	if (!(f = fopen(path, "w")))
		return -errno;
	fputs("OLAB_MODDIR=", f);
	put_quoted(f, k->moddir);
	fputc('\n', f);
	return fclose(f) ? -errno : 0;
}

static int build_initrd(const struct vm_state *s, const struct vm_kernel *k)
{
	char dir[PATH_MAX], out[PATH_MAX], init[PATH_MAX + 16], log[PATH_MAX];
	const char *argv[] = { "sh", "-c", initrd_script, "olab-initrd", dir, out, k->moddir, NULL };
	int ret;

	path_in(s, "initrd", dir, sizeof(dir));
	path_in(s, "initrd.cpio", out, sizeof(out));
	path_in(s, "initrd.log", log, sizeof(log));
	snprintf(init, sizeof(init), "%s/sbin", dir);
	if ((ret = mkdir_p(init, 0755)))
		return ret;
	snprintf(init, sizeof(init), "%s/init", dir);
	if ((ret = write_path_atomic(init, guest_init, strlen(guest_init), 0755)))
		return ret;
	snprintf(init, sizeof(init), "%s/sbin/modprobe", dir);
	if ((ret = write_path_atomic(init, guest_modprobe, strlen(guest_modprobe), 0755)))
		return ret;
	ret = vm_exec_log(argv, NULL, log, 60000);
	return ret > 0 ? -EIO : ret;
}

static const char *pick_accel(int want, char *why, size_t len)
{
	struct vm_accel_probe p;

	vm_accel_probe_here(want, &p);
	return vm_accel_decide(&p, why, len);
}

/* Under --accel auto, is the KVM boot going nowhere?  (vm_kvm_fallback) */
static bool kvm_stuck(const struct vm_state *s, const struct vm_opts *o, struct vm_result *r,
		      bool exited, bool up, uint64_t start)
{
	char path[PATH_MAX], log[2048], why[192];
	struct vm_kvm_attempt a = { .exited = exited, .booted = up, .qemu_log = log,
				    .waited_ms = (now_ns() - start) / 1000000,
				    .limit_ms = o->kvm_boot_ms };

	if (o->accel != VM_ACCEL_AUTO || strcmp(r->accel, "kvm") || up)
		return false;
	path_in(s, "qemu.log", path, sizeof(path));
	if (read_file(path, log, sizeof(log)) < 0)
		log[0] = '\0';
	if (!vm_kvm_fallback(&a, why, sizeof(why)))
		return false;
	snprintf(r->accel_why, sizeof(r->accel_why), "KVM failed (%s): fell back to TCG", why);
	return true;
}

/* virtiofsd sharing source as socket name; waits for its socket. */
static int start_virtiofsd(const struct vm_state *s, struct proc *p, const char *sock,
			   const char *source)
{
	char sp[PATH_MAX + 16], src[PATH_MAX + 16], log[PATH_MAX], path[PATH_MAX];
	const char *argv[] = { VIRTIOFSD, "-f", sp, "-o", src, "-o", "sandbox=chroot",
			       "-o", "cache=auto", "-o", "log_level=warn", NULL };
	uint64_t end = now_ns() + SOCKET_WAIT_NS;
	int ret;

	path_in(s, sock, path, sizeof(path));
	snprintf(sp, sizeof(sp), "--socket-path=%s", path);
	snprintf(src, sizeof(src), "source=%s", source);
	path_in(s, "virtiofsd.log", log, sizeof(log));
	if ((ret = vm_spawn(p, argv, NULL, log)))
		return ret;
	while (access(path, F_OK)) {
		if (now_ns() > end || proc_wait(p, 20) != -ETIMEDOUT || run_stopping())
			return -ENOTCONN;
	}
	return 0;
}

static int start_qemu(struct vm_state *s, const struct vm_kernel *k, const struct vm_opts *o,
		      const char *accel)
{
	char mem[64], memobj[128], smp[16], fsr[PATH_MAX + 32], fso[PATH_MAX + 32];
	char serial[PATH_MAX + 8], initrd[PATH_MAX], log[PATH_MAX], path[PATH_MAX];
	bool kvm = !strcmp(accel, "kvm");
	const char *argv[] = {
		QEMU, "-accel", accel, "-cpu", kvm ? "host" : "max", "-m", mem, "-smp", smp,
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-object", memobj, "-numa", "node,memdev=mem",
		"-chardev", fsr, "-device", "vhost-user-fs-pci,chardev=fsroot,tag=olabroot",
		"-chardev", fso, "-device", "vhost-user-fs-pci,chardev=fsout,tag=olabout",
		"-serial", serial, "-kernel", k->vmlinuz, "-initrd", initrd,
		"-append", "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4", NULL };

	snprintf(mem, sizeof(mem), "%u", o->mem_mb);
	snprintf(memobj, sizeof(memobj), "memory-backend-memfd,id=mem,size=%uM,share=on", o->mem_mb);
	snprintf(smp, sizeof(smp), "%u", o->cpus);
	path_in(s, "root.sock", path, sizeof(path));
	snprintf(fsr, sizeof(fsr), "socket,id=fsroot,path=%s", path);
	path_in(s, "out.sock", path, sizeof(path));
	snprintf(fso, sizeof(fso), "socket,id=fsout,path=%s", path);
	path_in(s, "console.log", path, sizeof(path));
	snprintf(serial, sizeof(serial), "file:%s", path);
	path_in(s, "initrd.cpio", initrd, sizeof(initrd));
	path_in(s, "qemu.log", log, sizeof(log));
	return vm_spawn(&s->qemu, argv, NULL, log);
}

/* Wait for the guest to boot (out/booted) and then for qemu to exit. */
static int wait_guest(struct vm_state *s, const struct vm_opts *o, struct vm_result *r)
{
	uint64_t start = now_ns(), deadline = start + o->boot_timeout_ms * 1000000ull;
	char booted[PATH_MAX];
	bool up = false;
	int st;

	path_in(s, "out/booted", booted, sizeof(booted));
	for (;;) {
		st = proc_wait(&s->qemu, POLL_MS);
		if (!up && !access(booted, F_OK)) {
			up = true;
			deadline = now_ns() + o->timeout_ms * 1000000ull;
			pr_debug("vm: booted in %.1f s\n", (double)(now_ns() - start) / 1e9);
		}
		if (kvm_stuck(s, o, r, st != -ETIMEDOUT, up, start))
			return -EAGAIN;
		if (st != -ETIMEDOUT)
			return 0;
		if (run_stopping()) {
			snprintf(r->error, sizeof(r->error), "interrupted");
			return -EINTR;
		}
		if (now_ns() > deadline) {
			snprintf(r->error, sizeof(r->error), up ? "the command did not finish within %llu s"
				 : "the guest did not boot within %llu s",
				 (unsigned long long)((up ? o->timeout_ms : o->boot_timeout_ms) / 1000));
			return -ETIMEDOUT;
		}
	}
}

/* Copy a file of the state folder to f (tail: only its last bytes). */
static void copy_out(const struct vm_state *s, const char *name, FILE *f, long tail)
{
	char path[PATH_MAX], buf[8192];
	FILE *in;
	size_t n;

	path_in(s, name, path, sizeof(path));
	if (!(in = fopen(path, "r")))
		return;
	if (tail && fseek(in, -tail, SEEK_END))
		rewind(in);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, f);
	fclose(in);
	fflush(f);
}

/* The state folder and its results share. */
static int make_state(struct vm_state *s)
{
	char out[PATH_MAX];
	int ret;

	s->dir_cleanup = -1;
	snprintf(s->dir, sizeof(s->dir), RUN_STATE_DIR "/%s-vm", run_prefix());
	remove_tree(s->dir);
	path_in(s, "out", out, sizeof(out));
	if ((ret = mkdir_p(out, 0755)))
		return ret;
	chmod(s->dir, 0700);
	s->dir_cleanup = cleanup_add(state_dir_cleanup, s->dir, 0, "vm state");
	return s->dir_cleanup < 0 ? s->dir_cleanup : 0;
}

static void stop_all(struct vm_state *s)
{
	proc_kill(&s->qemu);
	proc_kill(&s->fs_out);
	proc_kill(&s->fs_root);
	if (s->dir_cleanup >= 0)
		cleanup_run(s->dir_cleanup);
}

/* Boot and wait; the guest's status (-1: none) in r. */
static int boot_and_run(struct vm_state *s, const struct vm_kernel *k, const struct vm_opts *o,
			struct vm_result *r)
{
	char out[PATH_MAX], status[32];
	int ret;

	path_in(s, "out", out, sizeof(out));
	if ((ret = start_virtiofsd(s, &s->fs_root, "root.sock", "/")) ||
	    (ret = start_virtiofsd(s, &s->fs_out, "out.sock", out))) {
		snprintf(r->error, sizeof(r->error), "virtiofsd did not start (" VIRTIOFSD
			 ": is qemu-system-x86 installed?)");
		return ret;
	}
	if ((ret = start_qemu(s, k, o, r->accel))) {
		snprintf(r->error, sizeof(r->error), "cannot start " QEMU ": %s", strerror(-ret));
		return ret;
	}
	if ((ret = wait_guest(s, o, r)))
		return ret;
	path_in(s, "out/status", out, sizeof(out));
	if (read_file(out, status, sizeof(status)) < 0 ||
	    parse_u64(strtok(status, "\n"), 0, 255, &(uint64_t){ 0 })) {
		snprintf(r->error, sizeof(r->error), "the guest stopped without the command's status");
		return -EIO;
	}
	r->status = atoi(status);
	return 0;
}

/* One boot with r->accel: prepare, boot, run, the guest's output, stop. */
static int attempt(const struct vm_kernel *k, const struct vm_opts *o, char **argv,
		   struct vm_result *r)
{
	struct vm_state s = { .dir_cleanup = -1 };
	int ret;

	if ((ret = make_state(&s)) || (ret = write_command(&s, k, argv, r->accel)) ||
	    (ret = build_initrd(&s, k))) {
		snprintf(r->error, sizeof(r->error), "cannot prepare the guest in %s: %s", s.dir,
			 strerror(-ret));
		stop_all(&s);
		return ret;
	}
	ret = boot_and_run(&s, k, o, r);
	if (ret != -EAGAIN) {
		copy_out(&s, "out/stdout", o->out ? o->out : stdout, 0);
		copy_out(&s, "out/stderr", stderr, 0);
	}
	if (ret && ret != -EAGAIN) {
		fprintf(stderr, "--- guest console (last lines) ---\n");
		copy_out(&s, "console.log", stderr, 2000);
		copy_out(&s, "qemu.log", stderr, 1000);
	}
	stop_all(&s);
	return ret;
}

int vm_run(const struct vm_kernel *k, const struct vm_opts *o, char **argv, struct vm_result *r)
{
	int ret;

	r->status = -1;
	r->error[0] = '\0';
	r->accel = pick_accel(o->accel, r->accel_why, sizeof(r->accel_why));
	ret = attempt(k, o, argv, r);
	if (ret == -EAGAIN) {
		/* auto: KVM made no progress; the same run under TCG */
		pr_warn("vm: %s\n", r->accel_why);
		r->accel = "tcg";
		r->error[0] = '\0';
		ret = attempt(k, o, argv, r);
	}
	return ret;
}
