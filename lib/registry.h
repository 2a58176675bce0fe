/*
 * One registry for commands, benches and checks: each entry is a pointer
 * placed in a linker section by REGISTRY_ADD, so adding one means adding a
 * file.  REGISTRY_LOAD copies a section's entries sorted by an int field
 * (ties keep link order).
 */
#ifndef OLAB_REGISTRY_H
#define OLAB_REGISTRY_H
#include <stddef.h>

#define REGISTRY_ADD(section, sym) \
	static const void *const __olab_reg_##section##_##sym \
	__attribute__((used, __section__(#section))) = &sym

/* Declares the section's bounds (weak: an empty section is fine). */
#define REGISTRY_DECLARE(section) \
	extern const void *const __start_##section[] __attribute__((weak)); \
	extern const void *const __stop_##section[] __attribute__((weak))

/* Up to max entries into out, sorted by the int member field of type. */
#define REGISTRY_LOAD(section, type, field, out, max) \
	registry_load(__start_##section, __stop_##section, (const void **)(out), (max), \
		      offsetof(type, field))

size_t registry_load(const void *const *start, const void *const *stop, const void **out,
		     size_t max, size_t order_offset);

#endif
