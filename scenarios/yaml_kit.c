/* Reading scenario YAML nodes, each error one line naming field and line. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "scenarios/yaml_kit.h"

const char *yk_str(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *yk_get(struct ykit *y, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = yk_str(yaml_document_get_node(y->doc, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(y->doc, p->value);
	}
	return NULL;
}

int yk_len(const yaml_node_t *seq)
{
	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (int)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

yaml_node_t *yk_item(struct ykit *y, yaml_node_t *seq, int i)
{
	return yaml_document_get_node(y->doc, seq->data.sequence.items.start[i]);
}

int yk_need_map(struct ykit *y, yaml_node_t *n, const char *field)
{
	return n->type == YAML_MAPPING_NODE ? 0 : scn_error(y->s, yk_line(n), field, "want a mapping");
}

int yk_need_seq(struct ykit *y, yaml_node_t *n, const char *field)
{
	return n->type == YAML_SEQUENCE_NODE ? 0 : scn_error(y->s, yk_line(n), field, "want a list");
}

int yk_keys(struct ykit *y, yaml_node_t *map, const char *field, const char *const *allowed)
{
	if (yk_need_map(y, map, field))
		return -EINVAL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(y->doc, p->key);
		const char *k = yk_str(kn);
		bool ok = false;

		for (int i = 0; k && allowed[i]; i++)
			ok |= !strcmp(k, allowed[i]);
		if (!ok)
			return scn_error(y->s, yk_line(kn), field, "unknown key '%s'", k ? k : "?");
	}
	return 0;
}

static void fk(char *buf, size_t len, const char *field, const char *key)
{
	snprintf(buf, len, "%s%s%s", strcmp(field, "(top)") ? field : "",
		 strcmp(field, "(top)") ? "." : "", key);
}

int yk_opt_str(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char *out,
	       size_t len)
{
	yaml_node_t *n = yk_get(y, m, key);
	char f[256];

	if (!n)
		return 0;
	fk(f, sizeof(f), field, key);
	if (!yk_str(n))
		return scn_error(y->s, yk_line(n), f, "want a string");
	if (strlen(yk_str(n)) >= len)
		return scn_error(y->s, yk_line(n), f, "too long (at most %zu)", len - 1);
	snprintf(out, len, "%s", yk_str(n));
	return 0;
}

int yk_req_str(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char *out,
	       size_t len)
{
	char f[256];

	fk(f, sizeof(f), field, key);
	if (!yk_get(y, m, key))
		return scn_error(y->s, yk_line(m), f, "missing");
	return yk_opt_str(y, m, key, field, out, len);
}

int yk_num(struct ykit *y, yaml_node_t *m, const char *key, const char *field, double min,
	   double max, double *out)
{
	yaml_node_t *n = yk_get(y, m, key);
	const char *s = yk_str(n);
	char f[256], *end;
	double v;

	if (!n)
		return 0;
	fk(f, sizeof(f), field, key);
	errno = 0;
	v = s ? strtod(s, &end) : NAN;
	if (!s || !*s || *end || errno || !(v >= min && v <= max))
		return scn_error(y->s, yk_line(n), f, "want a number in [%g, %g], not '%s'", min, max,
				 s ? s : "(not a scalar)");
	*out = v;
	return 0;
}

int yk_int(struct ykit *y, yaml_node_t *m, const char *key, const char *field, long min,
	   long max, int *out)
{
	yaml_node_t *n = yk_get(y, m, key);
	const char *s = yk_str(n);
	char f[256], *end;
	long v;

	if (!n)
		return 0;
	fk(f, sizeof(f), field, key);
	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || *end || errno || v < min || v > max)
		return scn_error(y->s, yk_line(n), f, "want an integer in [%ld, %ld], not '%s'", min,
				 max, s ? s : "(not a scalar)");
	*out = (int)v;
	return 0;
}

int yk_bool(struct ykit *y, yaml_node_t *m, const char *key, const char *field, bool *out)
{
	yaml_node_t *n = yk_get(y, m, key);
	const char *s = yk_str(n);
	char f[256];

	if (!n)
		return 0;
	fk(f, sizeof(f), field, key);
	if (s && (!strcmp(s, "true") || !strcmp(s, "false"))) {
		*out = !strcmp(s, "true");
		return 0;
	}
	return scn_error(y->s, yk_line(n), f, "want true or false");
}

int yk_strv(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char **v,
	    int max, int *cnt)
{
	return yk_strv_empty(y, m, key, field, v, max, cnt, false);
}

int yk_strv_empty(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char **v,
		  int max, int *cnt, bool empty_ok)
{
	yaml_node_t *n = yk_get(y, m, key);
	char f[256];

	*cnt = 0;
	if (!n)
		return 0;
	fk(f, sizeof(f), field, key);
	if (n->type != YAML_SEQUENCE_NODE)
		return scn_error(y->s, yk_line(n), f, "want a list of strings");
	YK_FOREACH_ITEM(y, n, i, a) {
		if (!yk_str(a) || (!*yk_str(a) && (!empty_ok || !i)))
			return scn_error(y->s, yk_line(a), f, "item %d: want a%s string", i,
					 empty_ok && i ? "" : " non-empty");
		if (*cnt >= max)
			return scn_error(y->s, yk_line(a), f, "at most %d items", max);
		v[(*cnt)++] = strdup(yk_str(a));
	}
	return 0;
}

int yk_argv(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char **argv,
	    bool req)
{
	char f[256];
	int n;

	fk(f, sizeof(f), field, key);
	if (req && !yk_get(y, m, key))
		return scn_error(y->s, yk_line(m), f, "missing");
	/* "" is an argument (redis-server --save ""), but not a command */
	if (yk_strv_empty(y, m, key, field, argv, SCN_MAX_ARGS, &n, true))
		return -EINVAL;
	argv[n] = NULL;
	if (req && !n)
		return scn_error(y->s, yk_line(yk_get(y, m, key)), f, "empty command");
	return 0;
}

int yk_join(struct ykit *y, yaml_node_t *m, const char *key, const char *field, char *out,
	    size_t len)
{
	yaml_node_t *n = yk_get(y, m, key);
	char f[256];
	size_t used = 0;

	out[0] = '\0';
	if (!n)
		return 0;
	fk(f, sizeof(f), field, key);
	if (yk_str(n)) {
		snprintf(out, len, "%s", yk_str(n));
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return scn_error(y->s, yk_line(n), f, "want a string or a list");
	YK_FOREACH_ITEM(y, n, i, a) {
		if (!yk_str(a))
			return scn_error(y->s, yk_line(a), f, "want strings");
		used += snprintf(out + used, used < len ? len - used : 0, "%s%s", i ? "," : "",
				 yk_str(a));
	}
	return used < len ? 0 : scn_error(y->s, yk_line(n), f, "too long");
}

void yk_free_argv(char **argv)
{
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
}
