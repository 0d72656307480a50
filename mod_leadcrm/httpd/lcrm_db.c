/*
 * lcrm_db: statements over mod_dbd connections (see lcrm_db.h).
 */
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <libpq-fe.h>

#include "lcrm_db.h"
#include "lcrm_private.h"
#include "lcrm_metrics.h"
#include "lcrm_trace.h"

#include <apr_hash.h>
#include <apr_lib.h>
#include <apr_optional.h>
#include <stdlib.h>
#include <poll.h>
#include <apr_strings.h>
#include <http_request.h>

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire;

#define CARRY_SQL "SELECT set_config('lcrm.traceparent', %s, false)"

struct lcrm_db {
    request_rec *r;
    ap_dbd_t *dbd;
    int tried;
    int drained;        /* revive() just read the idle connection */
    const char *name;   /* the statement being run */
    const char *why;    /* the last failure: primary message + SQLSTATE */
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

static apr_hash_t *prepared_set(ap_dbd_t *dbd);
static lcrm_db_rc_e run(lcrm_db_t *db, const char *sql, int nargs,
                        const char *const *args, apr_array_header_t *rows,
                        int *affected);

/*
 * Has the server sent anything on this connection since it was last
 * read?  One poll(2) with no wait: "nothing" is the common case and then
 * costs no further call (reading an idle socket until EAGAIN cost up to
 * four recv(2) per statement).  A poll error counts as input, so that
 * PQconsumeInput reports it.
 */
static int has_input(PGconn *conn)
{
    struct pollfd pfd;

    pfd.fd = PQsocket(conn);
    pfd.events = POLLIN;
    pfd.revents = 0;
    return pfd.fd >= 0 && poll(&pfd, 1, 0) != 0;
}

/*
 * Reads what the server left on a connection that was not in use: a
 * terminated backend leaves its FATAL message and then end of file (the
 * first read returns the message, the next one sees the end).  True when
 * the connection is still good afterwards.
 */
static int drain(PGconn *conn)
{
    int i;

    for (i = 0; i < 3 && PQstatus(conn) == CONNECTION_OK && has_input(conn);
         i++) {
        if (!PQconsumeInput(conn)) {
            break;
        }
    }
    return PQstatus(conn) == CONNECTION_OK;
}

/*
 * An idle pooled connection whose server went away (a restart, a killed
 * primary) still looks fine to libpq until it reads.  Read what is pending
 * before any statement is sent: on EOF the connection is reset at once
 * (libpq multi-host: to whichever node now accepts writes), so no
 * statement is ever sent into a dead connection.
 */
static void revive(lcrm_db_t *db)
{
    ap_dbd_t *dbd = db->dbd;
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);

    if (conn && !drain(conn)) {
        apr_hash_clear(prepared_set(dbd));
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, db->r, LCRM_LOGNO(01810)
                      "idle database connection was closed by the server; "
                      "reconnecting");
        apr_dbd_check_conn(dbd->driver, db->r->pool, dbd->handle);
    }
    db->drained = 1;
}

/* Request pool cleanup: the connection goes back without the setting
 * (it runs before mod_dbd's release, registered earlier). */
static apr_status_t forget_trace(void *data)
{
    lcrm_db_t *db = data;
    PGconn *conn = apr_dbd_native_handle(db->dbd->driver, db->dbd->handle);

    if (conn && PQstatus(conn) == CONNECTION_OK
        && PQtransactionStatus(conn) == PQTRANS_IDLE) {
        PQclear(PQexec(conn, "RESET lcrm.traceparent"));
    }
    return APR_SUCCESS;
}

/*
 * A recorded request that may write tells its session its trace context
 * (lcrm_trace_queued_parent), so that the mail it queues (mail_outbox,
 * mail_jobs: a column default, sql/0050) is later delivered in a span of
 * the same trace.  One statement (a span of its own), only for sampled
 * non-GET requests; the setting is reset before the connection goes back
 * to the pool.  Runs inside connection(), so run() finds the connection
 * already there.
 */
