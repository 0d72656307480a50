/*
 * lcrm_cache: LeadCRMCache through httpd's socache providers (see
 * lcrm_cache.h).  The idiom of mod_authn_socache: the provider is looked
 * up and its instance created when the directive is read (so apache2 -t
 * reports a missing provider or bad arguments), initialised in
 * post_config, and a provider flagged not multi-process safe (shmcb) is
 * used under a global mutex re-attached in child_init.  Without the
 * directive the cache is shmcb when mod_socache_shmcb is loaded, and off
 * otherwise; "LeadCRMCache none" switches it off.
 *
 * The state hangs off the main server's config record (every virtual host
 * points at it) and is written only while httpd starts, before any
 * request thread exists.
 */
#include "lcrm_cache.h"
#include "lcrm_config.h"
#include "lcrm_private.h"

#include <ap_provider.h>
#include <ap_socache.h>
#include <apr_strings.h>
#include <http_log.h>
#include <util_mutex.h>

#define CACHE_MUTEX "leadcrm-cache"
#define CACHE_MAX_VALUE (256 * 1024)

typedef struct lcrm_cache {
    const char *spec;                 /* as configured, for the logs */
    int off;                          /* LeadCRMCache none */
    int configured;                   /* the directive was given */
    ap_socache_provider_t *provider;
    ap_socache_instance_t *instance;
    apr_global_mutex_t *mutex;        /* NOTMPSAFE providers only */
    int ready;                        /* initialised in post_config */
} lcrm_cache_t;

static lcrm_server_conf_t *sconf_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &leadcrm_module);
}

static lcrm_cache_t *cache_of(apr_pool_t *p, server_rec *s)
{
    lcrm_server_conf_t *sc = sconf_of(s);

    if (!sc->cache) {
        sc->cache = apr_pcalloc(p, sizeof(lcrm_cache_t));
    }
    return sc->cache;
}

const char *lcrm_cache_set(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    lcrm_cache_t *c;
    char *name;
    const char *args = NULL, *colon;

    (void)dc;
    if (err) {
        return err;
    }
    c = cache_of(cmd->pool, cmd->server);
    c->configured = 1;
    c->spec = arg;
    if (!strcasecmp(arg, "none")) {
        c->off = 1;
        return NULL;
    }
    colon = strchr(arg, ':');
    name = colon ? apr_pstrmemdup(cmd->pool, arg, (apr_size_t)(colon - arg))
                 : apr_pstrdup(cmd->pool, arg);
    if (colon) {
        args = colon + 1;
    }
    c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, name,
                                     AP_SOCACHE_PROVIDER_VERSION);
    if (!c->provider) {
        return apr_psprintf(cmd->pool, "LeadCRMCache: unknown socache provider"
                            " '%s' (LoadModule socache_%s_module first, or"
                            " use none)", name, name);
    }
    if ((err = c->provider->create(&c->instance, args, cmd->temp_pool,
                                   cmd->pool))) {
        return apr_psprintf(cmd->pool, "LeadCRMCache %s: %s", arg, err);
    }
    return NULL;
}

int lcrm_cache_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, CACHE_MUTEX, NULL, APR_LOCK_DEFAULT, 0)
           == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static apr_status_t cache_destroy(void *data)
{
    server_rec *s = data;
    lcrm_cache_t *c = sconf_of(s)->cache;

    if (c && c->ready) {
        c->provider->destroy(c->instance, s);
        c->ready = 0;
    }
    return APR_SUCCESS;
}

