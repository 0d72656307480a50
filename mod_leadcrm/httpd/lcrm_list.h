/*
 * lcrm_list: the one list toolkit.  Every list endpoint (users, leads,
 * consultations, and later keys, audit, notifications) describes itself in
 * one constant lcrm_list_def_t and lets this code do the rest of API.md
 * "Lists" and part 2 "Lists: cursors":
 *
 *  - filters: query name -> check function -> SQL fragment with bound
 *    parameters (never string-built); an empty value of a check that says
 *    so filters nothing;
 *  - sorts from a whitelist table: each sort is a list of keys (SQL
 *    expression, cast type, direction, nulls last), the row id last;
 *  - the page envelope {data, pagination{page, limit, total, totalPages,
 *    totalIsExact, nextCursor}} with a count capped at 10,001 matches
 *    (or an exact count from an optional callback), or in cursor mode
 *    {data, pagination{limit, nextCursor}};
 *  - cursors (lcrm_cursor): signed, bound to def->endpoint, carrying the
 *    sort, the checked filter values and the last row's sort keys; the next
 *    page is a keyset read (time independent of depth).  With `cursor`
 *    only `limit` may come along.  Visibility (what a USER may see) is
 *    never in the cursor: the endpoint adds it from the caller with
 *    lcrm_list_scope() on every request;
 *  - one invalid_query problem for every bad parameter.
 *
 * Use:
 *     lcrm_list_t l;
 *     if (lcrm_list_begin(&l, ctx, &my_list_def)) return OK;  (400 sent)
 *     if (!admin) lcrm_list_scope(&l, " AND x.user_id = CAST(%s AS uuid)",
 *                                 ctx->caller->user_id);
 *     return lcrm_list_respond(&l);
 * The route's query names must include page, limit, cursor, sort and the
 * filter names.  Exports and other readers of the same filters use
 * lcrm_list_begin with def->paged = 0 and read l.where / l.args and
 * lcrm_list_order_sql().
 *
 * def->from names the table with an alias; def->live starts the WHERE
 * (" WHERE x.deleted_at IS NULL" or " WHERE TRUE"); def->row_json renders
 * one row to JSON from that alias.
 */
#ifndef LCRM_LIST_H
#define LCRM_LIST_H

#include "lcrm_router.h"
#include "lcrm_query.h"

#define LCRM_LIST_COUNT_CAP 10001
#define LCRM_LIST_MAX_KEYS 4
#define LCRM_LIST_SEARCH_MAX 200   /* code points */

/*
 * Checks a query value.  Returns NULL (valid) or the error message; sets
 * *sql_value to the text to bind, or NULL to skip the filter.
 */
typedef const char *(*lcrm_list_check_fn)(apr_pool_t *pool, const char *v,
                                          const char **sql_value);

/* A filter: its fragment (" AND ...") binds the value nargs times. */
typedef struct {
    const char *name;
    const char *sql;
    int nargs;
    lcrm_list_check_fn check;
} lcrm_list_filter_t;

/* One sort key. */
typedef struct {
    const char *expr;   /* e.g. "l.created_at" */
    const char *type;   /* cast of the cursor value, e.g. "timestamptz" */
    int desc;           /* 1: descending */
    int nullable;       /* 1: may be NULL (sorted last both ways) */
} lcrm_list_key_t;

/* A sort: its query name and its keys, ended by {NULL}; id comes last. */
typedef struct {
    const char *name;
    lcrm_list_key_t keys[LCRM_LIST_MAX_KEYS + 1];
} lcrm_list_sort_t;

struct lcrm_list;

/*
 * Optional exact count: returns SQL (one row, one bigint column) giving
 * the exact total for l's filters, binding args and nargs, or NULL when it
 * cannot (the capped count is used then).
 */
typedef const char *(*lcrm_list_count_fn)(struct lcrm_list *l,
                                          const char *const **args,
                                          int *nargs);

