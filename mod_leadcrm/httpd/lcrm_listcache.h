/*
 * lcrm_listcache: LeadCRMCache (httpd/lcrm_cache.c) for the list reads:
 * GET /api/leads, GET /api/consultations and
 * GET /api/consultations/availability.  A cached value is the exact JSON
 * body the SQL path rendered, under a key (core/lcrm_cachekey.c) made of
 * the answer's name, the caller's visibility (role; the user id of a USER,
 * who sees only their own rows), every value the answer depends on, and
 * the list version of sql/0051_list_version.sql, read from PostgreSQL in
 * the request: every statement that changes a leads, consultations (or,
 * for availability, a consultant's) row bumps it in its own transaction,
 * so a write on any node is seen by the next read on every node.  Nothing
 * is kept in process memory.  A cache that is off, fails or is unreachable
 * is a miss: the SQL path answers as without the cache.
 */
#ifndef LCRM_LISTCACHE_H
#define LCRM_LISTCACHE_H

#include "lcrm_router.h"

/* List version kinds (sql/0051_list_version.sql). */
#define LCRM_LISTCACHE_LEADS 'l'
#define LCRM_LISTCACHE_CONSULTATIONS 'c'

/* How long a list answer may stay cached: a new version makes it
 * unreachable at once; this only bounds the space of dead entries. */
#define LCRM_LISTCACHE_TTL apr_time_from_sec(60)

typedef struct {
    const char *key;      /* NULL: not cached (cache off, version unknown) */
    apr_int64_t now_us;   /* the database clock when the version was read */
} lcrm_listcache_t;

/*
 * Looks the answer up: reads version kind and the database clock (one
 * statement), builds lc->key from ns (a short [a-z] name), the caller's
 * visibility when scoped (role, and the user id of a USER) and
 * parts[0..nparts) (NULL allowed), and when the cache holds it answers 200
 * (no-store) with it.  framed: values carry an expiry time (see
 * lcrm_listcache_store_until).  Returns 1 when the answer was sent, 0 to
 * go on with the SQL path (lc->key NULL when nothing should be stored).
 */
int lcrm_listcache_lookup(lcrm_ctx_t *ctx, lcrm_listcache_t *lc, char kind,
                          const char *ns, int scoped, int framed,
                          int nparts, const char *const *parts);

/* Stores json under lc->key (nothing when NULL) for LCRM_LISTCACHE_TTL. */
void lcrm_listcache_store(lcrm_ctx_t *ctx, const lcrm_listcache_t *lc,
                          const char *json);

/*
 * Stores json, good while the database clock is before until_us
 * (microseconds since the epoch, text; NULL = no such limit), under
 * lc->key of a framed lookup, for at most LCRM_LISTCACHE_TTL.
 */
void lcrm_listcache_store_until(lcrm_ctx_t *ctx, const lcrm_listcache_t *lc,
                                const char *json, const char *until_us);

#endif
