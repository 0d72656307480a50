/*
 * lcrm_cachekey: LeadCRMCache keys change with the namespace, the data
 * version and every parameter, never collide across parameter splits or
 * NULL versus "", and are memcached/Redis-safe.
 */
#include "unit.h"
#include "lcrm_cachekey.h"

#include <string.h>

static const char *key(const char *ns, const char *v, const char *a,
                       const char *b)
{
    const char *parts[2];
    parts[0] = a;
    parts[1] = b;
    return lcrm_cache_key(lcrm_test_pool, ns, v, parts, 2);
}

static void test_stable(void)
{
    const char *k = key("stats", "42", "2024-01-01T00:00:00.000Z", NULL);

    LCRM_ASSERT_STR(k, key("stats", "42", "2024-01-01T00:00:00.000Z", NULL));
    CU_ASSERT(strncmp(k, "lcrm:stats:42:", 14) == 0);
    LCRM_ASSERT_INT(strlen(k), 14 + 64);
    CU_ASSERT(strspn(k, "lcrmstats:0123456789abcdef") == strlen(k));
}

static void test_distinct(void)
{
    const char *k = key("stats", "42", "a", "bc");

    CU_ASSERT(strcmp(k, key("stats", "43", "a", "bc")) != 0);
    CU_ASSERT(strcmp(k, key("series", "42", "a", "bc")) != 0);
    CU_ASSERT(strcmp(k, key("stats", "42", "ab", "c")) != 0);
    CU_ASSERT(strcmp(k, key("stats", "42", "a", "bd")) != 0);
    CU_ASSERT(strcmp(key("stats", "1", NULL, "x"),
                     key("stats", "1", "", "x")) != 0);
    CU_ASSERT(strcmp(key("stats", "1", NULL, "x"),
                     key("stats", "1", "x", NULL)) != 0);
}

static void test_frame(void)
{
    const char *v = lcrm_cache_frame(lcrm_test_pool, 1700000000000000,
                                     "{\"slots\":[]}");

    LCRM_ASSERT_STR(v, "1700000000000000\n{\"slots\":[]}");
    LCRM_ASSERT_STR(lcrm_cache_unframe(v, 1699999999999999),
                    "{\"slots\":[]}");
    /* expired at until_us itself and after */
    CU_ASSERT_PTR_NULL(lcrm_cache_unframe(v, 1700000000000000));
    CU_ASSERT_PTR_NULL(lcrm_cache_unframe(v, 1700000000000001));
    /* not framed values */
    CU_ASSERT_PTR_NULL(lcrm_cache_unframe("{\"slots\":[]}", 0));
    CU_ASSERT_PTR_NULL(lcrm_cache_unframe("12{}", 0));
    CU_ASSERT_PTR_NULL(lcrm_cache_unframe("", 0));
    CU_ASSERT_PTR_NULL(lcrm_cache_unframe(NULL, 0));
    CU_ASSERT_PTR_NULL(lcrm_cache_unframe("99999999999999999999999\n{}", 0));
}

void lcrm_test_register_cachekey(void)
{
    CU_pSuite s = lcrm_test_suite("cachekey");

    LCRM_TEST(s, test_stable);
    LCRM_TEST(s, test_distinct);
    LCRM_TEST(s, test_frame);
}
