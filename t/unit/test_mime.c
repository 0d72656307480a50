/*
 * lcrm_mime: the message and iCalendar builders against golden files in
 * t/unit/data/mime (regenerate one with LCRM_MIME_REGOLD=1 and review the
 * diff), plus the properties that keep user input out of headers: RFC 2047
 * words, address checks, HTML escaping, RFC 5545 escaping and folding.
 */
#include "unit.h"
#include "lcrm_mime.h"

#include <apr_file_io.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 APR_INT64_C(1796313600000000)   /* 2026-12-03T16:00:00Z */

static const char *golden(const char *name, const char *got)
{
    const char *path = apr_pstrcat(lcrm_test_pool, LCRM_TEST_DATA, "/mime/",
                                   name, NULL);
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;

    if (getenv("LCRM_MIME_REGOLD")) {
        FILE *w = fopen(path, "wb");
        if (w) {
            fputs(got, w);
            fclose(w);
        }
    }
    if (apr_file_open(&f, path, APR_READ | APR_BINARY, 0, lcrm_test_pool)
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f)) {
        return "(missing golden file)";
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(lcrm_test_pool, n + 1);
    apr_file_read_full(f, buf, n, &n);
    buf[n] = '\0';
    apr_file_close(f);
    return buf;
}

static lcrm_ics_t event(void)
{
    lcrm_ics_t ev = {"REQUEST", "5f0c6b1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b@app.example.com",
                     2, T0, T0 + APR_INT64_C(86400000000),
                     T0 + APR_INT64_C(88200000000),
                     "Consultation with Zoë; \"Ops\", Team\\West",
                     "Line one\nBEGIN:VEVENT\r\nATTENDEE:mailto:evil@example.com",
                     "https://meet.example.com/room?a=1,b=2",
                     "Acme Consulting", "noreply@example.com",
                     "client@example.com", 0};
    return ev;
}

static void test_ics_golden(void)
{
    lcrm_ics_t ev = event();
    const char *ics = lcrm_ics_build(lcrm_test_pool, &ev);
    LCRM_ASSERT_STR(ics, golden("request.ics", ics));
    ev.method = "CANCEL";
    ev.sequence = 3;
    ev.cancelled = 1;
    ics = lcrm_ics_build(lcrm_test_pool, &ev);
    LCRM_ASSERT_STR(ics, golden("cancel.ics", ics));
}

static void test_ics_no_injection(void)
{
    lcrm_ics_t ev = event();
    const char *ics = lcrm_ics_build(lcrm_test_pool, &ev), *line;
    int vevents = 0, attendees = 0;

    for (line = ics; line && *line; line = strstr(line, "\r\n")) {
        if (*line == '\r') {
            line += 2;
        }
        vevents += !strncmp(line, "BEGIN:VEVENT", 12);
        attendees += !strncmp(line, "ATTENDEE", 8);
    }
    LCRM_ASSERT_INT(vevents, 1);
    LCRM_ASSERT_INT(attendees, 1);
    CU_ASSERT(strstr(ics, "\\nBEGIN:VEVENT") != NULL);
}

static void test_ics_fold(void)
{
    const char *long_line = apr_pstrcat(lcrm_test_pool, "SUMMARY:",
        "ééééééééééééééééééééééééééééééééééééééééééééééééééééé", "\r\n",
        NULL);
    const char *f = lcrm_ics_fold(lcrm_test_pool, long_line), *l = f;

    while (*l) {
        const char *e = strstr(l, "\r\n");
        CU_ASSERT_FATAL(e != NULL);
        CU_ASSERT(e - l <= 75);
        /* never cut inside a UTF-8 sequence */
        CU_ASSERT(((unsigned char)e[-1] & 0xC0) != 0xC0);
        l = e + 2;
    }
    CU_ASSERT(strstr(f, "\r\n ") != NULL);
}

static void test_header_text(void)
{
    apr_pool_t *p = lcrm_test_pool;
    LCRM_ASSERT_STR(lcrm_mime_header_text(p, "Plain subject"), "Plain subject");
    LCRM_ASSERT_STR(lcrm_mime_header_text(p, "Caf\xc3\xa9"),
                    "=?UTF-8?B?Q2Fmw6k=?=");
    /* CR/LF never reach the header, even encoded */
    LCRM_ASSERT_STR(lcrm_mime_header_text(p, "Hi\r\nBcc: x@example.com"),
                    "=?UTF-8?B?SGkgIEJjYzogeEBleGFtcGxlLmNvbQ==?=");
    LCRM_ASSERT_STR(lcrm_mime_header_text(p, "a =?x?= b"),
                    "=?UTF-8?B?YSA9P3g/PSBi?=");
}

