/*
 * lcrm_db: PostgreSQL access over mod_dbd's pooled connections.
 *
 * Statements (apr_dbd syntax: %s parameters, %% for %) run as libpq
 * server-side prepared statements of each pooled connection, named after
 * a hash of their text, so PostgreSQL parses and plans each once per
 * connection instead of once per request.  The module remembers which
 * names it prepared on which connection; when a connection is reset
 * (after a PostgreSQL restart every prepared statement is gone: the trap
 * in PITFALLS.md) or the server says a statement does not exist (26000),
 * it forgets them, re-prepares and retries once.  Parameter types are
 * inferred by the server (as with PQexecParams), never declared varchar.
 * Driver error text is logged at DEBUG only.
 */
#ifndef LCRM_DB_H
#define LCRM_DB_H

#include <httpd.h>
#include <apr_dbd.h>

typedef struct lcrm_db lcrm_db_t;

/* Outcome of a statement. */
typedef enum {
    LCRM_DB_OK = 0,
    LCRM_DB_NO_ROW,       /* a query that had to return a row returned none */
    LCRM_DB_UNAVAILABLE,  /* no connection: answer 503 */
    LCRM_DB_ERROR         /* the statement failed: answer 500 */
} lcrm_db_rc_e;

/* A row of text columns (NULL for SQL NULL), in request pool memory. */
typedef struct {
    int ncols;
    const char **cols;
} lcrm_row_t;

/* Returns the request's database handle (acquired lazily), never NULL. */
lcrm_db_t *lcrm_db(request_rec *r);

/*
 * Runs sql with args[0..nargs) (NULL = SQL NULL) and returns its rows.
 * *rows gets an array of lcrm_row_t (may be empty).
 */
lcrm_db_rc_e lcrm_db_rows(lcrm_db_t *db, const char *sql, int nargs,
                          const char *const *args, apr_array_header_t **rows);

/* Like lcrm_db_rows but requires at least one row and returns the first. */
lcrm_db_rc_e lcrm_db_row(lcrm_db_t *db, const char *sql, int nargs,
                         const char *const *args, lcrm_row_t *row);

/* The first column of the first row (LCRM_DB_NO_ROW when there is none). */
lcrm_db_rc_e lcrm_db_value(lcrm_db_t *db, const char *sql, int nargs,
                           const char *const *args, const char **value);

/* Statements that return no rows; *affected gets the row count. */
lcrm_db_rc_e lcrm_db_exec(lcrm_db_t *db, const char *sql, int nargs,
                          const char *const *args, int *affected);

/* Like lcrm_db_rows, but the rows live in pool (e.g. a per-batch pool). */
lcrm_db_rc_e lcrm_db_rows_in(lcrm_db_t *db, apr_pool_t *pool, const char *sql,
                             int nargs, const char *const *args,
                             apr_array_header_t **rows);

/*
 * Explicit transactions (e.g. one snapshot for a streamed export):
 * begin_sql is a constant "BEGIN ..." text.  A request pool cleanup rolls
 * back whatever is still open, so the connection never returns to the
 * pool inside a transaction.  lcrm_db_in_transaction() is non-zero while
 * the transaction is open and healthy (false after a connection reset:
 * the statements that follow would no longer share the snapshot).
 */
lcrm_db_rc_e lcrm_db_begin(lcrm_db_t *db, const char *begin_sql);
int lcrm_db_in_transaction(lcrm_db_t *db);
lcrm_db_rc_e lcrm_db_end(lcrm_db_t *db, int commit);

/* Resolves mod_dbd's optional functions (from the optional_fn hook). */
void lcrm_db_retrieve_fns(void);

/* Non-zero when mod_dbd is loaded. */
int lcrm_db_available(void);

#endif
