/* `offloadlab vm`: run an offloadlab command on another kernel, booted in qemu. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "cmd/cmd.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/vm.h"

struct vm_cfg {
	const char *kernel;
	int accel;
	uint64_t cpus, mem_mb, timeout_s, boot_timeout_s, kvm_timeout_s;
};

static const struct vm_cfg defaults = {
	.accel = VM_ACCEL_AUTO, .cpus = 2, .mem_mb = 1024, .timeout_s = 900, .boot_timeout_s = 60,
	.kvm_timeout_s = VM_KVM_BOOT_MS / 1000,
};

static const struct opt_desc vm_opts[] = {
	{ "kernel", 'k', OPT_STR, offsetof(struct vm_cfg, kernel), "VERSION|PATH",
	  "6.1, 6.12 (newest Debian cloud kernel of that series), a linux-image-* package, "
	  "or a vmlinuz path" },
	{ "accel", 0, OPT_ENUM, offsetof(struct vm_cfg, accel), "A",
	  "auto: KVM when it works, TCG otherwise", 0, 0, vm_accel_names },
	{ "cpus", 0, OPT_UINT, offsetof(struct vm_cfg, cpus), "N", "guest CPUs", 1, 64 },
	{ "mem", 0, OPT_UINT, offsetof(struct vm_cfg, mem_mb), "MB", "guest memory", 256, 65536 },
	{ "timeout", 0, OPT_UINT, offsetof(struct vm_cfg, timeout_s), "S",
	  "stop the guest when the command runs longer", 1, 86400 },
	{ "boot-timeout", 0, OPT_UINT, offsetof(struct vm_cfg, boot_timeout_s), "S",
	  "give up when the guest is not up by then", 1, 3600 },
	{ "kvm-timeout", 0, OPT_UINT, offsetof(struct vm_cfg, kvm_timeout_s), "S",
	  "--accel auto: a KVM guest not up by then is given up for TCG", 1, 600 },
	OPT_END,
};

/* --json: the guest's document with "vm": {kernel, release, accel, accel_why}
 * added when it is an object; anything else goes out as it came. */
static void json_with_vm(FILE *out, const struct vm_kernel *k, const struct vm_result *r)
{
	json_t *doc;
	char buf[8192];
	size_t n;

	fflush(out);
	rewind(out);
	doc = json_loadf(out, JSON_DISABLE_EOF_CHECK, NULL);
	if (json_is_object(doc)) {
		json_object_set_new(doc, "vm", json_pack("{s:s, s:s, s:s, s:s}", "kernel", k->name,
			"release", k->release, "accel", r->accel, "accel_why", r->accel_why));
		json_dumpf(doc, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		rewind(out);
		while ((n = fread(buf, 1, sizeof(buf), out)) > 0)
			fwrite(buf, 1, n, stdout);
	}
	fflush(stdout);
	json_decref(doc);
	fclose(out);
}

static int vm_cmd_run(void *cfg, int argc, char **argv)
{
	const struct vm_cfg *c = cfg;
	struct vm_opts o = { .accel = c->accel, .cpus = (unsigned)c->cpus,
			     .mem_mb = (unsigned)c->mem_mb, .timeout_ms = c->timeout_s * 1000,
			     .boot_timeout_ms = c->boot_timeout_s * 1000,
			     .kvm_boot_ms = c->kvm_timeout_s * 1000 };
	char err[512], *args[256];
	struct vm_kernel k;
	struct vm_result r;
	int n = 0, ret;

	if (!c->kernel || !vm_kernel_spec_valid(c->kernel))
		return cli_usage_error("vm", "--kernel needs a version (6.1), a package or a path");
	if (argc < 1 || argc > 250)
		return cli_usage_error("vm", "give the command to run after --, e.g. -- env");
	if (g_opts.json)
		args[n++] = "--json";
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	if ((ret = vm_kernel_get(c->kernel, &k, err, sizeof(err)))) {
		fprintf(stderr, "offloadlab vm: %s\n", err);
		return EXIT_FAIL;
	}
	pr_debug("vm: %s (%s), modules %s\n", k.vmlinuz, k.release, k.moddir[0] ? k.moddir : "none");
	if (g_opts.json && !(o.out = tmpfile()))
		return EXIT_FAIL;
	ret = vm_run(&k, &o, args, &r);
	pr_info("offloadlab vm: kernel %s, accel %s (%s)\n", k.name, r.accel, r.accel_why);
	if (o.out)
		json_with_vm(o.out, &k, &r);
	if (ret) {
		fprintf(stderr, "offloadlab vm: %s\n", r.error);
		return EXIT_FAIL;
	}
	return r.status;
}

COMMAND(cmd_vm, "vm", 80, NEED_ALL, vm_cmd_run,
	"run an offloadlab command on another kernel, booted in qemu",
	.args = " -- COMMAND...", CMD_OPTS(vm_opts, struct vm_cfg, &defaults));
