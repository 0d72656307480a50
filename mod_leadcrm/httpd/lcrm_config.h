/*
 * lcrm_config: the LeadCRM* directives, the per-server and per-directory
 * configuration records with their merge functions, getters that apply
 * defaults, and the cross-directive checks run by check_config.
 */
#ifndef LCRM_CONFIG_H
#define LCRM_CONFIG_H

#include <httpd.h>
#include <http_config.h>
#include "lcrm_secret.h"
#include "lcrm_aead.h"
#include "lcrm_token.h"
#include "lcrm_parse.h"
#include "lcrm_limit.h"
#include "lcrm_mail_conf.h"

#define LCRM_UNSET (-1)

typedef struct {
    const char *secret_path;
    lcrm_key_t *key;
    const char *kid;
    const char *previous_path;
    lcrm_key_t *previous_key;
    const char *previous_kid;
    const char *data_key_path;
    lcrm_aead_ring_t *data_key;
    const char *issuer;
    const char *audience;
    apr_int64_t access_ttl;     /* seconds */
    apr_int64_t refresh_ttl;
    apr_int64_t refresh_grace;
    apr_int64_t leeway;
    int bcrypt_cost;
    const char *cookie_name;
    int cookie_secure;
    const char *cookie_prefix;  /* H2 (issue 10.12): NULL = by Secure */
    int hours_set;
    lcrm_hours_t hours;
    const char *time_zone;
    apr_int64_t booking_notice;
    apr_int64_t booking_horizon;
    apr_int64_t rl_slots;
    const char *rl_store;       /* memcached servers, NULL = shm */
    apr_int64_t rl_v6prefix;    /* IPv6 client grouping, bits */
    /* monitoring (lcrm_monitor.c): main server only, never merged */
    struct lcrm_monitor_conf *monitor;
    /* LeadCRMCache (lcrm_cache.c): main server only, shared by vhosts */
    struct lcrm_cache *cache;
    /* account security: LeadCRMRequireMFA, LeadCRMMFAIssuer,
     * LeadCRMAPIKeyMaxLifetime, LeadCRMAuditRetention */
    struct {
        int require_mfa;            /* lcrm_role_e; LCRM_UNSET = none */
        const char *mfa_issuer;
        apr_int64_t key_max_lifetime;
        apr_int64_t audit_retention;
        apr_int64_t purge_interval;
    } sec;
    lcrm_mail_conf_t mail;      /* mail directives (lcrm_mail_conf.h) */
    /* filled at post_config, read-only afterwards */
    lcrm_token_cfg_t token;
    const char *dummy_hash;
    apr_time_t started;
    struct lcrm_limiter *limiter;
    struct lcrm_metrics *metrics;
} lcrm_server_conf_t;

typedef struct {
    apr_array_header_t *cors_origins;  /* of const char *; NULL = unset */
    apr_int64_t max_body;              /* bytes; LCRM_UNSET = default */
    lcrm_rl_rule_t rl[LCRM_RL_CLASSES]; /* limit LCRM_UNSET = default */
    /* OpenID Connect sign-in (leadcrm-oidc; api/lcrm_oidc.c) */
    int oidc_link_by_email;            /* LCRM_UNSET = Off */
    int oidc_provision;                /* LCRM_UNSET = Off */
    const char *oidc_landing;          /* NULL = unset */
} lcrm_dir_conf_t;

extern const command_rec lcrm_directives[];

void *lcrm_create_server_conf(apr_pool_t *p, server_rec *s);
void *lcrm_merge_server_conf(apr_pool_t *p, void *base, void *add);
void *lcrm_create_dir_conf(apr_pool_t *p, char *dir);
void *lcrm_merge_dir_conf(apr_pool_t *p, void *base, void *add);

/* check_config hook: cross-directive rules (runs under apachectl -t). */
int lcrm_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *s);

/* post_config work: token settings and the dummy bcrypt hash. */
int lcrm_config_post(apr_pool_t *pconf, server_rec *s);

/* Getters that apply defaults. */
const lcrm_server_conf_t *lcrm_sconf(const server_rec *s);
const lcrm_dir_conf_t *lcrm_dconf(const request_rec *r);
apr_int64_t lcrm_conf_max_body(const lcrm_dir_conf_t *dc);
const char *lcrm_conf_issuer(const lcrm_server_conf_t *sc);
const char *lcrm_conf_audience(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_access_ttl(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_refresh_ttl(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_refresh_grace(const lcrm_server_conf_t *sc);
int lcrm_conf_bcrypt_cost(const lcrm_server_conf_t *sc);
const char *lcrm_conf_cookie_name(const lcrm_server_conf_t *sc);
int lcrm_conf_cookie_secure(const lcrm_server_conf_t *sc);
/* "__Secure-", "__Host-" or "" (default: __Secure- when Secure is on). */
const char *lcrm_conf_cookie_prefix(const lcrm_server_conf_t *sc);
/* The refresh cookie's name as sent: prefix + LeadCRMCookieName. */
const char *lcrm_conf_cookie_full_name(apr_pool_t *p,
                                       const lcrm_server_conf_t *sc);
const lcrm_hours_t *lcrm_conf_hours(const lcrm_server_conf_t *sc);
const char *lcrm_conf_time_zone(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_booking_notice(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_booking_horizon(const lcrm_server_conf_t *sc);

/* Account security getters (defaults applied). */
int lcrm_conf_require_mfa(const lcrm_server_conf_t *sc); /* role, -1 none */
const char *lcrm_conf_mfa_issuer(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_key_max_lifetime(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_audit_retention(const lcrm_server_conf_t *sc);
apr_int64_t lcrm_conf_audit_purge_interval(const lcrm_server_conf_t *sc);

/* The LeadCRMDataKeyFile keyring, or NULL when the directive is absent. */
const lcrm_aead_ring_t *lcrm_config_data_key(const server_rec *s);

/* The rate-limit rule of class cls for r's location (defaults applied). */
lcrm_rl_rule_t lcrm_conf_rate_rule(const request_rec *r, lcrm_rl_class_e cls);

/* The rate limiter of server s (NULL before post_config or on failure). */
struct lcrm_limiter *lcrm_conf_limiter(const server_rec *s);

/* post_config: hands the rate limiter its settings and keeps the limiter
 * on every server record.  OK or HTTP_INTERNAL_SERVER_ERROR (logged). */
int lcrm_config_limiter(apr_pool_t *pconf, server_rec *s);

/* OpenID Connect sign-in settings (defaults applied). */
int lcrm_conf_oidc_link_by_email(const lcrm_dir_conf_t *dc);
int lcrm_conf_oidc_provision(const lcrm_dir_conf_t *dc);

/*
 * check_config part for SetHandler leadcrm-oidc (httpd/lcrm_oidc_conf.c):
 * walks the parsed configuration tree; NULL when every use is protected by
 * AuthType openid-connect and a Require, and has a usable landing URL.
 */
const char *lcrm_oidc_conf_check(apr_pool_t *p, server_rec *s);

/* LeadCRMOIDCLandingURL's syntax rule (https, no fragment/userinfo). */
const char *lcrm_oidc_landing_problem(const char *url);

/* Non-zero when origin is in the directory's allow-list. */
int lcrm_conf_origin_allowed(const lcrm_dir_conf_t *dc, const char *origin);

#endif
