/* JSON to stdout (lib/json_out.h). */
#include <errno.h>
#include <stdio.h>
#include "lib/json_out.h"

int json_out(const json_t *doc)
{
	if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(8)) ||
	    fputc('\n', stdout) == EOF || fflush(stdout))
		return -EIO;
	return 0;
}
