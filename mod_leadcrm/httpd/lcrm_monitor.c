/*
 * lcrm_monitor: the monitoring directives and the per-process exporter
 * thread (see lcrm_monitor.h).
 *
 * Queued documents cross from request threads to the exporter thread, so
 * they are plain heap copies (a pool is not thread-safe) owned by the
 * queue, freed by the thread after sending or when the process exits.
 * Everything else lives in pools.  The thread logs at WARNING or below
 * only: an ERROR would itself become a Sentry event and, with a dead
 * receiver, feed on itself.
 */
#include "lcrm_monitor.h"
#include "lcrm_config.h"
#include "lcrm_metrics.h"
#include "lcrm_private.h"

#include <apr_atomic.h>
#include <http_main.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define DEFAULT_QUEUE 1024
#define OTLP_BATCH 128               /* span documents per POST */
#define FLUSH_INTERVAL apr_time_from_msec(500)
#define CONNECT_TIMEOUT_MS 2000L
#define TRANSFER_TIMEOUT_MS 5000L
#define BACKOFF_MIN apr_time_from_sec(1)  /* after a failed POST */
#define BACKOFF_MAX apr_time_from_sec(8)

/* ---- directives ------------------------------------------------------ */

static lcrm_monitor_conf_t *conf_of(cmd_parms *cmd)
{
    lcrm_server_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                                  &leadcrm_module);
    if (!sc->monitor) {
        sc->monitor = apr_pcalloc(cmd->pool, sizeof(*sc->monitor));
        sc->monitor->send_pii = LCRM_UNSET;
        sc->monitor->sample_ratio = -1;
        sc->monitor->queue_size = LCRM_UNSET;
    }
    return sc->monitor;
}

const char *lcrm_monitor_set_dsn(cmd_parms *cmd, void *dc, const char *v)
{
    lcrm_monitor_conf_t *mc;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    mc = conf_of(cmd);
    if ((err = lcrm_dsn_parse(cmd->pool, v, &mc->dsn))) {
        return apr_pstrcat(cmd->pool, "LeadCRMSentryDSN ", err, NULL);
    }
    mc->dsn_text = v;
    return NULL;
}

const char *lcrm_monitor_set_pii(cmd_parms *cmd, void *dc, int on)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err) {
        return err;
    }
    conf_of(cmd)->send_pii = on;
    return NULL;
}

/* LeadCRMSentryEnvironment / LeadCRMSentryRelease / LeadCRMServiceName:
 * printable ASCII, 1..128 characters. */
const char *lcrm_monitor_set_text(cmd_parms *cmd, void *dc, const char *v)
{
    lcrm_monitor_conf_t *mc;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *c;
    const char *name = cmd->directive->directive;

    if (err) {
        return err;
    }
    if (!*v || strlen(v) > 128) {
        return apr_pstrcat(cmd->pool, name, " takes 1 to 128 characters",
                           NULL);
    }
    for (c = v; *c; c++) {
        if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\') {
            return apr_pstrcat(cmd->pool, name, " takes printable ASCII "
                               "without spaces, quotes or backslashes", NULL);
        }
    }
    mc = conf_of(cmd);
    if (!strcasecmp(name, "LeadCRMSentryEnvironment")) {
        mc->environment = v;
    }
    else if (!strcasecmp(name, "LeadCRMSentryRelease")) {
        mc->release = v;
    }
    else {
        mc->service_name = v;
    }
    return NULL;
}

const char *lcrm_monitor_set_otlp(cmd_parms *cmd, void *dc, const char *v)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err) {
        return err;
    }
    if ((err = lcrm_otlp_endpoint_check(cmd->pool, v))) {
        return apr_pstrcat(cmd->pool, "LeadCRMOTLPEndpoint ", err, NULL);
    }
    conf_of(cmd)->otlp_endpoint = v;
    return NULL;
}

const char *lcrm_monitor_set_ratio(cmd_parms *cmd, void *dc, const char *v)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end = NULL;
    double d;

    if (err) {
        return err;
    }
    d = strtod(v, &end);
    if (!*v || !end || *end || !(d >= 0.0 && d <= 1.0)) {
        return "LeadCRMTraceSampleRatio takes a number from 0 to 1";
    }
    conf_of(cmd)->sample_ratio = d;
    return NULL;
}

