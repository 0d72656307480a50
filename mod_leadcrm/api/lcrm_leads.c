/*
 * lcrm_leads: the /api/leads family (API.md "Leads"): public lead capture,
 * the lead list with filters, search, sorts and pagination, the stats
 * report, and reading, updating and soft-deleting one lead.
 *
 * Every statement is one round trip: a list page (data and capped count)
 * and the stats report are each a single SELECT that renders the JSON; an
 * update is one call of lcrm_lead_update() (sql/0005_leads.sql), which
 * applies the status and assignee rules under the row lock.  List SQL is
 * assembled only from the constant fragments below (filters present, sort
 * chosen from a whitelist); every request value is a bound parameter.
 *
 * Choices where API.md is silent (for the API docs):
 *  - leaving CONVERTED clears convertedAt, entering it again sets a new one;
 *    staying CONVERTED keeps it;
 *  - LOST needs a non-blank lostReason (sent or stored); leaving LOST keeps
 *    the reason; both rule failures are reported together (400);
 *  - sort=status is enum order, newest first within a status, and -status
 *    its exact reverse; score and estimatedValue put nulls last both ways;
 *  - createdFrom after createdTo (from after to) is a 400, not an empty page;
 *  - search is at most 200 code points and matches inside one field; an
 *    empty search filters nothing;
 *  - POST source: null is refused (omit it for WEBSITE); an authenticated
 *    caller of any role becomes the lead's userId;
 *  - PUT/PATCH with {} changes nothing (updatedAt included).
 */
#include "lcrm_api.h"
#include "lcrm_cache.h"
#include "lcrm_cachekey.h"
#include "lcrm_csv.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_list.h"
#include "lcrm_listcache.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_schema.h"
#include "lcrm_metrics.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <util_filter.h>

/* ---- SQL ----------------------------------------------------------------- */

static const char *const sql_create =
    "INSERT INTO leads (name, email, phone, company, job_title, message,"
    " source, utm_source, utm_medium, utm_campaign, utm_term, utm_content,"
    " referrer, landing_page, user_id)"
    " VALUES (%s, %s, %s, %s, %s, %s,"
    " coalesce(CAST(%s AS lcrm_lead_source), 'WEBSITE'),"
    " %s, %s, %s, %s, %s, %s, %s, CAST(%s AS uuid))"
    " RETURNING id, lcrm_lead_json(leads)";
static const char *const sql_get_any =
    "SELECT lcrm_lead_json(l) FROM leads l"
    " WHERE l.id = CAST(%s AS uuid) AND l.deleted_at IS NULL";
static const char *const sql_get_own =
    "SELECT lcrm_lead_json(l) FROM leads l"
    " WHERE l.id = CAST(%s AS uuid) AND l.deleted_at IS NULL"
    " AND l.user_id = CAST(%s AS uuid)";
static const char *const sql_update =
    "SELECT outcome, lead_json, bad_assignee, needs_lost_reason"
    " FROM lcrm_lead_update(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS jsonb))";
static const char *const sql_delete =
    "UPDATE leads SET deleted_at = now()"
    " WHERE id = CAST(lcrm_actx(%s, %s) AS uuid) AND deleted_at IS NULL";

/*
 * The stats report over live leads created in [from, to) (NULL =
 * unbounded): g is one row per (status, source) from the rollups of
 * sql/0040_lead_rollups.sql (lcrm_lead_rollup_range: counter rows kept by
 * the lead triggers, plus the leads of the sub-hour edges), never a pass
 * over the leads table.  Every enum value is listed (LEFT JOIN from the
 * enum), rates rounded to 4 decimals (0 when nothing matched), days to
 * convert to 2 decimals (null when none): avgDaysToConvert = total
 * conversion time / converted leads.
 */
static const char *const sql_stats_head =
    "WITH g AS (SELECT x.status, x.source, x.n, x.secs"
    " FROM lcrm_lead_rollup_range(CAST(%s AS timestamptz),"
    " CAST(%s AS timestamptz)) x),";
static const char *const sql_stats_tail =
    " st AS (SELECT e.s, coalesce(sum(g.n), 0)::bigint AS n"
    " FROM unnest(enum_range(NULL::lcrm_lead_status)) AS e(s)"
    " LEFT JOIN g ON g.status = e.s GROUP BY e.s),"
    " so AS (SELECT e.s, coalesce(sum(g.n), 0)::bigint AS n,"
    " coalesce(sum(g.n) FILTER (WHERE g.status = 'CONVERTED'), 0)::bigint AS c"
    " FROM unnest(enum_range(NULL::lcrm_lead_source)) AS e(s)"
    " LEFT JOIN g ON g.source = e.s GROUP BY e.s),"
    " t AS (SELECT coalesce(sum(g.n), 0)::bigint AS n,"
    " coalesce(sum(g.n) FILTER (WHERE g.status = 'CONVERTED'), 0)::bigint AS c,"
    " sum(g.secs) / nullif(sum(g.n) FILTER (WHERE g.status = 'CONVERTED'), 0)"
    " AS secs FROM g)"
    " SELECT json_build_object('total', t.n,"
    " 'byStatus', (SELECT json_object_agg(st.s, st.n ORDER BY st.s) FROM st),"
    " 'bySource', (SELECT json_object_agg(so.s, json_build_object("
    "'total', so.n, 'converted', so.c, 'conversionRate',"
    " lcrm_rate(so.c, so.n)) ORDER BY so.s) FROM so),"
    " 'conversionRate', lcrm_rate(t.c, t.n),"
    " 'avgDaysToConvert', round(t.secs / 86400, 2)::float8) FROM t";

