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
 *
 * Each command sent (GET, INCR, ADD, DECR) is a CLIENT span of the request
 * when it is traced ("memcached INCR"; db.system, server.address and
 * server.port; lcrm_trace.h, free when not traced).  Keys are never
 * recorded: their digest stands for a client address or an account.
 */
#include "lcrm_limit_mc.h"
#include "lcrm_trace.h"

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

/* The live server for key as apr_memcache sees it, NULL when none. */
static apr_memcache_server_t *server_of(apr_memcache_t *mc, const char *key)
{
    apr_uint32_t h = apr_memcache_hash(mc, key, strlen(key));
    return apr_memcache_find_server_hash(mc, h);
}

/* APR_SUCCESS when the server for key is alive (as apr_memcache sees it). */
static apr_status_t reachable(apr_memcache_t *mc, const char *key)
{
    return server_of(mc, key) ? APR_SUCCESS : APR_ECONNREFUSED;
}

/* The server of a command span (none when no server is alive). */
static void span_server(lcrm_span_t *span, request_rec *r,
                        const apr_memcache_server_t *ms)
{
    lcrm_span_attr(span, "db.system", "memcached");
    if (span && ms) {
        lcrm_span_attr(span, "server.address", ms->host);
        lcrm_span_attr(span, "server.port", apr_itoa(r->pool, ms->port));
    }
}

/* A span for one command about to go to server ms (NULL: no server). */
static lcrm_span_t *command_span(request_rec *r, const char *name,
                                 const apr_memcache_server_t *ms)
{
    lcrm_span_t *span = lcrm_span_start(r, name, LCRM_SPAN_CLIENT);
    span_server(span, r, ms);
    return span;
}

/* Ends a command span: rv other than success and the command's ordinary
 * negative answer (normal: NOTFOUND for GET and INCR, EEXIST for ADD)
 * marks it failed. */
static void command_end(lcrm_span_t *span, apr_status_t rv, apr_status_t normal)
{
    char buf[120];
    int failed = rv != APR_SUCCESS && rv != normal;

    if (span && failed) {
        lcrm_span_attr(span, "error.type", apr_strerror(rv, buf, sizeof(buf)));
    }
    lcrm_span_end(span, failed);
}

/* Tries per operation: a connection error marks its server dead, and
 * the next try goes to the next live server (apr_memcache's failover). */
#define TRIES 10

apr_status_t lcrm_limit_mc_get(request_rec *r, apr_memcache_t *mc,
                               apr_pool_t *p, const char *key,
                               apr_uint32_t *count)
{
    char *val;
    apr_size_t len;
    apr_uint16_t flags;
    apr_status_t rv = APR_EGENERAL;
    int tries;

    *count = 0;
    for (tries = 0; tries < TRIES; tries++) {
        apr_memcache_server_t *ms = server_of(mc, key);
        lcrm_span_t *span = command_span(r, "memcached GET", ms);

        if (!ms) {
            command_end(span, APR_ECONNREFUSED, APR_SUCCESS);
            return APR_ECONNREFUSED;
        }
        rv = apr_memcache_getp(mc, p, key, &val, &len, &flags);
        command_end(span, rv, APR_NOTFOUND);
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

/* ADD of a counter at 1 (INCR found none), in its own span. */
static apr_status_t add_one(request_rec *r, apr_memcache_t *mc,
                            const apr_memcache_server_t *ms, const char *key,
                            apr_uint32_t ttl)
{
    lcrm_span_t *span = command_span(r, "memcached ADD", ms);
    apr_status_t rv = apr_memcache_add(mc, key, "1", 1, ttl, 0);
    command_end(span, rv, APR_EEXIST);
    return rv;
}

apr_status_t lcrm_limit_mc_incr(request_rec *r, apr_memcache_t *mc,
                                const char *key, apr_uint32_t ttl,
                                apr_uint32_t *count)
{
    apr_status_t rv = APR_EGENERAL;
    int tries;

    for (tries = 0; tries < TRIES; tries++) {
        apr_memcache_server_t *ms = server_of(mc, key);
        lcrm_span_t *span = command_span(r, "memcached INCR", ms);

        if (!ms) {
            command_end(span, APR_ECONNREFUSED, APR_SUCCESS);
            return APR_ECONNREFUSED;
        }
        rv = apr_memcache_incr(mc, key, 1, count);
        command_end(span, rv, APR_NOTFOUND);
        if (rv == APR_SUCCESS) {
            return rv;
        }
        if (rv == APR_NOTFOUND) {
            /* absent (or no server any more: ADD then says NOTFOUND too,
             * never a real answer, and the next round sees it) */
            rv = add_one(r, mc, ms, key, ttl);
            if (rv == APR_SUCCESS) {
                *count = 1;
                return rv;
            }
            /* APR_EEXIST: created meanwhile, INCR again */
        }
    }
    return rv == APR_SUCCESS ? APR_EGENERAL : rv;
}

apr_status_t lcrm_limit_mc_decr(request_rec *r, apr_memcache_t *mc,
                                const char *key)
{
    apr_uint32_t left;
    lcrm_span_t *span = lcrm_span_start(r, "memcached DECR", LCRM_SPAN_CLIENT);
    apr_status_t rv;

    if (span) {
        /* the lookup only when traced: untraced, nothing changes */
        span_server(span, r, server_of(mc, key));
    }
    rv = apr_memcache_decr(mc, key, 1, &left);
    command_end(span, rv, APR_NOTFOUND);
    return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
}
