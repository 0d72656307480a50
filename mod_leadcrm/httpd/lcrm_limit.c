/*
 * lcrm_limit: rate limits in shared memory or memcached (see lcrm_limit.h).
 *
 * Life cycle: the mutex type is registered in pre_config; the anonymous
 * shared segment (with its hash secret) and the global mutex are made
 * once, in the process pool, and found again through ap_retained_data on
 * every later configuration generation, so a graceful restart keeps
 * every counter and lockout (a different LeadCRMRateLimitSlots starts a
 * new table).  Each child re-attaches the mutex in child_init and makes
 * its own memcached client.  The counters themselves (windows, bounded
 * table, keyed hash, client grouping) are core/lcrm_ratelimit.c.
 *
 * Guarantees per class: the security classes (every class but general)
 * count in sliding windows and their live entries are never evicted;
 * when the store cannot count (memcached unreachable, mutex error, probe
 * run full of live security entries) login-failures,
 * login-account-failures and mfa-failures refuse, the others let the
 * request through; the log says which (once a minute per child and
 * class).
 */
#include "lcrm_config.h"
#include "lcrm_limit.h"
#include "lcrm_limit_mc.h"
#include "lcrm_private.h"
#include "lcrm_ratelimit.h"
#include "lcrm_secret.h"

#include <apr_atomic.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_protocol.h>
#include <util_mutex.h>

#define MUTEX_TYPE "leadcrm-ratelimit"
#define RETAINED_KEY "leadcrm-ratelimit-table"

/* What survives configuration generations (ap_retained_data). */
typedef struct {
    apr_shm_t *shm;
    apr_global_mutex_t *mutex;
    apr_uint32_t slots;
} retained_t;

struct lcrm_limiter {
    apr_global_mutex_t *mutex;
    lcrm_rl_table_t *table;
    const char *mc_servers;        /* LeadCRMRateLimitStore memcache ... */
    apr_memcache_t *mc;            /* per child, made in child_init */
    int v6prefix;
    /* minute of the last "cannot count" log, per class */
    apr_uint32_t last_complaint[LCRM_RL_CLASSES];
};

static const char *const class_names[LCRM_RL_CLASSES] = {
    "general", "auth", "refresh", "public-write", "login-failures",
    "mail", "mail-target", "mfa-failures", "login-account-failures"};

const char lcrm_limit_class_list[] =
    "general, auth, refresh, public-write, login-failures, mail, "
    "mail-target, mfa-failures or login-account-failures";

/* API.md defaults: count per window seconds. */
static const lcrm_rl_rule_t defaults[LCRM_RL_CLASSES] = {
    {300, 60}, {20, 900}, {60, 900}, {10, 3600}, {10, 900},
    {5, 3600}, {5, 3600}, {10, 900}, {50, 900}};

int lcrm_limit_class(const char *name)
{
    int i;
    for (i = 0; i < LCRM_RL_CLASSES; i++) {
        if (!strcmp(name, class_names[i])) {
            return i;
        }
    }
    return -1;
}

lcrm_rl_rule_t lcrm_limit_default_rule(lcrm_rl_class_e cls)
{
    return defaults[cls];
}

const char *lcrm_limit_check_servers(apr_pool_t *p, const char *servers)
{
    return lcrm_limit_mc_check_servers(p, servers);
}

/* Classes that refuse when the limiter cannot count. */
static int fails_closed(lcrm_rl_class_e cls)
{
    return cls == LCRM_RL_LOGIN_FAIL || cls == LCRM_RL_MFA_FAIL
           || cls == LCRM_RL_LOGIN_ACCOUNT_FAIL;
}

/* Classes keyed on extra alone (not on the client address). */
static int keyed_on_extra(lcrm_rl_class_e cls)
{
    return cls == LCRM_RL_MAIL_TARGET || cls == LCRM_RL_MFA_FAIL
           || cls == LCRM_RL_LOGIN_ACCOUNT_FAIL;
}

int lcrm_limit_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0)
               == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

