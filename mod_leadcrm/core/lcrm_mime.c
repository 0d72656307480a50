/*
 * lcrm_mime: message, header and iCalendar builders (see lcrm_mime.h).
 */
#include "lcrm_mime.h"

#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

#define WORD_BYTES 45   /* 45 bytes -> 60 base64 chars + 12 = 72 <= 75 */
#define ICS_LINE 75
#define B64_LINE 76

int lcrm_mime_address_ok(const char *addr)
{
    const char *at = addr ? strchr(addr, '@') : NULL, *p;
    apr_size_t n = addr ? strlen(addr) : 0;

    if (!at || at == addr || !at[1] || strchr(at + 1, '@') || n < 3
        || n > 254) {
        return 0;
    }
    for (p = addr; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7F || strchr("<>\"(),;:\\[]", c)) {
            return 0;
        }
    }
    return 1;
}

const char *lcrm_mime_parse_mailbox(apr_pool_t *p, const char *spec,
                                    const char **name, const char **addr)
{
    const char *lt = strchr(spec, '<'), *s;
    apr_size_t len;

    for (s = spec; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7F) {
            return "must not contain control characters";
        }
    }
    *name = NULL;
    if (!lt) {
        *addr = spec;
        return lcrm_mime_address_ok(spec) ? NULL : "is not a valid address";
    }
    len = strlen(lt);
    if (len < 3 || lt[len - 1] != '>') {
        return "must be \"Name <address>\" or an address";
    }
    *addr = apr_pstrmemdup(p, lt + 1, len - 2);
    if (!lcrm_mime_address_ok(*addr)) {
        return "is not a valid address";
    }
    while (lt > spec && lt[-1] == ' ') {
        lt--;
    }
    if (lt > spec) {
        *name = apr_pstrmemdup(p, spec, (apr_size_t)(lt - spec));
        if (strpbrk(*name, "\"<>\\")) {
            return "display name must not contain quotes, brackets or \\";
        }
    }
    return NULL;
}

static int needs_encoding(const char *t)
{
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if (c < 0x20 || c >= 0x7F || (t[0] == '=' && t[1] == '?')) {
            return 1;
        }
    }
    return 0;
}

/* Length of the UTF-8 sequence starting with byte c (1 for bad bytes). */
static apr_size_t utf8_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

static const char *b64(apr_pool_t *p, const char *data, apr_size_t n)
{
    char *out = apr_palloc(p, (apr_size_t)apr_base64_encode_len((int)n));
    apr_base64_encode(out, data, (int)n);
    return out;
}

const char *lcrm_mime_header_text(apr_pool_t *p, const char *text)
{
    char *clean = apr_pstrdup(p, text), *c;
    const char *out = NULL;
    apr_size_t i = 0, n;

    for (c = clean; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7F) {
            *c = ' ';
        }
    }
    if (!needs_encoding(text)) {
        return clean;
    }
    n = strlen(clean);
    while (i < n) {
        apr_size_t j = i;
        while (j < n && j + utf8_len((unsigned char)clean[j]) - i
                            <= WORD_BYTES) {
            j += utf8_len((unsigned char)clean[j]);
        }
        if (j > n) {
            j = n;
        }
        out = apr_pstrcat(p, out ? out : "", out ? "\r\n " : "",
                          "=?UTF-8?B?", b64(p, clean + i, j - i), "?=", NULL);
        i = j;
    }
    return out;
}

