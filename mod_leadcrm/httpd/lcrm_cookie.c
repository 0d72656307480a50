/*
 * lcrm_cookie: the refresh-token cookie (see lcrm_cookie.h).
 */
#include "lcrm_cookie.h"
#include "lcrm_private.h"

#include <apr_strings.h>
#include <util_cookies.h>

lcrm_cookie_rc_e lcrm_cookie_read_refresh(request_rec *r,
                                          const lcrm_server_conf_t *sc,
                                          const char **value)
{
    const char *v = NULL;

    *value = NULL;
    /* APR_EGENERAL: the name came several times with different values */
    if (ap_cookie_read(r, lcrm_conf_cookie_full_name(r->pool, sc), &v, 0)
        != APR_SUCCESS) {
        return LCRM_COOKIE_AMBIGUOUS;
    }
    if (!v) {
        return LCRM_COOKIE_ABSENT;
    }
    *value = v;
    return LCRM_COOKIE_FOUND;
}

void lcrm_cookie_set_refresh(request_rec *r, const lcrm_server_conf_t *sc,
                             const char *token)
{
    /* __Host- cookies must have Path=/ (and no Domain, which is never set) */
    const char *path = strcmp(lcrm_conf_cookie_prefix(sc), "__Host-")
                           ? "/auth" : "/";

    apr_table_add(r->err_headers_out, "Set-Cookie", apr_psprintf(
        r->pool, "%s=%s; Path=%s; Max-Age=%" APR_INT64_T_FMT
        "; HttpOnly%s; SameSite=Strict",
        lcrm_conf_cookie_full_name(r->pool, sc), token ? token : "", path,
        token ? lcrm_conf_refresh_ttl(sc) : 0,
        lcrm_conf_cookie_secure(sc) ? "; Secure" : ""));
}