/*
 * Search: the LIKE on 0001's trigram-indexed expression narrows the rows
 * through the index; the per-field LIKEs then require the match inside one
 * field (the indexed expression joins the fields with spaces).  A pattern
 * without a space cannot span two fields, so for it (nearly every search)
 * the strpos() test settles the per-field part: folded away in a custom
 * plan (the capped count of "acm" over 1M leads: 450 -> 80 ms), one cheap
 * call per row in a generic one.  All five bind the same escaped pattern
 * (lcrm_list_search).
 */
static const char *const sql_where_search =
    " AND lower(l.name || ' ' || l.email || ' ' || coalesce(l.company, ''))"
    " LIKE lower(%s)"
    " AND (strpos(CAST(%s AS text), ' ') = 0"
    " OR lower(l.name) LIKE lower(%s)"
    " OR lower(l.email) LIKE lower(%s)"
    " OR lower(coalesce(l.company, '')) LIKE lower(%s))";

/*
 * Stats series (API.md part 2): buckets b are the local calendar days, ISO
 * weeks or months (date_trunc in LeadCRMTimeZone) overlapping [from, to);
 * g counts the leads of each bucket's part of [from, to) per source from
 * the rollups (lcrm_lead_rollup_range, sql/0040_lead_rollups.sql: whole
 * UTC days and hours from counter rows, sub-hour edges from the leads);
 * every (bucket, source) pair is then filled in, zeros included.  The first column is the bucket count (refused above 400).
 * Arguments: from, to, time zone, unit (day|week|month), the unit again.
 */
static const char *const sql_series =
    "WITH p AS (SELECT CAST(%s AS timestamptz) AS f,"
    " CAST(%s AS timestamptz) AS t, CAST(%s AS text) AS tz,"
    " CAST(%s AS text) AS unit),"
    " b AS (SELECT gs AS ls FROM p, generate_series("
    "date_trunc(p.unit, p.f AT TIME ZONE p.tz), p.t AT TIME ZONE p.tz,"
    " CAST('1 ' || %s AS interval)) gs WHERE (gs AT TIME ZONE p.tz) < p.t),"
    " n AS (SELECT count(*) AS n FROM b),"
    " g AS (SELECT b.ls, x.source, sum(x.n) AS n,"
    " sum(x.n) FILTER (WHERE x.status = 'CONVERTED') AS c"
    " FROM p, b CROSS JOIN LATERAL lcrm_lead_rollup_range("
    "greatest(b.ls AT TIME ZONE p.tz, p.f), least((b.ls"
    " + CAST('1 ' || p.unit AS interval)) AT TIME ZONE p.tz, p.t)) x"
    " WHERE (SELECT n FROM n) <= 400 GROUP BY 1, 2),"
    " bs AS (SELECT b.ls, e.s, coalesce(sum(g.n), 0)::bigint AS n,"
    " coalesce(sum(g.c), 0)::bigint AS c"
    " FROM b CROSS JOIN unnest(enum_range(NULL::lcrm_lead_source)) AS e(s)"
    " LEFT JOIN g ON g.ls = b.ls AND g.source = e.s GROUP BY b.ls, e.s),"
    " bk AS (SELECT bs.ls, sum(bs.n)::bigint AS n, sum(bs.c)::bigint AS c,"
    " json_object_agg(bs.s, bs.n ORDER BY bs.s) AS src FROM bs"
    " GROUP BY bs.ls)"
    " SELECT (SELECT n FROM n), CASE WHEN (SELECT n FROM n) <= 400 THEN"
    " json_build_object('interval', (SELECT CASE p.unit WHEN 'day' THEN 'day'"
    " WHEN 'week' THEN 'week' ELSE 'month' END FROM p),"
    " 'timezone', (SELECT p.tz FROM p),"
    " 'buckets', coalesce((SELECT json_agg(json_build_object("
    "'start', lcrm_ts(bk.ls AT TIME ZONE p.tz), 'total', bk.n,"
    " 'converted', bk.c, 'bySource', bk.src) ORDER BY bk.ls) FROM bk, p),"
    " '[]'::json)) END";

