/*
 * lcrm_trace: trace context, spans and their OTLP/HTTP JSON form (see
 * lcrm_trace.h).  The trace of a request hangs off the main request's
 * pool (shared by internal redirects), so subrequests and error documents
 * add to the same trace.  Span attributes never carry values bound to
 * statements, bodies, headers, query strings or e-mail addresses.
 */
#include "lcrm_trace.h"
#include "lcrm_logjson.h"
#include "lcrm_authn.h"
#include "lcrm_monitor.h"
#include "lcrm_password.h"
#include "lcrm_private.h"
#include "lcrm_trace_ctx.h"

#include <apr_strings.h>
#include <http_protocol.h>

#define MAX_SPANS 256                /* per request; more are not recorded */
#define MAX_ERRORS 16                /* error messages kept per request */
#define TRACE_KEY "lcrm-trace"

struct lcrm_span {
    apr_pool_t *pool;            /* the request's (a detached span: its own) */
    const char *trace_id;        /* a detached span's; NULL: the request's */
    const char *name;
    char id[LCRM_SPAN_ID_HEX + 1];
    const char *parent;          /* span id, or NULL for a root */
    apr_time_t start, end;
    int kind;
    int error;
    apr_array_header_t *attrs;   /* key, value, key, value... */
};

typedef struct {
    apr_pool_t *pool;
    char trace_id[LCRM_TRACE_ID_HEX + 1];
    const char *tracestate;
    int sampled;                 /* the flag we propagate */
    int recorded;                /* spans are kept and exported */
    lcrm_span_t root;
    apr_array_header_t *spans;   /* of lcrm_span_t * (children) */
    apr_array_header_t *errors;  /* of const char * (error log lines) */
    unsigned char root_bits[8];  /* the root span id, child ids' seed */
    apr_uint64_t children;       /* child span ids handed out */
} trace_t;

static trace_t *trace_of(const request_rec *r)
{
    void *t = NULL;
    while (r->main) {
        r = r->main;
    }
    apr_pool_userdata_get(&t, TRACE_KEY, r->pool);
    return t;
}

static void new_span_id(char *out)
{
    unsigned char b[8];
    ap_random_insecure_bytes(b, sizeof(b));
    lcrm_trace_hex_id(b, sizeof(b), out);
}

int lcrm_trace_post_read_request(request_rec *r)
{
    trace_t *t = apr_pcalloc(r->pool, sizeof(*t));
    lcrm_traceparent_t in;
    int parent = lcrm_traceparent_parse(
        apr_table_get(r->headers_in, "traceparent"), &in);
    /* one draw per request: trace id (unless continued) and root span id;
     * child span ids derive from the root's (lcrm_trace_child_id) */
    unsigned char b[16 + 8];

    ap_random_insecure_bytes(b, sizeof(b));
    memcpy(t->root_bits, b + 16, sizeof(t->root_bits));
    lcrm_trace_hex_id(t->root_bits, sizeof(t->root_bits), t->root.id);
    t->pool = r->pool;
    if (parent) {
        memcpy(t->trace_id, in.trace_id, sizeof(t->trace_id));
        t->root.parent = apr_pstrdup(r->pool, in.parent_id);
        t->sampled = in.sampled;
        t->tracestate = apr_table_get(r->headers_in, "tracestate");
    }
    else {
        lcrm_trace_hex_id(b, 16, t->trace_id);
        /* a new trace is flagged sampled only when it is recorded */
        t->sampled = lcrm_monitor_enabled(LCRM_EXPORT_OTLP)
                     && lcrm_trace_sampled(
                         t->trace_id, lcrm_monitor_ratio(lcrm_monitor_conf()));
    }
    /* spans are recorded only when the exporter can take them now: with
     * the queue full (a receiver that hangs or refuses) the trace would be
     * dropped anyway, so it is dropped (and counted) here, before costing
     * the request anything */
    t->recorded = t->sampled && lcrm_monitor_accepts(LCRM_EXPORT_OTLP);
    t->root.start = r->request_time;
    t->root.kind = 2;            /* SERVER */
    t->spans = apr_array_make(r->pool, 8, sizeof(lcrm_span_t *));
    t->errors = apr_array_make(r->pool, 2, sizeof(const char *));
    apr_pool_userdata_setn(t, TRACE_KEY, NULL, r->pool);
    apr_table_setn(r->err_headers_out, "traceparent",
                   lcrm_traceparent_format(r->pool, t->trace_id, t->root.id,
                                           t->sampled));
    apr_table_setn(r->notes, "leadcrm-trace-id", t->trace_id);
    apr_table_setn(r->subprocess_env, "LEADCRM_TRACE_ID", t->trace_id);
    return DECLINED;
}

const char *lcrm_trace_id(const request_rec *r)
{
    trace_t *t = trace_of(r);
    return t ? t->trace_id : NULL;
}

