/*
 * lcrm_aead: secrets at rest (TOTP seeds, queued mail bodies) sealed with
 * AES-256-GCM through OpenSSL's EVP interface.
 *
 * Keys come from the LeadCRMDataKeyFile as a keyring: one key per line,
 * "ID:BASE64" (ID 1-16 characters of [A-Za-z0-9_-], BASE64 of exactly 32
 * bytes), '#' comments and blank lines ignored.  The first key seals; every
 * key opens, so a key is rotated by prepending a new line and re-sealing at
 * leisure.  A sealed value is text: "v1.ID.BASE64URL(nonce || ct || tag)"
 * with a fresh 96-bit random nonce.  The caller's "aad" binds a value to its
 * context (for example "totp:<user id>"), so a sealed value copied to
 * another row does not open there.  Nothing here logs; key bytes are
 * cleansed when the ring's pool goes away.
 */
#ifndef LCRM_AEAD_H
#define LCRM_AEAD_H

#include <apr_pools.h>

#define LCRM_AEAD_KEY_LEN 32
#define LCRM_AEAD_ID_MAX 16
#define LCRM_AEAD_MAX_KEYS 16
#define LCRM_AEAD_MAX_PLAIN (1024 * 1024)

typedef struct lcrm_aead_ring_t lcrm_aead_ring_t;

/*
 * Parses a key file's text into a ring allocated in p.  Returns
 * APR_SUCCESS, or APR_EINVAL with *err naming the problem (never any key
 * material): no key, a malformed line, a key of the wrong length, a
 * duplicate id, or more than LCRM_AEAD_MAX_KEYS keys.
 */
apr_status_t lcrm_aead_ring_parse(apr_pool_t *p, const char *text,
                                  apr_size_t len, lcrm_aead_ring_t **ring,
                                  const char **err);

/* Id of the key that seals (the ring's first), for logs and docs. */
const char *lcrm_aead_ring_active_id(const lcrm_aead_ring_t *ring);

/*
 * Seals len bytes of plain (len <= LCRM_AEAD_MAX_PLAIN) with the active key
 * and aad (NULL = ""), *sealed in p.  APR_EINVAL on an oversize input,
 * APR_EGENERAL when the cipher or the random source fails.
 */
apr_status_t lcrm_aead_seal(apr_pool_t *p, const lcrm_aead_ring_t *ring,
                            const void *plain, apr_size_t len,
                            const char *aad, const char **sealed);

/*
 * Opens a sealed value with the key it names and aad.  On success *plain
 * (NUL-terminated, *len excludes the NUL) lives in p.  APR_EGENERAL for
 * anything else: malformed text, unknown key id, wrong aad, tampering.
 */
apr_status_t lcrm_aead_open(apr_pool_t *p, const lcrm_aead_ring_t *ring,
                            const char *sealed, const char *aad,
                            unsigned char **plain, apr_size_t *len);

#endif