static void carry_trace(lcrm_db_t *db)
{
    const char *args[1];

    if (db->r->method_number == M_GET || db->r->method_number == M_OPTIONS
        || !(args[0] = lcrm_trace_queued_parent(db->r))) {
        return;
    }
    if (run(db, CARRY_SQL, 1, args, NULL, NULL) == LCRM_DB_OK) {
        apr_pool_cleanup_register(db->r->pool, db, forget_trace,
                                  apr_pool_cleanup_null);
    }
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
        else {
            revive(db);
            carry_trace(db);
        }
    }
    return db->dbd;
}

/*
 * Names of the statements this module has prepared on one pooled
 * connection, kept with the connection (its pool lives as long as it).  A
 * connection is used by one request at a time, so no lock is needed.
 *
 * The set describes one server session: the backend process it was
 * built on is recorded with it.  A connection can be reset behind this
 * module's back (mod_dbd's check at acquire time, the mail worker's
 * apr_dbd_check_conn, both PQreset a broken connection): the new backend
 * has no statements, so a set whose backend is not the connection's
 * current one is emptied before use.  Without that, the first 26000 after
 * such a reset used to empty the set while statements prepared since the
 * reset stayed on the server, and their next PREPARE failed with 42P05 on
 * that connection for good.
 */
typedef struct {
    int backend_pid;
    apr_hash_t *names;
} prepared_t;

static apr_hash_t *prepared_set(ap_dbd_t *dbd)
{
    void *v = NULL;
    prepared_t *set;
    PGconn *conn = apr_dbd_native_handle(dbd->driver, dbd->handle);
    int pid = conn ? PQbackendPID(conn) : 0;

    apr_pool_userdata_get(&v, "lcrm-prepared", dbd->pool);
    if (!(set = v)) {
        set = apr_palloc(dbd->pool, sizeof(*set));
        set->backend_pid = pid;
        set->names = apr_hash_make(dbd->pool);
        apr_pool_userdata_setn(set, "lcrm-prepared", NULL, dbd->pool);
    }
    else if (set->backend_pid != pid) {
        apr_hash_clear(set->names);
        set->backend_pid = pid;
    }
    return set->names;
}

/* "lcrm_" + FNV-1a of the SQL text: one name per distinct statement. */
static const char *statement_name(apr_pool_t *p, const char *sql)
{
    apr_uint64_t h = 0xcbf29ce484222325ULL;
    for (; *sql; sql++) {
        h = (h ^ (unsigned char)*sql) * 0x100000001b3ULL;
    }
    return apr_psprintf(p, "lcrm_%016" APR_UINT64_T_HEX_FMT, h);
}

/* apr_dbd syntax (%s parameters, %% for %) to PostgreSQL's ($1, $2...). */
static const char *to_pg_sql(apr_pool_t *p, const char *sql)
{
    char *out = apr_palloc(p, strlen(sql) * 2 + 1), *o = out;
    int n = 0;

    for (; *sql; sql++) {
        if (sql[0] == '%' && apr_isalpha(sql[1])) {
            o += apr_snprintf(o, 8, "$%d", ++n);
            sql++;
        }
        else if (sql[0] == '%' && sql[1] == '%') {
            *o++ = '%';
            sql++;
        }
        else {
            *o++ = *sql;
        }
    }
    *o = '\0';
    return out;
}

typedef enum { RUN_OK, RUN_RETRY, RUN_SQL_ERROR, RUN_DOWN, RUN_LOST }
    run_state_e;

/*
 * The failure's primary message and SQLSTATE only: libpq's full message
 * (PQerrorMessage) carries DETAIL lines with row values (emails, hashes)
 * and is never logged.
 */