const char *lcrm_html_escape(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *q;
    char *out, *o;

    for (q = s; *q; q++) {
        n += strchr("&<>\"'", *q) ? 6 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (q = s; *q; q++) {
        switch (*q) {
        case '&': memcpy(o, "&amp;", 5); o += 5; break;
        case '<': memcpy(o, "&lt;", 4); o += 4; break;
        case '>': memcpy(o, "&gt;", 4); o += 4; break;
        case '"': memcpy(o, "&quot;", 6); o += 6; break;
        case '\'': memcpy(o, "&#39;", 5); o += 5; break;
        default: *o++ = *q;
        }
    }
    *o = '\0';
    return out;
}

const char *lcrm_ics_text(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == ';' || c == ',') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else if (c >= 0x20 && c != 0x7F) {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

/* Appends one content line (without its CRLF) folded to ICS_LINE octets. */
static char *fold_line(char *o, const char *line, apr_size_t n)
{
    apr_size_t i = 0, width = ICS_LINE;

    while (n - i > width) {
        apr_size_t j = i;
        while (j + utf8_len((unsigned char)line[j]) - i <= width) {
            j += utf8_len((unsigned char)line[j]);
        }
        memcpy(o, line + i, j - i);
        o += j - i;
        memcpy(o, "\r\n ", 3);
        o += 3;
        i = j;
        width = ICS_LINE - 1;   /* the leading space counts */
    }
    memcpy(o, line + i, n - i);
    return o + (n - i);
}

const char *lcrm_ics_fold(apr_pool_t *p, const char *ics)
{
    apr_size_t n = strlen(ics);
    char *out = apr_palloc(p, n + n / 24 * 3 + 8), *o = out;

    while (*ics) {
        const char *end = strstr(ics, "\r\n");
        apr_size_t len = end ? (apr_size_t)(end - ics) : strlen(ics);
        o = fold_line(o, ics, len);
        memcpy(o, "\r\n", 2);
        o += 2;
        ics += len + (end ? 2 : 0);
    }
    *o = '\0';
    return out;
}

static const char *ics_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d%02d%02dT%02d%02d%02dZ", x.tm_year + 1900,
                        x.tm_mon + 1, x.tm_mday, x.tm_hour, x.tm_min,
                        x.tm_sec);
}

const char *lcrm_ics_build(apr_pool_t *p, const lcrm_ics_t *ev)
{
    const char *org = ev->organizer_name
        ? apr_psprintf(p, "ORGANIZER;CN=\"%s\":mailto:%s",
                       lcrm_ics_text(p, ev->organizer_name),
                       ev->organizer_addr)
        : apr_psprintf(p, "ORGANIZER:mailto:%s", ev->organizer_addr);
    const char *s = apr_pstrcat(p,
        "BEGIN:VCALENDAR\r\n"
        "PRODID:-//mod_leadcrm//EN\r\n"
        "VERSION:2.0\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:", ev->method, "\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:", lcrm_ics_text(p, ev->uid), "\r\n",
        apr_psprintf(p, "SEQUENCE:%d\r\n", ev->sequence),
        "DTSTAMP:", ics_time(p, ev->stamp), "\r\n"
        "DTSTART:", ics_time(p, ev->start), "\r\n"
        "DTEND:", ics_time(p, ev->end), "\r\n"
        "SUMMARY:", lcrm_ics_text(p, ev->summary), "\r\n",
        ev->description ? "DESCRIPTION:" : "",
        ev->description ? lcrm_ics_text(p, ev->description) : "",
        ev->description ? "\r\n" : "",
        ev->location ? "LOCATION:" : "",
        ev->location ? lcrm_ics_text(p, ev->location) : "",
        ev->location ? "\r\n" : "",
        org, "\r\n"
        "ATTENDEE;ROLE=REQ-PARTICIPANT:mailto:", ev->attendee_addr, "\r\n"
        "STATUS:", ev->cancelled ? "CANCELLED" : "CONFIRMED", "\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n", NULL);
    return lcrm_ics_fold(p, s);
}

/* base64 of text in lines of B64_LINE characters, CRLF-terminated. */
static const char *b64_body(apr_pool_t *p, const char *text)
{
    const char *all = b64(p, text, strlen(text));
    apr_size_t n = strlen(all), i;
    char *out = apr_palloc(p, n + (n / B64_LINE + 1) * 2 + 1), *o = out;

    for (i = 0; i < n; i += B64_LINE) {
        apr_size_t k = n - i < B64_LINE ? n - i : B64_LINE;
        memcpy(o, all + i, k);
        o += k;
        memcpy(o, "\r\n", 2);
        o += 2;
    }
    *o = '\0';
    return out;
}

