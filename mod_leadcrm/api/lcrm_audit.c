/*
 * lcrm_audit: GET /api/audit (API.md part 2 "Audit log"), the
 * leadcrm-audit family, SUPER_ADMIN only.
 *
 * Entries are written by the database in the transaction of the change
 * (sql/0021_audit.sql: audit_write, row triggers, the request context set
 * through lcrm_actx); the app role can only insert and read them.  The
 * list is newest first, ties broken by id; filters action, actorId,
 * subjectId, from (inclusive) and to (exclusive) on `at`.  The list is
 * built by the shared list toolkit (httpd/lcrm_list): the count visits at
 * most 10,001 rows (totalIsExact) and `cursor` pages by keyset.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_list.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_validate.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_protocol.h>

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

/* lcrm_list_check_fn for action. */
static const char *check_action(apr_pool_t *pool, const char *v,
                                const char **out)
{
    (void)pool;
    *out = v;
    return action_shaped(v) ? NULL
                            : "must be an action name such as auth.login";
}

static const char *const list_query[] = {
    "page", "limit", "cursor", "action", "actorId", "subjectId", "from", "to",
    NULL
};

static const lcrm_list_filter_t list_filters[] = {
    {"action", " AND a.action = CAST(%s AS text)", 1, check_action},
    {"actorId", " AND a.actor_id = CAST(%s AS uuid)", 1, lcrm_list_uuid},
    {"subjectId", " AND a.subject_id = CAST(%s AS uuid)", 1, lcrm_list_uuid},
    {"from", " AND a.at >= CAST(%s AS timestamptz)", 1, lcrm_list_time},
    {"to", " AND a.at < CAST(%s AS timestamptz)", 1, lcrm_list_time},
};
static const lcrm_list_sort_t list_sorts[] = {
    {"-at", {{"a.at", "timestamptz", 1, 0}, {"a.id", "bigint", 1, 0},
             {NULL}}},
};
static const lcrm_list_def_t audit_list_def = {
    "GET /api/audit", " FROM audit_log a", " WHERE TRUE", "lcrm_audit_json(a)",
    list_filters, (int)(sizeof(list_filters) / sizeof(list_filters[0])),
    list_sorts, (int)(sizeof(list_sorts) / sizeof(list_sorts[0])), "from",
    "to", NULL, 1
};

static int audit_list(lcrm_ctx_t *ctx)
{
    lcrm_list_t l;

    if (ctx->caller->role != LCRM_ROLE_SUPER_ADMIN) {
        return lcrm_problem(ctx->r, "forbidden", "super admins only");
    }
    if (lcrm_list_begin(&l, ctx, &audit_list_def)) {
        return OK;
    }
    return lcrm_list_respond(&l);
}

static const lcrm_route_t audit_routes[] = {
    LCRM_ENDPOINT("GET", "/api/audit", audit_list, LCRM_RF_AUTH, list_query),
};

const lcrm_family_t lcrm_audit_family = {
    "leadcrm-audit", audit_routes,
    (int)(sizeof(audit_routes) / sizeof(audit_routes[0]))
};
