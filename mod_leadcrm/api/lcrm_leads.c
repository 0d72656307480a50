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
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_metrics.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>

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
 * A list page: [where] and [order] are filled from the fragments below.
 * The count visits at most LIST_COUNT_CAP rows (API.md "Lists").
 * Arguments: where args, where args again, limit, offset, page, limit.
 */
#define LIST_COUNT_CAP "10001"
static const char *const sql_list_count =
    "WITH c AS (SELECT count(*) AS n FROM (SELECT 1 FROM leads l";
static const char *const sql_list_data =
    " LIMIT " LIST_COUNT_CAP ") s),"
    " d AS (SELECT json_agg(lcrm_lead_json(p.l) ORDER BY p.n) AS a"
    " FROM (SELECT l, row_number() OVER (ORDER BY ";
static const char *const sql_list_from = ") AS n FROM leads l";
static const char *const sql_list_order = " ORDER BY ";
static const char *const sql_list_tail =
    " LIMIT CAST(%s AS bigint) OFFSET CAST(%s AS bigint)) p)"
    " SELECT json_build_object('data', coalesce(d.a, '[]'::json),"
    " 'pagination', json_build_object('page', x.page, 'limit', x.lim,"
    " 'total', c.n, 'totalPages', (c.n + x.lim - 1) / x.lim,"
    " 'totalIsExact', c.n < " LIST_COUNT_CAP "))"
    " FROM c, d, (SELECT CAST(%s AS bigint) AS page,"
    " CAST(%s AS bigint) AS lim) x";

/*
 * The stats report over live leads matching [where]: every enum value is
 * listed (LEFT JOIN from the enum), rates rounded to 4 decimals (0 when
 * nothing matched), days to convert to 2 decimals (null when none).
 */
/*
 * Stats in one pass over the matching leads: grouped by (status, source)
 * first (at most 42 groups), then every enum value gets its row, zeros
 * included.  avgDaysToConvert = total conversion time / converted leads.
 */
static const char *const sql_stats_head =
    "WITH g AS (SELECT l.status, l.source, count(*) AS n,"
    " sum(extract(epoch FROM l.converted_at - l.created_at))"
    " FILTER (WHERE l.status = 'CONVERTED') AS secs FROM leads l";
static const char *const sql_stats_tail =
    " GROUP BY l.status, l.source),"
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

/* Filter fragments (each adds its bound parameters, in order). */
static const char *const sql_where_live = " WHERE l.deleted_at IS NULL";
static const char *const sql_where_owner =
    " AND l.user_id = CAST(%s AS uuid)";
/*
 * Search: the LIKE on 0001's trigram-indexed expression narrows the rows
 * through the index; the strpos tests then require the match inside one
 * field (the indexed expression joins the fields with spaces).
 */
static const char *const sql_where_search =
    " AND lower(l.name || ' ' || l.email || ' ' || coalesce(l.company, ''))"
    " LIKE lower(%s)"
    " AND (strpos(lower(l.name), lower(%s)) > 0"
    " OR strpos(lower(l.email), lower(%s)) > 0"
    " OR strpos(lower(coalesce(l.company, '')), lower(%s)) > 0)";

/* ---- enums and field tables ---------------------------------------------- */

static const char *const lead_statuses[] = {
    "NEW", "CONTACTED", "QUALIFIED", "PROPOSAL", "CONVERTED", "LOST", NULL
};
static const char *const lead_sources[] = {
    "WEBSITE", "REFERRAL", "SOCIAL", "EMAIL", "ADS", "EVENT", "OTHER", NULL
};

/* The capture fields, shared by create and update; REQ flags name and email. */
#define LEAD_CAPTURE_FIELDS(REQ) \
    {"name", LCRM_FK_TEXT, (REQ), 1, 100, NULL}, \
    {"email", LCRM_FK_EMAIL, (REQ), 3, 254, NULL}, \
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL}, \
    {"company", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"jobTitle", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 100, NULL}, \
    {"message", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 5000, NULL}, \
    {"source", LCRM_FK_ENUM, 0, 0, 0, lead_sources}, \
    {"utmSource", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmMedium", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmCampaign", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmTerm", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmContent", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"referrer", LCRM_FK_HTTP_URL, LCRM_F_NULLABLE, 0, 2048, NULL}, \
    {"landingPage", LCRM_FK_HTTP_URL, LCRM_F_NULLABLE, 0, 2048, NULL}

