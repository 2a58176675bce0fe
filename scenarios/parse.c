/*
 * Scenario files: YAML read with libyaml's document API (every node keeps
 * its line), checked key by key.  The first problem is printed as one line
 * "FILE:LINE: field: problem"; nothing is created while reading.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include <bpf/libbpf.h>
#include "lib/util.h"
#include "containers/container.h"
#include "scenarios/internal.h"
#include "scenarios/yaml_kit.h"

static bool reported;

int scn_error(const struct scenario *s, int line, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (reported)
		return -EINVAL;
	reported = true;
	fprintf(stderr, "%s:%d: %s: ", s->path, line, field);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

int scn_host_by_name(const struct scenario *s, const char *name)
{
	for (int i = 0; i < s->nhosts; i++)
		if (!strcmp(s->hosts[i].name, name))
			return i;
	return -1;
}

static bool name_ok(const char *n)
{
	size_t len = strlen(n);

	return len && len < SCN_NAME_LEN && n[0] != '-' &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/* A required [a-z0-9-] name. */
static int get_name(struct ykit *y, yaml_node_t *m, const char *field, char *out)
{
	char f[256];
	yaml_node_t *n;

	snprintf(f, sizeof(f), "%s.name", field);
	n = yk_get(y, m, "name");
	if (!n)
		return scn_error(y->s, yk_line(m), f, "missing");
	if (!yk_str(n) || !name_ok(yk_str(n)))
		return scn_error(y->s, yk_line(n), f, "want [a-z0-9-]+, at most %d characters",
				 SCN_NAME_LEN - 1);
	snprintf(out, SCN_NAME_LEN, "%s", yk_str(n));
	return 0;
}

/* host: NAME (must be a declared host). */
static int get_host(struct ykit *y, yaml_node_t *m, const char *key, const char *field, int *out)
{
	char f[256];
	yaml_node_t *n = yk_get(y, m, key);

	snprintf(f, sizeof(f), "%s.%s", field, key);
	if (!n)
		return scn_error(y->s, yk_line(m), f, "missing");
	*out = yk_str(n) ? scn_host_by_name(y->s, yk_str(n)) : -1;
	if (*out < 0)
		return scn_error(y->s, yk_line(n), f, "no host named '%s'", yk_str(n) ?: "");
	return 0;
}

static int parse_hosts(struct ykit *y, yaml_node_t *seq)
{
	static const char *const keys[] = { "name", "rx_cpu", NULL };
	char f[48];

	YK_FOREACH_ITEM(y, seq, i, m) {
		struct scn_host *h;

		snprintf(f, sizeof(f), "hosts[%d]", i);
		if (y->s->nhosts >= SCN_MAX_HOSTS)
			return scn_error(y->s, yk_line(m), f, "at most %d hosts", SCN_MAX_HOSTS);
		h = &y->s->hosts[y->s->nhosts];
		h->rx_cpu = -1;
		if (yk_keys(y, m, f, keys) || get_name(y, m, f, h->name))
			return -EINVAL;
		if (scn_host_by_name(y->s, h->name) >= 0)
			return scn_error(y->s, yk_line(m), f, "host '%s' declared twice", h->name);
		if (yk_int(y, m, "rx_cpu", f, 0, cpu_count() - 1, &h->rx_cpu))
			return -EINVAL;
		h->line = yk_line(m);
		y->s->nhosts++;
	}
	return 0;
}

