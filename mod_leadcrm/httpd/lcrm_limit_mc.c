/*
 * lcrm_limit_mc: rate-limit counters in memcached, for several httpd nodes
 * (LeadCRMRateLimitStore memcache host:port[,host:port...]).  memcached's
 * INCR is atomic on the server, so counts are exact across nodes; a
 * counter that does not exist yet is created with ADD (which fails if a
 * concurrent request created it first, and then INCR again).  Keys carry
 * the bucket start and expire after the window.
 *
 * apr_memcache answers APR_NOTFOUND both for an absent key and when no
 * server is alive; every answer that reads as "absent" is checked against
 * the client's list of live servers, so an unreachable store is reported
 * as an error (and the caller fails closed or open per class), never as
 * a zero count.
 */
#include "lcrm_limit_mc.h"

#include <apr_strings.h>
#include <string.h>

/* Number of entries in a server list. */
static int count_servers(const char *servers)
{
    int n = 1;
    for (; *servers; servers++) {
        n += *servers == ',';
    }
    return n;
}

apr_status_t lcrm_limit_mc_create(apr_pool_t *p, const char *servers,
                                  apr_memcache_t **mc)
{
    char *list = apr_pstrdup(p, servers), *last, *hp;
    apr_status_t rv = apr_memcache_create(
        p, (apr_uint16_t)count_servers(servers), 0, mc);

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

    if (count_servers(servers) > LCRM_MC_MAX_SERVERS) {
        return apr_psprintf(p, "takes at most %d servers",
                            LCRM_MC_MAX_SERVERS);
    }
    for (hp = apr_strtok(list, ",", &last); hp;
         hp = apr_strtok(NULL, ",", &last)) {
        char *host, *scope;
        apr_port_t port;
        if (apr_parse_addr_port(&host, &scope, &port, hp, p) != APR_SUCCESS
            || !host || !port) {
            return "servers must be host:port[,host:port...]";
        }
    }
    if (!*servers || strstr(servers, ",,") || servers[strlen(servers) - 1] == ',') {
        return "servers must be host:port[,host:port...]";
    }
    return NULL;
}

/* APR_SUCCESS when the server for key is alive (as apr_memcache sees it). */
static apr_status_t reachable(apr_memcache_t *mc, const char *key)
{
    apr_uint32_t h = apr_memcache_hash(mc, key, strlen(key));
    return apr_memcache_find_server_hash(mc, h) ? APR_SUCCESS
                                                : APR_ECONNREFUSED;
}

/* Tries per operation: a connection error marks its server dead, and
 * the next try goes to the next live server (apr_memcache's failover). */
#define TRIES 10

apr_status_t lcrm_limit_mc_get(apr_memcache_t *mc, apr_pool_t *p,
                               const char *key, apr_uint32_t *count)
{
    char *val;
    apr_size_t len;
    apr_uint16_t flags;
    apr_status_t rv = APR_EGENERAL;
    int tries;

    *count = 0;
    for (tries = 0; tries < TRIES; tries++) {
        if ((rv = reachable(mc, key)) != APR_SUCCESS) {
            return rv;
        }
        rv = apr_memcache_getp(mc, p, key, &val, &len, &flags);
        if (rv == APR_SUCCESS) {
            *count = (apr_uint32_t)apr_atoi64(apr_pstrmemdup(p, val, len));
            return rv;
        }
        if (rv == APR_NOTFOUND) {
            /* absent, unless the server went away meanwhile */
            return reachable(mc, key);
        }
    }
    return rv;
}

apr_status_t lcrm_limit_mc_incr(apr_memcache_t *mc, const char *key,
                                apr_uint32_t ttl, apr_uint32_t *count)
{
    apr_status_t rv = APR_EGENERAL;
    int tries;

    for (tries = 0; tries < TRIES; tries++) {
        if ((rv = reachable(mc, key)) != APR_SUCCESS) {
            return rv;
        }
        rv = apr_memcache_incr(mc, key, 1, count);
        if (rv == APR_SUCCESS) {
            return rv;
        }
        if (rv == APR_NOTFOUND) {
            /* absent (or no server any more: ADD then says NOTFOUND too,
             * never a real answer, and the next round sees it) */
            rv = apr_memcache_add(mc, key, "1", 1, ttl, 0);
            if (rv == APR_SUCCESS) {
                *count = 1;
                return rv;
            }
            /* APR_EEXIST: created meanwhile, INCR again */
        }
    }
    return rv == APR_SUCCESS ? APR_EGENERAL : rv;
}

apr_status_t lcrm_limit_mc_decr(apr_memcache_t *mc, const char *key)
{
    apr_uint32_t left;
    apr_status_t rv = apr_memcache_decr(mc, key, 1, &left);
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}
