/*
 * lcrm_token: HS256 access tokens.  A round trip, then a battery of
 * forged tokens that must all be refused, each built to differ from a
 * valid token in one way only (the positive controls prove the builders).
 *
 * This file includes jwt.h (jansson) and therefore never json-c or
 * lcrm_json.h (PITFALLS.md).
 */
#include "unit.h"
#include "lcrm_token.h"
#include "lcrm_secret.h"

#include <apr_strings.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define NOW APR_INT64_C(1795502436)
#define TTL 900
#define LEEWAY 30
#define SUB "0e8a3c1f-5b7d-4c2a-9f1e-abcdef012345"
#define SID "5f0c6b1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b"
#define IDS "\"iss\":\"leadcrm\",\"aud\":\"leadcrm-api\""
#define HDR256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static const unsigned char key_bytes[] =
    "k3y-0123456789-abcdefghijklmnopqrstuvwxyz";       /* 41 bytes */
static const unsigned char prev_bytes[] =
    "previous-key-ZYXWVUTSRQPONMLKJIHGFEDCBA-9876";    /* 44 bytes */
static const unsigned char other_bytes[] =
    "k3y-0123456789-abcdefghijklmnopqrstuvwxyZ";       /* one bit off */

static const lcrm_key_t key = {key_bytes, sizeof(key_bytes) - 1, 0};
static const lcrm_key_t prev = {prev_bytes, sizeof(prev_bytes) - 1, 0};
static const lcrm_key_t other = {other_bytes, sizeof(other_bytes) - 1, 0};

static lcrm_token_cfg_t cfg;
static lcrm_claims_t got;
static const char *why;

static void reset_cfg(void)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.key = &key;
    cfg.issuer = "leadcrm";
    cfg.audience = "leadcrm-api";
    cfg.ttl = TTL;
    cfg.leeway = LEEWAY;
}

static apr_status_t verify_at(const char *tok, apr_int64_t now)
{
    why = NULL;
    return lcrm_token_verify(lcrm_test_pool, &cfg, tok, strlen(tok), now, &got,
                             &why);
}

/* Refused at NOW with exactly this reason. */
static int refused(const char *tok, const char *reason)
{
    apr_status_t rv = verify_at(tok, NOW);
    if (rv != APR_EINVAL || !why) {
        fprintf(stderr, "\n    accepted: %.80s\n", tok);
        return 0;
    }
    return lcrm_test_streq("why", why, reason);
}

static int accepted(const char *tok)
{
    apr_status_t rv = verify_at(tok, NOW);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "\n    refused (%s): %.80s\n", why ? why : "?", tok);
        return 0;
    }
    return 1;
}

static const char *b64(const char *s)
{
    return lcrm_base64url(lcrm_test_pool, (const unsigned char *)s, strlen(s));
}

/* header.payload.signature; alg NULL leaves the signature empty. */
static const char *make(const char *header, const char *payload,
                        const char *alg, const lcrm_key_t *k)
{
    const char *input = apr_pstrcat(lcrm_test_pool, b64(header), ".",
                                    b64(payload), NULL);
    const EVP_MD *md;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;

    if (!alg) {
        return apr_pstrcat(lcrm_test_pool, input, ".", NULL);
    }
    md = !strcmp(alg, "HS384") ? EVP_sha384()
         : !strcmp(alg, "HS512") ? EVP_sha512() : EVP_sha256();
    HMAC(md, k->bytes, (int)k->len, (const unsigned char *)input,
         strlen(input), mac, &maclen);
    return apr_pstrcat(lcrm_test_pool, input, ".",
                       lcrm_base64url(lcrm_test_pool, mac, maclen), NULL);
}

/* Claims with the standard sub/role/sid/jti and the given extras. */
static const char *claims(const char *ids, const char *times)
{
    return apr_psprintf(lcrm_test_pool,
                        "{\"sub\":\"" SUB "\",\"role\":\"ADMIN\",\"sid\":\""
                        SID "\",\"jti\":\"j-1\"%s%s%s%s}",
                        *ids ? "," : "", ids, *times ? "," : "", times);
}

