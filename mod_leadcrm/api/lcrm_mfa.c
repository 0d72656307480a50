/*
 * lcrm_mfa: TOTP two-factor authentication (API.md part 2 "Two-factor
 * authentication"): setup, enable, disable, new recovery codes, and the
 * login step-up (/auth/mfa/verify).  Part of the leadcrm-auth family.
 *
 * The seed is sealed with the LeadCRMDataKeyFile keyring (core lcrm_aead,
 * aad "totp:<user id>") before it reaches the database, and opened here
 * only to check a code (core lcrm_totp, liboath, one step of skew either
 * side).  The database function that records the change also enforces
 * single use: the accepted step must be later than the user's last one,
 * a recovery code (stored as SHA-256 of "<user id>:<code>") or an mfaToken
 * (SHA-256) is used once.  Wrong codes count in the mfa-failures class
 * (per account, across processes); past it even right codes get 429.
 */
#include "lcrm_aead.h"
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_limit.h"
#include "lcrm_password.h"
#include "lcrm_private.h"
#include "lcrm_router.h"
#include "lcrm_secret.h"
#include "lcrm_security.h"
#include "lcrm_mail_api.h"
#include "lcrm_totp.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ------------------------------------------------------------------ */

static const char *const sql_password =
    "SELECT password_hash, email FROM users WHERE id = CAST(%s AS uuid)"
    " AND deleted_at IS NULL";
static const char *const sql_state =
    "SELECT u.mfa_enabled, m.secret_sealed, m.pending_sealed,"
    " m.pending_expires_at > now() FROM users u"
    " LEFT JOIN user_mfa m ON m.user_id = u.id WHERE u.id = CAST(%s AS uuid)";
static const char *const sql_setup =
    "SELECT lcrm_mfa_setup(CAST(%s AS uuid), %s, 600)";
static const char *const sql_enable =
    "SELECT lcrm_mfa_enable(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid), %s, CAST(%s AS bigint), string_to_array(%s, ','))";
static const char *const sql_change =
    "SELECT lcrm_mfa_change(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid), CAST(%s AS bigint), %s, string_to_array(%s, ','))";
static const char *const sql_challenge_issue =
    "SELECT lcrm_mfa_challenge_issue(CAST(%s AS uuid), %s,"
    " CAST(%s AS integer), %s)";
static const char *const sql_challenge_get =
    "SELECT user_id, secret_sealed FROM lcrm_mfa_challenge_get(%s)";
static const char *const sql_challenge_fail =
    "SELECT lcrm_mfa_challenge_fail(lcrm_actx(%s, %s))";
static const char *const sql_mfa_login =
    "SELECT outcome, user_json, user_id, session_id, role FROM lcrm_mfa_login("
    "lcrm_actx(%s, %s), CAST(%s AS bigint), %s, %s, CAST(%s AS integer),"
    " %s, %s)";

/* ---- field tables ---------------------------------------------------------- */

static const lcrm_field_t setup_fields[] = {
    {"password", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 1024, NULL},
};
static const lcrm_field_t enable_fields[] = {
    {"code", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 64, NULL},
};
static const lcrm_field_t change_fields[] = {
    {"password", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 1024, NULL},
    {"code", LCRM_FK_SECRET, 0, 0, 64, NULL},
    {"recoveryCode", LCRM_FK_SECRET, 0, 0, 64, NULL},
};
static const lcrm_field_t verify_fields[] = {
    {"mfaToken", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 128, NULL},
    {"code", LCRM_FK_SECRET, 0, 0, 64, NULL},
    {"recoveryCode", LCRM_FK_SECRET, 0, 0, 64, NULL},
};

/* ---- helpers ---------------------------------------------------------------- */

/* Exactly one of code / recoveryCode (fields i and i + 1). */
static int one_factor(lcrm_ctx_t *ctx, const lcrm_fields_t *f, int i)
{
    apr_array_header_t *errors;

    if (!f->values[i] != !f->values[i + 1]) {
        return 0;
    }
    errors = apr_array_make(ctx->r->pool, 1, sizeof(lcrm_field_error_t));
    lcrm_fields_error(errors, "code", "send exactly one of code and "
                                      "recoveryCode");
    lcrm_ctx_invalid(ctx, errors);
    return 1;
}

