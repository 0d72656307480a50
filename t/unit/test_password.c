/*
 * lcrm_password: bcrypt only, no truncation, no NUL, and interoperability
 * with hashes made by other bcrypt implementations (data/bcrypt_vectors.txt).
 */
#include "unit.h"
#include "lcrm_password.h"

#include <apr_md5.h>
#include <apr_sha1.h>
#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

#define FAST_COST 4

static const char *hash_of(const char *pw)
{
    const char *h = NULL;
    if (lcrm_password_hash(lcrm_test_pool, pw, strlen(pw), FAST_COST, &h)
        != APR_SUCCESS) {
        return NULL;
    }
    return h;
}

static apr_status_t verify(const char *pw, const char *hash)
{
    return lcrm_password_verify(pw, strlen(pw), hash);
}

static void test_hash_and_verify(void)
{
    const char *h = hash_of("correct horse"), *h2;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    LCRM_ASSERT_INT(strlen(h), 60);
    CU_ASSERT(!strncmp(h, "$2y$04$", 7));
    CU_ASSERT(lcrm_password_is_bcrypt(h));
    LCRM_ASSERT_INT(verify("correct horse", h), APR_SUCCESS);
    LCRM_ASSERT_INT(verify("correct horsE", h), APR_EMISMATCH);
    LCRM_ASSERT_INT(verify("correct horse ", h), APR_EMISMATCH);
    LCRM_ASSERT_INT(verify("", h), APR_EMISMATCH);
    /* salted: the same password hashes differently */
    h2 = hash_of("correct horse");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h2);
    CU_ASSERT(strcmp(h, h2) != 0);
    LCRM_ASSERT_INT(verify("correct horse", h2), APR_SUCCESS);
    /* a changed checksum character no longer matches */
    {
        char *bad = apr_pstrdup(lcrm_test_pool, h);
        bad[40] = bad[40] == 'a' ? 'b' : 'a';
        LCRM_ASSERT_INT(verify("correct horse", bad), APR_EMISMATCH);
    }
    /* non-ASCII */
    h = hash_of("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    LCRM_ASSERT_INT(verify("p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91", h),
                    APR_SUCCESS);
    LCRM_ASSERT_INT(verify("passw\xc3\xb6rd \xf0\x9f\x94\x91", h),
                    APR_EMISMATCH);
}

static void test_hash_arguments(void)
{
    const char *h = NULL;
    char pw[80];

    LCRM_ASSERT_INT(lcrm_password_hash(lcrm_test_pool, "password", 8, 3, &h),
                    APR_EINVAL);
    LCRM_ASSERT_INT(lcrm_password_hash(lcrm_test_pool, "password", 8, 0, &h),
                    APR_EINVAL);
    LCRM_ASSERT_INT(lcrm_password_hash(lcrm_test_pool, "password", 8,
                                       LCRM_BCRYPT_COST_MAX + 1, &h),
                    APR_EINVAL);
    LCRM_ASSERT_INT(lcrm_password_hash(lcrm_test_pool, "pass\0word", 9,
                                       FAST_COST, &h), APR_EINVAL);
    memset(pw, 'x', sizeof(pw));
    pw[73] = '\0';
    LCRM_ASSERT_INT(lcrm_password_hash(lcrm_test_pool, pw, 73, FAST_COST, &h),
                    APR_EINVAL);
    pw[72] = '\0';
    h = NULL;
    LCRM_ASSERT_INT(lcrm_password_hash(lcrm_test_pool, pw, 72, FAST_COST, &h),
                    APR_SUCCESS);
    CU_ASSERT(lcrm_password_is_bcrypt(h));
    h = NULL;
    LCRM_ASSERT_INT(lcrm_password_hash(lcrm_test_pool, "password", 8, 5, &h),
                    APR_SUCCESS);
    CU_ASSERT(h && !strncmp(h, "$2y$05$", 7));
}

