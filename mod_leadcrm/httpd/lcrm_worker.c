/*
 * lcrm_worker: mod_watchdog mail worker (see lcrm_worker.h).
 *
 * Each pass borrows one connection from mod_dbd's pool (ap_dbd_open) and
 * talks to it with libpq's PQexecParams (unnamed statements: nothing on
 * the server survives a reset, PITFALLS.md), always ending its
 * transactions before the connection goes back.
 *
 * Delivery is at least once: a row is leased (committed) before it is
 * sent and marked after; if the node dies in between, the lease runs out
 * and another pass sends it again with the same Message-ID, which is
 * derived from the row id.  The lease (LEASE_S) is longer than curl's
 * whole-transfer timeout, so two nodes never hold one row at once.
 */
#include "lcrm_config.h"
#include "lcrm_metrics.h"
#include "lcrm_mime.h"
#include "lcrm_private.h"
#include "lcrm_secret.h"
#include "lcrm_aead.h"
#include "lcrm_smtp.h"
#include "lcrm_trace.h"
#include "lcrm_worker.h"

#include <apr_dbd.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>
#include <libpq-fe.h>
#include <curl/curl.h>

#include <apr_lib.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include <apr_uuid.h>
#include <stdlib.h>

#define LEASE_S 120         /* > curl's 60 s transfer timeout */
#define BATCH 50            /* rows per lease */
#define PASS_MAX 1000       /* rows per pass; the next pass continues */
#define JOBS_MAX 200
#define RETRY_MAX_S 3600
#define TOKEN_BYTES 32      /* 256 bits */

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* Touched only by the watchdog thread of the child that runs it. */
typedef struct {
    server_rec *s;
    const lcrm_mail_conf_t *mc;
    const lcrm_aead_ring_t *ring;
    int published;
    apr_time_t last_complaint;
} worker_t;

/* One leased row and what rendering needs (columns of render_sql). */
typedef struct {
    const char *id, *kind, *to, *subject, *payload, *sealed;
    const char *user_name, *c_name, *c_status, *c_type, *c_link;
    const char *c_seq, *l_name, *l_email, *l_company, *l_source, *ref_id;
    const char *traceparent;    /* of the request that queued it, or NULL */
    int attempts;
} row_t;

static const char *const render_sql =
    "SELECT o.id, o.kind, o.to_addr, o.subject, o.payload::text, o.sealed,"
    " u.name, c.name, c.status::text, c.meeting_type::text, c.meeting_link,"
    " (SELECT m.sequence FROM mail_calendar m WHERE m.consultation_id = c.id),"
    " l.name, l.email, l.company, l.source::text, o.ref_id::text,"
    " o.traceparent"
    " FROM mail_outbox o"
    " LEFT JOIN users u ON u.id = o.ref_id"
    " LEFT JOIN consultations c ON c.id = o.ref_id"
    " LEFT JOIN leads l ON l.id = o.ref_id AND l.deleted_at IS NULL"
    " WHERE o.id = $1::uuid";

/* ---- database helpers ------------------------------------------------------ */

/* Runs sql; returns the result when it succeeded, else NULL (logged). */
static PGresult *q(worker_t *w, PGconn *conn, const char *sql, int n,
                   const char *const *args)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, args, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        return res;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, w->s, LCRM_LOGNO(01401)
                 "mail worker statement failed: %s", PQerrorMessage(conn));
    PQclear(res);
    return NULL;
}

static int ok(worker_t *w, PGconn *conn, const char *sql, int n,
              const char *const *args)
{
    PGresult *res = q(w, conn, sql, n, args);
    PQclear(res);
    return res != NULL;
}

static const char *col(apr_pool_t *p, PGresult *res, int i, int j)
{
    return PQgetisnull(res, i, j) ? NULL
                                  : apr_pstrdup(p, PQgetvalue(res, i, j));
}

