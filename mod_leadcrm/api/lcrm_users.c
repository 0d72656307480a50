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
#include "lcrm_limit.h"

#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ----------------------------------------------------------------- */

/*
 * The list filter: live users; search (a LIKE pattern, already escaped and
 * wrapped in %) over email, name and company, first through the trigram
 * index expression of 0001_schema.sql, then per column so a match never
 * spans two fields; role; isActive.  NULL parameters disable a filter.
 */
#define USERS_FILTER \
    " u.deleted_at IS NULL" \
    " AND (CAST(%s AS text) IS NULL" \
    " OR (lower(u.email || ' ' || u.name || ' ' || coalesce(u.company, ''))" \
    " LIKE lower(CAST(%s AS text))" \
    " AND (lower(u.email) LIKE lower(CAST(%s AS text))" \
    " OR lower(u.name) LIKE lower(CAST(%s AS text))" \
    " OR lower(u.company) LIKE lower(CAST(%s AS text)))))" \
    " AND (CAST(%s AS lcrm_role) IS NULL OR u.role = CAST(%s AS lcrm_role))" \
    " AND (CAST(%s AS boolean) IS NULL OR u.is_active = CAST(%s AS boolean))"
#define USERS_FILTER_NARGS 9

/* The list is one statement: sql_list_a ORDER sql_list_b ORDER sql_list_c. */
static const char *const sql_list_a =
    "SELECT json_build_object('data', coalesce("
    "(SELECT json_agg(p.j ORDER BY p.n) FROM ("
    "SELECT lcrm_user_json(u) AS j, row_number() OVER (ORDER BY ";
static const char *const sql_list_b =
    ") AS n FROM users u WHERE" USERS_FILTER " ORDER BY ";
static const char *const sql_list_c =
    " LIMIT CAST(%s AS integer) OFFSET CAST(%s AS integer)) p), '[]'::json),"
    " 'pagination', (SELECT json_build_object("
    "'page', CAST(%s AS integer), 'limit', CAST(%s AS integer),"
    " 'total', c.n,"
    " 'totalPages', (c.n + CAST(%s AS integer) - 1) / CAST(%s AS integer),"
    " 'totalIsExact', c.n <= 10000)"
    " FROM (SELECT count(*) AS n FROM (SELECT 1 FROM users u WHERE"
    USERS_FILTER " LIMIT 10001) s) c))";
#define LIST_NARGS (2 * USERS_FILTER_NARGS + 6)

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
    "SELECT role, password_hash, email FROM users WHERE id = CAST(%s AS uuid)"
    " AND deleted_at IS NULL";
static const char *const sql_set_password =
    "SELECT o, CASE WHEN o = 'ok' THEN audit_write('auth.password_changed',"
    " NULL, 'user', CAST(%s AS uuid)) END FROM lcrm_user_set_password("
    "CAST(lcrm_actx(%s, %s) AS uuid), CAST(%s AS uuid),"
    " CAST(%s AS uuid), CAST(%s AS text)) AS o";

/* ---- tables -------------------------------------------------------------- */

/* Sort names of API.md and their fixed ORDER BY text (id breaks ties). */
typedef struct {
    const char *name;
    const char *order;
} users_sort_t;

static const users_sort_t users_sorts[] = {
    {"createdAt", "u.created_at, u.id"},
    {"-createdAt", "u.created_at DESC, u.id DESC"},
    {"email", "u.email, u.id"},
    {"-email", "u.email DESC, u.id DESC"},
    {"name", "u.name, u.id"},
    {"-name", "u.name DESC, u.id DESC"},
    /* users who never logged in come last in both directions */
    {"lastLoginAt", "u.last_login_at NULLS LAST, u.id"},
    {"-lastLoginAt", "u.last_login_at DESC NULLS LAST, u.id DESC"},
    {NULL, NULL}
};
#define USERS_SORT_DEFAULT "-createdAt"

/* The order of these fields is the argument order of lcrm_user_update. */
static const lcrm_field_t update_fields[] = {
    {"name", LCRM_FK_TEXT, 0, 1, 100, NULL},
    {"company", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL},
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL},
    {"jobTitle", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 100, NULL},
    {"bio", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 2000, NULL},
    {"role", LCRM_FK_ENUM, 0, 0, 32, lcrm_role_names},
    {"isActive", LCRM_FK_BOOL, 0, 0, 0, NULL},
    {"email", LCRM_FK_EMAIL, 0, 3, 254, NULL},
};
#define NUPDATE ((int)(sizeof(update_fields) / sizeof(update_fields[0])))

