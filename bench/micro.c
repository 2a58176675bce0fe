/* BPF_PROG_TEST_RUN microbenchmarks: the frame, the run, the facts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "bench/micro.h"
#include "lib/gen.h"
#include "lib/util.h"
#include "version.h"

int micro_frame(uint8_t *buf, size_t len)
{
	struct gen_frame_spec s = {
		.family = 4, .src_mac = { 0x02, 0, 0, 0, 0, 1 }, .dst_mac = { 0x02, 0, 0, 0, 0, 2 },
		.src_ip = { 198, 18, 0, 1 }, .dst_ip = { 198, 18, 0, 2 },
		.sport = GEN_SPORT_BASE, .dport = GEN_DPORT, .size = (unsigned)len,
	};

	if (len < GEN_MIN_FRAME || len > MICRO_FRAME_MAX)
		return -EINVAL;
	return gen_build_frame(&s, buf, len, NULL);
}

int micro_test_run(int prog_fd, const void *frame, size_t len, uint32_t repeat,
		   struct micro_run *out, char *why, size_t why_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (uint32_t)len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		int err = -errno;

		snprintf(why, why_len, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		return err;
	}
	out->ns_per_run = opts.duration;
	out->retval = opts.retval;
	return 0;
}

static json_t *sysctl_json(const char *name)
{
	char path[128], val[32];

	snprintf(path, sizeof(path), "/proc/sys/net/core/%s", name);
	if (read_file(path, val, sizeof(val)))
		return json_null();
	return json_integer(strtoll(val, NULL, 10));
}

json_t *micro_prog_facts(int prog_fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	json_t *o = json_pack("{s:{s:o, s:o, s:o}, s:s, s:s}", "jit",
			      "enable", sysctl_json("bpf_jit_enable"),
			      "harden", sysctl_json("bpf_jit_harden"),
			      "kallsyms", sysctl_json("bpf_jit_kallsyms"),
			      "compiler", OLAB_BPF_CC, "bpf_cflags", OLAB_BPF_CFLAGS);

	if (!bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		json_object_set_new(o, "xlated_bytes", json_integer(info.xlated_prog_len));
		json_object_set_new(o, "jited_bytes", json_integer(info.jited_prog_len));
		json_object_set_new(o, "verified_insns", json_integer(info.verified_insns));
	}
	return o;
}
