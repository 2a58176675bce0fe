#include <stdio.h>
#include <bpf/libbpf.h>
#include "lib/log.h"

enum log_level log_level = LOG_INFO;

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

void log_print(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

/* libbpf warns while probing features that are expected to be missing: -v only. */
static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (log_level < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
