/*
 * lcrm_sentry: Sentry events in the envelope format (one event per
 * envelope), queued for the exporter thread (lcrm_monitor.h).
 *
 * What an event carries: release, environment, server name, route,
 * method, status, request id, trace context, user id and role, and the
 * module's error-level log lines of the request (the module never logs a
 * token, password, hash or secret).  Never: bodies, headers, cookies,
 * query strings, e-mail addresses.  With LeadCRMSentrySendPII On the
 * client address and the query string are added.
 */
#include "lcrm_trace.h"
#include "lcrm_authn.h"
#include "lcrm_json.h"
#include "lcrm_monitor.h"
#include "lcrm_private.h"
#include "lcrm_trace_ctx.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <json-c/json.h>

static void add_str(json_object *o, const char *key, const char *value)
{
    if (value) {
        json_object_object_add(o, key, json_object_new_string(value));
    }
}

/* The fields every event has. */
static json_object *new_event(apr_pool_t *p, const server_rec *s,
                              char *event_id)
{
    const lcrm_monitor_conf_t *mc = lcrm_monitor_conf();
    json_object *ev = lcrm_json_own(p, json_object_new_object());
    unsigned char b[16];

    ap_random_insecure_bytes(b, sizeof(b));
    lcrm_trace_hex_id(b, sizeof(b), event_id);
    add_str(ev, "event_id", event_id);
    json_object_object_add(ev, "timestamp", json_object_new_double(
        (double)apr_time_now() / (double)APR_USEC_PER_SEC));
    add_str(ev, "platform", "c");
    add_str(ev, "level", "error");
    add_str(ev, "logger", "mod_leadcrm");
    add_str(ev, "release", lcrm_monitor_release(mc));
    add_str(ev, "environment", lcrm_monitor_environment(mc));
    add_str(ev, "server_name", s && s->server_hostname ? s->server_hostname
                                                       : NULL);
    return ev;
}

/* Envelope: header line, item header line, payload; queued. */
static void enqueue(apr_pool_t *p, json_object *ev, const char *event_id)
{
    const char *payload = lcrm_json_dump(p, ev);
    const char *env;

    env = apr_psprintf(p, "{\"event_id\":\"%s\"}\n"
                       "{\"type\":\"event\",\"length\":%" APR_SIZE_T_FMT
                       ",\"content_type\":\"application/json\"}\n%s\n",
                       event_id, strlen(payload), payload);
    lcrm_monitor_enqueue(LCRM_EXPORT_SENTRY, env, strlen(env));
}

static json_object *breadcrumbs(const apr_array_header_t *messages)
{
    json_object *b = json_object_new_object(), *v = json_object_new_array();
    int i;

    for (i = 0; messages && i < messages->nelts; i++) {
        json_object *c = json_object_new_object();
        add_str(c, "category", "log");
        add_str(c, "level", "error");
        add_str(c, "message", APR_ARRAY_IDX(messages, i, const char *));
        json_object_array_add(v, c);
    }
    json_object_object_add(b, "values", v);
    return b;
}

/* user {id, role[, ip_address]} and request {method, url[, query]} */
static void add_user_request(json_object *ev, request_rec *r,
                             request_rec *last, const char *route)
{
    json_object *user = json_object_new_object();
    json_object *req = json_object_new_object();
    json_object *tags = json_object_new_object();
    int pii = lcrm_monitor_send_pii(lcrm_monitor_conf());

    add_str(user, "id", apr_table_get(last->notes, LCRM_NOTE_USER));
    add_str(user, "role", apr_table_get(last->notes, LCRM_NOTE_ROLE));
    if (pii) {
        add_str(user, "ip_address", r->useragent_ip);
        add_str(req, "query_string", r->args);
    }
    add_str(req, "method", r->method);
    add_str(req, "url", apr_pstrcat(r->pool, ap_http_scheme(r), "://",
                                    r->hostname ? r->hostname : "-",
                                    r->parsed_uri.path, NULL));
    add_str(tags, "route", route);
    add_str(tags, "request_id", apr_table_get(r->subprocess_env,
                                              "UNIQUE_ID"));
    add_str(tags, "status", apr_itoa(r->pool, last->status));
    add_str(tags, "http.method", r->method);
    json_object_object_add(ev, "user", user);
    json_object_object_add(ev, "request", req);
    json_object_object_add(ev, "tags", tags);
}

void lcrm_sentry_request(request_rec *r, int status,
                         const apr_array_header_t *messages,
                         const char *trace_id, const char *span_id)
{
    char event_id[LCRM_TRACE_ID_HEX + 1];
    json_object *ev = new_event(r->pool, r->server, event_id);
    json_object *msg = json_object_new_object();
    json_object *ctx = json_object_new_object(), *tr = json_object_new_object();
    request_rec *last = r;
    const char *route;

    while (last->next) {
        last = last->next;
    }
    route = apr_table_get(last->notes, "leadcrm-route");
    route = route ? route : apr_table_get(r->notes, "leadcrm-route");
    add_str(ev, "transaction", route ? route : r->method);
    add_str(msg, "formatted", messages && messages->nelts
                ? APR_ARRAY_IDX(messages, 0, const char *)
                : apr_psprintf(r->pool, "HTTP %d on %s", status,
                               route ? route : r->method));
    json_object_object_add(ev, "message", msg);
    add_user_request(ev, r, last, route);
    add_str(tr, "trace_id", trace_id);
    add_str(tr, "span_id", span_id);
    add_str(tr, "op", "http.server");
    json_object_object_add(ctx, "trace", tr);
    json_object_object_add(ev, "contexts", ctx);
    json_object_object_add(ev, "breadcrumbs", breadcrumbs(messages));
    enqueue(r->pool, ev, event_id);
}

void lcrm_sentry_message(const server_rec *s, const char *message)
{
    apr_pool_t *p;
    char event_id[LCRM_TRACE_ID_HEX + 1];
    json_object *ev, *msg;

    /* no request pool here: a short-lived unmanaged pool (thread-safe) */
    if (apr_pool_create_unmanaged_ex(&p, NULL, NULL) != APR_SUCCESS) {
        return;
    }
    ev = new_event(p, s, event_id);
    msg = json_object_new_object();
    add_str(msg, "formatted", message);
    json_object_object_add(ev, "message", msg);
    enqueue(p, ev, event_id);
    apr_pool_destroy(p);
}