/* ---- settings, jobs, reminders ------------------------------------------------ */

/* Tells the database (the triggers) this node's mail settings. */
static void publish(worker_t *w, PGconn *conn, apr_pool_t *p)
{
    const char *admins = "{", *args[3];
    int i;

    for (i = 0; w->mc->notify_admins && i < w->mc->notify_admins->nelts; i++) {
        admins = apr_pstrcat(p, admins, i ? "," : "", "\"",
                             APR_ARRAY_IDX(w->mc->notify_admins, i,
                                           const char *), "\"", NULL);
    }
    args[0] = "true";
    args[1] = apr_psprintf(p, "%" APR_INT64_T_FMT,
                           lcrm_mail_reminder_before(w->mc));
    args[2] = apr_pstrcat(p, admins, "}", NULL);
    w->published = ok(w, conn, "SELECT lcrm_mail_configure($1::boolean,"
                      " $2::integer, $3::text[])", 3, args);
}

/* A new lowercase UUID for an outbox row. */
static const char *new_uuid(apr_pool_t *p)
{
    apr_uuid_t u;
    char *buf = apr_palloc(p, APR_UUID_FORMATTED_LENGTH + 1), *c;
    apr_uuid_get(&u);
    apr_uuid_format(buf, &u);
    for (c = buf; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return buf;
}

/* One job: token, its hash and its sealed copy for the mail row, which
 * keeps the job's trace context (traceparent, may be NULL). */
static int run_job(worker_t *w, PGconn *conn, apr_pool_t *p, const char *job,
                   const char *traceparent)
{
    const char *token, *sealed, *args[4];

    args[3] = new_uuid(p);
    if (lcrm_random_token(p, TOKEN_BYTES, &token) != APR_SUCCESS
        || lcrm_aead_seal(p, w->ring, token, strlen(token),
                          apr_pstrcat(p, "mail:", args[3], NULL), &sealed)
               != APR_SUCCESS) {
        return 0;
    }
    args[0] = job;
    args[1] = lcrm_sha256_hex(p, token, strlen(token));
    args[2] = sealed;
    if (!ok(w, conn, "SELECT lcrm_mail_run_job($1::bigint, $2, $3,"
            " $4::uuid)", 4, args)) {
        return 0;
    }
    args[0] = args[3];
    args[1] = traceparent;
    return !traceparent
           || ok(w, conn, "UPDATE mail_outbox SET traceparent = $2"
                 " WHERE id = $1::uuid", 2, args);
}

/* Deferred token jobs, in one transaction (jobs locked SKIP LOCKED). */
static void run_jobs(worker_t *w, PGconn *conn, apr_pool_t *p)
{
    PGresult *res;
    int i, good = 1;

    if (!ok(w, conn, "BEGIN", 0, NULL)) {
        return;
    }
    res = q(w, conn, apr_psprintf(p, "SELECT id, traceparent FROM mail_jobs"
                                  " ORDER BY id LIMIT %d FOR UPDATE SKIP"
                                  " LOCKED", JOBS_MAX), 0, NULL);
    for (i = 0; res && good && i < PQntuples(res); i++) {
        good = run_job(w, conn, p, PQgetvalue(res, i, 0), col(p, res, i, 1));
    }
    PQclear(res);
    ok(w, conn, res && good ? "COMMIT" : "ROLLBACK", 0, NULL);
}

/* ---- rendering ------------------------------------------------------------ */

/* "2026-12-05T14:30:00.000Z" -> apr time (0 when malformed). */
static apr_time_t parse_ts(const char *s)
{
    apr_time_exp_t x;
    apr_time_t t;
    int y, mo, d, h, mi, sec;

    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi,
                     &sec) != 6) {
        return 0;
    }
    memset(&x, 0, sizeof(x));
    x.tm_year = y - 1900;
    x.tm_mon = mo - 1;
    x.tm_mday = d;
    x.tm_hour = h;
    x.tm_min = mi;
    x.tm_sec = sec;
    return apr_time_exp_gmt_get(&t, &x) == APR_SUCCESS ? t : 0;
}

