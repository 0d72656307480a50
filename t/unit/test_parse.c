/*
 * lcrm_parse: configuration values (integers, durations, sizes, business
 * hours); lcrm_secret: random tokens, SHA-256 and key files.
 */
#include "unit.h"
#include "lcrm_parse.h"
#include "lcrm_secret.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <string.h>
#include <sys/stat.h>

#define OK(expr) CU_ASSERT_PTR_NULL(expr)
#define BAD(expr) CU_ASSERT_PTR_NOT_NULL(expr)

static apr_int64_t v;

/* The parsed value, or -999 when refused. */
static apr_int64_t pint(const char *s, apr_int64_t min, apr_int64_t max)
{
    v = -12345;
    return lcrm_parse_int(s, min, max, &v) ? -999 : v;
}

static apr_int64_t pdur(const char *s)
{
    return lcrm_parse_duration(s, 1, 30 * 86400, &v) ? -999 : v;
}

static apr_int64_t psize(const char *s)
{
    return lcrm_parse_size(s, 1024, 16 * 1048576, &v) ? -999 : v;
}

static void test_int(void)
{
    LCRM_ASSERT_INT(pint("0", 0, 10), 0);
    LCRM_ASSERT_INT(pint("10", 0, 10), 10);
    LCRM_ASSERT_INT(pint("007", 0, 10), 7);
    LCRM_ASSERT_INT(pint("11", 0, 10), -999);
    LCRM_ASSERT_INT(pint("-1", 0, 10), -999);
    LCRM_ASSERT_INT(pint("-5", -10, 10), -5);
    LCRM_ASSERT_INT(pint("-11", -10, 10), -999);
    LCRM_ASSERT_INT(pint("+5", 0, 10), -999);
    LCRM_ASSERT_INT(pint("+5", -10, 10), -999);
    LCRM_ASSERT_INT(pint("-0", 0, 10), -999);     /* no sign when min >= 0 */
    LCRM_ASSERT_INT(pint("", 0, 10), -999);
    LCRM_ASSERT_INT(pint(NULL, 0, 10), -999);
    LCRM_ASSERT_INT(pint(" 5", 0, 10), -999);
    LCRM_ASSERT_INT(pint("5 ", 0, 10), -999);
    LCRM_ASSERT_INT(pint("5x", 0, 10), -999);
    LCRM_ASSERT_INT(pint("0x5", 0, 10), -999);
    LCRM_ASSERT_INT(pint("5.0", 0, 10), -999);
    LCRM_ASSERT_INT(pint("1e3", 0, 10000), -999);
    LCRM_ASSERT_INT(pint("-", -10, 10), -999);
    LCRM_ASSERT_INT(pint("9223372036854775807", 0, APR_INT64_MAX),
                    APR_INT64_MAX);
    LCRM_ASSERT_INT(pint("9223372036854775808", 0, APR_INT64_MAX), -999);
    LCRM_ASSERT_INT(pint("99999999999999999999999", 0, APR_INT64_MAX), -999);
    LCRM_ASSERT_INT(pint("-9223372036854775809", APR_INT64_MIN, 0), -999);
    /* messages name what was wrong without echoing the value */
    LCRM_ASSERT_STR(lcrm_parse_int("x", 0, 1, &v), "must be an integer");
    LCRM_ASSERT_STR(lcrm_parse_int("2", 0, 1, &v), "is out of range");
    /* *out untouched on failure */
    v = 77;
    BAD(lcrm_parse_int("2", 0, 1, &v));
    LCRM_ASSERT_INT(v, 77);
}

static void test_duration(void)
{
    LCRM_ASSERT_INT(pdur("900"), 900);
    LCRM_ASSERT_INT(pdur("900s"), 900);
    LCRM_ASSERT_INT(pdur("15m"), 900);
    LCRM_ASSERT_INT(pdur("2h"), 7200);
    LCRM_ASSERT_INT(pdur("7d"), 604800);
    LCRM_ASSERT_INT(pdur("30d"), 30 * 86400);
    LCRM_ASSERT_INT(pdur("31d"), -999);            /* out of range */
    LCRM_ASSERT_INT(pdur("0"), -999);
    LCRM_ASSERT_INT(pdur("0m"), -999);
    LCRM_ASSERT_INT(pdur("15x"), -999);
    LCRM_ASSERT_INT(pdur("15M"), -999);            /* units are lowercase */
    LCRM_ASSERT_INT(pdur("15mm"), -999);
    LCRM_ASSERT_INT(pdur("15 m"), -999);
    LCRM_ASSERT_INT(pdur("m"), -999);
    LCRM_ASSERT_INT(pdur(""), -999);
    LCRM_ASSERT_INT(pdur("-5"), -999);
    LCRM_ASSERT_INT(pdur("+5"), -999);
    LCRM_ASSERT_INT(pdur("1.5h"), -999);
    LCRM_ASSERT_INT(pdur("99999999999999999999d"), -999);
    LCRM_ASSERT_INT(pdur("1000000001"), -999);
    LCRM_ASSERT_STR(lcrm_parse_duration("5y", 1, 100, &v),
                    "has an unknown unit");
    LCRM_ASSERT_STR(lcrm_parse_duration("2h", 1, 100, &v), "is out of range");
}

