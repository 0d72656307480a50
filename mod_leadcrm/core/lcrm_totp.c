/*
 * lcrm_totp: TOTP through liboath, base32, otpauth URIs, recovery codes,
 * API keys and scopes (see lcrm_totp.h).
 */
#include "lcrm_totp.h"
#include "lcrm_role.h"
#include "lcrm_secret.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_general.h>
#include <liboath/oath.h>
#include <stdlib.h>
#include <string.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char alnum62[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char lower36[] = "abcdefghijklmnopqrstuvwxyz0123456789";

int lcrm_totp_init(void)
{
    return oath_init() == OATH_OK ? 0 : -1;
}

const char *lcrm_base32_encode(apr_pool_t *p, const unsigned char *in,
                               apr_size_t len)
{
    char *out = apr_palloc(p, (len * 8 + 4) / 5 + 1), *o = out;
    apr_uint32_t buf = 0;
    int bits = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            *o++ = b32_alphabet[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) {
        *o++ = b32_alphabet[(buf << (5 - bits)) & 31];
    }
    *o = '\0';
    return out;
}

static int b32_value(char c)
{
    c = (char)apr_toupper(c);
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    return c >= '2' && c <= '7' ? c - '2' + 26 : -1;
}

apr_status_t lcrm_base32_decode(apr_pool_t *p, const char *in, apr_size_t len,
                                unsigned char **out, apr_size_t *outlen)
{
    unsigned char *o = apr_palloc(p, len * 5 / 8 + 1);
    apr_uint32_t buf = 0;
    int bits = 0, v;
    apr_size_t i, n = 0;

    /* lengths 1, 3 and 6 (mod 8) cannot come from whole bytes */
    if (len % 8 == 1 || len % 8 == 3 || len % 8 == 6) {
        return APR_EINVAL;
    }
    for (i = 0; i < len; i++) {
        if ((v = b32_value(in[i])) < 0) {
            return APR_EINVAL;
        }
        buf = (buf << 5) | (apr_uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            o[n++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    if (buf & ((1u << bits) - 1)) {
        return APR_EINVAL;      /* non-canonical trailing bits */
    }
    *out = o;
    *outlen = n;
    return APR_SUCCESS;
}

apr_status_t lcrm_totp_new_secret(apr_pool_t *p, unsigned char **secret)
{
    *secret = apr_palloc(p, LCRM_TOTP_SECRET_LEN);
    return apr_generate_random_bytes(*secret, LCRM_TOTP_SECRET_LEN);
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static const char *pct_encode(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (apr_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        }
        else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

const char *lcrm_otpauth_uri(apr_pool_t *p, const char *issuer,
                             const char *account, const unsigned char *secret,
                             apr_size_t len)
{
    const char *iss = pct_encode(p, issuer);
    return apr_pstrcat(p, "otpauth://totp/", iss, ":", pct_encode(p, account),
                       "?secret=", lcrm_base32_encode(p, secret, len),
                       "&issuer=", iss,
                       "&algorithm=SHA1&digits=6&period=30", NULL);
}

/* Decodes %XX escapes of s[0..len); NULL on a bad escape or a NUL. */
static const char *pct_decode(apr_pool_t *p, const char *s, apr_size_t len)
{
    char *out = apr_palloc(p, len + 1), *o = out;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        if (i + 2 >= len || !apr_isxdigit(s[i + 1]) || !apr_isxdigit(s[i + 2])) {
            return NULL;
        }
        {
            char h[3] = {s[i + 1], s[i + 2], 0};
            long v = strtol(h, NULL, 16);
            if (v == 0) {
                return NULL;
            }
            *o++ = (char)v;
        }
        i += 2;
    }
    *o = '\0';
    return out;
}

/* One query parameter of an otpauth URI into out; 0 or an error text. */
static const char *otpauth_param(apr_pool_t *p, const char *name,
                                 const char *value, unsigned *seen,
                                 lcrm_otpauth_t *out)
{
    static const char *const names[] = {"secret", "issuer", "algorithm",
                                        "digits", "period", NULL};
    int i;

    for (i = 0; names[i] && strcmp(names[i], name); i++) {
    }
    if (!names[i]) {
        return "unknown parameter";
    }
    if (*seen & (1u << i)) {
        return "repeated parameter";
    }
    *seen |= 1u << i;
    switch (i) {
    case 0:
        if (!*value || strlen(value) > 104
            || lcrm_base32_decode(p, value, strlen(value), &out->secret,
                                  &out->secret_len)) {
            return "bad secret";
        }
        return NULL;
    case 1:
        return out->issuer && !strcmp(out->issuer, value)
                   ? NULL : "issuer differs from the label";
    case 2:
        return strcmp(value, "SHA1") ? "algorithm must be SHA1" : NULL;
    case 3:
        return strcmp(value, "6") ? "digits must be 6" : NULL;
    default:
        return strcmp(value, "30") ? "period must be 30" : NULL;
    }
}

apr_status_t lcrm_otpauth_parse(apr_pool_t *p, const char *uri,
                                lcrm_otpauth_t *out, const char **why)
{
    static const char head[] = "otpauth://totp/";
    const char *label, *q, *colon, *part, *eq, *amp;
    unsigned seen = 0;

    memset(out, 0, sizeof(*out));
    if (strncmp(uri, head, sizeof(head) - 1) || !(q = strchr(uri, '?'))) {
        *why = "not an otpauth://totp/ URI";
        return APR_EINVAL;
    }
    label = uri + sizeof(head) - 1;
    colon = memchr(label, ':', (apr_size_t)(q - label));
    if (!colon || colon == label || colon + 1 == q
        || !(out->issuer = pct_decode(p, label, (apr_size_t)(colon - label)))
        || !(out->account = pct_decode(p, colon + 1,
                                       (apr_size_t)(q - colon - 1)))
        || strchr(out->issuer, ':')) {
        *why = "bad label";
        return APR_EINVAL;
    }
    for (part = q + 1; *part; part = *amp ? amp + 1 : amp) {
        const char *name, *value;
        amp = part + strcspn(part, "&");
        eq = memchr(part, '=', (apr_size_t)(amp - part));
        if (!eq || !(name = pct_decode(p, part, (apr_size_t)(eq - part)))
            || !(value = pct_decode(p, eq + 1, (apr_size_t)(amp - eq - 1)))
            || (*why = otpauth_param(p, name, value, &seen, out))) {
            *why = *why ? *why : "bad parameter";
            return APR_EINVAL;
        }
    }
    if (!(seen & 1u) || !(seen & 2u) || out->secret_len == 0
        || out->secret_len > 64) {
        *why = "secret and issuer are required";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

int lcrm_totp_code_shaped(const char *code)
{
    int i;
    for (i = 0; i < LCRM_TOTP_DIGITS; i++) {
        if (!apr_isdigit(code[i])) {
            return 0;
        }
    }
    return code[LCRM_TOTP_DIGITS] == '\0';
}

/* liboath's comparison callback: constant time, 0 when equal. */
static int otp_compare(void *handle, const char *test_otp)
{
    return lcrm_ct_differ(handle, test_otp, LCRM_TOTP_DIGITS) ? 1 : 0;
}

apr_status_t lcrm_totp_check(const unsigned char *secret, apr_size_t len,
                             apr_int64_t now, const char *code,
                             apr_int64_t *step)
{
    int pos = 0, rc;

    if (!lcrm_totp_code_shaped(code) || now < LCRM_TOTP_PERIOD) {
        return APR_EINVAL;
    }
    rc = oath_totp_validate2_callback((const char *)secret, len, (time_t)now,
                                      LCRM_TOTP_PERIOD, 0, LCRM_TOTP_DIGITS,
                                      1, &pos, otp_compare, (void *)code);
    if (rc < 0) {
        return APR_EMISMATCH;
    }
    *step = now / LCRM_TOTP_PERIOD + pos;
    return APR_SUCCESS;
}

apr_status_t lcrm_totp_code(const unsigned char *secret, apr_size_t len,
                            apr_int64_t step, char code[7])
{
    return oath_totp_generate((const char *)secret, len,
                              (time_t)(step * LCRM_TOTP_PERIOD),
                              LCRM_TOTP_PERIOD, 0, LCRM_TOTP_DIGITS, code)
               == OATH_OK ? APR_SUCCESS : APR_EGENERAL;
}

/* n characters of alphabet (size k) without modulo bias. */
static apr_status_t random_chars(char *out, apr_size_t n, const char *alphabet,
                                 unsigned k)
{
    unsigned char buf[64];
    unsigned limit = 256 - 256 % k;
    apr_size_t i, got = 0;
    apr_status_t rv;

    while (got < n) {
        if ((rv = apr_generate_random_bytes(buf, sizeof(buf)))) {
            return rv;
        }
        for (i = 0; i < sizeof(buf) && got < n; i++) {
            if (buf[i] < limit) {
                out[got++] = alphabet[buf[i] % k];
            }
        }
    }
    return APR_SUCCESS;
}

apr_status_t lcrm_recovery_new(apr_pool_t *p, const char **shown)
{
    char raw[LCRM_RECOVERY_LEN];
    apr_status_t rv = random_chars(raw, sizeof(raw), lower36, 36);

    if (rv == APR_SUCCESS) {
        *shown = apr_psprintf(p, "%.5s-%.5s", raw, raw + 5);
    }
    return rv;
}

apr_status_t lcrm_recovery_normalize(apr_pool_t *p, const char *in,
                                     const char **canon)
{
    char out[LCRM_RECOVERY_LEN + 1];
    apr_size_t n = 0;

    if (strlen(in) > 64) {
        return APR_EINVAL;
    }
    for (; *in; in++) {
        if (*in == '-' || *in == ' ') {
            continue;
        }
        if (!apr_isalnum(*in) || (unsigned char)*in > 127
            || n == LCRM_RECOVERY_LEN) {
            return APR_EINVAL;
        }
        out[n++] = (char)apr_tolower(*in);
    }
    if (n != LCRM_RECOVERY_LEN) {
        return APR_EINVAL;
    }
    out[n] = '\0';
    *canon = apr_pstrdup(p, out);
    return APR_SUCCESS;
}

apr_status_t lcrm_apikey_new(apr_pool_t *p, const char **key)
{
    char body[LCRM_APIKEY_BODY + 1];
    apr_status_t rv = random_chars(body, LCRM_APIKEY_BODY, alnum62, 62);

    if (rv == APR_SUCCESS) {
        body[LCRM_APIKEY_BODY] = '\0';
        *key = apr_pstrcat(p, LCRM_APIKEY_PREFIX, body, NULL);
    }
    return rv;
}

int lcrm_apikey_shaped(const char *s)
{
    apr_size_t n = 0, plen = sizeof(LCRM_APIKEY_PREFIX) - 1;

    if (strncmp(s, LCRM_APIKEY_PREFIX, plen)) {
        return 0;
    }
    for (s += plen; *s; s++, n++) {
        if (n >= LCRM_APIKEY_MAX - plen || !apr_isalnum(*s)
            || (unsigned char)*s > 127) {
            return 0;
        }
    }
    return n >= LCRM_APIKEY_MIN_BODY;
}

typedef struct {
    const char *name;
    int min_role;
} scope_info_t;

static const scope_info_t scopes[LCRM_SCOPE_COUNT] = {
    {NULL, 0},
    {"leads:read", LCRM_ROLE_USER},
    {"leads:write", LCRM_ROLE_ADMIN},
    {"stats:read", LCRM_ROLE_ADMIN},
    {"consultations:read", LCRM_ROLE_USER},
    {"consultations:write", LCRM_ROLE_USER},
    {"users:read", LCRM_ROLE_ADMIN},
    {"users:write", LCRM_ROLE_ADMIN},
};

const char *lcrm_scope_name(int scope)
{
    return scope > 0 && scope < LCRM_SCOPE_COUNT ? scopes[scope].name : NULL;
}

int lcrm_scope_parse(const char *name)
{
    int i;
    for (i = 1; i < LCRM_SCOPE_COUNT; i++) {
        if (!strcmp(scopes[i].name, name)) {
            return i;
        }
    }
    return LCRM_SCOPE_NONE;
}

int lcrm_scope_min_role(int scope)
{
    return scope > 0 && scope < LCRM_SCOPE_COUNT ? scopes[scope].min_role
                                                 : LCRM_ROLE_COUNT;
}

int lcrm_scope_in(const char *list, int scope)
{
    const char *name = lcrm_scope_name(scope), *w;
    apr_size_t n;

    if (!name || !list) {
        return 0;
    }
    n = strlen(name);
    for (w = list; (w = strstr(w, name)); w += n) {
        if ((w == list || w[-1] == ' ') && (w[n] == ' ' || w[n] == '\0')) {
            return 1;
        }
    }
    return 0;
}
