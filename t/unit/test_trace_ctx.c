/*
 * Unit tests for lcrm_trace_ctx: traceparent parsing (valid, forged,
 * future versions), formatting, the ratio sampler at its bounds and in
 * between, Sentry DSN parsing and the OTLP endpoint check.
 */
#include "unit.h"
#include "lcrm_trace_ctx.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

#define TP_OK "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

static void test_traceparent_valid(void)
{
    lcrm_traceparent_t tp;
    CU_ASSERT_FATAL(lcrm_traceparent_parse(TP_OK, &tp));
    LCRM_ASSERT_STR(tp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    LCRM_ASSERT_STR(tp.parent_id, "00f067aa0ba902b7");
    CU_ASSERT(tp.sampled);
    CU_ASSERT(lcrm_traceparent_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", &tp));
    CU_ASSERT(!tp.sampled);
    /* a future version may append fields */
    CU_ASSERT(lcrm_traceparent_parse(
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz", &tp));
}

static void test_traceparent_invalid(void)
{
    static const char *const bad[] = {
        "", "00", TP_OK "-extra",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473\n-00f067aa0ba902b7-01",
    };
    lcrm_traceparent_t tp;
    apr_size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT(!lcrm_traceparent_parse(bad[i], &tp));
    }
    CU_ASSERT(!lcrm_traceparent_parse(NULL, &tp));
}

static void test_traceparent_format_and_ids(void)
{
    unsigned char zero[8] = {0}, b[2] = {0xab, 0x01};
    char out[17];
    LCRM_ASSERT_STR(lcrm_traceparent_format(
                        lcrm_test_pool, "4bf92f3577b34da6a3ce929d0e0e4736",
                        "00f067aa0ba902b7", 1), TP_OK);
    lcrm_trace_hex_id(b, 2, out);
    LCRM_ASSERT_STR(out, "ab01");
    lcrm_trace_hex_id(zero, 8, out);
    LCRM_ASSERT_STR(out, "0000000000000001");
}

/* Child span ids: distinct for one root, 16 hex digits, never the root's
 * own id, and different under another root. */
static void test_child_ids(void)
{
    unsigned char root[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7};
    unsigned char other[8] = {0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb8};
    apr_hash_t *seen = apr_hash_make(lcrm_test_pool);
    char id[17], id2[17];
    apr_uint64_t n;
    int dup = 0, bad = 0;

    for (n = 1; n <= 5000; n++) {
        lcrm_trace_child_id(root, n, id);
        bad += strlen(id) != 16 || strspn(id, "0123456789abcdef") != 16
               || !strcmp(id, "00f067aa0ba902b7");
        dup += apr_hash_get(seen, id, 16) != NULL;
        apr_hash_set(seen, apr_pstrdup(lcrm_test_pool, id), 16, "");
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(dup, 0);
    lcrm_trace_child_id(root, 1, id);
    lcrm_trace_child_id(root, 1, id2);
    LCRM_ASSERT_STR(id, id2);
    lcrm_trace_child_id(other, 1, id2);
    CU_ASSERT_NOT_EQUAL(strcmp(id, id2), 0);
}

static void test_sampler(void)
{
    char id[33];
    int i, n = 0;
    CU_ASSERT(lcrm_trace_sampled("ffffffffffffffffffffffffffffffff", 1.0));
    CU_ASSERT(!lcrm_trace_sampled("00000000000000000000000000000001", 0.0));
    CU_ASSERT(lcrm_trace_sampled("ffffffffffffffff0000000000000001", 0.5));
    CU_ASSERT(!lcrm_trace_sampled("0000000000000000ffffffffffffffff", 0.5));
    /* about a quarter of evenly spread ids at 0.25 */
    for (i = 0; i < 256; i++) {
        snprintf(id, sizeof(id), "0000000000000000%02x00000000000000", i);
        n += lcrm_trace_sampled(id, 0.25);
    }
    LCRM_ASSERT_INT(n, 64);
}

static void test_dsn(void)
{
    lcrm_dsn_t d;
    apr_pool_t *p = lcrm_test_pool;
    CU_ASSERT_PTR_NULL(lcrm_dsn_parse(p, "https://abc123@o1.ingest.example.com/42", &d));
    LCRM_ASSERT_STR(d.public_key, "abc123");
    LCRM_ASSERT_STR(d.envelope_url, "https://o1.ingest.example.com/api/42/envelope/");
    CU_ASSERT_PTR_NULL(lcrm_dsn_parse(p, "https://k@sentry.example.com:9000/sub/7", &d));
    LCRM_ASSERT_STR(d.envelope_url, "https://sentry.example.com:9000/sub/api/7/envelope/");
    CU_ASSERT_PTR_NULL(lcrm_dsn_parse(p, "http://k@127.0.0.1:8999/1", &d));
    LCRM_ASSERT_STR(d.envelope_url, "http://127.0.0.1:8999/api/1/envelope/");
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "http://k@sentry.example.com/1", &d));
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "https://k:secret@h.example.com/1", &d));
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "https://h.example.com/1", &d));
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "https://k@h.example.com/", &d));
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "https://k@h.example.com", &d));
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "ftp://k@h.example.com/1", &d));
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "https://k@h.example.com/1?x=1", &d));
    CU_ASSERT_PTR_NOT_NULL(lcrm_dsn_parse(p, "not a dsn", &d));
}

static void test_otlp_endpoint(void)
{
    apr_pool_t *p = lcrm_test_pool;
    CU_ASSERT_PTR_NULL(lcrm_otlp_endpoint_check(p, "http://collector:4318/v1/traces"));
    CU_ASSERT_PTR_NULL(lcrm_otlp_endpoint_check(p, "https://otel.example.com/v1/traces"));
    CU_ASSERT_PTR_NOT_NULL(lcrm_otlp_endpoint_check(p, "collector:4318"));
    CU_ASSERT_PTR_NOT_NULL(lcrm_otlp_endpoint_check(p, "http://u:p@c:4318/v1/traces"));
    CU_ASSERT_PTR_NOT_NULL(lcrm_otlp_endpoint_check(p, "http://c:4318"));
    CU_ASSERT_PTR_NOT_NULL(lcrm_otlp_endpoint_check(p, "grpc://c:4317/v1/traces"));
}

void lcrm_test_register_trace_ctx(void)
{
    CU_pSuite s = lcrm_test_suite("trace_ctx");
    LCRM_TEST(s, test_traceparent_valid);
    LCRM_TEST(s, test_traceparent_invalid);
    LCRM_TEST(s, test_traceparent_format_and_ids);
    LCRM_TEST(s, test_child_ids);
    LCRM_TEST(s, test_sampler);
    LCRM_TEST(s, test_dsn);
    LCRM_TEST(s, test_otlp_endpoint);
}
