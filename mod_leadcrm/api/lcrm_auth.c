/*
 * lcrm_auth: the /auth family (API.md "Auth"): register, login, refresh,
 * logout, logout-all and the caller's profile.
 *
 * Access tokens are JWTs (core lcrm_token); refresh tokens are 256-bit
 * random strings sent only in an HttpOnly cookie, of which the database
 * keeps a SHA-256 hash.  Rotation, reuse detection and session revocation
 * are database functions (sql/0003_auth.sql), one round trip each.
 */
#include "lcrm_api.h"
#include "lcrm_cookie.h"
#include "lcrm_cors.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_limit.h"
#include "lcrm_mail_api.h"
#include "lcrm_metrics.h"
#include "lcrm_password.h"
#include "lcrm_private.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_schema.h"
#include "lcrm_secret.h"
#include "lcrm_trace.h"
#include "lcrm_security.h"
#include "lcrm_validate.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ------------------------------------------------------------------ */

static const char *const sql_register =
    "SELECT outcome, user_json, user_id, session_id, role FROM lcrm_register("
    "lcrm_actx(%s, %s), %s, %s, %s, %s, %s, %s, CAST(%s AS integer), %s, %s)";
/* always one row: the account (or NULLs), the email in the form the
 * database compares (lower() under the database's collation), which keys
 * the failed-login limits of unknown emails, and whether MFA is on */
static const char *const sql_login_lookup =
    "SELECT u.id, u.password_hash, q.k, u.mfa_enabled"
    " FROM (SELECT lower(%s) AS k) q"
    " LEFT JOIN users u ON lower(u.email) = q.k"
    " AND u.deleted_at IS NULL AND u.is_active";
/* only if unchanged meanwhile (a concurrent password change wins) */
static const char *const sql_rehash =
    "UPDATE users SET password_hash = %s WHERE id = CAST(%s AS uuid)"
    " AND password_hash = %s AND deleted_at IS NULL";
static const char *const sql_login =
    "SELECT user_json, user_id, session_id, role FROM lcrm_login("
    "CAST(lcrm_actx(%s, %s) AS uuid),"
    " %s, CAST(%s AS integer), %s, %s)";
static const char *const sql_refresh =
    "SELECT outcome, user_id, session_id, role FROM lcrm_refresh_seen(%s, %s,"
    " CAST(%s AS integer), %s, %s)";
static const char *const sql_logout =
    "SELECT user_id FROM lcrm_logout(lcrm_actx(%s, %s))";
static const char *const sql_logout_all =
    "SELECT lcrm_revoke_sessions(CAST(lcrm_actx(%s, %s) AS uuid), NULL,"
    " 'logout_all'), audit_write('auth.logout_all', CAST(%s AS uuid), 'user',"
    " CAST(%s AS uuid))";
/* a wrong password (or unknown email): audited in its own transaction */
static const char *const sql_login_failed =
    "SELECT audit_write(lcrm_actx(%s, 'auth.login_failed'), NULL, 'user',"
    " (SELECT id FROM users WHERE lower(email) = lower(%s)"
    " AND deleted_at IS NULL LIMIT 1), '{\"step\": \"password\"}')";
static const char *const sql_profile =
    "SELECT lcrm_user_json(u) FROM users u WHERE u.id = CAST(%s AS uuid)"
    " AND u.deleted_at IS NULL";
static const char *const sql_profile_update =
    "UPDATE users SET"
    " name = CASE WHEN %s THEN %s ELSE name END,"
    " company = CASE WHEN %s THEN %s ELSE company END,"
    " phone = CASE WHEN %s THEN %s ELSE phone END,"
    " job_title = CASE WHEN %s THEN %s ELSE job_title END,"
    " bio = CASE WHEN %s THEN %s ELSE bio END"
    " WHERE id = CAST(lcrm_actx(%s, %s) AS uuid) AND deleted_at IS NULL"
    " RETURNING lcrm_user_json(users)";

/* field tables: core lcrm_schema */

/* ---- helpers ---------------------------------------------------------------- */

static const char *user_agent(const request_rec *r)
{
    const char *ua = apr_table_get(r->headers_in, "User-Agent");
    return ua && !lcrm_check_text(ua, strlen(ua), 0, NULL) ? ua : NULL;
}

static void set_refresh_cookie(lcrm_ctx_t *ctx, const char *token)
{
    lcrm_cookie_set_refresh(ctx->r, ctx->sc, token);
}