/* POST /api/leads, in sql_create's column order (user_id comes last). */
static const lcrm_field_t create_fields[] = {
    LEAD_CAPTURE_FIELDS(LCRM_F_REQUIRED)
};
#define NCREATE ((int)(sizeof(create_fields) / sizeof(create_fields[0])))

/* PUT|PATCH /api/leads/:id: every lead field but id, userId, timestamps. */
static const lcrm_field_t update_fields[] = {
    LEAD_CAPTURE_FIELDS(0),
    {"status", LCRM_FK_ENUM, 0, 0, 0, lead_statuses},
    {"score", LCRM_FK_INT, LCRM_F_NULLABLE, 0, 100, NULL},
    {"estimatedValue", LCRM_FK_MONEY, LCRM_F_NULLABLE, 0,
     APR_INT64_C(1000000000000), NULL},
    {"assignedToId", LCRM_FK_UUID, LCRM_F_NULLABLE, 0, 36, NULL},
    {"lostReason", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 500, NULL},
    {"notes", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 10000, NULL},
};
#define NUPDATE ((int)(sizeof(update_fields) / sizeof(update_fields[0])))

/* ---- query parameters ---------------------------------------------------- */

static const char *const list_query[] = {
    "page", "limit", "status", "source", "assignedToId", "search",
    "createdFrom", "createdTo", "sort", NULL
};
static const char *const stats_query[] = {"from", "to", NULL};

#define SEARCH_MAX 200  /* code points */

/* Sort names -> fixed ORDER BY text; id breaks ties (API.md "Lists"). */
typedef struct {
    const char *name;
    const char *order;
} lead_sort_t;

static const lead_sort_t lead_sorts[] = {
    {"-createdAt", "created_at DESC, id DESC"},  /* the default */
    {"createdAt", "created_at, id"},
    {"updatedAt", "updated_at, id"},
    {"-updatedAt", "updated_at DESC, id DESC"},
    {"name", "name, id"},
    {"-name", "name DESC, id DESC"},
    {"email", "email, id"},
    {"-email", "email DESC, id DESC"},
    /* enum order; within a status the newest first (exact reverse for -) */
    {"status", "status, created_at DESC, id DESC"},
    {"-status", "status DESC, created_at, id"},
    /* leads without a value come last in both directions */
    {"score", "score NULLS LAST, id"},
    {"-score", "score DESC NULLS LAST, id DESC"},
    {"estimatedValue", "estimated_value NULLS LAST, id"},
    {"-estimatedValue", "estimated_value DESC NULLS LAST, id DESC"},
};
#define NSORTS ((int)(sizeof(lead_sorts) / sizeof(lead_sorts[0])))

/* Checks a query value; NULL or a message.  *sql_value gets the bound text. */
typedef const char *(*qcheck_fn)(apr_pool_t *pool, const char *value,
                                 const char **sql_value);

/* A filter: query name, SQL fragment with one parameter, value check. */
typedef struct {
    const char *name;
    const char *sql;
    qcheck_fn check;
} lead_filter_t;

/* The WHERE being built: text, its bound args in order, and errors. */
typedef struct {
    apr_pool_t *pool;
    const char *where;
    apr_array_header_t *args;     /* of const char * */
    apr_array_header_t *errors;   /* of lcrm_field_error_t */
} lead_where_t;

static const char *in_list(const char *const *names, const char *v)
{
    for (; *names; names++) {
        if (!strcmp(*names, v)) {
            return NULL;
        }
    }
    return "is not an allowed value";
}

static const char *q_status(apr_pool_t *pool, const char *v, const char **out)
{
    (void)pool;
    *out = v;
    return in_list(lead_statuses, v);
}

static const char *q_source(apr_pool_t *pool, const char *v, const char **out)
{
    (void)pool;
    *out = v;
    return in_list(lead_sources, v);
}

