/*
 * lcrm_fields: declarative body validation (API.md field rules: no
 * coercion, no unknown fields, lengths in code points, normalisation).
 */
#include "unit.h"
#include "lcrm_fields.h"
#include "lcrm_json.h"

#include <apr_strings.h>
#include <string.h>

static const char *const status_values[] = {"NEW", "CONTACTED", NULL};

enum {
    F_NAME, F_NOTES, F_EMAIL, F_PHONE, F_SITE, F_SECURE, F_OWNER, F_AT,
    F_STATUS, F_PASSWORD, F_SECRET, F_SCORE, F_VALUE, F_ACTIVE, F_NICK,
    F_COUNT
};

static const lcrm_field_t specs[] = {
    {"name", LCRM_FK_TEXT, LCRM_F_REQUIRED, 1, 100, NULL},
    {"notes", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 5000, NULL},
    {"email", LCRM_FK_EMAIL, 0, 3, 254, NULL},
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL},
    {"website", LCRM_FK_HTTP_URL, 0, 0, 2048, NULL},
    {"callback", LCRM_FK_HTTPS_URL, 0, 0, 2048, NULL},
    {"ownerId", LCRM_FK_UUID, LCRM_F_NULLABLE, 0, 36, NULL},
    /* max bounds the raw length of every string kind (4 bytes a code
       point), so timestamps and enums need one too */
    {"at", LCRM_FK_TIMESTAMP, 0, 0, 35, NULL},
    {"status", LCRM_FK_ENUM, 0, 0, 32, status_values},
    {"password", LCRM_FK_PASSWORD, 0, 0, 72, NULL},
    {"secret", LCRM_FK_SECRET, 0, 0, 16, NULL},
    {"score", LCRM_FK_INT, 0, 0, 100, NULL},
    {"value", LCRM_FK_MONEY, LCRM_F_NULLABLE, 0, APR_INT64_C(1000000000000),
     NULL},
    {"active", LCRM_FK_BOOL, 0, 0, 0, NULL},
    {"nick", LCRM_FK_TEXT, 0, 3, 5, NULL},
};

static lcrm_fields_t fields;

/* Parses body (a literal) and extracts it against specs. */
static apr_status_t run_spec(const lcrm_field_t *sp, int n, const char *body)
{
    json_object *o = NULL;
    const char *why = NULL;

    memset(&fields, 0, sizeof(fields));
    if (lcrm_json_parse_object(lcrm_test_pool, body, strlen(body), &o, &why)
        != APR_SUCCESS) {
        fprintf(stderr, "\n    test body does not parse (%s): %s\n", why, body);
        return APR_EGENERAL;
    }
    return lcrm_fields_extract(lcrm_test_pool, o, sp, n, &fields);
}

/* Runs body with a required "name" added. */
static apr_status_t run(const char *members)
{
    return run_spec(specs, F_COUNT,
                    apr_psprintf(lcrm_test_pool, "{\"name\":\"N\"%s%s}",
                                 *members ? "," : "", members));
}

/* The message reported for field, or NULL. */
static const char *error_for(const char *field)
{
    int i;
    if (!fields.errors) {
        return NULL;
    }
    for (i = 0; i < fields.errors->nelts; i++) {
        lcrm_field_error_t *e = &APR_ARRAY_IDX(fields.errors, i,
                                               lcrm_field_error_t);
        if (!strcmp(e->field, field)) {
            return e->message;
        }
    }
    return NULL;
}

static int nerrors(void)
{
    return fields.errors ? fields.errors->nelts : -1;
}

/* Accepted as a lone extra member, with the given SQL text. */
static int ok_as(const char *members, int idx, const char *want)
{
    if (run(members) != APR_SUCCESS || nerrors() != 0) {
        fprintf(stderr, "\n    rejected: %s (%s)\n", members,
                error_for(specs[idx].name) ? error_for(specs[idx].name) : "?");
        return 0;
    }
    return lcrm_test_streq(members, fields.values[idx], want);
}

/* Rejected with exactly one error, naming field. */
static int bad(const char *members, const char *field)
{
    if (run(members) != APR_EINVAL || nerrors() != 1 || !error_for(field)) {
        fprintf(stderr, "\n    not rejected as %s: %s\n", field, members);
        return 0;
    }
    return 1;
}

