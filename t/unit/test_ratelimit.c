/*
 * Unit tests for lcrm_ratelimit: fixed and sliding windows (arithmetic at
 * explicit times), check vs consume vs give-back, keyed hashing (SipHash
 * vectors, secret and window in the key), eviction by expiry that never
 * takes a live protected entry, "full" instead of eviction, checks that
 * take no slot, bounded memory, and IPv6 client grouping.
 */
#include "unit.h"
#include "lcrm_ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char secret_a[LCRM_RL_SECRET_LEN] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const unsigned char secret_b[LCRM_RL_SECRET_LEN] = {
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static const lcrm_rl_spec_t fixed5 = {5, 60, 0};
static const lcrm_rl_spec_t login2 = {2, 900,
                                      LCRM_RL_SLIDING | LCRM_RL_PROTECTED};

static lcrm_rl_table_t *new_table(apr_uint32_t slots)
{
    lcrm_rl_table_t *t = apr_palloc(lcrm_test_pool, lcrm_rl_table_size(slots));
    lcrm_rl_table_init(t, slots, secret_a);
    return t;
}

static apr_uint64_t key(const char *cls, const char *client, const char *x,
                        apr_uint32_t window)
{
    return lcrm_rl_key(secret_a, cls, client, x, window);
}

static int used_slots(const lcrm_rl_table_t *t)
{
    apr_uint32_t i;
    int n = 0;
    for (i = 0; i < t->nslots; i++) {
        n += t->slots[i].key != 0;
    }
    return n;
}

static void test_siphash_vectors(void)
{
    /* the reference vectors of SipHash-2-4 (key 00..0f, message 00..) */
    unsigned char msg[16];
    int i;
    for (i = 0; i < 16; i++) {
        msg[i] = (unsigned char)i;
    }
    CU_ASSERT(lcrm_rl_siphash(secret_a, msg, 0) == 0x726fdb47dd0e0e31ULL);
    CU_ASSERT(lcrm_rl_siphash(secret_a, msg, 1) == 0x74f839c593dc67fdULL);
    CU_ASSERT(lcrm_rl_siphash(secret_a, msg, 15) == 0xa129ca6149be45e5ULL);
}

static void test_counts_to_limit(void)
{
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    apr_uint64_t k = key("general", "10.0.0.1", NULL, 60);
    int i;

    for (i = 0; i < 5; i++) {
        CU_ASSERT(lcrm_rl_hit(t, k, &fixed5, 1200, 1, &r) == LCRM_RL_OK);
        CU_ASSERT(r.allowed);
        LCRM_ASSERT_INT(r.remaining, 4 - i);
    }
    lcrm_rl_hit(t, k, &fixed5, 1210, 1, &r);
    CU_ASSERT(!r.allowed);
    LCRM_ASSERT_INT(r.remaining, 0);
    LCRM_ASSERT_INT(r.reset, 50);       /* window 1200..1260 */
    LCRM_ASSERT_INT(r.limit, 5);
    /* a fixed window starts the next one from zero */
    lcrm_rl_hit(t, k, &fixed5, 1260, 1, &r);
    CU_ASSERT(r.allowed);
    LCRM_ASSERT_INT(r.remaining, 4);
    LCRM_ASSERT_INT(r.reset, 60);
}

static void test_check_does_not_consume(void)
{
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    apr_uint64_t k = key("login-failures", "10.0.0.1", "u:1", 900);
    int i;

    for (i = 0; i < 10; i++) {
        lcrm_rl_hit(t, k, &login2, 5000, 0, &r);
        CU_ASSERT(r.allowed);
    }
    lcrm_rl_hit(t, k, &login2, 5000, 1, &r);
    lcrm_rl_hit(t, k, &login2, 5000, 1, &r);
    lcrm_rl_hit(t, k, &login2, 5000, 0, &r);
    CU_ASSERT(!r.allowed);
    /* a reservation given back (the right password) frees its place */
    lcrm_rl_hit(t, k, &login2, 5001, -1, &r);
    lcrm_rl_hit(t, k, &login2, 5001, 1, &r);
    CU_ASSERT(r.allowed);
    lcrm_rl_hit(t, k, &login2, 5001, 1, &r);
    CU_ASSERT(!r.allowed);
}

