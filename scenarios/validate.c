/*
 * What a scenario file's syntax cannot show: files and objects exist,
 * addresses are in the benchmarking ranges, packages are installed, and
 * every name an expectation uses is something the run will read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/util.h"
#include "scenarios/internal.h"

int scn_resolve(const struct scenario *s, const char *name, bool bpf_dir, char *out, size_t len)
{
	char self[PATH_MAX], *slash;
	struct stat st;
	ssize_t n;

	if (name[0] == '/')
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%s/%s", s->dir, name);
	if (!stat(out, &st) && S_ISREG(st.st_mode))
		return 0;
	if (!bpf_dir || strchr(name, '/'))
		return -ENOENT;
	/* The tool's own objects: build/bpf/ beside build/offloadlab. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(out, len, "%s/bpf/%s", self, name);
	return !stat(out, &st) && S_ISREG(st.st_mode) ? 0 : -ENOENT;
}

/* 198.18.0.0/15 (RFC 2544) or 2001:2::/48 (RFC 5180), with a prefix length. */
bool scn_addr_ok(const char *cidr, char *why, size_t len)
{
	char ip[64], *end;
	const char *slash = strchr(cidr, '/');
	unsigned char a[16];
	long plen;
	bool v6 = strchr(cidr, ':') != NULL;

	if (!slash) {
		snprintf(why, len, "want ADDR/PREFIXLEN");
		return false;
	}
	snprintf(ip, sizeof(ip), "%.*s", (int)(slash - cidr), cidr);
	plen = strtol(slash + 1, &end, 10);
	if (*end || !slash[1] || plen < 1 || plen > (v6 ? 128 : 32) ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, ip, a) != 1) {
		snprintf(why, len, "not an address with a prefix length");
		return false;
	}
	if (v6 ? (memcmp(a, "\x20\x01\x00\x02\x00\x00", 6) || plen < 48) :
		 (a[0] != 198 || (a[1] & 0xfe) != 18 || plen < 15)) {
		snprintf(why, len, "outside %s", v6 ? "2001:2::/48" : "198.18.0.0/15");
		return false;
	}
	return true;
}

static int check_packages(struct scenario *s)
{
	for (int i = 0; i < s->nctrs; i++)
		for (int k = 0; k < s->ctrs[i].npkgs; k++) {
			const char *argv[] = { "dpkg-query", "-W", "-f=${db:Status-Abbrev}",
					       s->ctrs[i].pkgs[k], NULL };
			char out[64] = "", f[256];
			int rc = capture_stdout(argv, out, sizeof(out));

			snprintf(f, sizeof(f), "containers[%d].packages", i);
			if (rc || strncmp(out, "ii", 2))
				return scn_error(s, s->ctrs[i].pkgs_line, f,
						 "package '%s' is not installed (apt-get install %s)",
						 s->ctrs[i].pkgs[k], s->ctrs[i].pkgs[k]);
		}
	return 0;
}

static int check_rootfs(struct scenario *s)
{
	for (int i = 0; i < s->nctrs; i++) {
		struct scn_container *c = &s->ctrs[i];
		char f[256], path[2 * SCN_PATH_LEN + 16], *colon;
		struct stat st;

		if (c->rootfs[0]) {
			snprintf(f, sizeof(f), "containers[%d].rootfs", i);
			snprintf(path, sizeof(path), "%s%s%s", c->rootfs[0] == '/' ? "" : s->dir,
				 c->rootfs[0] == '/' ? "" : "/", c->rootfs);
			if (stat(path, &st) || !S_ISDIR(st.st_mode))
				return scn_error(s, c->line, f, "no such directory: %s", c->rootfs);
			snprintf(c->rootfs, sizeof(c->rootfs), "%.*s", SCN_PATH_LEN - 1, path);
		}
		if (c->image[0]) {
			snprintf(f, sizeof(f), "containers[%d].image", i);
			snprintf(path, sizeof(path), "%s%s%s", c->image[0] == '/' ? "" : s->dir,
				 c->image[0] == '/' ? "" : "/", c->image);
			colon = strrchr(path, ':');
			if (colon && !strchr(colon, '/'))
				*colon = '\0';
			strncat(path, "/index.json", sizeof(path) - strlen(path) - 1);
			if (stat(path, &st))
				return scn_error(s, c->line, f, "not an OCI image layout: %s",
						 c->image);
		}
	}
	return 0;
}

