/*
 * lcrm_aead: keyring parsing, seal/open round trips, rotation, and refusal
 * of every tampered, truncated, re-bound or unknown-key value.
 */
#include "unit.h"
#include "lcrm_aead.h"

#include <apr_strings.h>
#include <string.h>

/* 32 bytes 0x00..0x1f and 32 bytes 0xff..0xe0, base64 */
#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K2 "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA="

static lcrm_aead_ring_t *ring(const char *text)
{
    lcrm_aead_ring_t *r = NULL;
    const char *err = NULL;

    if (lcrm_aead_ring_parse(lcrm_test_pool, text, strlen(text), &r, &err)
        != APR_SUCCESS) {
        return NULL;
    }
    return r;
}

static void test_ring_parse(void)
{
    lcrm_aead_ring_t *r = ring("# data key\n\nk2:" K2 "\r\n k1:" K1 " \n");

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(lcrm_test_streq("active", lcrm_aead_ring_active_id(r), "k2"));
    CU_ASSERT_PTR_NULL(ring(""));
    CU_ASSERT_PTR_NULL(ring("# only a comment\n"));
    CU_ASSERT_PTR_NULL(ring(K1));                       /* no id */
    CU_ASSERT_PTR_NULL(ring(":" K1));                   /* empty id */
    CU_ASSERT_PTR_NULL(ring("a b:" K1));                /* bad id char */
    CU_ASSERT_PTR_NULL(ring("abcdefghijklmnopq:" K1));  /* id of 17 */
    CU_ASSERT_PTR_NULL(ring("k:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg=="));
    CU_ASSERT_PTR_NULL(ring("k:" K1 "AA"));             /* too long */
    CU_ASSERT_PTR_NULL(ring("k:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH*8="));
    CU_ASSERT_PTR_NULL(ring("k:" K1 "\nk:" K2));        /* duplicate id */
}

static void test_round_trip(void)
{
    lcrm_aead_ring_t *r = ring("k1:" K1);
    const char *a = NULL, *b = NULL;
    unsigned char *plain = NULL;
    apr_size_t len = 0;
    static const char msg[] = "JBSWY3DPEHPK3PXP\0binary\xff";

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(lcrm_aead_seal(lcrm_test_pool, r, msg, sizeof(msg),
                                         "totp:u1", &a), APR_SUCCESS);
    CU_ASSERT(!strncmp(a, "v1.k1.", 6));
    CU_ASSERT_EQUAL(lcrm_aead_seal(lcrm_test_pool, r, msg, sizeof(msg),
                                   "totp:u1", &b), APR_SUCCESS);
    CU_ASSERT(strcmp(a, b) != 0);                       /* fresh nonce */
    CU_ASSERT_EQUAL_FATAL(lcrm_aead_open(lcrm_test_pool, r, a, "totp:u1",
                                         &plain, &len), APR_SUCCESS);
    CU_ASSERT_EQUAL(len, sizeof(msg));
    CU_ASSERT(!memcmp(plain, msg, sizeof(msg)) && plain[len] == '\0');
    CU_ASSERT_EQUAL(lcrm_aead_seal(lcrm_test_pool, r, "", 0, NULL, &a),
                    APR_SUCCESS);
    CU_ASSERT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, a, NULL, &plain, &len),
                    APR_SUCCESS);
    CU_ASSERT_EQUAL(len, 0);
}

static void test_refusals(void)
{
    lcrm_aead_ring_t *r = ring("k1:" K1), *other = ring("k1:" K2);
    const char *s = NULL;
    char *t;
    unsigned char *plain;
    apr_size_t len, i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(lcrm_aead_seal(lcrm_test_pool, r, "secret", 6,
                                         "totp:u1", &s), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, s, "totp:u2",
                                       &plain, &len), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, other, s, "totp:u1",
                                       &plain, &len), APR_SUCCESS);
    /* every single-character change of the payload is refused */
    for (i = 6; s[i]; i++) {
        t = apr_pstrdup(lcrm_test_pool, s);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, t, "totp:u1",
                                           &plain, &len), APR_SUCCESS);
    }
    t = apr_pstrndup(lcrm_test_pool, s, strlen(s) - 4);
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, t, "totp:u1",
                                       &plain, &len), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, "v1.k9.AAAA",
                                       "totp:u1", &plain, &len), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, "v2.k1.AAAA",
                                       "totp:u1", &plain, &len), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, "v1.k1.", "",
                                       &plain, &len), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, r, "", "", &plain,
                                       &len), APR_SUCCESS);
}

static void test_rotation(void)
{
    lcrm_aead_ring_t *old = ring("k1:" K1), *both = ring("k2:" K2 "\nk1:" K1);
    const char *s = NULL, *s2 = NULL;
    unsigned char *plain;
    apr_size_t len;

    CU_ASSERT_PTR_NOT_NULL_FATAL(both);
    CU_ASSERT_EQUAL_FATAL(lcrm_aead_seal(lcrm_test_pool, old, "x", 1, "a",
                                         &s), APR_SUCCESS);
    CU_ASSERT_EQUAL(lcrm_aead_open(lcrm_test_pool, both, s, "a", &plain, &len),
                    APR_SUCCESS);
    CU_ASSERT_EQUAL(lcrm_aead_seal(lcrm_test_pool, both, "x", 1, "a", &s2),
                    APR_SUCCESS);
    CU_ASSERT(!strncmp(s2, "v1.k2.", 6));
    CU_ASSERT_NOT_EQUAL(lcrm_aead_open(lcrm_test_pool, old, s2, "a", &plain,
                                       &len), APR_SUCCESS);
}

void lcrm_test_register_aead(void)
{
    CU_pSuite s = lcrm_test_suite("aead");
    lcrm_test_add(s, "keyring parsing", test_ring_parse);
    lcrm_test_add(s, "seal and open", test_round_trip);
    lcrm_test_add(s, "tampering refused", test_refusals);
    lcrm_test_add(s, "key rotation", test_rotation);
}
