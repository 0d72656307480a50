/*
 * lcrm_mime: pure builders for outgoing mail (no httpd, no I/O): an
 * RFC 5322 / MIME message (UTF-8, multipart/alternative text + HTML,
 * optional text/calendar part), RFC 2047 encoded subjects, HTML escaping,
 * and RFC 5545 iCalendar events with escaped, folded text.
 *
 * Nothing a user typed can create or break a header: header values are
 * either fixed, validated addresses (lcrm_mime_address_ok), or encoded
 * words, and every body part is base64, so no line of user text ever
 * reaches the message as-is.  Output is deterministic for given input
 * (boundaries derive from the Message-ID), which the golden-file unit
 * tests rely on.
 */
#ifndef LCRM_MIME_H
#define LCRM_MIME_H

#include <apr_pools.h>
#include <apr_time.h>

/* One message to build. */
typedef struct {
    const char *from_name;   /* display name (UTF-8), may be NULL */
    const char *from_addr;   /* validated address */
    const char *to_addr;     /* validated address */
    const char *subject;     /* UTF-8; control characters become spaces */
    const char *message_id;  /* "<local@host>" */
    apr_time_t date;
    const char *text;        /* text/plain body, UTF-8 */
    const char *html;        /* text/html body, UTF-8 */
    const char *ics;         /* text/calendar body or NULL */
    const char *ics_method;  /* REQUEST or CANCEL when ics is set */
} lcrm_mail_t;

/* An iCalendar event (one VEVENT in a VCALENDAR with a METHOD). */
typedef struct {
    const char *method;      /* REQUEST or CANCEL */
    const char *uid;         /* "{id}@{host}" */
    int sequence;
    apr_time_t stamp, start, end;
    const char *summary;     /* escaped and folded here */
    const char *description; /* may be NULL */
    const char *location;    /* may be NULL */
    const char *organizer_name; /* may be NULL */
    const char *organizer_addr;
    const char *attendee_addr;
    int cancelled;           /* STATUS:CANCELLED, else CONFIRMED */
} lcrm_ics_t;

/*
 * Non-zero when addr is a plain address usable in a header and an SMTP
 * envelope: local@domain, 3..254 printable ASCII characters, no space,
 * quote, angle bracket, comma, semicolon, colon or backslash.
 */
int lcrm_mime_address_ok(const char *addr);

/*
 * Splits "Display Name <local@domain>" or a bare address into *name
 * (NULL when none) and *addr.  Returns NULL, or why the value is refused
 * (bad address, control characters, a name with quotes or brackets).
 */
const char *lcrm_mime_parse_mailbox(apr_pool_t *p, const char *spec,
                                    const char **name, const char **addr);

/*
 * A header value as one or more RFC 2047 "B" encoded words (UTF-8) when
 * it has non-ASCII bytes, control characters or "=?"; else the text
 * itself.  Encoded words are at most 75 characters, split on character
 * boundaries and folded with CRLF SP.  Control characters become spaces.
 */
const char *lcrm_mime_header_text(apr_pool_t *p, const char *text);

/* HTML-escapes & < > " ' (text content and attribute values). */
const char *lcrm_html_escape(apr_pool_t *p, const char *s);

/*
 * An RFC 5545 TEXT value: \ ; , escaped, newlines as \n, other control
 * characters dropped.
 */
const char *lcrm_ics_text(apr_pool_t *p, const char *s);

/*
 * Folds each CRLF-terminated content line of ics to at most 75 octets
 * (CRLF SP continuation, never inside a UTF-8 sequence).
 */
const char *lcrm_ics_fold(apr_pool_t *p, const char *ics);

/* The VCALENDAR text (CRLF lines, folded). */
const char *lcrm_ics_build(apr_pool_t *p, const lcrm_ics_t *ev);

/*
 * The whole message (CRLF lines).  Returns NULL and sets *err when an
 * address or the Message-ID is unusable in a header.
 */
const char *lcrm_mime_build(apr_pool_t *p, const lcrm_mail_t *m,
                            const char **err);

#endif