/* A string field of the payload JSON (our own, no escapes in values). */
static const char *payload_str(apr_pool_t *p, const char *json,
                               const char *key)
{
    const char *k = json ? strstr(json, apr_pstrcat(p, "\"", key, "\": ",
                                                    NULL)) : NULL;
    const char *v, *e;
    if (!k) {
        return NULL;
    }
    v = k + strlen(key) + 4;
    if (*v != '"') {
        e = v + strcspn(v, ",}");
        return apr_pstrmemdup(p, v, (apr_size_t)(e - v));
    }
    e = strchr(v + 1, '"');
    return e ? apr_pstrmemdup(p, v + 1, (apr_size_t)(e - v - 1)) : NULL;
}

static const char *human_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t x;
    apr_time_exp_gmt(&x, t);
    return apr_psprintf(p, "%04d-%02d-%02d %02d:%02d UTC", x.tm_year + 1900,
                        x.tm_mon + 1, x.tm_mday, x.tm_hour, x.tm_min);
}

typedef struct {
    const char *greeting;   /* name (plain), may be NULL */
    const char *lines;      /* plain text paragraphs (already safe) */
    const char *html;       /* HTML paragraphs (already escaped) */
} body_t;

static void para(apr_pool_t *p, body_t *b, const char *text)
{
    b->lines = apr_pstrcat(p, b->lines ? b->lines : "", text, "\n\n", NULL);
    b->html = apr_pstrcat(p, b->html ? b->html : "", "<p>",
                          lcrm_html_escape(p, text), "</p>\n", NULL);
}

/* A paragraph with one link built from LeadCRMPublicURL only. */
static void link_para(apr_pool_t *p, body_t *b, const char *text,
                      const char *label, const char *url)
{
    b->lines = apr_pstrcat(p, b->lines ? b->lines : "", text, "\n", url,
                           "\n\n", NULL);
    b->html = apr_pstrcat(p, b->html ? b->html : "", "<p>",
                          lcrm_html_escape(p, text), "<br><a href=\"",
                          lcrm_html_escape(p, url), "\">",
                          lcrm_html_escape(p, label), "</a></p>\n", NULL);
}

static const char *open_token(worker_t *w, apr_pool_t *p, const row_t *r)
{
    unsigned char *plain;
    apr_size_t len;
    if (!r->sealed || lcrm_aead_open(p, w->ring, r->sealed,
                                     apr_pstrcat(p, "mail:", r->id, NULL),
                                     &plain, &len) != APR_SUCCESS) {
        return NULL;
    }
    return (const char *)plain;
}

/* Account mails; NULL when the row cannot be rendered. */
static const char *account_body(worker_t *w, apr_pool_t *p, const row_t *r,
                                body_t *b)
{
    const char *url = w->mc->public_url, *token;

    if (!strcmp(r->kind, "email_verification")
        || !strcmp(r->kind, "password_reset")) {
        int verify = r->kind[0] == 'e';
        if (!(token = open_token(w, p, r))) {
            return NULL;
        }
        link_para(p, b, verify ? "Please confirm your email address by "
                                 "opening this link (valid for 24 hours):"
                               : "To choose a new password, open this link "
                                 "(valid for 30 minutes):",
                  verify ? "Confirm your email address"
                         : "Reset your password",
                  apr_pstrcat(p, url, verify ? "/verify-email#token="
                                             : "/reset-password#token=",
                              token, NULL));
        para(p, b, verify ? "If you did not create an account, ignore this "
                            "mail."
                          : "If you did not ask for this, ignore this mail;"
                            " your password stays as it is.");
        return "";
    }
    para(p, b, !strcmp(r->kind, "password_changed")
                   ? "The password of your account was changed."
             : !strcmp(r->kind, "email_changed")
                   ? "The email address of your account was changed; mail"
                     " now goes to the new address."
             : !strcmp(r->kind, "mfa_disabled")
                   ? "Two-factor authentication was turned off for your "
                     "account."
                   : "A new sign-in method was added to your account.");
    para(p, b, "If this was not you, reset your password and contact us.");
    return "";
}