static int parse_end(struct ykit *y, yaml_node_t *m, const char *field, struct scn_end *e)
{
	static const char *const keys[] = { "host", "ifname", "addr", NULL };
	char f[256], why[640];
	yaml_node_t *addr;

	if (yk_keys(y, m, field, keys) || get_host(y, m, "host", field, &e->host) ||
	    yk_req_str(y, m, "ifname", field, e->ifname, sizeof(e->ifname)))
		return -EINVAL;
	e->line = yk_line(m);
	addr = yk_get(y, m, "addr");
	if (!addr)
		return 0;
	snprintf(f, sizeof(f), "%s.addr", field);
	if (addr->type == YAML_SCALAR_NODE) {
		snprintf(e->addr[0], sizeof(e->addr[0]), "%s", yk_str(addr));
		e->naddr = 1;
	} else {
		YK_FOREACH_ITEM(y, addr, i, a) {
			if (!yk_str(a) || e->naddr >= SCN_MAX_ADDRS)
				return scn_error(y->s, yk_line(a), f, "want up to %d addresses",
						 SCN_MAX_ADDRS);
			snprintf(e->addr[e->naddr++], sizeof(e->addr[0]), "%s", yk_str(a));
		}
	}
	for (int i = 0; i < e->naddr; i++)
		if (!scn_addr_ok(e->addr[i], why, sizeof(why)))
			return scn_error(y->s, yk_line(addr), f, "%s: %s", e->addr[i], why);
	return 0;
}

static int parse_links(struct ykit *y, yaml_node_t *seq)
{
	static const char *const keys[] = { "a", "b", NULL };
	char f[48], fa[64], fb[64];

	YK_FOREACH_ITEM(y, seq, i, m) {
		struct scn_link *l;
		yaml_node_t *a, *b;

		snprintf(f, sizeof(f), "links[%d]", i);
		if (y->s->nlinks >= SCN_MAX_LINKS)
			return scn_error(y->s, yk_line(m), f, "at most %d links", SCN_MAX_LINKS);
		l = &y->s->links[y->s->nlinks];
		if (yk_keys(y, m, f, keys))
			return -EINVAL;
		a = yk_get(y, m, "a");
		b = yk_get(y, m, "b");
		snprintf(fa, sizeof(fa), "%s.a", f);
		snprintf(fb, sizeof(fb), "%s.b", f);
		if (!a || !b)
			return scn_error(y->s, yk_line(m), a ? fb : fa, "missing");
		if (yk_need_map(y, a, fa) || yk_need_map(y, b, fb) ||
		    parse_end(y, a, fa, &l->a) || parse_end(y, b, fb, &l->b))
			return -EINVAL;
		if (l->a.host == l->b.host)
			return scn_error(y->s, yk_line(m), f, "both ends in host '%s'",
					 y->s->hosts[l->a.host].name);
		l->line = yk_line(m);
		y->s->nlinks++;
	}
	return 0;
}

static int parse_ready(struct ykit *y, yaml_node_t *m, const char *field, struct scn_container *c)
{
	static const char *const keys[] = { "tcp", "udp", "delay", "timeout", NULL };
	yaml_node_t *n;
	char f[48];
	double d = 10;

	snprintf(f, sizeof(f), "%s.ready", field);
	if (yk_need_map(y, m, f) || yk_keys(y, m, f, keys))
		return -EINVAL;
	if ((n = yk_get(y, m, "tcp")) || (n = yk_get(y, m, "udp"))) {
		c->ready = yk_get(y, m, "tcp") ? READY_TCP : READY_UDP;
		if (!yk_str(n) || !strchr(yk_str(n), ':'))
			return scn_error(y->s, yk_line(n), f, "want \"ADDR:PORT\"");
		snprintf(c->ready_addr, sizeof(c->ready_addr), "%s", yk_str(n));
		if (yk_num(y, m, "timeout", f, 0.1, 120, &d))
			return -EINVAL;
		c->ready_s = d;
	} else if (yk_get(y, m, "delay")) {
		c->ready = READY_DELAY;
		if (yk_num(y, m, "delay", f, 0, 60, &c->ready_s))
			return -EINVAL;
	} else {
		return scn_error(y->s, yk_line(m), f, "want tcp, udp or delay");
	}
	return 0;
}

