/*
 * lcrm_totp: the formats of account security (API.md part 2), httpd-free.
 *
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps) is computed and checked by
 * liboath (oath-toolkit); this file adds what the service needs around it:
 * RFC 4648 base32 (no padding) for the seed, the otpauth:// URI that
 * authenticator apps scan (built, and parsed back by the tests and the
 * fuzzer), the accepted time step for replay protection, recovery codes
 * (10 characters of [a-z0-9], shown "xxxxx-xxxxx", hyphens, spaces and case
 * ignored on input), API keys ("lcrm_" + 43 characters of [A-Za-z0-9],
 * 256 bits) and the API key scopes with the least role each needs.
 * Random bytes come from apr_generate_random_bytes.  Nothing here logs.
 */
#ifndef LCRM_TOTP_H
#define LCRM_TOTP_H

#include <apr_pools.h>

#define LCRM_TOTP_SECRET_LEN 20       /* 160-bit seed */
#define LCRM_TOTP_PERIOD 30
#define LCRM_TOTP_DIGITS 6
#define LCRM_RECOVERY_LEN 10
#define LCRM_RECOVERY_COUNT 10
#define LCRM_APIKEY_PREFIX "lcrm_"
#define LCRM_APIKEY_BODY 43           /* characters after the prefix */
#define LCRM_APIKEY_MIN_BODY 40
#define LCRM_APIKEY_MAX 128           /* longest accepted key */
#define LCRM_APIKEY_SHOWN 12          /* "prefix" = the first 12 characters */

/* Initialises liboath (once, before threads: post_config, unit main). */
int lcrm_totp_init(void);

/* Base32 (RFC 4648 alphabet, upper case, no padding) of len bytes. */
const char *lcrm_base32_encode(apr_pool_t *p, const unsigned char *in,
                               apr_size_t len);

/*
 * Decodes base32 text (either letter case, no padding, no spaces; the
 * unused trailing bits must be zero).  *out in p.  APR_EINVAL otherwise.
 */
apr_status_t lcrm_base32_decode(apr_pool_t *p, const char *in, apr_size_t len,
                                unsigned char **out, apr_size_t *outlen);

/* A new random seed: LCRM_TOTP_SECRET_LEN bytes in p. */
apr_status_t lcrm_totp_new_secret(apr_pool_t *p, unsigned char **secret);

/*
 * otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1
 * &digits=6&period=30, issuer and account percent-encoded.
 */
const char *lcrm_otpauth_uri(apr_pool_t *p, const char *issuer,
                             const char *account, const unsigned char *secret,
                             apr_size_t len);

/* What lcrm_otpauth_parse found. */
typedef struct {
    const char *issuer;     /* decoded; from the label and the parameter */
    const char *account;
    unsigned char *secret;
    apr_size_t secret_len;
} lcrm_otpauth_t;

/*
 * Parses an otpauth URI as built above: type totp, label ISSUER:ACCOUNT,
 * a secret (1..64 bytes), issuer equal to the label's, and when present
 * algorithm SHA1, digits 6, period 30; no parameter twice.  APR_EINVAL
 * with *why otherwise.
 */
apr_status_t lcrm_otpauth_parse(apr_pool_t *p, const char *uri,
                                lcrm_otpauth_t *out, const char **why);

/* Non-zero when code is exactly 6 ASCII digits. */
int lcrm_totp_code_shaped(const char *code);

/*
 * Checks code against secret at Unix time now with one step of skew either
 * side (liboath's oath_totp_validate2, window 1).  On a match *step is the
 * time step the code belongs to (now / 30 + offset) and APR_SUCCESS is
 * returned; APR_EINVAL for a malformed code, APR_EMISMATCH otherwise.
 * Replay (a step not after the last accepted one) is the caller's rule.
 */
apr_status_t lcrm_totp_check(const unsigned char *secret, apr_size_t len,
                             apr_int64_t now, const char *code,
                             apr_int64_t *step);

/* The 6-digit code of secret at step (for tests and the CLI). */
apr_status_t lcrm_totp_code(const unsigned char *secret, apr_size_t len,
                            apr_int64_t step, char code[7]);

/* A new recovery code, shown form "xxxxx-xxxxx", in p. */
apr_status_t lcrm_recovery_new(apr_pool_t *p, const char **shown);

/*
 * The canonical form (10 characters of [a-z0-9]) of a typed recovery code:
 * hyphens and spaces dropped, letters lowered.  APR_EINVAL for anything
 * else (input over 64 bytes included).
 */
apr_status_t lcrm_recovery_normalize(apr_pool_t *p, const char *in,
                                     const char **canon);

/* A new API key ("lcrm_" + LCRM_APIKEY_BODY of [A-Za-z0-9]) in p. */
apr_status_t lcrm_apikey_new(apr_pool_t *p, const char **key);

/*
 * Non-zero when s looks like an API key: "lcrm_" then 40..123 characters
 * of [A-Za-z0-9] and nothing else.
 */
int lcrm_apikey_shaped(const char *s);

/* API key scopes (API.md "API keys"); 0 = none. */
typedef enum {
    LCRM_SCOPE_NONE = 0,
    LCRM_SCOPE_LEADS_READ,
    LCRM_SCOPE_LEADS_WRITE,
    LCRM_SCOPE_STATS_READ,
    LCRM_SCOPE_CONSULTATIONS_READ,
    LCRM_SCOPE_CONSULTATIONS_WRITE,
    LCRM_SCOPE_USERS_READ,
    LCRM_SCOPE_USERS_WRITE,
    LCRM_SCOPE_COUNT
} lcrm_scope_e;

/* The scope's name ("leads:read"), or NULL for NONE and out of range. */
const char *lcrm_scope_name(int scope);

/* The scope named name, or LCRM_SCOPE_NONE. */
int lcrm_scope_parse(const char *name);

/* The least role (lcrm_role_e) whose routes of scope exist. */
int lcrm_scope_min_role(int scope);

/*
 * Non-zero when the space-separated scope list has scope (exact words).
 */
int lcrm_scope_in(const char *list, int scope);

#endif