/* Consultation mails and their iCalendar part; NULL to drop the row. */
static const char *booking_body(worker_t *w, apr_pool_t *p, const row_t *r,
                                body_t *b, lcrm_mail_t *m)
{
    apr_time_t start = parse_ts(payload_str(p, r->payload, "scheduledAt"));
    apr_time_t end = parse_ts(payload_str(p, r->payload, "endsAt"));
    const char *seq = payload_str(p, r->payload, "sequence");
    int cancel = !strcmp(r->kind, "booking_cancelled");
    lcrm_ics_t ev;

    if (!r->c_name || !start || !end) {
        return NULL;
    }
    if (!strcmp(r->kind, "booking_reminder")
        && strcmp(r->c_status, "SCHEDULED") && strcmp(r->c_status, "CONFIRMED")) {
        return NULL;
    }
    b->greeting = apr_pstrndup(p, r->c_name, 100);
    para(p, b, apr_pstrcat(p, cancel ? "This consultation was cancelled: "
                           : !strcmp(r->kind, "booking_rescheduled")
                               ? "This consultation has a new time: "
                           : !strcmp(r->kind, "booking_reminder")
                               ? "A reminder of your consultation: "
                               : "Your consultation is booked: ",
                           human_time(p, start), " to ", human_time(p, end),
                           ", ", r->c_type, NULL));
    if (r->c_link && !cancel) {
        para(p, b, apr_pstrcat(p, "Meeting link: ", r->c_link, NULL));
    }
    memset(&ev, 0, sizeof(ev));
    ev.method = cancel ? "CANCEL" : "REQUEST";
    ev.uid = apr_pstrcat(p, r->ref_id, "@", w->mc->public_host, NULL);
    ev.sequence = seq ? atoi(seq) : r->c_seq ? atoi(r->c_seq) : 0;
    ev.stamp = apr_time_now();
    ev.start = start;
    ev.end = end;
    ev.summary = "Consultation";
    ev.location = cancel ? NULL : r->c_link;
    ev.organizer_name = w->mc->from_name;
    ev.organizer_addr = w->mc->from_addr;
    ev.attendee_addr = r->to;
    ev.cancelled = cancel;
    m->ics = lcrm_ics_build(p, &ev);
    m->ics_method = ev.method;
    return "";
}

static const char *lead_body(worker_t *w, apr_pool_t *p, const row_t *r,
                             body_t *b)
{
    if (!r->l_name) {
        return NULL;
    }
    para(p, b, apr_pstrcat(p, !strcmp(r->kind, "lead_alert")
                                  ? "A new lead arrived: "
                                  : "A lead was assigned to you: ",
                           r->l_name, " (", r->l_email,
                           r->l_company ? ", " : "",
                           r->l_company ? r->l_company : "", "), source ",
                           r->l_source, ".", NULL));
    link_para(p, b, "Open it in the console:", "Open the lead",
              apr_pstrcat(p, w->mc->public_url, "/leads/", r->ref_id, NULL));
    return "";
}