typedef struct {
    const char *endpoint;     /* binds cursors, e.g. "GET /api/leads" */
    const char *from;         /* " FROM leads l": one table and its alias */
    const char *live;         /* " WHERE l.deleted_at IS NULL" */
    const char *row_json;     /* "lcrm_lead_json(l)" */
    const lcrm_list_filter_t *filters;
    int nfilters;
    const lcrm_list_sort_t *sorts;  /* sorts[0] is the default */
    int nsorts;
    const char *range_from;   /* optional: range_from must not be after */
    const char *range_to;     /*   range_to (both RFC 3339) */
    lcrm_list_count_fn exact_count;  /* optional */
    int paged;                /* 1: page/limit/cursor are read */
} lcrm_list_def_t;

typedef struct lcrm_list {
    const lcrm_list_def_t *def;
    lcrm_ctx_t *ctx;
    apr_pool_t *pool;
    const char *where;             /* def->live + fragments */
    apr_array_header_t *args;      /* of const char *, in where order */
    apr_array_header_t *errors;    /* of lcrm_field_error_t */
    apr_table_t *used;             /* filter name -> query value */
    const lcrm_list_sort_t *sort;
    lcrm_page_t page;
    const char *after[LCRM_LIST_MAX_KEYS]; /* cursor keys (NULL = SQL NULL) */
    int cursor;                    /* 1: a cursor was given */
    int narrow;                    /* 1: a search (lcrm_list_search) is in
                                    * use: see page_sql in lcrm_list.c */
    char cache;                    /* LeadCRMCache version kind, or 0 */
} lcrm_list_t;

/*
 * Reads ctx->query for def: page/limit or cursor(+limit), filters, sort,
 * range.  Returns 0, or 1 after answering 400 invalid_query.
 */
int lcrm_list_begin(lcrm_list_t *l, lcrm_ctx_t *ctx,
                    const lcrm_list_def_t *def);

/* Adds a visibility fragment binding arg once (never part of a cursor). */
void lcrm_list_scope(lcrm_list_t *l, const char *sql, const char *arg);

/* Non-zero when the filter name is in use on this request. */
int lcrm_list_has(const lcrm_list_t *l, const char *name);

/* The ORDER BY text (without "ORDER BY") of the chosen sort. */
const char *lcrm_list_order_sql(const lcrm_list_t *l);

/* Number of sort keys of the chosen sort (id included). */
int lcrm_list_nkeys(const lcrm_list_t *l);

/*
 * Snapshot reads in batches (exports): the statement selecting columns
 * (a SELECT list over def->from's alias) followed by the sort keys as
 * text, for at most n rows in the sort order after the position set by
 * lcrm_list_after() (the start when none was set).  Everything, the
 * statement and its *args, is allocated from pool (a per-batch pool keeps
 * a long export in constant memory).
 */
const char *lcrm_list_batch_sql(lcrm_list_t *l, apr_pool_t *pool,
                                const char *columns, int n, int *nargs,
                                const char *const **args);

/* Sets the batch position: keys[0..nkeys) as text, NULL = SQL NULL; the
 * strings must outlive the next lcrm_list_batch_sql call. */
void lcrm_list_after(lcrm_list_t *l, const char *const *keys);

/*
 * Lets lcrm_list_respond answer from LeadCRMCache (httpd/lcrm_listcache.h)
 * under list version kind (LCRM_LISTCACHE_LEADS, ...): only for a list
 * whose every rendered byte is covered by that version.
 */
void lcrm_list_cache(lcrm_list_t *l, char kind);

/* Runs the page and answers 200 (no-store), or 5xx; returns OK. */
int lcrm_list_respond(lcrm_list_t *l);

/* Answers 400 invalid_query naming one parameter; returns OK. */
int lcrm_list_invalid(lcrm_ctx_t *ctx, const char *field, const char *why);

/* Shared checks: lcrm_list_check_fn for common value kinds. */
const char *lcrm_list_uuid(apr_pool_t *pool, const char *v, const char **out);
const char *lcrm_list_time(apr_pool_t *pool, const char *v, const char **out);
const char *lcrm_list_bool(apr_pool_t *pool, const char *v, const char **out);
/* A search: at most LCRM_LIST_SEARCH_MAX code points; binds the LIKE
 * pattern (lcrm_like_pattern); empty filters nothing. */
const char *lcrm_list_search(apr_pool_t *pool, const char *v,
                             const char **out);
/* Value must be one of names (NULL-terminated). */
const char *lcrm_list_enum(const char *const *names, const char *v);

#endif
