/*
 * lcrm_oidc: sign-in with an OpenID Connect provider (API.md part 2),
 * the `leadcrm-oidc` family (GET /auth/oidc/login) and the caller's linked
 * identities (GET /auth/identities, DELETE /auth/identities/:id, routed by
 * the leadcrm-auth family).
 *
 * mod_auth_openidc runs the whole authorization-code flow in front of this
 * handler (AuthType openid-connect); the handler only maps what it
 * verified to a mod_leadcrm session.  The identity is read from the
 * request environment mod_auth_openidc fills (OIDC_CLAIM_iss, _sub,
 * _email, _email_verified, _name; iss and sub also from its
 * OIDC_id_token_payload), never from request headers, and only when
 * mod_auth_openidc authenticated this very request (r->ap_auth_type is
 * openid-connect and r->user is set); otherwise the handler refuses with
 * a logged 500.  The start-up side of that rule is httpd/lcrm_oidc_conf.c.
 *
 * Finding, linking or provisioning the account and opening the session is
 * one database function (lcrm_oidc_signin, sql/0030_oidc.sql).  Every
 * outcome is a 302 to LeadCRMOIDCLandingURL; failures carry #error=CODE.
 * Afterwards mod_auth_openidc's own session cookie is expired, so the
 * provider login is used once and only the mod_leadcrm session remains.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_private.h"
#include "lcrm_router.h"
#include "lcrm_security.h"
#include "lcrm_mail_conf.h"
#include "lcrm_secret.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>

#define OIDC_AUTH_TYPE "openid-connect"
#define OIDC_CLAIM(n) "OIDC_CLAIM_" n
#define OIDC_SESSION_COOKIE "mod_auth_openidc_session"
#define NAME_MAX_CP 100

/* ---- SQL ------------------------------------------------------------------ */

static const char *const sql_signin =
    "SELECT outcome, user_id, session_id, role, linked FROM lcrm_oidc_signin("
    "%s, %s, %s, CAST(%s AS boolean), %s, CAST(%s AS boolean),"
    " CAST(%s AS boolean), CAST(%s AS boolean), %s, CAST(%s AS integer),"
    " %s, %s, %s)";
static const char *const sql_identities =
    "SELECT json_build_object('data', coalesce(json_agg(lcrm_identity_json(i)"
    " ORDER BY i.created_at DESC, i.id DESC), '[]'::json))"
    " FROM user_identities i WHERE i.user_id = CAST(%s AS uuid)";
static const char *const sql_unlink =
    "SELECT lcrm_oidc_unlink(CAST(%s AS uuid), CAST(%s AS uuid), %s, %s)";

/* What mod_auth_openidc verified about the person. */
typedef struct {
    const char *iss;
    const char *sub;
    const char *email;      /* validated and lowercased, or NULL */
    int email_verified;
    const char *name;       /* display name to provision with */
} oidc_claims_t;

/* ---- claims ---------------------------------------------------------------- */

/* Non-zero only when mod_auth_openidc authenticated this request. */
static int openidc_authenticated(const request_rec *r)
{
    return r->ap_auth_type && !strcasecmp(r->ap_auth_type, OIDC_AUTH_TYPE)
           && r->user && *r->user;
}

static const char *env(const request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->subprocess_env, name);
    return v && *v ? v : NULL;
}

