/* The corpus generator's parts (tests/corpus/gen*.c). */
#ifndef OLAB_TESTS_CORPUS_GEN_H
#define OLAB_TESTS_CORPUS_GEN_H
#include <stddef.h>
#include <stdint.h>

/* Write one input, tests/corpus/<proto>/NN-<name>. */
void corpus_put(const char *proto, const char *name, const void *data, size_t len);
void corpus_puts(const char *proto, const char *name, const char *text);
uint32_t corpus_rand(uint32_t *state);
void corpus_cat(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void corpus_http1(void);
void corpus_http2(void);
void corpus_json(void);

#endif
