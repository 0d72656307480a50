/*
 * lcrm_metrics: Prometheus metrics for the `leadcrm-metrics` handler.
 * Counters live in an anonymous shared-memory segment made at start-up and
 * are updated with atomic adds, so they are exact across every child
 * process and thread without a lock.  Labels are fixed at start-up: one
 * per route of every resource family.
 */
#ifndef LCRM_METRICS_H
#define LCRM_METRICS_H

#include <httpd.h>
#include "lcrm_route.h"

typedef enum {
    LCRM_M_LOGIN_OK = 0,
    LCRM_M_LOGIN_FAILED,
    LCRM_M_LOCKOUT,            /* failed-login rule refused an attempt */
    LCRM_M_REFRESH_REUSE,
    LCRM_M_RATE_LIMITED,
    LCRM_M_LEAD_CREATED,
    LCRM_M_BOOKED,
    LCRM_M_BOOKING_CONFLICT,
    LCRM_M_DB_ACQUIRE_FAILED,
    /* monitoring export (lcrm_monitor.c) */
    LCRM_M_EXPORT_SENTRY_SENT,
    LCRM_M_EXPORT_SENTRY_FAILED,
    LCRM_M_EXPORT_SENTRY_DROPPED,
    LCRM_M_EXPORT_OTLP_SENT,
    LCRM_M_EXPORT_OTLP_FAILED,
    LCRM_M_EXPORT_OTLP_DROPPED,
    LCRM_M_MAIL_SENT,          /* outbox rows accepted by SMTP */
    LCRM_M_MAIL_FAILED,        /* outbox rows given up (5xx, 24 h) */
    LCRM_M_EVENTS
} lcrm_metric_e;

/* A route table to label (family handler name, routes). */
typedef struct {
    const char *family;
    const lcrm_route_t *routes;
    int nroutes;
} lcrm_metrics_family_t;

/* post_config: the segment, for the given families. */
int lcrm_metrics_post_config(apr_pool_t *pconf, server_rec *s,
                             const lcrm_metrics_family_t *families, int n);

/* Records which route serves r (called by the router). */
void lcrm_metrics_route(request_rec *r, const lcrm_route_t *route);

/* Counts one event. */
void lcrm_metrics_event(request_rec *r, lcrm_metric_e what);

/* Counts one event outside a request (s: any server of the config). */
void lcrm_metrics_count(server_rec *s, lcrm_metric_e what);

/* Sets the leadcrm_mail_queued gauge (the worker, after each pass). */
void lcrm_metrics_set_mail_queued(server_rec *s, apr_uint64_t n);

/* log_transaction hook: status class and latency of routed requests. */
int lcrm_metrics_log(request_rec *r);

/* handler for SetHandler leadcrm-metrics. */
int lcrm_metrics_handler(request_rec *r);

#endif
