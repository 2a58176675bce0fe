/* Kernel versions: parsing uname's strings, comparing (lib/kver.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include "lib/kver.h"
#include "lib/util.h"

/* One decimal number of at most 5 digits at *s; advances *s. */
static int number(const char **s, unsigned *n)
{
	const char *p = *s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	*n = 0;
	for (int i = 0; *p >= '0' && *p <= '9'; p++, i++) {
		if (i == 5)
			return -EINVAL;
		*n = *n * 10 + (unsigned)(*p - '0');
	}
	*s = p;
	return 0;
}

int kver_parse(const char *s, uint32_t *v)
{
	unsigned a, b, c = 0;

	if (!s || number(&s, &a) || *s++ != '.' || number(&s, &b) || a > 255 || b > 255)
		return -EINVAL;
	if (*s == '.' && (s++, number(&s, &c)))
		return -EINVAL;
	*v = KVER(a, b, c);
	return 0;
}

/* The version after the last "Debian " in text: 0 when there is none. */
static uint32_t debian_version(const char *text)
{
	const char *p = text, *hit = NULL;
	uint32_t v = 0;

	while (p && (p = strstr(p, "Debian ")))
		hit = p += strlen("Debian ");
	return hit && !kver_parse(hit, &v) ? v : 0;
}

/* The last space-separated word of text ("Ubuntu <abi> 6.8.12"): 0 when it
 * is not a version. */
static uint32_t last_word_version(const char *text)
{
	const char *end = text + strlen(text), *w;
	uint32_t v = 0;

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (w = end; w > text && w[-1] != ' '; w--)
		;
	return w < end && !kver_parse(w, &v) ? v : 0;
}

/* A distribution's upstream version counts when it is of the same X.Y
 * series and not older than the release's own number. */
static bool refines(uint32_t base, uint32_t v)
{
	return v && (v & 0xffff0000u) == (base & 0xffff0000u) && v >= base;
}

int kver_from_uname(const char *release, const char *version, const char *signature,
		    uint32_t *v)
{
	uint32_t base, d;

	if (kver_parse(release, &base))
		return -EINVAL;
	*v = base;
	if (version && refines(base, d = debian_version(version)))
		*v = d;
	else if (signature && refines(base, d = last_word_version(signature)))
		*v = d;
	return 0;
}

uint32_t kver_running(void)
{
	static uint32_t cached;
	const char *env = getenv(KVER_ENV);
	struct utsname u;
	char sig[256];
	uint32_t v = 0;

	if (env && *env)
		return kver_parse(env, &v) ? 0 : v;
	if (cached || uname(&u))
		return cached;
	if (read_file("/proc/version_signature", sig, sizeof(sig)) < 0)
		sig[0] = '\0';
	if (kver_from_uname(u.release, u.version, sig[0] ? sig : NULL, &v))
		return 0;
	return cached = v;
}

const char *kver_str(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", KVER_MAJOR(v), KVER_MINOR(v), KVER_PATCH(v));
	return buf;
}

int kver_in_range(uint32_t v, const char *since, const char *until)
{
	uint32_t lo = 0, hi = UINT32_MAX;

	if ((since && kver_parse(since, &lo)) || (until && kver_parse(until, &hi)))
		return -EINVAL;
	return v >= lo && v < hi;
}