static void test_checks_take_no_slot(void)
{
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    char buf[32];
    int i;

    for (i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "10.1.%d.%d", i / 250, i % 250);
        lcrm_rl_hit(t, key("login-failures", buf, "u:1", 900), &login2,
                    100, 0, &r);
        CU_ASSERT_FATAL(r.allowed);
        lcrm_rl_hit(t, key("login-failures", buf, "u:1", 900), &login2,
                    100, -1, &r);
    }
    LCRM_ASSERT_INT(used_slots(t), 0);
}

static void test_keys_are_separate(void)
{
    apr_uint64_t a = key("general", "10.0.0.1", NULL, 60);
    apr_uint64_t b = key("general", "10.0.0.2", NULL, 60);
    apr_uint64_t c = key("auth", "10.0.0.1", NULL, 60);
    apr_uint64_t d = key("general", "10.0.0.1", "", 60);
    apr_uint64_t e = key("general1", "0.0.0.1", NULL, 60);
    apr_uint64_t f = key("general", "10.0.0.", "1", 60);
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    lcrm_rl_spec_t one = {1, 60, 0};

    CU_ASSERT(a != b && a != c && b != c && a != e && a != f);
    CU_ASSERT(a == d);                  /* NULL and "" are the same part */
    CU_ASSERT(a != 0 && b != 0);
    /* the window is part of the key (one class, two locations) */
    CU_ASSERT(a != key("general", "10.0.0.1", NULL, 3600));
    /* and so is the secret: nobody outside can predict a key */
    CU_ASSERT(a != lcrm_rl_key(secret_b, "general", "10.0.0.1", NULL, 60));
    lcrm_rl_hit(t, a, &one, 0, 1, &r);
    lcrm_rl_hit(t, a, &one, 0, 1, &r);
    CU_ASSERT(!r.allowed);
    lcrm_rl_hit(t, b, &one, 0, 1, &r);
    CU_ASSERT(r.allowed);
}

static void test_two_windows_alternating(void)
{
    /* one class at 3 per minute here and 5 per hour there: alternating
     * requests must still hit each limit */
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_spec_t minute = {3, 60, LCRM_RL_SLIDING | LCRM_RL_PROTECTED};
    lcrm_rl_spec_t hour = {5, 3600, LCRM_RL_SLIDING | LCRM_RL_PROTECTED};
    lcrm_rl_result_t r;
    int i, ok_minute = 0, ok_hour = 0;

    for (i = 0; i < 10; i++) {
        lcrm_rl_hit(t, key("auth", "10.0.0.9", NULL, 60), &minute, 7200, 1,
                    &r);
        ok_minute += r.allowed;
        lcrm_rl_hit(t, key("auth", "10.0.0.9", NULL, 3600), &hour, 7200, 1,
                    &r);
        ok_hour += r.allowed;
    }
    LCRM_ASSERT_INT(ok_minute, 3);
    LCRM_ASSERT_INT(ok_hour, 5);
}

static void test_sliding_edge(void)
{
    /* limit 10 per 60 s: 10 at the end of a bucket, then at the start of
     * the next one the previous bucket still weighs fully */
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_spec_t s = {10, 60, LCRM_RL_SLIDING | LCRM_RL_PROTECTED};
    apr_uint64_t k = key("login-failures", "10.0.0.1", "u:1", 60);
    lcrm_rl_result_t r;
    int i, ok = 0;

    for (i = 0; i < 10; i++) {
        lcrm_rl_hit(t, k, &s, 119, 1, &r);
        ok += r.allowed;
    }
    LCRM_ASSERT_INT(ok, 10);
    for (i = 0; i < 10; i++) {
        lcrm_rl_hit(t, k, &s, 120, 1, &r);
        ok += r.allowed;
    }
    LCRM_ASSERT_INT(ok, 10);            /* a fixed window would pass 20 */
    CU_ASSERT(!r.allowed);
    /* 10 * (60 - e) / 60 + 1 <= 10 first holds at e = 6 */
    LCRM_ASSERT_INT(r.reset, 6);
    lcrm_rl_hit(t, k, &s, 125, 1, &r);
    CU_ASSERT(!r.allowed);
    lcrm_rl_hit(t, k, &s, 126, 1, &r);
    CU_ASSERT(r.allowed);
    /* half way, the previous bucket weighs 5: 4 more fit (1 + 4 + 5) */
    for (i = 0, ok = 0; i < 10; i++) {
        lcrm_rl_hit(t, k, &s, 150, 1, &r);
        ok += r.allowed;
    }
    LCRM_ASSERT_INT(ok, 4);
    /* two buckets later nothing weighs any more */
    lcrm_rl_hit(t, k, &s, 240, 1, &r);
    CU_ASSERT(r.allowed);
    LCRM_ASSERT_INT(r.remaining, 9);
}

