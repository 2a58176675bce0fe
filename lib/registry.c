/* Sorted copies of linker-section registries (lib/registry.h). */
#include <string.h>
#include "lib/registry.h"

static int order_of(const void *entry, size_t off)
{
	int v;

	memcpy(&v, (const char *)entry + off, sizeof(v));
	return v;
}

size_t registry_load(const void *const *start, const void *const *stop, const void **out,
		     size_t max, size_t order_offset)
{
	size_t n = 0;

	for (const void *const *p = start; p && p < stop && n < max; p++) {
		size_t i = n++;

		/* Insertion sort: stable, and registries are small. */
		while (i > 0 && order_of(out[i - 1], order_offset) > order_of(*p, order_offset)) {
			out[i] = out[i - 1];
			i--;
		}
		out[i] = *p;
	}
	return n;
}