/* The whole message for r, or NULL (the row cannot or must not be sent). */
static const char *render(worker_t *w, apr_pool_t *p, const row_t *r)
{
    lcrm_mail_t m;
    body_t b = {NULL, NULL, NULL};
    const char *done, *err, *hello;

    memset(&m, 0, sizeof(m));
    if (!strncmp(r->kind, "booking_", 8)) {
        done = booking_body(w, p, r, &b, &m);
    }
    else if (!strncmp(r->kind, "lead_", 5)) {
        done = lead_body(w, p, r, &b);
    }
    else {
        b.greeting = r->user_name;
        done = account_body(w, p, r, &b);
    }
    if (!done) {
        return NULL;
    }
    hello = b.greeting ? apr_pstrcat(p, "Hello ", b.greeting, ",", NULL)
                       : "Hello,";
    m.from_name = w->mc->from_name;
    m.from_addr = w->mc->from_addr;
    m.to_addr = r->to;
    m.subject = r->subject;
    m.message_id = apr_pstrcat(p, "<", r->id, "@", w->mc->public_host, ">",
                               NULL);
    m.date = apr_time_now();
    m.text = apr_pstrcat(p, hello, "\n\n", b.lines, "-- \n",
                         w->mc->public_url, "\n", NULL);
    m.html = apr_pstrcat(p, "<!DOCTYPE html>\n<html><body>\n<p>",
                         lcrm_html_escape(p, hello), "</p>\n", b.html,
                         "</body></html>\n", NULL);
    return lcrm_mime_build(p, &m, &err);
}

/* ---- sending ----------------------------------------------------------------- */

static int load_row(worker_t *w, PGconn *conn, apr_pool_t *p, const char *id,
                    row_t *r)
{
    const char *args[1] = {id};
    PGresult *res = q(w, conn, render_sql, 1, args);
    const char **f[] = {&r->id, &r->kind, &r->to, &r->subject, &r->payload,
                        &r->sealed, &r->user_name, &r->c_name, &r->c_status,
                        &r->c_type, &r->c_link, &r->c_seq, &r->l_name,
                        &r->l_email, &r->l_company, &r->l_source, &r->ref_id,
                        &r->traceparent};
    int j, found = res && PQntuples(res) == 1;

    for (j = 0; found && j < (int)(sizeof(f) / sizeof(f[0])); j++) {
        *f[j] = col(p, res, 0, j);
    }
    PQclear(res);
    return found;
}

static apr_int64_t retry_after(worker_t *w, int attempts)
{
    apr_int64_t d = lcrm_mail_retry_delay(w->mc);
    while (--attempts > 0 && d < RETRY_MAX_S) {
        d *= 2;
    }
    return d < RETRY_MAX_S ? d : RETRY_MAX_S;
}

static void finish(worker_t *w, PGconn *conn, apr_pool_t *p, const row_t *r,
                   lcrm_smtp_rc_e rc, const char *reply)
{
    const char *args[4], *status;
    PGresult *res;

    args[0] = r->id;
    args[1] = rc == LCRM_SMTP_SENT ? "sent"
              : rc == LCRM_SMTP_FAILED ? "failed" : "retry";
    args[2] = reply;
    args[3] = apr_psprintf(p, "%" APR_INT64_T_FMT,
                           rc == LCRM_SMTP_RETRY
                               ? retry_after(w, r->attempts) : 0);
    res = q(w, conn, "SELECT lcrm_mail_done($1::uuid, $2, $3, $4::integer)",
            4, args);
    status = res && PQntuples(res) ? PQgetvalue(res, 0, 0) : "";
    if (!strcmp(status, "SENT")) {
        lcrm_metrics_count(w->s, LCRM_M_MAIL_SENT);
    }
    else if (!strcmp(status, "FAILED")) {
        lcrm_metrics_count(w->s, LCRM_M_MAIL_FAILED);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, w->s, LCRM_LOGNO(01402)
                     "mail %s (%s) failed for good: %s", r->id, r->kind,
                     reply ? reply : "-");
    }
    PQclear(res);
}

/*
 * The "smtp send" span of a delivery, in the trace of the request that
 * queued the row (lcrm_trace.h: nothing when that request was not
 * recorded or this process exports no traces).  Never the recipient, the
 * message or the reply text (it may name the recipient): the server, the
 * mail kind, the earlier attempts, the outcome and the reply code.
 */