const char *lcrm_trace_traceparent(request_rec *r, const lcrm_span_t *span)
{
    trace_t *t = trace_of(r);
    if (!t) {
        return NULL;
    }
    return lcrm_traceparent_format(r->pool, t->trace_id,
                                   span ? span->id : t->root.id, t->sampled);
}

lcrm_span_t *lcrm_span_start(request_rec *r, const char *name, int kind)
{
    trace_t *t = trace_of(r);
    lcrm_span_t *sp;

    if (!t || !t->recorded || t->spans->nelts >= MAX_SPANS) {
        return NULL;
    }
    sp = apr_pcalloc(t->pool, sizeof(*sp));
    sp->pool = t->pool;
    sp->name = name;
    lcrm_trace_child_id(t->root_bits, ++t->children, sp->id);
    sp->parent = t->root.id;
    sp->kind = kind;
    sp->start = apr_time_now();
    APR_ARRAY_PUSH(t->spans, lcrm_span_t *) = sp;
    return sp;
}

void lcrm_span_attr(lcrm_span_t *span, const char *key, const char *value)
{
    if (!span || !key || !value) {
        return;
    }
    if (!span->attrs) {
        span->attrs = apr_array_make(span->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(span->attrs, const char *) = apr_pstrdup(span->pool, key);
    APR_ARRAY_PUSH(span->attrs, const char *) = apr_pstrdup(span->pool,
                                                            value);
}

void lcrm_span_rename(lcrm_span_t *span, const char *name)
{
    if (span && name) {
        span->name = name;
    }
}

void lcrm_span_end(lcrm_span_t *span, int error)
{
    if (span && !span->end) {
        span->end = apr_time_now();
        span->error = error;
    }
}

apr_status_t lcrm_traced_password_verify(request_rec *r, const char *pw,
                                         apr_size_t len, const char *hash)
{
    lcrm_span_t *span = lcrm_span_start(r, "bcrypt verify",
                                        LCRM_SPAN_INTERNAL);
    apr_status_t rv = lcrm_password_verify(pw, len, hash);
    lcrm_span_end(span, 0);   /* a mismatch is not a failure of the span */
    return rv;
}

apr_status_t lcrm_traced_password_hash(request_rec *r, const char *pw,
                                       apr_size_t len, int cost,
                                       const char **hash)
{
    lcrm_span_t *span = lcrm_span_start(r, "bcrypt hash", LCRM_SPAN_INTERNAL);
    apr_status_t rv = lcrm_password_hash(r->pool, pw, len, cost, hash);
    lcrm_span_end(span, rv != APR_SUCCESS);
    return rv;
}

/* ---- OTLP JSON ----------------------------------------------------------- */

/*
 * One span as OTLP JSON, written straight into the pool given (the
 * request's, or a detached span's own: lcrm_span_export): building
 * a json-c tree of about twenty objects per span and freeing it again cost
 * more than the rest of a profile request (issue 17 asks for exporting
 * within 5 % of not exporting).  Strings that did not come from this
 * module (names, attribute values, tracestate) go through
 * lcrm_logjson_str, which always yields a valid JSON string literal; ids
 * are lowercase hex made or checked here.
 */
static const char *span_json(apr_pool_t *p, const char *trace_id,
                             const lcrm_span_t *sp, const char *tracestate)
{
    apr_array_header_t *attrs = apr_array_make(p, 8, sizeof(const char *));
    int i;

    for (i = 0; sp->attrs && i + 1 < sp->attrs->nelts; i += 2) {
        APR_ARRAY_PUSH(attrs, const char *) = apr_pstrcat(
            p, "{\"key\":",
            lcrm_logjson_str(p, APR_ARRAY_IDX(sp->attrs, i, const char *)),
            ",\"value\":{\"stringValue\":",
            lcrm_logjson_str(p, APR_ARRAY_IDX(sp->attrs, i + 1,
                                              const char *)),
            "}}", NULL);
    }
    return apr_pstrcat(
        p, "{\"traceId\":\"", trace_id, "\",\"spanId\":\"", sp->id, "\"",
        sp->parent ? apr_pstrcat(p, ",\"parentSpanId\":\"", sp->parent, "\"",
                                 NULL)
                   : "",
        tracestate ? apr_pstrcat(p, ",\"traceState\":",
                                 lcrm_logjson_str(p, tracestate), NULL)
                   : "",
        ",\"name\":", lcrm_logjson_str(p, sp->name),
        ",\"kind\":", apr_itoa(p, sp->kind),
        apr_psprintf(p, ",\"startTimeUnixNano\":\"%" APR_TIME_T_FMT "000\""
                        ",\"endTimeUnixNano\":\"%" APR_TIME_T_FMT "000\"",
                     sp->start, sp->end ? sp->end : apr_time_now()),
        ",\"attributes\":[", apr_array_pstrcat(p, attrs, ','), "]",
        ",\"status\":{\"code\":", sp->error ? "2" : "1", "}}", NULL);
}

/* All spans of the request as "{..},{..}" for the exporter's batch. */
static void export_spans(request_rec *r, trace_t *t)
{
    apr_array_header_t *parts = apr_array_make(r->pool, t->spans->nelts + 1,
                                               sizeof(const char *));
    const char *doc;
    int i;

    if (!lcrm_monitor_accepts(LCRM_EXPORT_OTLP)) {
        return;
    }
    APR_ARRAY_PUSH(parts, const char *) = span_json(r->pool, t->trace_id,
                                                    &t->root, t->tracestate);
    for (i = 0; i < t->spans->nelts; i++) {
        APR_ARRAY_PUSH(parts, const char *) = span_json(
            r->pool, t->trace_id, APR_ARRAY_IDX(t->spans, i, lcrm_span_t *),
            NULL);
    }
    doc = apr_array_pstrcat(r->pool, parts, ',');
    lcrm_monitor_enqueue(LCRM_EXPORT_OTLP, doc, strlen(doc));
}

/* ---- spans outside requests ------------------------------------------ */

const char *lcrm_trace_queued_parent(request_rec *r)
{
    trace_t *t = trace_of(r);

    if (!t || !t->recorded) {
        return NULL;
    }
    return lcrm_traceparent_format(r->pool, t->trace_id, t->root.id,
                                   t->sampled);
}

lcrm_span_t *lcrm_span_detached(apr_pool_t *p, const char *traceparent,
                                const char *name, int kind)
{
    lcrm_traceparent_t ctx;
    lcrm_span_t *sp;

    if (!traceparent || !lcrm_traceparent_parse(traceparent, &ctx)
        || !ctx.sampled || !lcrm_monitor_enabled(LCRM_EXPORT_OTLP)) {
        return NULL;
    }
    sp = apr_pcalloc(p, sizeof(*sp));
    sp->pool = p;
    sp->trace_id = apr_pstrdup(p, ctx.trace_id);
    sp->parent = apr_pstrdup(p, ctx.parent_id);
    sp->name = name;
    new_span_id(sp->id);
    sp->kind = kind;
    sp->start = apr_time_now();
    return sp;
}

apr_status_t lcrm_span_export(lcrm_span_t *span)
{
    const char *doc;

    if (!span || !span->trace_id) {
        return APR_ENOTIMPL;
    }
    lcrm_span_end(span, 0);      /* no-op when the caller ended it */
    if (!lcrm_monitor_accepts(LCRM_EXPORT_OTLP)) {
        return APR_ENOSPC;
    }
    doc = span_json(span->pool, span->trace_id, span, NULL);
    return lcrm_monitor_enqueue(LCRM_EXPORT_OTLP, doc, strlen(doc));
}

/* The request span: route (or method), status, request id, user. */
static void close_root(request_rec *r, request_rec *last, trace_t *t,
                       int status)
{
    const char *route = apr_table_get(last->notes, "leadcrm-route");
    const char *user = apr_table_get(last->notes, LCRM_NOTE_USER);
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");

    if (!route) {
        route = apr_table_get(r->notes, "leadcrm-route");
    }
    t->root.pool = r->pool;
    t->root.name = route ? route : r->method;
    lcrm_span_attr(&t->root, "http.request.method", r->method);
    lcrm_span_attr(&t->root, "http.route", route);
    lcrm_span_attr(&t->root, "http.response.status_code",
                   apr_itoa(r->pool, status));
    lcrm_span_attr(&t->root, "leadcrm.request_id", id);
    lcrm_span_attr(&t->root, "enduser.id", user);
    lcrm_span_attr(&t->root, "enduser.role",
                   apr_table_get(last->notes, LCRM_NOTE_ROLE));
    lcrm_span_end(&t->root, status >= 500);
}

int lcrm_trace_log_transaction(request_rec *r)
{
    trace_t *t = trace_of(r);
    request_rec *last = r;
    int status;

    if (!t || r->main) {
        return DECLINED;
    }
    while (last->next) {
        last = last->next;
    }
    status = last->status;
    if (t->recorded) {
        close_root(r, last, t, status);
        export_spans(r, t);
    }
    if ((status >= 500 || t->errors->nelts)
        && lcrm_monitor_enabled(LCRM_EXPORT_SENTRY)) {
        lcrm_sentry_request(r, status, t->errors, t->trace_id, t->root.id);
    }
    return DECLINED;
}

void lcrm_sentry_error_log(const ap_errorlog_info *info, const char *errstr)
{
    trace_t *t;

    if (info->module_index != APLOG_MODULE_INDEX
        || (info->level & APLOG_LEVELMASK) > APLOG_ERR || !errstr
        || !lcrm_monitor_enabled(LCRM_EXPORT_SENTRY)) {
        return;
    }
    if (!info->r || !(t = trace_of(info->r))) {
        lcrm_sentry_message(info->s, errstr);
        return;
    }
    if (t->errors->nelts < MAX_ERRORS) {
        APR_ARRAY_PUSH(t->errors, const char *) = apr_pstrdup(t->pool, errstr);
    }
}
