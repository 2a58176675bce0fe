/* The one writer of JSON documents to stdout (-j on every command). */
#ifndef OLAB_JSON_OUT_H
#define OLAB_JSON_OUT_H
#include <jansson.h>

/* doc, indented, 8 significant digits for reals, then a newline: 0 or -EIO. */
int json_out(const json_t *doc);

#endif