/* n copies of the UTF-8 sequence u. */
static const char *rep(const char *u, int n)
{
    char *s = apr_palloc(lcrm_test_pool, strlen(u) * (apr_size_t)n + 1), *p = s;
    int i;
    for (i = 0; i < n; i++) {
        memcpy(p, u, strlen(u));
        p += strlen(u);
    }
    *p = '\0';
    return s;
}

static const char *member(const char *name, const char *json_string_content)
{
    return apr_psprintf(lcrm_test_pool, "\"%s\":\"%s\"", name,
                        json_string_content);
}

static void test_minimal_and_present(void)
{
    CU_ASSERT_EQUAL(run(""), APR_SUCCESS);
    LCRM_ASSERT_INT(nerrors(), 0);
    LCRM_ASSERT_STR(fields.values[F_NAME], "N");
    CU_ASSERT_EQUAL(fields.present, (apr_uint64_t)1 << F_NAME);
    CU_ASSERT_PTR_NULL(fields.values[F_EMAIL]);

    CU_ASSERT_EQUAL(run("\"score\":7,\"notes\":null"), APR_SUCCESS);
    CU_ASSERT_EQUAL(fields.present, ((apr_uint64_t)1 << F_NAME)
                                        | ((apr_uint64_t)1 << F_SCORE)
                                        | ((apr_uint64_t)1 << F_NOTES));
    CU_ASSERT(lcrm_fields_has(&fields, specs, F_COUNT, "notes"));
    CU_ASSERT(lcrm_fields_has(&fields, specs, F_COUNT, "score"));
    CU_ASSERT(!lcrm_fields_has(&fields, specs, F_COUNT, "email"));
    CU_ASSERT(!lcrm_fields_has(&fields, specs, F_COUNT, "nosuch"));
    /* null is present but has no value */
    CU_ASSERT_PTR_NULL(lcrm_fields_get(&fields, specs, F_COUNT, "notes"));
    LCRM_ASSERT_STR(lcrm_fields_get(&fields, specs, F_COUNT, "score"), "7");
    LCRM_ASSERT_INT(lcrm_fields_index(specs, F_COUNT, "active"), F_ACTIVE);
    LCRM_ASSERT_INT(lcrm_fields_index(specs, F_COUNT, "Active"), -1);
}

static void test_unknown_and_required(void)
{
    CU_ASSERT_EQUAL(run("\"role\":\"ADMIN\""), APR_EINVAL);
    LCRM_ASSERT_INT(nerrors(), 1);
    LCRM_ASSERT_STR(error_for("role"), "is not a known field");
    CU_ASSERT_EQUAL(fields.present, (apr_uint64_t)1 << F_NAME);

    CU_ASSERT(bad("\"Name\":\"x\"", "Name")); /* keys are case-sensitive */

    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT, "{\"score\":1}"), APR_EINVAL);
    LCRM_ASSERT_INT(nerrors(), 1);
    LCRM_ASSERT_STR(error_for("name"), "is required");

    /* several errors are all reported */
    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT,
                             "{\"id\":1,\"passwordHash\":\"x\",\"score\":\"1\"}"),
                    APR_EINVAL);
    LCRM_ASSERT_INT(nerrors(), 4);
    CU_ASSERT_PTR_NOT_NULL(error_for("id"));
    CU_ASSERT_PTR_NOT_NULL(error_for("passwordHash"));
    CU_ASSERT_PTR_NOT_NULL(error_for("score"));
    CU_ASSERT_PTR_NOT_NULL(error_for("name"));

    /* required and null: null is refused for a non-nullable field */
    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT, "{\"name\":null}"), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("name"), "must not be null");
}

