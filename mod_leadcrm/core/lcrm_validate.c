/*
 * lcrm_validate: value checks for API.md's field rules (see header).
 */
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <string.h>

/* Decodes one UTF-8 sequence; returns its length or 0 when malformed. */
static apr_size_t utf8_decode(const unsigned char *s, apr_size_t len,
                              apr_uint32_t *cp)
{
    apr_size_t n, i;
    apr_uint32_t c = s[0], min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) { n = 2; c &= 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 3; c &= 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 4; c &= 0x07; min = 0x10000; }
    else return 0;
    if (n > len) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return 0;
    }
    *cp = c;
    return n;
}

static int is_control(apr_uint32_t c, int multiline)
{
    if (multiline && (c == '\n' || c == '\t')) {
        return 0;
    }
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F);
}

const char *lcrm_check_text(const char *s, apr_size_t len, int multiline,
                            apr_size_t *codepoints)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, count = 0;

    while (i < len) {
        apr_uint32_t cp;
        apr_size_t n = utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            return "must be valid UTF-8";
        }
        if (is_control(cp, multiline)) {
            return "must not contain control characters";
        }
        i += n;
        count++;
    }
    if (codepoints) {
        *codepoints = count;
    }
    return NULL;
}

char *lcrm_normalize_email(apr_pool_t *pool, const char *s, apr_size_t len)
{
    char *out;
    apr_size_t i;

    while (len && apr_isspace(*s)) {
        s++;
        len--;
    }
    while (len && apr_isspace(s[len - 1])) {
        len--;
    }
    out = apr_pstrmemdup(pool, s, len);
    for (i = 0; i < len; i++) {
        out[i] = (char)apr_tolower(out[i]);
    }
    return out;
}

static int email_char_ok(unsigned char c)
{
    return c > 0x20 && c != 0x7F && !strchr("()<>[]\\,;:\"@", c);
}

const char *lcrm_check_email(const char *s)
{
    const char *at = strchr(s, '@'), *p, *dot;
    apr_size_t len = strlen(s);

    if (len == 0 || len > 254 || !at || at == s || at - s > 64
        || strchr(at + 1, '@')) {
        return "must be a valid email";
    }
    for (p = s; *p; p++) {
        if (p != at && !email_char_ok((unsigned char)*p)) {
            return "must be a valid email";
        }
    }
    dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0' || at[1] == '.'
        || s[len - 1] == '.' || strstr(at, "..") || s[0] == '.'
        || at[-1] == '.') {
        return "must be a valid email";
    }
    return NULL;
}

const char *lcrm_check_phone(const char *s)
{
    apr_size_t len = strlen(s);
    int digits = 0;

    if (len == 0 || len > 32) {
        return "must be at most 32 characters of +0-9 ()-.";
    }
    for (; *s; s++) {
        if (apr_isdigit(*s)) {
            digits++;
        }
        else if (!strchr("+ ()-.", *s)) {
            return "must be at most 32 characters of +0-9 ()-.";
        }
    }
    return digits ? NULL : "must contain digits";
}

const char *lcrm_check_url(const char *s, int https_only)
{
    const char *rest, *p;

    if (!strncasecmp(s, "https://", 8)) {
        rest = s + 8;
    }
    else if (!https_only && !strncasecmp(s, "http://", 7)) {
        rest = s + 7;
    }
    else {
        return https_only ? "must be an https URL" : "must be an http(s) URL";
    }
    if (*rest == '\0' || *rest == '/' || *rest == '?' || *rest == '#') {
        return "must name a host";
    }
    for (p = s; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7F) {
            return "must not contain spaces or control characters";
        }
    }
    return NULL;
}

int lcrm_is_uuid(const char *s)
{
    int i;

    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!apr_isxdigit(s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

char *lcrm_uuid_lower(apr_pool_t *pool, const char *s)
{
    char *out = apr_pstrdup(pool, s);
    char *p;
    for (p = out; *p; p++) {
        *p = (char)apr_tolower(*p);
    }
    return out;
}

/* Reads exactly n digits; returns -1 if any is not a digit. */
static int read_digits(const char *s, int n)
{
    int v = 0, i;
    for (i = 0; i < n; i++) {
        if (!apr_isdigit(s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Parses the YYYY-MM-DD at the start of s (more may follow). */
static const char *date_prefix(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) < 10 || s[4] != '-' || s[7] != '-') {
        return "must be a date YYYY-MM-DD";
    }
    *y = read_digits(s, 4);
    *m = read_digits(s + 5, 2);
    *d = read_digits(s + 8, 2);
    if (*y < 1970 || *y > 9999 || *m < 1 || *m > 12 || *d < 1
        || *d > days_in_month(*y, *m)) {
        return "must be a date YYYY-MM-DD";
    }
    return NULL;
}

const char *lcrm_parse_date(const char *s, int *y, int *m, int *d)
{
    if (strlen(s) != 10) {
        return "must be a date YYYY-MM-DD";
    }
    return date_prefix(s, y, m, d);
}

/* Days since 1970-01-01 for a civil date (Howard Hinnant's algorithm). */
static apr_int64_t days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parses "Z" or "+HH:MM"/"-HH:MM" at s; *secs gets the offset. */
static const char *parse_offset(const char *s, int *secs)
{
    int sign, hh, mm;
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
        *secs = 0;
        return NULL;
    }
    if ((*s != '+' && *s != '-') || strlen(s) != 6 || s[3] != ':') {
        return "must be an RFC 3339 date-time";
    }
    sign = *s == '-' ? -1 : 1;
    hh = read_digits(s + 1, 2);
    mm = read_digits(s + 4, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59) {
        return "must be an RFC 3339 date-time";
    }
    *secs = sign * (hh * 3600 + mm * 60);
    return NULL;
}

const char *lcrm_parse_rfc3339(const char *s, apr_time_t *t)
{
    static const char *bad = "must be an RFC 3339 date-time";
    int y, mo, d, h, mi, se, ms = 0, off;
    const char *p;

    if (strlen(s) < 20 || strlen(s) > 35 || date_prefix(s, &y, &mo, &d)
        || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
        return bad;
    }
    h = read_digits(s + 11, 2);
    mi = read_digits(s + 14, 2);
    se = read_digits(s + 17, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) {
        return bad;
    }
    p = s + 19;
    if (*p == '.') {
        int n = 0;
        for (p++; apr_isdigit(p[n]); n++) {
        }
        if (n < 1 || n > 3) {
            return n > 3 ? "must have at most millisecond precision" : bad;
        }
        ms = read_digits(p, n);
        ms *= n == 1 ? 100 : n == 2 ? 10 : 1;
        p += n;
    }
    if (parse_offset(p, &off)) {
        return bad;
    }
    *t = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
           - off) * 1000 + ms) * (apr_time_t)1000;
    return NULL;
}

char *lcrm_format_rfc3339(apr_pool_t *pool, apr_time_t t)
{
    apr_time_exp_t tm;
    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(pool, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_usec / 1000);
}

const char *lcrm_check_password(const char *s, apr_size_t len)
{
    apr_size_t cps = 0;
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;

    if (len > 72) {
        return "must be at most 72 bytes";
    }
    while (i < len) {
        apr_uint32_t cp;
        apr_size_t n = utf8_decode(u + i, len - i, &cp);
        if (n == 0 || cp == 0) {
            return "must be valid UTF-8 without NUL";
        }
        i += n;
        cps++;
    }
    return cps < 8 ? "must be at least 8 characters" : NULL;
}
