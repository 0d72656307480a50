/*
 * lcrm_route: method + path matching (404 / 405 + Allow), plus the small
 * role and problem tables.
 */
#include "unit.h"
#include "lcrm_route.h"
#include "lcrm_role.h"
#include "lcrm_problem.h"

#include <string.h>

static void h_list(void) {}
static void h_create(void) {}
static void h_stats(void) {}
static void h_get(void) {}
static void h_put(void) {}
static void h_delete(void) {}
static void h_assign(void) {}
static void h_note(void) {}
static void h_health(void) {}

static const lcrm_route_t routes[] = {
    {"GET", "/api/leads", h_list, 0, NULL},
    {"POST", "/api/leads", h_create, 0, NULL},
    {"GET", "/api/leads/:id", h_get, 0, NULL},
    {"PUT", "/api/leads/:id", h_put, 0, NULL},
    {"DELETE", "/api/leads/:id", h_delete, 0, NULL},
    /* after the parameter route on purpose: specificity, not order, wins */
    {"GET", "/api/leads/stats", h_stats, 0, NULL},
    {"POST", "/api/leads/:id/assign", h_assign, 0, NULL},
    {"PUT", "/api/leads/:id/notes/:noteId", h_note, 0, NULL},
    {"GET", "/health", h_health, 0, NULL},
};
#define NROUTES ((int)(sizeof(routes) / sizeof(routes[0])))

static lcrm_route_match_t m;

static lcrm_route_result_e route(const char *method, const char *path)
{
    return lcrm_route_match(lcrm_test_pool, routes, NROUTES, method, path, &m);
}

static int found(const char *method, const char *path, lcrm_route_fn h)
{
    return route(method, path) == LCRM_ROUTE_FOUND && m.route
           && m.route->handler == h;
}

static void test_static_routes(void)
{
    CU_ASSERT(found("GET", "/api/leads", h_list));
    LCRM_ASSERT_INT(m.nparams, 0);
    CU_ASSERT_PTR_NULL(m.allow);
    CU_ASSERT(found("POST", "/api/leads", h_create));
    CU_ASSERT(found("GET", "/health", h_health));
}

static void test_static_beats_param(void)
{
    CU_ASSERT(found("GET", "/api/leads/stats", h_stats));
    LCRM_ASSERT_INT(m.nparams, 0);
    /* other methods on the same path still reach the parameter route */
    CU_ASSERT(found("PUT", "/api/leads/stats", h_put));
    LCRM_ASSERT_INT(m.nparams, 1);
    LCRM_ASSERT_STR(m.params[0], "stats");
    /* a longer or different literal is a parameter */
    CU_ASSERT(found("GET", "/api/leads/statsx", h_get));
    LCRM_ASSERT_STR(m.params[0], "statsx");
    CU_ASSERT(found("GET", "/api/leads/Stats", h_get));
    CU_ASSERT(found("GET", "/api/leads/stat", h_get));
}

static void test_params(void)
{
    CU_ASSERT(found("GET", "/api/leads/0e8a3c1f-5b7d-4c2a-9f1e-abcdef012345",
                    h_get));
    LCRM_ASSERT_INT(m.nparams, 1);
    LCRM_ASSERT_STR(m.params[0], "0e8a3c1f-5b7d-4c2a-9f1e-abcdef012345");
    CU_ASSERT(found("DELETE", "/api/leads/42", h_delete));
    LCRM_ASSERT_STR(m.params[0], "42");
    CU_ASSERT(found("POST", "/api/leads/7/assign", h_assign));
    LCRM_ASSERT_INT(m.nparams, 1);
    LCRM_ASSERT_STR(m.params[0], "7");
    CU_ASSERT(found("PUT", "/api/leads/abc/notes/xyz", h_note));
    LCRM_ASSERT_INT(m.nparams, 2);
    LCRM_ASSERT_STR(m.params[0], "abc");
    LCRM_ASSERT_STR(m.params[1], "xyz");
    /* captured text is passed as is (no decoding in the core) */
    CU_ASSERT(found("GET", "/api/leads/a%2Fb", h_get));
    LCRM_ASSERT_STR(m.params[0], "a%2Fb");
}

static void test_not_found(void)
{
    LCRM_ASSERT_INT(route("GET", "/api/lead"), LCRM_ROUTE_NO_PATH);
    CU_ASSERT_PTR_NULL(m.route);
    CU_ASSERT_PTR_NULL(m.allow);
    LCRM_ASSERT_INT(route("GET", "/api/leadsx"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/api"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", ""), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "api/leads"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/API/leads"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/api/leads/1/2"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/api/leads/1/assign/x"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/health/x"), LCRM_ROUTE_NO_PATH);
}

