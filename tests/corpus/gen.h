/* The corpus generator's parts (tests/corpus/gen*.c). */
#ifndef OLAB_TESTS_CORPUS_GEN_H
#define OLAB_TESTS_CORPUS_GEN_H
#include <stddef.h>
#include <stdint.h>

/* Write one input, tests/corpus/<proto>/NN-<name>. */
void corpus_put(const char *proto, const char *name, const void *data, size_t len);
void corpus_puts(const char *proto, const char *name, const char *text);
uint32_t corpus_rand(uint32_t *state);
/* Seeded variants of a text: 6 cut short ("seed-cut-N"), then `changes`
 * with one byte replaced by a byte of set ("seed-byte-AT-XX"). */
void corpus_variants(const char *proto, const char *base, const char *set, int changes,
		     uint32_t seed);
void corpus_cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void corpus_http1(void);
void corpus_http2(void);
void corpus_json(void);

#endif
