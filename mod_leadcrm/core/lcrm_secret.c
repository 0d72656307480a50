/*
 * lcrm_secret: randomness, digests and key files (see lcrm_secret.h).
 */
#include "lcrm_secret.h"

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

const char *lcrm_base64url(apr_pool_t *pool, const unsigned char *data,
                           apr_size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(pool, (len + 2) / 3 * 4 + 1), *o = out;
    apr_size_t i;

    for (i = 0; i + 2 < len; i += 3) {
        *o++ = tab[data[i] >> 2];
        *o++ = tab[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = tab[((data[i + 1] & 15) << 2) | (data[i + 2] >> 6)];
        *o++ = tab[data[i + 2] & 63];
    }
    if (len - i == 1) {
        *o++ = tab[data[i] >> 2];
        *o++ = tab[(data[i] & 3) << 4];
    }
    else if (len - i == 2) {
        *o++ = tab[data[i] >> 2];
        *o++ = tab[((data[i] & 3) << 4) | (data[i + 1] >> 4)];
        *o++ = tab[(data[i + 1] & 15) << 2];
    }
    *o = '\0';
    return out;
}

apr_status_t lcrm_random_token(apr_pool_t *pool, apr_size_t nbytes,
                               const char **token)
{
    unsigned char buf[64];
    apr_status_t rv;

    if (nbytes > sizeof(buf)) {
        return APR_EINVAL;
    }
    if ((rv = apr_generate_random_bytes(buf, nbytes)) != APR_SUCCESS) {
        return rv;
    }
    *token = lcrm_base64url(pool, buf, nbytes);
    OPENSSL_cleanse(buf, sizeof(buf));
    return APR_SUCCESS;
}

const char *lcrm_sha256_hex(apr_pool_t *pool, const void *data,
                            apr_size_t len)
{
    unsigned char md[LCRM_SHA256_LEN];
    char *hex = apr_palloc(pool, 2 * LCRM_SHA256_LEN + 1);
    int i;

    SHA256(data, len, md);
    for (i = 0; i < LCRM_SHA256_LEN; i++) {
        apr_snprintf(hex + 2 * i, 3, "%02x", md[i]);
    }
    return hex;
}

int lcrm_ct_differ(const void *a, const void *b, apr_size_t len)
{
    return CRYPTO_memcmp(a, b, len) != 0;
}

const char *lcrm_key_load(apr_pool_t *pool, const char *path,
                          lcrm_key_t *key)
{
    apr_finfo_t fi;
    apr_file_t *f;
    char *buf;
    apr_size_t len;

    if (apr_stat(&fi, path, APR_FINFO_SIZE | APR_FINFO_PROT | APR_FINFO_TYPE,
                 pool) != APR_SUCCESS || fi.filetype != APR_REG) {
        return "cannot read the key file (missing or not a regular file)";
    }
    if (fi.size > LCRM_SECRET_MAX + 2) {
        return "the key file is larger than 4096 bytes";
    }
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_OS_DEFAULT, pool) != APR_SUCCESS) {
        return "cannot open the key file";
    }
    len = (apr_size_t)fi.size;
    buf = apr_palloc(pool, len + 1);
    if (len && apr_file_read_full(f, buf, len, &len) != APR_SUCCESS) {
        apr_file_close(f);
        return "cannot read the key file";
    }
    apr_file_close(f);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) {
        len--;
    }
    if (len < LCRM_SECRET_MIN) {
        return "the key must be at least 32 bytes";
    }
    if (len > LCRM_SECRET_MAX) {
        return "the key file is larger than 4096 bytes";
    }
    key->bytes = (const unsigned char *)buf;
    key->len = len;
    key->loose_perms = (fi.protection
                        & (APR_GREAD | APR_WREAD | APR_GWRITE | APR_WWRITE)) != 0;
    return NULL;
}

/* The value of one base64url character, or -1. */
static int b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

unsigned char *lcrm_base64url_decode(apr_pool_t *pool, const char *s,
                                     apr_size_t len, apr_size_t *outlen)
{
    unsigned char *out;
    apr_uint32_t acc = 0;
    apr_size_t i, o = 0;
    int bits = 0;

    if (len % 4 == 1) {
        return NULL;
    }
    out = apr_palloc(pool, len / 4 * 3 + 3);
    for (i = 0; i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0) {
            return NULL;
        }
        acc = (acc << 6) | (apr_uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {
        return NULL;    /* non-canonical: unused low bits set */
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

int lcrm_token_shaped(const char *t)
{
    apr_size_t i, n = (LCRM_REFRESH_TOKEN_BYTES * 8 + 5) / 6;

    if (strlen(t) != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (b64url_value(t[i]) < 0) {
            return 0;
        }
    }
    return 1;
}