static const char *rfc5322_date(apr_pool_t *p, apr_time_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
                                       "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
                                         "Jun", "Jul", "Aug", "Sep", "Oct",
                                         "Nov", "Dec"};
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                        days[x.tm_wday], x.tm_mday, months[x.tm_mon],
                        x.tm_year + 1900, x.tm_hour, x.tm_min, x.tm_sec);
}

/* A boundary that base64 can never produce ("=_"), from the Message-ID. */
static const char *boundary(apr_pool_t *p, const char *seed, const char *tag)
{
    apr_uint64_t h = 0xcbf29ce484222325ULL;
    for (; *seed; seed++) {
        h = (h ^ (unsigned char)*seed) * 0x100000001b3ULL;
    }
    return apr_psprintf(p, "=_lcrm_%016" APR_UINT64_T_HEX_FMT "_%s", h, tag);
}

static int message_id_ok(const char *id)
{
    apr_size_t n = strlen(id);
    const char *q;
    if (n < 5 || n > 250 || id[0] != '<' || id[n - 1] != '>'
        || !strchr(id, '@')) {
        return 0;
    }
    for (q = id + 1; q < id + n - 1; q++) {
        if ((unsigned char)*q <= 0x20 || *q >= 0x7F || strchr("<>", *q)) {
            return 0;
        }
    }
    return 1;
}

static const char *part(apr_pool_t *p, const char *type, const char *body)
{
    return apr_pstrcat(p, "Content-Type: ", type, "\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n",
                       b64_body(p, body), NULL);
}

static const char *alternative(apr_pool_t *p, const lcrm_mail_t *m,
                               const char *alt)
{
    return apr_pstrcat(p,
        "--", alt, "\r\n", part(p, "text/plain; charset=UTF-8", m->text),
        "--", alt, "\r\n", part(p, "text/html; charset=UTF-8", m->html),
        "--", alt, "--\r\n", NULL);
}

const char *lcrm_mime_build(apr_pool_t *p, const lcrm_mail_t *m,
                            const char **err)
{
    const char *alt = boundary(p, m->message_id, "alt"), *head, *from;

    if (!lcrm_mime_address_ok(m->from_addr)
        || !lcrm_mime_address_ok(m->to_addr)) {
        *err = "unusable address";
        return NULL;
    }
    if (!message_id_ok(m->message_id)) {
        *err = "unusable Message-ID";
        return NULL;
    }
    from = m->from_name
        ? apr_pstrcat(p, lcrm_mime_header_text(p, m->from_name), " <",
                      m->from_addr, ">", NULL)
        : m->from_addr;
    head = apr_pstrcat(p, "From: ", from, "\r\n"
                       "To: ", m->to_addr, "\r\n"
                       "Subject: ", lcrm_mime_header_text(p, m->subject),
                       "\r\n"
                       "Date: ", rfc5322_date(p, m->date), "\r\n"
                       "Message-ID: ", m->message_id, "\r\n"
                       "MIME-Version: 1.0\r\n"
                       "Auto-Submitted: auto-generated\r\n", NULL);
    if (!m->ics) {
        return apr_pstrcat(p, head,
                           "Content-Type: multipart/alternative; boundary=\"",
                           alt, "\"\r\n\r\n", alternative(p, m, alt), NULL);
    }
    {
        const char *mix = boundary(p, m->message_id, "mix");
        const char *cal = apr_pstrcat(p, "text/calendar; charset=UTF-8;"
                                      " method=", m->ics_method, NULL);
        return apr_pstrcat(p, head,
            "Content-Type: multipart/mixed; boundary=\"", mix, "\"\r\n\r\n",
            "--", mix, "\r\n"
            "Content-Type: multipart/alternative; boundary=\"", alt,
            "\"\r\n\r\n", alternative(p, m, alt),
            "--", mix, "\r\n"
            "Content-Disposition: attachment; filename=\"invite.ics\"\r\n",
            part(p, cal, m->ics),
            "--", mix, "--\r\n", NULL);
    }
}
