/*
 * CUnit runner for the httpd-free core (make check runs it).
 * Exits 0 only when every registered test ran and none failed.
 */
#include "unit.h"

#include <apr_general.h>
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

apr_pool_t *lcrm_test_pool;

static void test_setup(void)
{
    if (apr_pool_create(&lcrm_test_pool, NULL) != APR_SUCCESS) {
        fprintf(stderr, "cannot create the test pool\n");
        exit(2);
    }
}

static void test_teardown(void)
{
    apr_pool_destroy(lcrm_test_pool);
    lcrm_test_pool = NULL;
}

CU_pSuite lcrm_test_suite(const char *name)
{
    CU_pSuite s = CU_add_suite_with_setup_and_teardown(
        name, NULL, NULL, test_setup, test_teardown);
    if (!s) {
        fprintf(stderr, "cannot add suite %s: %s\n", name, CU_get_error_msg());
        exit(2);
    }
    return s;
}

void lcrm_test_add(CU_pSuite suite, const char *name, CU_TestFunc fn)
{
    if (!CU_add_test(suite, name, fn)) {
        fprintf(stderr, "cannot add test %s: %s\n", name, CU_get_error_msg());
        exit(2);
    }
}

int lcrm_test_streq(const char *what, const char *got, const char *want)
{
    if (got && want && !strcmp(got, want)) {
        return 1;
    }
    if (!got && !want) {
        return 1;
    }
    fprintf(stderr, "\n    %s: got \"%s\", want \"%s\"\n", what,
            got ? got : "(null)", want ? want : "(null)");
    return 0;
}

int lcrm_test_inteq(const char *what, long long got, long long want)
{
    if (got == want) {
        return 1;
    }
    fprintf(stderr, "\n    %s: got %lld, want %lld\n", what, got, want);
    return 0;
}

int main(void)
{
    unsigned failures, asserts_failed;
    int ran_ok;

    if (apr_initialize() != APR_SUCCESS) {
        fprintf(stderr, "apr_initialize failed\n");
        return 2;
    }
    atexit(apr_terminate);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "CU_initialize_registry: %s\n", CU_get_error_msg());
        return 2;
    }

    lcrm_test_register_json();
    lcrm_test_register_fields();
    lcrm_test_register_validate();
    lcrm_test_register_route();
    lcrm_test_register_password();
    lcrm_test_register_token();
    lcrm_test_register_parse();
    lcrm_test_register_query();
    lcrm_test_register_ratelimit();
    lcrm_test_register_aead();
    lcrm_test_register_logjson();
    lcrm_test_register_trace_ctx();
    lcrm_test_register_mime();
    lcrm_test_register_cursor();
    lcrm_test_register_cachekey();
    lcrm_test_register_csv();
    lcrm_test_register_schema();
    lcrm_test_register_totp();

    CU_basic_set_mode(CU_BRM_VERBOSE);
    ran_ok = CU_basic_run_tests() == CUE_SUCCESS;
    CU_basic_show_failures(CU_get_failure_list());
    printf("\n");

    failures = CU_get_number_of_failures();
    asserts_failed = CU_get_number_of_tests_failed()
                     + CU_get_number_of_suites_failed()
                     + CU_get_number_of_failure_records();
    printf("lcrm unit: %u tests run, %u asserts, %u failed asserts, "
           "%u failed tests\n",
           CU_get_number_of_tests_run(), CU_get_number_of_asserts(), failures,
           CU_get_number_of_tests_failed());
    CU_cleanup_registry();
    return (!ran_ok || failures || asserts_failed) ? 1 : 0;
}
