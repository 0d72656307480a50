/*
 * lcrm_ops: things an operator meets at start-up and in the logs.
 *
 * 1. The access log item %^LJ writes one JSON object per request.  httpd
 *    escapes log items as \xhh (not JSON), so a LogFormat made of JSON
 *    punctuation and %U breaks on /api/leads/caf%C3%A9 or control bytes;
 *    this item escapes every string itself (core/lcrm_logjson.c).
 * 2. mod_dbd's pool has no acquire timeout, so DBDMax below ThreadsPerChild
 *    makes threads queue for a connection, and DBDMax x processes can pass
 *    PostgreSQL's max_connections.  mod_dbd's configuration is private, so
 *    the DBDMax value is read from the parsed configuration tree.
 */
#include "lcrm_private.h"
#include "lcrm_ops.h"
#include "lcrm_logjson.h"

#include <ap_mpm.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <mod_log_config.h>
#include <util_cfgtree.h>

/* mod_dbd's pool size when DBDMax is not set (threaded MPMs) */
#define DBD_DEFAULT_NMAX 10
/* PostgreSQL's default max_connections */
#define PG_DEFAULT_MAX_CONNECTIONS 100

static const char *first_note(request_rec *r, request_rec *orig,
                              const char *name)
{
    const char *v = apr_table_get(r->notes, name);
    return v ? v : apr_table_get(orig->notes, name);
}

/* %^LJ: {"time","id","client","user","method","uri","route","status",
 * "bytes","duration_us"}; r is the final request (after redirects). */
static const char *log_json(request_rec *r, char *arg)
{
    request_rec *orig = r;
    apr_time_exp_t t;
    apr_size_t len;
    char when[32], zone[8];
    const char *id;
    apr_pool_t *p = r->pool;

    while (orig->prev) {
        orig = orig->prev;
    }
    apr_time_exp_lt(&t, orig->request_time);
    apr_strftime(when, &len, sizeof(when), "%Y-%m-%dT%H:%M:%S", &t);
    apr_strftime(zone, &len, sizeof(zone), "%z", &t);
    id = apr_table_get(orig->subprocess_env, "UNIQUE_ID");
    if (!id) {
        id = apr_table_get(r->subprocess_env, "UNIQUE_ID");
    }
    return apr_psprintf(p,
        "{\"time\":\"%s.%03d%s\",\"id\":%s,\"client\":%s,\"user\":%s,"
        "\"method\":%s,\"uri\":%s,\"route\":%s,\"status\":%d,"
        "\"bytes\":%" APR_OFF_T_FMT ",\"duration_us\":%" APR_TIME_T_FMT
        ",\"trace\":%s}",
        when, (int)(t.tm_usec / 1000), zone,
        lcrm_logjson_str(p, id),
        lcrm_logjson_str(p, r->useragent_ip),
        lcrm_logjson_str(p, first_note(r, orig, "leadcrm-user")),
        lcrm_logjson_str(p, orig->method),
        lcrm_logjson_str(p, orig->uri),
        lcrm_logjson_str(p, first_note(r, orig, "leadcrm-route")),
        r->status,
        (apr_off_t)(r->sent_bodyct ? r->bytes_sent : 0),
        apr_time_now() - orig->request_time,
        lcrm_logjson_str(p, first_note(r, orig, "leadcrm-trace-id")));
}

void lcrm_ops_pre_config(apr_pool_t *pconf)
{
    APR_OPTIONAL_FN_TYPE(ap_register_log_handler) *reg =
        APR_RETRIEVE_OPTIONAL_FN(ap_register_log_handler);

    if (reg) {
        reg(pconf, "^LJ", log_json, 0);
    }
}

/* The last DBDMax of the main server (outside <VirtualHost>), or -1. */
static int find_dbdmax(const ap_directive_t *d)
{
    int found = -1, sub;

    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            continue;
        }
        if (!strcasecmp(d->directive, "DBDMax") && d->args) {
            found = atoi(d->args[0] == '"' ? d->args + 1 : d->args);
        }
        if (d->first_child && (sub = find_dbdmax(d->first_child)) >= 0) {
            found = sub;
        }
    }
    return found;
}

int lcrm_ops_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    int threaded = 0, threads = 0, daemons = 0, dbdmax, total;

    if (!ap_find_linked_module("mod_dbd.c")
        || ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS
        || threaded == AP_MPMQ_NOT_SUPPORTED
        || ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &daemons) != APR_SUCCESS
        || threads <= 0 || daemons <= 0) {
        return OK;
    }
    dbdmax = find_dbdmax(ap_conftree);
    if (dbdmax < 0) {
        dbdmax = DBD_DEFAULT_NMAX;
    }
    total = dbdmax * daemons;
    if (dbdmax < threads) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LCRM_LOGNO(01301)
                     "DBDMax %d < ThreadsPerChild %d: mod_dbd has no "
                     "acquire timeout, so requests queue for a database "
                     "connection under load; set DBDMax %d "
                     "(README \"Sizing\")", dbdmax, threads, threads);
    }
    if (total > PG_DEFAULT_MAX_CONNECTIONS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LCRM_LOGNO(01302)
                     "up to %d PostgreSQL connections from this server "
                     "(DBDMax %d x %d child processes) > %d, PostgreSQL's "
                     "default max_connections: raise max_connections or "
                     "lower DBDMax / MaxRequestWorkers (README \"Sizing\")",
                     total, dbdmax, daemons, PG_DEFAULT_MAX_CONNECTIONS);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, LCRM_LOGNO(01303)
                     "up to %d PostgreSQL connections from this server "
                     "(DBDMax %d x %d child processes)", total, dbdmax,
                     daemons);
    }
    return OK;
}