static const char *q_uuid(apr_pool_t *pool, const char *v, const char **out)
{
    if (strlen(v) != 36 || !lcrm_is_uuid(v)) {
        return "must be a UUID";
    }
    *out = lcrm_uuid_lower(pool, v);
    return NULL;
}

static const char *q_time(apr_pool_t *pool, const char *v, const char **out)
{
    apr_time_t t;
    const char *err = lcrm_parse_rfc3339(v, &t);

    if (!err) {
        *out = lcrm_format_rfc3339(pool, t);
    }
    return err;
}

static const lead_filter_t list_filters[] = {
    {"status", " AND l.status = CAST(%s AS lcrm_lead_status)", q_status},
    {"source", " AND l.source = CAST(%s AS lcrm_lead_source)", q_source},
    {"assignedToId", " AND l.assigned_to_id = CAST(%s AS uuid)", q_uuid},
    {"createdFrom", " AND l.created_at >= CAST(%s AS timestamptz)", q_time},
    {"createdTo", " AND l.created_at < CAST(%s AS timestamptz)", q_time},
};
static const lead_filter_t stats_filters[] = {
    {"from", " AND l.created_at >= CAST(%s AS timestamptz)", q_time},
    {"to", " AND l.created_at < CAST(%s AS timestamptz)", q_time},
};

/* Appends a fragment and nargs copies of arg (its parameters). */
static void where_add(lead_where_t *w, const char *sql, const char *arg,
                      int nargs)
{
    w->where = apr_pstrcat(w->pool, w->where, sql, NULL);
    while (nargs-- > 0) {
        *(const char **)apr_array_push(w->args) = arg;
    }
}

static void where_init(lead_where_t *w, lcrm_ctx_t *ctx)
{
    memset(w, 0, sizeof(*w));
    w->pool = ctx->r->pool;
    w->where = sql_where_live;
    w->args = apr_array_make(w->pool, 8, sizeof(const char *));
    w->errors = apr_array_make(w->pool, 2, sizeof(lcrm_field_error_t));
}

/* Adds the fragment of each of filters[0..n) present in the query. */
static void where_filters(lead_where_t *w, lcrm_ctx_t *ctx,
                          const lead_filter_t *filters, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        const char *v = apr_table_get(ctx->query, filters[i].name), *out;
        const char *err;
        if (!v) {
            continue;
        }
        if ((err = filters[i].check(w->pool, v, &out))) {
            lcrm_fields_error(w->errors, filters[i].name, err);
            continue;
        }
        where_add(w, filters[i].sql, out, 1);
    }
}

/* From/to (or createdFrom/createdTo): from after to is a client error. */
static void where_range(lead_where_t *w, lcrm_ctx_t *ctx, const char *from,
                        const char *to)
{
    const char *f = apr_table_get(ctx->query, from);
    const char *t = apr_table_get(ctx->query, to);
    apr_time_t tf, tt;

    if (f && t && !lcrm_parse_rfc3339(f, &tf) && !lcrm_parse_rfc3339(t, &tt)
        && tf > tt) {
        lcrm_fields_error(w->errors, to, apr_pstrcat(
                              w->pool, "must not be before ", from, NULL));
    }
}

