/*
 * Clients: real load generators run in a host's namespace for a trial, all
 * at once; their own output gives the figures, through a built-in parser
 * (memcaslap, wrk, h2load, redis-benchmark) and/or the file's regexes (the
 * first group of the last match, as a number).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/util.h"
#include "netns/proc.h"
#include "scenarios/internal.h"
#include "scenarios/yaml_kit.h"

#define CLIENT_GRACE_MS 15000
#define OUT_MAX (1 << 20)

/* ---- parsers ---- */

/* The number after the last occurrence of label in out; false if none. */
static bool after(const char *out, const char *label, double *v)
{
	const char *p = NULL, *q = out;
	char *end;

	while ((q = strstr(q, label)))
		p = q++;
	if (!p)
		return false;
	*v = strtod(p + strlen(label), &end);
	return end != p + strlen(label);
}

static void put(json_t *f, const char *name, double v)
{
	json_object_set_new(f, name, json_real(v));
}

/* A duration with its unit ("1.23ms", "456us", "2.1s") in microseconds. */
static bool unit_us(const char *s, double *us)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return false;
	*us = !strncmp(end, "us", 2) ? v : !strncmp(end, "ms", 2) ? v * 1e3 :
	      !strncmp(end, "s", 1) ? v * 1e6 : v;
	return true;
}

static bool after_us(const char *out, const char *label, double *us)
{
	const char *p = strstr(out, label);

	return p && unit_us(p + strlen(label), us);
}

/* memcaslap: "Run time: 1.0s Ops: 62942 TPS: 62929", cmd_get:, get_misses:,
 * and with -S the "Get/Set/Total Statistics" blocks' "Avg:" (us). */
static void parse_memcaslap(const char *out, json_t *f)
{
	double v, t = 0;
	const char *blk;

	if (after(out, "Ops: ", &v))
		put(f, "ops", v);
	if (after(out, "TPS: ", &v))
		put(f, "ops_per_s", v);
	if (after(out, "Run time: ", &t) && t > 0 && after(out, "cmd_get: ", &v))
		put(f, "get_ops_per_s", v / t);
	if (after(out, "cmd_get: ", &v))
		put(f, "get_ops", v);
	if (after(out, "cmd_set: ", &v))
		put(f, "set_ops", v);
	if (after(out, "get_misses: ", &v))
		put(f, "get_misses", v);
	if (after(out, "udp_timeout: ", &v))
		put(f, "udp_timeouts", v);
	if (after(out, "packet_drop: ", &v))
		put(f, "packet_drops", v);
	if ((blk = strstr(out, "Get Statistics (")) && after(blk, "Avg:", &v))
		put(f, "get_latency_avg_us", v);
	if ((blk = strstr(out, "Set Statistics (")) && after(blk, "Avg:", &v))
		put(f, "set_latency_avg_us", v);
	if ((blk = strstr(out, "Total Statistics (")) && after(blk, "Avg:", &v))
		put(f, "latency_avg_us", v);
}

/* wrk: "Requests/sec: N", "N requests in", "Latency  1.23ms ..." */
static void parse_wrk(const char *out, json_t *f)
{
	const char *p;
	double v;

	if (after(out, "Requests/sec:", &v))
		put(f, "requests_per_s", v);
	p = strstr(out, " requests in ");
	if (p) {
		while (p > out && p[-1] != '\n' && p[-1] != ' ')
			p--;
		put(f, "requests", strtod(p, NULL));
	}
	if (after_us(out, "Latency", &v) || after_us(out, "Latency ", &v))
		put(f, "latency_avg_us", v);
	/* wrk prints these lines only when not zero: non-2xx responses and
	 * socket errors (connect, read, write, timeout) */
	p = strstr(out, "Socket errors:");
	{
		double errs = after(out, "Non-2xx or 3xx responses:", &v) ? v : 0;
		double c = 0, r = 0, w = 0, t = 0;

		if (p && sscanf(p, "Socket errors: connect %lf, read %lf, write %lf, timeout %lf",
				&c, &r, &w, &t) == 4)
			errs += c + r + w + t;
		if (strstr(out, "Requests/sec:"))
			put(f, "errors", errs);
	}
}

/* h2load: "finished in 1.00s, 123.00 req/s", "requests: N total, N started,
 * N done, N succeeded, N failed", "time for request: min max mean ...". */
