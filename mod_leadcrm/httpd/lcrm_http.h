/*
 * lcrm_http: request bodies and responses: strict JSON bodies (415, 413,
 * 400 rules of API.md), JSON responses and RFC 9457 problem+json errors.
 * A handler builds exactly one response through these and returns what
 * they return (OK: the module wrote the response itself, so headers set
 * here survive; httpd's own error path is not involved).
 */
#ifndef LCRM_HTTP_H
#define LCRM_HTTP_H

#include <httpd.h>
#include <apr_tables.h>
#include <json-c/json.h>

/* A problem to report: code from lcrm_problems, optional detail/errors. */
typedef struct {
    const char *code;
    const char *detail;
    apr_array_header_t *errors; /* of lcrm_field_error_t, may be NULL */
} lcrm_problem_info_t;

/* Writes a problem+json response for code; returns OK. */
int lcrm_problem(request_rec *r, const char *code, const char *detail);

/*
 * The problem+json text for code (no detail, no errors), for bodies that
 * httpd's own error path sends; sets WWW-Authenticate for 401 codes.
 */
const char *lcrm_problem_json(request_rec *r, const char *code);

/*
 * Like lcrm_problem, for a failure already logged where it happened (one
 * ERR line per failure): writes the response and logs nothing.
 */
int lcrm_problem_logged(request_rec *r, const char *code, const char *detail);

/*
 * Writes the problem code with another status than its usual one (API.md
 * part 2: invalid_code is 400 on Bearer routes, 401 on /auth/mfa/verify);
 * returns OK.
 */
int lcrm_problem_status(request_rec *r, const char *code, int status,
                        const char *detail);

/*
 * The problem object for code (type, title, status, detail, code,
 * instance), owned by the request pool, for documents that carry a
 * problem beside members of their own (health).
 */
json_object *lcrm_problem_object(request_rec *r, const char *code,
                                 const char *detail);

/* Same, with a list of field errors. */
int lcrm_problem_fields(request_rec *r, const char *code, const char *detail,
                        apr_array_header_t *errors);

/*
 * Reads and discards a request body nobody has read yet, when it is
 * declared (Content-Length or chunked) and no larger than
 * LeadCRMMaxBodySize, before an answer whose status makes httpd close the
 * connection (503, 400, 500...: ap_status_drops_connection).  Otherwise the
 * body reaches a socket in lingering close, and httpd's listener, finding
 * no idle worker, closes it with those bytes unread: the kernel then sends
 * a reset, and a client still writing its body or reading its answer sees
 * ECONNRESET/EPIPE instead of the 503 (issue 10, item 17).  Called before
 * r->status is set to such a status (ap_discard_request_body is a no-op
 * after).
 */
void lcrm_settle_body(request_rec *r);

/* Writes body (JSON text) with status; returns OK.  Settles an unread
 * body first when status closes the connection (lcrm_settle_body). */
int lcrm_respond_json(request_rec *r, int status, const char *body);

/* Writes a json-c value with status; returns OK. */
int lcrm_respond_obj(request_rec *r, int status, json_object *obj);

/* 204 No Content; returns OK. */
int lcrm_respond_no_content(request_rec *r);

/* Marks the response as carrying tokens or personal data. */
void lcrm_no_store(request_rec *r);

/*
 * Reads and strictly parses a JSON object body.  Returns NULL and *out on
 * success, else a problem already described in *p (413/415/400).
 */
int lcrm_read_json(request_rec *r, apr_int64_t limit, json_object **out,
                   lcrm_problem_info_t *p);

/* Drains and refuses any body on a body-less route (400 when present). */
int lcrm_expect_no_body(request_rec *r, lcrm_problem_info_t *p);

/*
 * insert_error_filter hook: every error httpd itself answers on the
 * module's locations (those with a leadcrm-* handler or AuthType Bearer,
 * including errors raised by the core before any location was looked up:
 * a %2F in the path, a bad header, an over-long request line or header)
 * becomes problem+json, with the location's headers and CORS.
 */
void lcrm_http_insert_error_filter(request_rec *r);

/* Registers the filter that hook inserts. */
void lcrm_http_register_filters(void);

/* The request id (mod_unique_id), or NULL. */
const char *lcrm_request_id(const request_rec *r);

/* The problem+json "instance" of r: "urn:request:<request id>", followed
 * by ";trace=<trace id>" (lcrm_trace.h); NULL without a request id. */
const char *lcrm_problem_instance(request_rec *r);

/* For log lines: the client address (mod_remoteip-aware), or "-". */
const char *lcrm_client_ip(const request_rec *r);

#endif
