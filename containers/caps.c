/* Capability lists for containers: parsed and named with libcap. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include "containers/container.h"

#define CAP_NAME_LEN 32

/* "net_admin" or "CAP_NET_ADMIN" into "cap_net_admin" (libcap's spelling). */
static int canon(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	if (n >= 4 && !strncasecmp(s, "cap_", 4)) {
		s += 4;
		n -= 4;
	}
	if (!n || n + 5 > len)
		return -EINVAL;
	memcpy(out, "cap_", 4);
	o = 4;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return -EINVAL;
		out[o++] = (char)tolower((unsigned char)s[i]);
	}
	out[o] = '\0';
	/* cap_from_name also takes numbers: only names here. */
	return strspn(out + 4, "0123456789") == n ? -EINVAL : 0;
}

int ctr_caps_parse(const char *list, uint64_t *mask, char *err, size_t len)
{
	const char *p = list ? list : "";
	uint64_t m = 0;

	*mask = 0;
	if (!strcmp(p, "none") || !*p)
		return 0;
	for (int i = 0; i < 64 && *p; i++) {
		size_t n = strcspn(p, ",");
		char name[CAP_NAME_LEN];
		cap_value_t v;

		if (canon(p, n, name, sizeof(name)) || cap_from_name(name, &v) || v < 0) {
			snprintf(err, len, "unknown capability '%.*s' (names like bpf,net_admin,perfmon,sys_admin)",
				 (int)(n < 40 ? n : 40), p);
			return -EINVAL;
		}
		if (v >= 64 || cap_get_bound(v) < 0) {
			snprintf(err, len, "capability '%s' is not supported by this kernel", name + 4);
			return -EINVAL;
		}
		if (cap_get_bound(v) == 0) {
			snprintf(err, len, "capability '%s' is not in offloadlab's bounding set, so no container can have it",
				 name + 4);
			return -EINVAL;
		}
		m |= 1ull << v;
		p += n;
		if (*p == ',' && !*++p) {
			snprintf(err, len, "capability list '%s' ends with a comma", list);
			return -EINVAL;
		}
	}
	if (*p) {
		snprintf(err, len, "capability list '%.40s...' is too long", list);
		return -EINVAL;
	}
	*mask = m;
	return 0;
}

/* libcap's name for v without "cap_", or its number. */
static void cap_short(int v, char *buf, size_t len)
{
	char *n = cap_to_name(v);

	if (n && !strncmp(n, "cap_", 4))
		snprintf(buf, len, "%s", n + 4);
	else
		snprintf(buf, len, "%d", v);
	cap_free(n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Alphabetical, so a set reads the same however it was written. */
void ctr_caps_format(uint64_t mask, char *buf, size_t len)
{
	char names[64][CAP_NAME_LEN];
	size_t o = 0, n = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!mask) {
		snprintf(buf, len, "none");
		return;
	}
	for (int v = 0; v < 64; v++)
		if (mask & (1ull << v))
			cap_short(v, names[n++], CAP_NAME_LEN);
	qsort(names, n, CAP_NAME_LEN, cmp_str);
	for (size_t i = 0; i < n && o < len; i++) {
		int w = snprintf(buf + o, len - o, "%s%s", i ? "," : "", names[i]);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

uint64_t ctr_caps_dangerous(uint64_t mask)
{
	return mask & ((1ull << CAP_SYS_ADMIN) | (1ull << CAP_SYS_MODULE) |
		       (1ull << CAP_DAC_READ_SEARCH));
}

json_t *ctr_caps_oci(uint64_t mask)
{
	json_t *a = json_array();

	for (int v = 0; a && v < 64; v++) {
		char name[CAP_NAME_LEN + 4], s[CAP_NAME_LEN];

		if (!(mask & (1ull << v)))
			continue;
		cap_short(v, s, sizeof(s));
		snprintf(name, sizeof(name), "CAP_%s", s);
		for (char *q = name; *q; q++)
			*q = (char)toupper((unsigned char)*q);
		json_array_append_new(a, json_string(name));
	}
	return a;
}
