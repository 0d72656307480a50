/*
 * lcrm_users: the /api/users family (API.md "Users"): list, read, update,
 * soft delete and change-password, for ADMIN and SUPER_ADMIN (and, for
 * change-password, a user on their own id).
 *
 * The hierarchy (an ADMIN manages USERs only and grants no role above
 * USER; a SUPER_ADMIN manages everyone; nobody demotes, deactivates or
 * deletes the last active SUPER_ADMIN, nor demotes, deactivates or
 * deletes themselves) is decided inside the database functions of
 * sql/0004_users.sql, under one advisory lock, so it holds when requests
 * race.  The C side validates input, answers early where it can and maps
 * the functions' outcomes to HTTP answers.  Every answer that carries a
 * user is rendered by lcrm_user_json() and sent with no-store.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_parse.h"
#include "lcrm_password.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_schema.h"
#include "lcrm_limit.h"
#include "lcrm_trace.h"
#include "lcrm_list.h"

#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ----------------------------------------------------------------- */

/*
 * The list search: a LIKE pattern (already escaped and wrapped in %) over
 * email, name and company, first through the trigram index expression of
 * 0001_schema.sql, then per column so a match never spans two fields (the
 * index expression joins them with spaces: a pattern without a space
 * cannot span two, and strpos() spares it the per-column lower() calls).
 */
static const char *const sql_where_search =
    " AND lower(u.email || ' ' || u.name || ' ' || coalesce(u.company, ''))"
    " LIKE lower(%s)"
    " AND (strpos(CAST(%s AS text), ' ') = 0"
    " OR lower(u.email) LIKE lower(%s)"
    " OR lower(u.name) LIKE lower(%s)"
    " OR lower(u.company) LIKE lower(%s))";

static const char *const sql_get =
    "SELECT lcrm_user_json(u) FROM users u WHERE u.id = CAST(%s AS uuid)"
    " AND u.deleted_at IS NULL";
static const char *const sql_update =
    "SELECT outcome, user_json FROM lcrm_user_update("
    "CAST(lcrm_actx(%s, %s) AS uuid), CAST(%s AS uuid),"
    " CAST(%s AS boolean), CAST(%s AS text),"
    " CAST(%s AS boolean), CAST(%s AS text),"
    " CAST(%s AS boolean), CAST(%s AS text),"
    " CAST(%s AS boolean), CAST(%s AS text),"
    " CAST(%s AS boolean), CAST(%s AS text),"
    " CAST(%s AS boolean), CAST(%s AS lcrm_role),"
    " CAST(%s AS boolean), CAST(%s AS boolean),"
    " CAST(%s AS boolean), CAST(%s AS text))";
static const char *const sql_delete =
    "SELECT lcrm_user_delete(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid))";
static const char *const sql_password_target =
    "SELECT role, password_hash, email, id FROM users WHERE id = CAST(%s AS uuid)"
    " AND deleted_at IS NULL";
static const char *const sql_set_password =
    "SELECT o, CASE WHEN o = 'ok' THEN audit_write('auth.password_changed',"
    " NULL, 'user', CAST(%s AS uuid)) END FROM lcrm_user_set_password("
    "CAST(lcrm_actx(%s, %s) AS uuid), CAST(%s AS uuid),"
    " CAST(%s AS uuid), CAST(%s AS text)) AS o";

/* ---- tables -------------------------------------------------------------- */

static const char *q_role(apr_pool_t *pool, const char *v, const char **out)
{
    (void)pool;
    *out = v;
    return lcrm_role_parse(v) < 0 ? "must be USER, ADMIN or SUPER_ADMIN"
                                  : NULL;
}

static const lcrm_list_filter_t users_filters[] = {
    {"search", sql_where_search, 5, lcrm_list_search},
    {"role", " AND u.role = CAST(%s AS lcrm_role)", 1, q_role},
    {"isActive", " AND u.is_active = CAST(%s AS boolean)", 1, lcrm_list_bool},
};

