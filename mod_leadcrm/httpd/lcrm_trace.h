/*
 * lcrm_trace: W3C Trace Context and spans for every request.
 *
 * A request continues the trace of a valid incoming `traceparent` (its
 * `tracestate` is kept on the span) or starts a new one.  Its id goes to
 * the response header `traceparent`, the note `leadcrm-trace-id` and the
 * variable LEADCRM_TRACE_ID (access log: %{leadcrm-trace-id}n) and the
 * problem+json `instance`.  One server span covers the request; code
 * that does slow work opens child spans with the small API below (the
 * database, bcrypt, memcached).  Sampled requests are exported over
 * OTLP/HTTP JSON by the exporter thread (lcrm_monitor.h) after the
 * response is sent: parent-based sampling (an incoming sampled flag is
 * followed), else LeadCRMTraceSampleRatio decides on the trace id.
 *
 * Spans live in the request pool; the API is cheap no-op when the request
 * is not recorded (start returns NULL and every other call accepts NULL).
 *
 * Work done later on a request's behalf (SMTP delivery by the mail worker)
 * reports a detached span: the request stores lcrm_trace_queued_parent()
 * with the work, the worker opens lcrm_span_detached() from it and
 * exports it with lcrm_span_export().
 */
#ifndef LCRM_TRACE_H
#define LCRM_TRACE_H

#include <httpd.h>
#include <http_core.h>

typedef struct lcrm_span lcrm_span_t;

/* OTLP span kinds. */
#define LCRM_SPAN_INTERNAL 1
#define LCRM_SPAN_CLIENT 3

/*
 * Opens a child span of r's request span named name (a constant or
 * request-pool string: "db SELECT", "bcrypt verify", "memcached INCR"...).
 * Returns NULL when r's trace is not recorded.
 */
lcrm_span_t *lcrm_span_start(request_rec *r, const char *name, int kind);

/* Renames a span (name in request-pool memory or constant). */
void lcrm_span_rename(lcrm_span_t *span, const char *name);

/* Adds a string attribute (key and value copied into the request pool).
 * Never pass secrets, bodies or e-mail addresses. */
void lcrm_span_attr(lcrm_span_t *span, const char *key, const char *value);

/* Closes the span; error non-zero marks it failed (OTLP status ERROR). */
void lcrm_span_end(lcrm_span_t *span, int error);

/* lcrm_password_verify / lcrm_password_hash (core/lcrm_password.h) inside
 * a "bcrypt verify" / "bcrypt hash" span of r. */
apr_status_t lcrm_traced_password_verify(request_rec *r, const char *pw,
                                         apr_size_t len, const char *hash);
apr_status_t lcrm_traced_password_hash(request_rec *r, const char *pw,
                                       apr_size_t len, int cost,
                                       const char **hash);

/* The request's trace id (32 hex), or NULL before post_read_request. */
const char *lcrm_trace_id(const request_rec *r);

/*
 * A traceparent for an outgoing call made inside span (or inside the
 * request span when span is NULL), e.g. a header of an SMTP message or an
 * HTTP call, so the receiver joins the trace.  NULL when r has no trace.
 */
const char *lcrm_trace_traceparent(request_rec *r, const lcrm_span_t *span);

/*
 * Work a request queues for later, outside any request (a mail the
 * worker delivers), keeps this traceparent (the trace id, the request
 * span as parent, the sampled flag) so that its own span joins the
 * request's trace.  NULL when r's trace is not recorded: nothing to join.
 */
const char *lcrm_trace_queued_parent(request_rec *r);

/*
 * A span outside any request (e.g. "smtp send" in the mail worker), the
 * child of the span a stored traceparent names, in the same trace; its
 * attributes and end go through lcrm_span_attr / lcrm_span_end, memory in
 * p.  NULL (and every call on it a no-op) when traceparent is NULL or
 * invalid, not sampled, or this process exports no traces.
 */
lcrm_span_t *lcrm_span_detached(apr_pool_t *p, const char *traceparent,
                                const char *name, int kind);

/*
 * Ends a detached span if still open and queues it for the exporter
 * thread (lcrm_monitor_enqueue).  APR_SUCCESS, APR_ENOSPC (queue full:
 * dropped and counted) or APR_ENOTIMPL (span NULL or not detached).
 */
apr_status_t lcrm_span_export(lcrm_span_t *span);

/* post_read_request hook: the trace context of the request. */
int lcrm_trace_post_read_request(request_rec *r);

/* log_transaction hook: ends the request span, exports sampled spans and
 * hands 5xx / logged errors to Sentry (lcrm_sentry_request). */
int lcrm_trace_log_transaction(request_rec *r);

/* error_log hook: the module's error-level messages become Sentry events
 * (attached to the request's event when there is one). */
void lcrm_sentry_error_log(const ap_errorlog_info *info, const char *errstr);

/* Called by lcrm_trace_log_transaction: one Sentry event for a request
 * that answered 5xx or logged errors (messages: array of const char *). */
void lcrm_sentry_request(request_rec *r, int status,
                         const apr_array_header_t *messages,
                         const char *trace_id, const char *span_id);

/* An error logged outside a request (start-up of a child, a thread):
 * one Sentry event with just the message. */
void lcrm_sentry_message(const server_rec *s, const char *message);

#endif
