/*
 * lcrm_cookie: the refresh-token cookie.  Its full name is the configured
 * prefix (LeadCRMCookiePrefix: __Secure-, __Host- or none) plus
 * LeadCRMCookieName; a prefixed name cannot be planted by a sibling
 * subdomain or over plain HTTP, because browsers only accept such a
 * cookie with Secure (and, for __Host-, Path=/ and no Domain).  Reading
 * goes through httpd's ap_cookie_read, which reports a name present
 * several times with different values: that request is refused, never
 * answered with whichever copy came first.
 */
#ifndef LCRM_COOKIE_H
#define LCRM_COOKIE_H

#include <httpd.h>
#include "lcrm_config.h"

/* Outcome of reading the refresh cookie. */
typedef enum {
    LCRM_COOKIE_ABSENT = 0,
    LCRM_COOKIE_FOUND,
    LCRM_COOKIE_AMBIGUOUS   /* several cookies of the name, values differ */
} lcrm_cookie_rc_e;

/*
 * Reads the refresh cookie of r into *value (request pool).  *value is
 * NULL unless LCRM_COOKIE_FOUND.
 */
lcrm_cookie_rc_e lcrm_cookie_read_refresh(request_rec *r,
                                          const lcrm_server_conf_t *sc,
                                          const char **value);

/*
 * Adds a Set-Cookie for the refresh token to err_headers_out (it then
 * survives error responses); token NULL clears the cookie (Max-Age=0).
 */
void lcrm_cookie_set_refresh(request_rec *r, const lcrm_server_conf_t *sc,
                             const char *token);

#endif
