/*
 * lcrm_aead: AES-256-GCM keyring, seal and open (see lcrm_aead.h).
 */
#include "lcrm_aead.h"
#include "lcrm_secret.h"

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define NONCE_LEN 12
#define TAG_LEN 16

typedef struct {
    char id[LCRM_AEAD_ID_MAX + 1];
    unsigned char key[LCRM_AEAD_KEY_LEN];
} aead_key_t;

struct lcrm_aead_ring_t {
    int nkeys;
    aead_key_t keys[LCRM_AEAD_MAX_KEYS];
};

static apr_status_t ring_cleanse(void *data)
{
    OPENSSL_cleanse(data, sizeof(lcrm_aead_ring_t));
    return APR_SUCCESS;
}

static int id_valid(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (n == 0 || n > LCRM_AEAD_ID_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!apr_isalnum(s[i]) && s[i] != '-' && s[i] != '_') {
            return 0;
        }
    }
    return 1;
}

/* One "ID:BASE64" line (already trimmed) into k; NULL or an error. */
static const char *parse_line(const char *line, apr_size_t n, aead_key_t *k)
{
    const char *colon = memchr(line, ':', n);
    unsigned char out[64];
    int dlen;
    apr_size_t blen;

    if (!colon || !id_valid(line, (apr_size_t)(colon - line))) {
        return "each key line must be ID:BASE64 (ID 1-16 of A-Z a-z 0-9 _ -)";
    }
    blen = n - (apr_size_t)(colon - line) - 1;
    if (blen != 44) {
        return "each key must be the base64 of exactly 32 bytes";
    }
    dlen = EVP_DecodeBlock(out, (const unsigned char *)colon + 1, (int)blen);
    if (dlen != 33 || colon[blen] != '=' || colon[blen - 1] == '=') {
        OPENSSL_cleanse(out, sizeof(out));
        return "each key must be the base64 of exactly 32 bytes";
    }
    memcpy(k->key, out, LCRM_AEAD_KEY_LEN);
    OPENSSL_cleanse(out, sizeof(out));
    memcpy(k->id, line, (apr_size_t)(colon - line));
    k->id[colon - line] = '\0';
    return NULL;
}

static const aead_key_t *ring_find(const lcrm_aead_ring_t *ring,
                                   const char *id, apr_size_t n)
{
    int i;

    for (i = 0; i < ring->nkeys; i++) {
        if (strlen(ring->keys[i].id) == n && !memcmp(ring->keys[i].id, id, n)) {
            return &ring->keys[i];
        }
    }
    return NULL;
}

static const char *ring_add(lcrm_aead_ring_t *r, const char *line,
                            apr_size_t n)
{
    aead_key_t k;
    const char *err;

    if (r->nkeys == LCRM_AEAD_MAX_KEYS) {
        return "the key file holds more than 16 keys";
    }
    if ((err = parse_line(line, n, &k)) == NULL) {
        if (ring_find(r, k.id, strlen(k.id))) {
            err = "a key id appears twice in the key file";
        }
        else {
            r->keys[r->nkeys++] = k;
        }
    }
    OPENSSL_cleanse(&k, sizeof(k));
    return err;
}

apr_status_t lcrm_aead_ring_parse(apr_pool_t *p, const char *text,
                                  apr_size_t len, lcrm_aead_ring_t **ring,
                                  const char **err)
{
    lcrm_aead_ring_t *r = apr_pcalloc(p, sizeof(*r));
    apr_size_t i = 0, s, e;

    apr_pool_cleanup_register(p, r, ring_cleanse, apr_pool_cleanup_null);
    *err = NULL;
    while (i < len && !*err) {
        for (s = i; i < len && text[i] != '\n'; i++) {
        }
        e = i++;
        while (s < e && apr_isspace(text[s])) {
            s++;
        }
        while (e > s && apr_isspace(text[e - 1])) {
            e--;
        }
        if (e > s && text[s] != '#') {
            *err = ring_add(r, text + s, e - s);
        }
    }
    if (!*err && r->nkeys == 0) {
        *err = "the key file holds no key";
    }
    if (*err) {
        return APR_EINVAL;
    }
    *ring = r;
    return APR_SUCCESS;
}

const char *lcrm_aead_ring_active_id(const lcrm_aead_ring_t *ring)
{
    return ring->keys[0].id;
}

/* AES-256-GCM in one direction; returns 1 on success (tag checked on open). */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce,
               const char *aad, const unsigned char *in, apr_size_t len,
               unsigned char *out, unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok, n = 0, fin = 0;

    ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce,
                                  enc) == 1
         && EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad,
                             (int)strlen(aad)) == 1
         && EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1
         && (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
                                        tag) == 1)
         && EVP_CipherFinal_ex(ctx, out + n, &fin) == 1
         && (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
                                         tag) == 1);
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

apr_status_t lcrm_aead_seal(apr_pool_t *p, const lcrm_aead_ring_t *ring,
                            const void *plain, apr_size_t len,
                            const char *aad, const char **sealed)
{
    const aead_key_t *k = &ring->keys[0];
    unsigned char *buf;

    if (len > LCRM_AEAD_MAX_PLAIN) {
        return APR_EINVAL;
    }
    buf = apr_palloc(p, NONCE_LEN + len + TAG_LEN);
    if (apr_generate_random_bytes(buf, NONCE_LEN) != APR_SUCCESS
        || !gcm(1, k->key, buf, aad ? aad : "", plain, len, buf + NONCE_LEN,
                buf + NONCE_LEN + len)) {
        return APR_EGENERAL;
    }
    *sealed = apr_pstrcat(p, "v1.", k->id, ".",
                          lcrm_base64url(p, buf, NONCE_LEN + len + TAG_LEN),
                          NULL);
    return APR_SUCCESS;
}

apr_status_t lcrm_aead_open(apr_pool_t *p, const lcrm_aead_ring_t *ring,
                            const char *sealed, const char *aad,
                            unsigned char **plain, apr_size_t *len)
{
    const char *id, *dot, *b64;
    const aead_key_t *k;
    unsigned char *raw, *out;
    apr_size_t n;

    if (strncmp(sealed, "v1.", 3) || !(dot = strchr(id = sealed + 3, '.'))
        || !(k = ring_find(ring, id, (apr_size_t)(dot - id)))) {
        return APR_EGENERAL;
    }
    b64 = dot + 1;
    if (strlen(b64) > (LCRM_AEAD_MAX_PLAIN + NONCE_LEN + TAG_LEN) / 3 * 4 + 4) {
        return APR_EGENERAL;
    }
    raw = lcrm_base64url_decode(p, b64, strlen(b64), &n);
    if (!raw || n < NONCE_LEN + TAG_LEN) {
        return APR_EGENERAL;
    }
    *len = n - NONCE_LEN - TAG_LEN;
    out = apr_palloc(p, *len + 1);
    if (!gcm(0, k->key, raw, aad ? aad : "", raw + NONCE_LEN, *len, out,
             raw + NONCE_LEN + *len)) {
        OPENSSL_cleanse(out, *len + 1);
        return APR_EGENERAL;
    }
    out[*len] = '\0';
    *plain = out;
    return APR_SUCCESS;
}