/* The retained table of slots entries (made or found again). */
static apr_status_t attach(server_rec *s, apr_uint32_t slots,
                           retained_t **out)
{
    apr_pool_t *pp = s->process->pool;
    retained_t *ret = ap_retained_data_get(RETAINED_KEY);
    unsigned char secret[LCRM_RL_SECRET_LEN];
    apr_status_t rv = APR_SUCCESS;

    if (!ret) {
        ret = ap_retained_data_create(RETAINED_KEY, sizeof(*ret));
    }
    if (!ret->mutex) {
        rv = ap_global_mutex_create(&ret->mutex, NULL, MUTEX_TYPE, NULL, s,
                                    pp, 0);
    }
    if (rv == APR_SUCCESS && ret->shm && ret->slots != slots) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, LCRM_LOGNO(00906)
                     "LeadCRMRateLimitSlots changed: starting a new, empty "
                     "rate-limit table");
        apr_shm_destroy(ret->shm);
        ret->shm = NULL;
    }
    if (rv == APR_SUCCESS && !ret->shm) {
        rv = apr_generate_random_bytes(secret, sizeof(secret));
        if (rv == APR_SUCCESS) {
            rv = apr_shm_create(&ret->shm, lcrm_rl_table_size(slots), NULL,
                                pp);
        }
        if (rv == APR_SUCCESS) {
            lcrm_rl_table_init(apr_shm_baseaddr_get(ret->shm), slots,
                               secret);
            ret->slots = slots;
        }
        else {
            ret->shm = NULL;
        }
        memset(secret, 0, sizeof(secret));
    }
    *out = ret;
    return rv;
}

struct lcrm_limiter *lcrm_limit_create(apr_pool_t *pconf, server_rec *s,
                                       const lcrm_limit_settings_t *set)
{
    struct lcrm_limiter *l = apr_pcalloc(pconf, sizeof(*l));
    retained_t *ret;
    apr_status_t rv = attach(s, set->slots, &ret);

    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(00901)
                     "cannot create the rate-limit table or its mutex");
        return NULL;
    }
    l->table = apr_shm_baseaddr_get(ret->shm);
    l->mutex = ret->mutex;
    l->mc_servers = set->mc_servers;
    l->v6prefix = set->v6prefix;
    return l;
}

void lcrm_limit_child_init(apr_pool_t *p, server_rec *s)
{
    struct lcrm_limiter *l = lcrm_conf_limiter(s);
    apr_status_t rv;

    if (!l) {
        return;
    }
    rv = apr_global_mutex_child_init(&l->mutex,
                                     apr_global_mutex_lockfile(l->mutex), p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(00902)
                     "cannot attach the rate-limit mutex in this child");
    }
    if (l->mc_servers
        && (rv = lcrm_limit_mc_create(p, l->mc_servers, &l->mc))
               != APR_SUCCESS) {
        l->mc = NULL;
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

/*
 * The store cannot count: logs it (once a minute per child and class) and
 * answers per class.
 */
static int cannot_count(request_rec *r, struct lcrm_limiter *l,
                        lcrm_rl_class_e cls, apr_status_t rv,
                        const char *why)
{
    apr_uint32_t minute = (apr_uint32_t)(apr_time_sec(r->request_time) / 60);
    apr_uint32_t last = l ? apr_atomic_read32(&l->last_complaint[cls]) : 0;

    if (!l || (last != minute
               && apr_atomic_cas32(&l->last_complaint[cls], minute, last)
                      == last)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, LCRM_LOGNO(00903)
                      "rate limiter cannot count (%s): failing %s for %s "
                      "(logged once a minute per class)", why,
                      fails_closed(cls) ? "closed" : "open",
                      class_names[cls]);
    }
    if (fails_closed(cls)) {
        apr_table_setn(r->err_headers_out, "Retry-After", "60");
        return 1;
    }
    return 0;
}

/* Counts in shared memory; APR_SUCCESS, APR_ENOSPC (full) or the mutex
 * error. */
static apr_status_t count_shm(request_rec *r, struct lcrm_limiter *l,
                              apr_uint64_t key, const lcrm_rl_spec_t *spec,
                              int consume, lcrm_rl_result_t *res)
{
    lcrm_rl_status_e st;
    apr_status_t rv = l->mutex ? apr_global_mutex_lock(l->mutex)
                               : APR_EGENERAL;
    if (rv == APR_SUCCESS) {
        st = lcrm_rl_hit(l->table, key, spec, apr_time_sec(r->request_time),
                         consume, res);
        apr_global_mutex_unlock(l->mutex);
        rv = st == LCRM_RL_OK ? APR_SUCCESS : APR_ENOSPC;
    }
    return rv;
}

/*
 * Counts in memcached (exact across nodes): one key per bucket, the
 * previous bucket read for sliding windows.  A request over the limit
 * is given back, so that it does not count.
 */