/* Export: the lead fields in API order, as text (timestamps as in JSON). */
static const char *const sql_export_columns =
    "l.id, l.name, l.email, l.phone, l.company, l.job_title, l.message,"
    " l.source, l.utm_source, l.utm_medium, l.utm_campaign, l.utm_term,"
    " l.utm_content, l.referrer, l.landing_page, l.status, l.score,"
    " l.estimated_value, l.assigned_to_id, l.user_id, l.lost_reason,"
    " l.notes, lcrm_ts(l.converted_at), lcrm_ts(l.created_at),"
    " lcrm_ts(l.updated_at)";
static const char *const csv_header =
    "id,name,email,phone,company,jobTitle,message,source,utmSource,"
    "utmMedium,utmCampaign,utmTerm,utmContent,referrer,landingPage,status,"
    "score,estimatedValue,assignedToId,userId,lostReason,notes,convertedAt,"
    "createdAt,updatedAt\r\n";
#define EXPORT_NCOLS 25
#define EXPORT_COL_SCORE 16
#define EXPORT_COL_VALUE 17
#define EXPORT_BATCH 1000
static const char *const sql_export_begin =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
/* "Every export is audited" (its own statement, before the read-only
 * snapshot; the filters as details) */
static const char *const sql_export_audit =
    "SELECT audit_write(lcrm_actx(%s, 'lead.exported'), NULL, 'lead', NULL,"
    " CAST(%s AS jsonb))";
static const char *const sql_export_day =
    "SELECT to_char(now() AT TIME ZONE CAST(%s AS text), 'YYYYMMDD')";

/* enums and field tables: core lcrm_schema */

/* ---- query parameters ---------------------------------------------------- */

static const char *const list_query[] = {
    "page", "limit", "cursor", "status", "source", "assignedToId", "search",
    "createdFrom", "createdTo", "sort", NULL
};
static const char *const stats_query[] = {"from", "to", NULL};
static const char *const series_query[] = {"from", "to", "interval", NULL};
static const char *const export_query[] = {
    "status", "source", "assignedToId", "search", "createdFrom", "createdTo",
    "sort", NULL
};

static const char *q_status(apr_pool_t *pool, const char *v, const char **out)
{
    (void)pool;
    *out = v;
    return lcrm_list_enum(lcrm_schema_lead_statuses, v);
}

static const char *q_source(apr_pool_t *pool, const char *v, const char **out)
{
    (void)pool;
    *out = v;
    return lcrm_list_enum(lcrm_schema_lead_sources, v);
}

static const lcrm_list_filter_t list_filters[] = {
    {"status", " AND l.status = CAST(%s AS lcrm_lead_status)", 1, q_status},
    {"source", " AND l.source = CAST(%s AS lcrm_lead_source)", 1, q_source},
    {"assignedToId", " AND l.assigned_to_id = CAST(%s AS uuid)", 1,
     lcrm_list_uuid},
    {"createdFrom", " AND l.created_at >= CAST(%s AS timestamptz)", 1,
     lcrm_list_time},
    {"createdTo", " AND l.created_at < CAST(%s AS timestamptz)", 1,
     lcrm_list_time},
    {"search", sql_where_search, 5, lcrm_list_search},
};
static const lcrm_list_filter_t stats_filters[] = {
    {"from", " AND l.created_at >= CAST(%s AS timestamptz)", 1,
     lcrm_list_time},
    {"to", " AND l.created_at < CAST(%s AS timestamptz)", 1, lcrm_list_time},
};

/* Sorts (API.md "Lists"); id breaks ties.  Keys: expr, type, desc, null. */
#define K_CREATED(d) {"l.created_at", "timestamptz", (d), 0}
#define K_ID(d) {"l.id", "uuid", (d), 0}
static const lcrm_list_sort_t lead_sorts[] = {
    {"-createdAt", {K_CREATED(1), K_ID(1), {NULL}}},  /* the default */
    {"createdAt", {K_CREATED(0), K_ID(0), {NULL}}},
    {"updatedAt", {{"l.updated_at", "timestamptz", 0, 0}, K_ID(0), {NULL}}},
    {"-updatedAt", {{"l.updated_at", "timestamptz", 1, 0}, K_ID(1), {NULL}}},
    {"name", {{"l.name", "text", 0, 0}, K_ID(0), {NULL}}},
    {"-name", {{"l.name", "text", 1, 0}, K_ID(1), {NULL}}},
    {"email", {{"l.email", "text", 0, 0}, K_ID(0), {NULL}}},
    {"-email", {{"l.email", "text", 1, 0}, K_ID(1), {NULL}}},
    /* enum order; within a status the newest first (exact reverse for -) */
    {"status", {{"l.status", "lcrm_lead_status", 0, 0}, K_CREATED(1),
                K_ID(1), {NULL}}},
    {"-status", {{"l.status", "lcrm_lead_status", 1, 0}, K_CREATED(0),
                 K_ID(0), {NULL}}},
    /* leads without a value come last in both directions */
    {"score", {{"l.score", "integer", 0, 1}, K_ID(0), {NULL}}},
    {"-score", {{"l.score", "integer", 1, 1}, K_ID(1), {NULL}}},
    {"estimatedValue", {{"l.estimated_value", "numeric", 0, 1}, K_ID(0),
                        {NULL}}},
    {"-estimatedValue", {{"l.estimated_value", "numeric", 1, 1}, K_ID(1),
                         {NULL}}},
};
#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/*
 * Exact totals from the counter rows of sql/0010_lead_counts.sql for the
 * common filters: none, status, source or assignedToId alone (ADMIN+), or
 * the caller's own leads alone (USER).  Search, date ranges and filter
 * combinations keep the capped count.
 */
