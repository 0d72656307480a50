/*
 * lcrm_secret: random opaque tokens, SHA-256 digests, constant-time
 * comparison and the loading of key files.  No value handled here is
 * ever logged.
 */
#ifndef LCRM_SECRET_H
#define LCRM_SECRET_H

#include <apr_pools.h>
#include <apr_file_info.h>

#define LCRM_SHA256_LEN 32
#define LCRM_SECRET_MIN 32
#define LCRM_SECRET_MAX 4096
#define LCRM_REFRESH_TOKEN_BYTES 32   /* 256 bits */

/* A base64url (unpadded) string of nbytes random bytes, in pool memory. */
apr_status_t lcrm_random_token(apr_pool_t *pool, apr_size_t nbytes,
                               const char **token);

/*
 * Non-zero when t has the shape of a token lcrm_random_token makes of
 * LCRM_REFRESH_TOKEN_BYTES (refresh cookies, mailed links): exactly 43
 * base64url characters.  Checked before any lookup, so that a malformed
 * value never reaches the database.
 */
int lcrm_token_shaped(const char *t);

/* SHA-256 of data as lowercase hex (64 characters) in pool memory. */
const char *lcrm_sha256_hex(apr_pool_t *pool, const void *data,
                            apr_size_t len);

/* Constant-time equality of two equal-length buffers (0 = equal). */
int lcrm_ct_differ(const void *a, const void *b, apr_size_t len);

/* A key loaded from a file. */
typedef struct {
    const unsigned char *bytes;
    apr_size_t len;
    int loose_perms;   /* group or world may read the file */
} lcrm_key_t;

/*
 * Reads a secret key file: trailing newlines are stripped, the rest must
 * be LCRM_SECRET_MIN..LCRM_SECRET_MAX bytes.  Returns NULL on success or
 * a message for the configuration error (naming no secret content).
 */
const char *lcrm_key_load(apr_pool_t *pool, const char *path,
                          lcrm_key_t *key);

/* Base64url without padding, in pool memory. */
const char *lcrm_base64url(apr_pool_t *pool, const unsigned char *data,
                           apr_size_t len);

/*
 * Strict unpadded base64url decoding of s[0..len): only the alphabet, no
 * padding, a length a real encoding can have, and the one canonical
 * spelling (unused low bits zero), so that a token, cursor or sealed value
 * has exactly one accepted text.  Returns the bytes (NUL-terminated, not
 * counted in *outlen) in pool memory, or NULL.
 */
unsigned char *lcrm_base64url_decode(apr_pool_t *pool, const char *s,
                                     apr_size_t len, apr_size_t *outlen);

#endif
