/*
 * The parser corpus (tests/corpus/{http1,http2,json}/): valid and malformed
 * messages for the differential tests (tests/integ/parse_*.c), written as one
 * file each, named NN-what.  Deterministic: the seeded variants come from a
 * fixed xorshift seed, so a rerun rewrites the same files.
 *
 *	make corpus    (builds build/corpus_gen, runs it on tests/corpus)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tests/corpus/gen.h"

static const char *out_root;
static int counter;

void corpus_put(const char *proto, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_root, proto);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%02d-%s", out_root, proto, ++counter, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		fprintf(stderr, "corpus_gen: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

void corpus_puts(const char *proto, const char *name, const char *text)
{
	corpus_put(proto, name, text, strlen(text));
}

uint32_t corpus_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

void corpus_variants(const char *proto, const char *base, const char *set, int changes,
		     uint32_t seed)
{
	size_t len = strlen(base), nset = strlen(set);
	char buf[1024], name[64];

	if (len > sizeof(buf))
		return;
	for (int i = 0; i < 6; i++) {
		size_t cut = corpus_rand(&seed) % len;

		snprintf(name, sizeof(name), "seed-cut-%zu", cut);
		corpus_put(proto, name, base, cut);
	}
	for (int i = 0; i < changes; i++) {
		size_t at = corpus_rand(&seed) % len;
		char c = set[corpus_rand(&seed) % nset];

		memcpy(buf, base, len);
		buf[at] = c;
		snprintf(name, sizeof(name), "seed-byte-%zu-%02x", at, (unsigned char)c);
		corpus_put(proto, name, buf, len);
	}
}

/* Append printf output to buf (of size cap) at *len. */
void corpus_cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len) {
		fprintf(stderr, "corpus_gen: buffer too small\n");
		exit(1);
	}
	*len += n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: corpus_gen DIR\n");
		return 2;
	}
	out_root = argv[1];
	counter = 0;
	corpus_http1();
	counter = 0;
	corpus_http2();
	counter = 0;
	corpus_json();
	return 0;
}