static const char *times(apr_int64_t iat, apr_int64_t exp)
{
    return apr_psprintf(lcrm_test_pool,
                        "\"iat\":%" APR_INT64_T_FMT ",\"exp\":%" APR_INT64_T_FMT,
                        iat, exp);
}

static const char *good_claims(void)
{
    return claims(IDS, times(NOW, NOW + TTL));
}

/* A token built by libjwt with alg, key k and the given claims JSON. */
static const char *libjwt_token(jwt_alg_t alg, const lcrm_key_t *k,
                                const char *claims_json, const char *kid)
{
    jwt_t *jwt = NULL;
    char *out;
    const char *tok;

    if (jwt_new(&jwt) != 0) {
        return NULL;
    }
    if (jwt_set_alg(jwt, alg, k ? k->bytes : NULL, k ? (int)k->len : 0)
        || jwt_add_grants_json(jwt, claims_json)
        || (kid && jwt_add_header(jwt, "kid", kid))
        || !(out = jwt_encode_str(jwt))) {
        jwt_free(jwt);
        return NULL;
    }
    jwt_free(jwt);
    tok = apr_pstrdup(lcrm_test_pool, out);
    free(out);
    return tok;
}

/* Replaces part idx (0 header, 1 payload, 2 signature) of tok. */
static const char *replace_part(const char *tok, int idx, const char *part)
{
    char *copy = apr_pstrdup(lcrm_test_pool, tok), *parts[3], *last;
    int i;

    parts[0] = apr_strtok(copy, ".", &last);
    parts[1] = apr_strtok(NULL, ".", &last);
    parts[2] = apr_strtok(NULL, ".", &last);
    parts[idx] = (char *)part;
    for (i = 0; i < 3; i++) {
        if (!parts[i]) {
            return "";
        }
    }
    return apr_pstrcat(lcrm_test_pool, parts[0], ".", parts[1], ".", parts[2],
                       NULL);
}

static const char *signature_of(const char *tok)
{
    return strrchr(tok, '.') + 1;
}

