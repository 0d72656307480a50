/*
 * lcrm_consultations: the /api/consultations family (API.md
 * "Consultations" and "Booking"): booking, availability, lists, reads,
 * changes and cancellation.
 *
 * The booking rules (business hours, time zone, notice, horizon) come from
 * the server configuration and travel to PostgreSQL as one
 * lcrm_booking_rules row.  Every time-zone computation and every change
 * is a database function (sql/0006_consultations.sql) that returns an
 * outcome, so an overlap found by the exclusion constraint, even between
 * concurrent requests, becomes 409 slot_taken and never an SQL error.
 * Validated body fields travel as one JSON object (camelCase keys, the
 * validated text values), so a partial PUT/PATCH changes only what was
 * sent.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_list.h"
#include "lcrm_listcache.h"
#include "lcrm_parse.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_schema.h"
#include "lcrm_metrics.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ---------------------------------------------------------------- */

/* The booking rules as an lcrm_booking_rules value (see rules_args). */
#define RULES_SQL \
    "ROW(CAST(%s AS text), CAST(%s AS integer), CAST(%s AS integer)," \
    " CAST(%s AS integer), CAST(%s AS integer), CAST(%s AS integer))" \
    "::lcrm_booking_rules"
#define NRULES 6

static const char *const sql_book =
    "SELECT outcome, detail, body, id FROM lcrm_consultation_book("
    "CAST(%s AS jsonb), CAST(%s AS uuid), CAST(%s AS boolean), "
    RULES_SQL ")";
static const char *const sql_update =
    "SELECT outcome, detail, body, id FROM lcrm_consultation_update("
    "CAST(lcrm_actx(%s, %s) AS uuid), CAST(%s AS jsonb), CAST(%s AS uuid),"
    " CAST(%s AS boolean), CAST(%s AS boolean), " RULES_SQL ")";
static const char *const sql_cancel =
    "SELECT lcrm_consultation_cancel(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid), CAST(%s AS boolean))";
static const char *const sql_get =
    "SELECT lcrm_consultation_json(c) FROM consultations c"
    " WHERE c.id = CAST(%s AS uuid)"
    " AND (CAST(%s AS boolean) OR c.user_id = CAST(%s AS uuid))";
/* the answer, and when time alone may change it (sql/0051) */
static const char *const sql_availability =
    "SELECT body, until_us::text FROM lcrm_consultation_availability_until("
    "CAST(%s AS date), CAST(%s AS integer), CAST(%s AS uuid), " RULES_SQL ")";


/* What a USER may send: a reschedule or a cancellation. */
static const char *const user_update_names[] = {
    "scheduledAt", "durationMinutes", "timezone", "status",
    "cancellationReason", NULL};

/* Non-field outcomes of the database functions -> problem code, detail. */
static const struct {
    const char *outcome;
    const char *code;
    const char *detail;
} outcome_problems[] = {
    {"not_found", "not_found", "no such consultation"},
    {"forbidden", "forbidden",
     "you may only reschedule or cancel your own upcoming consultations"},
    {"invalid_transition", "invalid_transition",
     "that status change is not allowed"},
    {"slot_taken", "slot_taken",
     "that time overlaps another consultation"},
};

/* Field outcomes ('invalid_<field>') -> field error message. */
static const struct {
    const char *outcome;
    const char *field;
    const char *message;
} outcome_fields[] = {
    {"invalid_timezone", "timezone", "must be a known IANA time zone name"},
    {"invalid_consultantId", "consultantId",
     "must be an active administrator"},
    {"invalid_leadId", "leadId", "must be a lead you may book for"},
};

#define NELTS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- helpers ------------------------------------------------------------ */

static int is_admin(const lcrm_ctx_t *ctx)
{
    return ctx->caller->authenticated
           && ctx->caller->role >= LCRM_ROLE_ADMIN;
}

static const char *caller_id(const lcrm_ctx_t *ctx)
{
    return ctx->caller->authenticated ? ctx->caller->user_id : NULL;
}