/* A new refresh token and its hash. */
static apr_status_t new_refresh(lcrm_ctx_t *ctx, const char **token,
                                const char **hash)
{
    apr_status_t rv = lcrm_random_token(ctx->r->pool,
                                        LCRM_REFRESH_TOKEN_BYTES, token);
    if (rv == APR_SUCCESS) {
        *hash = lcrm_sha256_hex(ctx->r->pool, *token, strlen(*token));
    }
    return rv;
}

/* {accessToken, tokenType, expiresIn} plus user when user_json is given. */
static int token_response(lcrm_ctx_t *ctx, int status, const char *user_id,
                          const char *session_id, const char *role,
                          const char *user_json)
{
    request_rec *r = ctx->r;
    lcrm_claims_t claims = {user_id, role, session_id, NULL, 0, 0};
    const char *token, *why;
    json_object *o = lcrm_json_own(r->pool, json_object_new_object()), *user;

    if (lcrm_token_issue(r->pool, &ctx->sc->token,
                         apr_time_sec(r->request_time), &claims, &token)) {
        return lcrm_problem(r, "internal_error", "cannot issue a token");
    }
    if (user_json) {
        if (lcrm_json_parse_value(r->pool, user_json, strlen(user_json), 4,
                                  &user, &why)) {
            return lcrm_problem(r, "internal_error", "bad user row");
        }
        json_object_object_add(o, "user", json_object_get(user));
    }
    json_object_object_add(o, "accessToken", json_object_new_string(token));
    json_object_object_add(o, "tokenType", json_object_new_string("Bearer"));
    json_object_object_add(o, "expiresIn",
                           json_object_new_int64(ctx->sc->token.ttl));
    lcrm_no_store(r);
    return lcrm_respond_obj(r, status, o);
}

/* ---- account security (lcrm_security.h) ----------------------------------- */

int lcrm_auth_login_response(lcrm_ctx_t *ctx, const char *refresh_token,
                             const char *user_id, const char *session_id,
                             const char *role, const char *user_json)
{
    lcrm_metrics_event(ctx->r, LCRM_M_LOGIN_OK);
    set_refresh_cookie(ctx, refresh_token);
    return token_response(ctx, HTTP_OK, user_id, session_id, role, user_json);
}

static void login_failed_audit(lcrm_ctx_t *ctx, const char *email)
{
    const char *args[2] = {lcrm_ctx_audit(ctx), email}, *ignored;
    lcrm_db_value(lcrm_db(ctx->r), sql_login_failed, 2, args, &ignored);
}

/* The right password of a user with MFA: a challenge, nothing else. */
static int mfa_step_up(lcrm_ctx_t *ctx, const char *user_id)
{
    json_object *o = lcrm_json_own(ctx->r->pool, json_object_new_object());
    const char *token;
    int rc = lcrm_mfa_issue_challenge(ctx->r, user_id, "password", &token);

    if (rc) {
        return rc < 0 ? lcrm_problem(ctx->r, "internal_error", "no randomness")
                      : lcrm_ctx_db_problem(ctx, rc);
    }
    json_object_object_add(o, "mfaRequired", json_object_new_boolean(1));
    json_object_object_add(o, "mfaToken", json_object_new_string(token));
    json_object_object_add(o, "expiresIn",
                           json_object_new_int(LCRM_MFA_CHALLENGE_TTL));
    lcrm_no_store(ctx->r);
    return lcrm_respond_obj(ctx->r, HTTP_OK, o);
}

/* ---- endpoints -------------------------------------------------------------- */

