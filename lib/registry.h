/*
 * One registry for commands, benches and checks: each entry is a pointer
 * placed in a linker section by REGISTRY_ADD, so adding one means adding a
 * file.  REGISTRY_LOAD copies a section's entries sorted by an int field
 * (ties keep link order).
 */
#ifndef OLAB_REGISTRY_H
#define OLAB_REGISTRY_H
#include <stddef.h>

#define REGISTRY_ADD(sect, sym) \
	static const void *const __olab_reg_##sect##_##sym \
	__attribute__((used, section(#sect))) = &sym

/* Declares the section's bounds (weak: an empty section is fine). */
#define REGISTRY_DECLARE(sect) \
	extern const void *const __start_##sect[] __attribute__((weak)); \
	extern const void *const __stop_##sect[] __attribute__((weak))

/* Up to max entries into out, sorted by the int member field of type. */
#define REGISTRY_LOAD(sect, type, field, out, max) \
	registry_load(__start_##sect, __stop_##sect, (const void **)(out), (max), \
		      offsetof(type, field))

size_t registry_load(const void *const *start, const void *const *stop, const void **out,
		     size_t max, size_t order_offset);

/*
 * A registry loaded on first use, sorted by an int member and then by a
 * const char * member (the name), with lookup by name:
 *   static struct registry benches = REGISTRY_TABLE(olab_benches, struct bench, order, name);
 */
#define REGISTRY_MAX 64
struct registry {
	const void *const *start, *const *stop;
	size_t order_offset, name_offset;
	const void *item[REGISTRY_MAX];
	size_t n;
	int loaded;
};

#define REGISTRY_TABLE(sect, type, order_field, name_field) { \
	.start = __start_##sect, .stop = __stop_##sect, \
	.order_offset = offsetof(type, order_field), .name_offset = offsetof(type, name_field) }

size_t registry_count(struct registry *r);
const void *registry_get(struct registry *r, size_t i);   /* NULL past the end */
const void *registry_find(struct registry *r, const char *name);

#endif
