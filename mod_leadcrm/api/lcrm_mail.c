/*
 * lcrm_mail: email verification and password reset (API.md part 2 "Email
 * verification and password reset") on the /auth family, the
 * LeadCRMRequireVerifiedEmail gate used by register, login and refresh,
 * and GET /api/notifications (the outbox, SUPER_ADMIN).
 *
 * No token is made in a request: resend and forgot leave a job row (an
 * INSERT, never an account lookup, so known and unknown addresses take
 * the same path and time) that the mail worker turns into a token and a
 * mail.  verify-email and reset look tokens up by their SHA-256 hash.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_limit.h"
#include "lcrm_mail_api.h"
#include "lcrm_metrics.h"
#include "lcrm_password.h"
#include "lcrm_private.h"
#include "lcrm_list.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_secret.h"
#include "lcrm_validate.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ------------------------------------------------------------------ */

static const char *const sql_job_user =
    "INSERT INTO mail_jobs (kind, user_id) VALUES ('verify', CAST(%s AS uuid))";
static const char *const sql_job_email =
    "INSERT INTO mail_jobs (kind, email) VALUES (%s, %s)";
static const char *const sql_account =
    "SELECT email, email_verified FROM users WHERE id = CAST(%s AS uuid)"
    " AND deleted_at IS NULL";
static const char *const sql_verify =
    "SELECT outcome, user_json FROM lcrm_mail_verify(lcrm_actx(%s, %s))";
static const char *const sql_reset =
    "SELECT lcrm_mail_reset(lcrm_actx(%s, %s), %s)";
static const char *const sql_verified =
    "SELECT email_verified FROM users WHERE id = CAST(%s AS uuid)";
static const char *const sql_drop_session =
    "SELECT lcrm_revoke_sessions(CAST(%s AS uuid), NULL, 'logout')";

/* ---- field tables ---------------------------------------------------------- */

static const lcrm_field_t email_fields[] = {
    {"email", LCRM_FK_EMAIL, LCRM_F_REQUIRED, 3, 254, NULL},
};
static const lcrm_field_t token_fields[] = {
    {"token", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 1024, NULL},
};
static const lcrm_field_t reset_fields[] = {
    {"token", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 1024, NULL},
    {"newPassword", LCRM_FK_PASSWORD, LCRM_F_REQUIRED, 8, 72, NULL},
};

/* ---- helpers ---------------------------------------------------------------- */

static const lcrm_mail_conf_t *mail_conf(lcrm_ctx_t *ctx)
{
    return &ctx->sc->mail;
}

/* {"status": "accepted"} with 202. */
static int accepted(request_rec *r)
{
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_ACCEPTED, "{\"status\":\"accepted\"}");
}

/*
 * The mail class (per client address) is counted before the body is
 * read, so 400s count and a 503 (mail off) does not.  Returns 1 when an
 * answer was written.
 */
static int mail_gate(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    if (!lcrm_mail_enabled(mail_conf(ctx))) {
        return lcrm_problem(r, "mail_unavailable",
                            "mail is not configured on this server") == OK;
    }
    if (lcrm_limit(r, LCRM_RL_MAIL, NULL, 1, 1)) {
        lcrm_metrics_event(r, LCRM_M_RATE_LIMITED);
        return lcrm_problem(r, "rate_limited",
                            "too many mail requests; retry later") == OK;
    }
    return 0;
}

/*
 * Counts one mail to email in the mail-target class.  Over the limit the
 * answer stays 202 (nothing is sent): the headers that class set are
 * replaced by the mail counter's.  Returns 1 when a mail may be queued.
 */
static int target_allows(lcrm_ctx_t *ctx, const char *email)
{
    request_rec *r = ctx->r;
    if (!lcrm_limit(r, LCRM_RL_MAIL_TARGET, email, 1, 0)) {
        return 1;
    }
    lcrm_limit(r, LCRM_RL_MAIL, NULL, 0, 1);
    apr_table_unset(r->err_headers_out, "Retry-After");
    apr_table_unset(r->headers_out, "Retry-After");
    return 0;
}

/* Reads a strict JSON body and the fields; 0, or an answer was written. */
static int read_fields(lcrm_ctx_t *ctx, const lcrm_field_t *specs, int n,
                       lcrm_fields_t *f)
{
    lcrm_problem_info_t p;
    if (lcrm_read_json(ctx->r, lcrm_conf_max_body(ctx->dc), &ctx->body, &p)) {
        lcrm_problem(ctx->r, p.code, p.detail);
        return 1;
    }
    if (lcrm_fields_extract(ctx->r->pool, ctx->body, specs, n, f)) {
        lcrm_ctx_invalid(ctx, f->errors);
        return 1;
    }
    return 0;
}

