/*
 * The clients section, and running every client of a trial at once: each
 * is a child of the run (netns/proc.h: in the manifest, killed at cleanup),
 * in its host's namespace, its stdout and stderr in the run's scratch dir.
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

static int parse_figures(struct ykit *y, yaml_node_t *seq, const char *f, struct scn_client *c)
{
	static const char *const keys[] = { "name", "regex", NULL };
	char ff[288], fr[320], err[128];

	YK_FOREACH_ITEM(y, seq, i, m) {
		struct scn_figure *fig = &c->figs[c->nfigs];
		char re[256];
		int rc;

		snprintf(ff, sizeof(ff), "%s.figures[%d]", f, i);
		if (c->nfigs >= SCN_MAX_FIGS)
			return scn_error(y->s, yk_line(m), ff, "at most %d", SCN_MAX_FIGS);
		if (yk_keys(y, m, ff, keys) ||
		    yk_req_str(y, m, "name", ff, fig->name, sizeof(fig->name)) ||
		    yk_req_str(y, m, "regex", ff, re, sizeof(re)))
			return -EINVAL;
		snprintf(fr, sizeof(fr), "%s.regex", ff);
		rc = regcomp(&fig->re, re, REG_EXTENDED | REG_NEWLINE);
		if (rc) {
			regerror(rc, &fig->re, err, sizeof(err));
			return scn_error(y->s, yk_line(yk_get(y, m, "regex")), fr, "%s", err);
		}
		fig->compiled = true;
		fig->regex = strdup(re);
		c->nfigs++;
		if (fig->re.re_nsub < 1)
			return scn_error(y->s, yk_line(yk_get(y, m, "regex")), fr,
					 "needs a group: the figure is its first group");
	}
	return 0;
}

static int parse_client(struct ykit *y, yaml_node_t *m, const char *f, struct scn_client *c)
{
	static const char *const keys[] = { "name", "host", "container", "command", "parser",
					    "figures", "may_fail", NULL };
	char name[SCN_NAME_LEN] = "", parser[32] = "", fk[288];
	yaml_node_t *figs;

	c->parser = -1;
	c->container = -1;
	if (yk_keys(y, m, f, keys) || yk_req_str(y, m, "name", f, c->name, sizeof(c->name)) ||
	    yk_argv(y, m, "command", f, c->argv, true) ||
	    yk_opt_str(y, m, "parser", f, parser, sizeof(parser)) ||
	    yk_bool(y, m, "may_fail", f, &c->may_fail) ||
	    yk_opt_str(y, m, "container", f, name, sizeof(name)))
		return -EINVAL;
	if (name[0]) {
		for (int i = 0; i < y->s->nctrs; i++)
			if (!strcmp(y->s->ctrs[i].name, name))
				c->container = i;
		snprintf(fk, sizeof(fk), "%s.container", f);
		if (c->container < 0)
			return scn_error(y->s, yk_line(yk_get(y, m, "container")), fk,
					 "no container named '%s'", name);
		c->host = y->s->ctrs[c->container].host;
	} else {
		yaml_node_t *h = yk_get(y, m, "host");

		snprintf(fk, sizeof(fk), "%s.host", f);
		if (!h)
			return scn_error(y->s, yk_line(m), fk, "missing (or container)");
		c->host = yk_str(h) ? scn_host_by_name(y->s, yk_str(h)) : -1;
		if (c->host < 0)
			return scn_error(y->s, yk_line(h), fk, "no host named '%s'", yk_str(h) ?: "");
	}
	snprintf(fk, sizeof(fk), "%s.parser", f);
	if (parser[0] && (c->parser = scn_parser_by_name(parser)) < 0)
		return scn_error(y->s, yk_line(yk_get(y, m, "parser")), fk,
				 "unknown parser '%s' (memcaslap, wrk, h2load, redis-benchmark)",
				 parser);
	figs = yk_get(y, m, "figures");
	snprintf(fk, sizeof(fk), "%s.figures", f);
	if (figs && (yk_need_seq(y, figs, fk) || parse_figures(y, figs, f, c)))
		return -EINVAL;
	if (c->parser < 0 && !c->nfigs)
		return scn_error(y->s, yk_line(m), fk, "give a parser or figures");
	c->line = yk_line(m);
	return 0;
}

int scn_parse_clients(struct ykit *y, yaml_node_t *seq)
{
	char f[48];

	YK_FOREACH_ITEM(y, seq, i, m) {
		snprintf(f, sizeof(f), "clients[%d]", i);
		if (y->s->nclients >= SCN_MAX_CLIENTS)
			return scn_error(y->s, yk_line(m), f, "at most %d clients", SCN_MAX_CLIENTS);
		if (parse_client(y, m, f, &y->s->clients[y->s->nclients]))
			return -EINVAL;
		for (int k = 0; k < y->s->nclients; k++)
			if (!strcmp(y->s->clients[k].name, y->s->clients[y->s->nclients].name))
				return scn_error(y->s, yk_line(m), f, "client name used twice");
		y->s->nclients++;
	}
	return 0;
}

/* ---- running ---- */

