/*
 * lcrm_limit: rate limits in shared memory (see lcrm_limit.h).
 *
 * Life cycle as in httpd's socache consumers: the mutex type is
 * registered in pre_config, the anonymous shared segment and the global
 * mutex are made in post_config (so every child inherits them), and each
 * child re-attaches the mutex in child_init.  The counters themselves
 * (fixed windows, bounded table) are core/lcrm_ratelimit.c.
 */
#include "lcrm_config.h"
#include "lcrm_limit.h"
#include "lcrm_private.h"
#include "lcrm_ratelimit.h"

#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_protocol.h>
#include <util_mutex.h>

#define MUTEX_TYPE "leadcrm-ratelimit"
#define DEFAULT_SLOTS 65536

struct lcrm_limiter {
    apr_global_mutex_t *mutex;
    lcrm_rl_table_t *table;
};

static const char *const class_names[LCRM_RL_CLASSES] = {
    "general", "auth", "refresh", "public-write", "login-failures"};

/* API.md defaults: count per window seconds. */
static const lcrm_rl_rule_t defaults[LCRM_RL_CLASSES] = {
    {300, 60}, {20, 900}, {60, 900}, {10, 3600}, {10, 900}};

const char *lcrm_limit_set_rule(cmd_parms *cmd, void *dcv, const char *cls,
                                const char *count, const char *window)
{
    lcrm_dir_conf_t *dc = dcv;
    apr_int64_t n, w;
    int i;

    for (i = 0; i < LCRM_RL_CLASSES && strcmp(cls, class_names[i]); i++) {
    }
    if (i == LCRM_RL_CLASSES) {
        return "LeadCRMRateLimit class must be general, auth, refresh, "
               "public-write or login-failures";
    }
    if (lcrm_parse_int(count, 0, 1000000, &n)) {
        return "LeadCRMRateLimit count must be 0 (off) .. 1000000";
    }
    if (lcrm_parse_duration(window, 1, 86400, &w)) {
        return "LeadCRMRateLimit window must be a duration of 1s .. 1d";
    }
    dc->rl[i].limit = n;
    dc->rl[i].window = w;
    return NULL;
}

const char *lcrm_limit_set_slots(cmd_parms *cmd, void *dc, const char *v)
{
    lcrm_server_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                                  &leadcrm_module);
    apr_int64_t n;
    if (lcrm_parse_int(v, 1024, 1 << 24, &n) || (n & (n - 1))) {
        return "LeadCRMRateLimitSlots must be a power of two, 1024 .. 16777216";
    }
    sc->rl_slots = n;
    return NULL;
}

int lcrm_limit_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
               == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

int lcrm_limit_post_config(apr_pool_t *pconf, server_rec *s)
{
    lcrm_server_conf_t *sc = ap_get_module_config(s->module_config,
                                                  &leadcrm_module);
    struct lcrm_limiter *l = apr_pcalloc(pconf, sizeof(*l));
    apr_uint32_t slots = sc->rl_slots > 0 ? (apr_uint32_t)sc->rl_slots
                                          : DEFAULT_SLOTS;
    apr_shm_t *shm;
    apr_status_t rv;

    rv = apr_shm_create(&shm, lcrm_rl_table_size(slots), NULL, pconf);
    if (rv == APR_SUCCESS) {
        l->table = apr_shm_baseaddr_get(shm);
        lcrm_rl_table_init(l->table, slots);
        rv = ap_global_mutex_create(&l->mutex, NULL, MUTEX_TYPE, NULL, s,
                                    pconf, 0);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(00901)
                     "cannot create the rate-limit table or its mutex");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (; s; s = s->next) {
        sc = ap_get_module_config(s->module_config, &leadcrm_module);
        sc->limiter = l;
    }
    return OK;
}

void lcrm_limit_child_init(apr_pool_t *p, server_rec *s)
{
    const lcrm_server_conf_t *sc = lcrm_sconf(s);
    apr_status_t rv;

    if (!sc->limiter) {
        return;
    }
    rv = apr_global_mutex_child_init(&sc->limiter->mutex,
                                     apr_global_mutex_lockfile(
                                         sc->limiter->mutex), p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(00902)
                     "cannot attach the rate-limit mutex in this child");
    }
}

static void set_headers(request_rec *r, const lcrm_rl_result_t *res,
                        int limited)
{
    apr_table_t *h = r->err_headers_out;
    apr_table_setn(h, "RateLimit-Limit", apr_psprintf(r->pool, "%u",
                                                      res->limit));
    apr_table_setn(h, "RateLimit-Remaining",
                   apr_psprintf(r->pool, "%u", res->remaining));
    apr_table_setn(h, "RateLimit-Reset", apr_psprintf(
                       r->pool, "%" APR_INT64_T_FMT, res->reset));
    if (limited) {
        apr_table_setn(h, "Retry-After", apr_psprintf(
                           r->pool, "%" APR_INT64_T_FMT, res->reset));
    }
}

static lcrm_rl_rule_t rule_for(const request_rec *r, lcrm_rl_class_e cls)
{
    const lcrm_dir_conf_t *dc = lcrm_dconf(r);
    return dc->rl[cls].limit != LCRM_UNSET ? dc->rl[cls] : defaults[cls];
}

int lcrm_limit(request_rec *r, lcrm_rl_class_e cls, const char *extra,
               int consume, int headers)
{
    const lcrm_server_conf_t *sc = lcrm_sconf(r->server);
    lcrm_rl_rule_t rule = rule_for(r, cls);
    lcrm_rl_result_t res;
    apr_uint64_t key;

    if (rule.limit == 0) {
        return 0;
    }
    if (!sc->limiter || apr_global_mutex_lock(sc->limiter->mutex)
                            != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LCRM_LOGNO(00903)
                      "rate limiter unavailable: failing %s for %s",
                      cls == LCRM_RL_LOGIN_FAIL ? "closed" : "open",
                      class_names[cls]);
        return cls == LCRM_RL_LOGIN_FAIL;
    }
    key = lcrm_rl_key(class_names[cls], r->useragent_ip, extra);
    lcrm_rl_hit(sc->limiter->table, key, (apr_uint32_t)rule.limit,
                (apr_uint32_t)rule.window, apr_time_sec(r->request_time),
                consume, &res);
    apr_global_mutex_unlock(sc->limiter->mutex);
    if (!res.allowed || headers) {
        set_headers(r, &res, !res.allowed);
    }
    if (!res.allowed) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(00904)
                      "rate limit %s exceeded by %s", class_names[cls],
                      r->useragent_ip);
    }
    return !res.allowed;
}