/* Sort names of API.md and their keys (id breaks ties). */
#define U_ID(d) {"u.id", "uuid", (d), 0}
static const lcrm_list_sort_t users_sorts[] = {
    {"-createdAt", {{"u.created_at", "timestamptz", 1, 0}, U_ID(1), {NULL}}},
    {"createdAt", {{"u.created_at", "timestamptz", 0, 0}, U_ID(0), {NULL}}},
    {"email", {{"u.email", "text", 0, 0}, U_ID(0), {NULL}}},
    {"-email", {{"u.email", "text", 1, 0}, U_ID(1), {NULL}}},
    {"name", {{"u.name", "text", 0, 0}, U_ID(0), {NULL}}},
    {"-name", {{"u.name", "text", 1, 0}, U_ID(1), {NULL}}},
    /* users who never logged in come last in both directions */
    {"lastLoginAt", {{"u.last_login_at", "timestamptz", 0, 1}, U_ID(0),
                     {NULL}}},
    {"-lastLoginAt", {{"u.last_login_at", "timestamptz", 1, 1}, U_ID(1),
                      {NULL}}},
};

static const lcrm_list_def_t users_list_def = {
    "GET /api/users", " FROM users u", " WHERE u.deleted_at IS NULL",
    "lcrm_user_json(u)", users_filters,
    (int)(sizeof(users_filters) / sizeof(users_filters[0])), users_sorts,
    (int)(sizeof(users_sorts) / sizeof(users_sorts[0])), NULL, NULL, NULL, 1
};

/* ---- helpers ------------------------------------------------------------- */

/* Outcomes of the database functions other than 'ok' -> problem. */
static const struct {
    const char *outcome;
    const char *code;
    const char *detail;
} outcome_problems[] = {
    {"not_found", "not_found", "no such user"},
    {"email_taken", "email_taken", "that email is already registered"},
    {"last_super_admin", "forbidden", "the last active SUPER_ADMIN cannot"
                                      " be demoted, deactivated or deleted"},
    {"forbidden", "forbidden", "not allowed for this user"},
};

/* Maps a database outcome other than 'ok' to its answer; returns OK. */
static int outcome_problem(lcrm_ctx_t *ctx, const char *outcome)
{
    apr_size_t i;

    for (i = 0; i < sizeof(outcome_problems) / sizeof(outcome_problems[0]);
         i++) {
        if (!strcmp(outcome, outcome_problems[i].outcome)) {
            return lcrm_problem(ctx->r, outcome_problems[i].code,
                                outcome_problems[i].detail);
        }
    }
    return lcrm_problem(ctx->r, "internal_error", NULL);
}

/* ---- list ---------------------------------------------------------------- */

static int users_list(lcrm_ctx_t *ctx)
{
    lcrm_list_t l;

    if (lcrm_list_begin(&l, ctx, &users_list_def)) {
        return OK;
    }
    return lcrm_list_respond(&l);
}

/* ---- one user ------------------------------------------------------------ */

static int users_get(lcrm_ctx_t *ctx)
{
    const char *args[1];

    if (!(args[0] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(ctx->r, "not_found", "no such user");
    }
    return lcrm_ctx_json_query(ctx, sql_get, 1, args, "not_found",
                               "no such user");
}

/* Logs the changes an administrator cares about afterwards. */
static void log_update(lcrm_ctx_t *ctx, const lcrm_fields_t *f,
                       const char *id)
{
    const char *role = lcrm_fields_get(f, lcrm_schema_user_update, LCRM_SCHEMA_NUSER_UPDATE, "role");
    const char *active = lcrm_fields_get(f, lcrm_schema_user_update, LCRM_SCHEMA_NUSER_UPDATE,
                                         "isActive");

    if (role || active
        || lcrm_fields_has(f, lcrm_schema_user_update, LCRM_SCHEMA_NUSER_UPDATE, "email")) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, ctx->r, LCRM_LOGNO(00602)
                      "user %s updated by %s from %s: role %s,"
                      " isActive %s, email %s", id,
                      ctx->caller->user_id,
                      lcrm_client_ip(ctx->r), role ? role : "unchanged",
                      active ? active : "unchanged",
                      lcrm_fields_has(f, lcrm_schema_user_update, LCRM_SCHEMA_NUSER_UPDATE, "email")
                          ? "changed" : "unchanged");
    }
}