/* apr-util accepts these; lcrm_password_verify must not. */
static void test_non_bcrypt_refused(void)
{
    char md5[120], sha[120];
    /* crypt(3) DES and MD5-crypt of "password" (Python crypt module) */
    static const char *des = "abJnggxhB/yWI";
    static const char *md5crypt = "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/";
    static const char *sha256crypt =
        "$5$rounds=1000$salt$p.wiWs2zrZ7irikO2AL64QDIJo00A3KDq2xWHpLJGgB";

    CU_ASSERT_EQUAL_FATAL(apr_md5_encode("password", "$apr1$abcdefgh$", md5,
                                         sizeof(md5)), APR_SUCCESS);
    CU_ASSERT(!strncmp(md5, "$apr1$", 6));
    LCRM_ASSERT_INT(apr_password_validate("password", md5), APR_SUCCESS);
    LCRM_ASSERT_INT(verify("password", md5), APR_EMISMATCH);
    CU_ASSERT(!lcrm_password_is_bcrypt(md5));

    apr_sha1_base64("password", 8, sha);
    CU_ASSERT(!strncmp(sha, "{SHA}", 5));
    LCRM_ASSERT_INT(apr_password_validate("password", sha), APR_SUCCESS);
    LCRM_ASSERT_INT(verify("password", sha), APR_EMISMATCH);

    /* crypt(3) hashes: apr accepts them where libcrypt does */
    LCRM_ASSERT_INT(apr_password_validate("password", des), APR_SUCCESS);
    LCRM_ASSERT_INT(verify("password", des), APR_EMISMATCH);
    LCRM_ASSERT_INT(apr_password_validate("password", md5crypt), APR_SUCCESS);
    LCRM_ASSERT_INT(verify("password", md5crypt), APR_EMISMATCH);
    LCRM_ASSERT_INT(verify("password", sha256crypt), APR_EMISMATCH);

    /* plain text "hashes" and look-alikes */
    LCRM_ASSERT_INT(verify("password", "password"), APR_EMISMATCH);
    LCRM_ASSERT_INT(verify("", ""), APR_EMISMATCH);
    CU_ASSERT(!lcrm_password_is_bcrypt(NULL));
    CU_ASSERT(!lcrm_password_is_bcrypt(""));
    CU_ASSERT(!lcrm_password_is_bcrypt(
        "$2x$10$qmd7DO0D/hwEtrGRSA8FJu2U5eG05oicC3Iv3mG9Pe9OWYMgSPp6K"));
    CU_ASSERT(!lcrm_password_is_bcrypt(
        "$2b$10$qmd7DO0D/hwEtrGRSA8FJu2U5eG05oicC3Iv3mG9Pe9OWYMgSPp6"));
    CU_ASSERT(!lcrm_password_is_bcrypt(
        "$2b$10$qmd7DO0D/hwEtrGRSA8FJu2U5eG05oicC3Iv3mG9Pe9OWYMgSPp6K."));
    CU_ASSERT(!lcrm_password_is_bcrypt(
        "$2b$1a$qmd7DO0D/hwEtrGRSA8FJu2U5eG05oicC3Iv3mG9Pe9OWYMgSPp6K"));
    CU_ASSERT(!lcrm_password_is_bcrypt(
        "$2b$10$qmd7DO0D/hwEtrGRSA8FJu2U5eG05oicC3Iv3mG9Pe9OWYMgSPp6$"));
    CU_ASSERT(lcrm_password_is_bcrypt(
        "$2b$10$qmd7DO0D/hwEtrGRSA8FJu2U5eG05oicC3Iv3mG9Pe9OWYMgSPp6K"));
}

static void test_no_truncation_no_nul(void)
{
    char pw[80];
    const char *h;

    memset(pw, 'k', sizeof(pw));
    pw[72] = '\0';
    h = hash_of(pw);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    LCRM_ASSERT_INT(verify(pw, h), APR_SUCCESS);
    pw[72] = 'k';
    pw[73] = '\0';
    /* apr-util truncates at 72 bytes and would accept the 73-byte one */
    LCRM_ASSERT_INT(apr_password_validate(pw, h), APR_SUCCESS);
    LCRM_ASSERT_INT(lcrm_password_verify(pw, 73, h), APR_EMISMATCH);

    /* a length that includes a NUL: apr would stop at the NUL */
    h = hash_of("abcdefgh");
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    LCRM_ASSERT_INT(apr_password_validate("abcdefgh\0zzz", h), APR_SUCCESS);
    LCRM_ASSERT_INT(lcrm_password_verify("abcdefgh\0zzz", 12, h),
                    APR_EMISMATCH);
    LCRM_ASSERT_INT(lcrm_password_verify("abcdefgh", 8, h), APR_SUCCESS);
    LCRM_ASSERT_INT(lcrm_password_verify("abcdefgh", 7, h), APR_EMISMATCH);
}

