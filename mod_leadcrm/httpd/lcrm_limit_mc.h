/*
 * lcrm_limit_mc: memcached store for rate-limit counters (see .c).
 */
#ifndef LCRM_LIMIT_MC_H
#define LCRM_LIMIT_MC_H

#include <httpd.h>
#include <apr_memcache.h>

/* Most servers a LeadCRMRateLimitStore list may name. */
#define LCRM_MC_MAX_SERVERS 64

/* The counter functions below take the request they count for (its
 * pool, its trace: one span per memcached command). */

/* Creates a client for "host:port[,host:port...]" (every server of the
 * list) in pool p. */
apr_status_t lcrm_limit_mc_create(apr_pool_t *p, const char *servers,
                                  apr_memcache_t **mc);

/* NULL when servers parses (1..LCRM_MC_MAX_SERVERS entries), else a
 * message (for the directive). */
const char *lcrm_limit_mc_check_servers(apr_pool_t *p, const char *servers);

/*
 * The counter at key, 0 when absent.  APR_SUCCESS only when a server
 * answered: "no live server" (which apr_memcache reports as APR_NOTFOUND,
 * like an absent key) is APR_ECONNREFUSED here.
 */
apr_status_t lcrm_limit_mc_get(request_rec *r, apr_memcache_t *mc,
                               apr_pool_t *p, const char *key,
                               apr_uint32_t *count);

/* Increments the counter at key (created with lifetime ttl seconds when
 * missing); *count is the new value.  Errors as lcrm_limit_mc_get. */
apr_status_t lcrm_limit_mc_incr(request_rec *r, apr_memcache_t *mc,
                                const char *key, apr_uint32_t ttl,
                                apr_uint32_t *count);

/* Decrements the counter at key (not below 0; absent is fine). */
apr_status_t lcrm_limit_mc_decr(request_rec *r, apr_memcache_t *mc,
                                const char *key);

#endif