static int users_update(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *id, *args[2 + 2 * LCRM_SCHEMA_NUSER_UPDATE];
    lcrm_row_t row;
    lcrm_db_rc_e rc;
    int i;

    if (!(id = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(r, "not_found", "no such user");
    }
    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_user_update, LCRM_SCHEMA_NUSER_UPDATE,
                            &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    args[0] = ctx->caller->user_id;
    args[1] = id;
    for (i = 0; i < LCRM_SCHEMA_NUSER_UPDATE; i++) {
        args[2 + 2 * i] = (f.present >> i) & 1 ? "true" : "false";
        args[3 + 2 * i] = f.values[i];
    }
    if ((rc = lcrm_db_row(lcrm_db(r), sql_update, 3 + 2 * LCRM_SCHEMA_NUSER_UPDATE,
                          lcrm_ctx_audit_args(ctx, args, 2 + 2 * LCRM_SCHEMA_NUSER_UPDATE),
                          &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(row.cols[0], "ok")) {
        return outcome_problem(ctx, row.cols[0]);
    }
    log_update(ctx, &f, id);
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_OK, row.cols[1]);
}

static int users_delete(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *args[2], *outcome;
    lcrm_db_rc_e rc;

    if (!(args[1] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(r, "not_found", "no such user");
    }
    args[0] = ctx->caller->user_id;
    if ((rc = lcrm_db_value(lcrm_db(r), sql_delete, 3,
                            lcrm_ctx_audit_args(ctx, args, 2), &outcome))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(outcome, "ok")) {
        return outcome_problem(ctx, outcome);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00603)
                  "user %s deleted by %s from %s", args[1],
                  ctx->caller->user_id, lcrm_client_ip(r));
    return lcrm_respond_no_content(r);
}

/* ---- change-password ----------------------------------------------------- */

/*
 * Checks the caller may set id's password; 0, or an answer was written.
 * Self needs the right current password; an administrator needs a target
 * below their own role.
 */
static int password_allowed(lcrm_ctx_t *ctx, const char *id, int self,
                            const char *current)
{
    request_rec *r = ctx->r;
    const char *args[1] = {id};
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    rc = lcrm_db_row(lcrm_db(r), sql_password_target, 1, args, &row);
    if (rc == LCRM_DB_NO_ROW) {
        lcrm_problem(r, "not_found", "no such user");
    }
    else if (rc != LCRM_DB_OK) {
        lcrm_ctx_db_problem(ctx, (int)rc);
    }
    else if (!self && ctx->caller->role <= lcrm_role_parse(row.cols[0])) {
        lcrm_problem(r, "forbidden", "not allowed for this user");
    }
    /* wrong current passwords count like failed logins (same account
     * key), reserved before any hashing */
    else if (self && lcrm_limit_login_reserve(
                         r, apr_pstrcat(r->pool, "u:", row.cols[3], NULL))) {
        lcrm_problem(r, "rate_limited", "too many failed attempts; retry later");
    }
    else if (self && lcrm_traced_password_verify(r, current, strlen(current),
                                                 row.cols[1]) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00604)
                      "change-password of %s refused: wrong current"
                      " password (from %s)", id, lcrm_client_ip(r));
        lcrm_problem(r, "invalid_current_password",
                     "current password is incorrect");
    }
    else {
        if (self) {
            lcrm_limit_login_release(r, apr_pstrcat(r->pool, "u:",
                                                    row.cols[3], NULL));
        }
        return 0;
    }
    return 1;
}

