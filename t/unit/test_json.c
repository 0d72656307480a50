/*
 * lcrm_json: the strict JSON rules of API.md ("Parsing is strict").
 */
#include "unit.h"
#include "lcrm_json.h"

#include <apr_strings.h>
#include <string.h>

/* Parses a NUL-terminated literal as a request body. */
static apr_status_t parse(const char *s, json_object **out, const char **why)
{
    return lcrm_json_parse_object(lcrm_test_pool, s, strlen(s), out, why);
}

static int accepted(const char *s)
{
    json_object *o = (json_object *)1;
    const char *why = NULL;
    apr_status_t rv = parse(s, &o, &why);
    return rv == APR_SUCCESS && o != NULL
           && json_object_is_type(o, json_type_object);
}

/* Rejected with APR_EINVAL, *out cleared and a reason given. */
static int rejected(const char *buf, apr_size_t len)
{
    json_object *o = (json_object *)1;
    const char *why = NULL;
    apr_status_t rv = lcrm_json_parse_object(lcrm_test_pool, buf, len, &o,
                                             &why);
    return rv == APR_EINVAL && o == NULL && why != NULL && *why;
}
#define REJECTED(lit) rejected((lit), strlen(lit))

/*
 * n nested containers (objects, or arrays when arrays is set); the top
 * level is always an object and counts as level 1.  leaf goes in the
 * innermost one ("" for an empty container).
 */
static const char *nested(int n, int arrays, const char *leaf)
{
    const char *s;
    int level;

    /* the innermost container, at level n */
    if (n > 1 && arrays) {
        s = apr_psprintf(lcrm_test_pool, "[%s]", leaf);
    }
    else {
        s = *leaf ? apr_psprintf(lcrm_test_pool, "{\"k\":%s}", leaf) : "{}";
    }
    /* wrap it in levels n-1 .. 2, then in the top-level object */
    for (level = n - 1; level >= 1; level--) {
        s = (arrays && level > 1)
                ? apr_psprintf(lcrm_test_pool, "[%s]", s)
                : apr_psprintf(lcrm_test_pool, "{\"k\":%s}", s);
    }
    return s;
}

static void test_valid_object(void)
{
    json_object *o = NULL, *v;
    const char *why = NULL;

    CU_ASSERT_EQUAL(parse("{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":-2.5}}",
                          &o, &why), APR_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT(json_object_object_get_ex(o, "c", &v));
    CU_ASSERT(json_object_is_type(v, json_type_object));
    CU_ASSERT(accepted("{}"));
    CU_ASSERT(accepted(" \t\r\n{\"a\":\"b\"} \n"));
    CU_ASSERT(accepted("{\"name\":\"Zo\\u00e9 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}"));
    CU_ASSERT(accepted("{\"big\":1e300,\"neg\":-0.0,\"int\":-9223372036854775808}"));
}

static void test_trailing_data(void)
{
    CU_ASSERT(REJECTED("{\"a\":1}x"));
    CU_ASSERT(REJECTED("{\"a\":1}{}"));
    CU_ASSERT(REJECTED("{\"a\":1} 1"));
    CU_ASSERT(REJECTED("{\"a\":1}}"));
    CU_ASSERT(REJECTED("{\"a\":1"));          /* truncated */
    CU_ASSERT(REJECTED("{\"a\":1,}"));        /* trailing comma */
    CU_ASSERT(REJECTED("{'a':1}"));           /* single-quoted key */
    CU_ASSERT(REJECTED("{\"a\":'x'}"));       /* single-quoted value */
    CU_ASSERT(REJECTED("{\"a\":1,'a':2}"));
    CU_ASSERT(accepted("{\"it's\":\"'\"}"));    /* quotes inside strings */
    CU_ASSERT(REJECTED("{\"a\":\"tab\there\"}"));  /* raw control char */
    CU_ASSERT(REJECTED("{\"a\":\"nl\nhere\"}"));
    CU_ASSERT(accepted("{\"a\":\"tab\\there\"}"));
    CU_ASSERT(REJECTED("{\"a\":TRUE}"));
    CU_ASSERT(REJECTED("{\"a\":+1}"));
    CU_ASSERT(REJECTED("{\"a\":.5}"));
    CU_ASSERT(REJECTED("{\"a\":\"\\x41\"}"));    /* bad escape */
    CU_ASSERT(REJECTED("{a:1}"));             /* bare key */
    CU_ASSERT(REJECTED("{\"a\":01}"));        /* leading zero */
    CU_ASSERT(REJECTED("{\"a\":1} /* c */"));
}

static void test_non_finite(void)
{
    CU_ASSERT(REJECTED("{\"a\":NaN}"));
    CU_ASSERT(REJECTED("{\"a\":nan}"));
    CU_ASSERT(REJECTED("{\"a\":Infinity}"));
    CU_ASSERT(REJECTED("{\"a\":-Infinity}"));
    CU_ASSERT(REJECTED("{\"a\":[1,Infinity]}"));
    CU_ASSERT(REJECTED("{\"a\":1e400}"));     /* overflows to inf */
    CU_ASSERT(REJECTED("{\"a\":-1e400}"));
}

