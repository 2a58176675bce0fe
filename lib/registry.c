/* Sorted copies of linker-section registries (lib/registry.h). */
#include <stdbool.h>
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

static const char *name_of(const void *entry, size_t off)
{
	const char *name;

	memcpy(&name, (const char *)entry + off, sizeof(name));
	return name ? name : "";
}

static bool before(const struct registry *r, const void *a, const void *b)
{
	int oa = order_of(a, r->order_offset), ob = order_of(b, r->order_offset);

	return oa != ob ? oa < ob : strcmp(name_of(a, r->name_offset), name_of(b, r->name_offset)) < 0;
}

static void load(struct registry *r)
{
	if (r->loaded)
		return;
	r->loaded = 1;
	for (const void *const *p = r->start; p && p < r->stop && r->n < REGISTRY_MAX; p++) {
		size_t i = r->n++;

		while (i > 0 && before(r, *p, r->item[i - 1])) {
			r->item[i] = r->item[i - 1];
			i--;
		}
		r->item[i] = *p;
	}
}

size_t registry_count(struct registry *r)
{
	load(r);
	return r->n;
}

const void *registry_get(struct registry *r, size_t i)
{
	load(r);
	return i < r->n ? r->item[i] : NULL;
}

const void *registry_find(struct registry *r, const char *name)
{
	load(r);
	for (size_t i = 0; name && i < r->n; i++)
		if (!strcmp(name_of(r->item[i], r->name_offset), name))
			return r->item[i];
	return NULL;
}
