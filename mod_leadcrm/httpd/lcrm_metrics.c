/*
 * lcrm_metrics: shared counters and the Prometheus text handler (see
 * lcrm_metrics.h).  The segment is made in post_config and inherited by
 * every child; its address is kept in each server's configuration (set
 * once before any child starts, read-only afterwards).
 */
#include "lcrm_config.h"
#include "lcrm_metrics.h"
#include "lcrm_private.h"

#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_protocol.h>

#define NBUCKETS 10
static const double buckets_s[NBUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                           0.05, 0.1, 0.25, 1.0, 2.5};

typedef struct {
    apr_uint64_t by_class[5];          /* 1xx..5xx */
    apr_uint64_t bucket[NBUCKETS + 1]; /* cumulative at output; last = +Inf */
    apr_uint64_t sum_us;
} route_counters_t;

typedef struct {
    apr_uint64_t events[LCRM_M_EVENTS];
    apr_uint64_t mail_queued;          /* gauge, set by the mail worker */
    route_counters_t routes[1];        /* nroutes follow */
} segment_t;

struct lcrm_metrics {
    segment_t *seg;
    const lcrm_metrics_family_t *families;
    int nfamilies;
    int nroutes;
};

static const char *const event_lines[LCRM_M_EVENTS] = {
    "leadcrm_logins_total{result=\"ok\"}",
    "leadcrm_logins_total{result=\"failed\"}",
    "leadcrm_login_lockouts_total",
    "leadcrm_refresh_reuse_detected_total",
    "leadcrm_rate_limited_total",
    "leadcrm_leads_created_total",
    "leadcrm_consultations_booked_total",
    "leadcrm_booking_conflicts_total",
    "leadcrm_db_acquire_failures_total",
    "leadcrm_export_total{kind=\"sentry\",result=\"sent\"}",
    "leadcrm_export_total{kind=\"sentry\",result=\"failed\"}",
    "leadcrm_export_total{kind=\"sentry\",result=\"dropped\"}",
    "leadcrm_export_total{kind=\"otlp\",result=\"sent\"}",
    "leadcrm_export_total{kind=\"otlp\",result=\"failed\"}",
    "leadcrm_export_total{kind=\"otlp\",result=\"dropped\"}",
    "leadcrm_mail_sent_total",
    "leadcrm_mail_failed_total",
};

int lcrm_metrics_post_config(apr_pool_t *pconf, server_rec *s,
                             const lcrm_metrics_family_t *families, int n)
{
    struct lcrm_metrics *m = apr_pcalloc(pconf, sizeof(*m));
    apr_shm_t *shm;
    apr_status_t rv;
    int i;

    for (i = 0; i < n; i++) {
        m->nroutes += families[i].nroutes;
    }
    rv = apr_shm_create(&shm, sizeof(segment_t) + sizeof(route_counters_t)
                                                      * (apr_size_t)m->nroutes,
                        NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(01001)
                     "cannot create the metrics segment");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    m->seg = apr_shm_baseaddr_get(shm);
    memset(m->seg, 0, apr_shm_size_get(shm));
    m->families = families;
    m->nfamilies = n;
    for (; s; s = s->next) {
        lcrm_server_conf_t *sc = ap_get_module_config(s->module_config,
                                                      &leadcrm_module);
        sc->metrics = m;
    }
    return OK;
}

/* Index of route among all families, or -1. */
static int route_index(const struct lcrm_metrics *m, const lcrm_route_t *rt)
{
    int i, base = 0;
    for (i = 0; i < m->nfamilies; i++) {
        const lcrm_metrics_family_t *f = &m->families[i];
        if (rt >= f->routes && rt < f->routes + f->nroutes) {
            return base + (int)(rt - f->routes);
        }
        base += f->nroutes;
    }
    return -1;
}

void lcrm_metrics_route(request_rec *r, const lcrm_route_t *route)
{
    apr_pool_userdata_setn(route, "leadcrm-route", NULL, r->pool);
    /* for access logs: %{leadcrm-route}n */
    apr_table_setn(r->notes, "leadcrm-route",
                   apr_pstrcat(r->pool, route->method, " ", route->pattern,
                               NULL));
}

void lcrm_metrics_event(request_rec *r, lcrm_metric_e what)
{
    const struct lcrm_metrics *m = lcrm_sconf(r->server)->metrics;
    if (m) {
        apr_atomic_add64(&m->seg->events[what], 1);
    }
}

