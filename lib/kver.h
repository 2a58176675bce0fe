/*
 * Kernel versions as comparable numbers.  `uname -r` is not always the
 * upstream version: Debian's stable kernels keep the ABI name
 * ("6.1.0-57-cloud-amd64") while the upstream point release is in
 * `uname -v` ("... Debian 6.1.192-1 (2025-...)"); Ubuntu puts it last in
 * /proc/version_signature ("Ubuntu 6.8.0-45.45-generic 6.8.12").
 */
#ifndef OLAB_KVER_H
#define OLAB_KVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVER(a, b, c) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | \
		       (uint32_t)((c) > 0xffff ? 0xffff : (c)))
#define KVER_MAJOR(v) ((v) >> 24)
#define KVER_MINOR(v) (((v) >> 16) & 0xff)
#define KVER_PATCH(v) ((v) & 0xffff)
/* Overrides the running kernel's version ("6.1.192"): tests, what-ifs. */
#define KVER_ENV "OLAB_KERNEL_VERSION"

/* The leading "X.Y[.Z]" of s (anything may follow): 0, or -EINVAL. */
int kver_parse(const char *s, uint32_t *v);
/* The upstream version from uname's release and version strings and, when
 * there is one, /proc/version_signature's text (NULL: none): 0 or -EINVAL. */
int kver_from_uname(const char *release, const char *version, const char *signature,
		    uint32_t *v);
/* The running kernel's (KVER_ENV when set); 0 when it cannot be told. */
uint32_t kver_running(void);
/* "6.12.117" into buf; buf. */
const char *kver_str(uint32_t v, char *buf, size_t len);
/* Is v in [since, until)?  Bounds are "X.Y[.Z]", NULL for open ends; a
 * bound that does not parse is -EINVAL, else 1 or 0. */
int kver_in_range(uint32_t v, const char *since, const char *until);

#endif
