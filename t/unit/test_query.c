/*
 * lcrm_query: strict query strings and page/limit
 * (API.md: "Unknown or repeated query parameters -> 400").
 */
#include "unit.h"
#include "lcrm_query.h"

#include <apr_strings.h>
#include <string.h>

static const char *const allowed[] = {"page", "limit", "search", "status",
                                      "sort", NULL};
static apr_table_t *q;
static const char *field, *why;

static apr_status_t parse(const char *args)
{
    q = NULL;
    field = why = NULL;
    return lcrm_query_parse(lcrm_test_pool, args, allowed, &q, &field, &why);
}

/* Refused, naming field. */
static int refused(const char *args, const char *want_field)
{
    if (parse(args) != APR_EINVAL || !why) {
        fprintf(stderr, "\n    accepted: %s\n", args);
        return 0;
    }
    return lcrm_test_streq(args, field, want_field);
}

static const char *get(const char *name)
{
    return q ? apr_table_get(q, name) : NULL;
}

static void test_accepts(void)
{
    LCRM_ASSERT_INT(parse(NULL), APR_SUCCESS);
    CU_ASSERT_FATAL(q != NULL);
    LCRM_ASSERT_INT(apr_table_elts(q)->nelts, 0);
    LCRM_ASSERT_INT(parse(""), APR_SUCCESS);
    LCRM_ASSERT_INT(apr_table_elts(q)->nelts, 0);

    LCRM_ASSERT_INT(parse("page=2&limit=50&search=acme"), APR_SUCCESS);
    LCRM_ASSERT_INT(apr_table_elts(q)->nelts, 3);
    LCRM_ASSERT_STR(get("page"), "2");
    LCRM_ASSERT_STR(get("limit"), "50");
    LCRM_ASSERT_STR(get("search"), "acme");
    CU_ASSERT_PTR_NULL(get("status"));
}

static void test_decoding(void)
{
    LCRM_ASSERT_INT(parse("search=a+b%20c"), APR_SUCCESS);
    LCRM_ASSERT_STR(get("search"), "a b c");
    LCRM_ASSERT_INT(parse("search=%41%62%2B%26%3d"), APR_SUCCESS);
    LCRM_ASSERT_STR(get("search"), "Ab+&=");
    LCRM_ASSERT_INT(parse("search=caf%C3%A9"), APR_SUCCESS);
    LCRM_ASSERT_STR(get("search"), "caf\xc3\xa9");
    LCRM_ASSERT_INT(parse("sort=-createdAt"), APR_SUCCESS);
    LCRM_ASSERT_STR(get("sort"), "-createdAt");
    /* empty values: "name=" and bare "name" */
    LCRM_ASSERT_INT(parse("search="), APR_SUCCESS);
    LCRM_ASSERT_STR(get("search"), "");
    LCRM_ASSERT_INT(parse("search&status=NEW"), APR_SUCCESS);
    LCRM_ASSERT_STR(get("search"), "");
    LCRM_ASSERT_STR(get("status"), "NEW");
    /* '=' inside the value */
    LCRM_ASSERT_INT(parse("search=a=b"), APR_SUCCESS);
    LCRM_ASSERT_STR(get("search"), "a=b");
    /* an encoded name */
    LCRM_ASSERT_INT(parse("%73earch=x"), APR_SUCCESS);
    LCRM_ASSERT_STR(get("search"), "x");
}

static void test_unknown_and_repeated(void)
{
    CU_ASSERT(refused("role=ADMIN", "role"));
    LCRM_ASSERT_STR(why, "is not a known parameter");
    CU_ASSERT(refused("page=1&isAdmin=1", "isAdmin"));
    CU_ASSERT(refused("Page=1", "Page"));
    CU_ASSERT(refused("page%00=1", "query"));
    CU_ASSERT(refused("=1", ""));                  /* an empty name */
    CU_ASSERT(refused("page=1&page=2", "page"));
    LCRM_ASSERT_STR(why, "must not be repeated");
    CU_ASSERT(refused("page=1&page=1", "page"));
    CU_ASSERT(refused("search=&search=", "search"));
    CU_ASSERT(refused("page=1&%70age=2", "page"));
    CU_ASSERT(refused("page[]=1", "page[]"));
}

static void test_bad_encoding(void)
{
    CU_ASSERT(refused("search=%zz", "search"));
    LCRM_ASSERT_STR(why, "has a malformed value");
    CU_ASSERT(refused("search=%4", "search"));
    CU_ASSERT(refused("search=%", "search"));
    CU_ASSERT(refused("search=abc%", "search"));
    CU_ASSERT(refused("search=%g1", "search"));
    CU_ASSERT(refused("search=%00", "search"));
    CU_ASSERT(refused("search=a%00b", "search"));
    CU_ASSERT(refused("search=%01", "search"));
    CU_ASSERT(refused("search=%0A", "search"));
    CU_ASSERT(refused("search=%7F", "search"));
    CU_ASSERT(refused("search=%ff", "search"));
    CU_ASSERT(refused("search=%C3", "search"));
    CU_ASSERT(refused("search=%C0%AF", "search"));
    CU_ASSERT(refused("%zz=1", "query"));
    CU_ASSERT(refused("se%ffarch=1", "query"));
}

