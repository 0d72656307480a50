/*
 * lcrm_authn: Bearer authentication (see lcrm_authn.h).
 */
#include "lcrm_authn.h"
#include "lcrm_config.h"
#include "lcrm_cors.h"
#include "lcrm_db.h"
#include "lcrm_http.h"
#include "lcrm_private.h"
#include "lcrm_role.h"
#include "lcrm_secret.h"
#include "lcrm_totp.h"
#include "lcrm_token.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

/* One indexed lookup: live session of an active, live user. */
static const char *const sql_session =
    "SELECT u.role, u.mfa_enabled FROM sessions s"
    " JOIN users u ON u.id = s.user_id"
    " WHERE s.id = CAST(%s AS uuid) AND s.user_id = CAST(%s AS uuid)"
    " AND s.revoked_at IS NULL AND s.expires_at > now()"
    " AND u.deleted_at IS NULL AND u.is_active";
/* The same check, also rendering the user (lcrm_authn_caller_user): the
 * profile is read in the statement that proves the session is live, so it
 * can never be staler than the check itself. */
static const char *const sql_session_user =
    "SELECT u.role, u.mfa_enabled, lcrm_user_json(u) FROM sessions s"
    " JOIN users u ON u.id = s.user_id"
    " WHERE s.id = CAST(%s AS uuid) AND s.user_id = CAST(%s AS uuid)"
    " AND s.revoked_at IS NULL AND s.expires_at > now()"
    " AND u.deleted_at IS NULL AND u.is_active";

/* One indexed lookup of a live API key of an active, live user; the
 * UPDATE of last_used_at happens at most once a minute per key. */
static const char *const sql_api_key =
    "WITH k AS (SELECT k.id, k.user_id, k.last_used_at,"
    " array_to_string(k.scopes, ' ') AS scopes, u.role, u.mfa_enabled"
    " FROM api_keys k JOIN users u ON u.id = k.user_id"
    " WHERE k.key_hash = decode(%s, 'hex') AND k.revoked_at IS NULL"
    " AND k.expires_at > now() AND u.deleted_at IS NULL AND u.is_active),"
    " t AS (UPDATE api_keys a SET last_used_at = now() FROM k"
    " WHERE a.id = k.id AND (k.last_used_at IS NULL"
    " OR k.last_used_at < now() - interval '1 minute') RETURNING 1)"
    " SELECT k.role, k.mfa_enabled, k.id, k.user_id, k.scopes,"
    " (SELECT count(*) FROM t) FROM k";

typedef struct {
    const char *problem;
    lcrm_caller_t caller;
} authn_result_t;

static const char *bearer_token(request_rec *r, const char *h)
{
    if (strncasecmp(h, "Bearer ", 7)) {
        return NULL;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    return *h ? h : NULL;
}

/* Checks an API key (one statement); fills res. */
static void authenticate_key(request_rec *r, const char *key,
                             authn_result_t *res)
{
    const char *args[1];
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (!lcrm_apikey_shaped(key)) {
        res->problem = "invalid_token";
        return;
    }
    args[0] = lcrm_sha256_hex(r->pool, key, strlen(key));
    rc = lcrm_db_row(lcrm_db(r), sql_api_key, 1, args, &row);
    if (rc == LCRM_DB_NO_ROW) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(01600)
                      "unknown, revoked or expired API key, or inactive "
                      "owner (prefix %.12s)", key);
        res->problem = "invalid_token";
        return;
    }
    if (rc != LCRM_DB_OK) {
        res->problem = "service_unavailable";
        return;
    }
    res->caller.authenticated = 1;
    res->caller.role = lcrm_role_parse(row.cols[0]);
    res->caller.mfa_enabled = row.cols[1] && *row.cols[1] == 't';
    res->caller.api_key_id = row.cols[2];
    res->caller.user_id = row.cols[3];
    res->caller.scopes = row.cols[4];
    apr_table_setn(r->notes, LCRM_NOTE_USER, res->caller.user_id);
    apr_table_setn(r->notes, LCRM_NOTE_ROLE, lcrm_role_name(res->caller.role));
}

/* Verifies token and session (and renders the user when want_user);
 * fills res. */