static void test_decide_arithmetic(void)
{
    lcrm_rl_spec_t s = {10, 100, LCRM_RL_SLIDING};
    lcrm_rl_spec_t f = {10, 100, 0};
    lcrm_rl_result_t r;

    /* previous 8 at 25 % into the bucket weighs 6; 3 counted: 6+3+1 */
    lcrm_rl_decide(&s, 8, 3, 1025, &r);
    CU_ASSERT(r.allowed);
    LCRM_ASSERT_INT(r.remaining, 0);
    LCRM_ASSERT_INT(r.reset, 75);
    lcrm_rl_decide(&s, 8, 4, 1025, &r);
    CU_ASSERT(!r.allowed);
    /* 8 * (75 - t) / 100 + 5 <= 10 from t = 13 (weight 4.96) */
    LCRM_ASSERT_INT(r.reset, 13);
    /* current bucket full: wait into the next one until 10 * (100 - e)
     * / 100 + 1 <= 10, e = 10: 75 + 10 */
    lcrm_rl_decide(&s, 0, 10, 1025, &r);
    CU_ASSERT(!r.allowed);
    LCRM_ASSERT_INT(r.reset, 85);
    /* a fixed window ignores the previous bucket */
    lcrm_rl_decide(&f, 100, 9, 1025, &r);
    CU_ASSERT(r.allowed);
    lcrm_rl_decide(&f, 0, 10, 1025, &r);
    CU_ASSERT(!r.allowed);
    LCRM_ASSERT_INT(r.reset, 75);
}

static void test_flood_spares_protected(void)
{
    /* 100,000 distinct general keys through a 1024-slot table: no
     * growth, every request answered, and a locked security counter
     * survives (general entries only evict each other) */
    lcrm_rl_table_t *t = new_table(1024);
    lcrm_rl_result_t r;
    apr_uint64_t victim = key("login-failures", "10.0.0.1", "u:7", 900);
    char buf[32];
    int i;

    lcrm_rl_hit(t, victim, &login2, 600, 1, &r);
    lcrm_rl_hit(t, victim, &login2, 600, 1, &r);
    for (i = 0; i < 100000; i++) {
        snprintf(buf, sizeof(buf), "flood-%d", i);
        CU_ASSERT_FATAL(lcrm_rl_hit(t, key("general", buf, NULL, 60), &fixed5,
                                    600, 1, &r) == LCRM_RL_OK);
        CU_ASSERT_FATAL(r.allowed);
    }
    LCRM_ASSERT_INT(t->nslots, 1024);
    lcrm_rl_hit(t, victim, &login2, 601, 0, &r);
    CU_ASSERT(!r.allowed);
}

static void test_evicts_by_expiry(void)
{
    /* a 16-slot table is one probe run: a long unprotected entry made
     * first outlives later short ones when a new key needs room */
    lcrm_rl_table_t *t = new_table(16);
    lcrm_rl_spec_t hour = {3, 3600, 0};
    apr_uint64_t longk = key("general", "long", NULL, 3600);
    lcrm_rl_result_t r;
    char buf[32];
    int i;

    lcrm_rl_hit(t, longk, &hour, 0, 1, &r);
    lcrm_rl_hit(t, longk, &hour, 0, 1, &r);
    for (i = 0; i < 15; i++) {
        snprintf(buf, sizeof(buf), "short-%d", i);
        lcrm_rl_hit(t, key("general", buf, NULL, 60), &fixed5, 30, 1, &r);
    }
    LCRM_ASSERT_INT(used_slots(t), 16);
    lcrm_rl_hit(t, key("general", "newcomer", NULL, 60), &fixed5, 31, 1, &r);
    lcrm_rl_hit(t, longk, &hour, 32, 1, &r);
    LCRM_ASSERT_INT(r.remaining, 0);    /* its two earlier counts remain */
}