static int queue_email_job(lcrm_ctx_t *ctx, const char *kind,
                           const char *email)
{
    const char *args[2] = {kind, email};
    lcrm_db_rc_e rc;

    if (target_allows(ctx, email)
        && (rc = lcrm_db_exec(lcrm_db(ctx->r), sql_job_email, 2, args,
                              NULL))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    return accepted(ctx->r);
}

/* ---- endpoints -------------------------------------------------------------- */

/* POST /auth/password/forgot {email}: 202 in every case. */
int lcrm_mail_password_forgot(lcrm_ctx_t *ctx)
{
    lcrm_fields_t f;

    if (mail_gate(ctx) || read_fields(ctx, email_fields, 1, &f)) {
        return OK;
    }
    return queue_email_job(ctx, "reset", f.values[0]);
}

/* Bearer resend: the caller's own account. */
static int resend_own(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *args[1] = {ctx->caller->user_id};
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    ap_discard_request_body(r);
    if ((rc = lcrm_db_row(lcrm_db(r), sql_account, 1, args, &row))) {
        return rc == LCRM_DB_NO_ROW
                   ? lcrm_problem(r, "invalid_token", "user no longer exists")
                   : lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!strcmp(row.cols[1], "t")) {
        return lcrm_problem(r, "email_already_verified",
                            "this email address is already verified");
    }
    if (target_allows(ctx, row.cols[0])
        && (rc = lcrm_db_exec(lcrm_db(r), sql_job_user, 1, args, NULL))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    return accepted(r);
}

/* POST /auth/verify-email/resend: Bearer (no body needed) or {email}. */
int lcrm_mail_verify_resend(lcrm_ctx_t *ctx)
{
    lcrm_fields_t f;

    if (mail_gate(ctx)) {
        return OK;
    }
    if (ctx->caller->authenticated) {
        return resend_own(ctx);
    }
    if (read_fields(ctx, email_fields, 1, &f)) {
        return OK;
    }
    return queue_email_job(ctx, "verify", f.values[0]);
}

/* POST /auth/verify-email {token} -> 200 {user}. */
int lcrm_mail_verify_email(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *args[2];
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (lcrm_fields_extract(r->pool, ctx->body, token_fields, 1, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (!lcrm_token_shaped(f.values[0])) {
        return lcrm_problem(r, "invalid_or_expired_token",
                            "the link is invalid or has expired");
    }
    args[0] = lcrm_ctx_audit(ctx);      /* audit context (auth.email_verified) */
    args[1] = lcrm_sha256_hex(r->pool, f.values[0], strlen(f.values[0]));
    if ((rc = lcrm_db_row(lcrm_db(r), sql_verify, 2, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(row.cols[0], "ok")) {
        return lcrm_problem(r, "invalid_or_expired_token",
                            "the link is invalid or has expired");
    }
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_OK, apr_pstrcat(r->pool, "{\"user\":",
                                                     row.cols[1], "}", NULL));
}

/* POST /auth/password/reset {token, newPassword} -> 204. */
int lcrm_mail_password_reset(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *args[3], *user = NULL;
    lcrm_db_rc_e rc;

    if (lcrm_fields_extract(r->pool, ctx->body, reset_fields, 2, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    if (!lcrm_token_shaped(f.values[0])) {
        return lcrm_problem(r, "invalid_or_expired_token",
                            "the link is invalid or has expired");
    }
    args[0] = lcrm_ctx_audit(ctx);      /* audit context (auth.password_reset) */
    args[1] = lcrm_sha256_hex(r->pool, f.values[0], strlen(f.values[0]));
    if (lcrm_password_hash(r->pool, f.values[1], strlen(f.values[1]),
                           lcrm_conf_bcrypt_cost(ctx->sc), &args[2])) {
        return lcrm_problem(r, "internal_error", "cannot hash the password");
    }
    rc = lcrm_db_value(lcrm_db(r), sql_reset, 3, args, &user);
    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!user) {
        return lcrm_problem(r, "invalid_or_expired_token",
                            "the link is invalid or has expired");
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(01501)
                  "password reset for %s from %s", user,
                  lcrm_client_ip(r));
    return lcrm_respond_no_content(r);
}

/* ---- LeadCRMRequireVerifiedEmail ---------------------------------------------- */

int lcrm_mail_unverified(lcrm_ctx_t *ctx, const char *user_id)
{
    const char *args[1] = {user_id}, *v = NULL;
    lcrm_db_rc_e rc;

    if (!lcrm_mail_require_verified(mail_conf(ctx))) {
        return 0;
    }
    rc = lcrm_db_value(lcrm_db(ctx->r), sql_verified, 1, args, &v);
    if (rc != LCRM_DB_OK && rc != LCRM_DB_NO_ROW) {
        lcrm_ctx_db_problem(ctx, (int)rc);
        return 1;
    }
    if (v && !strcmp(v, "t")) {
        return 0;
    }
    lcrm_problem(ctx->r, "email_not_verified",
                 "confirm your email address first (see the mail we sent)");
    return 1;
}

int lcrm_mail_register_answer(lcrm_ctx_t *ctx, const char *user_id,
                              const char *user_json)
{
    request_rec *r = ctx->r;
    const char *args[1] = {user_id}, *n;
    lcrm_db_rc_e rc;

    if (!lcrm_mail_require_verified(mail_conf(ctx))) {
        return DECLINED;
    }
    if ((rc = lcrm_db_value(lcrm_db(r), sql_drop_session, 1, args, &n))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    apr_table_setn(r->err_headers_out, "Location", "/auth/profile");
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_CREATED, apr_pstrcat(r->pool,
                             "{\"user\":", user_json, "}", NULL));
}

/* ---- GET /api/notifications ----------------------------------------------------- */

static const char *const kinds[] = {
    "email_verification", "password_reset", "password_changed",
    "email_changed", "booking_confirmation", "booking_rescheduled",
    "booking_cancelled", "booking_reminder", "lead_alert", "lead_assigned",
    "mfa_disabled", "identity_linked", NULL};

static const char *check_status(apr_pool_t *pool, const char *v,
                                const char **out)
{
    static const char *const statuses[] = {"QUEUED", "SENT", "FAILED", NULL};

    (void)pool;
    *out = v;
    return lcrm_list_enum(statuses, v) ? "must be QUEUED, SENT or FAILED"
                                       : NULL;
}

static const char *check_kind(apr_pool_t *pool, const char *v,
                              const char **out)
{
    (void)pool;
    *out = v;
    return lcrm_list_enum(kinds, v) ? "must be a notification kind" : NULL;
}

static const char *check_recipient(apr_pool_t *pool, const char *v,
                                   const char **out)
{
    (void)pool;
    *out = v;
    return lcrm_check_email(v) || strlen(v) > 254 ? "must be an email address"
                                                  : NULL;
}

/*
 * The outbox list through the list toolkit: newest first, ties by id;
 * recipient matches to_addr case-insensitively (mail_outbox_to_idx);
 * from (inclusive) and to (exclusive) filter created_at.
 */
static const lcrm_list_filter_t notification_filters[] = {
    {"status", " AND o.status = CAST(%s AS text)", 1, check_status},
    {"kind", " AND o.kind = CAST(%s AS text)", 1, check_kind},
    {"recipient", " AND lower(o.to_addr) = lower(CAST(%s AS text))", 1,
     check_recipient},
    {"from", " AND o.created_at >= CAST(%s AS timestamptz)", 1,
     lcrm_list_time},
    {"to", " AND o.created_at < CAST(%s AS timestamptz)", 1, lcrm_list_time},
};
static const lcrm_list_sort_t notification_sorts[] = {
    {"-createdAt", {{"o.created_at", "timestamptz", 1, 0},
                    {"o.id", "uuid", 1, 0}, {NULL}}},
};
static const lcrm_list_def_t notification_list_def = {
    "GET /api/notifications", " FROM mail_outbox o", " WHERE TRUE",
    "lcrm_mail_notification_json(o)", notification_filters,
    (int)(sizeof(notification_filters) / sizeof(notification_filters[0])),
    notification_sorts,
    (int)(sizeof(notification_sorts) / sizeof(notification_sorts[0])),
    "from", "to", NULL, 1
};

static int notifications_list(lcrm_ctx_t *ctx)
{
    lcrm_list_t l;

    if (ctx->caller->role < LCRM_ROLE_SUPER_ADMIN) {
        return lcrm_problem(ctx->r, "forbidden", "super administrators only");
    }
    if (lcrm_list_begin(&l, ctx, &notification_list_def)) {
        return OK;
    }
    return lcrm_list_respond(&l);
}

static const char *const notifications_query[] = {
    "page", "limit", "cursor", "status", "kind", "recipient", "from", "to",
    NULL};

static const lcrm_route_t notifications_routes[] = {
    LCRM_ENDPOINT("GET", "/api/notifications", notifications_list,
                  LCRM_RF_AUTH, notifications_query),
};

const lcrm_family_t lcrm_notifications_family = {
    "leadcrm-notifications", notifications_routes,
    (int)(sizeof(notifications_routes) / sizeof(notifications_routes[0]))
};