static void test_invalid_utf8(void)
{
    CU_ASSERT(REJECTED("{\"a\":\"\xff\"}"));
    CU_ASSERT(REJECTED("{\"\xff\":1}"));
    CU_ASSERT(REJECTED("{\"a\":\"\xc3\"}"));               /* truncated */
    CU_ASSERT(REJECTED("{\"a\":\"\xc0\xaf\"}"));           /* overlong */
    CU_ASSERT(REJECTED("{\"a\":\"\xed\xa0\x80\"}"));       /* surrogate */
    CU_ASSERT(REJECTED("{\"a\":\"\\ud800\"}"));            /* lone high */
    CU_ASSERT(REJECTED("{\"a\":\"\\udc00x\"}"));           /* lone low */
    CU_ASSERT(REJECTED("{\"a\":\"\\ud800\\u0041\"}"));     /* high + non-low */
    CU_ASSERT(!REJECTED("{\"a\":\"\\ud83d\\ude80\"}"));    /* a pair */
    CU_ASSERT(REJECTED("{\"a\":\"\xe0\x80\xaf\"}"));       /* overlong */
    CU_ASSERT(REJECTED("{\"a\":\"\xf4\x90\x80\x80\"}"));   /* > U+10FFFF */
    CU_ASSERT(REJECTED("{\"a\":\"\xf8\x88\x80\x80\x80\"}"));
    CU_ASSERT(REJECTED("{\"\xed\xbf\xbf\":1}"));            /* in a key */
    CU_ASSERT(REJECTED("{\"a\":\"x\\\"\xc0\xaf\"}"));     /* after \" */
    /* well-formed multi-byte text at the edges of the ranges */
    CU_ASSERT(accepted("{\"a\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf"
                       "\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}"));
    {
        json_object *o = NULL;
        const char *why = NULL;
        CU_ASSERT_EQUAL(parse("{\"a\":\"\xed\xa0\x80\"}", &o, &why),
                        APR_EINVAL);
        LCRM_ASSERT_STR(why, "body is not valid UTF-8");
    }
}

static void test_top_level_not_object(void)
{
    json_object *o = (json_object *)1;
    const char *why = NULL;

    CU_ASSERT(REJECTED("[]"));
    CU_ASSERT(REJECTED("[{\"a\":1}]"));
    CU_ASSERT(REJECTED("\"a string\""));
    CU_ASSERT(REJECTED("42"));
    CU_ASSERT(REJECTED("-1.5"));
    CU_ASSERT(REJECTED("true"));
    CU_ASSERT(REJECTED("null"));
    CU_ASSERT_EQUAL(parse("[1]", &o, &why), APR_EINVAL);
    LCRM_ASSERT_STR(why, "the JSON body must be an object");
    /* lcrm_json_parse_value takes any top level */
    CU_ASSERT_EQUAL(lcrm_json_parse_value(lcrm_test_pool, "[1]", 3, 4, &o,
                                          &why), APR_SUCCESS);
    CU_ASSERT(o && json_object_is_type(o, json_type_array));
}

static void test_duplicate_keys(void)
{
    json_object *o = NULL;
    const char *why = NULL;

    CU_ASSERT(REJECTED("{\"a\":1,\"a\":1}"));
    CU_ASSERT(REJECTED("{\"a\":1,\"b\":2,\"a\":3}"));
    CU_ASSERT(REJECTED("{\"a\":{\"b\":1,\"b\":2}}"));
    CU_ASSERT(REJECTED("{\"list\":[{\"x\":1,\"x\":1}]}"));
    CU_ASSERT(REJECTED("{\"list\":[{\"x\":1},{\"y\":1,\"y\":{}}]}"));
    CU_ASSERT(REJECTED("{\"a\":{\"x\":1},\"a\":{\"y\":2}}"));
    CU_ASSERT(REJECTED("{\"a\":1,\"\\u0061\":2}"));   /* same key, escaped */
    CU_ASSERT_EQUAL(parse("{\"a\":{\"b\":1,\"b\":2}}", &o, &why), APR_EINVAL);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_PTR_NOT_NULL(why);
    /* the same key in different objects is fine */
    CU_ASSERT(accepted("{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}"));
    CU_ASSERT(accepted("{\"a\":1,\"A\":1}"));
}