/* A string member of OIDC_id_token_payload (fallback for iss and sub). */
static const char *payload_claim(request_rec *r, const char *name)
{
    const char *text = env(r, "OIDC_id_token_payload"), *why;
    json_object *o, *v;

    if (!text || lcrm_json_parse_value(r->pool, text, strlen(text), 8, &o,
                                       &why) != APR_SUCCESS
        || !json_object_is_type(o, json_type_object)
        || !json_object_object_get_ex(o, name, &v)
        || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return apr_pstrdup(r->pool, json_object_get_string(v));
}

static int text_ok(const char *s, apr_size_t max_bytes)
{
    return s && strlen(s) <= max_bytes && !lcrm_check_text(s, strlen(s), 0,
                                                           NULL);
}

/* s cut to at most n code points (s is valid UTF-8). */
static const char *cut_codepoints(apr_pool_t *p, const char *s, int n)
{
    const char *e = s;

    while (*e && n-- > 0) {
        e++;
        while ((*e & 0xC0) == 0x80) {
            e++;
        }
    }
    return apr_pstrmemdup(p, s, e - s);
}

/* The name claim, else the email's local part, cut to 100 code points. */
static const char *display_name(request_rec *r, const char *name,
                                const char *email)
{
    const char *n = name;

    while (n && (*n == ' ' || *n == '\t')) {
        n++;
    }
    if (!text_ok(n, 4096) || !*n) {
        n = email ? apr_pstrmemdup(r->pool, email, strcspn(email, "@")) : NULL;
    }
    return n ? cut_codepoints(r->pool, n, NAME_MAX_CP) : NULL;
}

/* Reads the claims; returns NULL or what is wrong (for the log). */
static const char *read_claims(request_rec *r, oidc_claims_t *c)
{
    const char *email = env(r, OIDC_CLAIM("email"));
    const char *verified = env(r, OIDC_CLAIM("email_verified"));

    c->iss = env(r, OIDC_CLAIM("iss"));
    c->sub = env(r, OIDC_CLAIM("sub"));
    if (!c->iss || !c->sub) {
        c->iss = payload_claim(r, "iss");
        c->sub = payload_claim(r, "sub");
    }
    if (!c->iss || !c->sub) {
        return "no iss/sub claims in the environment (OIDCPassClaimsAs must "
               "include environment)";
    }
    if (!text_ok(c->iss, 2048) || !text_ok(c->sub, 255)) {
        return "iss or sub claim is too long or not valid text";
    }
    c->email = NULL;
    if (email && strlen(email) <= 254) {
        email = lcrm_normalize_email(r->pool, email, strlen(email));
        c->email = lcrm_check_email(email) ? NULL : email;
    }
    /* mod_auth_openidc passes JSON true as "1" */
    c->email_verified = c->email && verified
                        && (!strcmp(verified, "1")
                            || !strcasecmp(verified, "true"));
    c->name = display_name(r, env(r, OIDC_CLAIM("name")), c->email);
    return NULL;
}

/* ---- the answer ------------------------------------------------------------ */

/*
 * Ends mod_auth_openidc's session: expires its session cookie (and the
 * chunks of a client-cookie session) on its default path.
 */
static void end_openidc_session(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Cookie");
    apr_size_t plen = strlen(OIDC_SESSION_COOKIE);

    while (h && *h) {
        apr_size_t n;
        while (*h == ' ' || *h == ';') {
            h++;
        }
        n = strcspn(h, "=;");
        if (n >= plen && !strncmp(h, OIDC_SESSION_COOKIE, plen)
            && h[n] == '=') {
            apr_table_add(r->err_headers_out, "Set-Cookie", apr_psprintf(
                r->pool, "%.*s=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970"
                " 00:00:00 GMT; HttpOnly%s", (int)n, h,
                !strcmp(ap_http_scheme(r), "https") ? "; Secure" : ""));
        }
        h = strchr(h, ';');
    }
}

/* 302 to the landing URL with an optional fragment; returns OK. */
static int land(request_rec *r, const char *landing, const char *fragment)
{
    end_openidc_session(r);
    lcrm_no_store(r);
    apr_table_setn(r->err_headers_out, "Location",
                   fragment ? apr_pstrcat(r->pool, landing, "#", fragment,
                                          NULL)
                            : landing);
    r->status = HTTP_MOVED_TEMPORARILY;
    return OK;
}

/* A user with MFA: the mfaToken for /auth/mfa/verify (no session yet). */
static apr_status_t oidc_issue_mfa_token(lcrm_ctx_t *ctx, const char *user_id,
                                         const char **mfa_token)
{
    *mfa_token = NULL;
    return lcrm_mfa_issue_challenge(ctx->r, user_id, "oidc", mfa_token)
               ? APR_EGENERAL : APR_SUCCESS;
}

/* Non-zero when unverified accounts may not sign in
 * (LeadCRMRequireVerifiedEmail). */
static int oidc_require_verified_email(const lcrm_ctx_t *ctx)
{
    return lcrm_mail_require_verified(&ctx->sc->mail);
}

static int refuse(lcrm_ctx_t *ctx, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, LCRM_LOGNO(02001)
                  "leadcrm-oidc refused: %s", why);
    return lcrm_problem(ctx->r, "internal_error",
                        "sign-in with a provider is not configured correctly");
}

