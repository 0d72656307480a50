/*
 * lcrm_http: bodies and responses (see lcrm_http.h).
 */
#include "lcrm_http.h"
#include "lcrm_private.h"
#include "lcrm_fields.h"
#include "lcrm_json.h"
#include "lcrm_problem.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <http_request.h>

const char *lcrm_request_id(const request_rec *r)
{
    return apr_table_get(r->subprocess_env, "UNIQUE_ID");
}

const char *lcrm_log_id(const request_rec *r)
{
    const char *id = lcrm_request_id(r);
    return id ? id : "-";
}

const char *lcrm_client_ip(const request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : "-";
}

void lcrm_no_store(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
}

int lcrm_respond_json(request_rec *r, int status, const char *body)
{
    apr_size_t len = strlen(body);
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
    const char *id = lcrm_request_id(r);

    json_object_object_add(o, "type", json_object_new_string("about:blank"));
    json_object_object_add(o, "title", json_object_new_string(p->title));
    json_object_object_add(o, "status", json_object_new_int(p->status));
    json_object_object_add(o, "detail",
                           json_object_new_string(detail ? detail : p->title));
    json_object_object_add(o, "code", json_object_new_string(p->code));
    if (id) {
        json_object_object_add(o, "instance", json_object_new_string(
                                   apr_pstrcat(r->pool, "urn:request:", id,
                                               NULL)));
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

/* Reads the whole body up to limit bytes into pool memory. */
static int read_body(request_rec *r, apr_int64_t limit, char **buf,
                     apr_size_t *len, lcrm_problem_info_t *p)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t cap = (apr_size_t)limit + 1, got = 0;
    long n;

    if (cl && apr_atoi64(cl) > limit) {
        return set_problem(p, "payload_too_large", "request body too large");
    }
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK) {
        return set_problem(p, "bad_request", "request body cannot be read");
    }
    *buf = apr_palloc(r->pool, cap + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, *buf + got, cap - got)) > 0) {
            got += (apr_size_t)n;
            if (got > (apr_size_t)limit) {
                return set_problem(p, "payload_too_large",
                                   "request body too large");
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