static const lcrm_field_t password_fields[] = {
    /* any string: a wrong one is 403 invalid_current_password, not 400 */
    {"currentPassword", LCRM_FK_SECRET, 0, 0, 1024, NULL},
    {"newPassword", LCRM_FK_PASSWORD, LCRM_F_REQUIRED, 8, 72, NULL},
};
#define NPASSWORD ((int)(sizeof(password_fields) / sizeof(password_fields[0])))

/* ---- helpers ------------------------------------------------------------- */

/* 400 invalid_query naming the parameter; returns OK. */
static int query_problem(lcrm_ctx_t *ctx, const char *field, const char *why)
{
    apr_array_header_t *errors = apr_array_make(ctx->r->pool, 1,
                                                sizeof(lcrm_field_error_t));
    lcrm_fields_error(errors, field, why);
    return lcrm_problem_fields(ctx->r, "invalid_query",
                               "invalid query parameters", errors);
}

/* "%s%" with LIKE's metacharacters (%, _ and the escape \) escaped. */
static const char *like_pattern(apr_pool_t *pool, const char *s)
{
    char *out = apr_palloc(pool, 2 * strlen(s) + 3), *o = out;

    *o++ = '%';
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

/* Maps a database outcome other than 'ok' to its answer; returns OK. */
static int outcome_problem(lcrm_ctx_t *ctx, const char *outcome)
{
    request_rec *r = ctx->r;

    if (!strcmp(outcome, "not_found")) {
        return lcrm_problem(r, "not_found", "no such user");
    }
    if (!strcmp(outcome, "email_taken")) {
        return lcrm_problem(r, "email_taken",
                            "that email is already registered");
    }
    if (!strcmp(outcome, "last_super_admin")) {
        return lcrm_problem(r, "forbidden", "the last active SUPER_ADMIN"
                            " cannot be demoted, deactivated or deleted");
    }
    if (!strcmp(outcome, "forbidden")) {
        return lcrm_problem(r, "forbidden", "not allowed for this user");
    }
    return lcrm_problem(r, "internal_error", NULL);
}

/* ---- list ---------------------------------------------------------------- */

typedef struct {
    lcrm_page_t page;
    const char *pattern;  /* LIKE pattern or NULL */
    const char *role;     /* enum text or NULL */
    const char *active;   /* "true", "false" or NULL */
    const char *order;    /* from users_sorts */
} users_query_t;

/* The ORDER BY text for a sort name, or NULL. */
static const char *sort_order(const char *name)
{
    const users_sort_t *s;
    for (s = users_sorts; s->name; s++) {
        if (!strcmp(s->name, name)) {
            return s->order;
        }
    }
    return NULL;
}

/* Reads role, isActive and sort; NULL, or the bad parameter and *why. */
static const char *list_filters(lcrm_ctx_t *ctx, users_query_t *q,
                                const char **why)
{
    const char *sort = apr_table_get(ctx->query, "sort");

    q->role = apr_table_get(ctx->query, "role");
    if (q->role && lcrm_role_parse(q->role) < 0) {
        *why = "must be USER, ADMIN or SUPER_ADMIN";
        return "role";
    }
    q->active = apr_table_get(ctx->query, "isActive");
    if (q->active && strcmp(q->active, "true")
        && strcmp(q->active, "false")) {
        *why = "must be true or false";
        return "isActive";
    }
    if (!(q->order = sort_order(sort ? sort : USERS_SORT_DEFAULT))) {
        *why = "must be createdAt, email, name or lastLoginAt, optionally"
               " prefixed with -";
        return "sort";
    }
    return NULL;
}

/* Reads the list's query parameters; 0, or a 400 was answered. */
static int list_query(lcrm_ctx_t *ctx, users_query_t *q)
{
    const char *field, *why, *search;

    if (lcrm_query_page(ctx->query, &q->page, &field, &why) == APR_SUCCESS) {
        field = list_filters(ctx, q, &why);
    }
    if (field) {
        query_problem(ctx, field, why);
        return 1;
    }
    /* an empty search filters nothing */
    search = apr_table_get(ctx->query, "search");
    q->pattern = search && *search ? like_pattern(ctx->r->pool, search)
                                   : NULL;
    return 0;
}

/* Fills the USERS_FILTER arguments at args[0..USERS_FILTER_NARGS). */
static void filter_args(const users_query_t *q, const char **args)
{
    int i;
    for (i = 0; i < 5; i++) {
        args[i] = q->pattern;
    }
    args[5] = args[6] = q->role;
    args[7] = args[8] = q->active;
}

static int users_list(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    users_query_t q;
    const char *args[LIST_NARGS], *sql, *json, *limit;
    lcrm_db_rc_e rc;

    if (list_query(ctx, &q)) {
        return OK;
    }
    limit = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q.page.limit);
    filter_args(&q, args);
    args[USERS_FILTER_NARGS] = limit;
    args[USERS_FILTER_NARGS + 1] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                                q.page.offset);
    args[USERS_FILTER_NARGS + 2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                                q.page.page);
    args[USERS_FILTER_NARGS + 3] = limit;
    args[USERS_FILTER_NARGS + 4] = limit;
    args[USERS_FILTER_NARGS + 5] = limit;
    filter_args(&q, args + USERS_FILTER_NARGS + 6);
    sql = apr_pstrcat(r->pool, sql_list_a, q.order, sql_list_b, q.order,
                      sql_list_c, NULL);
    if ((rc = lcrm_db_value(lcrm_db(r), sql, LIST_NARGS, args, &json))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_OK, json);
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
    const char *role = lcrm_fields_get(f, update_fields, NUPDATE, "role");
    const char *active = lcrm_fields_get(f, update_fields, NUPDATE,
                                         "isActive");

    if (role || active
        || lcrm_fields_has(f, update_fields, NUPDATE, "email")) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, ctx->r, LCRM_LOGNO(00602)
                      "[%s] user %s updated by %s from %s: role %s,"
                      " isActive %s, email %s", lcrm_log_id(ctx->r), id,
                      ctx->caller->user_id,
                      lcrm_client_ip(ctx->r), role ? role : "unchanged",
                      active ? active : "unchanged",
                      lcrm_fields_has(f, update_fields, NUPDATE, "email")
                          ? "changed" : "unchanged");
    }
}