/* files: ["SRC:/DST"], SRC relative to the file; writable: ["/DIR"]. */
static int check_files(struct ykit *y, yaml_node_t *m, const char *f, struct scn_container *c)
{
	char fk[96], path[SCN_PATH_LEN], *colon;

	snprintf(fk, sizeof(fk), "%s.files", f);
	for (int i = 0; i < c->nfiles; i++) {
		colon = strchr(c->files[i], ':');
		if (!colon || colon[1] != '/')
			return scn_error(y->s, yk_line(yk_get(y, m, "files")), fk,
					 "'%s': want SRC:/DST", c->files[i]);
		*colon = '\0';
		if (scn_resolve(y->s, c->files[i], false, path, sizeof(path)))
			return scn_error(y->s, yk_line(yk_get(y, m, "files")), fk,
					 "no such file: %s", c->files[i]);
		*colon = ':';
		if (asprintf(&colon, "%s%s", path, strchr(c->files[i], ':')) < 0)
			return -ENOMEM;
		free(c->files[i]);
		c->files[i] = colon;
	}
	snprintf(fk, sizeof(fk), "%s.writable", f);
	for (int i = 0; i < c->nwritable; i++)
		if (c->writable[i][0] != '/')
			return scn_error(y->s, yk_line(yk_get(y, m, "writable")), fk,
					 "'%s': want an absolute directory", c->writable[i]);
	return 0;
}

static int parse_container(struct ykit *y, yaml_node_t *m, const char *f, struct scn_container *c)
{
	static const char *const keys[] = { "name", "host", "cpu", "packages", "rootfs", "image",
					    "command", "caps", "ready", "files", "writable", NULL };
	char fk[256], why[640], caps[256] = "";
	yaml_node_t *n;
	int kinds;

	c->cpu = -1;
	if (yk_keys(y, m, f, keys) || get_name(y, m, f, c->name) ||
	    get_host(y, m, "host", f, &c->host) || yk_int(y, m, "cpu", f, 0, cpu_count() - 1, &c->cpu) ||
	    yk_argv(y, m, "command", f, c->argv, true) ||
	    yk_strv(y, m, "packages", f, c->pkgs, SCN_MAX_PKGS, &c->npkgs) ||
	    yk_opt_str(y, m, "rootfs", f, c->rootfs, sizeof(c->rootfs)) ||
	    yk_opt_str(y, m, "image", f, c->image, sizeof(c->image)) ||
	    yk_join(y, m, "caps", f, caps, sizeof(caps)) ||
	    yk_strv(y, m, "files", f, c->files, SCN_MAX_PKGS, &c->nfiles) ||
	    yk_strv(y, m, "writable", f, c->writable, SCN_MAX_PKGS, &c->nwritable) ||
	    check_files(y, m, f, c))
		return -EINVAL;
	c->pkgs_line = yk_line(yk_get(y, m, "packages"));
	kinds = (c->npkgs > 0) + !!c->rootfs[0] + !!c->image[0];
	if (kinds != 1)
		return scn_error(y->s, yk_line(m), f, "give exactly one of packages, rootfs, image");
	if (ctr_caps_parse(caps[0] ? caps : "none", &c->caps, why, sizeof(why))) {
		snprintf(fk, sizeof(fk), "%s.caps", f);
		return scn_error(y->s, yk_line(yk_get(y, m, "caps")), fk, "%s", why);
	}
	n = yk_get(y, m, "ready");
	if (n && parse_ready(y, n, f, c))
		return -EINVAL;
	c->line = yk_line(m);
	return 0;
}

static int parse_containers(struct ykit *y, yaml_node_t *seq)
{
	char f[48];

	YK_FOREACH_ITEM(y, seq, i, m) {
		snprintf(f, sizeof(f), "containers[%d]", i);
		if (y->s->nctrs >= SCN_MAX_CTRS)
			return scn_error(y->s, yk_line(m), f, "at most %d containers", SCN_MAX_CTRS);
		if (parse_container(y, m, f, &y->s->ctrs[y->s->nctrs]))
			return -EINVAL;
		for (int k = 0; k < y->s->nctrs; k++)
			if (!strcmp(y->s->ctrs[k].name, y->s->ctrs[y->s->nctrs].name))
				return scn_error(y->s, yk_line(m), f, "container name used twice");
		y->s->nctrs++;
	}
	return 0;
}