static const struct {
    const char *filter;   /* query name, NULL = no filter */
    const char *dim;
} count_dims[] = {
    {NULL, "all"}, {"status", "status"}, {"source", "source"},
    {"assignedToId", "assignee"},
};

static const char *lead_exact_count(lcrm_list_t *l, const char *const **args,
                                    int *nargs)
{
    const apr_array_header_t *used = apr_table_elts(l->used);
    const char *name = used->nelts == 1
        ? ((const apr_table_entry_t *)used->elts)[0].key : NULL;
    const char **a = apr_palloc(l->pool, 2 * sizeof(char *));
    int i;

    if (used->nelts > 1) {
        return NULL;
    }
    if (l->ctx->caller->role < LCRM_ROLE_ADMIN) {
        if (name) {
            return NULL;
        }
        a[0] = "owner";
        a[1] = l->ctx->caller->user_id;
    }
    else {
        for (i = 0; i < NELTS(count_dims); i++) {
            if (name ? count_dims[i].filter && !strcmp(count_dims[i].filter,
                                                       name)
                     : !count_dims[i].filter) {
                break;
            }
        }
        if (i == NELTS(count_dims)) {
            return NULL;
        }
        a[0] = count_dims[i].dim;
        /* the checked value the filter bound (e.g. a lowercased UUID) */
        a[1] = name ? APR_ARRAY_IDX(l->args, 0, const char *) : "";
    }
    *args = a;
    *nargs = 2;
    return "SELECT lcrm_lead_count(CAST(%s AS text), CAST(%s AS text))";
}

static const lcrm_list_def_t lead_list_def = {
    "GET /api/leads", " FROM leads l", " WHERE l.deleted_at IS NULL",
    "lcrm_lead_json(l)", list_filters, NELTS(list_filters),
    lead_sorts, NELTS(lead_sorts), "createdFrom", "createdTo",
    lead_exact_count, 1
};
static const lcrm_list_def_t lead_stats_def = {
    "GET /api/leads/stats", " FROM leads l", " WHERE l.deleted_at IS NULL",
    NULL, stats_filters, NELTS(stats_filters), lead_sorts, 1, "from", "to",
    NULL, 0
};

static const lcrm_list_def_t lead_export_def = {
    "GET /api/leads/export", " FROM leads l", " WHERE l.deleted_at IS NULL",
    NULL, list_filters, NELTS(list_filters), lead_sorts, NELTS(lead_sorts),
    "createdFrom", "createdTo", NULL, 0
};

/* A USER sees only the leads carrying their user id. */
static void list_scope(lcrm_list_t *l, lcrm_ctx_t *ctx)
{
    if (ctx->caller->role < LCRM_ROLE_ADMIN) {
        lcrm_list_scope(l, " AND l.user_id = CAST(%s AS uuid)",
                        ctx->caller->user_id);
    }
}

/* ---- responses ----------------------------------------------------------- */

/* Runs sql (one row, one JSON column) and answers it: 200, 404 or 5xx. */
static int json_query(lcrm_ctx_t *ctx, const char *sql, int nargs,
                      const char *const *args)
{
    return lcrm_ctx_json_query(ctx, sql, nargs, args, "not_found",
                               "no such lead");
}

/* ---- endpoints ----------------------------------------------------------- */

