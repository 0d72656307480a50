/*
 * lcrm_purge: the audit log's retention purge in the background.
 *
 * A mod_watchdog singleton callback (one child per node runs it) calls
 * the database function lcrm_audit_purge(LeadCRMAuditRetention) every
 * LeadCRMAuditPurgeInterval.  That function is SECURITY DEFINER,
 * owned by the migration role, and never deletes an entry younger than
 * 30 days; the app role httpd connects as cannot delete anything itself.
 * The connection comes from mod_dbd's pool (ap_dbd_open/ap_dbd_close);
 * the statement is unlabelled (no server-side state to lose).  Several
 * nodes purging at once is harmless (the DELETE is idempotent).
 */
#include "lcrm_config.h"
#include "lcrm_private.h"

#include <apr_dbd.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>

#define PURGE_WATCHDOG "leadcrm-audit-purge"

typedef struct {
    server_rec *s;
} purge_ctx_t;

static apr_status_t purge_once(server_rec *s, apr_pool_t *pool)
{
    APR_OPTIONAL_FN_TYPE(ap_dbd_open) *open_fn =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *close_fn =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    const char *retention = apr_psprintf(pool, "%" APR_INT64_T_FMT,
        lcrm_conf_audit_retention(lcrm_sconf(s)));
    apr_dbd_prepared_t *stmt = NULL;    /* the driver reuses a non-NULL one */
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *n = "0";
    ap_dbd_t *db;
    int rv;

    if (!open_fn || !close_fn || !(db = open_fn(pool, s))) {
        return APR_EGENERAL;
    }
    rv = apr_dbd_prepare(db->driver, pool, db->handle,
                         "SELECT lcrm_audit_purge(CAST(%s AS bigint))", NULL,
                         &stmt);
    if (!rv) {
        rv = apr_dbd_pvselect(db->driver, pool, db->handle, &res, stmt, 1,
                              retention, NULL);
    }
    if (!rv && apr_dbd_get_row(db->driver, pool, res, &row, -1) == 0) {
        n = apr_pstrdup(pool, apr_dbd_get_entry(db->driver, row, 0));
        while (apr_dbd_get_row(db->driver, pool, res, &row, -1) == 0) {
        }
    }
    close_fn(s, db);
    if (rv) {
        return APR_EGENERAL;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, LCRM_LOGNO(01640)
                 "audit purge: %s entries older than %s s deleted", n,
                 retention);
    return APR_SUCCESS;
}

static apr_status_t purge_callback(int state, void *data, apr_pool_t *pool)
{
    purge_ctx_t *pc = data;

    /* STARTING runs in the child's init, possibly before mod_dbd's own
     * child_init set up its connection pool: purge on RUNNING only */
    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS;
    }
    if (purge_once(pc->s, pool) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, pc->s, LCRM_LOGNO(01641)
                     "audit purge failed (database unreachable?); "
                     "retrying at the next interval");
    }
    return APR_SUCCESS;     /* keep being called */
}

/*
 * post_config: registers the purge with a mod_watchdog singleton.  A
 * missing mod_watchdog is logged and tolerated (no purge).  Returns OK.
 */
int lcrm_purge_post_config(apr_pool_t *pconf, server_rec *s);

int lcrm_purge_post_config(apr_pool_t *pconf, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_fn =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *reg_fn =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    purge_ctx_t *pc = apr_pcalloc(pconf, sizeof(*pc));
    ap_watchdog_t *wd;
    apr_status_t rv;

    if (!get_fn || !reg_fn) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LCRM_LOGNO(01642)
                     "mod_watchdog is not available: the audit log is not "
                     "purged");
        return OK;
    }
    pc->s = s;
    rv = get_fn(&wd, PURGE_WATCHDOG, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = reg_fn(wd, apr_time_from_sec(lcrm_conf_audit_purge_interval(
                                              lcrm_sconf(s))),
                    pc, purge_callback);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, LCRM_LOGNO(01643)
                     "cannot register the audit purge with mod_watchdog");
    }
    return OK;
}
