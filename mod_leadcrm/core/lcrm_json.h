/*
 * lcrm_json: strict JSON parsing and small emit helpers over json-c.
 *
 * json-c is lenient by default (trailing data, NaN, duplicate keys, no
 * UTF-8 check, coercing getters).  Everything here enforces API.md's
 * strict rules.  Parsed objects are owned by the pool passed in: a pool
 * cleanup drops the reference, so early returns never leak.
 * No httpd headers; never includes libjwt (jansson) headers.
 */
#ifndef LCRM_JSON_H
#define LCRM_JSON_H

#include <apr_pools.h>
#include <json-c/json.h>

/* Maximum nesting accepted in request bodies (API.md: deeper -> 400). */
#define LCRM_JSON_MAX_DEPTH 16

/*
 * Parse exactly one JSON value from buf[0..len) and require an object at
 * the top level.  Rejects trailing data, invalid UTF-8, NaN/Infinity,
 * duplicate keys and nesting deeper than LCRM_JSON_MAX_DEPTH.
 * On success *out is owned by pool and APR_SUCCESS is returned; on failure
 * APR_EINVAL and *why is a short, client-safe reason.
 */
apr_status_t lcrm_json_parse_object(apr_pool_t *pool, const char *buf,
                                    apr_size_t len, json_object **out,
                                    const char **why);

/* Same rules, but any top-level value, any depth limit; used for claims. */
apr_status_t lcrm_json_parse_value(apr_pool_t *pool, const char *buf,
                                   apr_size_t len, int max_depth,
                                   json_object **out, const char **why);

/* Ties obj's lifetime to pool (json_object_put at cleanup); returns obj. */
json_object *lcrm_json_own(apr_pool_t *pool, json_object *obj);

/* Serializes obj compactly into pool memory (no slash escaping). */
const char *lcrm_json_dump(apr_pool_t *pool, json_object *obj);

/*
 * Returns the string value of key when it is present and a JSON string,
 * else NULL.  *len receives its length when non-NULL.
 */
const char *lcrm_json_get_str(json_object *obj, const char *key,
                              apr_size_t *len);

#endif