static void trace_send(worker_t *w, apr_pool_t *p, lcrm_span_t *span,
                       const row_t *r, lcrm_smtp_rc_e rc, const char *reply)
{
    apr_uri_t uri;

    if (!span) {
        return;
    }
    lcrm_span_attr(span, "server.address", w->mc->smtp_host);
    if (apr_uri_parse(p, w->mc->smtp_url, &uri) == APR_SUCCESS
        && uri.port_str) {
        lcrm_span_attr(span, "server.port", uri.port_str);
    }
    lcrm_span_attr(span, "leadcrm.mail.kind", r->kind);
    lcrm_span_attr(span, "leadcrm.mail.retry_count",
                   apr_itoa(p, r->attempts > 0 ? r->attempts - 1 : 0));
    lcrm_span_attr(span, "leadcrm.smtp.result",
                   rc == LCRM_SMTP_SENT ? "sent"
                   : rc == LCRM_SMTP_FAILED ? "failed" : "retry");
    if (reply && apr_isdigit(reply[0]) && apr_isdigit(reply[1])
        && apr_isdigit(reply[2])) {
        lcrm_span_attr(span, "smtp.response.code",
                       apr_pstrndup(p, reply, 3));
    }
    lcrm_span_end(span, rc != LCRM_SMTP_SENT);
    lcrm_span_export(span);
}

/* Sends one leased row; returns the SMTP outcome (SENT when not sent). */
static lcrm_smtp_rc_e deliver(worker_t *w, PGconn *conn, apr_pool_t *p,
                              lcrm_smtp_t *smtp, const char *id, int attempts)
{
    const char *msg, *reply = NULL, *args[1] = {id};
    lcrm_span_t *span;
    lcrm_smtp_rc_e rc;
    row_t r;

    memset(&r, 0, sizeof(r));
    if (!load_row(w, conn, p, id, &r)) {
        return LCRM_SMTP_SENT;
    }
    r.attempts = attempts;
    if (!(msg = render(w, p, &r))) {
        /* a reminder for a consultation no longer active is dropped;
         * anything else that cannot be rendered any more fails */
        if (!strcmp(r.kind, "booking_reminder")) {
            ok(w, conn, "DELETE FROM mail_outbox WHERE id = $1::uuid", 1,
               args);
        }
        else {
            finish(w, conn, p, &r, LCRM_SMTP_FAILED, NULL);
        }
        return LCRM_SMTP_SENT;
    }
    span = lcrm_span_detached(p, r.traceparent, "smtp send",
                              LCRM_SPAN_CLIENT);
    rc = lcrm_smtp_send(smtp, p, w->mc->from_addr, r.to, msg, &reply);
    trace_send(w, p, span, &r, rc, reply);
    finish(w, conn, p, &r, rc, reply);
    return rc;
}

/* Gives a leased row back untouched (not attempted after all). */
static void release(worker_t *w, PGconn *conn, const char *id)
{
    const char *args[1] = {id};
    ok(w, conn, "UPDATE mail_outbox SET lease_until = NULL,"
       " attempts = attempts - 1 WHERE id = $1::uuid AND status = 'QUEUED'",
       1, args);
}

/*
 * Leases and sends batches until nothing is due or PASS_MAX rows.  After
 * a transient failure (server down) the rest of the batch is given back
 * unsent, and so is anything left when half the lease has passed: a row
 * is never still held here when its lease runs out.
 */
