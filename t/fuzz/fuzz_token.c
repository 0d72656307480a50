/*
 * fuzz_token: lcrm_token_verify at a fixed clock.
 *
 * The first byte of an input picks the mode:
 *   'S', 'P', 'W'  the rest is HEADER "\n" PAYLOAD (raw JSON text, or
 *                  only PAYLOAD under a default header); the harness
 *                  base64url-encodes both and signs them with HMAC-SHA256
 *                  under the current key (S), the previous key (P) or a
 *                  key one byte off (W), so the fuzzer reaches the claim
 *                  checks behind the signature;
 *   anything else  the whole input is the token text.
 * Each token is verified under two configurations: the current key with
 * kid "k2026" plus the previous key with kid "k2025", and the current key
 * alone without kids.  Keys are 48 bytes, issuer "leadcrm", audience
 * "leadcrm-api", ttl 900 s, leeway 30 s, now 1795502436.
 *
 * Invariants: a token signed with the wrong key is never accepted, nor one
 * signed with the previous key where no previous key is configured; an
 * accepted token has canonical lowercase sub and sid, a known role, a jti,
 * exp after now - leeway, iat before now + leeway and 0 < exp - iat <= ttl.
 * This file includes openssl but never jwt.h (PITFALLS.md).
 */
#include "fuzz.h"
#include "lcrm_role.h"
#include "lcrm_secret.h"
#include "lcrm_token.h"
#include "lcrm_validate.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define NOW APR_INT64_C(1795502436)
#define TTL 900
#define LEEWAY 30

static const unsigned char cur_bytes[] =
    "fuzz-current-key-0123456789abcdefghijklmnopqrstu";   /* 48 bytes */
static const unsigned char prev_bytes[] =
    "fuzz-previous-key-0123456789abcdefghijklmnopqrst";   /* 48 bytes */
static const unsigned char wrong_bytes[] =
    "fuzz-current-key-0123456789abcdefghijklmnopqrstU";   /* one off */

static const lcrm_key_t cur_key = {cur_bytes, sizeof(cur_bytes) - 1, 0};
static const lcrm_key_t prev_key = {prev_bytes, sizeof(prev_bytes) - 1, 0};
static const lcrm_key_t wrong_key = {wrong_bytes, sizeof(wrong_bytes) - 1, 0};

static const lcrm_token_cfg_t cfg_rotating = {
    &cur_key, "k2026", &prev_key, "k2025", "leadcrm", "leadcrm-api",
    TTL, LEEWAY
};
static const lcrm_token_cfg_t cfg_single = {
    &cur_key, NULL, NULL, NULL, "leadcrm", "leadcrm-api", TTL, LEEWAY
};

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sizeof(cur_bytes) != 49 || sizeof(prev_bytes) != 49
        || apr_initialize() != APR_SUCCESS
        || apr_pool_create(&root, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

/* base64url(header) "." base64url(payload) "." base64url(HMAC). */
static char *sign(apr_pool_t *p, const lcrm_key_t *key, const char *hdr,
                  size_t hlen, const char *pay, size_t plen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    const char *input = apr_pstrcat(
        p, lcrm_base64url(p, (const unsigned char *)hdr, hlen), ".",
        lcrm_base64url(p, (const unsigned char *)pay, plen), NULL);

    if (!HMAC(EVP_sha256(), key->bytes, (int)key->len,
              (const unsigned char *)input, strlen(input), mac, &maclen)) {
        abort();
    }
    return apr_pstrcat(p, input, ".", lcrm_base64url(p, mac, maclen), NULL);
}

static void check_claims(apr_pool_t *p, const lcrm_claims_t *c)
{
    FUZZ_CHECK(c->sub && lcrm_is_uuid(c->sub)
               && !strcmp(c->sub, lcrm_uuid_lower(p, c->sub)),
               "accepted sub is not a lowercase UUID");
    FUZZ_CHECK(c->sid && lcrm_is_uuid(c->sid)
               && !strcmp(c->sid, lcrm_uuid_lower(p, c->sid)),
               "accepted sid is not a lowercase UUID");
    FUZZ_CHECK(c->role && lcrm_role_parse(c->role) >= 0, "unknown role");
    FUZZ_CHECK(c->jti != NULL, "accepted without jti");
    FUZZ_CHECK(c->exp > NOW - LEEWAY, "accepted an expired token");
    FUZZ_CHECK(c->iat <= NOW + LEEWAY, "accepted a token from the future");
    FUZZ_CHECK(c->exp > c->iat
               && (apr_uint64_t)c->exp - (apr_uint64_t)c->iat <= TTL,
               "accepted a lifetime longer than the ttl");
}

static void verify(apr_pool_t *p, const lcrm_token_cfg_t *cfg,
                   const char *token, size_t len, char mode)
{
    lcrm_claims_t c;
    const char *why = NULL;

    if (lcrm_token_verify(p, cfg, token, len, NOW, &c, &why) != APR_SUCCESS) {
        FUZZ_CHECK(why != NULL, "refused without a reason");
        FUZZ_NOTE("  %s: refused: %s\n", cfg->kid ? "rotating" : "single",
                  why);
        return;
    }
    FUZZ_NOTE("  %s: accepted\n", cfg->kid ? "rotating" : "single");
    FUZZ_CHECK(mode != 'W', "accepted a token signed with the wrong key");
    FUZZ_CHECK(mode != 'P' || cfg->previous_key,
               "accepted the previous key where none is configured");
    check_claims(p, &c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char hdr_plain[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    static const char hdr_prev[] =
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k2025\"}";
    apr_pool_t *p;
    char mode = size ? (char)data[0] : 0, *token;
    size_t len;

    if (!data) {
        data = (const uint8_t *)"";  /* never NULL, even when empty */
    }
    if (apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    if (mode == 'S' || mode == 'P' || mode == 'W') {
        const char *rest = (const char *)data + 1, *nl;
        size_t rlen = size - 1;
        nl = memchr(rest, '\n', rlen);
        token = nl ? sign(p, mode == 'P' ? &prev_key
                             : mode == 'W' ? &wrong_key : &cur_key,
                          rest, (size_t)(nl - rest), nl + 1,
                          rlen - (size_t)(nl - rest) - 1)
                   : sign(p, mode == 'P' ? &prev_key
                             : mode == 'W' ? &wrong_key : &cur_key,
                          mode == 'P' ? hdr_prev : hdr_plain,
                          mode == 'P' ? sizeof(hdr_prev) - 1
                                      : sizeof(hdr_plain) - 1,
                          rest, rlen);
        token = strdup(token);
        len = strlen(token);
    }
    else {
        token = malloc(size + 1);  /* the exact bytes, then a NUL */
        if (token) {
            memcpy(token, data, size);
            token[size] = '\0';
        }
        len = size;
    }
    if (!token) {
        abort();
    }
    verify(p, &cfg_rotating, token, len, mode);
    verify(p, &cfg_single, token, len, mode);
    free(token);
    apr_pool_destroy(p);
    return 0;
}