const char *lcrm_monitor_set_queue(cmd_parms *cmd, void *dc, const char *v)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end = NULL;
    apr_int64_t n;

    if (err) {
        return err;
    }
    n = apr_strtoi64(v, &end, 10);
    if (!*v || *end || n < 1 || n > 65536) {
        return "LeadCRMMonitorQueueSize takes a count from 1 to 65536";
    }
    conf_of(cmd)->queue_size = (int)n;
    return NULL;
}

/* ---- getters ----------------------------------------------------------- */

const lcrm_monitor_conf_t *lcrm_monitor_conf(void)
{
    static const lcrm_monitor_conf_t none = {NULL, {NULL, NULL}, LCRM_UNSET,
                                             NULL, NULL, NULL, -1,
                                             LCRM_UNSET, NULL};
    const lcrm_server_conf_t *sc = ap_server_conf ? lcrm_sconf(ap_server_conf)
                                                  : NULL;
    return sc && sc->monitor ? sc->monitor : &none;
}

int lcrm_monitor_send_pii(const lcrm_monitor_conf_t *mc)
{
    return mc->send_pii == 1;
}

const char *lcrm_monitor_environment(const lcrm_monitor_conf_t *mc)
{
    return mc->environment ? mc->environment : "production";
}

const char *lcrm_monitor_release(const lcrm_monitor_conf_t *mc)
{
    return mc->release ? mc->release : "mod_leadcrm@" LCRM_VERSION;
}

double lcrm_monitor_ratio(const lcrm_monitor_conf_t *mc)
{
    return mc->sample_ratio < 0 ? 1.0 : mc->sample_ratio;
}

const char *lcrm_monitor_service(const lcrm_monitor_conf_t *mc)
{
    return mc->service_name ? mc->service_name : "mod_leadcrm";
}

/* ---- the exporter ------------------------------------------------------ */

typedef struct {
    char **items;
    apr_size_t *lens;
    int head, count, cap;
    volatile apr_uint32_t full;  /* count == cap, readable without lock */
} queue_t;

typedef struct {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    volatile apr_uint32_t stop;
    queue_t q[LCRM_EXPORT_KINDS];
    int enabled[LCRM_EXPORT_KINDS];
    const char *url[LCRM_EXPORT_KINDS];
    struct curl_slist *headers[LCRM_EXPORT_KINDS];
    apr_thread_t *thread;
    server_rec *s;
    int failing;                 /* last POST failed (log state changes) */
} exporter_t;

/* Set once in child_init, before any worker thread runs; its queues are
 * then shared under exp->lock. */
static exporter_t *the_exporter;

static const lcrm_metric_e m_sent[] = {LCRM_M_EXPORT_SENTRY_SENT,
                                       LCRM_M_EXPORT_OTLP_SENT};
static const lcrm_metric_e m_failed[] = {LCRM_M_EXPORT_SENTRY_FAILED,
                                         LCRM_M_EXPORT_OTLP_FAILED};
static const lcrm_metric_e m_dropped[] = {LCRM_M_EXPORT_SENTRY_DROPPED,
                                          LCRM_M_EXPORT_OTLP_DROPPED};

