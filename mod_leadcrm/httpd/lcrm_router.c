/*
 * lcrm_router: request -> endpoint (see lcrm_router.h).
 */
#include "lcrm_router.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_db.h"
#include "lcrm_limit.h"
#include "lcrm_metrics.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>

static const char *const no_query[] = {NULL};

int lcrm_ctx_db_problem(lcrm_ctx_t *ctx, int db_rc)
{
    /* lcrm_db logged the failure (one ERR line per failure) */
    if (db_rc == LCRM_DB_UNAVAILABLE) {
        return lcrm_problem_logged(ctx->r, "service_unavailable",
                                   "database unavailable");
    }
    return lcrm_problem_logged(ctx->r, "internal_error", NULL);
}

int lcrm_ctx_invalid(lcrm_ctx_t *ctx, apr_array_header_t *errors)
{
    return lcrm_problem_fields(ctx->r, "validation_failed",
                               "request failed validation", errors);
}

int lcrm_ctx_json_query(lcrm_ctx_t *ctx, const char *sql, int nargs,
                        const char *const *args, const char *missing_code,
                        const char *missing_detail)
{
    const char *json = NULL;
    lcrm_db_rc_e rc = lcrm_db_value(lcrm_db(ctx->r), sql, nargs, args,
                                    &json);

    if (rc == LCRM_DB_NO_ROW || (rc == LCRM_DB_OK && !json)) {
        return lcrm_problem(ctx->r, missing_code, missing_detail);
    }
    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    lcrm_no_store(ctx->r);
    return lcrm_respond_json(ctx->r, HTTP_OK, json);
}

const char *lcrm_ctx_uuid_param(lcrm_ctx_t *ctx, int i)
{
    const char *p = ctx->params[i];
    return p && lcrm_is_uuid(p) ? lcrm_uuid_lower(ctx->r->pool, p) : NULL;
}

/* Parses the query string against the route's names; 0 or a response. */
static int parse_query(lcrm_ctx_t *ctx, const lcrm_route_t *route)
{
    const char *field, *why;
    apr_array_header_t *errors;

    if (lcrm_query_parse(ctx->r->pool, ctx->r->args,
                         route->query ? route->query : no_query, &ctx->query,
                         &field, &why) == APR_SUCCESS) {
        return 0;
    }
    errors = apr_array_make(ctx->r->pool, 1, sizeof(lcrm_field_error_t));
    lcrm_fields_error(errors, field, why);
    lcrm_problem_fields(ctx->r, "invalid_query", "invalid query parameters",
                        errors);
    return 1;
}

static const lcrm_caller_t anonymous = {0, NULL, NULL, -1, NULL, NULL, 0,
                                        NULL};

const char *lcrm_ctx_audit(lcrm_ctx_t *ctx)
{
    json_object *o = lcrm_json_own(ctx->r->pool, json_object_new_object());
    const char *id = lcrm_request_id(ctx->r);

    if (ctx->caller && ctx->caller->authenticated) {
        json_object_object_add(o, "actor",
                               json_object_new_string(ctx->caller->user_id));
    }
    json_object_object_add(o, "ip", json_object_new_string(
                                        lcrm_client_ip(ctx->r)));
    if (id) {
        json_object_object_add(o, "requestId", json_object_new_string(id));
    }
    if (ctx->caller && ctx->caller->api_key_id) {
        json_object_object_add(o, "apiKeyId", json_object_new_string(
                                                  ctx->caller->api_key_id));
    }
    return lcrm_json_dump(ctx->r->pool, o);
}

const char **lcrm_ctx_audit_args(lcrm_ctx_t *ctx, const char *const *args,
                                 int n)
{
    const char **a = apr_palloc(ctx->r->pool, sizeof(*a) * (n + 1));
    a[0] = lcrm_ctx_audit(ctx);
    memcpy(a + 1, args, sizeof(*a) * n);
    return a;
}

/* An API key in the Authorization header (not yet checked). */
static int sends_api_key(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7)) {
        return 0;
    }
    for (h += 7; *h == ' '; h++) {
    }
    return !strncmp(h, LCRM_APIKEY_PREFIX, sizeof(LCRM_APIKEY_PREFIX) - 1);
}

/*
 * LeadCRMRequireMFA (before role and ownership) and API key scopes.
 * 0: go on (a public route may have dropped the caller), 1: answered.
 */