/* Hashes and stores the new password; revokes the other sessions. */
static int password_store(lcrm_ctx_t *ctx, const char *id, int self,
                          const char *password)
{
    request_rec *r = ctx->r;
    const char *args[4], *outcome;
    lcrm_db_rc_e rc;

    if (lcrm_traced_password_hash(r, password, strlen(password),
                                  lcrm_conf_bcrypt_cost(ctx->sc), &args[3])) {
        return lcrm_problem(r, "internal_error", "cannot hash the password");
    }
    args[0] = ctx->caller->user_id;
    args[1] = ctx->caller->session_id;
    args[2] = id;
    if ((rc = lcrm_db_value(lcrm_db(r), sql_set_password, 6, (const char *[])
                            {id, lcrm_ctx_audit(ctx), args[0], args[1],
                             args[2], args[3]}, &outcome))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(outcome, "ok")) {
        return outcome_problem(ctx, outcome);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00601)
                  "password of user %s changed by %s%s from %s;"
                  " other sessions revoked", id,
                  ctx->caller->user_id,
                  self ? " (self)" : "", lcrm_client_ip(r));
    return lcrm_respond_no_content(r);
}

static int users_change_password(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *id = lcrm_ctx_uuid_param(ctx, 0), *current;
    int self = id && !strcmp(id, ctx->caller->user_id);
    lcrm_fields_t f;

    /* a USER gets 403 for any id but their own, existing or not */
    if (!self && ctx->caller->role < LCRM_ROLE_ADMIN) {
        return lcrm_problem(r, "forbidden", "not allowed for this user");
    }
    if (!id) {
        return lcrm_problem(r, "not_found", "no such user");
    }
    lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_password, LCRM_SCHEMA_NPASSWORD, &f);
    current = lcrm_fields_get(&f, lcrm_schema_password, LCRM_SCHEMA_NPASSWORD,
                              "currentPassword");
    if (self && !lcrm_fields_has(&f, lcrm_schema_password, LCRM_SCHEMA_NPASSWORD,
                                 "currentPassword")) {
        lcrm_fields_error(f.errors, "currentPassword", "is required");
    }
    if (f.errors->nelts) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (password_allowed(ctx, id, self, current)) {
        return OK;
    }
    return password_store(ctx, id, self, lcrm_fields_get(
                              &f, lcrm_schema_password, LCRM_SCHEMA_NPASSWORD, "newPassword"));
}

/* ---- routes -------------------------------------------------------------- */

static const char *const list_query_names[] = {
    "page", "limit", "cursor", "search", "role", "isActive", "sort", NULL
};

static const lcrm_route_t users_routes[] = {
    LCRM_ENDPOINT("GET", "/api/users", users_list,
                  LCRM_RF_AUTH | LCRM_RF_KEY(USERS_READ)
                    | LCRM_RF_ADMIN, list_query_names),
    LCRM_ENDPOINT("GET", "/api/users/:id", users_get,
                  LCRM_RF_AUTH | LCRM_RF_KEY(USERS_READ) | LCRM_RF_ADMIN, NULL),
    LCRM_ENDPOINT("PUT", "/api/users/:id", users_update,
                  LCRM_RF_AUTH | LCRM_RF_KEY(USERS_WRITE)
                    | LCRM_RF_ADMIN | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("PATCH", "/api/users/:id", users_update,
                  LCRM_RF_AUTH | LCRM_RF_KEY(USERS_WRITE)
                    | LCRM_RF_ADMIN | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("DELETE", "/api/users/:id", users_delete,
                  LCRM_RF_AUTH | LCRM_RF_KEY(USERS_WRITE)
                    | LCRM_RF_ADMIN, NULL),
    LCRM_ENDPOINT("POST", "/api/users/:id/change-password",
                  users_change_password, LCRM_RF_AUTH | LCRM_RF_BODY, NULL),
};

const lcrm_family_t lcrm_users_family = {
    "leadcrm-users", users_routes, (int)(sizeof(users_routes) / sizeof(users_routes[0]))
};
