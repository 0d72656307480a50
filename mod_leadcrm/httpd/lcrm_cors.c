/*
 * lcrm_cors: CORS for locations with LeadCRMCORSOrigin (API.md
 * "Cross-cutting", "Browser and headers").  Runs as a header_parser hook,
 * before authentication, so that every response of such a location -
 * errors from httpd itself included - carries the headers (they go into
 * err_headers_out, which survives httpd's error path), and so that
 * preflights are answered without credentials.
 *
 * Only an exact configured origin is echoed, with credentials allowed;
 * never "*", never "null".  Other origins get no CORS headers at all.
 *
 * Preflights are answered here, by the module, on CORS locations and on
 * every AuthType Bearer location (authentication lets them through
 * without credentials, so they must never reach the protected handler).
 * The origin rule of the cookie endpoints lives here too.
 */
#include "lcrm_cors.h"
#include "lcrm_config.h"
#include "lcrm_private.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <http_request.h>

#define PREFLIGHT_HANDLER "leadcrm-preflight"

#define EXPOSE "Location, Retry-After, RateLimit-Limit, RateLimit-Remaining, " \
               "RateLimit-Reset"
#define ALLOW_METHODS "GET, POST, PUT, PATCH, DELETE"
#define ALLOW_HEADERS "Authorization, Content-Type"

int lcrm_cors_is_preflight(const request_rec *r)
{
    return r->method_number == M_OPTIONS
           && apr_table_get(r->headers_in, "Origin")
           && apr_table_get(r->headers_in, "Access-Control-Request-Method");
}

static int has_origins(const lcrm_dir_conf_t *dc)
{
    return dc->cors_origins && dc->cors_origins->nelts > 0;
}

int lcrm_cors_foreign_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *host = apr_table_get(r->headers_in, "Host");

    if (!origin) {
        return 0;
    }
    if (host && !strcasecmp(origin, apr_pstrcat(r->pool, ap_http_scheme(r),
                                                 "://", host, NULL))) {
        return 0;
    }
    return !lcrm_conf_origin_allowed(lcrm_dconf(r), origin);
}

int lcrm_cors_header_parser(request_rec *r)
{
    const lcrm_dir_conf_t *dc = lcrm_dconf(r);
    const char *origin;

    if (!has_origins(dc) || r->main) {
        return DECLINED;
    }
    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    origin = apr_table_get(r->headers_in, "Origin");
    if (lcrm_conf_origin_allowed(dc, origin)) {
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin",
                       origin);
        apr_table_setn(r->err_headers_out,
                       "Access-Control-Allow-Credentials", "true");
        apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers",
                       EXPOSE);
    }
    return DECLINED;
}

/*
 * A preflight goes to our own tiny handler (set here, last, after the
 * type checker has applied SetHandler and other modules' fixups chose
 * theirs), so it runs the normal handler path and gets mod_headers'
 * headers like any other response.  On an AuthType Bearer location this
 * is unconditional: the preflight passed authentication unauthenticated
 * and must never reach the location's own handler (a proxied back end,
 * static files...).
 */
int lcrm_cors_fixups(request_rec *r)
{
    if (r->main || !lcrm_cors_is_preflight(r)) {
        return DECLINED;
    }
    if (has_origins(lcrm_dconf(r))
        || apr_table_get(r->notes, LCRM_NOTE_PREFLIGHT)) {
        r->handler = PREFLIGHT_HANDLER;
    }
    return DECLINED;
}

/* 204; the method/header grants only for an allowed origin. */
int lcrm_cors_preflight_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, PREFLIGHT_HANDLER)) {
        return DECLINED;
    }
    if (lcrm_conf_origin_allowed(lcrm_dconf(r),
                                 apr_table_get(r->headers_in, "Origin"))) {
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods",
                       ALLOW_METHODS);
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers",
                       ALLOW_HEADERS);
        apr_table_setn(r->err_headers_out, "Access-Control-Max-Age", "600");
    }
    r->status = HTTP_NO_CONTENT;
    return OK;
}
