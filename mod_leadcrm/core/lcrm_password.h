/*
 * lcrm_password: bcrypt hashing and verification through apr-util.
 *
 * apr_password_validate() also accepts {SHA}, $apr1$ and crypt(3) DES
 * hashes and truncates at 72 bytes; these wrappers accept only bcrypt
 * ($2a$, $2b$, $2y$) hashes and refuse over-long passwords.
 */
#ifndef LCRM_PASSWORD_H
#define LCRM_PASSWORD_H

#include <apr_pools.h>

#define LCRM_BCRYPT_COST_MIN 10
#define LCRM_BCRYPT_COST_MAX 17
#define LCRM_BCRYPT_COST_DEFAULT 10

/*
 * Hashes password (already checked by lcrm_check_password) at cost.
 * Returns APR_SUCCESS and *hash in pool memory, APR_EINVAL for a bad cost
 * or password, or the error of the random source.
 */
apr_status_t lcrm_password_hash(apr_pool_t *pool, const char *password,
                                apr_size_t len, int cost, const char **hash);

/*
 * Verifies password against a stored bcrypt hash.  Returns APR_SUCCESS on
 * a match, APR_EMISMATCH otherwise (including a non-bcrypt hash).
 */
apr_status_t lcrm_password_verify(const char *password, apr_size_t len,
                                  const char *hash);

/*
 * The cost of a bcrypt hash ("$2y$12$..." -> 12), or -1 when hash is not
 * a bcrypt hash we accept.  A login rehashes when this differs from the
 * configured cost.
 */
int lcrm_password_cost(const char *hash);

/* Non-zero when hash looks like a bcrypt hash we accept. */
int lcrm_password_is_bcrypt(const char *hash);

/*
 * A valid bcrypt hash of a random password at cost, for spending the
 * same time on logins for unknown emails.  Made once at start-up.
 */
apr_status_t lcrm_password_dummy_hash(apr_pool_t *pool, int cost,
                                      const char **hash);

#endif
