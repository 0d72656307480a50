/*
 * Shared declarations of the CUnit suite for the httpd-free core.
 *
 * Every test runs with a fresh pool (lcrm_test_pool) made by the suite's
 * set-up and destroyed by its tear-down, so pool cleanups (json-c
 * references, files) run between tests.  This header includes neither
 * json-c nor libjwt headers: test_token.c includes jwt.h, the others
 * json-c (PITFALLS.md: never both in one file).
 */
#ifndef LCRM_UNIT_H
#define LCRM_UNIT_H

#include <apr_pools.h>
#include <CUnit/CUnit.h>

#ifndef LCRM_TEST_DATA
#define LCRM_TEST_DATA "t/unit/data"
#endif

/* The per-test pool. */
extern apr_pool_t *lcrm_test_pool;

/* Adds a suite whose tests each get a fresh lcrm_test_pool. */
CU_pSuite lcrm_test_suite(const char *name);

/* Adds a test; aborts the run when CUnit cannot register it. */
void lcrm_test_add(CU_pSuite suite, const char *name, CU_TestFunc fn);
#define LCRM_TEST(suite, fn) lcrm_test_add((suite), #fn, (fn))

/* NULL-safe string equality; prints both values to stderr on mismatch. */
int lcrm_test_streq(const char *what, const char *got, const char *want);
#define LCRM_ASSERT_STR(got, want) \
    CU_ASSERT(lcrm_test_streq(#got, (got), (want)))

/* Integer equality that prints both values to stderr on mismatch. */
int lcrm_test_inteq(const char *what, long long got, long long want);
#define LCRM_ASSERT_INT(got, want) \
    CU_ASSERT(lcrm_test_inteq(#got, (long long)(got), (long long)(want)))

/* Suites, one per test_*.c file. */
void lcrm_test_register_json(void);
void lcrm_test_register_fields(void);
void lcrm_test_register_validate(void);
void lcrm_test_register_route(void);
void lcrm_test_register_password(void);
void lcrm_test_register_token(void);
void lcrm_test_register_parse(void);
void lcrm_test_register_query(void);
void lcrm_test_register_ratelimit(void);
void lcrm_test_register_aead(void);
void lcrm_test_register_logjson(void);
void lcrm_test_register_trace_ctx(void);
void lcrm_test_register_mime(void);
void lcrm_test_register_cursor(void);
void lcrm_test_register_cachekey(void);
void lcrm_test_register_csv(void);
void lcrm_test_register_schema(void);
void lcrm_test_register_totp(void);

#endif