static void test_types_not_coerced(void)
{
    CU_ASSERT(bad("\"score\":\"2\"", "score"));
    CU_ASSERT(bad("\"score\":1.5", "score"));
    CU_ASSERT(bad("\"score\":2.0", "score"));
    CU_ASSERT(bad("\"score\":true", "score"));
    CU_ASSERT(bad("\"score\":[1]", "score"));
    CU_ASSERT(bad("\"nick\":2", "nick"));
    CU_ASSERT(bad("\"nick\":{\"a\":1}", "nick"));
    CU_ASSERT(bad("\"nick\":[\"abc\"]", "nick"));
    CU_ASSERT(bad("\"nick\":false", "nick"));
    CU_ASSERT(bad("\"active\":\"true\"", "active"));
    CU_ASSERT(bad("\"active\":1", "active"));
    CU_ASSERT(bad("\"value\":\"12.34\"", "value"));
    CU_ASSERT(bad("\"status\":1", "status"));
    CU_ASSERT(bad("\"password\":12345678", "password"));
    CU_ASSERT(ok_as("\"active\":true", F_ACTIVE, "true"));
    CU_ASSERT(ok_as("\"active\":false", F_ACTIVE, "false"));
    CU_ASSERT(ok_as("\"score\":2", F_SCORE, "2"));
    LCRM_ASSERT_STR(error_for("score"), NULL);
    CU_ASSERT_EQUAL(run("\"score\":\"2\""), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("score"), "must be an integer");
    CU_ASSERT_EQUAL(run("\"nick\":2"), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("nick"), "must be a string");
    CU_ASSERT_EQUAL(run("\"active\":\"true\""), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("active"), "must be a boolean");
}

static void test_null(void)
{
    CU_ASSERT(bad("\"nick\":null", "nick"));
    CU_ASSERT(bad("\"score\":null", "score"));
    CU_ASSERT(bad("\"active\":null", "active"));
    CU_ASSERT(bad("\"email\":null", "email"));
    CU_ASSERT(ok_as("\"notes\":null", F_NOTES, NULL));
    CU_ASSERT(ok_as("\"ownerId\":null", F_OWNER, NULL));
    CU_ASSERT(ok_as("\"value\":null", F_VALUE, NULL));
    CU_ASSERT(fields.present & ((apr_uint64_t)1 << F_VALUE));
}

static void test_text_content(void)
{
    CU_ASSERT(bad("\"nick\":\"ab\\u0000c\"", "nick"));
    CU_ASSERT_EQUAL(run("\"nick\":\"ab\\u0000c\""), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("nick"), "must not contain NUL characters");
    CU_ASSERT(bad("\"notes\":\"a\\u0000\"", "notes"));
    CU_ASSERT(bad("\"secret\":\"a\\u0000\"", "secret"));
    CU_ASSERT(bad("\"nick\":\"ab\\u0001c\"", "nick"));
    CU_ASSERT(bad("\"nick\":\"ab\\u007fc\"", "nick"));
    CU_ASSERT(bad("\"nick\":\"ab\\u0085c\"", "nick"));     /* C1 control */
    CU_ASSERT(bad("\"nick\":\"ab\\nc\"", "nick"));
    CU_ASSERT(bad("\"nick\":\"ab\\tc\"", "nick"));
    CU_ASSERT(bad("\"notes\":\"a\\u0001b\"", "notes"));
    CU_ASSERT(bad("\"notes\":\"a\\rb\"", "notes"));
    CU_ASSERT(ok_as("\"notes\":\"line 1\\nline 2\\tx\"", F_NOTES,
                    "line 1\nline 2\tx"));
    CU_ASSERT(ok_as("\"nick\":\"a\\u00e9\\u20ac\"", F_NICK,
                    "a\xc3\xa9\xe2\x82\xac"));
    /* a surrogate pair is one code point; a lone surrogate is refused */
    CU_ASSERT(ok_as("\"nick\":\"abc\\ud83d\\ude80\"", F_NICK, "abc\xf0\x9f\x9a\x80"));
}

