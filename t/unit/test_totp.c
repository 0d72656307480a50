/*
 * test_totp: core lcrm_totp: RFC 6238 vectors through liboath, skew and
 * the step of a match, base32, otpauth URIs, recovery codes, API keys and
 * scopes.
 */
#include "unit.h"
#include "lcrm_role.h"
#include "lcrm_totp.h"

#include <string.h>

/* RFC 6238 appendix B, SHA-1 seed "12345678901234567890" (6 digits). */
static void test_rfc6238_vectors(void)
{
    static const unsigned char seed[] = "12345678901234567890";
    static const struct { long long t; const char *code; } v[] = {
        {59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
        {1234567890, "005924"}, {2000000000, "279037"},
    };
    apr_int64_t step;
    char code[7];
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        CU_ASSERT(lcrm_totp_code(seed, 20, v[i].t / 30, code) == APR_SUCCESS);
        LCRM_ASSERT_STR(code, v[i].code);
        CU_ASSERT(lcrm_totp_check(seed, 20, v[i].t, v[i].code, &step)
                  == APR_SUCCESS);
        LCRM_ASSERT_INT(step, v[i].t / 30);
    }
}

static void test_skew_window(void)
{
    static const unsigned char seed[] = "12345678901234567890";
    apr_int64_t now = 1111111111, s = now / 30, step;
    char code[7];

    lcrm_totp_code(seed, 20, s - 1, code);
    CU_ASSERT(lcrm_totp_check(seed, 20, now, code, &step) == APR_SUCCESS);
    LCRM_ASSERT_INT(step, s - 1);
    lcrm_totp_code(seed, 20, s + 1, code);
    CU_ASSERT(lcrm_totp_check(seed, 20, now, code, &step) == APR_SUCCESS);
    LCRM_ASSERT_INT(step, s + 1);
    lcrm_totp_code(seed, 20, s + 2, code);
    CU_ASSERT(lcrm_totp_check(seed, 20, now, code, &step) == APR_EMISMATCH);
    lcrm_totp_code(seed, 20, s - 2, code);
    CU_ASSERT(lcrm_totp_check(seed, 20, now, code, &step) == APR_EMISMATCH);
    CU_ASSERT(lcrm_totp_check(seed, 20, now, "12345", &step) == APR_EINVAL);
    CU_ASSERT(lcrm_totp_check(seed, 20, now, "1234567", &step) == APR_EINVAL);
    CU_ASSERT(lcrm_totp_check(seed, 20, now, "12a456", &step) == APR_EINVAL);
}

static void test_base32(void)
{
    unsigned char *raw;
    apr_size_t n;

    LCRM_ASSERT_STR(lcrm_base32_encode(lcrm_test_pool,
                                       (const unsigned char *)"Hello!\xde\xad\xbe\xef", 10),
                    "JBSWY3DPEHPK3PXP");
    CU_ASSERT(lcrm_base32_decode(lcrm_test_pool, "jbswy3dpehpk3pxp", 16, &raw, &n)
              == APR_SUCCESS && n == 10 && !memcmp(raw, "Hello!", 6));
    CU_ASSERT(lcrm_base32_decode(lcrm_test_pool, "MZXW6YTBOJ", 10, &raw, &n)
              == APR_EINVAL);           /* trailing bits set */
    CU_ASSERT(lcrm_base32_decode(lcrm_test_pool, "JBSWY3DP=", 9, &raw, &n)
              == APR_EINVAL);
    CU_ASSERT(lcrm_base32_decode(lcrm_test_pool, "A", 1, &raw, &n) == APR_EINVAL);
}

