/*
 * nftables (through libnftables), iptables and conntrack inside a run's
 * namespace: applying rules and reading their packet counters.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <nftables/libnftables.h>
#include "checks/check.h"
#include "checks/kit.h"

/* ---- nftables ---- */

/* Run cmd through libnftables inside ns; output (JSON when json) into out. */
static int nft_run(const struct netns *ns, const char *cmd, bool json, char *out, size_t len,
		   char *errbuf, size_t errlen)
{
	struct nft_ctx *nft = NULL;
	struct nstoken *tok;
	const char *s;
	int err;

	tok = check_enter_ns(ns);
	if (!tok)
		return -errno;
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		err = -ENOMEM;
		goto out;
	}
	if (json)
		nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	err = nft_run_cmd_from_buffer(nft, cmd) ? -EINVAL : 0;
	s = nft_ctx_get_output_buffer(nft);
	if (out && len)
		snprintf(out, len, "%s", s ? s : "");
	s = nft_ctx_get_error_buffer(nft);
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", s ? s : "");
out:
	if (nft)
		nft_ctx_free(nft);
	netns_leave(tok);
	return err;
}

int check_nft(struct check_ctx *ctx, const struct netns *ns, const char *fmt, ...)
{
	char *cmd = malloc(8192), errbuf[512];
	va_list ap;
	int err;

	if (!cmd)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(cmd, 8192, fmt, ap);
	va_end(ap);
	err = nft_run(ns, cmd, false, NULL, 0, errbuf, sizeof(errbuf));
	if (err) {
		/* first line of nft's own message */
		errbuf[strcspn(errbuf, "\n")] = '\0';
		check_error(ctx, err, "nft: %s", errbuf[0] ? errbuf : strerror(-err));
	}
	free(cmd);
	return err;
}

int check_nft_counter(const struct netns *ns, const char *family_table, const char *comment,
		      uint64_t *packets)
{
	size_t len = 256 * 1024, i;
	char *out = malloc(len), cmd[128];
	json_t *doc = NULL, *items, *it;
	int err;

	*packets = 0;
	if (!out)
		return -ENOMEM;
	snprintf(cmd, sizeof(cmd), "list table %s", family_table);
	err = nft_run(ns, cmd, true, out, len, NULL, 0);
	if (err)
		goto out;
	doc = json_loads(out, 0, NULL);
	items = json_object_get(doc, "nftables");
	err = -ENOENT;
	json_array_foreach(items, i, it) {
		json_t *rule = json_object_get(it, "rule"), *e;
		const char *c = json_string_value(json_object_get(rule, "comment"));
		size_t k;

		if (!c || strcmp(c, comment))
			continue;
		json_array_foreach(json_object_get(rule, "expr"), k, e) {
			json_t *ctr = json_object_get(e, "counter");

			if (ctr) {
				*packets = json_integer_value(json_object_get(ctr, "packets"));
				err = 0;
			}
		}
	}
out:
	json_decref(doc);
	free(out);
	return err;
}

/* ---- iptables, conntrack ---- */

int check_ipt_counter(const struct netns *ns, const char *bin, const char *table,
		      const char *chain, const char *comment, uint64_t *packets)
{
	char out[8192], tag[96], *line, *save = NULL;
	int rc;

	*packets = 0;
	rc = check_cmd(ns, out, sizeof(out), "%s -w -t %s -L %s -v -x -n", bin, table, chain);
	if (rc)
		return rc < 0 ? rc : -EIO;
	snprintf(tag, sizeof(tag), "/* %s */", comment);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, tag))
			continue;
		*packets = strtoull(line, NULL, 10);
		return 0;
	}
	return -ENOENT;
}

int check_nf_read(const struct netns *ns, const struct check_nf_rule *rules, size_t n,
		  uint64_t *out)
{
	static const char *const bins[] = {
		[CHECK_IPT_LEGACY] = "iptables-legacy", [CHECK_IPT_NFT] = "iptables-nft",
	};
	int err, first = 0;

	for (size_t i = 0; i < n; i++) {
		if (rules[i].tool == CHECK_NFT)
			err = check_nft_counter(ns, rules[i].table, rules[i].comment, &out[i]);
		else
			err = check_ipt_counter(ns, bins[rules[i].tool], rules[i].table, rules[i].chain,
						rules[i].comment, &out[i]);
		if (err && !first)
			first = err;
	}
	return first;
}

int check_nf_counts(struct check_ctx *ctx, const char *phase, const struct netns *ns,
		    const struct check_nf_rule *rules, size_t n, uint64_t *out)
{
	int err = check_nf_read(ns, rules, n, out);

	return err ? check_error(ctx, err, "%s: read counters: %s", phase, strerror(-err)) : 0;
}

int check_conntrack_udp(const struct netns *ns, uint16_t sport, uint64_t *entries)
{
	char out[8192], *p;
	int rc;

	*entries = 0;
	rc = check_cmd(ns, out, sizeof(out), "conntrack -L -p udp --sport %u", sport);
	if (rc < 0)
		return rc;
	p = strstr(out, " flow entries have been shown");
	if (!p)
		return -EIO;
	while (p > out && p[-1] >= '0' && p[-1] <= '9')
		p--;
	*entries = strtoull(p, NULL, 10);
	return 0;
}