static void test_lengths_in_code_points(void)
{
    const char *e100 = rep("\xc3\xa9", 100), *e101 = rep("\xc3\xa9", 101);

    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT, apr_psprintf(lcrm_test_pool,
                             "{\"name\":\"%s\"}", e100)), APR_SUCCESS);
    LCRM_ASSERT_STR(fields.values[F_NAME], e100);
    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT, apr_psprintf(lcrm_test_pool,
                             "{\"name\":\"%s\"}", e101)), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("name"), "is too long");
    /* 4-byte characters count once */
    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT, apr_psprintf(lcrm_test_pool,
                             "{\"name\":\"%s\"}", rep("\xf0\x9f\x98\x80", 100))),
                    APR_SUCCESS);
    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT, apr_psprintf(lcrm_test_pool,
                             "{\"name\":\"%s\"}", rep("a", 101))), APR_EINVAL);
    /* min length */
    CU_ASSERT_EQUAL(run_spec(specs, F_COUNT, "{\"name\":\"\"}"), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("name"), "must not be empty");
    CU_ASSERT(bad("\"nick\":\"ab\"", "nick"));
    CU_ASSERT(ok_as("\"nick\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"", F_NICK,
                    "\xc3\xa9\xc3\xa9\xc3\xa9"));         /* 3 cps, 6 bytes */
    CU_ASSERT(ok_as("\"nick\":\"abcde\"", F_NICK, "abcde"));
    CU_ASSERT(bad("\"nick\":\"abcdef\"", "nick"));
    CU_ASSERT_EQUAL(run("\"nick\":\"ab\""), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("nick"), "is too short");
    CU_ASSERT(ok_as("\"secret\":\"0123456789abcdef\"", F_SECRET,
                    "0123456789abcdef"));
    CU_ASSERT(bad("\"secret\":\"0123456789abcdefg\"", "secret"));
    CU_ASSERT(ok_as("\"secret\":\" \\\" any \\u00e9\"", F_SECRET,
                    " \" any \xc3\xa9"));
    CU_ASSERT(bad("\"secret\":\"\\u0001 any\"", "secret"));
}

static void test_email_url_phone(void)
{
    CU_ASSERT(ok_as("\"email\":\"  Alice.Smith@Example.COM \"", F_EMAIL,
                    "alice.smith@example.com"));
    CU_ASSERT(ok_as("\"email\":\"a+b@x.io\"", F_EMAIL, "a+b@x.io"));
    CU_ASSERT(bad("\"email\":\"not-an-email\"", "email"));
    CU_ASSERT(bad("\"email\":\"a@b\"", "email"));
    CU_ASSERT(bad("\"email\":\"a b@x.io\"", "email"));
    CU_ASSERT(bad("\"email\":\"\\ta@x.io\"", "email"));
    CU_ASSERT(bad(member("email", apr_pstrcat(lcrm_test_pool, rep("a", 64),
                                              "@", rep("b", 186), ".com",
                                              NULL)), "email"));
    CU_ASSERT(ok_as("\"phone\":\"+1 (555) 010-9999\"", F_PHONE,
                    "+1 (555) 010-9999"));
    CU_ASSERT(bad("\"phone\":\"call me\"", "phone"));
    CU_ASSERT(ok_as("\"website\":\"http://example.com/x?y=1\"", F_SITE,
                    "http://example.com/x?y=1"));
    CU_ASSERT(ok_as("\"website\":\"https://example.com\"", F_SITE,
                    "https://example.com"));
    CU_ASSERT(bad("\"website\":\"javascript:alert(1)\"", "website"));
    CU_ASSERT(bad("\"website\":\"ftp://example.com\"", "website"));
    CU_ASSERT(bad("\"callback\":\"http://example.com\"", "callback"));
    CU_ASSERT(ok_as("\"callback\":\"https://example.com/cb\"", F_SECURE,
                    "https://example.com/cb"));
    CU_ASSERT(bad(member("website", apr_pstrcat(lcrm_test_pool,
                         "https://x.io/", rep("a", 2048 - 13 + 1), NULL)),
                  "website"));
    CU_ASSERT(ok_as(member("website", apr_pstrcat(lcrm_test_pool,
                           "https://x.io/", rep("a", 2048 - 13), NULL)),
                    F_SITE, apr_pstrcat(lcrm_test_pool, "https://x.io/",
                                        rep("a", 2048 - 13), NULL)));
}