/* Every vector must verify, and a changed password must not. */
static void test_foreign_vectors(void)
{
    const char *path = LCRM_TEST_DATA "/bcrypt_vectors.txt";
    FILE *f = fopen(path, "r");
    char line[512];
    int n = 0, n2a = 0, n2b = 0, nonascii = 0, len72 = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    while (fgets(line, sizeof(line), f)) {
        char *pw = line, *hash, *source, *nl, *wrong;
        apr_status_t rv;

        if (line[0] == '#' || line[0] == '\n') {
            continue;
        }
        if ((nl = strchr(line, '\n'))) {
            *nl = '\0';
        }
        hash = strchr(pw, '\t');
        source = hash ? strchr(hash + 1, '\t') : NULL;
        CU_ASSERT_FATAL(hash && source);
        *hash++ = '\0';
        *source++ = '\0';
        n++;
        n2a += !strncmp(hash, "$2a$", 4);
        n2b += !strncmp(hash, "$2b$", 4);
        len72 += strlen(pw) == 72;
        {
            const char *p;
            for (p = pw; *p; p++) {
                if ((unsigned char)*p >= 0x80) {
                    nonascii++;
                    break;
                }
            }
        }
        CU_ASSERT(lcrm_password_is_bcrypt(hash));
        rv = verify(pw, hash);
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "\n    vector %d (%s, %.4s) does not verify\n", n,
                    source, hash);
        }
        CU_ASSERT_EQUAL(rv, APR_SUCCESS);
        wrong = apr_pstrdup(lcrm_test_pool, pw);
        wrong[0] = wrong[0] == 'Z' ? 'Y' : 'Z';
        CU_ASSERT_EQUAL(verify(wrong, hash), APR_EMISMATCH);
    }
    fclose(f);
    /* the file is what we think it is */
    CU_ASSERT(n >= 16);
    CU_ASSERT(n2a >= 8);
    CU_ASSERT(n2b >= 8);
    CU_ASSERT(nonascii >= 4);
    CU_ASSERT(len72 >= 2);
}

static void test_dummy_hash(void)
{
    const char *a = NULL, *b = NULL;

    LCRM_ASSERT_INT(lcrm_password_dummy_hash(lcrm_test_pool, FAST_COST, &a),
                    APR_SUCCESS);
    LCRM_ASSERT_INT(lcrm_password_dummy_hash(lcrm_test_pool, FAST_COST, &b),
                    APR_SUCCESS);
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT(lcrm_password_is_bcrypt(a));
    CU_ASSERT(!strncmp(a, "$2y$04$", 7));
    CU_ASSERT(strcmp(a, b) != 0);
    /* a real hash: a verification runs and fails */
    LCRM_ASSERT_INT(verify("password", a), APR_EMISMATCH);
    LCRM_ASSERT_INT(lcrm_password_dummy_hash(lcrm_test_pool, 2, &a),
                    APR_EINVAL);
}

/* issue 10.13: the cost a login compares with the configured one */
static void test_cost_of_hash(void)
{
    const char *h = NULL;

    LCRM_ASSERT_INT(lcrm_password_dummy_hash(lcrm_test_pool, FAST_COST, &h),
                    APR_SUCCESS);
    LCRM_ASSERT_INT(lcrm_password_cost(h), FAST_COST);
    LCRM_ASSERT_INT(lcrm_password_cost(
        "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"), 12);
    LCRM_ASSERT_INT(lcrm_password_cost("$apr1$abc$def"), -1);
    LCRM_ASSERT_INT(lcrm_password_cost(""), -1);
    LCRM_ASSERT_INT(lcrm_password_cost(NULL), -1);
}

void lcrm_test_register_password(void)
{
    CU_pSuite s = lcrm_test_suite("password");
    LCRM_TEST(s, test_hash_and_verify);
    LCRM_TEST(s, test_hash_arguments);
    LCRM_TEST(s, test_non_bcrypt_refused);
    LCRM_TEST(s, test_no_truncation_no_nul);
    LCRM_TEST(s, test_foreign_vectors);
    LCRM_TEST(s, test_dummy_hash);
    LCRM_TEST(s, test_cost_of_hash);
}