static int parse_nft(struct ykit *y, yaml_node_t *seq)
{
	static const char *const keys[] = { "host", "file", NULL };
	char f[48], name[SCN_PATH_LEN], fk[256];

	YK_FOREACH_ITEM(y, seq, i, m) {
		struct scn_nft *n = &y->s->nft[y->s->nnft];

		snprintf(f, sizeof(f), "netfilter[%d]", i);
		if (y->s->nnft >= SCN_MAX_NFT)
			return scn_error(y->s, yk_line(m), f, "at most %d rulesets", SCN_MAX_NFT);
		if (yk_keys(y, m, f, keys) || get_host(y, m, "host", f, &n->host) ||
		    yk_req_str(y, m, "file", f, name, sizeof(name)))
			return -EINVAL;
		snprintf(fk, sizeof(fk), "%s.file", f);
		if (scn_resolve(y->s, name, false, n->file, sizeof(n->file)))
			return scn_error(y->s, yk_line(yk_get(y, m, "file")), fk,
					 "no such file: %s", name);
		n->line = yk_line(m);
		y->s->nnft++;
	}
	return 0;
}

static int parse_expect(struct ykit *y, yaml_node_t *seq)
{
	char f[48];

	YK_FOREACH_ITEM(y, seq, i, m) {
		struct scn_expect *e = &y->s->expect[y->s->nexpect];

		snprintf(f, sizeof(f), "expect[%d]", i);
		if (y->s->nexpect >= SCN_MAX_EXPECT)
			return scn_error(y->s, yk_line(m), f, "at most %d", SCN_MAX_EXPECT);
		if (!yk_str(m))
			return scn_error(y->s, yk_line(m), f, "want a string");
		snprintf(e->text, sizeof(e->text), "%s", yk_str(m));
		e->line = yk_line(m);
		y->s->nexpect++;
	}
	return 0;
}

static int parse_quick(struct ykit *y, yaml_node_t *m)
{
	static const char *const keys[] = { "trials", "duration", NULL };

	if (yk_need_map(y, m, "quick") || yk_keys(y, m, "quick", keys))
		return -EINVAL;
	return yk_int(y, m, "trials", "quick", 1, SCN_MAX_TRIALS, &y->s->quick_trials) ||
	       yk_num(y, m, "duration", "quick", 0.2, 600, &y->s->quick_duration) ? -EINVAL : 0;
}

/* restart: per-trial | once (default: per-trial with sockops / sk-msg, else once). */
static int parse_restart(struct ykit *y, yaml_node_t *root)
{
	struct scenario *s = y->s;
	char v[32] = "";

	if (yk_opt_str(y, root, "restart", "(top)", v, sizeof(v)))
		return -EINVAL;
	s->restart_line = v[0] ? yk_line(yk_get(y, root, "restart")) : 0;
	if (v[0] && strcmp(v, "per-trial") && strcmp(v, "once"))
		return scn_error(s, s->restart_line, "restart", "'%s': want per-trial or once", v);
	if (!strcmp(v, "once") && scn_has_sock_progs(s))
		return scn_error(s, s->restart_line, "restart", "once: sockops / sk-msg need "
				 "per-trial (sock_ops sees only connections made while attached)");
	s->restart = !strcmp(v, "per-trial") || scn_has_sock_progs(s);
	return 0;
}