static int lead_create(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *args[LCRM_SCHEMA_NLEAD_CREATE + 1];
    lcrm_row_t row;
    lcrm_db_rc_e rc;
    int i;

    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_lead_create, LCRM_SCHEMA_NLEAD_CREATE, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    for (i = 0; i < LCRM_SCHEMA_NLEAD_CREATE; i++) {
        args[i] = f.values[i];
    }
    args[LCRM_SCHEMA_NLEAD_CREATE] = ctx->caller->authenticated ? ctx->caller->user_id : NULL;
    if ((rc = lcrm_db_row(lcrm_db(r), sql_create, LCRM_SCHEMA_NLEAD_CREATE + 1, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, "/api/leads/", row.cols[0], NULL));
    lcrm_no_store(r);
    lcrm_metrics_event(r, LCRM_M_LEAD_CREATED);
    return lcrm_respond_json(r, HTTP_CREATED, row.cols[1]);
}

static int lead_list(lcrm_ctx_t *ctx)
{
    lcrm_list_t l;

    if (lcrm_list_begin(&l, ctx, &lead_list_def)) {
        return OK;
    }
    list_scope(&l, ctx);
    lcrm_list_cache(&l, LCRM_LISTCACHE_LEADS);
    return lcrm_list_respond(&l);
}

/* ---- LeadCRMCache ------------------------------------------------------------ */

/* The rollups' version (sql/0040_lead_rollups.sql): part of every key. */
static const char *const sql_rollup_version =
    "SELECT lcrm_lead_rollup_version()::text";
/* How long a cached answer may live (a new version makes it unreachable
 * long before; this only bounds the space of dead entries). */
#define STATS_CACHE_TTL apr_time_from_sec(300)

/*
 * The cache key of answer ns for args at the rollups' current version,
 * read from the database in this request (so a write committed on any
 * node changes it); NULL when the cache is off or the version unknown.
 */
static const char *stats_cache_key(lcrm_ctx_t *ctx, const char *ns,
                                   int nargs, const char *const *args)
{
    const char *v = NULL;

    if (!lcrm_cache_on(ctx->r)
        || lcrm_db_value(lcrm_db(ctx->r), sql_rollup_version, 0, NULL, &v)
        || !v) {
        return NULL;
    }
    return lcrm_cache_key(ctx->r->pool, ns, v, args, nargs);
}

/* Answers a cached JSON body (200, no-store) when key has one. */
static int stats_cache_hit(lcrm_ctx_t *ctx, const char *key)
{
    const char *json = key ? lcrm_cache_get(ctx->r, key) : NULL;

    if (!json) {
        return 0;
    }
    lcrm_no_store(ctx->r);
    lcrm_respond_json(ctx->r, HTTP_OK, json);
    return 1;
}

static int lead_stats(lcrm_ctx_t *ctx)
{
    lcrm_list_t l;
    const char *args[2], *key, *json = NULL;
    const char *const *bound;
    lcrm_db_rc_e rc;

    if (lcrm_list_begin(&l, ctx, &lead_stats_def)) {
        return OK;
    }
    /* the checked bounds, in filter order (from, to) when present */
    bound = (const char *const *)l.args->elts;
    args[0] = apr_table_get(l.used, "from") ? bound[0] : NULL;
    args[1] = apr_table_get(l.used, "to") ? bound[l.args->nelts - 1] : NULL;
    key = stats_cache_key(ctx, "stats", 2, args);
    if (stats_cache_hit(ctx, key)) {
        return OK;
    }
    rc = lcrm_db_value(lcrm_db(ctx->r), apr_pstrcat(ctx->r->pool,
                       sql_stats_head, sql_stats_tail, NULL), 2, args, &json);
    if (rc != LCRM_DB_OK || !json) {
        return lcrm_ctx_db_problem(ctx, (int)(rc ? rc : LCRM_DB_ERROR));
    }
    if (key) {
        lcrm_cache_put(ctx->r, key, json, STATS_CACHE_TTL);
    }
    lcrm_no_store(ctx->r);
    return lcrm_respond_json(ctx->r, HTTP_OK, json);
}

/* ---- stats series ---------------------------------------------------------- */

/*
 * Interval names and the longest length of one bucket (DST included): a
 * span longer than 401 of them certainly has too many buckets and is
 * refused before any SQL; the statement counts the rest exactly.
 */
static const struct {
    const char *name;
    apr_int64_t max_secs;
} series_units[] = {
    {"day", 25 * 3600},
    {"week", 7 * 86400 + 3600},
    {"month", 31 * 86400 + 3600},
};

/* Reads from, to (from before to) and interval; NULL or a 400 was sent. */
static const char *series_query_read(lcrm_ctx_t *ctx, const char **args)
{
    static const char *const names[] = {"from", "to", "interval"};
    const char *iv = apr_table_get(ctx->query, "interval");
    apr_time_t f = 0, t = 0;
    int i, u = -1;

    for (i = 0; i < 3; i++) {
        if (!apr_table_get(ctx->query, names[i])) {
            lcrm_list_invalid(ctx, names[i], "is required");
            return NULL;
        }
    }
    if (lcrm_parse_rfc3339(apr_table_get(ctx->query, "from"), &f)) {
        lcrm_list_invalid(ctx, "from", "must be an RFC 3339 timestamp");
        return NULL;
    }
    if (lcrm_parse_rfc3339(apr_table_get(ctx->query, "to"), &t)) {
        lcrm_list_invalid(ctx, "to", "must be an RFC 3339 timestamp");
        return NULL;
    }
    for (i = 0; i < NELTS(series_units); i++) {
        u = strcmp(series_units[i].name, iv) ? u : i;
    }
    if (u < 0 || f >= t) {
        lcrm_list_invalid(ctx, u < 0 ? "interval" : "to", u < 0
                          ? "must be day, week or month"
                          : "must be after from");
        return NULL;
    }
    if (apr_time_sec(t - f) / series_units[u].max_secs > 401) {
        lcrm_list_invalid(ctx, "interval", "gives more than 400 buckets");
        return NULL;
    }
    args[0] = lcrm_format_rfc3339(ctx->r->pool, f);
    args[1] = lcrm_format_rfc3339(ctx->r->pool, t);
    args[2] = lcrm_conf_time_zone(ctx->sc);
    args[3] = args[4] = series_units[u].name;
    return args[0];
}

static int lead_series(lcrm_ctx_t *ctx)
{
    const char *args[5], *key;
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (!series_query_read(ctx, args)) {
        return OK;
    }
    key = stats_cache_key(ctx, "series", 5, args);
    if (stats_cache_hit(ctx, key)) {
        return OK;
    }
    if ((rc = lcrm_db_row(lcrm_db(ctx->r), sql_series, 5, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!row.cols[1]) {
        return lcrm_list_invalid(ctx, "interval",
                                 "gives more than 400 buckets");
    }
    if (key) {
        lcrm_cache_put(ctx->r, key, row.cols[1], STATS_CACHE_TTL);
    }
    lcrm_no_store(ctx->r);
    return lcrm_respond_json(ctx->r, HTTP_OK, row.cols[1]);
}

/* ---- export ------------------------------------------------------------------ */

/* A streamed export: the request, its list, the batch state. */
typedef struct {
    request_rec *r;
    lcrm_list_t *list;
    apr_bucket_brigade *bb;
    apr_pool_t *keys_pool;   /* the last row's keys, replaced per batch */
} lead_export_t;

/* The CSV lines of rows (each EXPORT_NCOLS columns, then the sort keys). */
static const char *csv_lines(apr_pool_t *pool, apr_array_header_t *rows,
                             apr_size_t *len)
{
    apr_size_t max = 0;
    char *buf, *o;
    int i, j;

    for (i = 0; i < rows->nelts; i++) {
        const lcrm_row_t *row = &APR_ARRAY_IDX(rows, i, lcrm_row_t);
        for (j = 0; j < EXPORT_NCOLS; j++) {
            max += lcrm_csv_cell_max(row->cols[j]) + 1;
        }
        max += 2;
    }
    o = buf = apr_palloc(pool, max + 1);
    for (i = 0; i < rows->nelts; i++) {
        const lcrm_row_t *row = &APR_ARRAY_IDX(rows, i, lcrm_row_t);
        for (j = 0; j < EXPORT_NCOLS; j++) {
            if (j) {
                *o++ = ',';
            }
            o = lcrm_csv_cell(o, row->cols[j], j != EXPORT_COL_SCORE
                              && j != EXPORT_COL_VALUE);
        }
        *o++ = '\r';
        *o++ = '\n';
    }
    *len = (apr_size_t)(o - buf);
    return buf;
}

/* Remembers the last row's sort keys as the next batch's start. */
static void export_advance(lead_export_t *x, apr_array_header_t *rows)
{
    const lcrm_row_t *last = &APR_ARRAY_IDX(rows, rows->nelts - 1,
                                            lcrm_row_t);
    int i, n = lcrm_list_nkeys(x->list);
    const char **keys;
    apr_pool_t *old = x->keys_pool;

    apr_pool_create(&x->keys_pool, x->r->pool);
    keys = apr_palloc(x->keys_pool, sizeof(char *) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
        const char *v = last->cols[EXPORT_NCOLS + i];
        keys[i] = v ? apr_pstrdup(x->keys_pool, v) : NULL;
    }
    lcrm_list_after(x->list, keys);
    if (old) {
        apr_pool_destroy(old);
    }
}

/* Fetches the next batch into pool; *rows, or a failure code. */
static lcrm_db_rc_e export_batch(lead_export_t *x, apr_pool_t *pool,
                                 apr_array_header_t **rows)
{
    const char *const *args;
    int nargs;
    const char *sql = lcrm_list_batch_sql(x->list, pool, sql_export_columns,
                                          EXPORT_BATCH, &nargs, &args);
    lcrm_db_t *db = lcrm_db(x->r);
    lcrm_db_rc_e rc = lcrm_db_rows_in(db, pool, sql, nargs, args, rows);

    /* a reset connection would read outside the snapshot: a failure */
    return rc ? rc : lcrm_db_in_transaction(db) ? LCRM_DB_OK : LCRM_DB_ERROR;
}

/* Sends buf[0..len) and flushes; non-zero when the client is gone. */
static int export_send(lead_export_t *x, const char *buf, apr_size_t len)
{
    apr_bucket_alloc_t *ba = x->r->connection->bucket_alloc;
    apr_status_t rv;

    APR_BRIGADE_INSERT_TAIL(x->bb, apr_bucket_transient_create(buf, len, ba));
    APR_BRIGADE_INSERT_TAIL(x->bb, apr_bucket_flush_create(ba));
    rv = ap_pass_brigade(x->r->output_filters, x->bb);
    apr_brigade_cleanup(x->bb);
    return rv != APR_SUCCESS || x->r->connection->aborted;
}

/*
 * Ends a stream that failed after the header: an error bucket as
 * mod_proxy sends for a broken backend keeps the chunk filter from
 * writing the last chunk, and the connection is closed, so the client
 * sees a truncated transfer, never a complete-looking file.
 */
static int export_abort(lead_export_t *x)
{
    apr_bucket_alloc_t *ba = x->r->connection->bucket_alloc;

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, x->r, LCRM_LOGNO(01901)
                  "lead export failed after the header; connection aborted");
    x->r->connection->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(x->bb, ap_bucket_error_create(
                                HTTP_BAD_GATEWAY, NULL, x->r->pool, ba));
    APR_BRIGADE_INSERT_TAIL(x->bb, apr_bucket_eos_create(ba));
    ap_pass_brigade(x->r->output_filters, x->bb);
    apr_brigade_cleanup(x->bb);
    return OK;
}

/* The headers of the download, once the first batch is in hand. */
static void export_headers(lead_export_t *x, const char *day)
{
    request_rec *r = x->r;

    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Disposition", apr_pstrcat(
                       r->pool, "attachment; filename=\"leads-", day,
                       ".csv\"", NULL));
    lcrm_no_store(r);
}