static void test_full_of_protected(void)
{
    lcrm_rl_table_t *t = new_table(16);
    lcrm_rl_result_t r;
    char buf[32];
    int i;

    for (i = 0; i < 16; i++) {
        snprintf(buf, sizeof(buf), "10.2.0.%d", i);
        CU_ASSERT(lcrm_rl_hit(t, key("login-failures", buf, "u:1", 900),
                              &login2, 0, 1, &r) == LCRM_RL_OK);
    }
    /* no slot may be taken: counting reports full, for every class */
    CU_ASSERT(lcrm_rl_hit(t, key("login-failures", "10.3.0.1", "u:1", 900),
                          &login2, 10, 1, &r) == LCRM_RL_FULL);
    CU_ASSERT(lcrm_rl_hit(t, key("general", "10.3.0.1", NULL, 60),
                          &fixed5, 10, 1, &r) == LCRM_RL_FULL);
    /* a check still answers (nothing counted, nothing taken) */
    CU_ASSERT(lcrm_rl_hit(t, key("login-failures", "10.3.0.1", "u:1", 900),
                          &login2, 10, 0, &r) == LCRM_RL_OK);
    CU_ASSERT(r.allowed);
    /* sliding entries live two windows, then make room */
    CU_ASSERT(lcrm_rl_hit(t, key("general", "10.3.0.1", NULL, 60),
                          &fixed5, 1799, 1, &r) == LCRM_RL_FULL);
    CU_ASSERT(lcrm_rl_hit(t, key("general", "10.3.0.1", NULL, 60),
                          &fixed5, 1800, 1, &r) == LCRM_RL_OK);
}

static void test_client_grouping(void)
{
    char a[80], b[80];

    LCRM_ASSERT_STR(lcrm_rl_client("10.0.0.1", 64, a, sizeof(a)), "10.0.0.1");
    LCRM_ASSERT_STR(lcrm_rl_client("::ffff:192.0.2.1", 64, a, sizeof(a)),
                    "192.0.2.1");
    LCRM_ASSERT_STR(lcrm_rl_client("::FFFF:C000:0201", 64, a, sizeof(a)),
                    "192.0.2.1");
    LCRM_ASSERT_STR(lcrm_rl_client("2001:db8:1:2:3:4:5:6", 64, a, sizeof(a)),
                    "2001:db8:1:2::/64");
    LCRM_ASSERT_STR(lcrm_rl_client("2001:db8:1:2:ffff::1", 64, b, sizeof(b)),
                    a);
    LCRM_ASSERT_STR(lcrm_rl_client("2001:DB8:1:2:3:4:5:6", 48, a, sizeof(a)),
                    "2001:db8:1::/48");
    LCRM_ASSERT_STR(lcrm_rl_client("2001:db8:1:ff:3:4:5:6", 56, a, sizeof(a)),
                    "2001:db8:1::/56");
    LCRM_ASSERT_STR(lcrm_rl_client("2001:db8:1:2:3:4:5:6", 128, a, sizeof(a)),
                    "2001:db8:1:2:3:4:5:6");
    LCRM_ASSERT_STR(lcrm_rl_client("2001:db8::1", 128, a, sizeof(a)),
                    "2001:db8::1");
    LCRM_ASSERT_STR(lcrm_rl_client("not-an-address", 64, a, sizeof(a)),
                    "not-an-address");
    CU_ASSERT(strcmp(lcrm_rl_client("2001:db8:1:2::1", 64, a, sizeof(a)),
                     lcrm_rl_client("2001:db8:1:3::1", 64, b, sizeof(b))));
}

void lcrm_test_register_ratelimit(void)
{
    CU_pSuite s = lcrm_test_suite("ratelimit");
    LCRM_TEST(s, test_siphash_vectors);
    LCRM_TEST(s, test_counts_to_limit);
    LCRM_TEST(s, test_check_does_not_consume);
    LCRM_TEST(s, test_checks_take_no_slot);
    LCRM_TEST(s, test_keys_are_separate);
    LCRM_TEST(s, test_two_windows_alternating);
    LCRM_TEST(s, test_sliding_edge);
    LCRM_TEST(s, test_decide_arithmetic);
    LCRM_TEST(s, test_flood_spares_protected);
    LCRM_TEST(s, test_evicts_by_expiry);
    LCRM_TEST(s, test_full_of_protected);
    LCRM_TEST(s, test_client_grouping);
}