static void test_round_trip(void)
{
    lcrm_claims_t in;
    const char *tok = NULL;

    reset_cfg();
    memset(&in, 0, sizeof(in));
    in.sub = "0E8A3C1F-5B7D-4C2A-9F1E-ABCDEF012345";
    in.role = "SUPER_ADMIN";
    in.sid = SID;
    LCRM_ASSERT_INT(lcrm_token_issue(lcrm_test_pool, &cfg, NOW, &in, &tok),
                    APR_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    LCRM_ASSERT_INT(in.iat, NOW);
    LCRM_ASSERT_INT(in.exp, NOW + TTL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(in.jti);
    CU_ASSERT(strlen(in.jti) >= 16);

    CU_ASSERT_FATAL(accepted(tok));
    LCRM_ASSERT_STR(got.sub, SUB);                    /* lowercased */
    LCRM_ASSERT_STR(got.role, "SUPER_ADMIN");
    LCRM_ASSERT_STR(got.sid, SID);
    LCRM_ASSERT_STR(got.jti, in.jti);
    LCRM_ASSERT_INT(got.iat, NOW);
    LCRM_ASSERT_INT(got.exp, NOW + TTL);

    /* validity window: exp is exclusive, leeway applies */
    LCRM_ASSERT_INT(verify_at(tok, NOW + TTL - 1), APR_SUCCESS);
    LCRM_ASSERT_INT(verify_at(tok, NOW + TTL + LEEWAY - 1), APR_SUCCESS);
    LCRM_ASSERT_INT(verify_at(tok, NOW + TTL + LEEWAY), APR_EINVAL);
    LCRM_ASSERT_STR(why, "expired");
    LCRM_ASSERT_INT(verify_at(tok, NOW - LEEWAY), APR_SUCCESS);
    LCRM_ASSERT_INT(verify_at(tok, NOW - LEEWAY - 1), APR_EINVAL);
    LCRM_ASSERT_STR(why, "issued in the future");

    /* a second token differs (jti) */
    {
        lcrm_claims_t in2 = in;
        const char *tok2 = NULL;
        LCRM_ASSERT_INT(lcrm_token_issue(lcrm_test_pool, &cfg, NOW, &in2,
                                         &tok2), APR_SUCCESS);
        CU_ASSERT(tok2 && strcmp(tok, tok2) != 0);
        CU_ASSERT(strcmp(in.jti, in2.jti) != 0);
    }
    /* the builders used below make tokens that verify */
    CU_ASSERT(accepted(make(HDR256, good_claims(), "HS256", &key)));
    LCRM_ASSERT_STR(got.role, "ADMIN");
    CU_ASSERT(accepted(make("{\"alg\":\"HS256\"}", good_claims(), "HS256",
                            &key)));
    CU_ASSERT(accepted(libjwt_token(JWT_ALG_HS256, &key, good_claims(), NULL)));
}

static void test_tampering(void)
{
    const char *tok, *forged;
    char *sig;
    size_t mid;

    reset_cfg();
    tok = make(HDR256, good_claims(), "HS256", &key);
    CU_ASSERT_FATAL(accepted(tok));

    /* payload changed (role raised), header and signature kept */
    forged = replace_part(tok, 1, b64(apr_psprintf(lcrm_test_pool,
        "{\"sub\":\"" SUB "\",\"role\":\"SUPER_ADMIN\",\"sid\":\"" SID
        "\",\"jti\":\"j-1\"," IDS ",%s}", times(NOW, NOW + TTL))));
    CU_ASSERT(refused(forged, "bad signature"));
    /* payload with a different exp */
    forged = replace_part(tok, 1, b64(claims(IDS, times(NOW, NOW + TTL - 1))));
    CU_ASSERT(refused(forged, "bad signature"));

    /* signature changed in the middle */
    sig = apr_pstrdup(lcrm_test_pool, signature_of(tok));
    mid = strlen(sig) / 2;
    sig[mid] = sig[mid] == 'A' ? 'B' : 'A';
    CU_ASSERT(refused(replace_part(tok, 2, sig), "bad signature"));
    /* signature truncated or from another key */
    sig[mid] = '\0';
    CU_ASSERT(refused(replace_part(tok, 2, sig), "bad signature"));
    CU_ASSERT(refused(make(HDR256, good_claims(), "HS256", &other),
                      "bad signature"));
    /* header re-serialised (members reordered), signature kept */
    CU_ASSERT(refused(replace_part(tok, 0, b64("{\"typ\":\"JWT\","
                                               "\"alg\":\"HS256\"}")),
                      "bad signature"));
}

static void test_time_claims(void)
{
    reset_cfg();
    /* expired beyond the leeway */
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(NOW - TTL - 100,
                                                       NOW - 100)),
                           "HS256", &key), "expired"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(NOW - TTL - LEEWAY,
                                                       NOW - LEEWAY)),
                           "HS256", &key), "expired"));
    CU_ASSERT(accepted(make(HDR256, claims(IDS, times(NOW - TTL - LEEWAY + 1,
                                                      NOW - LEEWAY + 1)),
                            "HS256", &key)));
    /* nbf */
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_pstrcat(lcrm_test_pool,
                               times(NOW, NOW + TTL),
                               apr_psprintf(lcrm_test_pool, ",\"nbf\":%"
                                            APR_INT64_T_FMT, NOW + 100),
                               NULL)), "HS256", &key), "not yet valid"));
    CU_ASSERT(accepted(make(HDR256, claims(IDS, apr_pstrcat(lcrm_test_pool,
                                times(NOW, NOW + TTL),
                                apr_psprintf(lcrm_test_pool, ",\"nbf\":%"
                                             APR_INT64_T_FMT, NOW + LEEWAY),
                                NULL)), "HS256", &key)));
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_pstrcat(lcrm_test_pool,
                               times(NOW, NOW + TTL), ",\"nbf\":\"0\"", NULL)),
                           "HS256", &key), "not yet valid"));
    /* iat in the future */
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(NOW + 100, NOW + 200)),
                           "HS256", &key), "issued in the future"));
    /* exp and iat must be JSON integers */
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_psprintf(lcrm_test_pool,
                               "\"iat\":%" APR_INT64_T_FMT ",\"exp\":\"%"
                               APR_INT64_T_FMT "\"", NOW, NOW + TTL)),
                           "HS256", &key), "exp and iat must be integers"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_psprintf(lcrm_test_pool,
                               "\"iat\":%" APR_INT64_T_FMT ",\"exp\":%"
                               APR_INT64_T_FMT ".0", NOW, NOW + TTL)),
                           "HS256", &key), "exp and iat must be integers"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_psprintf(lcrm_test_pool,
                               "\"iat\":%" APR_INT64_T_FMT ",\"exp\":1.7955e9",
                               NOW)), "HS256", &key),
                      "exp and iat must be integers"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_psprintf(lcrm_test_pool,
                               "\"iat\":%" APR_INT64_T_FMT ",\"exp\":null",
                               NOW)), "HS256", &key),
                      "exp and iat must be integers"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_psprintf(lcrm_test_pool,
                               "\"iat\":\"%" APR_INT64_T_FMT "\",\"exp\":%"
                               APR_INT64_T_FMT, NOW, NOW + TTL)),
                           "HS256", &key), "exp and iat must be integers"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_psprintf(lcrm_test_pool,
                               "\"iat\":%" APR_INT64_T_FMT, NOW)),
                           "HS256", &key), "exp and iat must be integers"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, apr_psprintf(lcrm_test_pool,
                               "\"exp\":%" APR_INT64_T_FMT, NOW + TTL)),
                           "HS256", &key), "exp and iat must be integers"));
    /* lifetime longer than the configured ttl, or empty */
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(NOW, NOW + TTL + 1)),
                           "HS256", &key), "lifetime longer than allowed"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(NOW - 10, NOW + 86400)),
                           "HS256", &key), "lifetime longer than allowed"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(NOW, NOW)), "HS256",
                           &key), "lifetime longer than allowed"));
    /* exp - iat overflows int64 (UBSan in fuzz_token); wrapped, it passed */
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(INT64_MIN, INT64_MAX)),
                           "HS256", &key), "lifetime longer than allowed"));
    CU_ASSERT(refused(make(HDR256, claims(IDS, times(-(APR_INT64_C(1) << 62),
                                                     APR_INT64_C(1) << 62)),
                           "HS256", &key), "lifetime longer than allowed"));
}

