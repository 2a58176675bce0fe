/* Reading scenario YAML nodes with their lines (scenarios/ only). */
#ifndef OLAB_SCN_YAML_KIT_H
#define OLAB_SCN_YAML_KIT_H
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "scenarios/scenario.h"

struct ykit {
	struct scenario *s;
	yaml_document_t *doc;
};

static inline int yk_line(const yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 0; }
/* A scalar's text, NULL for maps and sequences. */
const char *yk_str(const yaml_node_t *n);
yaml_node_t *yk_get(struct ykit *y, yaml_node_t *map, const char *key);
yaml_node_t *yk_item(struct ykit *y, yaml_node_t *seq, int i);
int yk_len(const yaml_node_t *seq);
#define YK_FOREACH_ITEM(y, seq, i, m)                                                    \
	for (int i = 0; i < yk_len(seq); i++)                                             \
		for (yaml_node_t *m = yk_item(y, seq, i); m; m = NULL)

/* Errors go through scn_error: -EINVAL. */
int yk_need_map(struct ykit *y, yaml_node_t *n, const char *field);
int yk_need_seq(struct ykit *y, yaml_node_t *n, const char *field);
/* Every key of map is in allowed (NULL-ended). */
int yk_keys(struct ykit *y, yaml_node_t *map, const char *field, const char *const *allowed);
int yk_req_str(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char *out,
	       size_t len);
int yk_opt_str(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char *out,
	       size_t len);
/* Optional integer / number in [min, max]; *out unchanged when absent. */
int yk_int(struct ykit *y, yaml_node_t *m, const char *key, const char *field, long min,
	   long max, int *out);
int yk_num(struct ykit *y, yaml_node_t *m, const char *key, const char *field, double min,
	   double max, double *out);
int yk_bool(struct ykit *y, yaml_node_t *m, const char *key, const char *field, bool *out);
/* A list of strings into argv (malloc'd, NULL-ended); required when req. */
int yk_argv(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char **argv,
	    bool req);
int yk_strv(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char **v,
	    int max, int *n);
int yk_strv_empty(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char **v,
		  int max, int *n, bool empty_ok);
/* A string or list of strings, joined with ',' */
int yk_join(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char *out,
	    size_t len);
void yk_free_argv(char **argv);

/* Sections parsed beside their run-time code. */
int scn_parse_offloads(struct ykit *y, yaml_node_t *seq);
int scn_parse_clients(struct ykit *y, yaml_node_t *seq);

#endif