struct client_exec {
	char *argv[SCN_MAX_ARGS + 1];     /* malloc'd, freed by unexpand() */
	int out_fd;
	const char *cg;                   /* its host's cgroup (sockops), "" none */
};

/* {duration}: whole seconds (at least 1); {duration_ms}. */
static void expand(const struct scn_client *c, double duration, struct client_exec *x)
{
	x->argv[0] = NULL;
	for (int i = 0; c->argv[i]; i++) {
		const char *src = c->argv[i];
		/* a placeholder (10+ characters) never grows past 11 digits */
		char *dst = malloc(strlen(src) * 2 + 32);
		size_t n = 0;

		if (!dst)
			break;
		while (*src) {
			if (!strncmp(src, "{duration}", 10)) {
				n += (size_t)snprintf(dst + n, 24, "%d", (int)ceil(duration));
				src += 10;
			} else if (!strncmp(src, "{duration_ms}", 13)) {
				n += (size_t)snprintf(dst + n, 24, "%d", (int)(duration * 1000));
				src += 13;
			} else {
				dst[n++] = *src++;
			}
		}
		dst[n] = '\0';
		x->argv[i] = dst;
		x->argv[i + 1] = NULL;
	}
}

static void unexpand(struct client_exec *x)
{
	for (int i = 0; x->argv[i]; i++)
		free(x->argv[i]);
	x->argv[0] = NULL;
}

static int client_exec(void *arg)
{
	struct client_exec *x = arg;
	int null = open("/dev/null", O_RDONLY);
	char procs[SCN_PATH_LEN + 16];

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", x->cg);
	if (x->cg[0] && write_file(procs, "0"))
		return 126;

	dup2(null, 0);
	dup2(x->out_fd, 1);
	dup2(x->out_fd, 2);
	execvp(x->argv[0], x->argv);
	fprintf(stderr, "cannot run %s: %s\n", x->argv[0], strerror(errno));
	return 127;
}

static char *read_out(const char *path)
{
	char *buf = malloc(OUT_MAX);

	if (buf && read_file(path, buf, OUT_MAX) < 0)
		buf[0] = '\0';
	return buf;
}

static void client_done(const struct scn_client *c, const char *path, int st, json_t *trial)
{
	char *out = read_out(path);
	json_t *figs = out ? scn_client_figures(c, out) : json_object();

	json_object_set_new(json_object_get(trial, "clients"), c->name, figs);
	json_object_set_new(json_object_get(trial, "client_exit"), c->name, json_integer(st));
	if (st && out)
		pr_debug("scenario: client %s exit %d:\n%.2000s\n", c->name, st, out);
	free(out);
}

/* The last non-empty line of a client's output: why it failed. */
static void last_line(const char *path, char *buf, size_t len)
{
	char *out = read_out(path), *end, *start;

	buf[0] = '\0';
	if (!out)
		return;
	end = out + strlen(out);
	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(out, '\n');
	snprintf(buf, len, "%s", start ? start + 1 : out);
	free(out);
}

int scn_clients_run(struct scenario *s, double duration, const char *scratch, json_t *trial,
		    char *why, size_t len)
{
	static struct client_exec x[SCN_MAX_CLIENTS];
	struct proc p[SCN_MAX_CLIENTS] = { 0 };
	char path[SCN_MAX_CLIENTS][SCN_PATH_LEN + 64];
	int st[SCN_MAX_CLIENTS], err = 0, trial_no = (int)json_integer_value(
		json_object_get(trial, "trial"));

	json_object_set_new(trial, "clients", json_object());
	json_object_set_new(trial, "client_exit", json_object());
	for (int i = 0; i < s->nclients; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/trial%d-%s.out", scratch, trial_no,
			 s->clients[i].name);
		expand(&s->clients[i], duration, &x[i]);
		x[i].cg = s->hosts[s->clients[i].host].cg;
		x[i].out_fd = open(path[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		st[i] = x[i].out_fd < 0 ? -errno :
			proc_spawn(&p[i], &s->hosts[s->clients[i].host].ns, -1, client_exec, &x[i]);
		close_fd(x[i].out_fd);
		if (st[i] < 0) {
			snprintf(why, len, "cannot start client %s: %s", s->clients[i].name,
				 strerror(-st[i]));
			err = st[i];
		}
	}
	for (int i = 0; i < s->nclients; i++) {
		if (st[i] < 0) {
			unexpand(&x[i]);
			continue;
		}
		st[i] = proc_wait(&p[i], (int)(duration * 1000) + CLIENT_GRACE_MS);
		if (st[i] == -ETIMEDOUT)
			proc_kill(&p[i]);
		client_done(&s->clients[i], path[i], st[i], trial);
		unexpand(&x[i]);
		if (st[i] && !s->clients[i].may_fail && !err) {
			char tail[160];

			last_line(path[i], tail, sizeof(tail));
			snprintf(why, len, "client %s %s %d: %s", s->clients[i].name,
				 st[i] < 0 ? "failed:" : "exited with", st[i], tail);
			err = -ECHILD;
		}
	}
	return err;
}