int lcrm_monitor_post_config(apr_pool_t *pconf, server_rec *s)
{
    const lcrm_monitor_conf_t *mc = lcrm_monitor_conf();
    if ((mc->dsn_text || mc->otlp_endpoint)
        && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LCRM_LOGNO(01800)
                     "libcurl initialisation failed");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

int lcrm_monitor_enabled(lcrm_export_kind_e kind)
{
    return the_exporter && the_exporter->enabled[kind];
}

int lcrm_monitor_accepts(lcrm_export_kind_e kind)
{
    exporter_t *e = the_exporter;

    if (!e || !e->enabled[kind]) {
        return 0;
    }
    if (apr_atomic_read32(&e->q[kind].full)) {
        lcrm_metrics_count(e->s, m_dropped[kind]);
        return 0;
    }
    return 1;
}

apr_status_t lcrm_monitor_enqueue(lcrm_export_kind_e kind, const char *doc,
                                  apr_size_t len)
{
    exporter_t *e = the_exporter;
    queue_t *q;
    char *copy;
    int full;

    if (!e || !e->enabled[kind]) {
        return APR_ENOTIMPL;
    }
    q = &e->q[kind];
    copy = malloc(len + 1);
    if (!copy) {
        lcrm_metrics_count(e->s, m_dropped[kind]);
        return APR_ENOMEM;
    }
    memcpy(copy, doc, len);
    copy[len] = '\0';
    apr_thread_mutex_lock(e->lock);
    full = q->count == q->cap;
    if (!full) {
        int tail = (q->head + q->count) % q->cap;
        q->items[tail] = copy;
        q->lens[tail] = len;
        q->count++;
        apr_atomic_set32(&q->full, q->count == q->cap);
        /* errors go out at once; spans when a batch is ready */
        if (kind == LCRM_EXPORT_SENTRY || q->count >= OTLP_BATCH) {
            apr_thread_cond_signal(e->wake);
        }
    }
    apr_thread_mutex_unlock(e->lock);
    if (full) {
        free(copy);
        lcrm_metrics_count(e->s, m_dropped[kind]);
        return APR_ENOSPC;
    }
    return APR_SUCCESS;
}

/* Takes up to max items off q (caller holds the lock). */
static int take(queue_t *q, char **items, apr_size_t *lens, int max)
{
    int n = 0;
    while (q->count && n < max) {
        items[n] = q->items[q->head];
        lens[n++] = q->lens[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    if (n) {
        apr_atomic_set32(&q->full, 0);
    }
    return n;
}

/* libcurl progress callback: abort a transfer when the child exits. */
static int abort_on_stop(void *data, curl_off_t dt, curl_off_t dn,
                         curl_off_t ut, curl_off_t un)
{
    exporter_t *e = data;
    return apr_atomic_read32(&e->stop) != 0;
}

static size_t discard_body(char *ptr, size_t size, size_t n, void *data)
{
    return size * n;
}

/* One POST; counts the outcome and logs changes between ok and failing.
 * Returns 1 when the receiver took it. */
static int post(exporter_t *e, CURL *curl, lcrm_export_kind_e kind,
                 const char *body, apr_size_t len)
{
    long code = 0;
    CURLcode rc;

    curl_easy_setopt(curl, CURLOPT_URL, e->url[kind]);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, e->headers[kind]);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    }
    if (rc == CURLE_OK && code >= 200 && code < 300) {
        lcrm_metrics_count(e->s, m_sent[kind]);
        if (e->failing) {
            e->failing = 0;
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, e->s, LCRM_LOGNO(01801)
                         "monitoring export to %s works again",
                         kind == LCRM_EXPORT_SENTRY ? "Sentry" : "OTLP");
        }
        return 1;
    }
    lcrm_metrics_count(e->s, m_failed[kind]);
    if (!e->failing && !apr_atomic_read32(&e->stop)) {
        e->failing = 1;
        /* WARNING, not ERROR: an error would become a Sentry event */
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, e->s, LCRM_LOGNO(01802)
                     "monitoring export to %s failed (%s, HTTP %ld); "
                     "documents are dropped until it answers",
                     kind == LCRM_EXPORT_SENTRY ? "Sentry" : "OTLP",
                     rc == CURLE_OK ? "answered" : curl_easy_strerror(rc),
                     code);
    }
    return 0;
}

/* An OTLP/HTTP JSON body: n span documents ("{..},{..}") under one
 * resource and scope. */
