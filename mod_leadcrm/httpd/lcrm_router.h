/*
 * lcrm_router: turns a request into a call of one endpoint function.
 * Each resource file hands its route table (core lcrm_route_t) to
 * lcrm_router_dispatch; the router answers 404/405 (+ Allow), parses the
 * query string against the route's allowed names, authenticates the
 * caller when the route needs it, reads the JSON body when it takes one,
 * and passes everything in an lcrm_ctx_t.
 */
#ifndef LCRM_ROUTER_H
#define LCRM_ROUTER_H

#include <httpd.h>
#include <json-c/json.h>
#include "lcrm_authn.h"
#include "lcrm_config.h"
#include "lcrm_route.h"
#include "lcrm_totp.h"

/* Route flags. */
#define LCRM_RF_AUTH      0x01  /* Bearer required */
#define LCRM_RF_OPT_AUTH  0x02  /* Bearer optional, but must be valid */
#define LCRM_RF_BODY      0x04  /* JSON object body required */
#define LCRM_RF_NO_BODY   0x08  /* body-less POST: no Content-Type needed */
#define LCRM_RF_ADMIN     0x10  /* ADMIN or SUPER_ADMIN only (403) */
/* Rate-limit class (default: general; see lcrm_limit.h) */
#define LCRM_RF_RL_AUTH    0x20  /* login, register */
#define LCRM_RF_RL_REFRESH 0x40  /* refresh */
#define LCRM_RF_RL_PUBLIC  0x80  /* public writes: lead capture, booking */
/* the endpoint reads (or ignores) the body itself (mail: 503 and the mail
 * rate limit come before the body) */
#define LCRM_RF_OWN_BODY   0x8000
/* the endpoint answers with the caller's user document: the session check
 * renders it in the same statement (ctx->caller->user_json, may be NULL) */
#define LCRM_RF_USER       0x4000

/*
 * API key scope of a route (core lcrm_totp.h lcrm_scope_e) in the top
 * byte of the flags.  A key may use a LCRM_RF_AUTH route only when the
 * route names a scope the key has (else 403 insufficient_scope); an
 * authenticated route without a scope refuses keys (403 forbidden), so a
 * new route is closed to keys until it says otherwise.  Public routes
 * (LCRM_RF_OPT_AUTH) take any valid key; nothing under leadcrm-auth does.
 */
#define LCRM_RF_SCOPE_SHIFT 24
#define LCRM_RF_SCOPE(s)    ((unsigned)(s) << LCRM_RF_SCOPE_SHIFT)
#define LCRM_RF_KEY(name)   LCRM_RF_SCOPE(LCRM_SCOPE_##name)
#define LCRM_RF_SCOPE_OF(f) ((int)(((f) >> LCRM_RF_SCOPE_SHIFT) & 0xffu))

typedef struct lcrm_ctx {
    request_rec *r;
    const lcrm_server_conf_t *sc;
    const lcrm_dir_conf_t *dc;
    const char *const *params;    /* path parameters in pattern order */
    apr_table_t *query;           /* decoded query parameters */
    json_object *body;            /* when LCRM_RF_BODY */
    const lcrm_caller_t *caller;  /* never NULL; may be unauthenticated */
} lcrm_ctx_t;

typedef int (*lcrm_endpoint_fn)(lcrm_ctx_t *ctx);

/* One table row: method, pattern, endpoint function, flags, query names. */
#define LCRM_ENDPOINT(m, p, fn, flags, q) \
    {(m), (p), (lcrm_route_fn)(fn), (flags), (q)}

/* Answers 503 (no database) or 500 for a failed statement; returns OK. */
int lcrm_ctx_db_problem(lcrm_ctx_t *ctx, int db_rc);

/* Answers 400 validation_failed with the field errors; returns OK. */
int lcrm_ctx_invalid(lcrm_ctx_t *ctx, apr_array_header_t *errors);

/*
 * Path parameter i as a lowercase UUID, or NULL when it is not a UUID
 * (the caller answers 404: API.md "A malformed id in a path -> 404").
 */
const char *lcrm_ctx_uuid_param(lcrm_ctx_t *ctx, int i);

/*
 * Runs sql (one row, one JSON column) and answers 200 with that document
 * (Cache-Control: no-store).  No row, or a NULL document, answers the
 * missing_code problem (e.g. "not_found"); database failures 503/500.
 */
int lcrm_ctx_json_query(lcrm_ctx_t *ctx, const char *sql, int nargs,
                        const char *const *args, const char *missing_code,
                        const char *missing_detail);

/*
 * The audit context of this request as JSON text for lcrm_actx() (see
 * sql/0021_audit.sql): {"actor", "ip", "requestId", "apiKeyId"}.
 */
const char *lcrm_ctx_audit(lcrm_ctx_t *ctx);

/*
 * args[0..n) with the audit context in front, for statements whose first
 * parameter is wrapped as lcrm_actx(%s, %s).
 */
const char **lcrm_ctx_audit_args(lcrm_ctx_t *ctx, const char *const *args,
                                 int n);

/* Dispatches r over routes[0..n); returns the handler status. */
int lcrm_router_dispatch(request_rec *r, const lcrm_route_t *routes, int n);

#endif
