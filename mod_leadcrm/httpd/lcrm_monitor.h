/*
 * lcrm_monitor: error tracking (Sentry envelopes) and trace export
 * (OTLP/HTTP JSON) leave the process through one background thread per
 * child process.  Requests only append a finished document to a bounded,
 * lock-protected queue and never wait for the network: when a queue is
 * full the document is dropped and counted
 * (leadcrm_export_total{result="dropped"}).  The thread posts with libcurl
 * (short connect and transfer timeouts, aborted at child exit).
 *
 * The directives are main-server only (GLOBAL_ONLY): the exporter is per
 * process, not per virtual host.
 */
#ifndef LCRM_MONITOR_H
#define LCRM_MONITOR_H

#include <httpd.h>
#include <http_config.h>
#include "lcrm_trace_ctx.h"

typedef enum {
    LCRM_EXPORT_SENTRY = 0,
    LCRM_EXPORT_OTLP,
    LCRM_EXPORT_KINDS
} lcrm_export_kind_e;

/* The monitoring directives (main server record, read-only after start). */
typedef struct lcrm_monitor_conf {
    const char *dsn_text;        /* NULL = no error tracking */
    lcrm_dsn_t dsn;
    int send_pii;                /* LCRM_UNSET = Off */
    const char *environment;     /* default "production" */
    const char *release;         /* default "mod_leadcrm@" LCRM_VERSION */
    const char *otlp_endpoint;   /* NULL = no trace export */
    double sample_ratio;         /* < 0 = unset (default 1) */
    int queue_size;              /* LCRM_UNSET = default */
    const char *service_name;    /* default "mod_leadcrm" */
} lcrm_monitor_conf_t;

/* Directive handlers (registered in lcrm_config.c's table). */
const char *lcrm_monitor_set_dsn(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_monitor_set_pii(cmd_parms *cmd, void *dc, int on);
const char *lcrm_monitor_set_text(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_monitor_set_otlp(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_monitor_set_ratio(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_monitor_set_queue(cmd_parms *cmd, void *dc, const char *v);

/* The main server's monitoring settings, never NULL (defaults applied by
 * the getters below). */
const lcrm_monitor_conf_t *lcrm_monitor_conf(void);
int lcrm_monitor_send_pii(const lcrm_monitor_conf_t *mc);
const char *lcrm_monitor_environment(const lcrm_monitor_conf_t *mc);
const char *lcrm_monitor_release(const lcrm_monitor_conf_t *mc);
double lcrm_monitor_ratio(const lcrm_monitor_conf_t *mc);
const char *lcrm_monitor_service(const lcrm_monitor_conf_t *mc);

/* post_config: initialises libcurl once in the parent. */
int lcrm_monitor_post_config(apr_pool_t *pconf, server_rec *s);

/* child_init: starts this process's exporter thread when a DSN or an
 * OTLP endpoint is configured; a cleanup on pchild stops and joins it. */
void lcrm_monitor_child_init(apr_pool_t *pchild, server_rec *s);

/* Non-zero when documents of this kind are exported by this process. */
int lcrm_monitor_enabled(lcrm_export_kind_e kind);

/*
 * Non-zero when a document of this kind would be queued now.  When the
 * queue is full the drop is counted here and 0 returned, so that a caller
 * skips building a document nobody will send (a receiver that hangs must
 * not make requests slower).  Read without the queue's lock: a document
 * built after a 1 may still be dropped by lcrm_monitor_enqueue.
 */
int lcrm_monitor_accepts(lcrm_export_kind_e kind);

/*
 * Queues a document (copied; len bytes) for the exporter thread.  Never
 * blocks on the network; when the queue is full the document is dropped
 * and counted.  Returns APR_SUCCESS, APR_ENOSPC (dropped) or APR_ENOTIMPL
 * (not exporting this kind).
 */
apr_status_t lcrm_monitor_enqueue(lcrm_export_kind_e kind, const char *doc,
                                  apr_size_t len);

#endif
