/* Internal to checks/: reading "phase: k=v; ..." texts and judging a
 * child's report (checks/verdict.c). */
#ifndef OLAB_CHECKS_VERDICT_H
#define OLAB_CHECKS_VERDICT_H
#include <stdbool.h>
#include <stddef.h>
#include "checks/check.h"

/* Find phase "name: ..." in s; its details into buf. */
bool check_phase_details(const char *s, const char *name, char *buf, size_t len);
/* Value of key in a "k=v k=v" details string, into buf ("" when absent). */
void check_detail_value(const char *details, const char *key, char *buf, size_t len);
/* The child's JSON report (text) into r: status, reason, observed, counters. */
void check_verdict_from_report(struct check_result *r, const char *text);

#endif
