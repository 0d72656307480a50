/*
 * lcrm_validate: single-value checks (email, phone, URL, UUID, RFC 3339,
 * dates, text, passwords).
 */
#include "unit.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <string.h>

#define OK(expr) CU_ASSERT_PTR_NULL(expr)
#define BAD(expr) CU_ASSERT_PTR_NOT_NULL(expr)

/* Seconds since the epoch of an RFC 3339 string, or -1 when refused. */
static apr_int64_t secs(const char *s)
{
    apr_time_t t = 0;
    if (lcrm_parse_rfc3339(s, &t)) {
        return -1;
    }
    return (apr_int64_t)apr_time_sec(t);
}

static apr_int64_t msecs(const char *s)
{
    apr_time_t t = 0;
    if (lcrm_parse_rfc3339(s, &t)) {
        return -1;
    }
    return (apr_int64_t)apr_time_as_msec(t);
}

static void test_email(void)
{
    OK(lcrm_check_email("a@b.co"));
    OK(lcrm_check_email("first.last+tag@sub.example.com"));
    OK(lcrm_check_email("x_y-z@example-domain.org"));
    BAD(lcrm_check_email(""));
    BAD(lcrm_check_email("plain"));
    BAD(lcrm_check_email("@example.com"));
    BAD(lcrm_check_email("a@"));
    BAD(lcrm_check_email("a@example"));
    BAD(lcrm_check_email("a@@example.com"));
    BAD(lcrm_check_email("a@b@example.com"));
    BAD(lcrm_check_email("a b@example.com"));
    BAD(lcrm_check_email("a@exa mple.com"));
    BAD(lcrm_check_email("a@.example.com"));
    BAD(lcrm_check_email("a@example.com."));
    BAD(lcrm_check_email("a@example..com"));
    BAD(lcrm_check_email(".a@example.com"));
    BAD(lcrm_check_email("a.@example.com"));
    BAD(lcrm_check_email("a@example.c\x7f"));
    BAD(lcrm_check_email("<a>@example.com"));
    BAD(lcrm_check_email("a,b@example.com"));
    BAD(lcrm_check_email("a@example.c\n"));
    /* local part <= 64, whole <= 254 */
    {
        char local65[66], big[260];
        memset(local65, 'a', 65);
        local65[65] = '\0';
        BAD(lcrm_check_email(apr_pstrcat(lcrm_test_pool, local65, "@x.io", NULL)));
        local65[64] = '\0';
        OK(lcrm_check_email(apr_pstrcat(lcrm_test_pool, local65, "@x.io", NULL)));
        memset(big, 'b', sizeof(big));
        big[249] = '\0'; /* "a@" + 249 bytes + ".io" = 254 bytes */
        OK(lcrm_check_email(apr_pstrcat(lcrm_test_pool, "a@", big, ".io", NULL)));
        big[249] = 'b';
        big[250] = '\0';
        BAD(lcrm_check_email(apr_pstrcat(lcrm_test_pool, "a@", big, ".io", NULL)));
    }
}

static void test_normalize_email(void)
{
    const char *in = " \tMiXeD.Case@Example.COM \n";
    LCRM_ASSERT_STR(lcrm_normalize_email(lcrm_test_pool, in, strlen(in)),
                    "mixed.case@example.com");
    LCRM_ASSERT_STR(lcrm_normalize_email(lcrm_test_pool, "   ", 3), "");
    /* only the given length is used */
    LCRM_ASSERT_STR(lcrm_normalize_email(lcrm_test_pool, "AB@x.io-junk", 7),
                    "ab@x.io");
}

static void test_phone(void)
{
    OK(lcrm_check_phone("+1 (555) 010-9999"));
    OK(lcrm_check_phone("0612345678"));
    OK(lcrm_check_phone("+44.20.7946.0958"));
    OK(lcrm_check_phone("12345678901234567890123456789012"));   /* 32 */
    BAD(lcrm_check_phone("123456789012345678901234567890123")); /* 33 */
    BAD(lcrm_check_phone(""));
    BAD(lcrm_check_phone("+ ()-."));                            /* no digit */
    BAD(lcrm_check_phone("555-CALL"));
    BAD(lcrm_check_phone("555 0101 ext 2"));
    BAD(lcrm_check_phone("555\t0101"));
    BAD(lcrm_check_phone("\xd9\xa1\xd9\xa2\xd9\xa3"));           /* Arabic digits */
}

