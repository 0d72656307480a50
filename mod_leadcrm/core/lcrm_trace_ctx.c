/*
 * lcrm_trace_ctx: W3C Trace Context and Sentry DSN parsing (see
 * lcrm_trace_ctx.h).  Strict parsers: anything unexpected is refused, so a
 * forged header can neither smuggle characters into a log line nor pick
 * where our events go.
 */
#include "lcrm_trace_ctx.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <string.h>

/* n lowercase hex digits, not all zero; returns 1 when so. */
static int lower_hex(const char *s, apr_size_t n)
{
    apr_size_t i;
    int nonzero = 0;

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

static int hex_value(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

int lcrm_traceparent_parse(const char *h, lcrm_traceparent_t *out)
{
    apr_size_t len;
    int flags;

    if (!h) {
        return 0;
    }
    len = strlen(h);
    /* version, trace id, parent id, flags: 2-32-16-2 */
    if (len < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') {
        return 0;
    }
    if (!apr_isxdigit(h[0]) || !apr_isxdigit(h[1]) || apr_isupper(h[0])
        || apr_isupper(h[1]) || !strncmp(h, "ff", 2)) {
        return 0;
    }
    /* version 00 has exactly these fields; later ones may add "-..." */
    if ((!strncmp(h, "00", 2) && len != 55) || (len > 55 && h[55] != '-')) {
        return 0;
    }
    if (!lower_hex(h + 3, LCRM_TRACE_ID_HEX)
        || !lower_hex(h + 36, LCRM_SPAN_ID_HEX)
        || !(lower_hex(h + 53, 2) || !strncmp(h + 53, "00", 2))) {
        return 0;
    }
    memcpy(out->trace_id, h + 3, LCRM_TRACE_ID_HEX);
    out->trace_id[LCRM_TRACE_ID_HEX] = '\0';
    memcpy(out->parent_id, h + 36, LCRM_SPAN_ID_HEX);
    out->parent_id[LCRM_SPAN_ID_HEX] = '\0';
    flags = hex_value(h[53]) * 16 + hex_value(h[54]);
    out->sampled = flags & 1;
    return 1;
}

const char *lcrm_traceparent_format(apr_pool_t *p, const char *trace_id,
                                    const char *span_id, int sampled)
{
    return apr_psprintf(p, "00-%s-%s-%s", trace_id, span_id,
                        sampled ? "01" : "00");
}

void lcrm_trace_hex_id(const unsigned char *bytes, apr_size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    apr_size_t i;
    int nonzero = 0;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
        nonzero |= bytes[i] != 0;
    }
    if (!nonzero && n) {
        out[2 * n - 1] = '1';
    }
    out[2 * n] = '\0';
}

void lcrm_trace_child_id(const unsigned char root[8], apr_uint64_t n,
                         char *out)
{
    apr_uint64_t z = 0;
    unsigned char b[8];
    int i;

    for (i = 0; i < 8; i++) {
        z = (z << 8) | root[i];
    }
    z += n * APR_UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * APR_UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * APR_UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    for (i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(z & 0xff);
        z >>= 8;
    }
    lcrm_trace_hex_id(b, sizeof(b), out);
}

int lcrm_trace_sampled(const char *trace_id, double ratio)
{
    apr_uint64_t v = 0;
    int i;

    if (ratio >= 1.0) {
        return 1;
    }
    if (ratio <= 0.0) {
        return 0;
    }
    for (i = LCRM_TRACE_ID_HEX - 16; i < LCRM_TRACE_ID_HEX; i++) {
        v = (v << 4) | (apr_uint64_t)hex_value(trace_id[i]);
    }
    /* v / 2^64 < ratio */
    return (double)v < ratio * 18446744073709551616.0;
}

static int loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1")
           || !strcmp(host, "localhost");
}

/* Common URL checks: scheme, host, no user for OTLP, http only to loopback
 * when loopback_only_http. */
static const char *check_scheme(const apr_uri_t *u, int loopback_only_http)
{
    if (!u->scheme || !u->hostname || !*u->hostname) {
        return "must be an absolute http(s) URL";
    }
    if (!strcmp(u->scheme, "https")) {
        return NULL;
    }
    if (strcmp(u->scheme, "http")) {
        return "must use https";
    }
    if (loopback_only_http && !loopback(u->hostname)) {
        return "must use https (http only to a loopback address)";
    }
    return NULL;
}

static int token_chars(const char *s)
{
    if (!s || !*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && *s != '-' && *s != '_') {
            return 0;
        }
    }
    return 1;
}

const char *lcrm_dsn_parse(apr_pool_t *p, const char *text, lcrm_dsn_t *dsn)
{
    apr_uri_t u;
    const char *err, *slash, *project, *prefix;

    if (apr_uri_parse(p, text, &u) != APR_SUCCESS || u.query || u.fragment) {
        return "is not a URL of the form https://KEY@HOST/PROJECT";
    }
    if ((err = check_scheme(&u, 1))) {
        return err;
    }
    if (u.password) {
        return "must not carry a secret key (KEY:SECRET): use the public "
               "key only";
    }
    if (!token_chars(u.user)) {
        return "needs the public key before '@' (https://KEY@HOST/PROJECT)";
    }
    slash = u.path ? strrchr(u.path, '/') : NULL;
    project = slash ? slash + 1 : NULL;
    if (!token_chars(project)) {
        return "needs a project id after the host (https://KEY@HOST/PROJECT)";
    }
    prefix = apr_pstrmemdup(p, u.path, (apr_size_t)(slash - u.path));
    dsn->public_key = u.user;
    dsn->envelope_url = apr_psprintf(
        p, "%s://%s%s%s%s/api/%s/envelope/", u.scheme,
        strchr(u.hostname, ':') ? apr_pstrcat(p, "[", u.hostname, "]", NULL)
                                : u.hostname,
        u.port_str ? ":" : "", u.port_str ? u.port_str : "", prefix, project);
    return NULL;
}

const char *lcrm_otlp_endpoint_check(apr_pool_t *p, const char *url)
{
    apr_uri_t u;
    const char *err;

    if (apr_uri_parse(p, url, &u) != APR_SUCCESS) {
        return "is not a URL";
    }
    if ((err = check_scheme(&u, 0))) {
        return err;
    }
    if (u.user || u.password || u.fragment) {
        return "must not carry credentials or a fragment";
    }
    if (!u.path || !*u.path) {
        return "needs a path (usually /v1/traces)";
    }
    return NULL;
}
