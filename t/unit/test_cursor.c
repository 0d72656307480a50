/*
 * lcrm_cursor: signed list cursors (API.md part 2 "Lists: cursors") and
 * the shared LIKE pattern.
 */
#include "unit.h"
#include "lcrm_cursor.h"
#include "lcrm_secret.h"

#include <apr_strings.h>
#include <string.h>

static const unsigned char key[] = "0123456789abcdef0123456789abcdef";
#define KLEN (sizeof(key) - 1)

static apr_status_t open_c(const char *endpoint, const char *c,
                           const char **payload)
{
    return lcrm_cursor_open(lcrm_test_pool, key, KLEN, endpoint, c, payload);
}

static void test_round_trip(void)
{
    const char *c = lcrm_cursor_sign(lcrm_test_pool, key, KLEN, "GET /a",
                                     "{\"s\":\"name\"}");
    const char *p = NULL;

    CU_ASSERT_PTR_NOT_NULL(strchr(c, '.'));
    LCRM_ASSERT_INT(open_c("GET /a", c, &p), APR_SUCCESS);
    LCRM_ASSERT_STR(p, "{\"s\":\"name\"}");
    /* every payload length (base64 tails of 0, 1 and 2 bytes) */
    LCRM_ASSERT_INT(open_c("GET /a", lcrm_cursor_sign(lcrm_test_pool, key,
                    KLEN, "GET /a", "ab"), &p), APR_SUCCESS);
    LCRM_ASSERT_STR(p, "ab");
    LCRM_ASSERT_INT(open_c("GET /a", lcrm_cursor_sign(lcrm_test_pool, key,
                    KLEN, "GET /a", "abcd"), &p), APR_SUCCESS);
    LCRM_ASSERT_STR(p, "abcd");
}

static void test_refused(void)
{
    const char *c = lcrm_cursor_sign(lcrm_test_pool, key, KLEN, "GET /a",
                                     "{\"s\":\"name\"}");
    static const unsigned char other[] = "0123456789abcdef0123456789abcdeX";
    const char *p;
    char *t;
    apr_size_t i, n = strlen(c);

    LCRM_ASSERT_INT(open_c("GET /b", c, &p), APR_EINVAL);
    LCRM_ASSERT_INT(lcrm_cursor_open(lcrm_test_pool, other, KLEN, "GET /a",
                                     c, &p), APR_EINVAL);
    /* any single changed character */
    for (i = 0; i < n; i++) {
        t = apr_pstrdup(lcrm_test_pool, c);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (open_c("GET /a", t, &p) != APR_EINVAL) {
            CU_FAIL("a changed character was accepted");
        }
    }
    LCRM_ASSERT_INT(open_c("GET /a", "", &p), APR_EINVAL);
    LCRM_ASSERT_INT(open_c("GET /a", ".", &p), APR_EINVAL);
    LCRM_ASSERT_INT(open_c("GET /a", "abc", &p), APR_EINVAL);
    LCRM_ASSERT_INT(open_c("GET /a", apr_pstrcat(lcrm_test_pool, c, "A",
                                                 NULL), &p), APR_EINVAL);
    LCRM_ASSERT_INT(open_c("GET /a", apr_pstrcat(lcrm_test_pool, "A", c,
                                                 NULL), &p), APR_EINVAL);
    t = apr_pstrdup(lcrm_test_pool, c);
    *strchr(t, '.') = '=';
    LCRM_ASSERT_INT(open_c("GET /a", t, &p), APR_EINVAL);
}

static void test_like_pattern(void)
{
    LCRM_ASSERT_STR(lcrm_like_pattern(lcrm_test_pool, "a%b_c\\d"),
                    "%a\\%b\\_c\\\\d%");
    LCRM_ASSERT_STR(lcrm_like_pattern(lcrm_test_pool, ""), "%%");
}

/* The one strict base64url decoder every token, cursor and sealed value
 * goes through (core/lcrm_secret). */
static void test_base64url_decode(void)
{
    static const unsigned char bytes[] = {0xfb, 0xff, 0x00, 0x41, 0x42};
    apr_size_t n = 99, i;
    unsigned char *out;

    /* round trip at every tail length (0, 1 and 2 bytes) */
    for (i = 0; i <= sizeof(bytes); i++) {
        const char *enc = lcrm_base64url(lcrm_test_pool, bytes, i);
        out = lcrm_base64url_decode(lcrm_test_pool, enc, strlen(enc), &n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(out);
        LCRM_ASSERT_INT(n, i);
        CU_ASSERT(memcmp(out, bytes, i) == 0);
        CU_ASSERT(out[n] == '\0');
    }
    out = lcrm_base64url_decode(lcrm_test_pool, "-_8", 3, &n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    LCRM_ASSERT_INT(n, 2);
    CU_ASSERT(out[0] == 0xfb && out[1] == 0xff);
    /* refused: padding, the standard alphabet, a length no encoding has,
     * non-canonical trailing bits ("QR" and "QQ" both would give "A") */
    CU_ASSERT_PTR_NULL(lcrm_base64url_decode(lcrm_test_pool, "QQ==", 4, &n));
    CU_ASSERT_PTR_NULL(lcrm_base64url_decode(lcrm_test_pool, "+/8", 3, &n));
    CU_ASSERT_PTR_NULL(lcrm_base64url_decode(lcrm_test_pool, "QUJDR", 5, &n));
    CU_ASSERT_PTR_NOT_NULL(lcrm_base64url_decode(lcrm_test_pool, "QQ", 2, &n));
    CU_ASSERT_PTR_NULL(lcrm_base64url_decode(lcrm_test_pool, "QR", 2, &n));
    CU_ASSERT_PTR_NULL(lcrm_base64url_decode(lcrm_test_pool, "Q Q", 3, &n));
    CU_ASSERT_PTR_NULL(lcrm_base64url_decode(lcrm_test_pool, "Q\0Q", 3, &n));
}

/* lcrm_token_shaped: the shape of a 256-bit random token, nothing else */
static void test_token_shaped(void)
{
    const char *t = NULL;
    char *bad;

    LCRM_ASSERT_INT(lcrm_random_token(lcrm_test_pool,
                                      LCRM_REFRESH_TOKEN_BYTES, &t),
                    APR_SUCCESS);
    CU_ASSERT(lcrm_token_shaped(t));
    CU_ASSERT(!lcrm_token_shaped(apr_pstrndup(lcrm_test_pool, t, 42)));
    CU_ASSERT(!lcrm_token_shaped(apr_pstrcat(lcrm_test_pool, t, "A", NULL)));
    bad = apr_pstrdup(lcrm_test_pool, t);
    bad[10] = '+';
    CU_ASSERT(!lcrm_token_shaped(bad));
    bad[10] = '=';
    CU_ASSERT(!lcrm_token_shaped(bad));
    CU_ASSERT(!lcrm_token_shaped(""));
}

void lcrm_test_register_cursor(void)
{
    CU_pSuite s = lcrm_test_suite("cursor");
    LCRM_TEST(s, test_round_trip);
    LCRM_TEST(s, test_refused);
    LCRM_TEST(s, test_like_pattern);
    LCRM_TEST(s, test_base64url_decode);
    LCRM_TEST(s, test_token_shaped);
}