static int auth_register(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *hash, *token, *token_hash, *args[11];
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_register, LCRM_SCHEMA_NREGISTER,
                            &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (lcrm_traced_password_hash(r, f.values[1], strlen(f.values[1]),
                                  lcrm_conf_bcrypt_cost(ctx->sc), &hash)
        || new_refresh(ctx, &token, &token_hash)) {
        return lcrm_problem(r, "internal_error", "cannot hash the password");
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = f.values[0];
    args[2] = hash;
    args[3] = f.values[2];
    args[4] = f.values[3];
    args[5] = f.values[4];
    args[6] = f.values[5];
    args[7] = token_hash;
    args[8] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           lcrm_conf_refresh_ttl(ctx->sc));
    args[9] = user_agent(r);
    args[10] = lcrm_client_ip(r);
    if ((rc = lcrm_db_row(lcrm_db(r), sql_register, 11, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(row.cols[0], "ok")) {
        return lcrm_problem(r, "email_taken", "that email is already registered");
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00501)
                  "registered user %s from %s", row.cols[2],
                  lcrm_client_ip(r));
    if (lcrm_mail_register_answer(ctx, row.cols[2], row.cols[1]) != DECLINED) {
        return OK;   /* LeadCRMRequireVerifiedEmail: no tokens yet */
    }
    set_refresh_cookie(ctx, token);
    apr_table_setn(r->err_headers_out, "Location", "/auth/profile");
    return token_response(ctx, HTTP_CREATED, row.cols[2], row.cols[3],
                          row.cols[4], row.cols[1]);
}

/*
 * After a successful login: a stored hash of another cost than the
 * configured one is replaced by a hash at the configured cost, so that
 * after a LeadCRMBcryptCost change every account (and the dummy hash of
 * unknown emails) costs the same time.  Failure only logs: the login
 * itself stands.
 */
static void rehash(lcrm_ctx_t *ctx, const char *user_id,
                   const char *password, const char *old_hash)
{
    int cost = lcrm_conf_bcrypt_cost(ctx->sc);
    const char *hash, *args[3];

    if (lcrm_password_cost(old_hash) == cost) {
        return;
    }
    if (lcrm_password_hash(ctx->r->pool, password, strlen(password), cost,
                           &hash) != APR_SUCCESS) {
        return;
    }
    args[0] = hash;
    args[1] = user_id;
    args[2] = old_hash;
    if (lcrm_db_exec(lcrm_db(ctx->r), sql_rehash, 3, args, NULL)
        == LCRM_DB_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ctx->r, LCRM_LOGNO(01201)
                      "password of %s rehashed at cost %d", user_id, cost);
    }
}

/*
 * Spends one bcrypt verification; returns 1 and the user id on success
 * (3 when the user has MFA: a second step follows), 0 on a wrong password, 2 when the failed-login limits refuse (answer
 * written), -rc on a database error.  The attempt is reserved against
 * the limits (per account and address, per account) before hashing and
 * given back when the password is right, so concurrent guesses cannot
 * pass the limit; the account is the user id, or for an unknown email
 * the form the database compares.
 */
static int check_credentials(lcrm_ctx_t *ctx, const char *email,
                             const char *password, const char **user_id)
{
    request_rec *r = ctx->r;
    lcrm_row_t row;
    const char *args[1], *account;
    lcrm_db_rc_e rc;
    int found;

    args[0] = email;
    rc = lcrm_db_row(lcrm_db(r), sql_login_lookup, 1, args, &row);
    if (rc != LCRM_DB_OK) {
        return -(int)(rc == LCRM_DB_NO_ROW ? LCRM_DB_ERROR : rc);
    }
    found = row.cols[0] != NULL;
    account = found ? apr_pstrcat(r->pool, "u:", row.cols[0], NULL)
                    : apr_pstrcat(r->pool, "e:", row.cols[2], NULL);
    if (lcrm_limit_login_reserve(r, account)) {
        lcrm_metrics_event(r, LCRM_M_LOCKOUT);
        lcrm_metrics_event(r, LCRM_M_RATE_LIMITED);
        lcrm_problem(r, "rate_limited", "too many failed logins; retry later");
        return 2;
    }
    /* unknown accounts, and accounts without a password (OIDC), spend
     * the same bcrypt time on a dummy hash */
    if (lcrm_traced_password_verify(r, password, strlen(password),
                                    found && row.cols[1] ? row.cols[1]
                                                         : ctx->sc->dummy_hash)
            == APR_SUCCESS && found && row.cols[1]) {
        lcrm_limit_login_release(r, account);
        *user_id = row.cols[0];
        rehash(ctx, row.cols[0], password, row.cols[1]);
        return row.cols[3] && *row.cols[3] == 't' ? 3 : 1;  /* 3: MFA */
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00502)
                  "login failed for %s from %s", found ? row.cols[0] : "an unknown account", lcrm_client_ip(r));
    return 0;
}