static void test_empty_parameters(void)
{
    CU_ASSERT(refused("page=1&&limit=2", "query"));
    LCRM_ASSERT_STR(why, "has an empty parameter");
    CU_ASSERT(refused("page=1&", "query"));
    CU_ASSERT(refused("&page=1", "query"));
    CU_ASSERT(refused("&", "query"));
    CU_ASSERT(refused("&&", "query"));
}

static void test_lengths(void)
{
    char *v = apr_palloc(lcrm_test_pool, LCRM_QUERY_MAX_LEN + 2);

    memset(v, 'a', LCRM_QUERY_MAX_VALUE);
    v[LCRM_QUERY_MAX_VALUE] = '\0';
    LCRM_ASSERT_INT(parse(apr_pstrcat(lcrm_test_pool, "search=", v, NULL)),
                    APR_SUCCESS);
    LCRM_ASSERT_INT(strlen(get("search")), LCRM_QUERY_MAX_VALUE);
    v[LCRM_QUERY_MAX_VALUE] = 'a';
    v[LCRM_QUERY_MAX_VALUE + 1] = '\0';
    CU_ASSERT(refused(apr_pstrcat(lcrm_test_pool, "search=", v, NULL),
                      "search"));
    LCRM_ASSERT_STR(why, "is too long");
    memset(v, 'a', LCRM_QUERY_MAX_LEN + 1);
    v[LCRM_QUERY_MAX_LEN + 1] = '\0';
    memcpy(v, "search=", 7);
    CU_ASSERT(refused(v, "query"));
}

static apr_status_t page(const char *args, lcrm_page_t *pg)
{
    if (parse(args) != APR_SUCCESS) {
        fprintf(stderr, "\n    query refused: %s\n", args);
        return APR_EGENERAL;
    }
    field = why = NULL;
    return lcrm_query_page(q, pg, &field, &why);
}

static void test_page_limit(void)
{
    lcrm_page_t pg;

    LCRM_ASSERT_INT(page("", &pg), APR_SUCCESS);
    LCRM_ASSERT_INT(pg.page, 1);
    LCRM_ASSERT_INT(pg.limit, 20);
    LCRM_ASSERT_INT(pg.offset, 0);

    LCRM_ASSERT_INT(page("page=3&limit=10", &pg), APR_SUCCESS);
    LCRM_ASSERT_INT(pg.page, 3);
    LCRM_ASSERT_INT(pg.limit, 10);
    LCRM_ASSERT_INT(pg.offset, 20);

    LCRM_ASSERT_INT(page("limit=1", &pg), APR_SUCCESS);
    LCRM_ASSERT_INT(pg.limit, 1);
    LCRM_ASSERT_INT(page("limit=100&page=1000000", &pg), APR_SUCCESS);
    LCRM_ASSERT_INT(pg.offset, APR_INT64_C(99999900));

    LCRM_ASSERT_INT(page("limit=0", &pg), APR_EINVAL);
    LCRM_ASSERT_STR(field, "limit");
    LCRM_ASSERT_INT(page("limit=101", &pg), APR_EINVAL);
    LCRM_ASSERT_STR(field, "limit");
    LCRM_ASSERT_INT(page("limit=-1", &pg), APR_EINVAL);
    LCRM_ASSERT_INT(page("limit=", &pg), APR_EINVAL);
    LCRM_ASSERT_STR(field, "limit");
    LCRM_ASSERT_INT(page("limit=+5", &pg), APR_EINVAL);
    LCRM_ASSERT_INT(page("limit=5.0", &pg), APR_EINVAL);
    LCRM_ASSERT_INT(page("page=0", &pg), APR_EINVAL);
    LCRM_ASSERT_STR(field, "page");
    LCRM_ASSERT_INT(page("page=1x", &pg), APR_EINVAL);
    LCRM_ASSERT_STR(field, "page");
    LCRM_ASSERT_STR(why, "must be an integer");
    LCRM_ASSERT_INT(page("page=1000001", &pg), APR_EINVAL);
    LCRM_ASSERT_INT(page("page=%201", &pg), APR_EINVAL);
    LCRM_ASSERT_INT(page("page=99999999999999999999", &pg), APR_EINVAL);
    LCRM_ASSERT_STR(field, "page");
}

void lcrm_test_register_query(void)
{
    CU_pSuite s = lcrm_test_suite("query");
    LCRM_TEST(s, test_accepts);
    LCRM_TEST(s, test_decoding);
    LCRM_TEST(s, test_unknown_and_repeated);
    LCRM_TEST(s, test_bad_encoding);
    LCRM_TEST(s, test_empty_parameters);
    LCRM_TEST(s, test_lengths);
    LCRM_TEST(s, test_page_limit);
}
