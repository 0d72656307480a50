/*
 * lcrm_authn: who is calling.  Verifies a Bearer access token (core
 * lcrm_token) and then checks, with one indexed query, that its session
 * is live and its user active; the role comes from the database, so
 * logout, deactivation, deletion and demotion take effect at once.
 * The result is cached per request.  Also the check_authn hook for
 * `AuthType Bearer` locations (whose errors lcrm_http's error filter
 * turns into problem+json).
 */
#ifndef LCRM_AUTHN_H
#define LCRM_AUTHN_H

#include <httpd.h>

typedef struct {
    int authenticated;
    const char *user_id;
    const char *session_id;
    int role;               /* lcrm_role_e, from the database */
    /* account security: an API key caller has api_key_id and scopes
     * (space-separated) and no session; mfa_enabled is the user's */
    const char *api_key_id;
    const char *scopes;
    int mfa_enabled;
    /* the user's API document (lcrm_user_json), read by the same statement
     * that checked the session, when the caller was established by
     * lcrm_authn_caller_user(); NULL otherwise */
    const char *user_json;
} lcrm_caller_t;

/*
 * Establishes the caller.  Returns NULL with caller->authenticated = 0
 * when no Authorization header was sent, NULL with a caller when the token
 * is good, or a problem code: "invalid_token" (bad/expired/revoked),
 * "unauthorized" (not a Bearer credential) or "service_unavailable".
 */
const char *lcrm_authn_caller(request_rec *r, const lcrm_caller_t **caller);

/*
 * As lcrm_authn_caller, for a handler that needs the user's document: a
 * session caller also gets caller->user_json from the very statement that
 * checks the session (one round trip; nothing cached beyond the request).
 * user_json stays NULL for an API key, or when the caller was already
 * established by an earlier phase (the handler then reads the user
 * itself).
 */
const char *lcrm_authn_caller_user(request_rec *r,
                                   const lcrm_caller_t **caller);

/* check_authn hook for AuthType Bearer. */
int lcrm_authn_check(request_rec *r);

/* Notes that later phases read. */
#define LCRM_NOTE_USER "leadcrm-user"
#define LCRM_NOTE_ROLE "leadcrm-role"
#define LCRM_NOTE_PROBLEM "leadcrm-problem"
#define LCRM_NOTE_PROBLEM_CODE "leadcrm-problem-code"

#endif
