/*
 * lcrm_limit_mc: memcached store for rate-limit counters (see .c).
 */
#ifndef LCRM_LIMIT_MC_H
#define LCRM_LIMIT_MC_H

#include <apr_memcache.h>

/* Creates a client for "host:port[,host:port...]" in pool p. */
apr_status_t lcrm_limit_mc_create(apr_pool_t *p, const char *servers,
                                  apr_memcache_t **mc);

/* NULL when servers parses, else a message (for the directive). */
const char *lcrm_limit_mc_check_servers(apr_pool_t *p, const char *servers);

/*
 * The counter at key: incremented first when consume (created with
 * lifetime ttl seconds when missing).  Returns the memcached status.
 */
apr_status_t lcrm_limit_mc_count(apr_memcache_t *mc, apr_pool_t *p,
                                 const char *key, int consume,
                                 apr_uint32_t ttl, apr_uint32_t *count);

#endif