static int signed_in(lcrm_ctx_t *ctx, const oidc_claims_t *c,
                     const lcrm_row_t *row, const char *token)
{
    request_rec *r = ctx->r;
    const char *landing = ctx->dc->oidc_landing, *mfa;

    if (!strcmp(row->cols[0], "mfa")) {
        if (oidc_issue_mfa_token(ctx, row->cols[1], &mfa) != APR_SUCCESS) {
            return refuse(ctx, "an MFA user signed in but mfaToken issuance"
                          " is not available");
        }
        return land(r, landing, apr_pstrcat(r->pool, "mfaToken=", mfa, NULL));
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(02002)
                  "oidc sign-in ok for %s (issuer %s%s) from %s",
                  row->cols[1], c->iss,
                  !strcmp(row->cols[4], "t") ? ", identity linked" : "",
                  lcrm_client_ip(r));
    lcrm_auth_set_refresh_cookie(ctx, token);
    return land(r, landing, NULL);
}

/* ---- endpoints ------------------------------------------------------------- */

static int oidc_login(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    oidc_claims_t c;
    const char *why, *token, *hash, *args[13], *ua;
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (!openidc_authenticated(r)) {
        return refuse(ctx, "the request was not authenticated by "
                      "mod_auth_openidc (AuthType openid-connect)");
    }
    if (!ctx->dc->oidc_landing) {
        return refuse(ctx, "LeadCRMOIDCLandingURL is not set here");
    }
    if ((why = read_claims(r, &c))) {
        return refuse(ctx, why);
    }
    if (lcrm_auth_new_refresh(ctx, &token, &hash)) {
        return lcrm_problem(r, "internal_error", "no randomness");
    }
    ua = apr_table_get(r->headers_in, "User-Agent");
    args[0] = c.iss;
    args[1] = c.sub;
    args[2] = c.email;
    args[3] = c.email_verified ? "true" : "false";
    args[4] = c.name;
    args[5] = lcrm_conf_oidc_link_by_email(ctx->dc) ? "true" : "false";
    args[6] = lcrm_conf_oidc_provision(ctx->dc) ? "true" : "false";
    args[7] = oidc_require_verified_email(ctx) ? "true" : "false";
    args[8] = hash;
    args[9] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                           lcrm_conf_refresh_ttl(ctx->sc));
    args[10] = ua && !lcrm_check_text(ua, strlen(ua), 0, NULL) ? ua : NULL;
    args[11] = lcrm_client_ip(r);
    args[12] = lcrm_request_id(r);
    if ((rc = lcrm_db_row(lcrm_db(r), sql_signin, 13, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!strcmp(row.cols[0], "ok") || !strcmp(row.cols[0], "mfa")) {
        return signed_in(ctx, &c, &row, token);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(02003)
                  "oidc sign-in refused (%s) for issuer %s from %s",
                  row.cols[0], c.iss, lcrm_client_ip(r));
    return land(r, ctx->dc->oidc_landing,
                apr_pstrcat(r->pool, "error=", row.cols[0], NULL));
}

int lcrm_oidc_identities_list(lcrm_ctx_t *ctx)
{
    const char *args[1] = {ctx->caller->user_id};
    return lcrm_ctx_json_query(ctx, sql_identities, 1, args, "invalid_token",
                               "user no longer exists");
}

int lcrm_oidc_identities_delete(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *id = lcrm_ctx_uuid_param(ctx, 0), *args[4], *outcome;
    lcrm_db_rc_e rc;

    if (!id) {
        return lcrm_problem(r, "not_found", "no such identity");
    }
    args[0] = ctx->caller->user_id;
    args[1] = id;
    args[2] = lcrm_client_ip(r);
    args[3] = lcrm_request_id(r);
    if ((rc = lcrm_db_value(lcrm_db(r), sql_unlink, 4, args, &outcome))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!strcmp(outcome, "last_sign_in_method")) {
        return lcrm_problem(r, "last_sign_in_method", "the account has no "
                            "password and no other sign-in method");
    }
    if (strcmp(outcome, "ok")) {
        return lcrm_problem(r, "not_found", "no such identity");
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(02004)
                  "identity %s unlinked by %s from %s", id, ctx->caller->user_id, lcrm_client_ip(r));
    return lcrm_respond_no_content(r);
}

static const lcrm_route_t oidc_routes[] = {
    LCRM_ENDPOINT("GET", "/auth/oidc/login", oidc_login, LCRM_RF_RL_REFRESH,
                  NULL),
};

const lcrm_family_t lcrm_oidc_family = {
    "leadcrm-oidc", oidc_routes,
    (int)(sizeof(oidc_routes) / sizeof(oidc_routes[0]))
};