static void test_otpauth(void)
{
    static const unsigned char seed[] = "12345678901234567890";
    const char *uri = lcrm_otpauth_uri(lcrm_test_pool, "Acme CRM",
                                       "ada@example.com", seed, 20), *why;
    lcrm_otpauth_t o;

    LCRM_ASSERT_STR(uri, "otpauth://totp/Acme%20CRM:ada%40example.com?secret="
                    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20CRM"
                    "&algorithm=SHA1&digits=6&period=30");
    CU_ASSERT(lcrm_otpauth_parse(lcrm_test_pool, uri, &o, &why) == APR_SUCCESS);
    LCRM_ASSERT_STR(o.issuer, "Acme CRM");
    LCRM_ASSERT_STR(o.account, "ada@example.com");
    CU_ASSERT(o.secret_len == 20 && !memcmp(o.secret, seed, 20));
    CU_ASSERT(lcrm_otpauth_parse(lcrm_test_pool, "otpauth://totp/A:b?secret="
                                 "GEZDGNBV&issuer=B", &o, &why) == APR_EINVAL);
    CU_ASSERT(lcrm_otpauth_parse(lcrm_test_pool, "otpauth://totp/A:b?secret="
                                 "GEZDGNBV&issuer=A&digits=8", &o, &why)
              == APR_EINVAL);
    CU_ASSERT(lcrm_otpauth_parse(lcrm_test_pool, "otpauth://totp/A:b?issuer=A",
                                 &o, &why) == APR_EINVAL);
}

static void test_recovery(void)
{
    const char *shown, *canon;
    int i;

    for (i = 0; i < 50; i++) {
        CU_ASSERT(lcrm_recovery_new(lcrm_test_pool, &shown) == APR_SUCCESS);
        CU_ASSERT(strlen(shown) == 11 && shown[5] == '-');
        CU_ASSERT(lcrm_recovery_normalize(lcrm_test_pool, shown, &canon)
                  == APR_SUCCESS && strlen(canon) == 10);
    }
    CU_ASSERT(lcrm_recovery_normalize(lcrm_test_pool, " AB-CDE 12345", &canon)
              == APR_SUCCESS);
    LCRM_ASSERT_STR(canon, "abcde12345");
    CU_ASSERT(lcrm_recovery_normalize(lcrm_test_pool, "abcde-1234", &canon)
              == APR_EINVAL);
    CU_ASSERT(lcrm_recovery_normalize(lcrm_test_pool, "abcde-123456", &canon)
              == APR_EINVAL);
    CU_ASSERT(lcrm_recovery_normalize(lcrm_test_pool, "abcde_12345", &canon)
              == APR_EINVAL);
}

static void test_apikey_and_scopes(void)
{
    const char *k1, *k2;

    CU_ASSERT(lcrm_apikey_new(lcrm_test_pool, &k1) == APR_SUCCESS);
    CU_ASSERT(lcrm_apikey_new(lcrm_test_pool, &k2) == APR_SUCCESS);
    CU_ASSERT(strlen(k1) == 48 && !strncmp(k1, "lcrm_", 5) && strcmp(k1, k2));
    CU_ASSERT(lcrm_apikey_shaped(k1));
    CU_ASSERT(!lcrm_apikey_shaped("lcrm_abc"));
    CU_ASSERT(!lcrm_apikey_shaped("lcrm_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-"));
    CU_ASSERT(lcrm_apikey_shaped("lcrm_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    CU_ASSERT(lcrm_scope_parse("leads:read") == LCRM_SCOPE_LEADS_READ);
    CU_ASSERT(lcrm_scope_parse("leads:readx") == LCRM_SCOPE_NONE);
    CU_ASSERT(lcrm_scope_min_role(LCRM_SCOPE_USERS_READ) == LCRM_ROLE_ADMIN);
    CU_ASSERT(lcrm_scope_min_role(LCRM_SCOPE_LEADS_READ) == LCRM_ROLE_USER);
    CU_ASSERT(lcrm_scope_in("stats:read leads:read", LCRM_SCOPE_LEADS_READ));
    CU_ASSERT(!lcrm_scope_in("leads:readx", LCRM_SCOPE_LEADS_READ));
    CU_ASSERT(!lcrm_scope_in("xleads:read", LCRM_SCOPE_LEADS_READ));
    CU_ASSERT(!lcrm_scope_in(NULL, LCRM_SCOPE_LEADS_READ));
}

void lcrm_test_register_totp(void)
{
    CU_pSuite s = lcrm_test_suite("totp");

    lcrm_totp_init();
    LCRM_TEST(s, test_rfc6238_vectors);
    LCRM_TEST(s, test_skew_window);
    LCRM_TEST(s, test_base32);
    LCRM_TEST(s, test_otpauth);
    LCRM_TEST(s, test_recovery);
    LCRM_TEST(s, test_apikey_and_scopes);
}
