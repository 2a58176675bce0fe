/*
 * The differential tests of the eBPF parsers (tests/integ/parse_*.c): the
 * corpus (tests/corpus/<proto>/), one run of a parser on one message, and the
 * allow-list of known, deliberate differences.
 */
#ifndef OLAB_TESTS_PARSE_KIT_H
#define OLAB_TESTS_PARSE_KIT_H
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "bpf/parse.h"

struct corpus_file {
	char name[256];         /* NN-what */
	unsigned char *data;
	size_t len;
};

/* Every file of tests/corpus/<proto>, sorted by name; returns the count, -1 on error. */
int corpus_load(const char *proto, struct corpus_file **files);
void corpus_free(struct corpus_file *files, int n);

/* Run prog once on msg in an Ethernet/IPv4/UDP frame; read map's entry 0
 * into out.  Returns 0 or -errno; *xdp is the program's verdict. */
int parse_run(int prog_fd, int map_fd, const void *msg, size_t len,
	      void *out, size_t out_len, __u32 *xdp);

const char *parse_status_name(__u32 status);

/* A known difference: the input (name without its NN- prefix) and why. */
struct parse_allow {
	const char *input;
	const char *why;
};

/* The allow-list entry for this corpus file, or NULL. */
const struct parse_allow *parse_allowed(const struct parse_allow *list, size_t n,
					const struct corpus_file *f);

/* How many inputs the eBPF parser gave each status. */
struct parse_tally {
	int n[PARSE_INCOMPLETE + 1];
};

/* Count one; at the end print the counts and check that the corpus reaches
 * every status. */
void parse_tally_add(struct parse_tally *t, __u32 status);
void parse_tally_check(const struct parse_tally *t, const char *proto);

/* Status and verdict agree; the verdict is XDP_PASS exactly when OK. */
bool parse_check_status(const struct corpus_file *f, __u32 got, __u32 xdp, __u32 want,
			const struct parse_allow *allow);

#endif
