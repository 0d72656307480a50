/*
 * lcrm_db: statements over mod_dbd connections (see lcrm_db.h).
 */
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <libpq-fe.h>

#include "lcrm_db.h"
#include "lcrm_private.h"
#include "lcrm_metrics.h"

#include <apr_optional.h>
#include <apr_strings.h>
#include <http_request.h>

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

struct lcrm_db {
    request_rec *r;
    ap_dbd_t *dbd;
    int tried;
};

void lcrm_db_retrieve_fns(void)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
}

int lcrm_db_available(void)
{
    return dbd_acquire != NULL;
}

lcrm_db_t *lcrm_db(request_rec *r)
{
    lcrm_db_t *db = ap_get_module_config(r->request_config, &leadcrm_module);
    if (!db) {
        db = apr_pcalloc(r->pool, sizeof(*db));
        db->r = r;
        ap_set_module_config(r->request_config, &leadcrm_module, db);
    }
    return db;
}

/* Acquires the request's connection once; NULL when PostgreSQL is down. */
static ap_dbd_t *connection(lcrm_db_t *db)
{
    if (!db->dbd && !db->tried) {
        db->tried = 1;
        db->dbd = dbd_acquire ? dbd_acquire(db->r) : NULL;
        if (!db->dbd) {
            lcrm_metrics_event(db->r, LCRM_M_DB_ACQUIRE_FAILED);
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, LCRM_LOGNO(00101)
                          "no database connection (is PostgreSQL up and "
                          "DBDParams right?)");
        }
    }
    return db->dbd;
}

/*
 * After a failed statement: if the connection itself is broken, let the
 * driver reconnect.  Returns 1 when the statement is worth one retry.
 */
static int recover(lcrm_db_t *db, int rc)
{
    ap_dbd_t *dbd = db->dbd;
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);

    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, db->r, LCRM_LOGNO(00102)
                  "statement failed: %s",
                  apr_dbd_error(dbd->driver, dbd->handle, rc));
    if (conn && PQstatus(conn) == CONNECTION_OK) {
        return 0;
    }
    if (apr_dbd_check_conn(dbd->driver, db->r->pool, dbd->handle)
        == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, db->r, LCRM_LOGNO(00103)
                      "database connection was reset; retrying once");
        return 1;
    }
    return -1;
}

static lcrm_db_rc_e failure(lcrm_db_t *db, int how)
{
    if (how < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, LCRM_LOGNO(00104)
                      "database connection lost");
        return LCRM_DB_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, LCRM_LOGNO(00105)
                  "database statement failed (LogLevel leadcrm:debug shows "
                  "the driver message)");
    return LCRM_DB_ERROR;
}

/* Runs one statement (select or not), with the single retry. */
static lcrm_db_rc_e run(lcrm_db_t *db, const char *sql, int nargs,
                        const char *const *args, int select,
                        apr_dbd_results_t **res, int *affected)
{
    ap_dbd_t *dbd = connection(db);
    apr_dbd_prepared_t *stmt = NULL;
    int attempt, rc = 0, how = 0;

    if (!dbd) {
        return LCRM_DB_UNAVAILABLE;
    }
    /* label NULL: parsed client-side, executed with PQexecParams */
    if (apr_dbd_prepare(dbd->driver, db->r->pool, dbd->handle, sql, NULL,
                        &stmt)) {
        return failure(db, 0);
    }
    for (attempt = 0; attempt < 2; attempt++) {
        *res = NULL;
        rc = select ? apr_dbd_pselect(dbd->driver, db->r->pool, dbd->handle,
                                      res, stmt, 1, nargs, (const char **)args)
                    : apr_dbd_pquery(dbd->driver, db->r->pool, dbd->handle,
                                     affected, stmt, nargs,
                                     (const char **)args);
        if (rc == 0) {
            return LCRM_DB_OK;
        }
        if ((how = recover(db, rc)) != 1) {
            break;
        }
    }
    return failure(db, how);
}

lcrm_db_rc_e lcrm_db_rows(lcrm_db_t *db, const char *sql, int nargs,
                          const char *const *args, apr_array_header_t **rows)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    lcrm_db_rc_e rc = run(db, sql, nargs, args, 1, &res, NULL);
    const apr_dbd_driver_t *drv;
    int ncols;

    *rows = apr_array_make(db->r->pool, 4, sizeof(lcrm_row_t));
    if (rc != LCRM_DB_OK) {
        return rc;
    }
    drv = db->dbd->driver;
    ncols = apr_dbd_num_cols(drv, res);
    /* drain to -1 so the driver releases the result */
    while (apr_dbd_get_row(drv, db->r->pool, res, &row, -1) == 0) {
        lcrm_row_t *out = apr_array_push(*rows);
        int i;
        out->ncols = ncols;
        out->cols = apr_pcalloc(db->r->pool, sizeof(char *) * (apr_size_t)ncols);
        for (i = 0; i < ncols; i++) {
            char *v = NULL;
            if (apr_dbd_datum_get(drv, row, i, APR_DBD_TYPE_STRING, &v)
                == APR_SUCCESS) {
                /* copy: draining the result to -1 PQclear()s it */
                out->cols[i] = apr_pstrdup(db->r->pool, v);
            }
        }
    }
    return LCRM_DB_OK;
}

lcrm_db_rc_e lcrm_db_row(lcrm_db_t *db, const char *sql, int nargs,
                         const char *const *args, lcrm_row_t *row)
{
    apr_array_header_t *rows;
    lcrm_db_rc_e rc = lcrm_db_rows(db, sql, nargs, args, &rows);
    if (rc != LCRM_DB_OK) {
        return rc;
    }
    if (rows->nelts == 0) {
        return LCRM_DB_NO_ROW;
    }
    *row = APR_ARRAY_IDX(rows, 0, lcrm_row_t);
    return LCRM_DB_OK;
}

lcrm_db_rc_e lcrm_db_value(lcrm_db_t *db, const char *sql, int nargs,
                           const char *const *args, const char **value)
{
    lcrm_row_t row;
    lcrm_db_rc_e rc = lcrm_db_row(db, sql, nargs, args, &row);
    *value = rc == LCRM_DB_OK && row.ncols > 0 ? row.cols[0] : NULL;
    return rc;
}

lcrm_db_rc_e lcrm_db_exec(lcrm_db_t *db, const char *sql, int nargs,
                          const char *const *args, int *affected)
{
    apr_dbd_results_t *res = NULL;
    int n = 0;
    lcrm_db_rc_e rc = run(db, sql, nargs, args, 0, &res, &n);
    if (affected) {
        *affected = n;
    }
    return rc;
}
