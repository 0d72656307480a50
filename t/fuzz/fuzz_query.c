/*
 * fuzz_query: the query string of a request (r->args).
 *
 * An input is a query string (a NUL ends it early, as in httpd).  It is
 * parsed by lcrm_query_parse against each endpoint's list of accepted
 * names; an accepted table goes through lcrm_query_page, and its date
 * values through lcrm_parse_rfc3339 / lcrm_parse_date, as the handlers do.
 * The whole input is also given to both date parsers directly.
 *
 * Invariants: an accepted table holds only accepted names, once each, with
 * values free of control characters and at most LCRM_QUERY_MAX_VALUE
 * bytes; page and limit lie in their ranges and offset = (page-1)*limit;
 * an accepted date-time has millisecond precision and, formatted back,
 * parses to the same instant; an accepted date is a real calendar day.
 */
#include "fuzz.h"
#include "lcrm_query.h"
#include "lcrm_validate.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <string.h>

static const char *const users_list[] = {
    "page", "limit", "search", "role", "isActive", "sort", NULL
};
static const char *const leads_list[] = {
    "page", "limit", "status", "source", "assignedToId", "search",
    "createdFrom", "createdTo", "sort", NULL
};
static const char *const leads_stats[] = {"from", "to", NULL};
static const char *const consultations_list[] = {
    "page", "limit", "status", "from", "to", "consultantId", "leadId",
    "sort", NULL
};
static const char *const availability[] = {
    "date", "durationMinutes", "consultantId", NULL
};
static const char *const nothing[] = {NULL};

static const char *const *const lists[] = {
    users_list, leads_list, leads_stats, consultations_list, availability,
    nothing,
};

static const char *const time_names[] = {
    "createdFrom", "createdTo", "from", "to", NULL
};

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&root, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

static int listed(const char *const *names, const char *s)
{
    for (; *names; names++) {
        if (!strcmp(*names, s)) {
            return 1;
        }
    }
    return 0;
}

static void check_datetime(apr_pool_t *p, const char *s)
{
    apr_time_t t = 0, again = 0;
    const char *text;

    if (lcrm_parse_rfc3339(s, &t)) {
        return;
    }
    FUZZ_CHECK(t % 1000 == 0, "date-time finer than a millisecond");
    text = lcrm_format_rfc3339(p, t);
    if (strlen(text) != 24 || strncmp(text, "1970", 4) < 0) {
        return;  /* an offset moved it outside 1970..9999: not re-parsable */
    }
    FUZZ_CHECK(!lcrm_parse_rfc3339(text, &again) && again == t,
               "formatted date-time does not parse to the same instant");
}

static void check_date(const char *s)
{
    int y = 0, m = 0, d = 0;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (lcrm_parse_date(s, &y, &m, &d)) {
        return;
    }
    FUZZ_CHECK(strlen(s) == 10, "date with trailing characters accepted");
    FUZZ_CHECK(y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1
               && d <= mdays[m - 1], "accepted date out of range");
    FUZZ_CHECK(!(m == 2 && d == 29)
               || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)),
               "29 February accepted in a common year");
}

static void check_table(apr_pool_t *p, apr_table_t *q,
                        const char *const *names)
{
    const apr_array_header_t *arr = apr_table_elts(q);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    lcrm_page_t pg;
    const char *field = NULL, *why = NULL;
    int i, j;

    for (i = 0; i < arr->nelts; i++) {
        FUZZ_CHECK(listed(names, e[i].key), "unlisted name accepted");
        for (j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(e[i].key, e[j].key), "repeated name accepted");
        }
        FUZZ_CHECK(!lcrm_check_text(e[i].val, strlen(e[i].val), 0, NULL),
                   "value with control characters accepted");
        FUZZ_CHECK(strlen(e[i].val) <= LCRM_QUERY_MAX_VALUE,
                   "over-long value accepted");
        if (listed(time_names, e[i].key)) {
            check_datetime(p, e[i].val);
        }
        else if (!strcmp(e[i].key, "date")) {
            check_date(e[i].val);
        }
    }
    if (lcrm_query_page(q, &pg, &field, &why) == APR_SUCCESS) {
        FUZZ_CHECK(pg.page >= 1 && pg.page <= 1000000 && pg.limit >= 1
                   && pg.limit <= 100 && pg.offset == (pg.page - 1) * pg.limit,
                   "page out of range");
    }
    else {
        FUZZ_CHECK(field && why, "page refused without a reason");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *args = size ? strndup((const char *)data, size) : strdup("");
    size_t i;

    if (!args || apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        apr_table_t *q = NULL;
        const char *field = NULL, *why = NULL;
        if (lcrm_query_parse(p, args, lists[i], &q, &field, &why)
            == APR_SUCCESS) {
            check_table(p, q, lists[i]);
        }
        else {
            FUZZ_CHECK(field && why, "query refused without a reason");
            FUZZ_NOTE("  list %zu: %s %s\n", i, field, why);
        }
    }
    check_datetime(p, args);
    check_date(args);
    free(args);
    apr_pool_destroy(p);
    return 0;
}
