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
#include "lcrm_limit_mc.h"
#include "lcrm_private.h"
#include "lcrm_ratelimit.h"

#include <apr_atomic.h>
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
    const char *mc_servers;        /* LeadCRMRateLimitStore memcache ... */
    apr_memcache_t *mc;            /* per child, made in child_init */
    apr_uint32_t last_complaint;   /* minute of the last "unavailable" log */
};

static const char *const class_names[LCRM_RL_CLASSES] = {
    "general", "auth", "refresh", "public-write", "login-failures",
    "mail", "mail-target", "mfa-failures"};

/* API.md defaults: count per window seconds. */
static const lcrm_rl_rule_t defaults[LCRM_RL_CLASSES] = {
    {300, 60}, {20, 900}, {60, 900}, {10, 3600}, {10, 900},
    {5, 3600}, {5, 3600}, {10, 900}};

/* Classes that refuse when the limiter cannot count. */
static int fails_closed(lcrm_rl_class_e cls)
{
    return cls == LCRM_RL_LOGIN_FAIL || cls == LCRM_RL_MFA_FAIL;
}

/* Classes keyed on extra alone (not on the client address). */
static int keyed_on_extra(lcrm_rl_class_e cls)
{
    return cls == LCRM_RL_MAIL_TARGET || cls == LCRM_RL_MFA_FAIL;
}

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
               "public-write, login-failures, mail, mail-target or "
               "mfa-failures";
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

const char *lcrm_limit_set_store(cmd_parms *cmd, void *dc, const char *kind,
                                 const char *servers)
{
    lcrm_server_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                                  &leadcrm_module);
    const char *err;

    if (!strcmp(kind, "shm") && !servers) {
        sc->rl_store = NULL;
        return NULL;
    }
    if (strcmp(kind, "memcache") || !servers) {
        return "LeadCRMRateLimitStore takes shm, or memcache host:port[,...]";
    }
    if ((err = lcrm_limit_mc_check_servers(cmd->temp_pool, servers))) {
        return apr_pstrcat(cmd->pool, "LeadCRMRateLimitStore memcache ",
                           err, NULL);
    }
    sc->rl_store = servers;
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
    l->mc_servers = sc->rl_store;
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
    if (sc->limiter->mc_servers
        && (rv = lcrm_limit_mc_create(p, sc->limiter->mc_servers,
                                      &sc->limiter->mc)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(00905)
                     "cannot create the memcached client for rate limits");
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

/* Logs an unusable store at most once a minute per child. */
static void complain(request_rec *r, struct lcrm_limiter *l,
                     lcrm_rl_class_e cls, apr_status_t rv)
{
    apr_uint32_t minute = (apr_uint32_t)(apr_time_sec(r->request_time) / 60);
    apr_uint32_t last = apr_atomic_read32(&l->last_complaint);

    if (last != minute
        && apr_atomic_cas32(&l->last_complaint, minute, last) == last) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, LCRM_LOGNO(00903)
                      "rate limiter unavailable: failing %s for %s (and "
                      "open for the other classes; logged once a minute)",
                      fails_closed(cls) ? "closed" : "open",
                      class_names[cls]);
    }
}

/* Counts in shared memory; APR_SUCCESS or the mutex error. */
static apr_status_t count_shm(request_rec *r, struct lcrm_limiter *l,
                              apr_uint64_t key, lcrm_rl_rule_t rule,
                              int consume, lcrm_rl_result_t *res)
{
    apr_status_t rv = l->mutex ? apr_global_mutex_lock(l->mutex)
                               : APR_EGENERAL;
    if (rv == APR_SUCCESS) {
        lcrm_rl_hit(l->table, key, (apr_uint32_t)rule.limit,
                    (apr_uint32_t)rule.window, apr_time_sec(r->request_time),
                    consume, res);
        apr_global_mutex_unlock(l->mutex);
    }
    return rv;
}

/* Counts in memcached (exact across nodes). */
static apr_status_t count_mc(request_rec *r, struct lcrm_limiter *l,
                             apr_uint64_t key, lcrm_rl_rule_t rule,
                             int consume, lcrm_rl_result_t *res)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_int64_t start = now - now % rule.window;
    apr_uint32_t count = 0;
    const char *mkey = apr_psprintf(r->pool, "lcrm:rl:%016" APR_UINT64_T_HEX_FMT
                                    ":%" APR_INT64_T_FMT, key, start);
    apr_status_t rv = lcrm_limit_mc_count(l->mc, r->pool, mkey, consume,
                                          (apr_uint32_t)rule.window + 5,
                                          &count);
    if (rv == APR_SUCCESS) {
        res->limit = (apr_uint32_t)rule.limit;
        res->reset = start + rule.window - now;
        res->allowed = consume ? count <= res->limit : count < res->limit;
        res->remaining = count < res->limit ? res->limit - count : 0;
    }
    return rv;
}

int lcrm_limit(request_rec *r, lcrm_rl_class_e cls, const char *extra,
               int consume, int headers)
{
    const lcrm_server_conf_t *sc = lcrm_sconf(r->server);
    lcrm_rl_rule_t rule = rule_for(r, cls);
    lcrm_rl_result_t res;
    apr_uint64_t key;
    apr_status_t rv;

    if (rule.limit == 0) {
        return 0;
    }
    if (!sc->limiter) {
        return fails_closed(cls);
    }
    key = keyed_on_extra(cls)
              ? lcrm_rl_key(class_names[cls], "", extra)
              : lcrm_rl_key(class_names[cls], r->useragent_ip, extra);
    rv = sc->limiter->mc ? count_mc(r, sc->limiter, key, rule, consume, &res)
                         : count_shm(r, sc->limiter, key, rule, consume, &res);
    if (rv != APR_SUCCESS) {
        complain(r, sc->limiter, cls, rv);
        return fails_closed(cls);
    }
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
