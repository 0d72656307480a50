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

#endif