static void test_size(void)
{
    LCRM_ASSERT_INT(psize("64k"), 65536);
    LCRM_ASSERT_INT(psize("64K"), 65536);
    LCRM_ASSERT_INT(psize("1M"), 1048576);
    LCRM_ASSERT_INT(psize("1m"), 1048576);
    LCRM_ASSERT_INT(psize("4096"), 4096);
    LCRM_ASSERT_INT(psize("16M"), 16 * 1048576);
    LCRM_ASSERT_INT(psize("17M"), -999);
    LCRM_ASSERT_INT(psize("1023"), -999);
    LCRM_ASSERT_INT(psize("1G"), -999);
    LCRM_ASSERT_INT(psize("1kb"), -999);
    LCRM_ASSERT_INT(psize("k"), -999);
    LCRM_ASSERT_INT(psize("1.5M"), -999);
}

static int hours(const char *s, unsigned days, int open, int close)
{
    lcrm_hours_t h;
    const char *err;

    memset(&h, 0, sizeof(h));
    if ((err = lcrm_parse_hours(s, &h))) {
        fprintf(stderr, "\n    %s: %s\n", s, err);
        return 0;
    }
    return lcrm_test_inteq(s, h.days, days)
           && lcrm_test_inteq(s, h.open_minute, open)
           && lcrm_test_inteq(s, h.close_minute, close);
}

static void test_hours(void)
{
    lcrm_hours_t h;

    CU_ASSERT(hours("Mon-Fri 09:00-17:00", 0x1F, 540, 1020));
    CU_ASSERT(hours("Mon,Wed,Fri 08:30-12:00", 0x15, 510, 720));
    CU_ASSERT(hours("Sat-Mon 10:00-14:00", 0x61, 600, 840));
    CU_ASSERT(hours("Sun 00:00-24:00", 0x40, 0, 1440));
    CU_ASSERT(hours("Tue-Mon 07:15-07:16", 0x7F, 435, 436));
    CU_ASSERT(hours("Mon-Mon 09:00-17:00", 0x01, 540, 1020));
    CU_ASSERT(hours("Mon-Tue,Thu 09:00-17:00", 0x0B, 540, 1020));

    BAD(lcrm_parse_hours("Mon-Fri 17:00-09:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri 09:00-09:00", &h));
    BAD(lcrm_parse_hours("Mon-Fun 09:00-17:00", &h));
    BAD(lcrm_parse_hours("Xyz 09:00-17:00", &h));
    BAD(lcrm_parse_hours("Monday 09:00-17:00", &h));
    BAD(lcrm_parse_hours("Mon- 09:00-17:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri 9:00-17:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri 09:00-17:0", &h));
    BAD(lcrm_parse_hours("Mon-Fri 09:00-24:01", &h));
    BAD(lcrm_parse_hours("Mon-Fri 24:00-24:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri 09:60-17:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri 25:00-26:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri 09:00 17:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri  09:00-17:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri", &h));
    BAD(lcrm_parse_hours("09:00-17:00", &h));
    BAD(lcrm_parse_hours(" 09:00-17:00", &h));
    BAD(lcrm_parse_hours("", &h));
    BAD(lcrm_parse_hours("Mon;Fri 09:00-17:00", &h));
    BAD(lcrm_parse_hours("Mon-Fri 09:00-17:00 ", &h));
}

/* Writes len bytes of data to a new file in a fresh directory. */
static const char *write_file(const char *data, apr_size_t len,
                              apr_fileperms_t perms)
{
    const char *dir = NULL, *path;
    apr_file_t *f;
    apr_size_t n = len;
    char *tmpl;

    if (apr_temp_dir_get(&dir, lcrm_test_pool) != APR_SUCCESS) {
        return NULL;
    }
    tmpl = apr_pstrcat(lcrm_test_pool, dir, "/lcrm-unit-key-XXXXXX", NULL);
    if (apr_file_mktemp(&f, tmpl, APR_FOPEN_CREATE | APR_FOPEN_READ
                        | APR_FOPEN_WRITE | APR_FOPEN_EXCL
                        | APR_FOPEN_DELONCLOSE, lcrm_test_pool)
        != APR_SUCCESS) {
        return NULL;
    }
    /* the file goes when the pool does (APR_FOPEN_DELONCLOSE) */
    path = tmpl;
    if ((len && apr_file_write_full(f, data, len, &n) != APR_SUCCESS)
        || apr_file_flush(f) != APR_SUCCESS
        || chmod(path, (mode_t)perms) != 0) {
        return NULL;
    }
    return path;
}

