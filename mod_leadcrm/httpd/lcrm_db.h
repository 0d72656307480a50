/*
 * lcrm_db: PostgreSQL access through mod_dbd.
 *
 * Statements are unlabelled (PQexecParams, no server-side state), so a
 * PostgreSQL restart never leaves "prepared statement does not exist"
 * behind (PITFALLS.md).  A statement that fails because the connection
 * broke is retried once after mod_dbd's driver reconnects.  Results are
 * always fetched buffered (seek = 1): the driver sleeps 100 ms on an empty
 * unbuffered result.  Driver error text is logged at DEBUG only.
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

/* Resolves mod_dbd's optional functions (from the optional_fn hook). */
void lcrm_db_retrieve_fns(void);

/* Non-zero when mod_dbd is loaded. */
int lcrm_db_available(void);

#endif