static int check_security(lcrm_ctx_t *ctx, unsigned flags)
{
    const lcrm_caller_t *c = ctx->caller;
    int need = lcrm_conf_require_mfa(ctx->sc), scope;

    int in_auth = ctx->r->handler && !strcmp(ctx->r->handler, "leadcrm-auth");

    if (!in_auth && need >= 0 && c->role >= need && !c->mfa_enabled) {
        if (!(flags & LCRM_RF_AUTH)) {
            ctx->caller = &anonymous;
            return 0;
        }
        lcrm_problem(ctx->r, "mfa_enrollment_required",
                     "this account must turn on two-factor authentication");
        return 1;
    }
    if (!c->api_key_id || !(flags & LCRM_RF_AUTH)) {
        return 0;
    }
    scope = LCRM_RF_SCOPE_OF(flags);
    if (!lcrm_scope_name(scope)) {
        lcrm_problem(ctx->r, "forbidden", "API keys cannot use this route");
        return 1;
    }
    if (!lcrm_scope_in(c->scopes, scope)) {
        apr_table_setn(ctx->r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(ctx->r->pool, "Bearer realm=\"leadcrm\", "
                                    "error=\"insufficient_scope\", "
                                    "scope=\"%s\"", lcrm_scope_name(scope)));
        lcrm_problem(ctx->r, "insufficient_scope",
                     apr_pstrcat(ctx->r->pool, "this API key lacks the scope ",
                                 lcrm_scope_name(scope), NULL));
        return 1;
    }
    if (scope == LCRM_SCOPE_USERS_WRITE && ctx->params[0]
        && !strcasecmp(ctx->params[0], c->user_id)) {
        lcrm_problem(ctx->r, "forbidden",
                     "an API key cannot change its own owner");
        return 1;
    }
    return 0;
}

/* Authenticates as the route requires; 0 or a response was written. */
static int check_caller(lcrm_ctx_t *ctx, unsigned flags)
{
    const char *problem;

    ctx->caller = &anonymous;
    /* no API key may use /auth, public routes included */
    if (ctx->r->handler && !strcmp(ctx->r->handler, "leadcrm-auth")
        && sends_api_key(ctx->r)) {
        lcrm_problem(ctx->r, "forbidden", "API keys cannot use /auth");
        return 1;
    }
    if (!(flags & (LCRM_RF_AUTH | LCRM_RF_OPT_AUTH))) {
        return 0;
    }
    problem = (flags & LCRM_RF_USER)
                  ? lcrm_authn_caller_user(ctx->r, &ctx->caller)
                  : lcrm_authn_caller(ctx->r, &ctx->caller);
    if (!problem && (flags & LCRM_RF_AUTH) && !ctx->caller->authenticated) {
        problem = "unauthorized";
    }
    if (problem) {
        lcrm_problem(ctx->r, problem, NULL);
        return 1;
    }
    if (ctx->caller->authenticated && check_security(ctx, flags)) {
        return 1;
    }
    if ((flags & LCRM_RF_ADMIN) && ctx->caller->role < LCRM_ROLE_ADMIN) {
        lcrm_problem(ctx->r, "forbidden", "administrators only");
        return 1;
    }
    return 0;
}

/* Reads or refuses the body as the route requires. */
static int check_body(lcrm_ctx_t *ctx, unsigned flags)
{
    lcrm_problem_info_t p;

    if (flags & LCRM_RF_OWN_BODY) {
        return 0;
    }
    if (flags & LCRM_RF_BODY) {
        if (!lcrm_read_json(ctx->r, lcrm_conf_max_body(ctx->dc), &ctx->body,
                            &p)) {
            return 0;
        }
    }
    else if (!lcrm_expect_no_body(ctx->r, &p)) {
        return 0;
    }
    lcrm_problem(ctx->r, p.code, p.detail);
    return 1;
}

/* Counts the request against the route's rate-limit class. */
static int over_limit(request_rec *r, unsigned flags)
{
    lcrm_rl_class_e cls = (flags & LCRM_RF_RL_AUTH) ? LCRM_RL_AUTH
                          : (flags & LCRM_RF_RL_REFRESH) ? LCRM_RL_REFRESH
                          : (flags & LCRM_RF_RL_PUBLIC) ? LCRM_RL_PUBLIC
                          : LCRM_RL_GENERAL;
    if (!lcrm_limit(r, cls, NULL, 1, 1)) {
        return 0;
    }
    lcrm_metrics_event(r, LCRM_M_RATE_LIMITED);
    lcrm_problem(r, "rate_limited", "too many requests; retry later");
    return 1;
}

int lcrm_router_dispatch(request_rec *r, const lcrm_route_t *routes, int n)
{
    lcrm_route_match_t m;
    lcrm_ctx_t *ctx;

    switch (lcrm_route_match(r->pool, routes, n, r->method, r->uri, &m)) {
    case LCRM_ROUTE_NO_PATH:
        return lcrm_problem(r, "not_found", "no such resource");
    case LCRM_ROUTE_NO_METHOD:
        apr_table_setn(r->err_headers_out, "Allow", m.allow);
        return lcrm_problem(r, "method_not_allowed",
                            apr_pstrcat(r->pool, "allowed: ", m.allow, NULL));
    default:
        break;
    }
    lcrm_metrics_route(r, m.route);
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->r = r;
    ctx->sc = lcrm_sconf(r->server);
    ctx->dc = lcrm_dconf(r);
    ctx->params = m.params;
    if (over_limit(r, m.route->flags) || parse_query(ctx, m.route)
        || check_caller(ctx, m.route->flags)
        || check_body(ctx, m.route->flags)) {
        return OK;
    }
    return ((lcrm_endpoint_fn)m.route->handler)(ctx);
}