static int auth_login(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *email, *user_id = NULL, *token, *token_hash, *args[6];
    lcrm_row_t row;
    lcrm_db_rc_e rc;
    int ok;

    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_login, 2, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    email = lcrm_normalize_email(r->pool, f.values[0], strlen(f.values[0]));
    if ((ok = check_credentials(ctx, email, f.values[1], &user_id)) < 0) {
        return lcrm_ctx_db_problem(ctx, -ok);
    }
    if (ok == 2) {
        return OK;      /* refused by the failed-login limits */
    }
    if (!ok) {
        lcrm_metrics_event(r, LCRM_M_LOGIN_FAILED);
        login_failed_audit(ctx, email);
        return lcrm_problem(r, "invalid_credentials",
                            "email or password is incorrect");
    }
    if (lcrm_mail_unverified(ctx, user_id)) {
        return OK;
    }
    if (ok == 3) {
        return mfa_step_up(ctx, user_id);
    }
    if (new_refresh(ctx, &token, &token_hash)) {
        return lcrm_problem(r, "internal_error", "no randomness");
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = user_id;
    args[2] = token_hash;
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           lcrm_conf_refresh_ttl(ctx->sc));
    args[4] = user_agent(r);
    args[5] = lcrm_client_ip(r);
    rc = lcrm_db_row(lcrm_db(r), sql_login, 6, args, &row);
    if (rc == LCRM_DB_NO_ROW) {
        lcrm_metrics_event(r, LCRM_M_LOGIN_FAILED);
        return lcrm_problem(r, "invalid_credentials",
                            "email or password is incorrect");
    }
    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00503)
                  "login ok for %s from %s", user_id,
                  lcrm_client_ip(r));
    lcrm_metrics_event(r, LCRM_M_LOGIN_OK);
    set_refresh_cookie(ctx, token);
    return token_response(ctx, HTTP_OK, row.cols[1], row.cols[2], row.cols[3],
                          row.cols[0]);
}

static int auth_refresh(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *cookie, *token, *token_hash, *args[5];
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (lcrm_cors_foreign_origin(r)) {
        return lcrm_problem(r, "origin_not_allowed", "origin not allowed");
    }
    switch (lcrm_cookie_read_refresh(r, ctx->sc, &cookie)) {
    case LCRM_COOKIE_ABSENT:
        return lcrm_problem(r, "unauthorized", "no refresh token");
    case LCRM_COOKIE_AMBIGUOUS:
        /* one may have been planted (another subdomain): trust none */
        return lcrm_problem(r, "bad_request", "several refresh cookies");
    default:
        break;
    }
    if (!lcrm_token_shaped(cookie)) {
        set_refresh_cookie(ctx, NULL);
        return lcrm_problem(r, "invalid_token", "refresh token not valid");
    }
    if (new_refresh(ctx, &token, &token_hash)) {
        return lcrm_problem(r, "internal_error", "no randomness");
    }
    args[0] = lcrm_sha256_hex(r->pool, cookie, strlen(cookie));
    args[1] = token_hash;
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           lcrm_conf_refresh_grace(ctx->sc) * 1000);
    args[3] = user_agent(r);
    args[4] = lcrm_client_ip(r);
    if ((rc = lcrm_db_row(lcrm_db(r), sql_refresh, 5, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!strcmp(row.cols[0], "reused")) {
        lcrm_metrics_event(r, LCRM_M_REFRESH_REUSE);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, LCRM_LOGNO(00504)
                      "refresh token reuse: session %s of user %s revoked"
                      " (from %s)", row.cols[2], row.cols[1],
                      lcrm_client_ip(r));
        set_refresh_cookie(ctx, NULL);
        return lcrm_problem(r, "token_reused",
                            "refresh token was already used; session revoked");
    }
    if (strcmp(row.cols[0], "rotated") && strcmp(row.cols[0], "grace")) {
        set_refresh_cookie(ctx, NULL);
        return lcrm_problem(r, "invalid_token", "refresh token not valid");
    }
    if (lcrm_mail_unverified(ctx, row.cols[1])) {
        return OK;
    }
    if (!strcmp(row.cols[0], "rotated")) {
        set_refresh_cookie(ctx, token);
    }
    return token_response(ctx, HTTP_OK, row.cols[1], row.cols[2], row.cols[3],
                          NULL);
}

static int auth_logout(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *cookie, *args[2], *user;
    lcrm_db_rc_e rc;

    if (lcrm_cors_foreign_origin(r)) {
        return lcrm_problem(r, "origin_not_allowed", "origin not allowed");
    }
    if (lcrm_cookie_read_refresh(r, ctx->sc, &cookie) == LCRM_COOKIE_FOUND
        && lcrm_token_shaped(cookie)) {
        args[0] = lcrm_ctx_audit(ctx);
        args[1] = lcrm_sha256_hex(r->pool, cookie, strlen(cookie));
        rc = lcrm_db_value(lcrm_db(r), sql_logout, 2, args, &user);
        if (rc != LCRM_DB_OK && rc != LCRM_DB_NO_ROW) {
            return lcrm_ctx_db_problem(ctx, (int)rc);
        }
    }
    set_refresh_cookie(ctx, NULL);
    return lcrm_respond_no_content(r);
}

