/*
 * Tests of lcrm_logjson_str: every input, however hostile, gives one valid
 * JSON string literal (checked by re-parsing with json-c).
 */
#include "unit.h"
#include "lcrm_logjson.h"

#include <json-c/json.h>
#include <string.h>

static void assert_roundtrip(const char *in, const char *want_lit)
{
    const char *lit = lcrm_logjson_str(lcrm_test_pool, in);
    json_tokener *tok = json_tokener_new();
    json_object *o;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, lit, (int)strlen(lit));
    CU_ASSERT_PTR_NOT_NULL(o);
    CU_ASSERT(o && json_object_is_type(o, json_type_string));
    if (want_lit) {
        LCRM_ASSERT_STR(lit, want_lit);
    }
    json_object_put(o);
    json_tokener_free(tok);
}

static void test_logjson_plain_and_escapes(void)
{
    assert_roundtrip("/api/leads", "\"/api/leads\"");
    assert_roundtrip("", "\"\"");
    assert_roundtrip(NULL, "\"-\"");
    assert_roundtrip("a\"b\\c", "\"a\\\"b\\\\c\"");
    assert_roundtrip("\x01\n\t\x1f\x7f", "\"\\u0001\\u000a\\u0009\\u001f\\u007f\"");
}

static void test_logjson_utf8(void)
{
    /* /api/leads/caf%C3%A9 decoded: kept as UTF-8 */
    assert_roundtrip("/api/leads/caf\xC3\xA9", "\"/api/leads/caf\xC3\xA9\"");
    assert_roundtrip("\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\"");
    /* invalid: lone continuation, truncated, overlong, surrogate, > U+10FFFF */
    assert_roundtrip("a\x80z", "\"a\xEF\xBF\xBDz\"");
    assert_roundtrip("\xC3", "\"\xEF\xBF\xBD\"");
    assert_roundtrip("\xC0\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    assert_roundtrip("\xED\xA0\x80", NULL);
    assert_roundtrip("\xF4\x90\x80\x80", NULL);
    assert_roundtrip("\xFF\xFE", "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

static void test_logjson_every_byte(void)
{
    char buf[256];
    int i;

    for (i = 1; i < 256; i++) {
        buf[i - 1] = (char)i;
    }
    buf[255] = '\0';
    assert_roundtrip(buf, NULL);
}

void lcrm_test_register_logjson(void)
{
    CU_pSuite s = lcrm_test_suite("logjson");
    LCRM_TEST(s, test_logjson_plain_and_escapes);
    LCRM_TEST(s, test_logjson_utf8);
    LCRM_TEST(s, test_logjson_every_byte);
}