static void test_trailing_slash_and_empty_segments(void)
{
    LCRM_ASSERT_INT(route("GET", "/api/leads/"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/health/"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "//api/leads"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/api//leads"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("POST", "/api/leads//assign"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("PUT", "/api/leads/1/notes/"), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(route("GET", "/api/leads/stats/"), LCRM_ROUTE_NO_PATH);
}

/* Non-zero when list (", "-separated) holds item exactly once. */
static int listed_once(const char *list, const char *item)
{
    int count = 0;
    const char *p = list;
    size_t n = strlen(item);

    while (p && *p) {
        const char *end = strstr(p, ", ");
        size_t len = end ? (size_t)(end - p) : strlen(p);
        count += len == n && !strncmp(p, item, n);
        p = end ? end + 2 : NULL;
    }
    return count == 1;
}

static void test_method_not_allowed(void)
{
    LCRM_ASSERT_INT(route("PATCH", "/api/leads"), LCRM_ROUTE_NO_METHOD);
    CU_ASSERT_PTR_NULL(m.route);
    LCRM_ASSERT_STR(m.allow, "GET, POST");

    LCRM_ASSERT_INT(route("POST", "/api/leads/42"), LCRM_ROUTE_NO_METHOD);
    LCRM_ASSERT_STR(m.allow, "GET, PUT, DELETE");

    LCRM_ASSERT_INT(route("GET", "/api/leads/42/assign"), LCRM_ROUTE_NO_METHOD);
    LCRM_ASSERT_STR(m.allow, "POST");

    LCRM_ASSERT_INT(route("DELETE", "/health"), LCRM_ROUTE_NO_METHOD);
    LCRM_ASSERT_STR(m.allow, "GET");

    /* methods are case-sensitive */
    LCRM_ASSERT_INT(route("get", "/health"), LCRM_ROUTE_NO_METHOD);

    /*
     * /api/leads/stats matches both GET routes and PUT/DELETE :id: every
     * method is listed, each once.
     */
    LCRM_ASSERT_INT(route("POST", "/api/leads/stats"), LCRM_ROUTE_NO_METHOD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m.allow);
    CU_ASSERT(listed_once(m.allow, "GET"));
    CU_ASSERT(listed_once(m.allow, "PUT"));
    CU_ASSERT(listed_once(m.allow, "DELETE"));
    CU_ASSERT(!strstr(m.allow, "POST"));
}

static void test_head(void)
{
    CU_ASSERT(found("HEAD", "/api/leads", h_list));
    CU_ASSERT(found("HEAD", "/api/leads/stats", h_stats));
    CU_ASSERT(found("HEAD", "/api/leads/9", h_get));
    LCRM_ASSERT_STR(m.params[0], "9");
    LCRM_ASSERT_INT(route("HEAD", "/api/leads/9/assign"), LCRM_ROUTE_NO_METHOD);
    LCRM_ASSERT_STR(m.allow, "POST");
    /* only HEAD is implied by GET */
    LCRM_ASSERT_INT(route("OPTIONS", "/health"), LCRM_ROUTE_NO_METHOD);
}

static void test_too_many_params(void)
{
    static const lcrm_route_t three[] = {
        {"GET", "/a/:x/:y/:z", h_get, 0, NULL},
    };
    LCRM_ASSERT_INT(lcrm_route_match(lcrm_test_pool, three, 1, "GET",
                                     "/a/1/2/3", &m), LCRM_ROUTE_NO_PATH);
    LCRM_ASSERT_INT(lcrm_route_match(lcrm_test_pool, three, 0, "GET",
                                     "/a/1/2/3", &m), LCRM_ROUTE_NO_PATH);
}

static void test_roles_and_problems(void)
{
    const lcrm_problem_t *p;

    LCRM_ASSERT_INT(lcrm_role_parse("USER"), LCRM_ROLE_USER);
    LCRM_ASSERT_INT(lcrm_role_parse("ADMIN"), LCRM_ROLE_ADMIN);
    LCRM_ASSERT_INT(lcrm_role_parse("SUPER_ADMIN"), LCRM_ROLE_SUPER_ADMIN);
    LCRM_ASSERT_INT(lcrm_role_parse("admin"), -1);
    LCRM_ASSERT_INT(lcrm_role_parse("ADMIN "), -1);
    LCRM_ASSERT_INT(lcrm_role_parse(""), -1);
    LCRM_ASSERT_INT(lcrm_role_parse(NULL), -1);
    LCRM_ASSERT_STR(lcrm_role_name(LCRM_ROLE_SUPER_ADMIN), "SUPER_ADMIN");
    CU_ASSERT_PTR_NULL(lcrm_role_name(3));
    CU_ASSERT_PTR_NULL(lcrm_role_name(-1));
    CU_ASSERT(LCRM_ROLE_USER < LCRM_ROLE_ADMIN
              && LCRM_ROLE_ADMIN < LCRM_ROLE_SUPER_ADMIN);

    p = lcrm_problem_find("method_not_allowed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    LCRM_ASSERT_INT(p->status, 405);
    p = lcrm_problem_find("validation_failed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    LCRM_ASSERT_INT(p->status, 400);
    p = lcrm_problem_find("rate_limited");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    LCRM_ASSERT_INT(p->status, 429);
    CU_ASSERT_PTR_NULL(lcrm_problem_find("no_such_code"));
    CU_ASSERT_PTR_NULL(lcrm_problem_find(""));
}

void lcrm_test_register_route(void)
{
    CU_pSuite s = lcrm_test_suite("route");
    LCRM_TEST(s, test_static_routes);
    LCRM_TEST(s, test_static_beats_param);
    LCRM_TEST(s, test_params);
    LCRM_TEST(s, test_not_found);
    LCRM_TEST(s, test_trailing_slash_and_empty_segments);
    LCRM_TEST(s, test_method_not_allowed);
    LCRM_TEST(s, test_head);
    LCRM_TEST(s, test_too_many_params);
    LCRM_TEST(s, test_roles_and_problems);
}