static void test_issuer_audience_subject(void)
{
    const char *t = times(NOW, NOW + TTL);

    reset_cfg();
    CU_ASSERT(refused(make(HDR256, claims("\"iss\":\"evil\",\"aud\":"
                                          "\"leadcrm-api\"", t),
                           "HS256", &key), "wrong issuer or audience"));
    CU_ASSERT(refused(make(HDR256, claims("\"iss\":\"leadcrm\",\"aud\":"
                                          "\"leadcrm-refresh\"", t),
                           "HS256", &key), "wrong issuer or audience"));
    CU_ASSERT(refused(make(HDR256, claims("\"aud\":\"leadcrm-api\"", t),
                           "HS256", &key), "wrong issuer or audience"));
    CU_ASSERT(refused(make(HDR256, claims("\"iss\":\"leadcrm\"", t),
                           "HS256", &key), "wrong issuer or audience"));
    CU_ASSERT(refused(make(HDR256, claims("\"iss\":\"leadcrm\",\"aud\":"
                                          "[\"leadcrm-api\"]", t),
                           "HS256", &key), "wrong issuer or audience"));
    CU_ASSERT(refused(make(HDR256, claims("\"iss\":\"LEADCRM\",\"aud\":"
                                          "\"leadcrm-api\"", t),
                           "HS256", &key), "wrong issuer or audience"));
    /* sub, sid, role and jti */
    CU_ASSERT(refused(make(HDR256, apr_psprintf(lcrm_test_pool,
                           "{\"sub\":\"42\",\"role\":\"ADMIN\",\"sid\":\"" SID
                           "\",\"jti\":\"j\"," IDS ",%s}", t), "HS256", &key),
                      "missing or malformed sub, sid, role or jti"));
    CU_ASSERT(refused(make(HDR256, apr_psprintf(lcrm_test_pool,
                           "{\"sub\":\"" SUB "\",\"role\":\"ROOT\",\"sid\":\""
                           SID "\",\"jti\":\"j\"," IDS ",%s}", t),
                           "HS256", &key),
                      "missing or malformed sub, sid, role or jti"));
    CU_ASSERT(refused(make(HDR256, apr_psprintf(lcrm_test_pool,
                           "{\"sub\":\"" SUB "\",\"role\":\"ADMIN\","
                           "\"jti\":\"j\"," IDS ",%s}", t), "HS256", &key),
                      "missing or malformed sub, sid, role or jti"));
    CU_ASSERT(refused(make(HDR256, apr_psprintf(lcrm_test_pool,
                           "{\"sub\":\"" SUB "\",\"role\":\"ADMIN\",\"sid\":\""
                           SID "\"," IDS ",%s}", t), "HS256", &key),
                      "missing or malformed sub, sid, role or jti"));
}

