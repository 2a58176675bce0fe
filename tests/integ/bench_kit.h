/* What the bench integration tests share. */
#ifndef OLAB_TESTS_BENCH_KIT_H
#define OLAB_TESTS_BENCH_KIT_H
#include <jansson.h>

/* A number field of a trial's detail (0 when absent). */
static inline double detail_num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

#endif
