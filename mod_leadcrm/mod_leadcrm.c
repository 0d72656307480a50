/*
 * mod_leadcrm: the module record and hook registration.  Everything else
 * lives in core/ (httpd-free logic), httpd/ (glue) and api/ (resources).
 */
#define LCRM_MODULE_FILE
#include "lcrm_private.h"
#include "lcrm_api.h"
#include "lcrm_authn.h"
#include "lcrm_config.h"
#include "lcrm_cors.h"
#include "lcrm_db.h"
#include "lcrm_http.h"
#include "lcrm_limit.h"
#include "lcrm_cache.h"
#include "lcrm_metrics.h"
#include "lcrm_ops.h"
#include "lcrm_monitor.h"
#include "lcrm_router.h"
#include "lcrm_storage.h"
#include "lcrm_trace.h"
#include "lcrm_totp.h"
#include "lcrm_worker.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

void lcrm_authz_register(apr_pool_t *p);
int lcrm_purge_post_config(apr_pool_t *pconf, server_rec *s);

/* The resource families, each mapped with SetHandler <handler name>. */
static const lcrm_family_t *const families[] = {
    &lcrm_health_family, &lcrm_auth_family, &lcrm_users_family,
    &lcrm_leads_family, &lcrm_consultations_family,
    /* account security: several families may share a handler */
    &lcrm_mfa_family, &lcrm_sessions_family, &lcrm_user_security_family,
    &lcrm_keys_family, &lcrm_audit_family,
    &lcrm_notifications_family,
    &lcrm_oidc_family,
};
#define NFAMILIES ((int)(sizeof(families) / sizeof(families[0])))

/* The family of the handler whose table knows the path (else the
 * handler's first family, which answers 404). */
static int leadcrm_handler(request_rec *r)
{
    const lcrm_family_t *first = NULL;
    lcrm_route_match_t m;
    int i;

    if (!r->handler || strncmp(r->handler, "leadcrm-", 8)) {
        return DECLINED;
    }
    for (i = 0; i < NFAMILIES; i++) {
        if (strcmp(r->handler, families[i]->handler)) {
            continue;
        }
        first = first ? first : families[i];
        if (lcrm_route_match(r->pool, families[i]->routes,
                             families[i]->nroutes, r->method, r->uri, &m)
            != LCRM_ROUTE_NO_PATH) {
            return lcrm_router_dispatch(r, families[i]->routes,
                                        families[i]->nroutes);
        }
    }
    return first ? lcrm_router_dispatch(r, first->routes, first->nroutes)
                 : DECLINED;
}

/* Route labels for the metrics: every route of every family. */
static int metrics_post_config(apr_pool_t *pconf, server_rec *s)
{
    lcrm_metrics_family_t *mf = apr_pcalloc(pconf, sizeof(*mf) * NFAMILIES);
    int i;

    for (i = 0; i < NFAMILIES; i++) {
        mf[i].family = families[i]->handler;
        mf[i].routes = families[i]->routes;
        mf[i].nroutes = families[i]->nroutes;
    }
    return lcrm_metrics_post_config(pconf, s, mf, NFAMILIES);
}

static int leadcrm_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    /* the first of the two start-up passes only checks the config */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    lcrm_db_retrieve_fns();
    if (!lcrm_db_available()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LCRM_LOGNO(00004)
                     "mod_dbd is not loaded; LoadModule dbd_module first");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (lcrm_totp_init()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LCRM_LOGNO(01601)
                     "liboath initialisation failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    lcrm_purge_post_config(pconf, s);
    if (lcrm_config_limiter(pconf, s) != OK
        || metrics_post_config(pconf, s) != OK
        || lcrm_monitor_post_config(pconf, s) != OK
        || lcrm_worker_post_config(pconf, s) != OK
        || lcrm_cache_post_config(pconf, ptemp, s) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return lcrm_config_post(pconf, s);
}

static int leadcrm_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    lcrm_ops_pre_config(pconf);
    if (lcrm_cache_pre_config(pconf) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return lcrm_limit_pre_config(pconf);
}

static void leadcrm_register_hooks(apr_pool_t *p)
{
    /* the exporter exists before mod_watchdog starts the mail worker's
     * thread, which exports "smtp send" spans through it */
    static const char *const before_watchdog[] = {"mod_watchdog.c", NULL};

    /* the rate limiter's mutex type, so Mutex directives can name it */
    ap_hook_pre_config(leadcrm_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* each child re-attaches the rate limiter's global mutex */
    ap_hook_child_init(lcrm_limit_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* LeadCRMCache: each child re-attaches the cache's mutex (shmcb) */
    ap_hook_child_init(lcrm_cache_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* monitoring: each child's exporter thread (Sentry, OTLP), the trace
     * context of every request, its spans and events after the response,
     * and the module's error-level log lines as Sentry events */
    ap_hook_child_init(lcrm_monitor_child_init, NULL, before_watchdog,
                       APR_HOOK_MIDDLE);
    ap_hook_post_read_request(lcrm_trace_post_read_request, NULL, NULL,
                              APR_HOOK_FIRST);
    ap_hook_log_transaction(lcrm_trace_log_transaction, NULL, NULL,
                            APR_HOOK_LAST);
    ap_hook_error_log(lcrm_sentry_error_log, NULL, NULL, APR_HOOK_MIDDLE);
    /* cross-directive checks: also run by apachectl -t */
    ap_hook_check_config(lcrm_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* DBDMax sizing warnings: after the MPM has settled its limits */
    ap_hook_check_config(lcrm_ops_check_config, NULL, NULL, APR_HOOK_LAST);
    /* token settings, the dummy hash and mod_dbd's ap_dbd_acquire
     * (an optional function: no link-time dependency on mod_dbd) */
    ap_hook_post_config(leadcrm_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* the module's locations are not files: no directory walk */
    ap_hook_translate_name(lcrm_storage_translate, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_map_to_storage(lcrm_storage_map, NULL, NULL, APR_HOOK_FIRST);
    /* CORS headers before authentication, so errors carry them too and
     * preflights are answered without credentials */
    ap_hook_header_parser(lcrm_cors_header_parser, NULL, NULL,
                          APR_HOOK_MIDDLE);
    /* preflights to the module's 204 handler (after SetHandler applied) */
    ap_hook_fixups(lcrm_cors_fixups, NULL, NULL, APR_HOOK_LAST);
    ap_hook_handler(lcrm_cors_preflight_handler, NULL, NULL,
                    APR_HOOK_FIRST);
    /* Bearer tokens for AuthType Bearer locations (any handler) */
    ap_hook_check_authn(lcrm_authn_check, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    /* Require leadcrm-role ... */
    lcrm_authz_register(p);
    /* httpd's own error pages on our locations become problem+json */
    ap_hook_insert_error_filter(lcrm_http_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
    lcrm_http_register_filters();
    /* the resource families, and the metrics page */
    ap_hook_handler(leadcrm_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(lcrm_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* per-route status classes and latency, after the response */
    ap_hook_log_transaction(lcrm_metrics_log, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(leadcrm) = {
    STANDARD20_MODULE_STUFF,
    lcrm_create_dir_conf,
    lcrm_merge_dir_conf,
    lcrm_create_server_conf,
    lcrm_merge_server_conf,
    lcrm_directives,
    leadcrm_register_hooks,
    AP_MODULE_FLAG_NONE
};