/* Fills args[0..NRULES) with the server's booking rules. */
static void rules_args(lcrm_ctx_t *ctx, const char **args)
{
    const lcrm_hours_t *h = lcrm_conf_hours(ctx->sc);
    apr_pool_t *p = ctx->r->pool;

    args[0] = lcrm_conf_time_zone(ctx->sc);
    args[1] = apr_itoa(p, (int)h->days);
    args[2] = apr_itoa(p, h->open_minute);
    args[3] = apr_itoa(p, h->close_minute);
    args[4] = apr_psprintf(p, "%" APR_INT64_T_FMT,
                           lcrm_conf_booking_notice(ctx->sc));
    args[5] = apr_psprintf(p, "%" APR_INT64_T_FMT,
                           lcrm_conf_booking_horizon(ctx->sc));
}

/* The sent fields as a JSON object of their SQL texts (null kept). */
static const char *fields_json(apr_pool_t *pool, const lcrm_field_t *specs,
                               int n, const lcrm_fields_t *f)
{
    json_object *o = lcrm_json_own(pool, json_object_new_object());
    int i;

    for (i = 0; i < n; i++) {
        if (f->present & ((apr_uint64_t)1 << i)) {
            json_object_object_add(o, specs[i].name, f->values[i]
                                   ? json_object_new_string(f->values[i])
                                   : NULL);
        }
    }
    return lcrm_json_dump(pool, o);
}

