/*
 * fuzz_route: lcrm_route_match over the API's route tables.
 *
 * An input is "METHOD PATH": the bytes before the first space are the
 * method, the rest the path (no space: method GET, the whole input is the
 * path; a NUL ends either early, as it would a C string from httpd).  It
 * is matched against the union of every family's routes (health, auth,
 * users, leads and the consultation routes API.md lists) and against each
 * family's own table, as the module dispatches them.
 *
 * The result is compared with a reference matcher written differently
 * (split into segment arrays): same route (the first of the most literal
 * matches), same parameters, an Allow list that names each matching
 * method once in table order and omits the request's method.
 */
#include "fuzz.h"
#include "lcrm_route.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <string.h>

#define R(m, p) {m, p, NULL, 0, NULL}

static const lcrm_route_t health_routes[] = {
    R("GET", "/health"),
};

static const lcrm_route_t auth_routes[] = {
    R("POST", "/auth/register"), R("POST", "/auth/login"),
    R("POST", "/auth/refresh"), R("POST", "/auth/logout"),
    R("POST", "/auth/logout-all"), R("GET", "/auth/profile"),
    R("PUT", "/auth/profile"),
};

static const lcrm_route_t users_routes[] = {
    R("GET", "/api/users"), R("GET", "/api/users/:id"),
    R("PUT", "/api/users/:id"), R("PATCH", "/api/users/:id"),
    R("DELETE", "/api/users/:id"),
    R("POST", "/api/users/:id/change-password"),
};

static const lcrm_route_t lead_routes[] = {
    R("POST", "/api/leads"), R("GET", "/api/leads"),
    R("GET", "/api/leads/stats"), R("GET", "/api/leads/:id"),
    R("PUT", "/api/leads/:id"), R("PATCH", "/api/leads/:id"),
    R("DELETE", "/api/leads/:id"),
};

static const lcrm_route_t consultation_routes[] = {
    R("POST", "/api/consultations"), R("GET", "/api/consultations"),
    R("GET", "/api/consultations/availability"),
    R("GET", "/api/consultations/:id"), R("PUT", "/api/consultations/:id"),
    R("PATCH", "/api/consultations/:id"),
    R("DELETE", "/api/consultations/:id"),
};

/* Everything in one table, param routes first to test literal priority. */
static const lcrm_route_t all_routes[] = {
    R("GET", "/api/leads/:id"), R("PUT", "/api/leads/:id"),
    R("PATCH", "/api/leads/:id"), R("DELETE", "/api/leads/:id"),
    R("POST", "/api/leads"), R("GET", "/api/leads"),
    R("GET", "/api/leads/stats"),
    R("GET", "/health"),
    R("POST", "/auth/register"), R("POST", "/auth/login"),
    R("POST", "/auth/refresh"), R("POST", "/auth/logout"),
    R("POST", "/auth/logout-all"), R("GET", "/auth/profile"),
    R("PUT", "/auth/profile"),
    R("GET", "/api/users"), R("GET", "/api/users/:id"),
    R("PUT", "/api/users/:id"), R("PATCH", "/api/users/:id"),
    R("DELETE", "/api/users/:id"),
    R("POST", "/api/users/:id/change-password"),
    R("GET", "/api/consultations/:id"),
    R("POST", "/api/consultations"), R("GET", "/api/consultations"),
    R("GET", "/api/consultations/availability"),
    R("PUT", "/api/consultations/:id"), R("PATCH", "/api/consultations/:id"),
    R("DELETE", "/api/consultations/:id"),
    R("GET", "/api/:kind/:id"),   /* two parameters, lowest priority */
};

typedef struct {
    const lcrm_route_t *routes;
    int n;
} table_t;

#define TABLE(t) {t, (int)(sizeof(t) / sizeof(t[0]))}

static const table_t tables[] = {
    TABLE(all_routes), TABLE(health_routes), TABLE(auth_routes),
    TABLE(users_routes), TABLE(lead_routes), TABLE(consultation_routes),
};

#define MAX_SEGS 64

/* Splits an absolute path at '/' keeping empty segments; -1 if too many. */
static int split(apr_pool_t *p, const char *s, char **segs)
{
    char *copy = apr_pstrdup(p, s + 1), *slash;
    int n = 0;

    for (;;) {
        if (n == MAX_SEGS) {
            return -1;
        }
        segs[n++] = copy;
        if (!(slash = strchr(copy, '/'))) {
            return n;
        }
        *slash = '\0';
        copy = slash + 1;
    }
}

