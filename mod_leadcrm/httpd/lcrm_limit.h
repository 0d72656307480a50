/*
 * lcrm_limit: request rate limits (API.md "Rate limits"), counted in
 * shared memory under a global mutex so that they are exact across every
 * child process and thread of a node.  Limits are per Location
 * (LeadCRMRateLimit class count window; count 0 = off).
 */
#ifndef LCRM_LIMIT_H
#define LCRM_LIMIT_H

#include <httpd.h>
#include <http_config.h>

typedef enum {
    LCRM_RL_GENERAL = 0,    /* every route without a stricter class */
    LCRM_RL_AUTH,           /* /auth/login, /auth/register */
    LCRM_RL_REFRESH,        /* /auth/refresh */
    LCRM_RL_PUBLIC,         /* public POST /api/leads, /api/consultations */
    LCRM_RL_LOGIN_FAIL,     /* failed logins per (account, address) */
    LCRM_RL_MAIL,           /* mails sent on behalf of a client address */
    LCRM_RL_MAIL_TARGET,    /* mails sent to one address (extra = email) */
    LCRM_RL_MFA_FAIL,       /* failed MFA codes per account (extra = id) */
    LCRM_RL_CLASSES
} lcrm_rl_class_e;

typedef struct {
    apr_int64_t limit;      /* LCRM_UNSET = default; 0 = off */
    apr_int64_t window;     /* seconds */
} lcrm_rl_rule_t;

/* Directive handler for LeadCRMRateLimit (dir config). */
const char *lcrm_limit_set_rule(cmd_parms *cmd, void *dc, const char *cls,
                                const char *count, const char *window);

/* Directive handler for LeadCRMRateLimitSlots (server config). */
const char *lcrm_limit_set_slots(cmd_parms *cmd, void *dc, const char *v);

/* Directive handler for LeadCRMRateLimitStore (server config). */
const char *lcrm_limit_set_store(cmd_parms *cmd, void *dc, const char *kind,
                                 const char *servers);

/* pre_config: registers the mutex type. */
int lcrm_limit_pre_config(apr_pool_t *pconf);

/* post_config: creates the shared table and the mutex. */
int lcrm_limit_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: re-opens the mutex in the child. */
void lcrm_limit_child_init(apr_pool_t *p, server_rec *s);

/*
 * Counts (consume) or checks one request of class cls.  The key is the
 * client address plus extra (may be NULL), except for LCRM_RL_MAIL_TARGET
 * (extra = the recipient's email) and LCRM_RL_MFA_FAIL (extra = the user
 * id), which are keyed on extra alone.  Returns 1 when the request is
 * over the limit (Retry-After and RateLimit-* set), else 0; with headers
 * non-zero the RateLimit-* headers are set on success too.  When the
 * limiter cannot be used it fails open, except for LCRM_RL_LOGIN_FAIL and
 * LCRM_RL_MFA_FAIL, which fail closed.
 */
int lcrm_limit(request_rec *r, lcrm_rl_class_e cls, const char *extra,
               int consume, int headers);

#endif
