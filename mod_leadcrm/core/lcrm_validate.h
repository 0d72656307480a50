/*
 * lcrm_validate: pure checks of single values against API.md's field rules.
 * Each returns NULL when the value is acceptable, else a short message
 * that is safe to show to the client (it never echoes the value).
 */
#ifndef LCRM_VALIDATE_H
#define LCRM_VALIDATE_H

#include <apr_pools.h>
#include <apr_time.h>

/*
 * Checks that s[0..len) is well-formed UTF-8 without NUL or control
 * characters (newline and tab allowed when multiline is non-zero).
 * *codepoints receives the number of code points when non-NULL.
 */
const char *lcrm_check_text(const char *s, apr_size_t len, int multiline,
                            apr_size_t *codepoints);

/* A plausible address: local@domain.tld, <= 254 bytes, already lowercased. */
const char *lcrm_check_email(const char *s);

/* <= 32 characters of "+0123456789 ()-." with at least one digit. */
const char *lcrm_check_phone(const char *s);

/* An absolute http(s) URL (https only when https_only) without spaces. */
const char *lcrm_check_url(const char *s, int https_only);

/* Canonical 8-4-4-4-12 hex UUID in any letter case. */
int lcrm_is_uuid(const char *s);

/* Copies a UUID in lowercase canonical form into pool memory. */
char *lcrm_uuid_lower(apr_pool_t *pool, const char *s);

/*
 * Parses an RFC 3339 date-time (e.g. 2026-11-24T06:40:36.123Z or with an
 * offset) into *t (microseconds since the epoch, UTC).  Returns NULL on
 * success.  Sub-millisecond digits are refused.
 */
const char *lcrm_parse_rfc3339(const char *s, apr_time_t *t);

/* Formats t as 2026-11-24T06:40:36.123Z in pool memory. */
char *lcrm_format_rfc3339(apr_pool_t *pool, apr_time_t t);

/* Parses YYYY-MM-DD; fills y/m/d; NULL on success. */
const char *lcrm_parse_date(const char *s, int *y, int *m, int *d);

/*
 * Password rule: at least 8 code points, at most 72 bytes of UTF-8,
 * no NUL, valid UTF-8.
 */
const char *lcrm_check_password(const char *s, apr_size_t len);

/* Lowercases ASCII letters and trims ASCII white space, in pool memory. */
char *lcrm_normalize_email(apr_pool_t *pool, const char *s, apr_size_t len);

#endif