/* "3 hours", "180 days", "90 seconds": a configured span for messages. */
static const char *span_text(apr_pool_t *p, apr_int64_t secs)
{
    static const struct {
        apr_int64_t unit;
        const char *name;
    } units[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
    int i;

    for (i = 0; i < NELTS(units) - 1 && secs % units[i].unit; i++) {
    }
    secs /= units[i].unit;
    return apr_psprintf(p, "%" APR_INT64_T_FMT " %s%s", secs, units[i].name,
                        secs == 1 ? "" : "s");
}

/* "Mon-Fri", "Mon,Wed,Fri": the open days for messages. */
static const char *days_text(apr_pool_t *p, unsigned days)
{
    static const char *const names[] = {"Mon", "Tue", "Wed", "Thu", "Fri",
                                        "Sat", "Sun"};
    const char *out = NULL, *part;
    int i = 0, j;

    while (i < 7) {
        if (!(days & (1u << i))) {
            i++;
            continue;
        }
        for (j = i; j + 1 < 7 && (days & (1u << (j + 1))); j++) {
        }
        part = i == j ? names[i]
                      : apr_pstrcat(p, names[i], j == i + 1 ? "," : "-",
                                    names[j], NULL);
        out = out ? apr_pstrcat(p, out, ",", part, NULL) : part;
        i = j + 1;
    }
    return out ? out : "no days";
}

/* The scheduledAt message for a reason of lcrm_booking_problem(). */
static const char *window_message(lcrm_ctx_t *ctx, const char *reason)
{
    apr_pool_t *p = ctx->r->pool;
    const lcrm_hours_t *h = lcrm_conf_hours(ctx->sc);

    if (!reason || !strcmp(reason, "past")) {
        return "must be in the future";
    }
    if (!strcmp(reason, "notice")) {
        return apr_pstrcat(p, "must be at least ", span_text(p,
                           lcrm_conf_booking_notice(ctx->sc)), " from now",
                           NULL);
    }
    if (!strcmp(reason, "horizon")) {
        return apr_pstrcat(p, "must be at most ", span_text(p,
                           lcrm_conf_booking_horizon(ctx->sc)), " from now",
                           NULL);
    }
    return apr_psprintf(p, "must lie entirely within business hours"
                        " (%s %02d:%02d-%02d:%02d %s)",
                        days_text(p, h->days), h->open_minute / 60,
                        h->open_minute % 60, h->close_minute / 60,
                        h->close_minute % 60, lcrm_conf_time_zone(ctx->sc));
}

static int field_problem(lcrm_ctx_t *ctx, const char *field,
                         const char *message)
{
    apr_array_header_t *errors = apr_array_make(ctx->r->pool, 1,
                                                sizeof(lcrm_field_error_t));
    lcrm_fields_error(errors, field, message);
    return lcrm_ctx_invalid(ctx, errors);
}

/* Answers a non-"ok" outcome of a consultation function; returns OK. */
static int outcome_response(lcrm_ctx_t *ctx, const char *outcome,
                            const char *detail)
{
    int i;

    if (!strcmp(outcome, "invalid_scheduledAt")) {
        return field_problem(ctx, "scheduledAt", window_message(ctx, detail));
    }
    for (i = 0; i < NELTS(outcome_fields); i++) {
        if (!strcmp(outcome, outcome_fields[i].outcome)) {
            return field_problem(ctx, outcome_fields[i].field,
                                 outcome_fields[i].message);
        }
    }
    if (!strcmp(outcome, "slot_taken")) {
        lcrm_metrics_event(ctx->r, LCRM_M_BOOKING_CONFLICT);
    }
    for (i = 0; i < NELTS(outcome_problems); i++) {
        if (!strcmp(outcome, outcome_problems[i].outcome)) {
            return lcrm_problem(ctx->r, outcome_problems[i].code,
                                outcome_problems[i].detail);
        }
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, LCRM_LOGNO(00801)
                  "unexpected consultation outcome %s", outcome);
    return lcrm_problem(ctx->r, "internal_error", NULL);
}

/* Answers 400 invalid_query for one parameter; returns OK. */
static int bad_query(lcrm_ctx_t *ctx, const char *field, const char *why)
{
    return lcrm_list_invalid(ctx, field, why);
}

/* Same, for parsers: returns 1 ("answered"). */
static int query_refused(lcrm_ctx_t *ctx, const char *field, const char *why)
{
    bad_query(ctx, field, why);
    return 1;
}

/* ---- booking and availability ------------------------------------------- */

static int consultation_book(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *args[3 + NRULES];
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_book, LCRM_SCHEMA_NBOOK, &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    args[0] = fields_json(r->pool, lcrm_schema_book, LCRM_SCHEMA_NBOOK, &f);
    args[1] = caller_id(ctx);
    args[2] = is_admin(ctx) ? "true" : "false";
    rules_args(ctx, args + 3);
    if ((rc = lcrm_db_row(lcrm_db(r), sql_book, 3 + NRULES, args, &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(row.cols[0], "ok")) {
        return outcome_response(ctx, row.cols[0], row.cols[1]);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(00802)
                  "consultation %s booked by %s", row.cols[3],
                  args[1] ? args[1] : "an anonymous client");
    apr_table_setn(r->err_headers_out, "Location",
                   apr_pstrcat(r->pool, "/api/consultations/", row.cols[3],
                               NULL));
    lcrm_no_store(r);
    lcrm_metrics_event(r, LCRM_M_BOOKED);
    return lcrm_respond_json(r, HTTP_CREATED, row.cols[2]);
}

/* Reads date, durationMinutes, consultantId into args[0..3); 0, or 1
 * when a 400 was answered. */
static int availability_args(lcrm_ctx_t *ctx, const char **args)
{
    const char *date = apr_table_get(ctx->query, "date");
    const char *dur = apr_table_get(ctx->query, "durationMinutes");
    const char *who = apr_table_get(ctx->query, "consultantId");
    const char *why;
    apr_int64_t minutes = 30;
    int y, m, d;

    if (!date) {
        return query_refused(ctx, "date", "is required");
    }
    if (strlen(date) != 10 || (why = lcrm_parse_date(date, &y, &m, &d))) {
        return query_refused(ctx, "date", "must be a date YYYY-MM-DD");
    }
    if (dur && (why = lcrm_parse_int(dur, 15, 240, &minutes))) {
        return query_refused(ctx, "durationMinutes", why);
    }
    if (who && !lcrm_is_uuid(who)) {
        return query_refused(ctx, "consultantId", "must be a UUID");
    }
    args[0] = date;
    args[1] = apr_psprintf(ctx->r->pool, "%" APR_INT64_T_FMT, minutes);
    args[2] = who ? lcrm_uuid_lower(ctx->r->pool, who) : NULL;
    return 0;
}

/*
 * LeadCRMCache: the answer depends on the date, duration, consultant and
 * rules (all in args), the consultations and consultants (list version
 * 'c') and the clock, so it is stored with the instant from which time
 * alone may change it (sql/0051's lcrm_consultation_availability_until).
 */
static int consultation_availability(lcrm_ctx_t *ctx)
{
    const char *args[3 + NRULES];
    lcrm_listcache_t lc;
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (availability_args(ctx, args)) {
        return OK;
    }
    rules_args(ctx, args + 3);
    if (lcrm_listcache_lookup(ctx, &lc, LCRM_LISTCACHE_CONSULTATIONS,
                              "availability", 0, 1, 3 + NRULES, args)) {
        return OK;
    }
    rc = lcrm_db_row(lcrm_db(ctx->r), sql_availability, 3 + NRULES, args,
                     &row);
    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (!row.cols[0]) {
        return bad_query(ctx, "consultantId",
                         "is not an active administrator");
    }
    lcrm_listcache_store_until(ctx, &lc, row.cols[0], row.cols[1]);
    lcrm_no_store(ctx->r);
    return lcrm_respond_json(ctx->r, HTTP_OK, row.cols[0]);
}

/* ---- lists and reads ---------------------------------------------------- */

static const char *q_status(apr_pool_t *pool, const char *v,
                            const char **out)
{
    (void)pool;
    *out = v;
    return lcrm_list_enum(lcrm_schema_consultation_statuses, v)
               ? "is not a consultation status" : NULL;
}

/*
 * The list filters.  Search is a literal substring (an escaped LIKE
 * pattern) over name, email and topic joined by a newline, which a query
 * value cannot hold; the expression is sql/0045's trigram index's, to the
 * letter (all three columns are NOT NULL, so it equals the concat_ws()
 * text this list matched before, which no index could use).
 */
static const lcrm_list_filter_t list_filters[] = {
    {"status", " AND c.status = CAST(%s AS lcrm_consultation_status)", 1,
     q_status},
    {"from", " AND c.scheduled_at >= CAST(%s AS timestamptz)", 1,
     lcrm_list_time},
    {"to", " AND c.scheduled_at < CAST(%s AS timestamptz)", 1,
     lcrm_list_time},
    {"consultantId", " AND c.consultant_id = CAST(%s AS uuid)", 1,
     lcrm_list_uuid},
    {"leadId", " AND c.lead_id = CAST(%s AS uuid)", 1, lcrm_list_uuid},
    {"search", " AND lower(c.name || chr(10) || c.email || chr(10) || c.topic)"
     " LIKE lower(%s)", 1, lcrm_list_search},
};

/* Sort names (API.md "Lists") and their keys, id last. */
#define C_AT(d) {"c.scheduled_at", "timestamptz", (d), 0}
#define C_ID(d) {"c.id", "uuid", (d), 0}
static const lcrm_list_sort_t list_sorts[] = {
    {"scheduledAt", {C_AT(0), C_ID(0), {NULL}}},   /* the default */
    {"-scheduledAt", {C_AT(1), C_ID(1), {NULL}}},
    {"createdAt", {{"c.created_at", "timestamptz", 0, 0}, C_ID(0), {NULL}}},
    {"-createdAt", {{"c.created_at", "timestamptz", 1, 0}, C_ID(1), {NULL}}},
    {"status", {{"c.status", "lcrm_consultation_status", 0, 0}, C_AT(0),
                C_ID(0), {NULL}}},
    {"-status", {{"c.status", "lcrm_consultation_status", 1, 0}, C_AT(0),
                 C_ID(0), {NULL}}},
};

static const lcrm_list_def_t consultation_list_def = {
    "GET /api/consultations", " FROM consultations c", " WHERE TRUE",
    "lcrm_consultation_json(c)", list_filters,
    (int)(sizeof(list_filters) / sizeof(list_filters[0])), list_sorts,
    (int)(sizeof(list_sorts) / sizeof(list_sorts[0])), NULL, NULL, NULL, 1
};

static int consultation_list(lcrm_ctx_t *ctx)
{
    lcrm_list_t l;

    if (lcrm_list_begin(&l, ctx, &consultation_list_def)) {
        return OK;
    }
    if (!is_admin(ctx)) {
        lcrm_list_scope(&l, " AND c.user_id = CAST(%s AS uuid)",
                        ctx->caller->user_id);
    }
    lcrm_list_cache(&l, LCRM_LISTCACHE_CONSULTATIONS);
    return lcrm_list_respond(&l);
}

static int consultation_get(lcrm_ctx_t *ctx)
{
    const char *args[3];

    if (!(args[0] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(ctx->r, "not_found", "no such consultation");
    }
    args[1] = is_admin(ctx) ? "true" : "false";
    args[2] = ctx->caller->user_id;
    return lcrm_ctx_json_query(ctx, sql_get, 3, args, "not_found",
                               "no such consultation");
}

/* ---- changes ------------------------------------------------------------ */

/*
 * Non-zero when the body only reschedules (scheduledAt, durationMinutes,
 * timezone) or cancels (status CANCELLED, optional cancellationReason):
 * all a USER may do.
 */
static int user_change_ok(const lcrm_fields_t *f)
{
    const char *const *name;
    const char *status;
    apr_uint64_t allowed = 0;

    for (name = user_update_names; *name; name++) {
        allowed |= (apr_uint64_t)1
                   << lcrm_fields_index(lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE, *name);
    }
    if (f->present & ~allowed) {
        return 0;
    }
    status = lcrm_fields_get(f, lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE, "status");
    if (lcrm_fields_has(f, lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE, "status")) {
        return status && !strcmp(status, "CANCELLED");
    }
    return !lcrm_fields_has(f, lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE, "cancellationReason");
}

static int consultation_update(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    lcrm_fields_t f;
    const char *args[5 + NRULES];
    lcrm_row_t row;
    lcrm_db_rc_e rc;

    if (!(args[0] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(r, "not_found", "no such consultation");
    }
    if (lcrm_fields_extract(r->pool, ctx->body, lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE,
                            &f)) {
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    args[1] = fields_json(r->pool, lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE, &f);
    args[2] = ctx->caller->user_id;
    args[3] = is_admin(ctx) ? "true" : "false";
    args[4] = user_change_ok(&f) ? "true" : "false";
    rules_args(ctx, args + 5);
    if ((rc = lcrm_db_row(lcrm_db(r), sql_update, 6 + NRULES,
                          lcrm_ctx_audit_args(ctx, args, 5 + NRULES), &row))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(row.cols[0], "ok")) {
        return outcome_response(ctx, row.cols[0], row.cols[1]);
    }
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_OK, row.cols[2]);
}

static int consultation_cancel(lcrm_ctx_t *ctx)
{
    const char *args[3], *outcome;
    lcrm_db_rc_e rc;

    if (!(args[0] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(ctx->r, "not_found", "no such consultation");
    }
    args[1] = ctx->caller->user_id;
    args[2] = is_admin(ctx) ? "true" : "false";
    rc = lcrm_db_value(lcrm_db(ctx->r), sql_cancel, 4,
                       lcrm_ctx_audit_args(ctx, args, 3), &outcome);
    if (rc != LCRM_DB_OK) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (strcmp(outcome, "ok")) {
        return outcome_response(ctx, outcome, NULL);
    }
    return lcrm_respond_no_content(ctx->r);
}

/* ---- routes ------------------------------------------------------------- */

static const char *const list_query[] = {
    "page", "limit", "cursor", "status", "from", "to", "consultantId",
    "leadId",
    "search", "sort", NULL};
static const char *const availability_query[] = {
    "date", "durationMinutes", "consultantId", NULL};

static const lcrm_route_t consultation_routes[] = {
    LCRM_ENDPOINT("POST", "/api/consultations", consultation_book,
                  LCRM_RF_OPT_AUTH | LCRM_RF_BODY | LCRM_RF_RL_PUBLIC, NULL),
    LCRM_ENDPOINT("GET", "/api/consultations", consultation_list,
                  LCRM_RF_AUTH | LCRM_RF_KEY(CONSULTATIONS_READ), list_query),
    LCRM_ENDPOINT("GET", "/api/consultations/availability",
                  consultation_availability, 0, availability_query),
    LCRM_ENDPOINT("GET", "/api/consultations/:id", consultation_get,
                  LCRM_RF_AUTH | LCRM_RF_KEY(CONSULTATIONS_READ), NULL),
    LCRM_ENDPOINT("PUT", "/api/consultations/:id", consultation_update,
                  LCRM_RF_AUTH | LCRM_RF_KEY(CONSULTATIONS_WRITE)
                    | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("PATCH", "/api/consultations/:id", consultation_update,
                  LCRM_RF_AUTH | LCRM_RF_KEY(CONSULTATIONS_WRITE)
                    | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("DELETE", "/api/consultations/:id", consultation_cancel,
                  LCRM_RF_AUTH | LCRM_RF_KEY(CONSULTATIONS_WRITE), NULL),
};

const lcrm_family_t lcrm_consultations_family = {
    "leadcrm-consultations", consultation_routes,
    (int)(sizeof(consultation_routes) / sizeof(consultation_routes[0]))
};
