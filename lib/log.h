/* Leveled logging to stderr: pr_warn always, pr_info unless quiet, pr_debug with -v. */
#ifndef OLAB_LOG_H
#define OLAB_LOG_H
#include <stdarg.h>

enum log_level { LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

void log_set_level(enum log_level lvl);
void log_print(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Routes libbpf's own messages through log_print (debug only with -v). */
void log_hook_libbpf(void);

#define pr_warn(...)  log_print(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_print(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_print(LOG_DEBUG, __VA_ARGS__)

#endif
