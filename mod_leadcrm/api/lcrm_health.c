/*
 * lcrm_health: GET /health.  Reports the database round trip; 503 with
 * "status":"down" when PostgreSQL cannot be reached (fast: mod_dbd's
 * connect_timeout bounds it).  Never needs authentication.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_private.h"
#include "lcrm_router.h"

#include <apr_strings.h>
#include <http_protocol.h>

static int health_get(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    apr_time_t t0 = apr_time_now();
    const char *one;
    lcrm_db_rc_e rc = lcrm_db_value(lcrm_db(r), "SELECT 1", 0, NULL, &one);
    double ms = (double)(apr_time_now() - t0) / 1000.0;
    int up = rc == LCRM_DB_OK;
    /* down: the problem object (lcrm_http) with the health members; its
     * "status":"down" (API.md) overrides the numeric problem status,
     * which RFC 9457 lets clients ignore when it is not a number */
    json_object *o = up ? lcrm_json_own(r->pool, json_object_new_object())
                        : lcrm_problem_object(r, "service_unavailable",
                                              "database unreachable");
    json_object *checks = json_object_new_object();
    json_object *db = json_object_new_object();

    json_object_object_add(db, "status",
                           json_object_new_string(up ? "ok" : "down"));
    if (up) {
        /* two decimals, printed as such (not 4.7599999999999998) */
        json_object_object_add(db, "latencyMs", json_object_new_double_s(
                                   ms, apr_psprintf(r->pool, "%.2f", ms)));
    }
    json_object_object_add(checks, "database", db);
    json_object_object_add(o, "status",
                           json_object_new_string(up ? "ok" : "down"));
    json_object_object_add(o, "checks", checks);
    json_object_object_add(o, "version", json_object_new_string(LCRM_VERSION));
    json_object_object_add(o, "uptimeSeconds", json_object_new_int64(
                               apr_time_sec(apr_time_now() - ctx->sc->started)));
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return lcrm_respond_obj(r, up ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE, o);
}

static const lcrm_route_t health_routes[] = {
    LCRM_ENDPOINT("GET", "/health", health_get, 0, NULL),
};

const lcrm_family_t lcrm_health_family = {
    "leadcrm-health", health_routes, (int)(sizeof(health_routes) / sizeof(health_routes[0]))
};
