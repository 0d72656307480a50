/*
 * lcrm_sessions: session management (API.md part 2 "Sessions") and the
 * admin's account-security routes under /api/users/:id (sessions, MFA
 * reset).  GET/DELETE /auth/sessions join the leadcrm-auth family; the
 * /api/users/:id/... routes join leadcrm-users.
 *
 * A session is a login (sql/0001 sessions); userAgent and ipAddress are
 * those of the login or the last refresh, lastUsedAt its time, so nothing
 * is written per request.  Revoking a session also stops its access
 * tokens at once (the per-request session check of lcrm_authn).  Admin
 * routes decide role and hierarchy (403), then existence (404), then
 * state (409) in one database function each.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_http.h"
#include "lcrm_private.h"
#include "lcrm_router.h"
#include "lcrm_security.h"

#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ------------------------------------------------------------------ */

static const char *const sql_own_list =
    "SELECT lcrm_sessions_json(CAST(%s AS uuid), CAST(%s AS uuid))";
static const char *const sql_own_revoke =
    "SELECT lcrm_session_revoke(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid))";
static const char *const sql_user_list =
    "SELECT c, CASE WHEN c = 'ok' THEN lcrm_sessions_json(CAST(%s AS uuid),"
    " NULL) END FROM lcrm_user_admin_check(CAST(%s AS uuid),"
    " CAST(%s AS uuid)) AS c";
static const char *const sql_user_revoke =
    "SELECT lcrm_user_sessions_revoke(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid))";
static const char *const sql_user_mfa_reset =
    "SELECT lcrm_user_mfa_reset(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid))";

void lcrm_sec_clear_refresh_cookie(lcrm_ctx_t *ctx)
{
    apr_table_add(ctx->r->err_headers_out, "Set-Cookie", apr_psprintf(
        ctx->r->pool, "%s=; Path=/auth; Max-Age=0; HttpOnly%s; SameSite=Strict",
        lcrm_conf_cookie_name(ctx->sc),
        lcrm_conf_cookie_secure(ctx->sc) ? "; Secure" : ""));
}

/* ---- the caller's sessions -------------------------------------------------- */

static int sessions_list(lcrm_ctx_t *ctx)
{
    const char *args[2] = {ctx->caller->user_id, ctx->caller->session_id};
    return lcrm_ctx_json_query(ctx, sql_own_list, 2, args, "invalid_token",
                               "user no longer exists");
}

static int sessions_revoke(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *args[3], *id;
    lcrm_db_rc_e rc;

    if (!(args[2] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(r, "not_found", "no such session");
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = ctx->caller->user_id;
    rc = lcrm_db_value(lcrm_db(r), sql_own_revoke, 3, args, &id);
    if (rc == LCRM_DB_NO_ROW || (rc == LCRM_DB_OK && !id)) {
        return lcrm_problem(r, "not_found", "no such session");
    }
    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (ctx->caller->session_id && !strcmp(id, ctx->caller->session_id)) {
        lcrm_sec_clear_refresh_cookie(ctx);
    }
    return lcrm_respond_no_content(r);
}

/* ---- /api/users/:id/{sessions,mfa} ----------------------------------------- */

/* Maps an admin outcome to its answer; 0 for "ok". */
static int admin_outcome(lcrm_ctx_t *ctx, const char *outcome)
{
    if (!strcmp(outcome, "ok")) {
        return 0;
    }
    if (!strcmp(outcome, "not_found")) {
        lcrm_problem(ctx->r, "not_found", "no such user");
    }
    else if (!strcmp(outcome, "forbidden")) {
        lcrm_problem(ctx->r, "forbidden", "not allowed for this user");
    }
    else {
        lcrm_problem(ctx->r, outcome, NULL);
    }
    return 1;
}

/* Target id, own id refused first (403, API.md), malformed 404. */
static const char *admin_target(lcrm_ctx_t *ctx)
{
    const char *id = ctx->params[0];

    if (id && !strcasecmp(id, ctx->caller->user_id)) {
        lcrm_problem(ctx->r, "forbidden", "not on your own account");
        return NULL;
    }
    if (!(id = lcrm_ctx_uuid_param(ctx, 0))) {
        lcrm_problem(ctx->r, "not_found", "no such user");
    }
    return id;
}

static int user_sessions_list(lcrm_ctx_t *ctx)
{
    const char *args[3], *target = admin_target(ctx);
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (!target) {
        return OK;
    }
    args[0] = args[2] = target;
    args[1] = ctx->caller->user_id;
    if ((rc = lcrm_db_row(lcrm_db(ctx->r), sql_user_list, 3, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (admin_outcome(ctx, row.cols[0])) {
        return OK;
    }
    lcrm_no_store(ctx->r);
    return lcrm_respond_json(ctx->r, HTTP_OK, row.cols[1]);
}

/* One admin change (sql takes ctx, actor, target); 204 on "ok". */
static int admin_change(lcrm_ctx_t *ctx, const char *sql, const char *what)
{
    const char *args[3], *target = admin_target(ctx), *outcome;
    lcrm_db_rc_e rc;

    if (!target) {
        return OK;
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = ctx->caller->user_id;
    args[2] = target;
    if ((rc = lcrm_db_value(lcrm_db(ctx->r), sql, 3, args, &outcome))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (admin_outcome(ctx, outcome)) {
        return OK;
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, ctx->r, LCRM_LOGNO(01620)
                  "%s of user %s by %s", what,
                  target, ctx->caller->user_id);
    return lcrm_respond_no_content(ctx->r);
}

static int user_sessions_revoke(lcrm_ctx_t *ctx)
{
    return admin_change(ctx, sql_user_revoke, "sessions revoked");
}

static int user_mfa_reset(lcrm_ctx_t *ctx)
{
    return admin_change(ctx, sql_user_mfa_reset, "MFA reset");
}

static const lcrm_route_t session_routes[] = {
    LCRM_ENDPOINT("GET", "/auth/sessions", sessions_list, LCRM_RF_AUTH, NULL),
    LCRM_ENDPOINT("DELETE", "/auth/sessions/:id", sessions_revoke,
                  LCRM_RF_AUTH, NULL),
};

const lcrm_family_t lcrm_sessions_family = {
    "leadcrm-auth", session_routes,
    (int)(sizeof(session_routes) / sizeof(session_routes[0]))
};

static const lcrm_route_t user_security_routes[] = {
    LCRM_ENDPOINT("GET", "/api/users/:id/sessions", user_sessions_list,
                  LCRM_RF_AUTH | LCRM_RF_ADMIN, NULL),
    LCRM_ENDPOINT("DELETE", "/api/users/:id/sessions", user_sessions_revoke,
                  LCRM_RF_AUTH | LCRM_RF_ADMIN, NULL),
    LCRM_ENDPOINT("DELETE", "/api/users/:id/mfa", user_mfa_reset,
                  LCRM_RF_AUTH | LCRM_RF_ADMIN, NULL),
};

const lcrm_family_t lcrm_user_security_family = {
    "leadcrm-users", user_security_routes,
    (int)(sizeof(user_security_routes) / sizeof(user_security_routes[0]))
};
