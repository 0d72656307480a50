/*
 * lcrm_audit: GET /api/audit (API.md part 2 "Audit log"), the
 * leadcrm-audit family, SUPER_ADMIN only.
 *
 * Entries are written by the database in the transaction of the change
 * (sql/0021_audit.sql: audit_write, row triggers, the request context set
 * through lcrm_actx); the app role can only insert and read them.  The
 * list is newest first, ties broken by id; filters action, actorId,
 * subjectId, from (inclusive) and to (exclusive) on `at`.  Like the other
 * lists, the count visits at most 10,001 rows (totalIsExact).
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_validate.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_protocol.h>

#define AUDIT_FILTER \
    " (CAST(%s AS text) IS NULL OR a.action = CAST(%s AS text))" \
    " AND (CAST(%s AS uuid) IS NULL OR a.actor_id = CAST(%s AS uuid))" \
    " AND (CAST(%s AS uuid) IS NULL OR a.subject_id = CAST(%s AS uuid))" \
    " AND (CAST(%s AS timestamptz) IS NULL OR a.at >= CAST(%s AS timestamptz))" \
    " AND (CAST(%s AS timestamptz) IS NULL OR a.at < CAST(%s AS timestamptz))"
#define AUDIT_FILTER_NARGS 10

static const char *const sql_list =
    "SELECT json_build_object('data', coalesce((SELECT json_agg(p.j ORDER BY"
    " p.at DESC, p.id DESC) FROM (SELECT lcrm_audit_json(a) AS j, a.at, a.id"
    " FROM audit_log a WHERE" AUDIT_FILTER
    " ORDER BY a.at DESC, a.id DESC"
    " LIMIT CAST(%s AS integer) OFFSET CAST(%s AS integer)) p), '[]'::json),"
    " 'pagination', (SELECT json_build_object('page', CAST(%s AS integer),"
    " 'limit', CAST(%s AS integer), 'total', c.n, 'totalPages',"
    " (c.n + CAST(%s AS integer) - 1) / CAST(%s AS integer),"
    " 'totalIsExact', c.n <= 10000) FROM (SELECT count(*) AS n FROM"
    " (SELECT 1 FROM audit_log a WHERE" AUDIT_FILTER " LIMIT 10001) s) c))";
#define LIST_NARGS (2 * AUDIT_FILTER_NARGS + 6)

static const char *const list_query[] = {
    "page", "limit", "action", "actorId", "subjectId", "from", "to", NULL
};

/* action names: "area.verb" of [a-z_] */
static int action_shaped(const char *s)
{
    int dots = 0;
    const char *p;

    if (!*s || strlen(s) > 64 || *s == '.') {
        return 0;
    }
    for (p = s; *p; p++) {
        if (*p == '.') {
            dots++;
        }
        else if (!apr_islower(*p) && *p != '_') {
            return 0;
        }
    }
    return dots == 1 && p[-1] != '.';
}

/* The filters as SQL text, or 1 with the field and reason of a bad one. */
static int audit_filters(lcrm_ctx_t *ctx, const char **v, const char **field,
                         const char **why)
{
    static const char *const names[] = {"action", "actorId", "subjectId",
                                        "from", "to"};
    apr_time_t t[2] = {0, 0};
    int i;

    for (i = 0; i < 5; i++) {
        const char *x = apr_table_get(ctx->query, names[i]);
        v[i] = x;
        *field = names[i];
        if (!x) {
            continue;
        }
        if (i == 0 && !action_shaped(x)) {
            *why = "must be an action name such as auth.login";
            return 1;
        }
        if ((i == 1 || i == 2) && !lcrm_is_uuid(x)) {
            *why = "must be a UUID";
            return 1;
        }
        if (i >= 3 && (*why = lcrm_parse_rfc3339(x, &t[i - 3]))) {
            return 1;
        }
    }
    if (v[3] && v[4] && t[0] > t[1]) {
        *field = "from";
        *why = "must not be after to";
        return 1;
    }
    return 0;
}

static int audit_list(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *v[5], *field, *why, *args[LIST_NARGS], *json, *limit;
    apr_array_header_t *errors;
    lcrm_page_t pg;
    lcrm_db_rc_e rc;
    int i;

    if (ctx->caller->role != LCRM_ROLE_SUPER_ADMIN) {
        return lcrm_problem(r, "forbidden", "super admins only");
    }
    if (lcrm_query_page(ctx->query, &pg, &field, &why) != APR_SUCCESS
        || audit_filters(ctx, v, &field, &why)) {
        errors = apr_array_make(r->pool, 1, sizeof(lcrm_field_error_t));
        lcrm_fields_error(errors, field, why);
        return lcrm_problem_fields(r, "invalid_query",
                                   "invalid query parameters", errors);
    }
    for (i = 0; i < 5; i++) {
        args[2 * i] = args[2 * i + 1] = v[i];
        args[AUDIT_FILTER_NARGS + 6 + 2 * i] = v[i];
        args[AUDIT_FILTER_NARGS + 7 + 2 * i] = v[i];
    }
    limit = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, pg.limit);
    args[AUDIT_FILTER_NARGS] = limit;
    args[AUDIT_FILTER_NARGS + 1] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                                pg.offset);
    args[AUDIT_FILTER_NARGS + 2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                                pg.page);
    args[AUDIT_FILTER_NARGS + 3] = args[AUDIT_FILTER_NARGS + 4] = limit;
    args[AUDIT_FILTER_NARGS + 5] = limit;
    if ((rc = lcrm_db_value(lcrm_db(r), sql_list, LIST_NARGS, args, &json))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_OK, json);
}

static const lcrm_route_t audit_routes[] = {
    LCRM_ENDPOINT("GET", "/api/audit", audit_list, LCRM_RF_AUTH, list_query),
};

const lcrm_family_t lcrm_audit_family = {
    "leadcrm-audit", audit_routes,
    (int)(sizeof(audit_routes) / sizeof(audit_routes[0]))
};
