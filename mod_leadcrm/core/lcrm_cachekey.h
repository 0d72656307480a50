/*
 * lcrm_cachekey: the keys of LeadCRMCache entries (httpd/lcrm_cache.c).
 *
 * A key names one answer of one endpoint at one data version:
 * "lcrm:<ns>:<version>:<digest>", where the digest (SHA-256, hex) covers
 * the request parameters, each length-prefixed so that no two parameter
 * lists share a key.  The version comes from the database in the reading
 * request (sql/0040_lead_rollups.sql), so a write on any node makes every
 * older key unreachable: no invalidation message is needed.  Keys are
 * printable ASCII without spaces (safe for memcached and Redis).
 */
#ifndef LCRM_CACHEKEY_H
#define LCRM_CACHEKEY_H

#include <apr_pools.h>

/*
 * The key of namespace ns (a short [a-z] name), data version version
 * (digits), parameters parts[0..n) (NULL parts allowed: distinct from "").
 * Allocated from pool.
 */
const char *lcrm_cache_key(apr_pool_t *pool, const char *ns,
                           const char *version, const char *const *parts,
                           int n);

/*
 * A value that stays good only while the database clock is before
 * until_us (microseconds since the epoch): "<until_us>\n" then body.
 * Allocated from pool.
 */
const char *lcrm_cache_frame(apr_pool_t *pool, apr_int64_t until_us,
                             const char *body);

/*
 * The body of framed value when now_us (the database clock, read in the
 * request) is before its until_us; NULL when it has expired or value is
 * not a framed value.  Points into value.
 */
const char *lcrm_cache_unframe(const char *value, apr_int64_t now_us);

#endif
