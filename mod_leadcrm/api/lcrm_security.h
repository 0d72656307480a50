/*
 * lcrm_security: account security (API.md part 2 "Two-factor
 * authentication", "Sessions", "API keys", "Audit log").  The route tables
 * live in lcrm_mfa.c, lcrm_sessions.c, lcrm_keys.c and lcrm_audit.c; they
 * join the families of the same handler (leadcrm-auth, leadcrm-users) or
 * have their own (leadcrm-keys, leadcrm-audit).  What other sign-in paths
 * (OIDC) need is declared here too.
 */
#ifndef LCRM_SECURITY_H
#define LCRM_SECURITY_H

#include "lcrm_router.h"

/*
 * Issues a login challenge (API.md "Login of a user with MFA") for user_id:
 * a random mfaToken (*token, 256 bits, base64url) whose SHA-256 is stored
 * with lcrm_mfa_challenge_issue(), live 300 s, single-use, dead after 5
 * wrong codes.  method ("password", "oidc") is recorded in the auth.login
 * audit entry when verify succeeds.  Returns an lcrm_db_rc_e (0 = OK) or
 * -1 when no randomness is available.
 */
int lcrm_mfa_issue_challenge(request_rec *r, const char *user_id,
                             const char *method, const char **token);

/* The mfaToken lifetime in seconds (expiresIn of the step-up answer). */
#define LCRM_MFA_CHALLENGE_TTL 300

/*
 * Checks the caller's password (a bcrypt verification).  Returns 0 when it
 * matches; otherwise answers (403 invalid_current_password, 403
 * password_required for an account without a password, 503/500) and
 * returns 1.  *email gets the account's email when non-NULL.
 */
int lcrm_sec_check_password(lcrm_ctx_t *ctx, const char *password,
                            const char **email);

/*
 * The login answer (lcrm_auth.c): refresh cookie, {user, accessToken,
 * tokenType, expiresIn}, 200; counts a successful login.
 */
int lcrm_auth_login_response(lcrm_ctx_t *ctx, const char *refresh_token,
                             const char *user_id, const char *session_id,
                             const char *role, const char *user_json);

/* The Set-Cookie that clears the refresh cookie. */
void lcrm_sec_clear_refresh_cookie(lcrm_ctx_t *ctx);

#endif
