/*
 * lcrm_http: bodies and responses (see lcrm_http.h).
 */
#include "lcrm_http.h"
#include "lcrm_authn.h"
#include "lcrm_config.h"
#include "lcrm_cors.h"
#include "lcrm_private.h"
#include "lcrm_fields.h"
#include "lcrm_json.h"
#include "lcrm_problem.h"
#include "lcrm_trace.h"

#include <apr_strings.h>
#include <ap_expr.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

const char *lcrm_request_id(const request_rec *r)
{
    return apr_table_get(r->subprocess_env, "UNIQUE_ID");
}

const char *lcrm_client_ip(const request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : "-";
}

const char *lcrm_problem_instance(request_rec *r)
{
    const char *id = lcrm_request_id(r), *trace = lcrm_trace_id(r);
    if (!id) {
        return NULL;
    }
    return trace ? apr_pstrcat(r->pool, "urn:request:", id, ";trace=", trace,
                               NULL)
                 : apr_pstrcat(r->pool, "urn:request:", id, NULL);
}

void lcrm_no_store(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
}

/* set once read_body started: its failure (a timeout, a broken chunk) is
 * never followed by a second read */
#define NOTE_BODY_READ "leadcrm-body-read"

void lcrm_settle_body(request_rec *r)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    if (r->main || apr_table_get(r->notes, NOTE_BODY_READ)
        || (!cl && !r->read_chunked
                    && !apr_table_get(r->headers_in, "Transfer-Encoding"))) {
        return;
    }
    if (cl && apr_atoi64(cl) > lcrm_conf_max_body(lcrm_dconf(r))) {
        return;   /* a 413's body: never read on purpose */
    }
    /* a no-op once the body was read (the input filter answers EOS) */
    ap_discard_request_body(r);
}

int lcrm_respond_json(request_rec *r, int status, const char *body)
{
    apr_size_t len = strlen(body);
    if (ap_status_drops_connection(status)
        && status != HTTP_REQUEST_ENTITY_TOO_LARGE) {
        lcrm_settle_body(r);
    }
    r->status = status;
    ap_set_content_type(r, status >= 400 ? "application/problem+json"
                                         : "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

int lcrm_respond_obj(request_rec *r, int status, json_object *obj)
{
    return lcrm_respond_json(r, status, lcrm_json_dump(r->pool, obj));
}

int lcrm_respond_no_content(request_rec *r)
{
    r->status = HTTP_NO_CONTENT;
    return OK;
}

static json_object *errors_array(apr_array_header_t *errors)
{
    json_object *arr = json_object_new_array();
    int i;
    for (i = 0; i < errors->nelts; i++) {
        const lcrm_field_error_t *e = &APR_ARRAY_IDX(errors, i,
                                                     lcrm_field_error_t);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "field", json_object_new_string(e->field));
        json_object_object_add(o, "message",
                               json_object_new_string(e->message));
        json_object_array_add(arr, o);
    }
    return arr;
}

/* Builds the problem object; sets WWW-Authenticate for 401s. */
static json_object *problem_object(request_rec *r, const lcrm_problem_t *p,
                                   const char *detail,
                                   apr_array_header_t *errors)
{
    json_object *o = lcrm_json_own(r->pool, json_object_new_object());
    const char *id = lcrm_problem_instance(r);

    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(p->title));
    json_object_object_add(o, "status", json_object_new_int(p->status));
    json_object_object_add(o, "detail",
                           json_object_new_string(detail ? detail : p->title));
    json_object_object_add(o, "code", json_object_new_string(p->code));
    if (id) {
        json_object_object_add(o, "instance", json_object_new_string(id));
    }
    if (errors && errors->nelts) {
        json_object_object_add(o, "errors", errors_array(errors));
    }
    if (p->status == HTTP_UNAUTHORIZED) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       strcmp(p->code, "invalid_token")
                           ? "Bearer realm=\"leadcrm\""
                           : "Bearer realm=\"leadcrm\", error=\"invalid_token\"");
    }
    return o;
}

json_object *lcrm_problem_object(request_rec *r, const char *code,
                                 const char *detail)
{
    const lcrm_problem_t *p = lcrm_problem_find(code);
    if (!p) {
        p = lcrm_problem_find("internal_error");
    }
    return problem_object(r, p, detail, NULL);
}

const char *lcrm_problem_json(request_rec *r, const char *code)
{
    const lcrm_problem_t *p = lcrm_problem_find(code);
    if (!p) {
        p = lcrm_problem_find("internal_error");
    }
    return lcrm_json_dump(r->pool, problem_object(r, p, NULL, NULL));
}

