/*
 * Expectations: "REF OP NUMBER" or "ratio(REF, REF) OP NUMBER", where REF is
 *   client.C.FIGURE.{none|offload|ratio}   median per arm / of paired ratios
 *   counter.O.VAR.ARM                      global variable, summed over the arm
 *   map.O.MAP[KEY].ARM                     KEY: N, ipv4:A.B.C.D, hex:..
 *   program.O.PROG.{runs|run_time_ns}.ARM  bpf_stats
 *   nft.HOST.TABLE.COUNTER.ARM             named nft counter, packets
 * Counters are deltas over each trial, summed over the arm's trials; ".ratio"
 * on them is offload / none.  Also the {u32|u64|ipv4|lpm4|hex} encodings.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/stats.h"
#include "scenarios/internal.h"

static int hex_bytes(const char *t, struct scn_bytes *out)
{
	size_t n = strlen(t);

	if (!n || n % 2 || n / 2 > sizeof(out->b) || strspn(t, "0123456789abcdefABCDEF") != n)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		sscanf(t + 2 * i, "%2x", &v);
		out->b[i] = (uint8_t)v;
	}
	out->len = n / 2;
	return 0;
}

int scn_bytes_parse(const char *kind, const char *text, struct scn_bytes *out, char *why,
		    size_t len)
{
	char *end, addr[32];
	unsigned long long v;
	const char *slash;
	struct in_addr a;

	memset(out, 0, sizeof(*out));
	if (!strcmp(kind, "u32") || !strcmp(kind, "u64")) {
		errno = 0;
		v = strtoull(text, &end, 0);
		out->len = kind[1] == '3' ? 4 : 8;
		if (errno || *end || !*text || text[0] == '-' || (out->len == 4 && v > UINT32_MAX)) {
			snprintf(why, len, "'%s' is not a %s", text, kind);
			return -EINVAL;
		}
		memcpy(out->b, &v, out->len);    /* little endian, as the BPF side */
		return 0;
	}
	if (!strcmp(kind, "ipv4") || !strcmp(kind, "lpm4")) {
		slash = strchr(text, '/');
		snprintf(addr, sizeof(addr), "%.*s", slash ? (int)(slash - text) : 31, text);
		v = slash ? strtoull(slash + 1, &end, 10) : 0;
		if (!inet_pton(AF_INET, addr, &a) || (kind[0] == 'l') != !!slash ||
		    (slash && (*end || !slash[1] || v > 32))) {
			snprintf(why, len, "'%s' is not %s", text,
				 kind[0] == 'l' ? "A.B.C.D/N" : "A.B.C.D");
			return -EINVAL;
		}
		if (kind[0] == 'l') {
			uint32_t plen = (uint32_t)v;

			memcpy(out->b, &plen, 4);
			memcpy(out->b + 4, &a, 4);
			out->len = 8;
		} else {
			memcpy(out->b, &a, 4);
			out->len = 4;
		}
		return 0;
	}
	if (!strcmp(kind, "hex")) {
		if (hex_bytes(text, out)) {
			snprintf(why, len, "'%s' is not an even number of hex digits (at most 128)",
				 text);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(why, len, "unknown encoding '%s' (u32, u64, ipv4, lpm4, hex)", kind);
	return -EINVAL;
}

/* ---- parsing ---- */

/* Split REF on dots outside brackets: up to max segments. */
static int split_ref(char *t, char **seg, int max)
{
	int n = 0, depth = 0;

	seg[n++] = t;
	for (char *p = t; *p; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if (*p == '.' && !depth) {
			if (n >= max)
				return -1;
			*p = '\0';
			seg[n++] = p + 1;
		}
	}
	return depth ? -1 : n;
}

static int parse_stat(const char *t, bool ratio_ok, enum scn_stat *st)
{
	if (!strcmp(t, "none"))
		*st = STAT_NONE;
	else if (!strcmp(t, "offload"))
		*st = STAT_OFFLOAD;
	else if (ratio_ok && !strcmp(t, "ratio"))
		*st = STAT_RATIO;
	else
		return -1;
	return 0;
}

/* "M[KEY]" into r->b and r->key. */
static int parse_map_key(char *t, struct scn_ref *r, char *why, size_t len)
{
	char *open = strchr(t, '['), *close = strrchr(t, ']'), *colon;

	if (!open || !close || close[1] || close < open) {
		snprintf(why, len, "want map.O.MAP[KEY].ARM");
		return -1;
	}
	*open = *close = '\0';
	snprintf(r->b, sizeof(r->b), "%s", t);
	colon = strchr(open + 1, ':');
	if (colon) {
		*colon = '\0';
		if (scn_bytes_parse(open + 1, colon + 1, &r->key, why, len))
			return -1;
	} else if (scn_bytes_parse("u32", open + 1, &r->key, why, len)) {
		return -1;
	}
	r->has_key = true;
	return 0;
}

static int parse_ref(const char *text, struct scn_ref *r, char *why, size_t len)
{
	static const char *const srcs[] = { "client", "counter", "map", "program", "nft" };
	static const int nseg[] = { 4, 4, 4, 5, 5 };
	char buf[256], *seg[6];
	int n, src = -1;

	memset(r, 0, sizeof(*r));
	snprintf(buf, sizeof(buf), "%s", text);
	n = split_ref(buf, seg, 6);
	for (int i = 0; n > 0 && i < 5; i++)
		if (!strcmp(seg[0], srcs[i]))
			src = i;
	if (src < 0) {
		snprintf(why, len, "'%s': want client., counter., map., program. or nft.", text);
		return -1;
	}
	if (n != nseg[src]) {
		snprintf(why, len, "'%s': %s references have %d parts", text, srcs[src], nseg[src]);
		return -1;
	}
	r->src = (enum scn_src)src;
	snprintf(r->a, sizeof(r->a), "%s", seg[1]);
	if (r->src == SRC_MAP) {
		if (parse_map_key(seg[2], r, why, len))
			return -1;
	} else {
		snprintf(r->b, sizeof(r->b), "%s", seg[2]);
	}
	if (r->src == SRC_PROGRAM) {
		if (strcmp(seg[3], "runs") && strcmp(seg[3], "run_time_ns")) {
			snprintf(why, len, "'%s': want .runs or .run_time_ns", text);
			return -1;
		}
		snprintf(r->field, sizeof(r->field), "%s", seg[3]);
	} else if (r->src == SRC_NFT) {
		snprintf(r->c, sizeof(r->c), "%s", seg[3]);
	}
	if (parse_stat(seg[n - 1], true, &r->stat)) {
		snprintf(why, len, "'%s': want .none, .offload or .ratio at the end", text);
		return -1;
	}
	return 0;
}

static const char *const op_text[] = { ">", ">=", "<", "<=", "==", "!=" };

/* The operator outside brackets and parentheses: its position and kind. */
static char *find_op(char *t, enum scn_op *op)
{
	int depth = 0;

	for (char *p = t; *p; p++) {
		if (*p == '[' || *p == '(')
			depth++;
		else if (*p == ']' || *p == ')')
			depth--;
		else if (!depth && strchr("<>=!", *p)) {
			bool eq = p[1] == '=';

			if (*p == '>')
				*op = eq ? OP_GE : OP_GT;
			else if (*p == '<')
				*op = eq ? OP_LE : OP_LT;
			else if (eq)
				*op = *p == '=' ? OP_EQ : OP_NE;
			else
				return NULL;
			return p;
		}
	}
	return NULL;
}

static char *trim(char *t)
{
	char *e;

	while (isspace((unsigned char)*t))
		t++;
	e = t + strlen(t);
	while (e > t && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return t;
}

int scn_expect_parse(struct scenario *s, struct scn_expect *e)
{
	char buf[256], why[640], f[256], *op, *lhs, *num, *end;

	snprintf(f, sizeof(f), "expect[%d]", (int)(e - s->expect));
	snprintf(buf, sizeof(buf), "%s", e->text);
	op = find_op(buf, &e->op);
	if (!op)
		return scn_error(s, e->line, f, "'%s': want REF OP NUMBER (OP: > >= < <= == !=)",
				 e->text);
	num = trim(op + strlen(op_text[e->op]));
	*op = '\0';
	lhs = trim(buf);
	errno = 0;
	e->number = strtod(num, &end);
	if (!*num || *end || errno || !isfinite(e->number))
		return scn_error(s, e->line, f, "'%s': '%s' is not a number", e->text, num);
	if (!strncmp(lhs, "ratio(", 6) && lhs[strlen(lhs) - 1] == ')') {
		char *comma = strchr(lhs, ',');

		lhs[strlen(lhs) - 1] = '\0';
		if (!comma)
			return scn_error(s, e->line, f, "'%s': want ratio(REF, REF)", e->text);
		*comma = '\0';
		e->is_ratio = true;
		if (parse_ref(trim(comma + 1), &e->rhs, why, sizeof(why)))
			return scn_error(s, e->line, f, "%s", why);
		lhs = trim(lhs + 6);
	}
	if (parse_ref(lhs, &e->lhs, why, sizeof(why)))
		return scn_error(s, e->line, f, "%s", why);
	return 0;
}

/* ---- evaluation ---- */

static const char *arm_name(enum scn_stat st)
{
	return st == STAT_OFFLOAD ? "offload" : "none";
}

void scn_ref_value_key(const struct scn_ref *r, char *buf, size_t len)
{
	switch (r->src) {
	case SRC_COUNTER:
		snprintf(buf, len, "counter.%s.%s", r->a, r->b);
		break;
	case SRC_MAP:
		scn_map_ref_key(r, buf, len);
		break;
	case SRC_PROGRAM:
		snprintf(buf, len, "program.%s.%s.%s", r->a, r->b, r->field);
		break;
	case SRC_NFT:
		snprintf(buf, len, "nft.%s.%s.%s", r->a, r->b, r->c);
		break;
	default:
		snprintf(buf, len, "%s", r->b);
	}
}

/* The per-trial values of r in arm (STAT_NONE / STAT_OFFLOAD): count. */
int scn_series(const struct scn_results *res, const struct scn_ref *r, enum scn_stat arm,
	       double *out, int max)
{
	char key[256];
	json_t *t;
	size_t i;
	int n = 0;

	scn_ref_value_key(r, key, sizeof(key));
	json_array_foreach(res->trials, i, t) {
		json_t *v;

		if (strcmp(json_string_value(json_object_get(t, "arm")) ?: "", arm_name(arm)))
			continue;
		v = r->src == SRC_CLIENT ?
			json_object_get(json_object_get(json_object_get(t, "clients"), r->a), key) :
			json_object_get(json_object_get(t, "values"), key);
		if (json_is_number(v) && n < max)
			out[n++] = json_number_value(v);
	}
	return n;
}

/* Paired offload / none ratios of a client figure. */
int scn_paired_ratios(const struct scn_results *res, const struct scn_ref *r, double *out,
		      int max)
{
	double none[SCN_MAX_TRIALS], off[SCN_MAX_TRIALS];
	int nn = scn_series(res, r, STAT_NONE, none, SCN_MAX_TRIALS);
	int no = scn_series(res, r, STAT_OFFLOAD, off, SCN_MAX_TRIALS), n = 0;

	for (int i = 0; i < nn && i < no && n < max; i++)
		if (none[i] != 0)
			out[n++] = off[i] / none[i];
	return n;
}

static bool ref_value(const struct scn_results *res, const struct scn_ref *r, double *v,
		      char *why, size_t len)
{
	double x[SCN_MAX_TRIALS], a = 0, b = 0;
	struct summary s;
	int n;

	if (r->src == SRC_CLIENT) {
		n = r->stat == STAT_RATIO ? scn_paired_ratios(res, r, x, SCN_MAX_TRIALS) :
					    scn_series(res, r, r->stat, x, SCN_MAX_TRIALS);
		if (!n || summarize(x, n, &s)) {
			snprintf(why, len, "client %s gave no figure %s", r->a, r->b);
			return false;
		}
		*v = s.median;
		return true;
	}
	for (int arm = 0; arm < 2; arm++) {
		double *acc = arm ? &b : &a;

		n = scn_series(res, r, arm ? STAT_OFFLOAD : STAT_NONE, x, SCN_MAX_TRIALS);
		if (!n && (r->stat == STAT_RATIO || (arm == 1) == (r->stat == STAT_OFFLOAD))) {
			snprintf(why, len, "no value was read");
			return false;
		}
		for (int i = 0; i < n; i++)
			*acc += x[i];
	}
	if (r->stat == STAT_RATIO && a == 0) {
		snprintf(why, len, "ratio over a zero none arm");
		return false;
	}
	*v = r->stat == STAT_RATIO ? b / a : r->stat == STAT_OFFLOAD ? b : a;
	return true;
}

bool scn_expect_eval(const struct scenario *s, const struct scn_results *r,
		     const struct scn_expect *e, double *value, bool *pass, char *why, size_t len)
{
	double a, b;

	*pass = false;
	if (!ref_value(r, &e->lhs, &a, why, len))
		return false;
	if (e->is_ratio) {
		if (!ref_value(r, &e->rhs, &b, why, len))
			return false;
		if (b == 0) {
			snprintf(why, len, "ratio over zero");
			return false;
		}
		a /= b;
	}
	*value = a;
	switch (e->op) {
	case OP_GT: *pass = a > e->number; break;
	case OP_GE: *pass = a >= e->number; break;
	case OP_LT: *pass = a < e->number; break;
	case OP_LE: *pass = a <= e->number; break;
	case OP_EQ: *pass = a == e->number; break;
	case OP_NE: *pass = a != e->number; break;
	}
	return true;
}
