/*
 * lcrm_password: bcrypt via apr-util (see lcrm_password.h).
 */
#include "lcrm_password.h"

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_md5.h>
#include <apr_strings.h>
#include <string.h>

int lcrm_password_is_bcrypt(const char *hash)
{
    int i;

    if (!hash || strlen(hash) != 60 || hash[0] != '$' || hash[1] != '2'
        || (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y')
        || hash[3] != '$' || !apr_isdigit(hash[4]) || !apr_isdigit(hash[5])
        || hash[6] != '$') {
        return 0;
    }
    for (i = 7; i < 60; i++) {
        if (!apr_isalnum(hash[i]) && hash[i] != '.' && hash[i] != '/') {
            return 0;
        }
    }
    return 1;
}

apr_status_t lcrm_password_hash(apr_pool_t *pool, const char *password,
                                apr_size_t len, int cost, const char **hash)
{
    unsigned char salt[16];
    char buf[64];
    apr_status_t rv;

    if (cost < 4 || cost > LCRM_BCRYPT_COST_MAX || len > 72
        || strlen(password) != len) {
        return APR_EINVAL;
    }
    if ((rv = apr_generate_random_bytes(salt, sizeof(salt))) != APR_SUCCESS) {
        return rv;
    }
    rv = apr_bcrypt_encode(password, (unsigned int)cost, salt, sizeof(salt),
                           buf, sizeof(buf));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *hash = apr_pstrdup(pool, buf);
    return APR_SUCCESS;
}

apr_status_t lcrm_password_verify(const char *password, apr_size_t len,
                                  const char *hash)
{
    if (!lcrm_password_is_bcrypt(hash) || len > 72
        || strlen(password) != len) {
        return APR_EMISMATCH;
    }
    return apr_password_validate(password, hash) == APR_SUCCESS
               ? APR_SUCCESS : APR_EMISMATCH;
}

apr_status_t lcrm_password_dummy_hash(apr_pool_t *pool, int cost,
                                      const char **hash)
{
    unsigned char raw[24];
    char pw[64];
    apr_status_t rv;
    int i;

    if ((rv = apr_generate_random_bytes(raw, sizeof(raw))) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < (int)sizeof(raw); i++) {
        apr_snprintf(pw + 2 * i, 3, "%02x", raw[i]);
    }
    return lcrm_password_hash(pool, pw, strlen(pw), cost, hash);
}

int lcrm_password_cost(const char *hash)
{
    /* lcrm_password_is_bcrypt checked "$2?$" and two digits */
    if (!lcrm_password_is_bcrypt(hash)) {
        return -1;
    }
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}