/* Escapes LIKE's metacharacters (backslash is LIKE's default escape). */
static const char *like_pattern(apr_pool_t *pool, const char *s)
{
    char *out = apr_palloc(pool, 2 * strlen(s) + 3), *o = out;

    *o++ = '%';
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

static void where_search(lead_where_t *w, lcrm_ctx_t *ctx)
{
    const char *s = apr_table_get(ctx->query, "search");
    apr_size_t cps = 0;

    if (!s || !*s) {
        return; /* an empty substring matches every lead */
    }
    if (lcrm_check_text(s, strlen(s), 0, &cps) || cps > SEARCH_MAX) {
        lcrm_fields_error(w->errors, "search", "is too long");
        return;
    }
    where_add(w, sql_where_search, like_pattern(w->pool, s), 1);
    where_add(w, "", s, 3);
}

/* A USER sees only the leads carrying their user id. */
static void where_scope(lead_where_t *w, lcrm_ctx_t *ctx)
{
    if (ctx->caller->role < LCRM_ROLE_ADMIN) {
        where_add(w, sql_where_owner, ctx->caller->user_id, 1);
    }
}

static int query_invalid(lcrm_ctx_t *ctx, apr_array_header_t *errors)
{
    return lcrm_problem_fields(ctx->r, "invalid_query",
                               "invalid query parameters", errors);
}

static const char *sort_order(lcrm_ctx_t *ctx, apr_array_header_t *errors)
{
    const char *s = apr_table_get(ctx->query, "sort");
    int i;

    if (!s) {
        return lead_sorts[0].order;
    }
    for (i = 0; i < NSORTS; i++) {
        if (!strcmp(lead_sorts[i].name, s)) {
            return lead_sorts[i].order;
        }
    }
    lcrm_fields_error(errors, "sort", "is not a sortable field");
    return NULL;
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
    const char *args[NCREATE + 1];
    lcrm_row_t row;
    lcrm_db_rc_e rc;
    int i;

    if (lcrm_fields_extract(r->pool, ctx->body, create_fields, NCREATE, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    for (i = 0; i < NCREATE; i++) {
        args[i] = f.values[i];
    }
    args[NCREATE] = ctx->caller->authenticated ? ctx->caller->user_id : NULL;
    if ((rc = lcrm_db_row(lcrm_db(r), sql_create, NCREATE + 1, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, "/api/leads/", row.cols[0], NULL));
    lcrm_no_store(r);
    lcrm_metrics_event(r, LCRM_M_LEAD_CREATED);
    return lcrm_respond_json(r, HTTP_CREATED, row.cols[1]);
}

/* The list statement for a WHERE (bound twice) and ORDER BY text. */
static const char *list_sql(apr_pool_t *pool, const char *where,
                            const char *order)
{
    return apr_pstrcat(pool, sql_list_count, where, sql_list_data, order,
                       sql_list_from, where, sql_list_order, order,
                       sql_list_tail, NULL);
}

static int lead_list(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lead_where_t w;
    lcrm_page_t pg;
    const char *order, *field, *why, **args;
    int i, n;

    where_init(&w, ctx);
    if (lcrm_query_page(ctx->query, &pg, &field, &why)) {
        lcrm_fields_error(w.errors, field, why);
    }
    where_scope(&w, ctx);
    where_filters(&w, ctx, list_filters,
                  (int)(sizeof(list_filters) / sizeof(list_filters[0])));
    where_range(&w, ctx, "createdFrom", "createdTo");
    where_search(&w, ctx);
    order = sort_order(ctx, w.errors);
    if (w.errors->nelts) {
        return query_invalid(ctx, w.errors);
    }
    n = w.args->nelts;
    args = apr_palloc(r->pool, sizeof(char *) * (apr_size_t)(2 * n + 4));
    for (i = 0; i < n; i++) {
        args[i] = args[n + i] = APR_ARRAY_IDX(w.args, i, const char *);
    }
    args[2 * n] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, pg.limit);
    args[2 * n + 1] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, pg.offset);
    args[2 * n + 2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, pg.page);
    args[2 * n + 3] = args[2 * n];
    return json_query(ctx, list_sql(r->pool, w.where, order), 2 * n + 4,
                      args);
}

static int lead_stats(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lead_where_t w;

    where_init(&w, ctx);
    where_filters(&w, ctx, stats_filters,
                  (int)(sizeof(stats_filters) / sizeof(stats_filters[0])));
    where_range(&w, ctx, "from", "to");
    if (w.errors->nelts) {
        return query_invalid(ctx, w.errors);
    }
    return json_query(ctx, apr_pstrcat(r->pool, sql_stats_head, w.where,
                                       sql_stats_tail, NULL),
                      w.args->nelts, (const char *const *)w.args->elts);
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

    for (i = 0; i < NUPDATE; i++) {
        if ((f->present >> i) & 1) {
            json_object_object_add(o, update_fields[i].name, f->values[i]
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
    if (lcrm_fields_extract(r->pool, ctx->body, update_fields, NUPDATE, &f)) {
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
