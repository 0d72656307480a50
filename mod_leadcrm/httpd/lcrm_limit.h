/*
 * lcrm_limit: request rate limits (API.md "Rate limits"), counted in
 * shared memory under a global mutex so that they are exact across every
 * child process and thread of a node (or in memcached for several
 * nodes).  The limiter is handed its settings: the directives, their
 * defaults and merging belong to lcrm_config, which asks this file only
 * for its vocabulary (class names, default rules, store syntax).
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
    LCRM_RL_LOGIN_ACCOUNT_FAIL, /* failed logins per account, any address */
    LCRM_RL_CLASSES
} lcrm_rl_class_e;

typedef struct {
    apr_int64_t limit;      /* 0 = off */
    apr_int64_t window;     /* seconds */
} lcrm_rl_rule_t;

/* What the limiter is handed at post_config (server-wide). */
typedef struct {
    apr_uint32_t slots;     /* shared table size, a power of two */
    const char *mc_servers; /* memcache host:port[,...]; NULL = shm */
    int v6prefix;           /* IPv6 clients are grouped by this prefix */
} lcrm_limit_settings_t;

/* The class named name, or -1. */
int lcrm_limit_class(const char *name);

/* "general, auth, ..." for messages. */
extern const char lcrm_limit_class_list[];

/* API.md's default rule of a class. */
lcrm_rl_rule_t lcrm_limit_default_rule(lcrm_rl_class_e cls);

/* NULL when a memcache server list parses, else a message. */
const char *lcrm_limit_check_servers(apr_pool_t *p, const char *servers);

/* pre_config: registers the mutex type. */
int lcrm_limit_pre_config(apr_pool_t *pconf);

/*
 * post_config: the shared table and its mutex, kept across graceful
 * restarts (attached to the process pool, as ap_retained_data); NULL
 * when they cannot be made (logged).
 */
struct lcrm_limiter *lcrm_limit_create(apr_pool_t *pconf, server_rec *s,
                                       const lcrm_limit_settings_t *set);

/* child_init: re-opens the mutex in the child, makes the memcached
 * client. */
void lcrm_limit_child_init(apr_pool_t *p, server_rec *s);

/*
 * Counts (consume 1), checks (consume 0) or gives back one earlier count
 * (consume -1: a reservation that was not a failure) for one request of
 * class cls.  The key is the client address (IPv6 grouped by prefix)
 * plus extra (may be NULL), except for LCRM_RL_MAIL_TARGET (extra = the
 * recipient's email), LCRM_RL_MFA_FAIL and LCRM_RL_LOGIN_ACCOUNT_FAIL
 * (extra = the account), which are keyed on extra alone.  Returns 1 when
 * the request is over the limit (Retry-After and RateLimit-* set), else
 * 0; with headers non-zero the RateLimit-* headers are set on success
 * too.  When the limiter cannot count (store down, table full) it fails
 * open, except for LCRM_RL_LOGIN_FAIL, LCRM_RL_LOGIN_ACCOUNT_FAIL and
 * LCRM_RL_MFA_FAIL, which fail closed; the log says which.
 */
int lcrm_limit(request_rec *r, lcrm_rl_class_e cls, const char *extra,
               int consume, int headers);

/*
 * Reserves one failed password attempt on account (a stable account key:
 * "u:<user id>", or "e:<email as the database compares it>") against
 * login-failures (per account and address) and login-account-failures
 * (per account), before any password hashing.  Returns 1 when either
 * refuses (headers set, nothing kept reserved), else 0.
 */
int lcrm_limit_login_reserve(request_rec *r, const char *account);

/* The password was right: gives a reservation back. */
void lcrm_limit_login_release(request_rec *r, const char *account);

#endif