/* Streams every batch after the first; OK (the response is written). */
static int export_stream(lead_export_t *x, apr_pool_t *bp,
                         apr_array_header_t *rows)
{
    apr_size_t len;
    const char *buf;
    lcrm_db_rc_e rc;

    for (;;) {
        int last = rows->nelts < EXPORT_BATCH;
        buf = csv_lines(bp, rows, &len);
        if (len && export_send(x, buf, len)) {
            return OK; /* client gone: the cleanup rolls back */
        }
        if (last) {
            break;
        }
        export_advance(x, rows);
        apr_pool_clear(bp);
        if ((rc = export_batch(x, bp, &rows))) {
            return export_abort(x);
        }
    }
    if (lcrm_db_end(lcrm_db(x->r), 1)) {
        return export_abort(x);
    }
    APR_BRIGADE_INSERT_TAIL(x->bb, apr_bucket_eos_create(
                                x->r->connection->bucket_alloc));
    ap_pass_brigade(x->r->output_filters, x->bb);
    return OK;
}

/* Iterator for export_audit: one filter name and value into the object. */
static int add_filter(void *o, const char *name, const char *value)
{
    json_object_object_add(o, name, json_object_new_string(value));
    return 1;
}

/* The lead.exported audit entry, with the filters and sort as details. */
static lcrm_db_rc_e export_audit(lcrm_ctx_t *ctx, lcrm_list_t *l)
{
    json_object *o = lcrm_json_own(ctx->r->pool, json_object_new_object());
    const char *args[2], *ignored;

    apr_table_do(add_filter, o, l->used, NULL);
    if (l->sort) {
        json_object_object_add(o, "sort", json_object_new_string(
                                              l->sort->name));
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    return lcrm_db_value(lcrm_db(ctx->r), sql_export_audit, 2, args,
                         &ignored);
}

static int lead_export(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_list_t l;
    lead_export_t x;
    apr_array_header_t *rows;
    apr_pool_t *bp;
    const char *day, *tz = lcrm_conf_time_zone(ctx->sc);
    lcrm_db_rc_e rc;

    if (lcrm_list_begin(&l, ctx, &lead_export_def)) {
        return OK;
    }
    memset(&x, 0, sizeof(x));
    x.r = r;
    x.list = &l;
    apr_pool_create(&bp, r->pool);
    if ((rc = export_audit(ctx, &l))
        || (rc = lcrm_db_begin(lcrm_db(r), sql_export_begin))
        || (rc = lcrm_db_value(lcrm_db(r), sql_export_day, 1, &tz, &day))
        || (rc = export_batch(&x, bp, &rows))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(01902)
                  "lead export by %s", ctx->caller->user_id);
    export_headers(&x, day);
    x.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (export_send(&x, csv_header, strlen(csv_header))) {
        return OK;
    }
    return export_stream(&x, bp, rows);
}

static int lead_get(lcrm_ctx_t *ctx)
{
    const char *id = lcrm_ctx_uuid_param(ctx, 0);
    const char *args[2];
    int own = ctx->caller->role < LCRM_ROLE_ADMIN;

    if (!id) {
        return lcrm_problem(ctx->r, "not_found", "no such lead");
    }
    args[0] = id;
    args[1] = ctx->caller->user_id;
    return json_query(ctx, own ? sql_get_own : sql_get_any, own ? 2 : 1,
                      args);
}

/* The sent fields as one JSON object {apiName: "sql text" | null}. */
static const char *update_doc(apr_pool_t *pool, const lcrm_fields_t *f)
{
    json_object *o = lcrm_json_own(pool, json_object_new_object());
    int i;

    for (i = 0; i < LCRM_SCHEMA_NLEAD_UPDATE; i++) {
        if ((f->present >> i) & 1) {
            json_object_object_add(o, lcrm_schema_lead_update[i].name, f->values[i]
                                   ? json_object_new_string(f->values[i])
                                   : NULL);
        }
    }
    return lcrm_json_dump(pool, o);
}

/* 400 for the business rules lcrm_lead_update() reported. */
static int update_invalid(lcrm_ctx_t *ctx, const lcrm_row_t *row)
{
    apr_array_header_t *errors = apr_array_make(ctx->r->pool, 2,
                                                sizeof(lcrm_field_error_t));
    if (row->cols[2] && !strcmp(row->cols[2], "t")) {
        lcrm_fields_error(errors, "assignedToId",
                          "must be an active administrator");
    }
    if (row->cols[3] && !strcmp(row->cols[3], "t")) {
        lcrm_fields_error(errors, "lostReason",
                          "is required when the status is LOST");
    }
    return lcrm_ctx_invalid(ctx, errors);
}

static int lead_update(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *args[2];
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (!(args[0] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(r, "not_found", "no such lead");
    }
    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_lead_update, LCRM_SCHEMA_NLEAD_UPDATE, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    args[1] = update_doc(r->pool, &f);
    if ((rc = lcrm_db_row(lcrm_db(r), sql_update, 3,
                          lcrm_ctx_audit_args(ctx, args, 2), &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!strcmp(row.cols[0], "not_found")) {
        return lcrm_problem(r, "not_found", "no such lead");
    }
    if (strcmp(row.cols[0], "ok")) {
        return update_invalid(ctx, &row);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(00701)
                  "lead %s updated by %s", args[0], ctx->caller->user_id);
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_OK, row.cols[1]);
}

static int lead_delete(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *args[1];
    lcrm_db_rc_e rc;
    int affected = 0;

    if (!(args[0] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(r, "not_found", "no such lead");
    }
    if ((rc = lcrm_db_exec(lcrm_db(r), sql_delete, 2,
                           lcrm_ctx_audit_args(ctx, args, 1), &affected))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (affected == 0) {
        return lcrm_problem(r, "not_found", "no such lead");
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(00702)
                  "lead %s deleted by %s", args[0], ctx->caller->user_id);
    return lcrm_respond_no_content(r);
}

/* /api/leads/stats wins over /api/leads/:id: the router prefers literal
 * segments. */
static const lcrm_route_t lead_routes[] = {
    LCRM_ENDPOINT("POST", "/api/leads", lead_create,
                  LCRM_RF_OPT_AUTH | LCRM_RF_BODY | LCRM_RF_RL_PUBLIC, NULL),
    LCRM_ENDPOINT("GET", "/api/leads", lead_list,
                  LCRM_RF_AUTH | LCRM_RF_KEY(LEADS_READ), list_query),
    LCRM_ENDPOINT("GET", "/api/leads/stats", lead_stats,
                  LCRM_RF_AUTH | LCRM_RF_KEY(STATS_READ)
                    | LCRM_RF_ADMIN, stats_query),
    LCRM_ENDPOINT("GET", "/api/leads/stats/series", lead_series,
                  LCRM_RF_AUTH | LCRM_RF_KEY(STATS_READ) | LCRM_RF_ADMIN,
                  series_query),
    LCRM_ENDPOINT("GET", "/api/leads/export", lead_export,
                  LCRM_RF_AUTH | LCRM_RF_KEY(LEADS_READ) | LCRM_RF_ADMIN,
                  export_query),
    LCRM_ENDPOINT("GET", "/api/leads/:id", lead_get,
                  LCRM_RF_AUTH | LCRM_RF_KEY(LEADS_READ), NULL),
    LCRM_ENDPOINT("PUT", "/api/leads/:id", lead_update,
                  LCRM_RF_AUTH | LCRM_RF_KEY(LEADS_WRITE)
                    | LCRM_RF_ADMIN | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("PATCH", "/api/leads/:id", lead_update,
                  LCRM_RF_AUTH | LCRM_RF_KEY(LEADS_WRITE)
                    | LCRM_RF_ADMIN | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("DELETE", "/api/leads/:id", lead_delete,
                  LCRM_RF_AUTH | LCRM_RF_KEY(LEADS_WRITE)
                    | LCRM_RF_ADMIN, NULL),
};

const lcrm_family_t lcrm_leads_family = {
    "leadcrm-leads", lead_routes, (int)(sizeof(lead_routes) / sizeof(lead_routes[0]))
};