static void test_strings_do_not_confuse_scanner(void)
{
    json_object *o = NULL, *v;
    const char *why = NULL;

    CU_ASSERT(accepted("{\"a\":\"}{\\\"\",\"b\":\"x:y\"}"));
    CU_ASSERT(accepted("{\"k:{\":\"[\",\"x\\\\\":\":\"}"));
    CU_ASSERT(accepted("{\"a\":\"\\\\\",\"b\":\"{\\\"c\\\":1,\\\"c\\\":2}\"}"));
    CU_ASSERT_EQUAL(parse("{\"a\":\"}{\\\"\",\"b\":\"x:y\"}", &o, &why),
                    APR_SUCCESS);
    CU_ASSERT_FATAL(o != NULL);
    CU_ASSERT(json_object_object_get_ex(o, "b", &v));
    LCRM_ASSERT_STR(json_object_get_string(v), "x:y");
    LCRM_ASSERT_STR(lcrm_json_get_str(o, "a", NULL), "}{\"");
    /* a duplicate after a tricky string is still seen */
    CU_ASSERT(REJECTED("{\"a\":\"}{\\\"\",\"b\":\"x:y\",\"a\":\"\"}"));
}

/*
 * API.md: "nesting deeper than 16 -> 400".  The top-level object is
 * level 1; each nested object or array adds a level, so 16 containers are
 * accepted (empty or holding a scalar) and 17 are refused.
 */
static void test_depth(void)
{
    json_object *o = NULL;
    const char *why = NULL, *s;

    /* the helper itself */
    LCRM_ASSERT_STR(nested(1, 0, ""), "{}");
    LCRM_ASSERT_STR(nested(3, 0, "1"), "{\"k\":{\"k\":{\"k\":1}}}");
    LCRM_ASSERT_STR(nested(3, 1, "1"), "{\"k\":[[1]]}");
    LCRM_ASSERT_STR(nested(2, 1, ""), "{\"k\":[]}");

    CU_ASSERT(accepted(nested(16, 0, "")));
    CU_ASSERT(accepted(nested(16, 0, "1")));
    CU_ASSERT(accepted(nested(16, 0, "\"leaf\"")));
    CU_ASSERT(accepted(nested(16, 1, "")));
    CU_ASSERT(accepted(nested(16, 1, "1,2")));
    CU_ASSERT(REJECTED(nested(17, 0, "")));
    CU_ASSERT(REJECTED(nested(17, 0, "1")));
    CU_ASSERT(REJECTED(nested(17, 1, "")));
    CU_ASSERT(REJECTED(nested(17, 1, "1")));
    CU_ASSERT(REJECTED(nested(40, 1, "")));

    s = nested(17, 0, "1");
    CU_ASSERT_EQUAL(parse(s, &o, &why), APR_EINVAL);
    LCRM_ASSERT_STR(why, "JSON nesting is too deep");
}

static void test_empty_and_nul(void)
{
    static const char with_nul[] = "{\"a\":\"x\0y\"}";
    static const char nul_after[] = "{\"a\":1}\0";

    CU_ASSERT(rejected("", 0));
    CU_ASSERT(rejected("{}", 0));               /* len 0 wins */
    CU_ASSERT(REJECTED("   "));
    CU_ASSERT(REJECTED("\n"));
    CU_ASSERT(rejected(with_nul, sizeof(with_nul) - 1));
    CU_ASSERT(rejected(nul_after, sizeof(nul_after) - 1));
    CU_ASSERT(accepted("{\"a\":\"x\\u0000y\"}"));   /* an escaped NUL parses */
    CU_ASSERT(rejected("{\"a\":1}", 6));         /* shortened: truncated */
    CU_ASSERT(!rejected("{\"a\":1}xyz", 7));     /* len bounds the body */
}

static void test_helpers(void)
{
    json_object *o = NULL;
    const char *why = NULL;
    apr_size_t len = 0;

    CU_ASSERT_EQUAL_FATAL(parse("{\"s\":\"a/b\",\"n\":1,\"z\":\"a\\u0000b\"}",
                                &o, &why), APR_SUCCESS);
    LCRM_ASSERT_STR(lcrm_json_get_str(o, "s", &len), "a/b");
    LCRM_ASSERT_INT(len, 3);
    CU_ASSERT_PTR_NULL(lcrm_json_get_str(o, "n", NULL)); /* not a string */
    CU_ASSERT_PTR_NULL(lcrm_json_get_str(o, "missing", NULL));
    CU_ASSERT_PTR_NOT_NULL(lcrm_json_get_str(o, "z", &len));
    LCRM_ASSERT_INT(len, 3);
    LCRM_ASSERT_STR(lcrm_json_dump(lcrm_test_pool, o),
                    "{\"s\":\"a/b\",\"n\":1,\"z\":\"a\\u0000b\"}");
}

void lcrm_test_register_json(void)
{
    CU_pSuite s = lcrm_test_suite("json");
    LCRM_TEST(s, test_valid_object);
    LCRM_TEST(s, test_trailing_data);
    LCRM_TEST(s, test_non_finite);
    LCRM_TEST(s, test_invalid_utf8);
    LCRM_TEST(s, test_top_level_not_object);
    LCRM_TEST(s, test_duplicate_keys);
    LCRM_TEST(s, test_strings_do_not_confuse_scanner);
    LCRM_TEST(s, test_depth);
    LCRM_TEST(s, test_empty_and_nul);
    LCRM_TEST(s, test_helpers);
}
