/*
 * lcrm_cachekey: LeadCRMCache keys (see lcrm_cachekey.h): namespace,
 * data version, then a SHA-256 of the length-prefixed parameters; and
 * the framing of values that expire at a database time (availability).
 */
#include "lcrm_cachekey.h"

#include <apr_strings.h>
#include <openssl/evp.h>
#include <string.h>

const char *lcrm_cache_key(apr_pool_t *pool, const char *ns,
                           const char *version, const char *const *parts,
                           int n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0, k;
    char out[2 * EVP_MAX_MD_SIZE + 1];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int i;

    if (!c) {
        return NULL;
    }
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    for (i = 0; i < n; i++) {
        /* "N:" for NULL, "<len>:" then the bytes otherwise */
        char len[32];
        if (!parts[i]) {
            EVP_DigestUpdate(c, "N:", 2);
            continue;
        }
        apr_snprintf(len, sizeof(len), "%" APR_SIZE_T_FMT ":",
                     strlen(parts[i]));
        EVP_DigestUpdate(c, len, strlen(len));
        EVP_DigestUpdate(c, parts[i], strlen(parts[i]));
    }
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    for (k = 0; k < mdlen; k++) {
        out[2 * k] = hex[md[k] >> 4];
        out[2 * k + 1] = hex[md[k] & 15];
    }
    out[2 * mdlen] = '\0';
    return apr_pstrcat(pool, "lcrm:", ns, ":", version, ":", out, NULL);
}

const char *lcrm_cache_frame(apr_pool_t *pool, apr_int64_t until_us,
                             const char *body)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT "\n%s", until_us, body);
}

const char *lcrm_cache_unframe(const char *value, apr_int64_t now_us)
{
    const char *p = value;
    apr_int64_t until = 0;

    if (!value || *p < '0' || *p > '9') {
        return NULL;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (until > (APR_INT64_MAX - 9) / 10) {
            return NULL;
        }
        until = until * 10 + (*p - '0');
    }
    if (*p != '\n' || p - value > 19 || now_us >= until) {
        return NULL;
    }
    return p + 1;
}
