/*
 * lcrm_cors: CORS and the origin rule.  The CORS hooks answer preflights
 * in the module (never in a protected handler), and put the grant headers
 * on every response of a location with LeadCRMCORSOrigin; the origin rule
 * says which origins may use a cookie-authenticated endpoint.
 */
#ifndef LCRM_CORS_H
#define LCRM_CORS_H

#include <httpd.h>

/* header_parser hook: CORS headers into err_headers_out (errors too). */
int lcrm_cors_header_parser(request_rec *r);

/*
 * fixups hook: sends a preflight to the module's 204 handler when its
 * location has CORS origins or is an AuthType Bearer location (whose
 * authentication let the preflight through unauthenticated).
 */
int lcrm_cors_fixups(request_rec *r);

/* handler hook: 204, method/header grants only for an allowed origin. */
int lcrm_cors_preflight_handler(request_rec *r);

/* Non-zero for a CORS preflight: OPTIONS with Origin and
 * Access-Control-Request-Method (the one definition the module uses). */
int lcrm_cors_is_preflight(const request_rec *r);

/*
 * The origin rule of cookie-authenticated endpoints: non-zero when the
 * request names an Origin that is neither the server's own origin nor one
 * of the location's CORS origins (no Origin header: zero).
 */
int lcrm_cors_foreign_origin(request_rec *r);

/* Note set by authentication on a preflight it let through. */
#define LCRM_NOTE_PREFLIGHT "leadcrm-preflight"

#endif