static void authenticate(request_rec *r, const char *header, int want_user,
                         authn_result_t *res)
{
    const lcrm_server_conf_t *sc = lcrm_sconf(r->server);
    const char *token = bearer_token(r, header), *why;
    lcrm_row_t srow;
    lcrm_claims_t claims;
    const char *args[2];
    lcrm_db_rc_e rc;

    if (!token) {
        res->problem = "unauthorized";
        return;
    }
    if (!strncmp(token, LCRM_APIKEY_PREFIX, sizeof(LCRM_APIKEY_PREFIX) - 1)) {
        authenticate_key(r, token, res);
        return;
    }
    if (lcrm_token_verify(r->pool, &sc->token, token, strlen(token),
                          apr_time_sec(r->request_time), &claims, &why)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(00301)
                      "access token refused: %s", why);
        res->problem = "invalid_token";
        return;
    }
    args[0] = claims.sid;
    args[1] = claims.sub;
    rc = lcrm_db_row(lcrm_db(r), want_user ? sql_session_user : sql_session,
                     2, args, &srow);
    if (rc == LCRM_DB_NO_ROW) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(00302)
                      "access token of revoked session or inactive user %s",
                      claims.sub);
        res->problem = "invalid_token";
        return;
    }
    if (rc != LCRM_DB_OK) {
        res->problem = "service_unavailable";
        return;
    }
    res->caller.authenticated = 1;
    res->caller.user_id = claims.sub;
    res->caller.session_id = claims.sid;
    res->caller.role = lcrm_role_parse(srow.cols[0]);
    res->caller.mfa_enabled = srow.cols[1] && *srow.cols[1] == 't';
    res->caller.user_json = want_user ? srow.cols[2] : NULL;
    apr_table_setn(r->notes, LCRM_NOTE_USER, claims.sub);
    apr_table_setn(r->notes, LCRM_NOTE_ROLE, lcrm_role_name(res->caller.role));
}

/* The per-request result, computed once (by whichever phase asks first). */
static const char *authn_caller(request_rec *r, int want_user,
                                const lcrm_caller_t **caller)
{
    static const char key[] = "leadcrm-authn";
    void *cached = NULL;
    authn_result_t *res;
    const char *header;

    apr_pool_userdata_get(&cached, key, r->pool);
    res = cached;
    if (!res) {
        res = apr_pcalloc(r->pool, sizeof(*res));
        header = apr_table_get(r->headers_in, "Authorization");
        if (header) {
            authenticate(r, header, want_user, res);
        }
        apr_pool_userdata_setn(res, key, NULL, r->pool);
    }
    *caller = &res->caller;
    return res->problem;
}

const char *lcrm_authn_caller(request_rec *r, const lcrm_caller_t **caller)
{
    return authn_caller(r, 0, caller);
}

const char *lcrm_authn_caller_user(request_rec *r,
                                   const lcrm_caller_t **caller)
{
    return authn_caller(r, 1, caller);
}

int lcrm_authn_check(request_rec *r)
{
    const char *type = ap_auth_type(r), *problem;
    const lcrm_caller_t *caller;

    if (!type || strcasecmp(type, "Bearer")) {
        return DECLINED;
    }
    apr_table_setn(r->notes, LCRM_NOTE_PROBLEM, "1");
    /* a CORS preflight is never authenticated (browsers send no
     * credentials); lcrm_cors_fixups then answers it in the module */
    if (lcrm_cors_is_preflight(r)) {
        r->user = "-";
        apr_table_setn(r->notes, LCRM_NOTE_PREFLIGHT, "1");
        apr_table_setn(r->notes, LCRM_NOTE_ROLE, "preflight");
        return OK;
    }
    problem = lcrm_authn_caller(r, &caller);
    if (!problem && !caller->authenticated) {
        problem = "unauthorized";
    }
    if (problem) {
        /* httpd's error path answers; the error filter below writes this
         * problem as the body, and mod_headers' "always" headers apply */
        apr_table_setn(r->notes, LCRM_NOTE_PROBLEM_CODE, problem);
        if (!strcmp(problem, "service_unavailable")) {
            /* httpd closes after a 503: read the body first, so that it
             * never lands on a closing socket (a reset, lcrm_http.h) */
            lcrm_settle_body(r);
            return HTTP_SERVICE_UNAVAILABLE;
        }
        return HTTP_UNAUTHORIZED;
    }
    r->user = (char *)caller->user_id;
    return OK;
}