static const char *failure_text(apr_pool_t *p, PGconn *conn, PGresult *res)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                          : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                            : NULL;

    if (!msg) {
        /* a connection-level failure: libpq's own words, first line */
        const char *m = PQerrorMessage(conn);
        msg = apr_pstrmemdup(p, m, strcspn(m, "\n"));
    }
    return apr_psprintf(p, "%s (SQLSTATE %s)", msg,
                        state ? state : "none");
}

/*
 * Makes sure the connection is usable before a statement is sent: input
 * that arrived while it sat in the pool (a FATAL from a terminated
 * backend, end of file) is consumed, and a connection known to be bad is
 * reset now, when retrying is still safe.  Every server-side statement is
 * gone after a reset (PITFALLS.md), so the set is forgotten.
 */
static int ready(lcrm_db_t *db, PGconn *conn)
{
    ap_dbd_t *dbd = db->dbd;

    /* the first statement of a request follows revive() at once */
    if (db->drained) {
        db->drained = 0;
        if (PQstatus(conn) == CONNECTION_OK) {
            return 1;
        }
    }
    else if (drain(conn)) {
        return 1;
    }
    apr_hash_clear(prepared_set(dbd));
    if (apr_dbd_check_conn(dbd->driver, db->r->pool, dbd->handle)
        == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, db->r, LCRM_LOGNO(01202)
                      "pooled database connection was broken; reset before"
                      " sending");
        return 1;
    }
    return 0;
}

/*
 * Classifies a failed result.  sent says whether the statement itself
 * went to the server (PQexecPrepared), as opposed to its PREPARE only.
 * A statement missing on the server (26000) was not executed: it is
 * re-prepared and retried.  A connection lost after sending is never
 * retried, because a write may have committed (a retry would insert a
 * second lead, see its own booking as slot_taken, or rotate a refresh
 * token twice): the connection is reset for the next request and this
 * one answers 503.  Operator intervention (57xxx: statement timeout,
 * shutdown) is 503 too.
 */
static run_state_e classify(lcrm_db_t *db, PGconn *conn, PGresult *res,
                            int sent)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    ap_dbd_t *dbd = db->dbd;

    db->why = failure_text(db->r->pool, conn, res);
    if (!state && PQstatus(conn) == CONNECTION_OK) {
        /* No answer from the server although libpq still calls the
         * connection fine: a write to a server that died (a killed
         * primary) is reported before libpq has read the EOF.  Reset it
         * so the pooled connection is usable again (libpq multi-host:
         * possibly to the new primary); no retry, since the statement
         * may have run: 503. */
        apr_hash_clear(prepared_set(dbd));
        PQreset(conn);
        return RUN_DOWN;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        apr_hash_clear(prepared_set(dbd));
        if (apr_dbd_check_conn(dbd->driver, db->r->pool, dbd->handle)
            != APR_SUCCESS) {
            return RUN_DOWN;
        }
        return sent ? RUN_LOST : RUN_RETRY;
    }
    if (state && !strcmp(state, "26000")) {
        /* this statement only: the others this session prepared since
         * are still on the server */
        apr_hash_set(prepared_set(dbd), db->name, APR_HASH_KEY_STRING, NULL);
        return RUN_RETRY;
    }
    return state && !strncmp(state, "57", 2) ? RUN_DOWN : RUN_SQL_ERROR;
}

/* Prepares name on this connection unless done before. */
static PGresult *ensure_prepared(ap_dbd_t *dbd, PGconn *conn,
                                 apr_pool_t *p, const char *name,
                                 const char *sql, int nargs)
{
    apr_hash_t *set = prepared_set(dbd);
    PGresult *res;

    if (apr_hash_get(set, name, APR_HASH_KEY_STRING)) {
        return NULL;
    }
    res = PQprepare(conn, name, to_pg_sql(p, sql), nargs, NULL);
    if (res && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        apr_hash_set(set, apr_pstrdup(dbd->pool, name), APR_HASH_KEY_STRING,
                     "");
        return NULL;
    }
    return res ? res : PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
}