/* Reference matcher: literal count or -1; params filled in order. */
static int ref_match(apr_pool_t *p, const char *pattern, const char *path,
                     const char **params, int *np)
{
    char *ps[MAX_SEGS], *xs[MAX_SEGS];
    int n, i, score = 0;

    *np = 0;
    if (path[0] != '/') {
        return -1;
    }
    n = split(p, pattern, ps);
    if (split(p, path, xs) != n) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (xs[i][0] == '\0') {
            return -1;
        }
        if (ps[i][0] == ':') {
            params[(*np)++] = xs[i];
        }
        else if (strcmp(ps[i], xs[i])) {
            return -1;
        }
        else {
            score++;
        }
    }
    return score;
}

static int method_ok(const char *route_method, const char *method)
{
    return !strcmp(route_method, method)
           || (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* The Allow value the reference expects: matching methods, once each. */
static const char *ref_allow(apr_pool_t *p, const table_t *t,
                             const char *path)
{
    const char *params[MAX_SEGS], *allow = NULL;
    int i, j, np, dup;

    for (i = 0; i < t->n; i++) {
        if (ref_match(p, t->routes[i].pattern, path, params, &np) < 0) {
            continue;
        }
        dup = 0;
        for (j = 0; j < i; j++) {
            dup |= !strcmp(t->routes[j].method, t->routes[i].method)
                   && ref_match(p, t->routes[j].pattern, path, params, &np)
                          >= 0;
        }
        if (!dup) {
            allow = allow ? apr_pstrcat(p, allow, ", ", t->routes[i].method,
                                        NULL)
                          : t->routes[i].method;
        }
    }
    return allow;
}

static void check_table(apr_pool_t *p, const table_t *t, const char *method,
                        const char *path)
{
    lcrm_route_match_t m;
    lcrm_route_result_e res = lcrm_route_match(p, t->routes, t->n, method,
                                               path, &m);
    const char *params[MAX_SEGS], *best_params[MAX_SEGS];
    const lcrm_route_t *best = NULL;
    int i, j, np, best_np = 0, score, best_score = -1, any = 0;

    for (i = 0; i < t->n; i++) {
        score = ref_match(p, t->routes[i].pattern, path, params, &np);
        any |= score >= 0;
        if (score > best_score && method_ok(t->routes[i].method, method)) {
            best = &t->routes[i];
            best_score = score;
            best_np = np;
            memcpy(best_params, params, sizeof(params[0]) * (size_t)np);
        }
    }
    if (best) {
        FUZZ_CHECK(res == LCRM_ROUTE_FOUND && m.route == best,
                   "route differs from the reference");
        FUZZ_CHECK(m.nparams == best_np, "parameter count differs");
        for (j = 0; j < best_np; j++) {
            FUZZ_CHECK(m.params[j] && !strcmp(m.params[j], best_params[j]),
                       "parameter differs from the reference");
        }
        return;
    }
    FUZZ_CHECK(m.route == NULL, "route set without a match");
    if (!any) {
        FUZZ_CHECK(res == LCRM_ROUTE_NO_PATH, "expected no path");
        return;
    }
    FUZZ_CHECK(res == LCRM_ROUTE_NO_METHOD && m.allow,
               "expected no method with an Allow list");
    FUZZ_CHECK(!strcmp(m.allow, ref_allow(p, t, path)),
               "Allow list differs from the reference");
}

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&root, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *sp = size ? memchr(data, ' ', size) : NULL;
    char *method, *path;
    size_t i;

    if (apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    /* malloc'd copies of exact (string) size so ASan sees overreads */
    if (sp) {
        method = strndup((const char *)data, (size_t)(sp - data));
        path = strndup((const char *)sp + 1, size - (size_t)(sp - data) - 1);
    }
    else {
        method = strdup("GET");
        path = size ? strndup((const char *)data, size) : strdup("");
    }
    if (!method || !path) {
        abort();
    }
    for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        check_table(p, &tables[i], method, path);
    }
    free(method);
    free(path);
    apr_pool_destroy(p);
    return 0;
}