static const char *totp_aad(apr_pool_t *p, const char *user_id)
{
    return apr_pstrcat(p, "totp:", user_id, NULL);
}

/* The mfa-failures class for user_id is exhausted: 429 answered. */
static int mfa_limited(lcrm_ctx_t *ctx, const char *user_id)
{
    if (!lcrm_limit(ctx->r, LCRM_RL_MFA_FAIL, user_id, 0, 0)) {
        return 0;
    }
    lcrm_problem(ctx->r, "rate_limited", "too many wrong codes; retry later");
    return 1;
}

/* One more wrong code of user_id. */
static void mfa_failed(lcrm_ctx_t *ctx, const char *user_id)
{
    lcrm_limit(ctx->r, LCRM_RL_MFA_FAIL, user_id, 1, 0);
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, ctx->r, LCRM_LOGNO(01610)
                  "wrong second factor for %s from %s",
                  user_id, lcrm_client_ip(ctx->r));
}

/*
 * Checks a TOTP code against a sealed seed: 0 and *step on a match, 1 when
 * the code is wrong, -1 when the seed cannot be opened.
 */
static int check_code(lcrm_ctx_t *ctx, const char *user_id,
                      const char *sealed, const char *code, apr_int64_t *step)
{
    const lcrm_aead_ring_t *ring = lcrm_config_data_key(ctx->r->server);
    unsigned char *seed;
    apr_size_t len;

    if (!ring || !sealed
        || lcrm_aead_open(ctx->r->pool, ring, sealed,
                          totp_aad(ctx->r->pool, user_id), &seed, &len)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, LCRM_LOGNO(01611)
                      "cannot open the TOTP seed of %s (LeadCRMDataKeyFile "
                      "missing or without its key)", user_id);
        return -1;
    }
    return lcrm_totp_check(seed, len, apr_time_sec(apr_time_now()), code,
                           step) ? 1 : 0;
}

/* The SHA-256 hex under which a recovery code of user_id is stored. */
static const char *recovery_hash(apr_pool_t *p, const char *user_id,
                                 const char *canon)
{
    const char *s = apr_pstrcat(p, user_id, ":", canon, NULL);
    return lcrm_sha256_hex(p, s, strlen(s));
}

/* New recovery codes: the JSON answer and their hashes (comma list). */
static int new_codes(lcrm_ctx_t *ctx, json_object **answer,
                     const char **hashes)
{
    apr_pool_t *p = ctx->r->pool;
    json_object *o = lcrm_json_own(p, json_object_new_object());
    json_object *arr = json_object_new_array();
    const char *shown, *canon, *list = NULL;
    int i;

    json_object_object_add(o, "recoveryCodes", arr);
    for (i = 0; i < LCRM_RECOVERY_COUNT; i++) {
        if (lcrm_recovery_new(p, &shown)
            || lcrm_recovery_normalize(p, shown, &canon)) {
            return -1;
        }
        json_object_array_add(arr, json_object_new_string(shown));
        canon = recovery_hash(p, ctx->caller->user_id, canon);
        list = list ? apr_pstrcat(p, list, ",", canon, NULL) : canon;
    }
    *answer = o;
    *hashes = list;
    return 0;
}

int lcrm_sec_check_password(lcrm_ctx_t *ctx, const char *password,
                            const char **email)
{
    const char *args[1] = {ctx->caller->user_id};
    lcrm_row_t row;
    lcrm_db_rc_e rc = lcrm_db_row(lcrm_db(ctx->r), sql_password, 1, args,
                                  &row);

    if (rc == LCRM_DB_NO_ROW) {
        lcrm_problem(ctx->r, "invalid_token", "user no longer exists");
        return 1;
    }
    if (rc != LCRM_DB_OK) {
        lcrm_ctx_db_problem(ctx, (int)rc);
        return 1;
    }
    if (!row.cols[0] || !lcrm_password_is_bcrypt(row.cols[0])) {
        lcrm_problem(ctx->r, "password_required",
                     "set a password first (password reset)");
        return 1;
    }
    if (lcrm_password_verify(password, strlen(password), row.cols[0])) {
        lcrm_problem(ctx->r, "invalid_current_password",
                     "the password is not correct");
        return 1;
    }
    if (email) {
        *email = row.cols[1];
    }
    return 0;
}