static void test_key_load(void)
{
    static const char k32[] = "0123456789abcdef0123456789ABCDEF";
    lcrm_key_t key;
    const char *path;
    char *big;

    memset(&key, 0, sizeof(key));
    path = write_file(k32, 31, 0600);
    CU_ASSERT_PTR_NOT_NULL_FATAL(path);
    BAD(lcrm_key_load(lcrm_test_pool, path, &key));
    /* 31 bytes plus newlines are still 31 */
    path = write_file("0123456789abcdef0123456789ABCDE\n\n", 33, 0600);
    BAD(lcrm_key_load(lcrm_test_pool, path, &key));

    path = write_file(k32, 32, 0600);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.len, 32);
    CU_ASSERT(key.bytes && !memcmp(key.bytes, k32, 32));
    LCRM_ASSERT_INT(key.loose_perms, 0);

    memset(&key, 0, sizeof(key));
    path = write_file("0123456789abcdef0123456789ABCDEF\n", 33, 0600);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.len, 32);
    CU_ASSERT(key.bytes && !memcmp(key.bytes, k32, 32));

    path = write_file("0123456789abcdef0123456789ABCDEF\r\n", 34, 0400);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.len, 32);
    LCRM_ASSERT_INT(key.loose_perms, 0);

    /* binary keys keep inner NUL and newline bytes */
    path = write_file("\0\n3456789abcdef0123456789ABCDEFxyz", 35, 0600);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.len, 35);

    /* group or world access is reported */
    path = write_file(k32, 32, 0644);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.loose_perms, 1);
    path = write_file(k32, 32, 0640);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.loose_perms, 1);
    path = write_file(k32, 32, 0604);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.loose_perms, 1);

    /* LCRM_SECRET_MAX bytes at most */
    big = apr_palloc(lcrm_test_pool, LCRM_SECRET_MAX + 2);
    memset(big, 'k', LCRM_SECRET_MAX + 1);
    path = write_file(big, LCRM_SECRET_MAX, 0600);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.len, LCRM_SECRET_MAX);
    path = write_file(big, LCRM_SECRET_MAX + 1, 0600);
    BAD(lcrm_key_load(lcrm_test_pool, path, &key));
    big[LCRM_SECRET_MAX] = '\n';
    big[LCRM_SECRET_MAX + 1] = '\n';
    path = write_file(big, LCRM_SECRET_MAX + 2, 0600);
    OK(lcrm_key_load(lcrm_test_pool, path, &key));
    LCRM_ASSERT_INT(key.len, LCRM_SECRET_MAX);

    /* missing file, empty file, a directory */
    BAD(lcrm_key_load(lcrm_test_pool, "/nonexistent/lcrm/key", &key));
    path = write_file("", 0, 0600);
    BAD(lcrm_key_load(lcrm_test_pool, path, &key));
    BAD(lcrm_key_load(lcrm_test_pool, "/", &key));
}

static void test_random_token(void)
{
    const char *a = NULL, *b = NULL, *p;

    LCRM_ASSERT_INT(lcrm_random_token(lcrm_test_pool, 32, &a), APR_SUCCESS);
    LCRM_ASSERT_INT(lcrm_random_token(lcrm_test_pool, 32, &b), APR_SUCCESS);
    CU_ASSERT_FATAL(a && b);
    LCRM_ASSERT_INT(strlen(a), 43);
    LCRM_ASSERT_INT(strlen(b), 43);
    CU_ASSERT(strcmp(a, b) != 0);
    for (p = a; *p; p++) {
        CU_ASSERT_FATAL((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
                        || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
    }
    LCRM_ASSERT_INT(lcrm_random_token(lcrm_test_pool, 16, &a), APR_SUCCESS);
    LCRM_ASSERT_INT(strlen(a), 22);
    LCRM_ASSERT_INT(lcrm_random_token(lcrm_test_pool, 1000, &a), APR_EINVAL);
}

static void test_sha256_base64url_ct(void)
{
    static const unsigned char bytes[] = {0xfb, 0xff, 0xfe, 0x00, 0x3e};

    LCRM_ASSERT_STR(lcrm_sha256_hex(lcrm_test_pool, "abc", 3),
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    LCRM_ASSERT_STR(lcrm_sha256_hex(lcrm_test_pool, "", 0),
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    LCRM_ASSERT_STR(lcrm_base64url(lcrm_test_pool, bytes, 5), "-__-AD4");
    LCRM_ASSERT_STR(lcrm_base64url(lcrm_test_pool, bytes, 3), "-__-");
    LCRM_ASSERT_STR(lcrm_base64url(lcrm_test_pool, bytes, 1), "-w");
    LCRM_ASSERT_STR(lcrm_base64url(lcrm_test_pool, bytes, 0), "");
    LCRM_ASSERT_INT(lcrm_ct_differ("abcd", "abcd", 4), 0);
    LCRM_ASSERT_INT(lcrm_ct_differ("abcd", "abce", 4), 1);
    LCRM_ASSERT_INT(lcrm_ct_differ("xbcd", "abcd", 4), 1);
    LCRM_ASSERT_INT(lcrm_ct_differ("xbcd", "abcd", 0), 0);
}

void lcrm_test_register_parse(void)
{
    CU_pSuite s = lcrm_test_suite("parse");
    LCRM_TEST(s, test_int);
    LCRM_TEST(s, test_duration);
    LCRM_TEST(s, test_size);
    LCRM_TEST(s, test_hours);
    LCRM_TEST(s, test_key_load);
    LCRM_TEST(s, test_random_token);
    LCRM_TEST(s, test_sha256_base64url_ct);
}
