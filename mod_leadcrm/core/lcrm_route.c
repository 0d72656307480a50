/*
 * lcrm_route: route table matching (see lcrm_route.h).
 */
#include "lcrm_route.h"

#include <apr_strings.h>
#include <string.h>

/*
 * Matches one pattern against path.  Returns the number of literal
 * segments matched (a specificity score) or -1; captures parameters.
 */
static int match_pattern(apr_pool_t *pool, const char *pat, const char *path,
                         const char **params, int *nparams)
{
    int score = 0;

    *nparams = 0;
    while (*pat == '/' && *path == '/') {
        const char *pend, *send;
        pat++;
        path++;
        pend = strchr(pat, '/');
        send = strchr(path, '/');
        pend = pend ? pend : pat + strlen(pat);
        send = send ? send : path + strlen(path);
        if (send == path) {
            return -1; /* empty segment */
        }
        if (*pat == ':') {
            if (*nparams >= LCRM_ROUTE_MAX_PARAMS) {
                return -1;
            }
            params[(*nparams)++] = apr_pstrmemdup(pool, path,
                                                  (apr_size_t)(send - path));
        }
        else if (pend - pat != send - path
                 || strncmp(pat, path, (size_t)(pend - pat))) {
            return -1;
        }
        else {
            score++;
        }
        pat = pend;
        path = send;
    }
    return *pat == '\0' && *path == '\0' ? score : -1;
}

/* Non-zero when method is an item of the ", "-separated list. */
static int method_listed(const char *list, const char *method)
{
    apr_size_t n = strlen(method);
    const char *p = list;

    while ((p = strstr(p, method)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) {
            return 1;
        }
        p += n;
    }
    return 0;
}

static int method_matches(const char *route_method, const char *method)
{
    return !strcmp(route_method, method)
           || (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

lcrm_route_result_e lcrm_route_match(apr_pool_t *pool,
                                     const lcrm_route_t *routes, int n,
                                     const char *method, const char *path,
                                     lcrm_route_match_t *m)
{
    int i, best = -1, path_seen = 0;
    const char *params[LCRM_ROUTE_MAX_PARAMS];
    char *allow = NULL;

    memset(m, 0, sizeof(*m));
    for (i = 0; i < n; i++) {
        int np, score = match_pattern(pool, routes[i].pattern, path,
                                      params, &np);
        if (score < 0) {
            continue;
        }
        path_seen = 1;
        if (!allow) {
            allow = apr_pstrdup(pool, routes[i].method);
        }
        else if (!method_listed(allow, routes[i].method)) {
            /* a path can match a literal and a :param route: list once */
            allow = apr_pstrcat(pool, allow, ", ", routes[i].method, NULL);
        }
        if (method_matches(routes[i].method, method) && score > best) {
            best = score;
            m->route = &routes[i];
            m->nparams = np;
            memcpy(m->params, params, sizeof(params));
        }
    }
    if (m->route) {
        return LCRM_ROUTE_FOUND;
    }
    if (!path_seen) {
        return LCRM_ROUTE_NO_PATH;
    }
    m->allow = allow;
    return LCRM_ROUTE_NO_METHOD;
}
