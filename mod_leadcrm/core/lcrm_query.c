/*
 * lcrm_query: query-string parsing (see lcrm_query.h).
 */
#include "lcrm_query.h"
#include "lcrm_parse.h"
#include "lcrm_validate.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes %XX and '+' in s[0..len); NULL on a bad escape. */
static char *decode(apr_pool_t *pool, const char *s, apr_size_t len,
                    apr_size_t *outlen)
{
    char *out = apr_palloc(pool, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0
                || (lo = hexval(s[i + 2])) < 0) {
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static int is_allowed(const char *const *allowed, const char *name)
{
    for (; *allowed; allowed++) {
        if (!strcmp(*allowed, name)) {
            return 1;
        }
    }
    return 0;
}

/* Parses one "name=value" pair into q. */
static apr_status_t one_pair(apr_pool_t *pool, const char *pair,
                             apr_size_t len, const char *const *allowed,
                             apr_table_t *q, const char **field,
                             const char **why)
{
    const char *eq = memchr(pair, '=', len);
    apr_size_t nlen = eq ? (apr_size_t)(eq - pair) : len, vlen;
    apr_size_t dn;
    char *name = decode(pool, pair, nlen, &dn), *value;

    *field = "query";
    if (!name || dn != strlen(name) || lcrm_check_text(name, dn, 0, NULL)) {
        *why = "has a malformed parameter name";
        return APR_EINVAL;
    }
    if (!is_allowed(allowed, name)) {
        *field = name;
        *why = "is not a known parameter";
        return APR_EINVAL;
    }
    *field = name;
    if (apr_table_get(q, name)) {
        *why = "must not be repeated";
        return APR_EINVAL;
    }
    value = eq ? decode(pool, eq + 1, len - nlen - 1, &vlen)
               : apr_pstrdup(pool, "");
    if (!value || (eq && vlen != strlen(value))
        || lcrm_check_text(value, strlen(value), 0, NULL)) {
        *why = "has a malformed value";
        return APR_EINVAL;
    }
    if (strlen(value) > LCRM_QUERY_MAX_VALUE) {
        *why = "is too long";
        return APR_EINVAL;
    }
    apr_table_setn(q, name, value);
    return APR_SUCCESS;
}

apr_status_t lcrm_query_parse(apr_pool_t *pool, const char *args,
                              const char *const *allowed, apr_table_t **out,
                              const char **field, const char **why)
{
    apr_table_t *q = apr_table_make(pool, 8);
    const char *p = args;

    *out = q;
    if (!args || !*args) {
        return APR_SUCCESS;
    }
    if (strlen(args) > LCRM_QUERY_MAX_LEN) {
        *field = "query";
        *why = "is too long";
        return APR_EINVAL;
    }
    while (*p) {
        const char *amp = strchr(p, '&');
        apr_size_t len = amp ? (apr_size_t)(amp - p) : strlen(p);
        if (len == 0) {
            *field = "query";
            *why = "has an empty parameter";
            return APR_EINVAL;
        }
        if (one_pair(pool, p, len, allowed, q, field, why) != APR_SUCCESS) {
            return APR_EINVAL;
        }
        p += len;
        if (*p == '&' && *++p == '\0') {
            *field = "query";
            *why = "has an empty parameter";
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

apr_status_t lcrm_query_page(apr_table_t *q, lcrm_page_t *pg,
                             const char **field, const char **why)
{
    const char *page = apr_table_get(q, "page");
    const char *limit = apr_table_get(q, "limit");

    pg->page = 1;
    pg->limit = 20;
    if (page && (*why = lcrm_parse_int(page, 1, 1000000, &pg->page))) {
        *field = "page";
        return APR_EINVAL;
    }
    if (limit && (*why = lcrm_parse_int(limit, 1, 100, &pg->limit))) {
        *field = "limit";
        return APR_EINVAL;
    }
    pg->offset = (pg->page - 1) * pg->limit;
    return APR_SUCCESS;
}