static char *otlp_body(exporter_t *e, char **items, apr_size_t *lens, int n,
                       apr_size_t *len)
{
    const lcrm_monitor_conf_t *mc = lcrm_monitor_conf();
    apr_size_t total = 0, off;
    char *body;
    int i;
    char prefix[512];
    static const char suffix[] = "]}]}]}";

    apr_snprintf(prefix, sizeof(prefix),
                 "{\"resourceSpans\":[{\"resource\":{\"attributes\":["
                 "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"%s\"}},"
                 "{\"key\":\"service.version\",\"value\":{\"stringValue\":\"%s\"}}"
                 "]},\"scopeSpans\":[{\"scope\":{\"name\":\"mod_leadcrm\","
                 "\"version\":\"%s\"},\"spans\":[",
                 lcrm_monitor_service(mc), LCRM_VERSION, LCRM_VERSION);
    for (i = 0; i < n; i++) {
        total += lens[i] + 1;
    }
    body = malloc(strlen(prefix) + total + sizeof(suffix));
    if (!body) {
        return NULL;
    }
    off = strlen(prefix);
    memcpy(body, prefix, off);
    for (i = 0; i < n; i++) {
        if (i) {
            body[off++] = ',';
        }
        memcpy(body + off, items[i], lens[i]);
        off += lens[i];
    }
    memcpy(body + off, suffix, sizeof(suffix));
    *len = off + sizeof(suffix) - 1;
    return body;
}

/* Sends what was taken off the queues and frees it; 0 when a POST
 * failed. */
static int send_taken(exporter_t *e, CURL *curl, char **sentry,
                       apr_size_t *slens, int ns, char **spans,
                       apr_size_t *plens, int np)
{
    int i, ok = 1;
    apr_size_t len;
    char *body;

    for (i = 0; i < ns; i++) {
        if (!apr_atomic_read32(&e->stop)) {
            ok &= post(e, curl, LCRM_EXPORT_SENTRY, sentry[i], slens[i]);
        }
        free(sentry[i]);
    }
    if (np && !apr_atomic_read32(&e->stop)
        && (body = otlp_body(e, spans, plens, np, &len))) {
        ok &= post(e, curl, LCRM_EXPORT_OTLP, body, len);
        free(body);
    }
    for (i = 0; i < np; i++) {
        free(spans[i]);
    }
    return ok;
}

/*
 * After a failed POST the thread waits before it takes more (doubling
 * from BACKOFF_MIN to BACKOFF_MAX, reset by a success): meanwhile the
 * queue fills and requests stop building documents (lcrm_monitor_accepts
 * says no and counts the drop), so a receiver that refuses costs the
 * requests no more than one that hangs.  Called with the lock held;
 * returns early when the child stops.
 */
static void back_off(exporter_t *e, apr_interval_time_t wait)
{
    apr_time_t until = apr_time_now() + wait;

    while (!apr_atomic_read32(&e->stop) && apr_time_now() < until) {
        apr_thread_cond_timedwait(e->wake, e->lock, until - apr_time_now());
    }
}

static CURL *new_curl(exporter_t *e)
{
    CURL *curl = curl_easy_init();
    if (curl) {
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, TRANSFER_TIMEOUT_MS);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, e);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "mod_leadcrm/" LCRM_VERSION);
    }
    return curl;
}

/*
 * The exporter thread yields the CPU to the request threads: on Linux a
 * thread has its own nice value, and at 10 the scheduler runs the
 * batching and the POSTs in the time requests leave idle.  Exporting is
 * best effort by design (a full queue drops), so it never competes with a
 * client for a core (issue 17: p99 with exporting on within 5 %).
 */
static void lower_priority(void)
{
#ifdef __linux__
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0) {
        /* not fatal: the thread keeps the process's priority */
    }
#endif
}