static int check_ref(struct scenario *s, struct scn_expect *e, const struct scn_ref *r)
{
	char f[256], why[640] = "";
	int o = -1, c = -1;

	snprintf(f, sizeof(f), "expect[%d]", (int)(e - s->expect));
	if (r->src == SRC_CLIENT) {
		for (int i = 0; i < s->nclients; i++)
			if (!strcmp(s->clients[i].name, r->a))
				c = i;
		if (c < 0)
			return scn_error(s, e->line, f, "no client named '%s'", r->a);
		if (!scn_client_has_figure(&s->clients[c], r->b))
			return scn_error(s, e->line, f, "client '%s' gives no figure '%s'", r->a,
					 r->b);
		return 0;
	}
	if (r->src == SRC_NFT) {
		int h = scn_host_by_name(s, r->a);
		bool has = false;

		for (int i = 0; h >= 0 && i < s->nnft; i++)
			has |= s->nft[i].host == h;
		return has ? 0 : scn_error(s, e->line, f, "no nft ruleset in host '%s'", r->a);
	}
	o = scn_offload_by_name(s, r->a);
	if (o < 0)
		return scn_error(s, e->line, f, "no offload named '%s'", r->a);
	if (r->src == SRC_COUNTER && scn_counter_check(&s->offl[o], r->b, why, sizeof(why)))
		return scn_error(s, e->line, f, "%s", why);
	if (r->src == SRC_MAP && scn_map_check(&s->offl[o], r->b, r->key.len, why, sizeof(why)))
		return scn_error(s, e->line, f, "%s", why);
	if (r->src == SRC_PROGRAM) {
		bool has = false;

		for (int i = 0; i < s->offl[o].nprogs; i++)
			has |= !strcmp(s->offl[o].progs[i].name, r->b);
		if (!has)
			return scn_error(s, e->line, f, "offload '%s' attaches no program '%s'", r->a,
					 r->b);
	}
	return 0;
}

static int check_links(struct scenario *s)
{
	for (int i = 0; i < s->nlinks; i++)
		for (int e = 0; e < 2; e++) {
			const struct scn_end *a = e ? &s->links[i].b : &s->links[i].a;

			for (int k = 0; k < s->nlinks; k++)
				for (int f = 0; f < 2; f++) {
					const struct scn_end *b = f ? &s->links[k].b : &s->links[k].a;
					char fld[256];

					if ((k < i || (k == i && f < e)) && a->host == b->host &&
					    !strcmp(a->ifname, b->ifname)) {
						snprintf(fld, sizeof(fld), "links[%d].%c.ifname", i,
							 e ? 'b' : 'a');
						return scn_error(s, a->line, fld,
								 "'%s' already exists in host '%s'",
								 a->ifname, s->hosts[a->host].name);
					}
				}
		}
	return 0;
}

/* Every program's target is an interface of its host. */
static int check_targets(struct scenario *s)
{
	for (int o = 0; o < s->noffl; o++)
		for (int p = 0; p < s->offl[o].nprogs; p++) {
			const struct scn_prog *pr = &s->offl[o].progs[p];
			bool found = pr->hook->sockops || pr->hook->sk_msg;   /* no interface */
			char f[256];

			for (int i = 0; !found && i < s->nlinks; i++)
				found |= (s->links[i].a.host == pr->host &&
					  !strcmp(s->links[i].a.ifname, pr->ifname)) ||
					 (s->links[i].b.host == pr->host &&
					  !strcmp(s->links[i].b.ifname, pr->ifname));
			snprintf(f, sizeof(f), "offloads[%d].programs[%d].target", o, p);
			if (!found)
				return scn_error(s, pr->line, f, "host '%s' has no interface '%s'",
						 s->hosts[pr->host].name, pr->ifname);
		}
	return 0;
}

int scn_validate(struct scenario *s)
{
	if (check_links(s) || check_targets(s) || check_rootfs(s) || check_packages(s) ||
	    scn_offloads_check(s))
		return -EINVAL;
	for (int i = 0; i < s->nexpect; i++) {
		struct scn_expect *e = &s->expect[i];

		if (scn_expect_parse(s, e) || check_ref(s, e, &e->lhs) ||
		    (e->is_ratio && check_ref(s, e, &e->rhs)))
			return -EINVAL;
	}
	return 0;
}