/* Copies a result's rows into request memory. */
static void copy_rows(apr_pool_t *pool, PGresult *res,
                      apr_array_header_t *rows)
{
    int i, j, nrows = PQntuples(res), ncols = PQnfields(res);

    for (i = 0; i < nrows; i++) {
        lcrm_row_t *out = apr_array_push(rows);
        out->ncols = ncols;
        out->cols = apr_pcalloc(pool, sizeof(char *) * (apr_size_t)ncols);
        for (j = 0; j < ncols; j++) {
            if (!PQgetisnull(res, i, j)) {
                out->cols[j] = apr_pstrmemdup(pool, PQgetvalue(res, i, j),
                                              (apr_size_t)PQgetlength(res, i,
                                                                      j));
            }
        }
    }
}

/* The one log line of a failed statement; the caller answers quietly. */
static lcrm_db_rc_e failure(lcrm_db_t *db, run_state_e how)
{
    if (how == RUN_LOST) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, LCRM_LOGNO(01203)
                      "database connection lost after the statement was "
                      "sent; not retried (it may have committed): %s",
                      db->why);
        return LCRM_DB_UNAVAILABLE;
    }
    if (how == RUN_DOWN) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, LCRM_LOGNO(00104)
                      "database unavailable (connection lost, shutdown or "
                      "statement timeout): %s", db->why ? db->why : "-");
        return LCRM_DB_UNAVAILABLE;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, db->r, LCRM_LOGNO(00105)
                  "database statement failed: %s", db->why ? db->why : "-");
    return LCRM_DB_ERROR;
}

/*
 * Runs one statement as a server-side prepared statement of this
 * connection (parsed and planned once per connection, not per request).
 * Retried once only when it was not executed: a connection found broken
 * before sending is reset first, a PREPARE that failed on a broken
 * connection or a statement the server lost (26000) is prepared again.
 * rows may be NULL.
 */
static lcrm_db_rc_e run_statement(lcrm_db_t *db, const char *sql,
                                  int nargs, const char *const *args,
                                  apr_array_header_t *rows, int *affected)
{
    ap_dbd_t *dbd = connection(db);
    const char *name = db->name = statement_name(db->r->pool, sql);
    run_state_e how = RUN_SQL_ERROR;
    PGconn *conn;
    int attempt;

    if (!dbd || !(conn = apr_dbd_native_handle(dbd->driver, dbd->handle))) {
        return LCRM_DB_UNAVAILABLE;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        PGresult *res;
        int sent = 0;

        if (!ready(db, conn)) {
            db->why = failure_text(db->r->pool, conn, NULL);
            return failure(db, RUN_DOWN);
        }
        if (!(res = ensure_prepared(dbd, conn, db->r->pool, name, sql,
                                    nargs))) {
            sent = 1;
            res = PQexecPrepared(conn, name, nargs, args, NULL, NULL, 0);
        }
        if (res && (PQresultStatus(res) == PGRES_TUPLES_OK
                    || PQresultStatus(res) == PGRES_COMMAND_OK)) {
            if (rows) {
                copy_rows(rows->pool, res, rows);
            }
            if (affected) {
                *affected = atoi(PQcmdTuples(res));
            }
            PQclear(res);
            return LCRM_DB_OK;
        }
        how = classify(db, conn, res, sent);
        PQclear(res);
        if (how != RUN_RETRY) {
            break;
        }
    }
    return failure(db, how == RUN_RETRY ? RUN_SQL_ERROR : how);
}

/* "db SELECT", "db INSERT"...: the statement's first word. */
static const char *span_name(apr_pool_t *p, const char *sql)
{
    apr_size_t n;
    while (apr_isspace(*sql) || *sql == '(') {
        sql++;
    }
    for (n = 0; apr_isalpha(sql[n]) && n < 16; n++) {
    }
    return apr_pstrcat(p, "db ", apr_pstrmemdup(p, sql, n), NULL);
}

