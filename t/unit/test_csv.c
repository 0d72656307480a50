/*
 * lcrm_csv: RFC 4180 quoting, NULL cells and the formula-injection guard
 * (API.md part 2 "Leads: series and export").
 */
#include "unit.h"
#include "lcrm_csv.h"

#include <apr_strings.h>
#include <string.h>

static const char *cell(const char *v, int text)
{
    char *buf = apr_palloc(lcrm_test_pool, lcrm_csv_cell_max(v) + 1);
    char *end = lcrm_csv_cell(buf, v, text);

    CU_ASSERT((apr_size_t)(end - buf) <= lcrm_csv_cell_max(v));
    *end = '\0';
    return buf;
}

static void test_plain(void)
{
    LCRM_ASSERT_STR(cell(NULL, 1), "");
    LCRM_ASSERT_STR(cell("", 1), "");
    LCRM_ASSERT_STR(cell("Ann", 1), "Ann");
    LCRM_ASSERT_STR(cell("Zoë 日本 🚀", 1), "Zoë 日本 🚀");
}

static void test_quoted(void)
{
    LCRM_ASSERT_STR(cell("a,b", 1), "\"a,b\"");
    LCRM_ASSERT_STR(cell("say \"hi\"", 1), "\"say \"\"hi\"\"\"");
    LCRM_ASSERT_STR(cell("l1\nl2", 1), "\"l1\nl2\"");
    LCRM_ASSERT_STR(cell("l1\r\nl2", 1), "\"l1\r\nl2\"");
    LCRM_ASSERT_STR(cell("\"", 1), "\"\"\"\"");
}

static void test_formula_guard(void)
{
    LCRM_ASSERT_STR(cell("=1+2", 1), "'=1+2");
    LCRM_ASSERT_STR(cell("+1 555", 1), "'+1 555");
    LCRM_ASSERT_STR(cell("-2", 1), "'-2");
    LCRM_ASSERT_STR(cell("@SUM(A1)", 1), "'@SUM(A1)");
    LCRM_ASSERT_STR(cell("\tx", 1), "'\tx");
    LCRM_ASSERT_STR(cell("\rx", 1), "\"'\rx\"");
    LCRM_ASSERT_STR(cell("=HYPERLINK(\"x\",\"y\")", 1),
                    "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
    LCRM_ASSERT_STR(cell("a=b", 1), "a=b");
    /* numbers are not text: no guard */
    LCRM_ASSERT_STR(cell("-2", 0), "-2");
}

void lcrm_test_register_csv(void)
{
    CU_pSuite s = lcrm_test_suite("csv");
    LCRM_TEST(s, test_plain);
    LCRM_TEST(s, test_quoted);
    LCRM_TEST(s, test_formula_guard);
}