static void *APR_THREAD_FUNC exporter_main(apr_thread_t *t, void *data)
{
    exporter_t *e = data;
    int cap = e->q[LCRM_EXPORT_SENTRY].cap;
    char **sentry = calloc((size_t)cap, sizeof(char *));
    apr_size_t *slens = calloc((size_t)cap, sizeof(apr_size_t));
    char *spans[OTLP_BATCH];
    apr_size_t plens[OTLP_BATCH];
    CURL *curl = new_curl(e);
    apr_interval_time_t backoff = 0;

    lower_priority();
    apr_thread_mutex_lock(e->lock);
    while (!apr_atomic_read32(&e->stop)) {
        int ns, np;
        if (!e->q[0].count && e->q[1].count < OTLP_BATCH) {
            apr_thread_cond_timedwait(e->wake, e->lock, FLUSH_INTERVAL);
            if (!e->q[0].count && !e->q[1].count) {
                continue;
            }
        }
        ns = sentry ? take(&e->q[LCRM_EXPORT_SENTRY], sentry, slens, cap) : 0;
        np = take(&e->q[LCRM_EXPORT_OTLP], spans, plens, OTLP_BATCH);
        apr_thread_mutex_unlock(e->lock);
        if (curl && !send_taken(e, curl, sentry, slens, ns, spans, plens,
                                np)) {
            backoff = backoff ? backoff * 2 : BACKOFF_MIN;
            backoff = backoff > BACKOFF_MAX ? BACKOFF_MAX : backoff;
        }
        else {
            backoff = 0;
        }
        apr_thread_mutex_lock(e->lock);
        if (backoff) {
            back_off(e, backoff);
        }
    }
    apr_thread_mutex_unlock(e->lock);
    if (curl) {
        curl_easy_cleanup(curl);
    }
    free(sentry);
    free(slens);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

/* pchild cleanup: stop the thread, wait for it, free what is queued. */
static apr_status_t exporter_stop(void *data)
{
    exporter_t *e = data;
    apr_status_t rv;
    int k;

    apr_thread_mutex_lock(e->lock);
    apr_atomic_set32(&e->stop, 1);
    apr_thread_cond_signal(e->wake);
    apr_thread_mutex_unlock(e->lock);
    apr_thread_join(&rv, e->thread);
    the_exporter = NULL;
    for (k = 0; k < LCRM_EXPORT_KINDS; k++) {
        while (e->q[k].count) {
            free(e->q[k].items[e->q[k].head]);
            e->q[k].head = (e->q[k].head + 1) % e->q[k].cap;
            e->q[k].count--;
        }
        curl_slist_free_all(e->headers[k]);
    }
    return APR_SUCCESS;
}

static void setup_kind(exporter_t *e, apr_pool_t *p, lcrm_export_kind_e kind,
                       const char *url, int cap)
{
    e->enabled[kind] = url != NULL;
    e->url[kind] = url;
    e->q[kind].cap = cap;
    e->q[kind].items = apr_pcalloc(p, sizeof(char *) * (apr_size_t)cap);
    e->q[kind].lens = apr_pcalloc(p, sizeof(apr_size_t) * (apr_size_t)cap);
}

void lcrm_monitor_child_init(apr_pool_t *pchild, server_rec *s)
{
    const lcrm_monitor_conf_t *mc = lcrm_monitor_conf();
    int cap = mc->queue_size == LCRM_UNSET ? DEFAULT_QUEUE : mc->queue_size;
    exporter_t *e;
    apr_status_t rv;

    if (!mc->dsn_text && !mc->otlp_endpoint) {
        return;
    }
    e = apr_pcalloc(pchild, sizeof(*e));
    e->s = s;
    setup_kind(e, pchild, LCRM_EXPORT_SENTRY,
               mc->dsn_text ? mc->dsn.envelope_url : NULL, cap);
    setup_kind(e, pchild, LCRM_EXPORT_OTLP, mc->otlp_endpoint, cap);
    e->headers[LCRM_EXPORT_SENTRY] = curl_slist_append(
        curl_slist_append(NULL, "Content-Type: application/x-sentry-envelope"),
        apr_pstrcat(pchild, "X-Sentry-Auth: Sentry sentry_version=7, "
                    "sentry_client=mod_leadcrm/" LCRM_VERSION ", sentry_key=",
                    mc->dsn.public_key ? mc->dsn.public_key : "", NULL));
    e->headers[LCRM_EXPORT_OTLP] = curl_slist_append(
        NULL, "Content-Type: application/json");
    if ((rv = apr_thread_mutex_create(&e->lock, APR_THREAD_MUTEX_DEFAULT,
                                      pchild)) != APR_SUCCESS
        || (rv = apr_thread_cond_create(&e->wake, pchild)) != APR_SUCCESS
        || (rv = apr_thread_create(&e->thread, NULL, exporter_main, e,
                                   pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, LCRM_LOGNO(01803)
                     "cannot start the monitoring exporter thread; "
                     "nothing is exported by this process");
        return;
    }
    /* a pre-cleanup: it must run before pchild's sub-pools (the
     * thread's own pool among them) are destroyed */
    apr_pool_pre_cleanup_register(pchild, e, exporter_stop);
    the_exporter = e;
}