int lcrm_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *s)
{
    static struct ap_socache_hints hints = {64, 4096, 60 * APR_USEC_PER_SEC};
    lcrm_cache_t *c = cache_of(pconf, s);
    server_rec *v;
    const char *err;
    apr_status_t rv;

    for (v = s->next; v; v = v->next) {
        sconf_of(v)->cache = c;
    }
    if (!c->configured) {
        c->spec = "shmcb";
        c->provider = ap_lookup_provider(AP_SOCACHE_PROVIDER_GROUP, "shmcb",
                                         AP_SOCACHE_PROVIDER_VERSION);
        if (!c->provider) {
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, LCRM_LOGNO(02100)
                         "LeadCRMCache: mod_socache_shmcb is not loaded;"
                         " answers are not cached");
            c->off = 1;
            return OK;
        }
        if ((err = c->provider->create(&c->instance, NULL, ptemp, pconf))) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LCRM_LOGNO(02101)
                         "LeadCRMCache shmcb: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    if (c->off) {
        return OK;
    }
    if (c->provider->flags & AP_SOCACHE_FLAG_NOTMPSAFE) {
        rv = ap_global_mutex_create(&c->mutex, NULL, CACHE_MUTEX, NULL, s,
                                    pconf, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(02102)
                         "LeadCRMCache: cannot create the cache mutex");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    rv = c->provider->init(c->instance, "leadcrm-cache", &hints, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(02103)
                     "LeadCRMCache %s: initialisation failed", c->spec);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    c->ready = 1;
    apr_pool_cleanup_register(pconf, s, cache_destroy, apr_pool_cleanup_null);
    return OK;
}

void lcrm_cache_child_init(apr_pool_t *p, server_rec *s)
{
    lcrm_cache_t *c = sconf_of(s)->cache;
    apr_status_t rv;

    if (!c || !c->ready || !c->mutex) {
        return;
    }
    rv = apr_global_mutex_child_init(&c->mutex,
                                     apr_global_mutex_lockfile(c->mutex), p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, LCRM_LOGNO(02104)
                     "LeadCRMCache: cannot attach the cache mutex; the"
                     " cache is off in this child");
        c->ready = 0;
    }
}

static lcrm_cache_t *ready_cache(const request_rec *r)
{
    lcrm_cache_t *c = sconf_of(r->server)->cache;

    return c && c->ready ? c : NULL;
}

int lcrm_cache_on(const request_rec *r)
{
    return ready_cache(r) != NULL;
}

static int cache_lock(lcrm_cache_t *c)
{
    return !c->mutex || apr_global_mutex_lock(c->mutex) == APR_SUCCESS;
}

static void cache_unlock(lcrm_cache_t *c)
{
    if (c->mutex) {
        apr_global_mutex_unlock(c->mutex);
    }
}

const char *lcrm_cache_get(request_rec *r, const char *key)
{
    lcrm_cache_t *c = ready_cache(r);
    unsigned int len = CACHE_MAX_VALUE;
    unsigned char *buf;
    apr_status_t rv;

    if (!c || !cache_lock(c)) {
        return NULL;
    }
    buf = apr_palloc(r->pool, CACHE_MAX_VALUE + 1);
    rv = c->provider->retrieve(c->instance, r->server,
                               (const unsigned char *)key,
                               (unsigned int)strlen(key), buf, &len, r->pool);
    cache_unlock(c);
    if (rv != APR_SUCCESS || len > CACHE_MAX_VALUE) {
        return NULL;
    }
    buf[len] = '\0';
    return (const char *)buf;
}

void lcrm_cache_put(request_rec *r, const char *key, const char *val,
                    apr_interval_time_t ttl)
{
    lcrm_cache_t *c = ready_cache(r);
    apr_size_t len = strlen(val);
    apr_status_t rv;

    if (!c || len > CACHE_MAX_VALUE || !cache_lock(c)) {
        return;
    }
    rv = c->provider->store(c->instance, r->server,
                            (const unsigned char *)key,
                            (unsigned int)strlen(key),
                            apr_time_now() + ttl, (unsigned char *)val,
                            (unsigned int)len, r->pool);
    cache_unlock(c);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, LCRM_LOGNO(02105)
                      "LeadCRMCache %s: an answer of %" APR_SIZE_T_FMT
                      " bytes was not stored", c->spec, len);
    }
}