static void test_algorithms(void)
{
    const char *tok;

    reset_cfg();
    /* alg none, with an empty signature and with one */
    CU_ASSERT(refused(make("{\"alg\":\"none\",\"typ\":\"JWT\"}", good_claims(),
                           NULL, NULL), "malformed token"));
    CU_ASSERT(refused(make("{\"alg\":\"none\",\"typ\":\"JWT\"}", good_claims(),
                           "HS256", &key), "algorithm not allowed"));
    tok = make(HDR256, good_claims(), "HS256", &key);
    CU_ASSERT(refused(replace_part(tok, 0, b64("{\"alg\":\"none\","
                                               "\"typ\":\"JWT\"}")),
                      "algorithm not allowed"));
    CU_ASSERT(refused(make("{\"alg\":\"NoNe\",\"typ\":\"JWT\"}", good_claims(),
                           "HS256", &key), "algorithm not allowed"));
    CU_ASSERT(refused(make("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", good_claims(),
                           "HS256", &key), "algorithm not allowed"));
    CU_ASSERT(refused(make("{\"alg\":\"HS256 \",\"typ\":\"JWT\"}",
                           good_claims(), "HS256", &key),
                      "algorithm not allowed"));
    CU_ASSERT(refused(make("{\"typ\":\"JWT\"}", good_claims(), "HS256", &key),
                      "algorithm not allowed"));
    CU_ASSERT(refused(make("{\"alg\":[\"HS256\"]}", good_claims(), "HS256",
                           &key), "algorithm not allowed"));
    /* libjwt's own alg none token */
    tok = libjwt_token(JWT_ALG_NONE, NULL, good_claims(), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT(refused(tok, "malformed token"));
    CU_ASSERT(refused(apr_pstrcat(lcrm_test_pool, tok, "c2ln", NULL),
                      "algorithm not allowed"));

    /* HS384 and HS512 with the same secret (libjwt would accept them) */
    tok = libjwt_token(JWT_ALG_HS384, &key, good_claims(), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT(refused(tok, "algorithm not allowed"));
    tok = libjwt_token(JWT_ALG_HS512, &key, good_claims(), NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT(refused(tok, "algorithm not allowed"));
    {
        jwt_t *jwt = NULL;
        int rc = jwt_decode(&jwt, tok, key.bytes, (int)key.len);
        CU_ASSERT(rc == 0 && jwt && jwt_get_alg(jwt) == JWT_ALG_HS512);
        jwt_free(jwt);
    }
    CU_ASSERT(refused(make("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", good_claims(),
                           "HS512", &key), "algorithm not allowed"));
    CU_ASSERT(refused(make("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", good_claims(),
                           "HS384", &key), "algorithm not allowed"));
    /* HS256 header on an HS512 signature */
    CU_ASSERT(refused(make(HDR256, good_claims(), "HS512", &key),
                      "bad signature"));
    /* asymmetric algorithms are never accepted */
    CU_ASSERT(refused(make("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", good_claims(),
                           "HS256", &key), "algorithm not allowed"));
    CU_ASSERT(refused(make("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", good_claims(),
                           "HS256", &key), "algorithm not allowed"));
    /* typ other than JWT; duplicate alg members */
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", good_claims(),
                           "HS256", &key), "bad typ"));
    CU_ASSERT(refused(make("{\"alg\":\"none\",\"alg\":\"HS256\"}",
                           good_claims(), "HS256", &key), "malformed header"));
}

