/*
 * lcrm_query: strict query-string parsing.  Unknown or repeated names,
 * bad percent-escapes, invalid UTF-8 and control characters are refused
 * (API.md "Unknown or repeated query parameters -> 400").
 */
#ifndef LCRM_QUERY_H
#define LCRM_QUERY_H

#include <apr_pools.h>
#include <apr_tables.h>

#define LCRM_QUERY_MAX_VALUE 2048
#define LCRM_QUERY_MAX_LEN 8192

/*
 * Parses args (may be NULL) accepting only names in allowed (NULL-
 * terminated).  Returns APR_SUCCESS and *out (name -> decoded value), or
 * APR_EINVAL with *field the offending name (or "query") and *why.
 */
apr_status_t lcrm_query_parse(apr_pool_t *pool, const char *args,
                              const char *const *allowed, apr_table_t **out,
                              const char **field, const char **why);

typedef struct {
    apr_int64_t page;   /* 1.. */
    apr_int64_t limit;  /* 1..100 */
    apr_int64_t offset;
} lcrm_page_t;

/* Reads page (default 1, max 1000000) and limit (default 20, 1..100). */
apr_status_t lcrm_query_page(apr_table_t *q, lcrm_page_t *pg,
                             const char **field, const char **why);

#endif
