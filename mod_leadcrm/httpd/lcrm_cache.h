/*
 * lcrm_cache: LeadCRMCache, a cache of rendered answers through httpd's
 * own socache providers (shmcb by default; memcache or redis shared by
 * several nodes).  Keys carry the data version the reading request got
 * from PostgreSQL (core/lcrm_cachekey.c), so a write on any node is seen
 * by the next read on every node.  A cache that fails is a miss.
 */
#ifndef LCRM_CACHE_H
#define LCRM_CACHE_H

#include <httpd.h>
#include <http_config.h>

struct lcrm_cache;

/* LeadCRMCache provider[:args] | none (main server only). */
const char *lcrm_cache_set(cmd_parms *cmd, void *dc, const char *arg);

/* pre_config: registers the cache's mutex type ("leadcrm-cache"). */
int lcrm_cache_pre_config(apr_pool_t *pconf);

/* post_config: creates the default (shmcb when loaded) and initialises
 * the cache of every server.  OK or HTTP_INTERNAL_SERVER_ERROR (logged). */
int lcrm_cache_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                           server_rec *s);

/* child_init: re-attaches the mutex of a provider that needs one. */
void lcrm_cache_child_init(apr_pool_t *p, server_rec *s);

/* 1 when r's server has a working cache. */
int lcrm_cache_on(const request_rec *r);

/* The value under key (allocated from r->pool), or NULL (a miss). */
const char *lcrm_cache_get(request_rec *r, const char *key);

/* Stores val under key for ttl (best effort: a failure is logged once
 * per child at debug level and otherwise ignored). */
void lcrm_cache_put(request_rec *r, const char *key, const char *val,
                    apr_interval_time_t ttl);

#endif