int lcrm_problem_fields(request_rec *r, const char *code, const char *detail,
                        apr_array_header_t *errors)
{
    const lcrm_problem_t *p = lcrm_problem_find(code);

    if (!p) {
        p = lcrm_problem_find("internal_error");
    }
    if (p->status >= 500) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LCRM_LOGNO(00201)
                      "%s: %s", p->code, detail ? detail : p->title);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, LCRM_LOGNO(00202)
                      "%d %s", p->status, p->code);
    }
    return lcrm_respond_obj(r, p->status,
                            problem_object(r, p, detail, errors));
}

int lcrm_problem_status(request_rec *r, const char *code, int status,
                        const char *detail)
{
    const lcrm_problem_t *known = lcrm_problem_find(code);
    lcrm_problem_t p;

    if (!known) {
        return lcrm_problem(r, "internal_error", NULL);
    }
    p = *known;
    p.status = status;
    return lcrm_respond_obj(r, status, problem_object(r, &p, detail, NULL));
}

int lcrm_problem(request_rec *r, const char *code, const char *detail)
{
    return lcrm_problem_fields(r, code, detail, NULL);
}

int lcrm_problem_logged(request_rec *r, const char *code, const char *detail)
{
    const lcrm_problem_t *p = lcrm_problem_find(code);

    if (!p) {
        p = lcrm_problem_find("internal_error");
    }
    return lcrm_respond_obj(r, p->status, problem_object(r, p, detail, NULL));
}

/* application/json, optionally with charset=utf-8; nothing else. */
static int is_json_type(const char *ct)
{
    const char *semi;
    apr_size_t n;

    if (!ct) {
        return 0;
    }
    semi = strchr(ct, ';');
    n = semi ? (apr_size_t)(semi - ct) : strlen(ct);
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) {
        n--;
    }
    if (n != 16 || strncasecmp(ct, "application/json", 16)) {
        return 0;
    }
    if (semi) {
        const char *param = semi + 1;
        while (*param == ' ' || *param == '\t') {
            param++;
        }
        return !strcasecmp(param, "charset=utf-8")
               || !strcasecmp(param, "charset=\"utf-8\"");
    }
    return 1;
}

static int set_problem(lcrm_problem_info_t *p, const char *code,
                       const char *detail)
{
    p->code = code;
    p->detail = detail;
    p->errors = NULL;
    return 1;
}

/*
 * Reads the whole body up to limit bytes into pool memory.  The buffer is
 * sized from Content-Length, or starts small and doubles for a chunked
 * body: never LeadCRMMaxBodySize per request.  httpd's own refusal
 * (LimitRequestBody) is a 413 like ours.
 */
static int read_body(request_rec *r, apr_int64_t limit, char **buf,
                     apr_size_t *len, lcrm_problem_info_t *p)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t cap, got = 0;
    long n;
    int rc;

    apr_table_setn(r->notes, NOTE_BODY_READ, "1");
    if (cl && apr_atoi64(cl) > limit) {
        return set_problem(p, "payload_too_large", "request body too large");
    }
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc == HTTP_REQUEST_ENTITY_TOO_LARGE
                   ? set_problem(p, "payload_too_large",
                                 "request body too large")
                   : set_problem(p, "bad_request",
                                 "request body cannot be read");
    }
    cap = r->read_chunked ? 1024 : (apr_size_t)r->remaining + 1;
    *buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, *buf + got, cap - got)) > 0) {
            got += (apr_size_t)n;
            if (got > (apr_size_t)limit) {
                return set_problem(p, "payload_too_large",
                                   "request body too large");
            }
            if (got == cap) {
                char *bigger = apr_palloc(r->pool, 2 * cap + 1);
                memcpy(bigger, *buf, got);
                *buf = bigger;
                cap *= 2;
            }
        }
        if (n < 0) {
            return set_problem(p, "bad_request", "request body cannot be read");
        }
    }
    (*buf)[got] = '\0';
    *len = got;
    return 0;
}

int lcrm_read_json(request_rec *r, apr_int64_t limit, json_object **out,
                   lcrm_problem_info_t *p)
{
    char *buf;
    apr_size_t len;
    const char *why;

    *out = NULL;
    if (!is_json_type(apr_table_get(r->headers_in, "Content-Type"))) {
        return set_problem(p, "unsupported_media_type",
                           "request bodies must be application/json (UTF-8)");
    }
    if (read_body(r, limit, &buf, &len, p)) {
        return 1;
    }
    if (lcrm_json_parse_object(r->pool, buf, len, out, &why) != APR_SUCCESS) {
        return set_problem(p, "invalid_json", why);
    }
    return 0;
}

int lcrm_expect_no_body(request_rec *r, lcrm_problem_info_t *p)
{
    char *buf;
    apr_size_t len = 0;

    if (read_body(r, 1024, &buf, &len, p)) {
        return 1;
    }
    if (len && !(len == 2 && !strcmp(buf, "{}"))) {
        return set_problem(p, "bad_request", "this endpoint takes no body");
    }
    return 0;
}

/* ---- httpd's own errors on the module's locations as problem+json ------ */