/* Reads the caller's MFA state row (see sql_state); 0 or answered. */
static int mfa_state(lcrm_ctx_t *ctx, lcrm_row_t *row)
{
    const char *args[1] = {ctx->caller->user_id};
    lcrm_db_rc_e rc = lcrm_db_row(lcrm_db(ctx->r), sql_state, 1, args, row);

    if (rc == LCRM_DB_OK) {
        return 0;
    }
    if (rc == LCRM_DB_NO_ROW) {
        lcrm_problem(ctx->r, "invalid_token", "user no longer exists");
    }
    else {
        lcrm_ctx_db_problem(ctx, (int)rc);
    }
    return 1;
}

/* ---- Bearer routes ---------------------------------------------------------- */

static int mfa_setup(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const lcrm_aead_ring_t *ring = lcrm_config_data_key(r->server);
    const char *email, *sealed, *args[2], *outcome;
    unsigned char *seed;
    json_object *o;
    lcrm_fields_t f;
    lcrm_db_rc_e rc;

    if (lcrm_fields_extract(r->pool, ctx->body, setup_fields, 1, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (!ring) {
        return lcrm_problem(r, "service_unavailable",
                            "two-factor authentication is not configured");
    }
    if (lcrm_sec_check_password(ctx, f.values[0], &email)) {
        return OK;
    }
    if (lcrm_totp_new_secret(r->pool, &seed)
        || lcrm_aead_seal(r->pool, ring, seed, LCRM_TOTP_SECRET_LEN,
                          totp_aad(r->pool, ctx->caller->user_id), &sealed)) {
        return lcrm_problem(r, "internal_error", "cannot make a TOTP seed");
    }
    args[0] = ctx->caller->user_id;
    args[1] = sealed;
    if ((rc = lcrm_db_value(lcrm_db(r), sql_setup, 2, args, &outcome))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(outcome, "ok")) {
        return lcrm_problem(r, outcome, "two-factor authentication is on");
    }
    o = lcrm_json_own(r->pool, json_object_new_object());
    json_object_object_add(o, "secret", json_object_new_string(
        lcrm_base32_encode(r->pool, seed, LCRM_TOTP_SECRET_LEN)));
    json_object_object_add(o, "otpauthUri", json_object_new_string(
        lcrm_otpauth_uri(r->pool, lcrm_conf_mfa_issuer(ctx->sc), email, seed,
                         LCRM_TOTP_SECRET_LEN)));
    lcrm_no_store(r);
    return lcrm_respond_obj(r, HTTP_OK, o);
}

static int mfa_enable(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *args[6], *outcome, *hashes;
    const char *uid = ctx->caller->user_id;
    apr_int64_t step = 0;
    json_object *answer;
    lcrm_fields_t f;
    lcrm_row_t st;
    lcrm_db_rc_e rc;
    int bad;

    if (lcrm_fields_extract(r->pool, ctx->body, enable_fields, 1, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (mfa_state(ctx, &st)) {
        return OK;
    }
    if (*st.cols[0] == 't') {
        return lcrm_problem(r, "mfa_already_enabled",
                            "two-factor authentication is on");
    }
    if (!st.cols[2] || !st.cols[3] || *st.cols[3] != 't') {
        return lcrm_problem(r, "mfa_setup_required",
                            "no pending secret: call setup first");
    }
    if (mfa_limited(ctx, uid)) {
        return OK;
    }
    if ((bad = check_code(ctx, uid, st.cols[2], f.values[0], &step)) < 0) {
        return lcrm_problem(r, "service_unavailable", "cannot check codes");
    }
    if (bad) {
        mfa_failed(ctx, uid);
        return lcrm_problem(r, "invalid_code", "the code is not correct");
    }
    if (new_codes(ctx, &answer, &hashes)) {
        return lcrm_problem(r, "internal_error", "no randomness");
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = uid;
    args[2] = ctx->caller->session_id;
    args[3] = st.cols[2];
    args[4] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, step);
    args[5] = hashes;
    if ((rc = lcrm_db_value(lcrm_db(r), sql_enable, 6, args, &outcome))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!strcmp(outcome, "invalid_code")) {
        mfa_failed(ctx, uid);
    }
    if (strcmp(outcome, "ok")) {
        return lcrm_problem(r, outcome, NULL);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(01612)
                  "MFA enabled for %s", uid);
    lcrm_no_store(r);
    return lcrm_respond_obj(r, HTTP_OK, answer);
}

/* disable (codes == 0) and recovery-codes (codes == 1). */
static int mfa_change(lcrm_ctx_t *ctx, int codes)
{
    request_rec *r = ctx->r;
    const char *args[6], *outcome, *hashes = NULL, *canon;
    const char *uid = ctx->caller->user_id;
    apr_int64_t step = 0;
    json_object *answer = NULL;
    lcrm_fields_t f;
    lcrm_row_t st;
    lcrm_db_rc_e rc;
    int bad = 0;

    if (lcrm_fields_extract(r->pool, ctx->body, change_fields, 3, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (one_factor(ctx, &f, 1) || lcrm_sec_check_password(ctx, f.values[0],
                                                          NULL)
        || mfa_state(ctx, &st)) {
        return OK;
    }
    if (*st.cols[0] != 't') {
        return lcrm_problem(r, "mfa_not_enabled",
                            "two-factor authentication is off");
    }
    if (mfa_limited(ctx, uid)) {
        return OK;
    }
    if (f.values[1]) {
        bad = check_code(ctx, uid, st.cols[1], f.values[1], &step);
        if (bad < 0) {
            return lcrm_problem(r, "service_unavailable", "cannot check codes");
        }
    }
    else if (lcrm_recovery_normalize(r->pool, f.values[2], &canon)) {
        bad = 1;
    }
    if (bad) {
        mfa_failed(ctx, uid);
        return lcrm_problem(r, "invalid_code", "the code is not correct");
    }
    if (codes && new_codes(ctx, &answer, &hashes)) {
        return lcrm_problem(r, "internal_error", "no randomness");
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = uid;
    args[2] = ctx->caller->session_id;
    args[3] = f.values[1] ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT, step)
                          : NULL;
    args[4] = f.values[1] ? NULL : recovery_hash(r->pool, uid, canon);
    args[5] = hashes;
    if ((rc = lcrm_db_value(lcrm_db(r), sql_change, 6, args, &outcome))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!strcmp(outcome, "invalid_code")) {
        mfa_failed(ctx, uid);
    }
    if (strcmp(outcome, "ok")) {
        return lcrm_problem(r, outcome, NULL);
    }
    lcrm_no_store(r);
    return codes ? lcrm_respond_obj(r, HTTP_OK, answer)
                 : lcrm_respond_no_content(r);
}

static int mfa_disable(lcrm_ctx_t *ctx)
{
    return mfa_change(ctx, 0);
}

static int mfa_recovery_codes(lcrm_ctx_t *ctx)
{
    return mfa_change(ctx, 1);
}

/* ---- login step-up ------------------------------------------------------------ */

int lcrm_mfa_issue_challenge(request_rec *r, const char *user_id,
                             const char *method, const char **token)
{
    const char *args[4], *ignored;

    if (lcrm_random_token(r->pool, LCRM_REFRESH_TOKEN_BYTES, token)) {
        return -1;
    }
    args[0] = user_id;
    args[1] = lcrm_sha256_hex(r->pool, *token, strlen(*token));
    args[2] = apr_psprintf(r->pool, "%d", LCRM_MFA_CHALLENGE_TTL);
    args[3] = method;
    return (int)lcrm_db_value(lcrm_db(r), sql_challenge_issue, 4, args,
                              &ignored);
}

/* A wrong factor for a live challenge: counted, audited, 401. */
static int verify_failed(lcrm_ctx_t *ctx, const char *hash,
                         const char *user_id)
{
    const char *args[2] = {lcrm_ctx_audit(ctx), hash}, *ignored;

    mfa_failed(ctx, user_id);
    lcrm_db_value(lcrm_db(ctx->r), sql_challenge_fail, 2, args, &ignored);
    return lcrm_problem_status(ctx->r, "invalid_code", HTTP_UNAUTHORIZED,
                               "the code is not correct");
}

/* Completes the login once the factor was checked. */
static int verify_complete(lcrm_ctx_t *ctx, const char *hash,
                           const char *step, const char *recovery)
{
    request_rec *r = ctx->r;
    const char *args[8], *token, *token_hash;
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (lcrm_random_token(r->pool, LCRM_REFRESH_TOKEN_BYTES, &token)) {
        return lcrm_problem(r, "internal_error", "no randomness");
    }
    token_hash = lcrm_sha256_hex(r->pool, token, strlen(token));
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = hash;
    args[2] = step;
    args[3] = recovery;
    args[4] = token_hash;
    args[5] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           lcrm_conf_refresh_ttl(ctx->sc));
    args[6] = apr_table_get(r->headers_in, "User-Agent");
    args[7] = lcrm_client_ip(r);
    if (args[6] && lcrm_check_text(args[6], strlen(args[6]), 0, NULL)) {
        args[6] = NULL;
    }
    if ((rc = lcrm_db_row(lcrm_db(r), sql_mfa_login, 8, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(row.cols[0], "ok") || !row.cols[3]) {
        if (row.cols[2]) {
            lcrm_limit(r, LCRM_RL_MFA_FAIL, row.cols[2], 1, 0);
        }
        return lcrm_problem_status(r, "invalid_code", HTTP_UNAUTHORIZED,
                                   "the code is not correct");
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(01613)
                  "login ok (with MFA) for %s from %s", row.cols[2], lcrm_client_ip(r));
    return lcrm_auth_login_response(ctx, token, row.cols[2], row.cols[3],
                                    row.cols[4], row.cols[1]);
}

static int mfa_verify(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *args[1], *hash, *canon = NULL, *uid;
    apr_int64_t step = 0;
    lcrm_fields_t f;
    lcrm_row_t row;
    lcrm_db_rc_e rc;
    int bad = 0;

    if (lcrm_fields_extract(r->pool, ctx->body, verify_fields, 3, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (one_factor(ctx, &f, 1)) {
        return OK;
    }
    hash = args[0] = lcrm_sha256_hex(r->pool, f.values[0],
                                     strlen(f.values[0]));
    rc = lcrm_db_row(lcrm_db(r), sql_challenge_get, 1, args, &row);
    if (rc == LCRM_DB_NO_ROW) {
        return lcrm_problem_status(r, "invalid_code", HTTP_UNAUTHORIZED,
                                   "the login is unknown or expired");
    }
    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    uid = row.cols[0];
    if (mfa_limited(ctx, uid)) {
        return OK;
    }
    if (f.values[1]) {
        if ((bad = check_code(ctx, uid, row.cols[1], f.values[1], &step)) < 0) {
            return lcrm_problem(r, "service_unavailable", "cannot check codes");
        }
    }
    else {
        bad = lcrm_recovery_normalize(r->pool, f.values[2], &canon) != 0;
    }
    if (bad) {
        return verify_failed(ctx, hash, uid);
    }
    /* LeadCRMRequireVerifiedEmail: 403 email_not_verified, no session */
    if (lcrm_mail_unverified(ctx, uid)) {
        return OK;
    }
    return verify_complete(ctx, hash,
                           canon ? NULL : apr_psprintf(r->pool, "%"
                                                       APR_INT64_T_FMT, step),
                           canon ? recovery_hash(r->pool, uid, canon) : NULL);
}

static const lcrm_route_t mfa_routes[] = {
    LCRM_ENDPOINT("POST", "/auth/mfa/totp/setup", mfa_setup,
                  LCRM_RF_AUTH | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("POST", "/auth/mfa/totp/enable", mfa_enable,
                  LCRM_RF_AUTH | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("POST", "/auth/mfa/totp/disable", mfa_disable,
                  LCRM_RF_AUTH | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("POST", "/auth/mfa/recovery-codes", mfa_recovery_codes,
                  LCRM_RF_AUTH | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("POST", "/auth/mfa/verify", mfa_verify,
                  LCRM_RF_BODY | LCRM_RF_RL_AUTH, NULL),
};

const lcrm_family_t lcrm_mfa_family = {
    "leadcrm-auth", mfa_routes, (int)(sizeof(mfa_routes) / sizeof(mfa_routes[0]))
};