static void test_uuid_timestamp_enum(void)
{
    CU_ASSERT(ok_as("\"ownerId\":\"0E8A3C1F-5B7D-4C2A-9F1E-ABCDEF012345\"",
                    F_OWNER, "0e8a3c1f-5b7d-4c2a-9f1e-abcdef012345"));
    CU_ASSERT(bad("\"ownerId\":\"0e8a3c1f5b7d4c2a9f1eabcdef012345\"",
                  "ownerId"));
    CU_ASSERT(bad("\"ownerId\":\"0e8a3c1f-5b7d-4c2a-9f1e-abcdef01234\"",
                  "ownerId"));
    CU_ASSERT(bad("\"ownerId\":\"0e8a3c1f-5b7d-4c2a-9f1e-abcdef0123456\"",
                  "ownerId"));
    CU_ASSERT(bad("\"ownerId\":\"g0000000-0000-0000-0000-000000000000\"",
                  "ownerId"));

    CU_ASSERT(ok_as("\"at\":\"2026-11-24T06:40:36Z\"", F_AT,
                    "2026-11-24T06:40:36.000Z"));
    CU_ASSERT(ok_as("\"at\":\"2026-11-24T06:40:36.1Z\"", F_AT,
                    "2026-11-24T06:40:36.100Z"));
    CU_ASSERT(ok_as("\"at\":\"2026-11-24t08:40:36.123+02:00\"", F_AT,
                    "2026-11-24T06:40:36.123Z"));
    CU_ASSERT(ok_as("\"at\":\"2026-11-23T23:10:36.5-07:30\"", F_AT,
                    "2026-11-24T06:40:36.500Z"));
    CU_ASSERT(bad("\"at\":\"2026-11-24 06:40:36Z\"", "at"));
    CU_ASSERT(bad("\"at\":\"2026-11-24T06:40:36.1234Z\"", "at"));
    CU_ASSERT(bad("\"at\":\"2026-11-24\"", "at"));
    CU_ASSERT(bad("\"at\":1700000000", "at"));

    CU_ASSERT(ok_as("\"status\":\"CONTACTED\"", F_STATUS, "CONTACTED"));
    CU_ASSERT(bad("\"status\":\"contacted\"", "status"));
    CU_ASSERT(bad("\"status\":\"NEW \"", "status"));
    CU_ASSERT(bad("\"status\":\"\"", "status"));
    CU_ASSERT_EQUAL(run("\"status\":\"LOST\""), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("status"), "is not an allowed value");
}

static void test_money(void)
{
    CU_ASSERT(ok_as("\"value\":12.34", F_VALUE, "12.34"));
    CU_ASSERT(ok_as("\"value\":12", F_VALUE, "12.00"));
    CU_ASSERT(ok_as("\"value\":0", F_VALUE, "0.00"));
    CU_ASSERT(ok_as("\"value\":0.1", F_VALUE, "0.10"));
    CU_ASSERT(ok_as("\"value\":19.99", F_VALUE, "19.99"));
    CU_ASSERT(ok_as("\"value\":1.005e2", F_VALUE, "100.50"));
    CU_ASSERT(ok_as("\"value\":12.340", F_VALUE, "12.34"));
    CU_ASSERT(ok_as("\"value\":1e12", F_VALUE, "1000000000000.00"));
    CU_ASSERT(ok_as("\"value\":1000000000000", F_VALUE, "1000000000000.00"));
    CU_ASSERT(ok_as("\"value\":999999999999.99", F_VALUE, "999999999999.99"));
    CU_ASSERT(ok_as("\"value\":5000.01", F_VALUE, "5000.01"));
    CU_ASSERT(bad("\"value\":12.345", "value"));
    CU_ASSERT(bad("\"value\":0.001", "value"));
    CU_ASSERT(bad("\"value\":1000000000001", "value"));
    CU_ASSERT(bad("\"value\":1000000000000.01", "value"));
    CU_ASSERT(bad("\"value\":1e13", "value"));
    CU_ASSERT(bad("\"value\":-1", "value"));
    CU_ASSERT(bad("\"value\":-0.01", "value"));
    /* three decimals stay refused for large amounts too */
    CU_ASSERT(bad("\"value\":5000.005", "value"));
    CU_ASSERT(bad("\"value\":123456.789", "value"));
    CU_ASSERT(bad("\"value\":99999999.999", "value"));
    CU_ASSERT(bad("\"value\":999999999999.999", "value"));
    CU_ASSERT_EQUAL(run("\"value\":12.345"), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("value"), "must have at most 2 decimals");
    CU_ASSERT_EQUAL(run("\"value\":-1"), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("value"), "is out of range");
}