static void test_url(void)
{
    OK(lcrm_check_url("http://example.com", 0));
    OK(lcrm_check_url("https://example.com/path?q=1#f", 0));
    OK(lcrm_check_url("HTTPS://EXAMPLE.COM", 1));
    OK(lcrm_check_url("https://example.com:8443/", 1));
    BAD(lcrm_check_url("http://example.com", 1));
    BAD(lcrm_check_url("ftp://example.com", 0));
    BAD(lcrm_check_url("javascript:alert(1)", 0));
    BAD(lcrm_check_url("data:text/html,<b>", 0));
    BAD(lcrm_check_url("//example.com", 0));
    BAD(lcrm_check_url("example.com", 0));
    BAD(lcrm_check_url("http://", 0));
    BAD(lcrm_check_url("https:///path", 0));
    BAD(lcrm_check_url("http://?q", 0));
    BAD(lcrm_check_url("http://exa mple.com", 0));
    BAD(lcrm_check_url("http://example.com/\n", 0));
    BAD(lcrm_check_url("http://example.com/\x7f", 0));
    BAD(lcrm_check_url(" http://example.com", 0));
    LCRM_ASSERT_STR(lcrm_check_url("http://x.io", 1), "must be an https URL");
}

static void test_uuid(void)
{
    char *u;

    CU_ASSERT(lcrm_is_uuid("123e4567-e89b-12d3-a456-426614174000"));
    CU_ASSERT(lcrm_is_uuid("123E4567-E89B-12D3-A456-426614174000"));
    CU_ASSERT(lcrm_is_uuid("aBcDeF01-2345-6789-abcd-EF0123456789"));
    CU_ASSERT(lcrm_is_uuid("00000000-0000-0000-0000-000000000000"));
    CU_ASSERT(!lcrm_is_uuid(""));
    CU_ASSERT(!lcrm_is_uuid("123e4567e89b12d3a456426614174000"));
    CU_ASSERT(!lcrm_is_uuid("{123e4567-e89b-12d3-a456-426614174000}"));
    CU_ASSERT(!lcrm_is_uuid("123e4567-e89b-12d3-a456-42661417400"));
    CU_ASSERT(!lcrm_is_uuid("123e4567-e89b-12d3-a456-4266141740000"));
    CU_ASSERT(!lcrm_is_uuid("123e4567-e89b-12d3-a456_426614174000"));
    CU_ASSERT(!lcrm_is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
    CU_ASSERT(!lcrm_is_uuid("123e4567-e89b-12d3-a4567426614174000"));
    CU_ASSERT(!lcrm_is_uuid(" 23e4567-e89b-12d3-a456-426614174000"));
    u = lcrm_uuid_lower(lcrm_test_pool, "123E4567-E89B-12D3-A456-42661417400F");
    LCRM_ASSERT_STR(u, "123e4567-e89b-12d3-a456-42661417400f");
}

static void test_rfc3339_parse(void)
{
    OK(lcrm_parse_rfc3339("1970-01-01T00:00:00Z", &(apr_time_t){0}));
    LCRM_ASSERT_INT(secs("1970-01-01T00:00:00Z"), 0);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36Z"), 1795502436);
    LCRM_ASSERT_INT(secs("2026-11-24t06:40:36z"), 1795502436);
    LCRM_ASSERT_INT(msecs("2026-11-24T06:40:36.123Z"), 1795502436123LL);
    LCRM_ASSERT_INT(msecs("2026-11-24T06:40:36.1Z"), 1795502436100LL);
    LCRM_ASSERT_INT(msecs("2026-11-24T06:40:36.12Z"), 1795502436120LL);
    LCRM_ASSERT_INT(msecs("2026-11-24T06:40:36.001Z"), 1795502436001LL);
    /* offsets: local time minus offset */
    LCRM_ASSERT_INT(secs("2026-11-24T08:40:36+02:00"), 1795502436);
    LCRM_ASSERT_INT(secs("2026-11-24T01:10:36-05:30"), 1795502436);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36+00:00"), 1795502436);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36-00:00"), 1795502436);
    LCRM_ASSERT_INT(secs("2026-11-25T05:40:36+23:00"), 1795502436);
    LCRM_ASSERT_INT(msecs("2026-11-24T08:40:36.999+02:00"), 1795502436999LL);
    /* across a day and a year boundary */
    LCRM_ASSERT_INT(secs("2027-01-01T01:00:00+02:00"), 1798758000);
    LCRM_ASSERT_INT(secs("2026-12-31T23:00:00Z"), 1798758000);
    /* leap days */
    LCRM_ASSERT_INT(secs("2024-02-29T00:00:00Z"), 1709164800);
    LCRM_ASSERT_INT(secs("2000-02-29T12:00:00Z"), 951825600);
    LCRM_ASSERT_INT(secs("2025-02-29T00:00:00Z"), -1);
    LCRM_ASSERT_INT(secs("2100-02-29T00:00:00Z"), -1);
    LCRM_ASSERT_INT(secs("2026-04-31T00:00:00Z"), -1);
    LCRM_ASSERT_INT(secs("2026-12-31T23:59:59Z"), 1798761599);

    /* refused */
    BAD(lcrm_parse_rfc3339("2026-11-24T06:40:36.1234Z", &(apr_time_t){0}));
    LCRM_ASSERT_STR(lcrm_parse_rfc3339("2026-11-24T06:40:36.1234Z",
                                       &(apr_time_t){0}),
                    "must have at most millisecond precision");
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36.123456Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T24:00:00Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T23:60:00Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T23:59:60Z"), -1);
    LCRM_ASSERT_INT(secs("2026-13-01T00:00:00Z"), -1);
    LCRM_ASSERT_INT(secs("2026-00-01T00:00:00Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-00T00:00:00Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36"), -1);       /* no zone */
    LCRM_ASSERT_INT(secs("2026-11-24 06:40:36Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36.Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36+0200"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36+02"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36+24:00"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36+02:60"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36ZZ"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:40:36Z "), -1);
    LCRM_ASSERT_INT(secs(" 2026-11-24T06:40:36Z"), -1);
    LCRM_ASSERT_INT(secs("2026-1-24T06:40:36Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T6:40:36Z"), -1);
    LCRM_ASSERT_INT(secs("20a6-11-24T06:40:36Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24T06:4a:36Z"), -1);
    LCRM_ASSERT_INT(secs("2026-11-24"), -1);
    LCRM_ASSERT_INT(secs(""), -1);
    LCRM_ASSERT_INT(secs("1700000000"), -1);
}

static void test_rfc3339_format(void)
{
    static const char *const canon[] = {
        "1970-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z",
        "2026-11-24T06:40:36.123Z", "2099-12-31T00:00:00.001Z", NULL};
    const char *const *p;
    apr_time_t t;

    LCRM_ASSERT_STR(lcrm_format_rfc3339(lcrm_test_pool, 0),
                    "1970-01-01T00:00:00.000Z");
    LCRM_ASSERT_STR(lcrm_format_rfc3339(lcrm_test_pool,
                                        apr_time_from_sec(1795502436)
                                            + 123456),
                    "2026-11-24T06:40:36.123Z");       /* µs are truncated */
    for (p = canon; *p; p++) {
        CU_ASSERT_PTR_NULL(lcrm_parse_rfc3339(*p, &t));
        LCRM_ASSERT_STR(lcrm_format_rfc3339(lcrm_test_pool, t), *p);
    }
    CU_ASSERT_PTR_NULL(lcrm_parse_rfc3339("2026-11-24T08:40:36.5+02:00", &t));
    LCRM_ASSERT_STR(lcrm_format_rfc3339(lcrm_test_pool, t),
                    "2026-11-24T06:40:36.500Z");
}

static void test_date(void)
{
    int y = 0, m = 0, d = 0;

    OK(lcrm_parse_date("2026-11-24", &y, &m, &d));
    LCRM_ASSERT_INT(y, 2026);
    LCRM_ASSERT_INT(m, 11);
    LCRM_ASSERT_INT(d, 24);
    OK(lcrm_parse_date("2024-02-29", &y, &m, &d));
    LCRM_ASSERT_INT(d, 29);
    OK(lcrm_parse_date("2000-02-29", &y, &m, &d));
    OK(lcrm_parse_date("1970-01-01", &y, &m, &d));
    OK(lcrm_parse_date("9999-12-31", &y, &m, &d));
    BAD(lcrm_parse_date("2023-02-29", &y, &m, &d));
    BAD(lcrm_parse_date("1900-02-29", &y, &m, &d));
    BAD(lcrm_parse_date("2026-06-31", &y, &m, &d));
    BAD(lcrm_parse_date("2026-13-01", &y, &m, &d));
    BAD(lcrm_parse_date("2026-00-10", &y, &m, &d));
    BAD(lcrm_parse_date("2026-01-00", &y, &m, &d));
    BAD(lcrm_parse_date("2026-01-32", &y, &m, &d));
    BAD(lcrm_parse_date("1969-12-31", &y, &m, &d));
    BAD(lcrm_parse_date("2026/11/24", &y, &m, &d));
    BAD(lcrm_parse_date("2026-1-24", &y, &m, &d));
    BAD(lcrm_parse_date("26-11-24", &y, &m, &d));
    BAD(lcrm_parse_date("2026-11-2", &y, &m, &d));
    BAD(lcrm_parse_date("2026-1a-24", &y, &m, &d));
    BAD(lcrm_parse_date("", &y, &m, &d));
    BAD(lcrm_parse_date("2026-11-24x", &y, &m, &d));   /* found by fuzz_query */
    BAD(lcrm_parse_date("2026-11-24T00:00:00Z", &y, &m, &d));
}

static void test_text(void)
{
    apr_size_t cps = 0;

    OK(lcrm_check_text("h\xc3\xa9llo \xf0\x9f\x98\x80", 11, 0, &cps));
    LCRM_ASSERT_INT(cps, 7);
    OK(lcrm_check_text("", 0, 0, &cps));
    LCRM_ASSERT_INT(cps, 0);
    BAD(lcrm_check_text("a\nb", 3, 0, NULL));
    OK(lcrm_check_text("a\nb\tc", 5, 1, &cps));
    LCRM_ASSERT_INT(cps, 5);
    BAD(lcrm_check_text("a\rb", 3, 1, NULL));
    BAD(lcrm_check_text("a\0b", 3, 1, NULL));
    BAD(lcrm_check_text("\x1b[0m", 4, 0, NULL));
    BAD(lcrm_check_text("\xc2\x80", 2, 1, NULL));        /* C1 U+0080 */
    OK(lcrm_check_text("\xc2\xa0", 2, 0, NULL));         /* U+00A0 */
    BAD(lcrm_check_text("\xff", 1, 0, NULL));
    BAD(lcrm_check_text("\xc3", 1, 0, NULL));
    BAD(lcrm_check_text("\xc3(", 2, 0, NULL));
    BAD(lcrm_check_text("\xc0\x80", 2, 0, NULL));        /* overlong NUL */
    BAD(lcrm_check_text("\xe0\x80\xaf", 3, 0, NULL));    /* overlong / */
    BAD(lcrm_check_text("\xed\xa0\x80", 3, 0, NULL));    /* surrogate */
    BAD(lcrm_check_text("\xf4\x90\x80\x80", 4, 0, NULL)); /* > U+10FFFF */
    BAD(lcrm_check_text("\xf8\x88\x80\x80\x80", 5, 0, NULL));
    OK(lcrm_check_text("\xf4\x8f\xbf\xbf", 4, 0, NULL));  /* U+10FFFF */
    /* only len bytes are read */
    OK(lcrm_check_text("ab\xff", 2, 0, &cps));
    LCRM_ASSERT_INT(cps, 2);
}

static void test_check_password(void)
{
    char buf[80];

    OK(lcrm_check_password("12345678", 8));
    BAD(lcrm_check_password("1234567", 7));
    OK(lcrm_check_password("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                           "\xc3\xa9\xc3\xa9", 16));            /* 8 cps */
    BAD(lcrm_check_password("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                            "\xc3\xa9", 14));                   /* 7 cps */
    memset(buf, 'p', sizeof(buf));
    OK(lcrm_check_password(buf, 72));
    BAD(lcrm_check_password(buf, 73));
    BAD(lcrm_check_password("1234\0" "5678", 9));
    BAD(lcrm_check_password("1234567\xff", 8));
    BAD(lcrm_check_password("12345678\xc3", 9));
    OK(lcrm_check_password("pass\tword\n", 10));   /* controls allowed */
}

void lcrm_test_register_validate(void)
{
    CU_pSuite s = lcrm_test_suite("validate");
    LCRM_TEST(s, test_email);
    LCRM_TEST(s, test_normalize_email);
    LCRM_TEST(s, test_phone);
    LCRM_TEST(s, test_url);
    LCRM_TEST(s, test_uuid);
    LCRM_TEST(s, test_rfc3339_parse);
    LCRM_TEST(s, test_rfc3339_format);
    LCRM_TEST(s, test_date);
    LCRM_TEST(s, test_text);
    LCRM_TEST(s, test_check_password);
}
