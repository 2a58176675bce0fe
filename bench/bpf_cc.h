/*
 * BPF programs built at run time, by a clang other than the build's: the
 * bpf/ sources the build embeds (Makefile: $(B)/gen/bpf_srcs.S) written to a
 * scratch directory of the run (listed in its manifest, so `clean` removes
 * it after a SIGKILL), clang run with a time limit, its first error kept.
 * Users: `offloadlab verifier` (the parsers under each Debian clang) and
 * bench maps (the ARENA program, which needs clang >= 18).
 */
#ifndef OLAB_BENCH_BPF_CC_H
#define OLAB_BENCH_BPF_CC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An embedded source: its name under bpf/, its bytes. */
struct bpf_cc_src {
	const char *name;
	const char *data;
	uint64_t len;
};

/* The embedded source name, or NULL. */
const struct bpf_cc_src *bpf_cc_src(const char *name);

/*
 * A scratch directory /tmp/<run prefix>-<what>-XXXXXX (into dir) holding
 * every embedded source, removed by the run's cleanup: its cleanup handle
 * (for bpf_cc_scratch_close) or -errno (why filled).
 */
int bpf_cc_scratch_open(const char *what, char *dir, size_t dir_len, char *why, size_t why_len);
void bpf_cc_scratch_close(int handle, const char *dir);

/* Run argv, its stderr (and stdout too when merge) into out_path, killed
 * after ms: the wait status, or -ETIMEDOUT, -EINTR (a stop signal), -errno. */
int bpf_cc_spawn(char *const argv[], const char *out_path, bool merge, uint64_t ms);

/* The first line of path ("" if none). */
void bpf_cc_first_line(const char *path, char *buf, size_t len);
/* The first line of path with "error" in it, or its last line, without the
 * scratch dir's name (dir). */
void bpf_cc_error_line(const char *path, const char *dir, char *buf, size_t len);

/* clang-<v> in dir for the first v of versions (0-ended) installed: its
 * version, path filled; 0 when none. */
int bpf_cc_find_clang(const char *dir, const int *versions, char *path, size_t len);

/*
 * Compile src (a file in the scratch dir) into obj with clang: -target bpf
 * -g, the scratch dir and the multiarch uapi headers on the include path,
 * then flags (NULL-ended).  0, or the reason in why and -EINVAL (clang
 * failed), -ETIMEDOUT, -EINTR, -errno.
 */
int bpf_cc_compile(const char *clang, const char *dir, const char *src, const char *obj,
		   const char *const flags[], uint64_t ms, char *why, size_t why_len);

#endif