static apr_status_t count_mc(request_rec *r, struct lcrm_limiter *l,
                             const char *name, const lcrm_rl_spec_t *spec,
                             int consume, lcrm_rl_result_t *res)
{
    apr_int64_t now = apr_time_sec(r->request_time);
    apr_int64_t start = now - now % spec->window;
    int sliding = (spec->flags & LCRM_RL_SLIDING) != 0;
    const char *cur = apr_psprintf(r->pool, "lcrm:rl:%s:%" APR_INT64_T_FMT,
                                   name, start);
    apr_uint32_t previous = 0, count = 0;
    apr_status_t rv = APR_SUCCESS;

    if (!l->mc) {
        return APR_ENOTIMPL;
    }
    /* each memcached command is a span of r (lcrm_limit_mc.c) */
    if (sliding) {
        rv = lcrm_limit_mc_get(r, l->mc, r->pool, apr_psprintf(
                                   r->pool, "lcrm:rl:%s:%" APR_INT64_T_FMT,
                                   name, start - spec->window), &previous);
    }
    if (rv == APR_SUCCESS && consume > 0) {
        rv = lcrm_limit_mc_incr(r, l->mc, cur,
                                spec->window * (sliding ? 2 : 1) + 5, &count);
        count = count > 0 ? count - 1 : 0;
    }
    else if (rv == APR_SUCCESS && consume < 0) {
        rv = lcrm_limit_mc_decr(r, l->mc, cur);
    }
    else if (rv == APR_SUCCESS) {
        rv = lcrm_limit_mc_get(r, l->mc, r->pool, cur, &count);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    lcrm_rl_decide(spec, previous, count, now, res);
    if (consume > 0 && !res->allowed) {
        lcrm_limit_mc_decr(r, l->mc, cur);
    }
    if (consume < 0) {
        res->allowed = 1;
    }
    return APR_SUCCESS;
}

int lcrm_limit(request_rec *r, lcrm_rl_class_e cls, const char *extra,
               int consume, int headers)
{
    struct lcrm_limiter *l = lcrm_conf_limiter(r->server);
    lcrm_rl_rule_t rule = lcrm_conf_rate_rule(r, cls);
    lcrm_rl_spec_t spec;
    lcrm_rl_result_t res;
    const char *client = NULL;
    char buf[80];
    apr_status_t rv;

    if (rule.limit == 0) {
        return 0;
    }
    if (!l) {
        return consume < 0 ? 0 : cannot_count(r, l, cls, APR_EINIT,
                                              "no limiter");
    }
    spec.limit = (apr_uint32_t)rule.limit;
    spec.window = (apr_uint32_t)rule.window;
    spec.flags = cls == LCRM_RL_GENERAL ? 0
                                        : LCRM_RL_SLIDING | LCRM_RL_PROTECTED;
    if (!keyed_on_extra(cls)) {
        client = lcrm_rl_client(r->useragent_ip, l->v6prefix, buf,
                                sizeof(buf));
    }
    if (l->mc_servers) {
        /* the same name on every node: a digest, not the local secret */
        const char *text = apr_psprintf(r->pool, "%s\x1f%s\x1f%s\x1f%u",
                                        class_names[cls], client ? client : "",
                                        extra ? extra : "", spec.window);
        rv = count_mc(r, l, lcrm_sha256_hex(r->pool, text, strlen(text)),
                      &spec, consume, &res);
    }
    else {
        rv = count_shm(r, l, lcrm_rl_key(l->table->secret, class_names[cls],
                                         client, extra, spec.window),
                       &spec, consume, &res);
    }
    if (rv != APR_SUCCESS) {
        return consume < 0 ? 0 : cannot_count(
            r, l, cls, rv, rv == APR_ENOSPC ? "table full of live security "
                                              "entries"
                                            : "store unavailable");
    }
    if (consume < 0) {
        return 0;
    }
    if (!res.allowed || headers) {
        set_headers(r, &res, !res.allowed);
    }
    if (!res.allowed) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(00904)
                      "rate limit %s exceeded by %s", class_names[cls],
                      client ? client : "an account");
    }
    return !res.allowed;
}

int lcrm_limit_login_reserve(request_rec *r, const char *account)
{
    if (lcrm_limit(r, LCRM_RL_LOGIN_FAIL, account, 1, 0)) {
        return 1;
    }
    if (lcrm_limit(r, LCRM_RL_LOGIN_ACCOUNT_FAIL, account, 1, 0)) {
        lcrm_limit(r, LCRM_RL_LOGIN_FAIL, account, -1, 0);
        return 1;
    }
    return 0;
}

void lcrm_limit_login_release(request_rec *r, const char *account)
{
    lcrm_limit(r, LCRM_RL_LOGIN_FAIL, account, -1, 0);
    lcrm_limit(r, LCRM_RL_LOGIN_ACCOUNT_FAIL, account, -1, 0);
}
