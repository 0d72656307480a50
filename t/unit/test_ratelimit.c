/*
 * Unit tests for lcrm_ratelimit: fixed windows, check vs consume, key
 * separation, window reset, and bounded memory under a flood of keys.
 */
#include "unit.h"
#include "lcrm_ratelimit.h"

#include <stdlib.h>

static lcrm_rl_table_t *new_table(apr_uint32_t slots)
{
    lcrm_rl_table_t *t = apr_palloc(lcrm_test_pool, lcrm_rl_table_size(slots));
    lcrm_rl_table_init(t, slots);
    return t;
}

static void test_counts_to_limit(void)
{
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    apr_uint64_t k = lcrm_rl_key("general", "10.0.0.1", NULL);
    int i;

    for (i = 0; i < 5; i++) {
        lcrm_rl_hit(t, k, 5, 60, 1200, 1, &r);
        CU_ASSERT(r.allowed);
        LCRM_ASSERT_INT(r.remaining, 4 - i);
    }
    lcrm_rl_hit(t, k, 5, 60, 1210, 1, &r);
    CU_ASSERT(!r.allowed);
    LCRM_ASSERT_INT(r.remaining, 0);
    LCRM_ASSERT_INT(r.reset, 50);       /* window 1200..1260 */
    LCRM_ASSERT_INT(r.limit, 5);
    /* a new window starts from zero */
    lcrm_rl_hit(t, k, 5, 60, 1260, 1, &r);
    CU_ASSERT(r.allowed);
    LCRM_ASSERT_INT(r.remaining, 4);
    LCRM_ASSERT_INT(r.reset, 60);
}

static void test_check_does_not_consume(void)
{
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    apr_uint64_t k = lcrm_rl_key("login-failures", "10.0.0.1", "a@b.co");
    int i;

    for (i = 0; i < 10; i++) {
        lcrm_rl_hit(t, k, 2, 900, 5000, 0, &r);
        CU_ASSERT(r.allowed);
    }
    lcrm_rl_hit(t, k, 2, 900, 5000, 1, &r);
    lcrm_rl_hit(t, k, 2, 900, 5000, 1, &r);
    lcrm_rl_hit(t, k, 2, 900, 5000, 0, &r);
    CU_ASSERT(!r.allowed);
}

static void test_keys_are_separate(void)
{
    apr_uint64_t a = lcrm_rl_key("general", "10.0.0.1", NULL);
    apr_uint64_t b = lcrm_rl_key("general", "10.0.0.2", NULL);
    apr_uint64_t c = lcrm_rl_key("auth", "10.0.0.1", NULL);
    apr_uint64_t d = lcrm_rl_key("general", "10.0.0.1", "");
    apr_uint64_t e = lcrm_rl_key("general1", "0.0.0.1", NULL);
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;

    CU_ASSERT(a != b && a != c && b != c && a != e);
    CU_ASSERT(a == d);                  /* NULL and "" are the same part */
    CU_ASSERT(a != 0 && b != 0);
    lcrm_rl_hit(t, a, 1, 60, 0, 1, &r);
    lcrm_rl_hit(t, a, 1, 60, 0, 1, &r);
    CU_ASSERT(!r.allowed);
    lcrm_rl_hit(t, b, 1, 60, 0, 1, &r);
    CU_ASSERT(r.allowed);
}

static void test_flood_stays_bounded(void)
{
    /* 100,000 distinct keys through a 1024-slot table: no growth, every
     * request is still answered (old keys are forgotten, fail open) */
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    apr_uint64_t victim = lcrm_rl_key("general", "victim", NULL);
    char buf[32];
    int i;

    lcrm_rl_hit(t, victim, 3, 60, 600, 1, &r);
    for (i = 0; i < 100000; i++) {
        snprintf(buf, sizeof(buf), "flood-%d", i);
        lcrm_rl_hit(t, lcrm_rl_key("general", buf, NULL), 3, 60, 600, 1, &r);
        CU_ASSERT_FATAL(r.allowed);
    }
    LCRM_ASSERT_INT(t->nslots, 1024);
    /* expired entries are reused first: a later window still works */
    lcrm_rl_hit(t, victim, 3, 60, 660, 1, &r);
    CU_ASSERT(r.allowed);
    LCRM_ASSERT_INT(r.remaining, 2);
}

void lcrm_test_register_ratelimit(void)
{
    CU_pSuite s = lcrm_test_suite("ratelimit");
    LCRM_TEST(s, test_counts_to_limit);
    LCRM_TEST(s, test_check_does_not_consume);
    LCRM_TEST(s, test_keys_are_separate);
    LCRM_TEST(s, test_flood_stays_bounded);
}