static void test_garbage(void)
{
    static const char *const junk[] = {
        "", "abc", "a.b", "a.b.c", "...", "..", "a..c", ".b.c", "a.b.",
        "a.b.c.d", "@@@.e30.c2ln", "e30.e30.c2ln", "W10.e30.c2ln",
        "eyJhbGciOiJIUzI1NiJ9", "Bearer x.y.z", "eyJhbGciOiJIUzI1NiJ9=.e30.c2ln",
        NULL};
    const char *const *p;
    const char *tok;
    char *withnul;

    reset_cfg();
    for (p = junk; *p; p++) {
        LCRM_ASSERT_INT(verify_at(*p, NOW), APR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(why);
    }
    /* header that is not a JSON object */
    CU_ASSERT(refused(make("[\"HS256\"]", good_claims(), "HS256", &key),
                      "malformed header"));
    CU_ASSERT(refused(make("{\"alg\":\"HS256\"", good_claims(), "HS256", &key),
                      "malformed header"));
    /* claims that are not an object */
    LCRM_ASSERT_INT(verify_at(make(HDR256, "[1,2]", "HS256", &key), NOW),
                    APR_EINVAL);
    /* a valid token with an embedded NUL in the counted length */
    tok = make(HDR256, good_claims(), "HS256", &key);
    withnul = apr_pstrcat(lcrm_test_pool, tok, "x", NULL);
    withnul[strlen(tok)] = '\0';
    LCRM_ASSERT_INT(lcrm_token_verify(lcrm_test_pool, &cfg, withnul,
                                      strlen(tok) + 1, NOW, &got, &why),
                    APR_EINVAL);
    /* a valid token with whitespace around it */
    LCRM_ASSERT_INT(verify_at(apr_pstrcat(lcrm_test_pool, " ", tok, NULL),
                              NOW), APR_EINVAL);
    LCRM_ASSERT_INT(verify_at(apr_pstrcat(lcrm_test_pool, tok, "\n", NULL),
                              NOW), APR_EINVAL);
}

static void test_size_cap(void)
{
    const char *under = NULL, *over = NULL, *tok;
    int pad;

    reset_cfg();
    /* grow a signed token one byte of claim at a time across 4096 */
    for (pad = 2800; pad < 3300 && !over; pad++) {
        char *fill = apr_palloc(lcrm_test_pool, (apr_size_t)pad + 1);
        memset(fill, 'p', (size_t)pad);
        fill[pad] = '\0';
        tok = make(HDR256, claims(IDS, apr_pstrcat(lcrm_test_pool,
                       times(NOW, NOW + TTL), ",\"pad\":\"", fill, "\"",
                       NULL)), "HS256", &key);
        if (strlen(tok) <= LCRM_TOKEN_MAX_LEN) {
            under = tok;
        }
        else {
            over = tok;
        }
    }
    CU_ASSERT_FATAL(under && over);
    CU_ASSERT(strlen(under) > LCRM_TOKEN_MAX_LEN - 8);
    CU_ASSERT(accepted(under));
    CU_ASSERT(refused(over, "malformed token"));
    {
        char *huge = apr_palloc(lcrm_test_pool, 100001);
        memset(huge, 'A', 100000);
        huge[100000] = '\0';
        huge[10] = '.';
        huge[20] = '.';
        CU_ASSERT(refused(huge, "malformed token"));
    }
}

static void test_key_ids(void)
{
    lcrm_claims_t in;
    const char *tok = NULL;

    reset_cfg();
    cfg.kid = "k2";
    cfg.previous_key = &prev;
    cfg.previous_kid = "k1";

    /* issued tokens carry the current kid */
    memset(&in, 0, sizeof(in));
    in.sub = SUB;
    in.role = "USER";
    in.sid = SID;
    LCRM_ASSERT_INT(lcrm_token_issue(lcrm_test_pool, &cfg, NOW, &in, &tok),
                    APR_SUCCESS);
    CU_ASSERT(accepted(tok));
    LCRM_ASSERT_STR(got.role, "USER");

    /* signed by the previous key under its kid: accepted during rotation */
    CU_ASSERT(accepted(make("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                            good_claims(), "HS256", &prev)));
    CU_ASSERT(accepted(libjwt_token(JWT_ALG_HS256, &prev, good_claims(),
                                    "k1")));
    CU_ASSERT(accepted(make("{\"alg\":\"HS256\",\"kid\":\"k2\"}",
                            good_claims(), "HS256", &key)));
    /* kid and key must agree */
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"kid\":\"k1\"}", good_claims(),
                           "HS256", &key), "bad signature"));
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"kid\":\"k2\"}", good_claims(),
                           "HS256", &prev), "bad signature"));
    /* unknown kid, no kid, non-string kid */
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"kid\":\"k3\"}", good_claims(),
                           "HS256", &key), "unknown key id"));
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"kid\":\"K2\"}", good_claims(),
                           "HS256", &key), "unknown key id"));
    CU_ASSERT(refused(make(HDR256, good_claims(), "HS256", &key),
                      "unknown key id"));
    CU_ASSERT(refused(make(HDR256, good_claims(), "HS256", &prev),
                      "unknown key id"));
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"kid\":2}", good_claims(),
                           "HS256", &key), "bad kid"));

    /* once the previous key is dropped, its tokens stop verifying */
    cfg.previous_key = NULL;
    cfg.previous_kid = NULL;
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"kid\":\"k1\"}", good_claims(),
                           "HS256", &prev), "unknown key id"));

    /* without a configured kid, tokens naming one are refused */
    reset_cfg();
    CU_ASSERT(refused(make("{\"alg\":\"HS256\",\"kid\":\"k2\"}", good_claims(),
                           "HS256", &key), "unknown key id"));
    CU_ASSERT(accepted(make(HDR256, good_claims(), "HS256", &key)));
}

void lcrm_test_register_token(void)
{
    CU_pSuite s = lcrm_test_suite("token");
    LCRM_TEST(s, test_round_trip);
    LCRM_TEST(s, test_tampering);
    LCRM_TEST(s, test_time_claims);
    LCRM_TEST(s, test_issuer_audience_subject);
    LCRM_TEST(s, test_algorithms);
    LCRM_TEST(s, test_garbage);
    LCRM_TEST(s, test_size_cap);
    LCRM_TEST(s, test_key_ids);
}
