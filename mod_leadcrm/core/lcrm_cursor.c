/*
 * lcrm_cursor: signed list cursors and the shared LIKE pattern (see
 * lcrm_cursor.h).
 */
#include "lcrm_cursor.h"
#include "lcrm_secret.h"

#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define CURSOR_KEY_LABEL "leadcrm list cursor key v1"

/* tag = HMAC(HMAC(master, label), endpoint NUL payload). */
static void cursor_tag(apr_pool_t *pool, const unsigned char *master,
                       apr_size_t mlen, const char *endpoint,
                       const char *payload, apr_size_t plen,
                       unsigned char *tag)
{
    unsigned char key[LCRM_SHA256_LEN];
    unsigned int klen = sizeof(key), tlen = LCRM_SHA256_LEN;
    apr_size_t elen = strlen(endpoint) + 1;
    unsigned char *msg = apr_palloc(pool, elen + plen);

    memcpy(msg, endpoint, elen);
    memcpy(msg + elen, payload, plen);
    HMAC(EVP_sha256(), master, (int)mlen,
         (const unsigned char *)CURSOR_KEY_LABEL, strlen(CURSOR_KEY_LABEL),
         key, &klen);
    HMAC(EVP_sha256(), key, (int)klen, msg, elen + plen, tag, &tlen);
    OPENSSL_cleanse(key, sizeof(key));
}

const char *lcrm_cursor_sign(apr_pool_t *pool, const unsigned char *master,
                             apr_size_t mlen, const char *endpoint,
                             const char *payload)
{
    unsigned char tag[LCRM_SHA256_LEN];
    apr_size_t plen = strlen(payload);

    cursor_tag(pool, master, mlen, endpoint, payload, plen, tag);
    return apr_pstrcat(pool,
                       lcrm_base64url(pool, (const unsigned char *)payload,
                                      plen),
                       ".", lcrm_base64url(pool, tag, sizeof(tag)), NULL);
}

apr_status_t lcrm_cursor_open(apr_pool_t *pool, const unsigned char *master,
                              apr_size_t mlen, const char *endpoint,
                              const char *cursor, const char **payload)
{
    unsigned char want[LCRM_SHA256_LEN], *body, *tag;
    apr_size_t clen = strlen(cursor), blen, tlen;
    const char *dot = strchr(cursor, '.');

    if (clen > LCRM_CURSOR_MAX || !dot || dot == cursor) {
        return APR_EINVAL;
    }
    body = lcrm_base64url_decode(pool, cursor, (apr_size_t)(dot - cursor), &blen);
    tag = lcrm_base64url_decode(pool, dot + 1, strlen(dot + 1), &tlen);
    if (!body || !tag || tlen != sizeof(want)
        || memchr(body, '\0', blen)) {
        return APR_EINVAL;
    }
    cursor_tag(pool, master, mlen, endpoint, (const char *)body, blen,
               want);
    if (lcrm_ct_differ(want, tag, sizeof(want))) {
        return APR_EINVAL;
    }
    *payload = (const char *)body;
    return APR_SUCCESS;
}

const char *lcrm_like_pattern(apr_pool_t *pool, const char *s)
{
    char *out = apr_palloc(pool, 2 * strlen(s) + 3), *o = out;

    *o++ = '%';
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}
