/*
 * lcrm_parse: configuration value parsers (see lcrm_parse.h).
 */
#include "lcrm_parse.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <errno.h>
#include <string.h>

const char *lcrm_parse_int(const char *s, apr_int64_t min, apr_int64_t max,
                           apr_int64_t *out)
{
    char *end;
    apr_int64_t v;

    if (!s || !*s || apr_isspace(*s) || *s == '+'
        || (*s == '-' && min >= 0)) {
        return "must be an integer";
    }
    errno = 0;
    v = apr_strtoi64(s, &end, 10);
    if (errno || *end) {
        return "must be an integer";
    }
    if (v < min || v > max) {
        return "is out of range";
    }
    *out = v;
    return NULL;
}


static const char *parse_scaled(const char *s, const char *units,
                                const apr_int64_t *scale, apr_int64_t min,
                                apr_int64_t max, apr_int64_t *out)
{
    char digits[16];
    apr_size_t n = 0;
    apr_int64_t v, mult = scale[0];
    const char *u;

    while (apr_isdigit(s[n]) && n < sizeof(digits) - 1) {
        digits[n] = s[n];
        n++;
    }
    digits[n] = '\0';
    if (n == 0 || apr_isdigit(s[n]) || lcrm_parse_int(digits, 0, 1000000000,
                                                       &v)) {
        return "must be a number with an optional unit";
    }
    if (s[n]) {
        if (s[n + 1] || !(u = strchr(units, s[n]))) {
            return "has an unknown unit";
        }
        mult = scale[u - units + 1];
    }
    v *= mult;
    if (v < min || v > max) {
        return "is out of range";
    }
    *out = v;
    return NULL;
}

const char *lcrm_parse_duration(const char *s, apr_int64_t min,
                                apr_int64_t max, apr_int64_t *secs)
{
    static const apr_int64_t scale[] = {1, 1, 60, 3600, 86400};
    return parse_scaled(s, "smhd", scale, min, max, secs);
}

const char *lcrm_parse_size(const char *s, apr_int64_t min, apr_int64_t max,
                            apr_int64_t *bytes)
{
    static const apr_int64_t scale[] = {1, 1024, 1024, 1048576, 1048576};
    return parse_scaled(s, "kKmM", scale, min, max, bytes);
}

static int day_index(const char *s)
{
    static const char *const names[] = {"Mon", "Tue", "Wed", "Thu",
                                        "Fri", "Sat", "Sun"};
    int i;
    for (i = 0; i < 7; i++) {
        if (!strncasecmp(s, names[i], 3)) {
            return i;
        }
    }
    return -1;
}

/* Parses "HH:MM" (24:00 allowed as a closing time) into minutes. */
static int parse_hhmm(const char *s)
{
    int h, m;
    if (!apr_isdigit(s[0]) || !apr_isdigit(s[1]) || s[2] != ':'
        || !apr_isdigit(s[3]) || !apr_isdigit(s[4])) {
        return -1;
    }
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) {
        return -1;
    }
    return h * 60 + m;
}

/* Parses "Mon-Fri" or "Mon,Wed" (no spaces) into a bitmask. */
static const char *parse_days(const char *s, apr_size_t len, unsigned *days)
{
    apr_size_t i = 0;
    *days = 0;
    while (i < len) {
        int a, b;
        if (i + 3 > len || (a = day_index(s + i)) < 0) {
            return "has an unknown day (use Mon..Sun)";
        }
        b = a;
        i += 3;
        if (i < len && s[i] == '-') {
            if (i + 4 > len || (b = day_index(s + i + 1)) < 0) {
                return "has an unknown day (use Mon..Sun)";
            }
            i += 4;
        }
        for (;; a = (a + 1) % 7) {
            *days |= 1u << a;
            if (a == b) {
                break;
            }
        }
        if (i < len && s[i++] != ',') {
            return "must look like Mon-Fri 09:00-17:00";
        }
    }
    return *days ? NULL : "names no day";
}

const char *lcrm_parse_hours(const char *s, lcrm_hours_t *h)
{
    const char *sp = strchr(s, ' '), *err;

    if (!sp || strlen(sp + 1) != 11 || sp[6] != '-') {
        return "must look like Mon-Fri 09:00-17:00";
    }
    if ((err = parse_days(s, (apr_size_t)(sp - s), &h->days))) {
        return err;
    }
    h->open_minute = parse_hhmm(sp + 1);
    h->close_minute = parse_hhmm(sp + 7);
    if (h->open_minute < 0 || h->close_minute < 0
        || h->open_minute >= h->close_minute) {
        return "must have an opening time before the closing time";
    }
    return NULL;
}