static void send_due(worker_t *w, PGconn *conn, apr_pool_t *ptemp)
{
    const char *args[2];
    lcrm_smtp_t *smtp = NULL;
    apr_pool_t *p;
    int total = 0, down = 0;

    apr_pool_create(&p, ptemp);
    args[0] = apr_itoa(ptemp, BATCH);
    args[1] = apr_itoa(ptemp, LEASE_S);
    while (total < PASS_MAX && !down) {
        apr_time_t leased = apr_time_now();
        PGresult *res = q(w, conn, "SELECT id, attempts FROM"
                          " lcrm_mail_lease($1::integer, $2::integer)", 2,
                          args);
        int i, n = res ? PQntuples(res) : 0;

        if (n && !smtp && !(smtp = lcrm_smtp_open(ptemp, w->mc))) {
            down = 1;
        }
        for (i = 0; i < n; i++) {
            if (down || apr_time_now() - leased
                            > apr_time_from_sec(LEASE_S / 2)) {
                release(w, conn, PQgetvalue(res, i, 0));
                continue;
            }
            down = deliver(w, conn, p, smtp, PQgetvalue(res, i, 0),
                           atoi(PQgetvalue(res, i, 1))) == LCRM_SMTP_RETRY;
            apr_pool_clear(p);
        }
        PQclear(res);
        if (n < BATCH) {
            break;
        }
        total += n;
    }
    apr_pool_destroy(p);
}

static void update_gauge(worker_t *w, PGconn *conn)
{
    PGresult *res = q(w, conn, "SELECT count(*) FROM mail_outbox"
                      " WHERE status = 'QUEUED'", 0, NULL);
    if (res && PQntuples(res)) {
        lcrm_metrics_set_mail_queued(w->s, (apr_uint64_t)apr_atoi64(
                                               PQgetvalue(res, 0, 0)));
    }
    PQclear(res);
}

/* One pass over a borrowed connection. */
static void pass(worker_t *w, apr_pool_t *p)
{
    ap_dbd_t *dbd = dbd_open(p, w->s);
    PGconn *conn;

    if (!dbd || !(conn = apr_dbd_native_handle(dbd->driver, dbd->handle))
        || apr_dbd_check_conn(dbd->driver, p, dbd->handle) != APR_SUCCESS) {
        if (apr_time_now() - w->last_complaint > apr_time_from_sec(60)) {
            w->last_complaint = apr_time_now();
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, w->s, LCRM_LOGNO(01403)
                         "mail worker: no database connection; mail waits");
        }
        if (dbd) {
            dbd_close(w->s, dbd);
        }
        return;
    }
    if (!w->published) {
        publish(w, conn, p);
    }
    run_jobs(w, conn, p);
    ok(w, conn, "SELECT lcrm_mail_queue_reminders()", 0, NULL);
    send_due(w, conn, p);
    update_gauge(w, conn);
    dbd_close(w->s, dbd);
}

static apr_status_t watchdog_cb(int state, void *data, apr_pool_t *pool)
{
    worker_t *w = data;

    if (state == AP_WATCHDOG_STATE_RUNNING) {
        pass(w, pool);
    }
    else if (state == AP_WATCHDOG_STATE_STARTING) {
        w->published = 0;
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, w->s, LCRM_LOGNO(01404)
                     "mail worker started in process %" APR_PID_T_FMT,
                     getpid());
    }
    return APR_SUCCESS;
}

int lcrm_worker_post_config(apr_pool_t *pconf, server_rec *s)
{
    const lcrm_server_conf_t *sc = lcrm_sconf(s);
    ap_watchdog_t *wd;
    worker_t *w;
    apr_status_t rv;

    if (!lcrm_mail_enabled(&sc->mail)) {
        return OK;
    }
    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!wd_get_instance || !wd_register || !dbd_open || !dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LCRM_LOGNO(01405)
                     "LeadCRMSMTPServer needs mod_watchdog and mod_dbd");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    w = apr_pcalloc(pconf, sizeof(*w));
    w->s = s;
    w->mc = &sc->mail;
    w->ring = sc->data_key;
    rv = wd_get_instance(&wd, "_leadcrm_mail_", 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = wd_register(wd, apr_time_from_sec(1), w, watchdog_cb);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(01406)
                     "cannot start the mail worker (mod_watchdog)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
