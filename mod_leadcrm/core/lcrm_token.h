/*
 * lcrm_token: access tokens (JWT, HS256 only) through libjwt 1.10.
 *
 * libjwt verifies with whatever `alg` the token names and checks no claim
 * (PITFALLS.md), so verification here pins the algorithm on the raw header
 * and on the decoded token, caps the size first, and checks every claim
 * itself from the claims JSON.  A previous key may verify tokens during a
 * key rotation; `kid` chooses it.
 */
#ifndef LCRM_TOKEN_H
#define LCRM_TOKEN_H

#include <apr_pools.h>
#include <apr_time.h>
#include "lcrm_secret.h"

#define LCRM_TOKEN_MAX_LEN 4096

typedef struct {
    const lcrm_key_t *key;          /* signs and verifies */
    const char *kid;                /* may be NULL */
    const lcrm_key_t *previous_key; /* verifies only; may be NULL */
    const char *previous_kid;       /* required with previous_key */
    const char *issuer;
    const char *audience;
    apr_int64_t ttl;                /* seconds */
    apr_int64_t leeway;             /* seconds of clock skew allowed */
} lcrm_token_cfg_t;

typedef struct {
    const char *sub;   /* user id */
    const char *role;
    const char *sid;   /* session id */
    const char *jti;
    apr_int64_t iat;
    apr_int64_t exp;
} lcrm_claims_t;

/*
 * Issues a token for claims->sub/role/sid at now (seconds since epoch);
 * fills claims->jti/iat/exp.  Returns APR_SUCCESS and *token in pool.
 */
apr_status_t lcrm_token_issue(apr_pool_t *pool, const lcrm_token_cfg_t *cfg,
                              apr_int64_t now, lcrm_claims_t *claims,
                              const char **token);

/*
 * Verifies token (len bytes) at now.  Returns APR_SUCCESS and fills
 * *claims, else APR_EINVAL with *why a log-safe reason (never token text).
 */
apr_status_t lcrm_token_verify(apr_pool_t *pool, const lcrm_token_cfg_t *cfg,
                               const char *token, apr_size_t len,
                               apr_int64_t now, lcrm_claims_t *claims,
                               const char **why);

#endif
