/*
 * lcrm_route: method + path matching over const route tables.
 *
 * Patterns are absolute paths whose segments are literals or ":name"
 * (one non-empty segment).  Matching is exact: no trailing slash, no
 * empty segments.  The handler pointer is opaque to the core.
 */
#ifndef LCRM_ROUTE_H
#define LCRM_ROUTE_H

#include <apr_pools.h>

#define LCRM_ROUTE_MAX_PARAMS 2

typedef void (*lcrm_route_fn)(void);

typedef struct {
    const char *method;     /* "GET", "POST", ... */
    const char *pattern;    /* "/api/leads/:id" */
    lcrm_route_fn handler;  /* cast back by the glue */
    unsigned flags;         /* glue-defined (auth needs, body...) */
    const char *const *query; /* accepted query names, NULL-terminated */
} lcrm_route_t;

typedef enum {
    LCRM_ROUTE_FOUND = 0,
    LCRM_ROUTE_NO_PATH,     /* -> 404 */
    LCRM_ROUTE_NO_METHOD    /* -> 405 with *allow */
} lcrm_route_result_e;

typedef struct {
    const lcrm_route_t *route;
    const char *params[LCRM_ROUTE_MAX_PARAMS]; /* pool copies, in order */
    int nparams;
    const char *allow;      /* "GET, PUT" when NO_METHOD (HEAD implied by GET) */
} lcrm_route_match_t;

/*
 * Finds the route for method and path in routes[0..n).  Static segments
 * win over parameters when both could match.  HEAD matches GET routes.
 */
lcrm_route_result_e lcrm_route_match(apr_pool_t *pool,
                                     const lcrm_route_t *routes, int n,
                                     const char *method, const char *path,
                                     lcrm_route_match_t *m);

#endif