void lcrm_metrics_count(server_rec *s, lcrm_metric_e what)
{
    const struct lcrm_metrics *m = lcrm_sconf(s)->metrics;
    if (m) {
        apr_atomic_add64(&m->seg->events[what], 1);
    }
}

void lcrm_metrics_set_mail_queued(server_rec *s, apr_uint64_t n)
{
    const struct lcrm_metrics *m = lcrm_sconf(s)->metrics;
    if (m) {
        apr_atomic_set64(&m->seg->mail_queued, n);
    }
}

int lcrm_metrics_log(request_rec *r)
{
    const struct lcrm_metrics *m = lcrm_sconf(r->server)->metrics;
    void *route = NULL;
    route_counters_t *c;
    apr_interval_time_t us;
    int i, idx, cls;

    if (!m || apr_pool_userdata_get(&route, "leadcrm-route", r->pool)
        || !route || (idx = route_index(m, route)) < 0) {
        return DECLINED;
    }
    c = &m->seg->routes[idx];
    cls = r->status / 100;
    if (cls >= 1 && cls <= 5) {
        apr_atomic_add64(&c->by_class[cls - 1], 1);
    }
    us = apr_time_now() - r->request_time;
    for (i = 0; i < NBUCKETS && (double)us / 1e6 > buckets_s[i]; i++) {
    }
    apr_atomic_add64(&c->bucket[i], 1);
    apr_atomic_add64(&c->sum_us, (apr_uint64_t)(us > 0 ? us : 0));
    return DECLINED;
}

/* Writes the per-route series of one route. */
static void write_route(request_rec *r, const char *label,
                        route_counters_t *c)
{
    static const char *const classes[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    apr_uint64_t cum = 0, count = 0;
    int i;

    for (i = 0; i < 5; i++) {
        apr_uint64_t v = apr_atomic_read64(&c->by_class[i]);
        if (v) {
            ap_rprintf(r, "leadcrm_requests_total{route=\"%s\",class=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", label, classes[i], v);
        }
    }
    for (i = 0; i <= NBUCKETS; i++) {
        cum += apr_atomic_read64(&c->bucket[i]);
        if (i < NBUCKETS) {
            ap_rprintf(r, "leadcrm_request_duration_seconds_bucket{route=\"%s\""
                       ",le=\"%g\"} %" APR_UINT64_T_FMT "\n", label,
                       buckets_s[i], cum);
        }
    }
    count = cum;
    ap_rprintf(r, "leadcrm_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %"
               APR_UINT64_T_FMT "\n", label, count);
    ap_rprintf(r, "leadcrm_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
               label, (double)apr_atomic_read64(&c->sum_us) / 1e6);
    ap_rprintf(r, "leadcrm_request_duration_seconds_count{route=\"%s\"} %"
               APR_UINT64_T_FMT "\n", label, count);
}

int lcrm_metrics_handler(request_rec *r)
{
    const struct lcrm_metrics *m;
    int f, i, idx = 0;

    if (!r->handler || strcmp(r->handler, "leadcrm-metrics")) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    m = lcrm_sconf(r->server)->metrics;
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!m || r->header_only) {
        return OK;
    }
    for (i = 0; i < LCRM_M_EVENTS; i++) {
        apr_size_t n = strcspn(event_lines[i], "{");
        if (i == 0 || strncmp(event_lines[i], event_lines[i - 1], n)) {
            ap_rprintf(r, "# TYPE %.*s counter\n", (int)n, event_lines[i]);
        }
        ap_rprintf(r, "%s %" APR_UINT64_T_FMT "\n", event_lines[i],
                   apr_atomic_read64(&m->seg->events[i]));
    }
    ap_rprintf(r, "# TYPE leadcrm_mail_queued gauge\nleadcrm_mail_queued %"
               APR_UINT64_T_FMT "\n", apr_atomic_read64(&m->seg->mail_queued));
    ap_rputs("# TYPE leadcrm_requests_total counter\n"
             "# TYPE leadcrm_request_duration_seconds histogram\n", r);
    for (f = 0; f < m->nfamilies; f++) {
        for (i = 0; i < m->families[f].nroutes; i++, idx++) {
            const lcrm_route_t *rt = &m->families[f].routes[i];
            write_route(r, apr_pstrcat(r->pool, rt->method, " ", rt->pattern,
                                       NULL), &m->seg->routes[idx]);
        }
    }
    return OK;
}