static int users_update(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *id, *args[2 + 2 * NUPDATE];
    lcrm_row_t row;
    lcrm_db_rc_e rc;
    int i;

    if (!(id = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(r, "not_found", "no such user");
    }
    if (lcrm_fields_extract(r->pool, ctx->body, update_fields, NUPDATE,
                            &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    args[0] = ctx->caller->user_id;
    args[1] = id;
    for (i = 0; i < NUPDATE; i++) {
        args[2 + 2 * i] = (f.present >> i) & 1 ? "true" : "false";
        args[3 + 2 * i] = f.values[i];
    }
    if ((rc = lcrm_db_row(lcrm_db(r), sql_update, 3 + 2 * NUPDATE,
                          lcrm_ctx_audit_args(ctx, args, 2 + 2 * NUPDATE),
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
                  "[%s] user %s deleted by %s from %s", lcrm_log_id(r), args[1],
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
    /* wrong current passwords count like failed logins (per account and
     * address), decided before any hashing */
    else if (self && lcrm_limit(r, LCRM_RL_LOGIN_FAIL, row.cols[2], 0, 0)) {
        lcrm_problem(r, "rate_limited", "too many failed attempts; retry later");
    }
    else if (self && lcrm_password_verify(current, strlen(current),
                                          row.cols[1]) != APR_SUCCESS) {
        lcrm_limit(r, LCRM_RL_LOGIN_FAIL, row.cols[2], 1, 0);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00604)
                      "[%s] change-password of %s refused: wrong current"
                      " password (from %s)", lcrm_log_id(r), id, lcrm_client_ip(r));
        lcrm_problem(r, "invalid_current_password",
                     "current password is incorrect");
    }
    else {
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

    if (lcrm_password_hash(r->pool, password, strlen(password),
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
                  "[%s] password of user %s changed by %s%s from %s;"
                  " other sessions revoked", lcrm_log_id(r), id,
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
    lcrm_fields_extract(r->pool, ctx->body, password_fields, NPASSWORD, &f);
    current = lcrm_fields_get(&f, password_fields, NPASSWORD,
                              "currentPassword");
    if (self && !lcrm_fields_has(&f, password_fields, NPASSWORD,
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
                              &f, password_fields, NPASSWORD, "newPassword"));
}

/* ---- routes -------------------------------------------------------------- */

static const char *const list_query_names[] = {
    "page", "limit", "search", "role", "isActive", "sort", NULL
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