static void test_header_words_split(void)
{
    const char *s = lcrm_mime_header_text(lcrm_test_pool,
        "Réservation confirmée pour votre consultation – à bientôt chez nous ✓");
    const char *w = s;
    int words = 0;

    while ((w = strstr(w, "=?UTF-8?B?"))) {
        const char *end = strstr(w, "?=");
        CU_ASSERT_FATAL(end != NULL);
        CU_ASSERT(end + 2 - w <= 75);
        words++;
        w = end + 2;
    }
    CU_ASSERT(words >= 2);
    CU_ASSERT(strstr(s, "?=\r\n =?UTF-8?B?") != NULL);
}

static void test_address(void)
{
    const char *name, *addr;
    CU_ASSERT(lcrm_mime_address_ok("a@example.com"));
    CU_ASSERT(!lcrm_mime_address_ok("a@example.com\r\nBcc: b@example.com"));
    CU_ASSERT(!lcrm_mime_address_ok("a b@example.com"));
    CU_ASSERT(!lcrm_mime_address_ok("<a@example.com>"));
    CU_ASSERT(!lcrm_mime_address_ok("a@b@example.com"));
    CU_ASSERT(!lcrm_mime_address_ok("@example.com"));
    CU_ASSERT(lcrm_mime_parse_mailbox(lcrm_test_pool,
              "Acme CRM <noreply@example.com>", &name, &addr) == NULL);
    LCRM_ASSERT_STR(name, "Acme CRM");
    LCRM_ASSERT_STR(addr, "noreply@example.com");
    CU_ASSERT(lcrm_mime_parse_mailbox(lcrm_test_pool, "noreply@example.com",
                                      &name, &addr) == NULL);
    CU_ASSERT(name == NULL);
    CU_ASSERT(lcrm_mime_parse_mailbox(lcrm_test_pool, "A\"B <x@example.com>",
                                      &name, &addr) != NULL);
    CU_ASSERT(lcrm_mime_parse_mailbox(lcrm_test_pool, "A <x@example.com",
                                      &name, &addr) != NULL);
}

static void test_html_escape(void)
{
    LCRM_ASSERT_STR(lcrm_html_escape(lcrm_test_pool,
                                     "<a href=\"x\">O'Neil & co</a>"),
                    "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;");
}

static void test_message_golden(void)
{
    lcrm_ics_t ev = event();
    lcrm_mail_t m = {"Acme Consulting ✓", "noreply@example.com",
                     "client@example.com", "Consultation booked – confirmation",
                     "<5f0c6b1e@app.example.com>", T0,
                     "Hello Zoë,\nyour consultation is booked.\n",
                     "<p>Hello Zo&euml;,</p>\n", NULL, NULL};
    const char *err = NULL, *msg = lcrm_mime_build(lcrm_test_pool, &m, &err);

    CU_ASSERT_FATAL(msg != NULL);
    LCRM_ASSERT_STR(msg, golden("alternative.eml", msg));
    m.ics = lcrm_ics_build(lcrm_test_pool, &ev);
    m.ics_method = "REQUEST";
    msg = lcrm_mime_build(lcrm_test_pool, &m, &err);
    CU_ASSERT_FATAL(msg != NULL);
    LCRM_ASSERT_STR(msg, golden("with-ics.eml", msg));
}

static void test_message_refuses_bad_headers(void)
{
    lcrm_mail_t m = {NULL, "noreply@example.com",
                     "x@example.com\r\nBcc: y@example.com", "s",
                     "<1@example.com>", T0, "t", "h", NULL, NULL};
    const char *err = NULL;
    CU_ASSERT(lcrm_mime_build(lcrm_test_pool, &m, &err) == NULL);
    m.to_addr = "x@example.com";
    m.message_id = "<1@example.com>\r\nBcc: y@example.com";
    CU_ASSERT(lcrm_mime_build(lcrm_test_pool, &m, &err) == NULL);
    m.message_id = "<1@example.com>";
    CU_ASSERT(lcrm_mime_build(lcrm_test_pool, &m, &err) != NULL);
}

void lcrm_test_register_mime(void)
{
    CU_pSuite s = lcrm_test_suite("mime");
    LCRM_TEST(s, test_ics_golden);
    LCRM_TEST(s, test_ics_no_injection);
    LCRM_TEST(s, test_ics_fold);
    LCRM_TEST(s, test_header_text);
    LCRM_TEST(s, test_header_words_split);
    LCRM_TEST(s, test_address);
    LCRM_TEST(s, test_html_escape);
    LCRM_TEST(s, test_message_golden);
    LCRM_TEST(s, test_message_refuses_bad_headers);
}