static void test_int_range(void)
{
    CU_ASSERT(ok_as("\"score\":0", F_SCORE, "0"));
    CU_ASSERT(ok_as("\"score\":100", F_SCORE, "100"));
    CU_ASSERT(ok_as("\"score\":-0", F_SCORE, "0"));
    CU_ASSERT(bad("\"score\":101", "score"));
    CU_ASSERT(bad("\"score\":-1", "score"));
    CU_ASSERT(bad("\"score\":1e2", "score"));        /* a double */
    CU_ASSERT(bad("\"score\":9223372036854775807", "score"));
    CU_ASSERT(bad("\"score\":18446744073709551616", "score"));
    CU_ASSERT(bad("\"score\":-9223372036854775809", "score"));
    CU_ASSERT_EQUAL(run("\"score\":101"), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("score"), "is out of range");
}

static void test_password(void)
{
    CU_ASSERT(bad(member("password", "1234567"), "password"));
    CU_ASSERT(ok_as(member("password", "12345678"), F_PASSWORD, "12345678"));
    /* 8 two-byte characters: 8 code points, 16 bytes */
    CU_ASSERT(ok_as(member("password", rep("\xc3\xa9", 8)), F_PASSWORD,
                    rep("\xc3\xa9", 8)));
    /* 7 four-byte characters: 28 bytes but 7 code points */
    CU_ASSERT(bad(member("password", rep("\xf0\x9f\x98\x80", 7)), "password"));
    CU_ASSERT(ok_as(member("password", rep("a", 72)), F_PASSWORD, rep("a", 72)));
    CU_ASSERT(bad(member("password", rep("a", 73)), "password"));
    CU_ASSERT(ok_as(member("password", rep("\xc3\xa9", 36)), F_PASSWORD,
                    rep("\xc3\xa9", 36)));                    /* 72 bytes */
    CU_ASSERT(bad(member("password", apr_pstrcat(lcrm_test_pool,
                         rep("\xc3\xa9", 36), "a", NULL)), "password"));
    CU_ASSERT(bad(member("password", "abcd\\u0000efgh"), "password"));
    /* spaces are kept; control characters are refused */
    CU_ASSERT(ok_as(member("password", "  pass word "), F_PASSWORD,
                    "  pass word "));
    CU_ASSERT(bad(member("password", "pass word\\t1"), "password"));
    CU_ASSERT(bad(member("password", "pass\\u007fword1"), "password"));
    CU_ASSERT_EQUAL(run(member("password", rep("a", 73))), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("password"), "must be at most 72 bytes");
    CU_ASSERT_EQUAL(run(member("password", "short")), APR_EINVAL);
    LCRM_ASSERT_STR(error_for("password"), "must be at least 8 characters");
}

static void test_many_fields_bitmask(void)
{
    /* 64 fields: the last bit of the mask is usable */
    lcrm_field_t big[64];
    char names[64][8];
    int i;

    for (i = 0; i < 64; i++) {
        sprintf(names[i], "f%d", i);
        big[i].name = names[i];
        big[i].kind = LCRM_FK_INT;
        big[i].flags = 0;
        big[i].min = 0;
        big[i].max = 1000;
        big[i].enum_values = NULL;
    }
    CU_ASSERT_EQUAL(run_spec(big, 64, "{\"f63\":63,\"f0\":0,\"f31\":31}"),
                    APR_SUCCESS);
    CU_ASSERT_EQUAL(fields.present, ((apr_uint64_t)1 << 63)
                                        | ((apr_uint64_t)1 << 31) | 1);
    LCRM_ASSERT_STR(fields.values[63], "63");
    LCRM_ASSERT_STR(fields.values[31], "31");
    CU_ASSERT_PTR_NULL(fields.values[32]);
}

void lcrm_test_register_fields(void)
{
    CU_pSuite s = lcrm_test_suite("fields");
    LCRM_TEST(s, test_minimal_and_present);
    LCRM_TEST(s, test_unknown_and_required);
    LCRM_TEST(s, test_types_not_coerced);
    LCRM_TEST(s, test_null);
    LCRM_TEST(s, test_text_content);
    LCRM_TEST(s, test_lengths_in_code_points);
    LCRM_TEST(s, test_email_url_phone);
    LCRM_TEST(s, test_uuid_timestamp_enum);
    LCRM_TEST(s, test_money);
    LCRM_TEST(s, test_int_range);
    LCRM_TEST(s, test_password);
    LCRM_TEST(s, test_many_fields_bitmask);
}