/* The sections, in the order their names are needed (hosts first). */
static int parse_top(struct ykit *y, yaml_node_t *root)
{
	static const char *const keys[] = { "name", "description", "trials", "duration", "quick",
		"restart", "hosts", "links", "containers", "offloads", "netfilter", "clients", "expect", NULL };
	static const struct { const char *key; int (*fn)(struct ykit *, yaml_node_t *); } sec[] = {
		{ "hosts", parse_hosts }, { "links", parse_links },
		{ "containers", parse_containers }, { "offloads", scn_parse_offloads },
		{ "netfilter", parse_nft }, { "clients", scn_parse_clients },
		{ "expect", parse_expect },
	};
	struct scenario *s = y->s;

	if (yk_need_map(y, root, "(top)") || yk_keys(y, root, "(top)", keys) ||
	    get_name(y, root, "(top)", s->name) ||
	    yk_opt_str(y, root, "description", "(top)", s->description, sizeof(s->description)))
		return -EINVAL;
	s->trials = 5;
	s->duration = 5;
	if (yk_int(y, root, "trials", "(top)", 1, SCN_MAX_TRIALS, &s->trials) ||
	    yk_num(y, root, "duration", "(top)", 0.2, 600, &s->duration))
		return -EINVAL;
	s->quick_trials = s->trials < 2 ? s->trials : 2;
	s->quick_duration = s->duration < 1 ? s->duration : 1;
	if (yk_get(y, root, "quick") && parse_quick(y, yk_get(y, root, "quick")))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++) {
		yaml_node_t *n = yk_get(y, root, sec[i].key);

		if (n && (yk_need_seq(y, n, sec[i].key) || sec[i].fn(y, n)))
			return -EINVAL;
	}
	if (!s->nhosts)
		return scn_error(s, yk_line(root), "hosts", "missing: a scenario needs a host");
	if (!s->nclients)
		return scn_error(s, yk_line(root), "clients", "missing: a scenario needs a client");
	return parse_restart(y, root);
}

static int load_doc(struct scenario *s, FILE *f)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ykit y = { .s = s, .doc = &doc };
	int err;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		err = scn_error(s, (int)parser.problem_mark.line + 1, "(yaml)", "%s",
				parser.problem ? parser.problem : "cannot parse");
		yaml_parser_delete(&parser);
		return err;
	}
	if (!yaml_document_get_root_node(&doc))
		err = scn_error(s, 1, "(top)", "empty file");
	else
		err = parse_top(&y, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return err;
}

int scenario_load(const char *path, struct scenario **out)
{
	struct scenario *s = calloc(1, sizeof(*s));
	const char *slash;
	FILE *f;
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	reported = false;
	snprintf(s->path, sizeof(s->path), "%s", path);
	slash = strrchr(path, '/');
	snprintf(s->dir, sizeof(s->dir), "%.*s", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	f = fopen(path, "re");
	if (!f) {
		err = scn_error(s, 0, "(file)", "%s", strerror(errno));
		free(s);
		return err;
	}
	err = load_doc(s, f);
	fclose(f);
	if (!err)
		err = scn_validate(s);
	if (err) {
		scenario_free(s);
		return err;
	}
	*out = s;
	return 0;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nctrs; i++) {
		yk_free_argv(s->ctrs[i].argv);
		for (int k = 0; k < s->ctrs[i].npkgs; k++)
			free(s->ctrs[i].pkgs[k]);
		for (int k = 0; k < s->ctrs[i].nfiles; k++)
			free(s->ctrs[i].files[k]);
		for (int k = 0; k < s->ctrs[i].nwritable; k++)
			free(s->ctrs[i].writable[k]);
	}
	for (int i = 0; i < s->noffl; i++)
		bpf_object__close(s->offl[i].obj);
	for (int i = 0; i < s->nclients; i++) {
		yk_free_argv(s->clients[i].argv);
		for (int k = 0; k < s->clients[i].nfigs; k++) {
			free(s->clients[i].figs[k].regex);
			if (s->clients[i].figs[k].compiled)
				regfree(&s->clients[i].figs[k].re);
		}
	}
	free(s);
}
