/*
 * lcrm_logjson: JSON string literals for log lines.  The output is always
 * valid JSON and valid UTF-8, so a log shipper never chokes on a line, and
 * it stays readable (valid UTF-8 is kept as is, not \u-escaped).
 */
#include "lcrm_logjson.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n, i;
    unsigned long cp;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2; cp = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3; cp = c & 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4; cp = c & 0x07;
    }
    else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

const char *lcrm_logjson_str(apr_pool_t *pool, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    char *out, *o;
    size_t n;

    if (!s) {
        return "\"-\"";
    }
    /* worst case: 6 bytes per input byte (\u00XX), 3 for U+FFFD */
    out = o = apr_palloc(pool, strlen(s) * 6 + 3);
    *o++ = '"';
    while (*p) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p++;
        }
        else if (*p < 0x20 || *p == 0x7F) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[*p >> 4];
            o[5] = hex[*p & 0x0F];
            o += 6;
            p++;
        }
        else if ((n = utf8_seq_len(p)) > 0) {
            memcpy(o, p, n);
            o += n;
            p += n;
        }
        else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}
