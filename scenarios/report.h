/* A scenario run's report (scenarios/ only). */
#ifndef OLAB_SCN_REPORT_H
#define OLAB_SCN_REPORT_H
#include <stdio.h>
#include <jansson.h>
#include "results/results.h"
#include "scenarios/internal.h"

/* The report document; *failed: expectations that did not pass. */
json_t *scn_report(const struct scenario *s, const struct scn_results *r,
		   const struct scn_run_opts *o, int *failed);
void scn_report_results(const struct scenario *s, const struct scn_results *r,
			struct results *res);
void scn_report_print(json_t *rep, FILE *f, const char *dir);

#endif