/*
 * run_statement inside a tracing span (lcrm_trace.h; a no-op when the
 * request is not traced).  The span carries the statement text, which
 * holds only placeholders: bound values are never recorded.
 */
static lcrm_db_rc_e run(lcrm_db_t *db, const char *sql, int nargs,
                        const char *const *args, apr_array_header_t *rows,
                        int *affected)
{
    lcrm_span_t *span = lcrm_span_start(db->r, "db", LCRM_SPAN_CLIENT);
    lcrm_db_rc_e rc;

    if (span) {
        lcrm_span_rename(span, span_name(db->r->pool, sql));
        lcrm_span_attr(span, "db.system", "postgresql");
        lcrm_span_attr(span, "db.statement", sql);
    }
    rc = run_statement(db, sql, nargs, args, rows, affected);
    lcrm_span_end(span, rc == LCRM_DB_ERROR || rc == LCRM_DB_UNAVAILABLE);
    return rc;
}

lcrm_db_rc_e lcrm_db_rows(lcrm_db_t *db, const char *sql, int nargs,
                          const char *const *args, apr_array_header_t **rows)
{
    *rows = apr_array_make(db->r->pool, 4, sizeof(lcrm_row_t));
    return run(db, sql, nargs, args, *rows, NULL);
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
    int n = 0;
    lcrm_db_rc_e rc = run(db, sql, nargs, args, NULL, &n);
    if (affected) {
        *affected = n;
    }
    return rc;
}

lcrm_db_rc_e lcrm_db_rows_in(lcrm_db_t *db, apr_pool_t *pool, const char *sql,
                             int nargs, const char *const *args,
                             apr_array_header_t **rows)
{
    *rows = apr_array_make(pool, 64, sizeof(lcrm_row_t));
    return run(db, sql, nargs, args, *rows, NULL);
}

/* Pool cleanup: never hand a connection back inside a transaction. */
static apr_status_t rollback_cleanup(void *data)
{
    lcrm_db_t *db = data;
    PGconn *conn;

    if (db->dbd && (conn = apr_dbd_native_handle(db->dbd->driver,
                                                 db->dbd->handle))
        && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQclear(PQexec(conn, "ROLLBACK"));
    }
    return APR_SUCCESS;
}

lcrm_db_rc_e lcrm_db_begin(lcrm_db_t *db, const char *begin_sql)
{
    ap_dbd_t *dbd = connection(db);
    PGconn *conn;
    PGresult *res;
    int ok;

    if (!dbd || !(conn = apr_dbd_native_handle(dbd->driver, dbd->handle))) {
        return LCRM_DB_UNAVAILABLE;
    }
    res = PQexec(conn, begin_sql);
    ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) {
        run_state_e how = classify(db, conn, res, 1);
        PQclear(res);
        return failure(db, how == RUN_DOWN || how == RUN_LOST ? RUN_DOWN
                                                              : RUN_SQL_ERROR);
    }
    PQclear(res);
    apr_pool_cleanup_register(db->r->pool, db, rollback_cleanup,
                              apr_pool_cleanup_null);
    return LCRM_DB_OK;
}

int lcrm_db_in_transaction(lcrm_db_t *db)
{
    PGconn *conn;

    return db->dbd && (conn = apr_dbd_native_handle(db->dbd->driver,
                                                    db->dbd->handle))
           && PQtransactionStatus(conn) == PQTRANS_INTRANS;
}

lcrm_db_rc_e lcrm_db_end(lcrm_db_t *db, int commit)
{
    PGconn *conn;
    PGresult *res;
    int ok;

    if (!db->dbd || !(conn = apr_dbd_native_handle(db->dbd->driver,
                                                   db->dbd->handle))) {
        return LCRM_DB_UNAVAILABLE;
    }
    res = PQexec(conn, commit ? "COMMIT" : "ROLLBACK");
    ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok ? LCRM_DB_OK : LCRM_DB_ERROR;
}