static const char *code_for_status(int status)
{
    switch (status) {
    case HTTP_BAD_REQUEST: return "bad_request";
    case HTTP_UNAUTHORIZED: return "unauthorized";
    case HTTP_FORBIDDEN: return "forbidden";
    case HTTP_NOT_FOUND: return "not_found";
    case HTTP_METHOD_NOT_ALLOWED: return "method_not_allowed";
    case HTTP_REQUEST_TIME_OUT: return "request_timeout";
    case HTTP_REQUEST_ENTITY_TOO_LARGE: return "payload_too_large";
    case HTTP_REQUEST_URI_TOO_LARGE: return "uri_too_long";
    case HTTP_UNSUPPORTED_MEDIA_TYPE: return "unsupported_media_type";
    case HTTP_TOO_MANY_REQUESTS: return "rate_limited";
    case HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE: return "header_too_large";
    case HTTP_SERVICE_UNAVAILABLE: return "service_unavailable";
    default: return NULL;
    }
}

/* Replaces httpd's HTML error body with problem+json. */
static apr_status_t problem_error_filter(ap_filter_t *f,
                                         apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const lcrm_problem_t *p;
    apr_bucket *e;
    const char *body, *code;

    if (r->status < 400) {
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    /* drop httpd's HTML, in this and any later brigade */
    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);) {
        apr_bucket *next = APR_BUCKET_NEXT(e);
        if (!APR_BUCKET_IS_METADATA(e)) {
            apr_bucket_delete(e);
        }
        e = next;
    }
    if (f->ctx) {
        return ap_pass_brigade(f->next, bb);
    }
    f->ctx = f;
    code = apr_table_get(r->notes, LCRM_NOTE_PROBLEM_CODE);
    p = code ? lcrm_problem_find(code) : NULL;
    if (!p || p->status != r->status) {
        code = code_for_status(r->status);
    }
    if (!code) {
        /* a status without a code of its own (411, 501...) */
        code = r->status < 500 ? "bad_request" : "internal_error";
    }
    body = lcrm_problem_json(r, code);
    ap_set_content_type(r, "application/problem+json");
    apr_table_unset(r->headers_out, "Content-Length");
    /* a pool bucket: it copies itself if it outlives the request pool */
    APR_BRIGADE_INSERT_HEAD(bb, apr_bucket_pool_create(
                                    body, strlen(body), r->pool,
                                    bb->bucket_alloc));
    return ap_pass_brigade(f->next, bb);
}

static int is_module_handler(const char *h)
{
    return h && !strncmp(h, "leadcrm-", 8);
}

/*
 * The path of a request the core refused before the URI was taken apart
 * (an over-long request line): from the request line itself, up to the
 * query or the cut.
 */
static const char *request_path(request_rec *r)
{
    const char *t = r->the_request, *sp;

    if (r->uri && *r->uri == '/') {
        return r->uri;
    }
    if (!t || !(sp = strchr(t, ' '))) {
        return NULL;
    }
    sp++;
    if (*sp != '/') {
        return NULL;
    }
    return apr_pstrmemdup(r->pool, sp, strcspn(sp, " ?"));
}

/*
 * An error the core raised before the location walk (no handler chosen
 * yet): walks the locations for the request's path now, so the error is
 * ours when that location is the module's (SetHandler leadcrm-* or
 * AuthType Bearer); the location's own headers and CORS then apply as
 * for any other response.
 */
static int core_error_on_module_location(request_rec *r)
{
    const char *path = request_path(r), *handler = NULL, *err = NULL;
    const char *type;
    core_dir_config *d;
    char *saved = r->uri;

    if (r->handler || !path || r->main) {
        return 0;
    }
    r->uri = (char *)path;
    ap_location_walk(r);
    r->uri = saved;
    d = ap_get_core_module_config(r->per_dir_config);
    if (d->expr_handler) {
        handler = ap_expr_str_exec(r, d->expr_handler, &err);
    }
    type = ap_auth_type(r);
    if ((err || !is_module_handler(handler))
        && !(type && !strcasecmp(type, "Bearer"))) {
        return 0;
    }
    lcrm_cors_header_parser(r);
    return 1;
}

void lcrm_http_insert_error_filter(request_rec *r)
{
    /* TRACE is refused by httpd itself (TraceEnable off) before any
     * location is known: answer it as a problem too */
    if (apr_table_get(r->notes, LCRM_NOTE_PROBLEM)
        || is_module_handler(r->handler) || r->method_number == M_TRACE
        || core_error_on_module_location(r)) {
        ap_add_output_filter("LEADCRM_PROBLEM", NULL, r, r->connection);
    }
}

void lcrm_http_register_filters(void)
{
    ap_register_output_filter("LEADCRM_PROBLEM", problem_error_filter, NULL,
                              AP_FTYPE_CONTENT_SET);
}