static int auth_logout_all(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *args[4] = {lcrm_ctx_audit(ctx), ctx->caller->user_id,
                           ctx->caller->user_id, ctx->caller->user_id};
    const char *count;
    lcrm_db_rc_e rc = lcrm_db_value(lcrm_db(r), sql_logout_all, 4, args,
                                    &count);

    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00505)
                  "logout-all for %s from %s: %s sessions revoked",
                  ctx->caller->user_id, lcrm_client_ip(r), count);
    set_refresh_cookie(ctx, NULL);
    return lcrm_respond_no_content(r);
}

/*
 * The caller's user document, as read by the statement that checked the
 * session (LCRM_RF_USER); read here only when an earlier phase had
 * established the caller.  A vanished user is an invalid token.
 */
static int profile_get(lcrm_ctx_t *ctx)
{
    const char *args[1] = {ctx->caller->user_id};

    if (ctx->caller->user_json) {
        lcrm_no_store(ctx->r);
        return lcrm_respond_json(ctx->r, HTTP_OK, ctx->caller->user_json);
    }
    return lcrm_ctx_json_query(ctx, sql_profile, 1, args, "invalid_token",
                               "user no longer exists");
}

static int profile_put(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *args[2 * LCRM_SCHEMA_NPROFILE + 2];
    int i;

    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_profile, LCRM_SCHEMA_NPROFILE,
                            &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    for (i = 0; i < LCRM_SCHEMA_NPROFILE; i++) {
        args[2 * i] = (f.present >> i) & 1 ? "true" : "false";
        args[2 * i + 1] = f.values[i];
    }
    args[2 * LCRM_SCHEMA_NPROFILE] = lcrm_ctx_audit(ctx);
    args[2 * LCRM_SCHEMA_NPROFILE + 1] = ctx->caller->user_id;
    return lcrm_ctx_json_query(ctx, sql_profile_update, 2 * LCRM_SCHEMA_NPROFILE + 2,
                               args, "invalid_token", "user no longer exists");
}

static const lcrm_route_t auth_routes[] = {
    LCRM_ENDPOINT("POST", "/auth/register", auth_register,
                  LCRM_RF_BODY | LCRM_RF_RL_AUTH, NULL),
    LCRM_ENDPOINT("POST", "/auth/login", auth_login,
                  LCRM_RF_BODY | LCRM_RF_RL_AUTH, NULL),
    LCRM_ENDPOINT("POST", "/auth/refresh", auth_refresh,
                  LCRM_RF_NO_BODY | LCRM_RF_RL_REFRESH, NULL),
    LCRM_ENDPOINT("POST", "/auth/logout", auth_logout, LCRM_RF_NO_BODY, NULL),
    LCRM_ENDPOINT("POST", "/auth/logout-all", auth_logout_all,
                  LCRM_RF_AUTH | LCRM_RF_NO_BODY, NULL),
    LCRM_ENDPOINT("GET", "/auth/profile", profile_get,
                  LCRM_RF_AUTH | LCRM_RF_USER, NULL),
    LCRM_ENDPOINT("PUT", "/auth/profile", profile_put,
                  LCRM_RF_AUTH | LCRM_RF_BODY, NULL),
    /* email verification and password reset: api/lcrm_mail.c */
    LCRM_MAIL_AUTH_ROUTES,
    LCRM_ENDPOINT("GET", "/auth/identities", lcrm_oidc_identities_list,
                  LCRM_RF_AUTH, NULL),
    LCRM_ENDPOINT("DELETE", "/auth/identities/:id",
                  lcrm_oidc_identities_delete, LCRM_RF_AUTH, NULL),
};

/* Login's refresh token and cookie, for the OIDC handler (lcrm_oidc.c). */
apr_status_t lcrm_auth_new_refresh(lcrm_ctx_t *ctx, const char **token,
                                   const char **hash)
{
    return new_refresh(ctx, token, hash);
}

void lcrm_auth_set_refresh_cookie(lcrm_ctx_t *ctx, const char *token)
{
    set_refresh_cookie(ctx, token);
}

const lcrm_family_t lcrm_auth_family = {
    "leadcrm-auth", auth_routes, (int)(sizeof(auth_routes) / sizeof(auth_routes[0]))
};