static void parse_h2load(const char *out, json_t *f)
{
	const char *p = strstr(out, "finished in ");
	double v;

	if (p && (p = strchr(p, ',')))
		put(f, "requests_per_s", strtod(p + 1, NULL));
	if (after(out, "started, ", &v))
		put(f, "requests", v);
	if (after(out, "done, ", &v))
		put(f, "succeeded", v);
	if (after(out, "succeeded, ", &v))
		put(f, "failed", v);
	p = strstr(out, "time for request:");
	if (p) {
		char a[32], b[32], c[32];

		if (sscanf(p + 17, "%31s %31s %31s", a, b, c) == 3 && unit_us(c, &v))
			put(f, "latency_avg_us", v);
	}
}

/* redis-benchmark --csv ("SET","12345.68","0.123",...) or -q ("SET:
 * 12345.68 requests per second"): <test>_requests_per_s, and the first
 * test's as requests_per_s and latency_avg_us. */
static void parse_redis(const char *out, json_t *f)
{
	char line[512], name[64], key[96];
	const char *p = out;
	bool first = true;

	while (*p) {
		size_t n = strcspn(p, "\n");
		double rps = 0, lat = -1;

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), p);
		p += n + (p[n] == '\n');
		if (sscanf(line, "\"%63[^\"]\",\"%lf\",\"%lf\"", name, &rps, &lat) < 2 &&
		    sscanf(line, "%63[^:]: %lf requests per second", name, &rps) < 2)
			continue;
		for (char *c = name; *c; c++)
			*c = *c == ' ' ? '_' : (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
		snprintf(key, sizeof(key), "%s_requests_per_s", name);
		put(f, key, rps);
		if (first) {
			put(f, "requests_per_s", rps);
			if (lat >= 0)
				put(f, "latency_avg_us", lat * 1000);
			first = false;
		}
	}
}

static const struct {
	const char *name;
	void (*fn)(const char *out, json_t *f);
	const char *figures;      /* " a b c ": what scenario check accepts */
} parsers[] = {
	{ "memcaslap", parse_memcaslap, " ops ops_per_s get_ops_per_s get_ops set_ops get_misses "
	  "udp_timeouts packet_drops get_latency_avg_us set_latency_avg_us latency_avg_us " },
	{ "wrk", parse_wrk, " requests_per_s requests latency_avg_us errors " },
	{ "h2load", parse_h2load, " requests_per_s requests succeeded failed latency_avg_us " },
	{ "redis-benchmark", parse_redis, " requests_per_s latency_avg_us *_requests_per_s " },
};
#define NPARSERS (int)(sizeof(parsers) / sizeof(parsers[0]))

int scn_parser_by_name(const char *name)
{
	for (int i = 0; i < NPARSERS; i++)
		if (!strcmp(parsers[i].name, name))
			return i;
	return -1;
}

const char *scn_parser_name(int idx)
{
	return idx >= 0 && idx < NPARSERS ? parsers[idx].name : "regex";
}

bool scn_client_has_figure(const struct scn_client *c, const char *fig)
{
	char pat[SCN_NAME_LEN + 3];
	size_t n = strlen(fig);

	for (int i = 0; i < c->nfigs; i++)
		if (!strcmp(c->figs[i].name, fig))
			return true;
	if (c->parser < 0)
		return false;
	snprintf(pat, sizeof(pat), " %s ", fig);
	if (strstr(parsers[c->parser].figures, pat))
		return true;
	n = strlen("_requests_per_s");
	return strstr(parsers[c->parser].figures, "*_requests_per_s") && strlen(fig) > n &&
	       !strcmp(fig + strlen(fig) - n, "_requests_per_s");
}

json_t *scn_client_figures(const struct scn_client *c, const char *out)
{
	json_t *f = json_object();

	if (c->parser >= 0)
		parsers[c->parser].fn(out, f);
	for (int i = 0; i < c->nfigs; i++) {
		regmatch_t m[2];
		const char *p = out;
		double v = NAN;

		while (!regexec(&c->figs[i].re, p, 2, m, p == out ? 0 : REG_NOTBOL) &&
		       m[1].rm_so >= 0) {
			v = strtod(p + m[1].rm_so, NULL);
			p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
			if (!*p)
				break;
		}
		if (!isnan(v))
			put(f, c->figs[i].name, v);
	}
	return f;
}
