/*
 * lcrm_limit_mc: rate-limit counters in memcached, for several httpd nodes
 * (LeadCRMRateLimitStore memcache host:port[,host:port...]).  memcached's
 * INCR is atomic on the server, so counts are exact across nodes; a
 * counter that does not exist yet is created with ADD (which fails if a
 * concurrent request created it first, and then INCR again).  Keys carry
 * the window start and expire with the window.
 */
#include "lcrm_limit_mc.h"

#include <apr_strings.h>

apr_status_t lcrm_limit_mc_create(apr_pool_t *p, const char *servers,
                                  apr_memcache_t **mc)
{
    char *list = apr_pstrdup(p, servers), *last, *hp;
    apr_status_t rv = apr_memcache_create(p, 8, 0, mc);

    for (hp = apr_strtok(list, ",", &last); hp && rv == APR_SUCCESS;
         hp = apr_strtok(NULL, ",", &last)) {
        char *host, *scope;
        apr_port_t port;
        apr_memcache_server_t *ms;

        rv = apr_parse_addr_port(&host, &scope, &port, hp, p);
        if (rv == APR_SUCCESS && (!host || !port)) {
            rv = APR_EINVAL;
        }
        if (rv == APR_SUCCESS) {
            /* up to 16 sockets per child, 60 s idle lifetime */
            rv = apr_memcache_server_create(p, host, port, 0, 4, 16,
                                            60 * 1000000, &ms);
        }
        if (rv == APR_SUCCESS) {
            rv = apr_memcache_add_server(*mc, ms);
        }
    }
    return rv;
}

const char *lcrm_limit_mc_check_servers(apr_pool_t *p, const char *servers)
{
    char *list = apr_pstrdup(p, servers), *last, *hp;

    for (hp = apr_strtok(list, ",", &last); hp;
         hp = apr_strtok(NULL, ",", &last)) {
        char *host, *scope;
        apr_port_t port;
        if (apr_parse_addr_port(&host, &scope, &port, hp, p) != APR_SUCCESS
            || !host || !port) {
            return "servers must be host:port[,host:port...]";
        }
    }
    return NULL;
}

apr_status_t lcrm_limit_mc_count(apr_memcache_t *mc, apr_pool_t *p,
                                 const char *key, int consume,
                                 apr_uint32_t ttl, apr_uint32_t *count)
{
    apr_status_t rv;
    char *val;
    apr_size_t len;
    apr_uint16_t flags;
    int tries;

    if (!consume) {
        rv = apr_memcache_getp(mc, p, key, &val, &len, &flags);
        *count = rv == APR_SUCCESS ? (apr_uint32_t)apr_atoi64(
                                         apr_pstrmemdup(p, val, len)) : 0;
        return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
    }
    for (tries = 0; tries < 3; tries++) {
        rv = apr_memcache_incr(mc, key, 1, count);
        if (rv != APR_NOTFOUND) {
            return rv;
        }
        rv = apr_memcache_add(mc, key, "1", 1, ttl, 0);
        if (rv == APR_SUCCESS) {
            *count = 1;
            return rv;
        }
        if (rv != APR_EEXIST) {
            return rv;
        }
    }
    return APR_EGENERAL;
}
