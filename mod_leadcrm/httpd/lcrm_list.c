/*
 * lcrm_list: the list toolkit (see lcrm_list.h): query reading, filters,
 * whitelisted sorts, signed keyset cursors, the capped or exact count and
 * the page envelope, in one statement per page.
 *
 * The statement: a CTE p holds the page plus one row (to know whether a
 * next page exists), each row rendered to JSON with its sort keys as a
 * JSON array of text (cast back exactly with the key's type); the outer
 * SELECT returns the data array, the last row's keys when there is more,
 * and the count.  A cursor page adds a keyset predicate after the filters:
 * a row comparison when every key has one direction and none is nullable
 * (which the planner turns into an index range), otherwise the expanded
 * OR form, led by a bound on the first key so an index on it still starts
 * at the right place.
 */
#include "lcrm_list.h"
#include "lcrm_cursor.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_db.h"
#include "lcrm_json.h"
#include "lcrm_listcache.h"
#include "lcrm_private.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>

/* ---- shared checks -------------------------------------------------------- */

const char *lcrm_list_enum(const char *const *names, const char *v)
{
    for (; *names; names++) {
        if (!strcmp(*names, v)) {
            return NULL;
        }
    }
    return "is not an allowed value";
}

const char *lcrm_list_uuid(apr_pool_t *pool, const char *v, const char **out)
{
    if (strlen(v) != 36 || !lcrm_is_uuid(v)) {
        return "must be a UUID";
    }
    *out = lcrm_uuid_lower(pool, v);
    return NULL;
}

const char *lcrm_list_time(apr_pool_t *pool, const char *v, const char **out)
{
    apr_time_t t;
    const char *err = lcrm_parse_rfc3339(v, &t);

    if (!err) {
        *out = lcrm_format_rfc3339(pool, t);
    }
    return err;
}

const char *lcrm_list_bool(apr_pool_t *pool, const char *v, const char **out)
{
    (void)pool;
    *out = v;
    return strcmp(v, "true") && strcmp(v, "false") ? "must be true or false"
                                                   : NULL;
}

const char *lcrm_list_search(apr_pool_t *pool, const char *v,
                             const char **out)
{
    apr_size_t cps = 0;

    *out = NULL;
    if (!*v) {
        return NULL; /* an empty substring matches everything */
    }
    if (lcrm_check_text(v, strlen(v), 0, &cps) || cps > LCRM_LIST_SEARCH_MAX) {
        return "is too long";
    }
    *out = lcrm_like_pattern(pool, v);
    return NULL;
}

int lcrm_list_invalid(lcrm_ctx_t *ctx, const char *field, const char *why)
{
    apr_array_header_t *errors = apr_array_make(ctx->r->pool, 1,
                                                sizeof(lcrm_field_error_t));
    lcrm_fields_error(errors, field, why);
    return lcrm_problem_fields(ctx->r, "invalid_query",
                               "invalid query parameters", errors);
}

/* ---- building the WHERE ---------------------------------------------------- */

static void push_arg(lcrm_list_t *l, const char *arg)
{
    *(const char **)apr_array_push(l->args) = arg;
}

void lcrm_list_scope(lcrm_list_t *l, const char *sql, const char *arg)
{
    l->where = apr_pstrcat(l->pool, l->where, sql, NULL);
    push_arg(l, arg);
}

int lcrm_list_has(const lcrm_list_t *l, const char *name)
{
    return apr_table_get(l->used, name) != NULL;
}

static const lcrm_list_filter_t *find_filter(const lcrm_list_def_t *def,
                                             const char *name)
{
    int i;

    for (i = 0; i < def->nfilters; i++) {
        if (!strcmp(def->filters[i].name, name)) {
            return &def->filters[i];
        }
    }
    return NULL;
}

static const lcrm_list_sort_t *find_sort(const lcrm_list_def_t *def,
                                         const char *name)
{
    int i;

    for (i = 0; i < def->nsorts; i++) {
        if (!strcmp(def->sorts[i].name, name)) {
            return &def->sorts[i];
        }
    }
    return NULL;
}

/* Checks v for f and adds its fragment; the error message or NULL. */
static const char *add_filter(lcrm_list_t *l, const lcrm_list_filter_t *f,
                              const char *v)
{
    const char *out = v, *err = f->check ? f->check(l->pool, v, &out) : NULL;
    int i;

    if (err || !out) {
        return err;
    }
    l->where = apr_pstrcat(l->pool, l->where, f->sql, NULL);
    for (i = 0; i < f->nargs; i++) {
        push_arg(l, out);
    }
    if (f->check == lcrm_list_search) {
        l->narrow = 1;
    }
    apr_table_setn(l->used, f->name, v);
    return NULL;
}

static void read_filters(lcrm_list_t *l)
{
    int i;

    for (i = 0; i < l->def->nfilters; i++) {
        const lcrm_list_filter_t *f = &l->def->filters[i];
        const char *v = apr_table_get(l->ctx->query, f->name), *err;
        if (v && (err = add_filter(l, f, v))) {
            lcrm_fields_error(l->errors, f->name, err);
        }
    }
}

/* range_from after range_to is a client error, not an empty page. */
static void check_range(lcrm_list_t *l)
{
    const lcrm_list_def_t *def = l->def;
    const char *f, *t;
    apr_time_t tf, tt;

    if (!def->range_from) {
        return;
    }
    f = apr_table_get(l->ctx->query, def->range_from);
    t = apr_table_get(l->ctx->query, def->range_to);
    if (f && t && !lcrm_parse_rfc3339(f, &tf) && !lcrm_parse_rfc3339(t, &tt)
        && tf > tt) {
        lcrm_fields_error(l->errors, def->range_to, apr_pstrcat(
                              l->pool, "must not be before ", def->range_from,
                              NULL));
    }
}

static void read_sort(lcrm_list_t *l)
{
    const char *s = apr_table_get(l->ctx->query, "sort");

    l->sort = s ? find_sort(l->def, s) : &l->def->sorts[0];
    if (!l->sort) {
        lcrm_fields_error(l->errors, "sort", "is not a sortable field");
    }
}

/* ---- cursors ----------------------------------------------------------------- */

static int nkeys(const lcrm_list_sort_t *s)
{
    int n = 0;

    while (n < LCRM_LIST_MAX_KEYS && s->keys[n].expr) {
        n++;
    }
    return n;
}

/* Restores the filters of a cursor's "f" object; 0 or -1. */
static int cursor_filters(lcrm_list_t *l, json_object *f)
{
    json_object_iter it;

    if (!json_object_is_type(f, json_type_object)) {
        return -1;
    }
    json_object_object_foreachC(f, it) {
        const lcrm_list_filter_t *flt = find_filter(l->def, it.key);
        if (!flt || !json_object_is_type(it.val, json_type_string)
            || add_filter(l, flt, json_object_get_string(it.val))) {
            return -1;
        }
    }
    return 0;
}

/* Restores the last row's sort keys of a cursor's "k" array; 0 or -1. */
static int cursor_keys(lcrm_list_t *l, json_object *k)
{
    int i, n = nkeys(l->sort);

    if (!json_object_is_type(k, json_type_array)
        || (int)json_object_array_length(k) != n) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(k, (apr_size_t)i);
        if (!v && l->sort->keys[i].nullable) {
            l->after[i] = NULL;
        }
        else if (json_object_is_type(v, json_type_string)) {
            l->after[i] = apr_pstrdup(l->pool, json_object_get_string(v));
        }
        else {
            return -1;
        }
    }
    return 0;
}

/* Opens and applies the cursor text; 0 or -1 (any defect). */
static int cursor_apply(lcrm_list_t *l, const char *text)
{
    const lcrm_key_t *key = l->ctx->sc->key;
    const char *payload, *why;
    json_object *doc, *s, *f, *k;

    if (!key || lcrm_cursor_open(l->pool, key->bytes, key->len,
                                 l->def->endpoint, text, &payload)
        || lcrm_json_parse_object(l->pool, payload, strlen(payload), &doc,
                                  &why)
        || !json_object_object_get_ex(doc, "s", &s)
        || !json_object_object_get_ex(doc, "f", &f)
        || !json_object_object_get_ex(doc, "k", &k)
        || !json_object_is_type(s, json_type_string)
        || !(l->sort = find_sort(l->def, json_object_get_string(s)))) {
        return -1;
    }
    return cursor_filters(l, f) || cursor_keys(l, k) ? -1 : 0;
}

/* The signed cursor after the row whose keys are keys_json. */
static const char *cursor_make(lcrm_list_t *l, const char *keys_json)
{
    const lcrm_key_t *key = l->ctx->sc->key;
    json_object *doc = lcrm_json_own(l->pool, json_object_new_object());
    json_object *f = json_object_new_object(), *k;
    const apr_array_header_t *arr = apr_table_elts(l->used);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char *why;
    int i;

    if (lcrm_json_parse_value(l->pool, keys_json, strlen(keys_json), 2, &k,
                              &why)) {
        return NULL;
    }
    for (i = 0; i < arr->nelts; i++) {
        json_object_object_add(f, e[i].key, json_object_new_string(e[i].val));
    }
    json_object_object_add(doc, "s", json_object_new_string(l->sort->name));
    json_object_object_add(doc, "f", f);
    json_object_object_add(doc, "k", json_object_get(k));
    return lcrm_cursor_sign(l->pool, key->bytes, key->len, l->def->endpoint,
                            lcrm_json_dump(l->pool, doc));
}

/* With a cursor only limit may come along (API.md part 2). */
static void read_cursor(lcrm_list_t *l, const char *text)
{
    const apr_array_header_t *arr = apr_table_elts(l->ctx->query);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i;

    l->cursor = 1;
    for (i = 0; i < arr->nelts; i++) {
        if (strcmp(e[i].key, "cursor") && strcmp(e[i].key, "limit")) {
            lcrm_fields_error(l->errors, e[i].key,
                              "cannot be combined with cursor");
        }
    }
    if (!l->errors->nelts && cursor_apply(l, text)) {
        lcrm_fields_error(l->errors, "cursor", "is not a valid cursor");
    }
}

/* ---- begin ----------------------------------------------------------------- */

int lcrm_list_begin(lcrm_list_t *l, lcrm_ctx_t *ctx,
                    const lcrm_list_def_t *def)
{
    const char *field, *why, *cursor;

    memset(l, 0, sizeof(*l));
    l->def = def;
    l->ctx = ctx;
    l->pool = ctx->r->pool;
    l->where = def->live;
    l->args = apr_array_make(l->pool, 8, sizeof(const char *));
    l->errors = apr_array_make(l->pool, 2, sizeof(lcrm_field_error_t));
    l->used = apr_table_make(l->pool, 4);
    if (def->paged && lcrm_query_page(ctx->query, &l->page, &field, &why)) {
        lcrm_fields_error(l->errors, field, why);
    }
    cursor = def->paged ? apr_table_get(ctx->query, "cursor") : NULL;
    if (cursor) {
        read_cursor(l, cursor);
    }
    else {
        read_filters(l);
        check_range(l);
        read_sort(l);
    }
    if (l->errors->nelts) {
        lcrm_problem_fields(ctx->r, "invalid_query",
                            "invalid query parameters", l->errors);
        return 1;
    }
    return 0;
}

static const char *i64(apr_pool_t *pool, apr_int64_t v)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}

/* ---- the statement ------------------------------------------------------- */

const char *lcrm_list_order_sql(const lcrm_list_t *l)
{
    const char *out = "";
    int i, n = nkeys(l->sort);

    for (i = 0; i < n; i++) {
        const lcrm_list_key_t *k = &l->sort->keys[i];
        out = apr_pstrcat(l->pool, out, i ? ", " : "", k->expr,
                          k->desc ? " DESC" : "",
                          k->nullable ? " NULLS LAST" : "", NULL);
    }
    return out;
}

/* "CAST(%s AS type)" for key i, binding its cursor value. */
static const char *key_param(lcrm_list_t *l, int i)
{
    push_arg(l, l->after[i]);
    return apr_pstrcat(l->pool, "CAST(%s AS ", l->sort->keys[i].type, ")",
                       NULL);
}

/* Key i strictly after its cursor value (nulls last). */
static const char *key_after(lcrm_list_t *l, int i)
{
    const lcrm_list_key_t *k = &l->sort->keys[i];

    if (!l->after[i]) {
        return "FALSE";
    }
    return apr_pstrcat(l->pool, "(", k->expr, k->desc ? " < " : " > ",
                       key_param(l, i),
                       k->nullable ? apr_pstrcat(l->pool, " OR ", k->expr,
                                                 " IS NULL", NULL) : "",
                       ")", NULL);
}

static const char *key_equal(lcrm_list_t *l, int i)
{
    const lcrm_list_key_t *k = &l->sort->keys[i];

    if (!l->after[i]) {
        return apr_pstrcat(l->pool, k->expr, " IS NULL", NULL);
    }
    return apr_pstrcat(l->pool, k->expr, " = ", key_param(l, i), NULL);
}

/* Every key has the first one's direction and none is nullable. */
static int keys_uniform(const lcrm_list_sort_t *s, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (s->keys[i].nullable || s->keys[i].desc != s->keys[0].desc) {
            return 0;
        }
    }
    return 1;
}

/* The keyset predicate " AND ..." (its values pushed onto l->args). */
static const char *keyset_sql(lcrm_list_t *l)
{
    int i, j, n = nkeys(l->sort);
    const char *lhs = "", *rhs = "", *ors = "";

    if (keys_uniform(l->sort, n)) {
        for (i = 0; i < n; i++) {
            lhs = apr_pstrcat(l->pool, lhs, i ? ", " : "",
                              l->sort->keys[i].expr, NULL);
            rhs = apr_pstrcat(l->pool, rhs, i ? ", " : "", key_param(l, i),
                              NULL);
        }
        return apr_pstrcat(l->pool, " AND (", lhs, l->sort->keys[0].desc
                           ? ") < (" : ") > (", rhs, ")", NULL);
    }
    if (!l->sort->keys[0].nullable && l->after[0]) {
        lhs = apr_pstrcat(l->pool, " AND ", l->sort->keys[0].expr,
                          l->sort->keys[0].desc ? " <= " : " >= ",
                          key_param(l, 0), NULL);
    }
    for (i = 0; i < n; i++) {
        const char *term = "";
        for (j = 0; j < i; j++) {
            term = apr_pstrcat(l->pool, term, key_equal(l, j), " AND ", NULL);
        }
        ors = apr_pstrcat(l->pool, ors, i ? " OR (" : "(", term,
                          key_after(l, i), ")", NULL);
    }
    return apr_pstrcat(l->pool, lhs, " AND (", ors, ")", NULL);
}

/* json_build_array(k1::text, ...) of the sort keys. */
static const char *keys_json_sql(const lcrm_list_t *l)
{
    const char *out = "json_build_array(";
    int i, n = nkeys(l->sort);

    for (i = 0; i < n; i++) {
        out = apr_pstrcat(l->pool, out, i ? ", " : "", "CAST(",
                          l->sort->keys[i].expr, " AS text)", NULL);
    }
    return apr_pstrcat(l->pool, out, ")", NULL);
}


/* The count column: exact (callback), capped, or none in cursor mode. */
static const char *count_sql(lcrm_list_t *l, int nwhere, int *exact)
{
    const char *const *cargs;
    const char *sql;
    int i, n;

    if (l->cursor) {
        return "NULL";
    }
    if (l->def->exact_count && (sql = l->def->exact_count(l, &cargs, &n))) {
        for (i = 0; i < n; i++) {
            push_arg(l, cargs[i]);
        }
        *exact = 1;
        return apr_pstrcat(l->pool, "(", sql, ")", NULL);
    }
    for (i = 0; i < nwhere; i++) {
        push_arg(l, APR_ARRAY_IDX(l->args, i, const char *));
    }
    return apr_pstrcat(l->pool, "(SELECT count(*) FROM (SELECT 1",
                       l->def->from, l->where, " LIMIT "
                       APR_STRINGIFY(LCRM_LIST_COUNT_CAP) ") s)", NULL);
}

int lcrm_list_nkeys(const lcrm_list_t *l)
{
    return nkeys(l->sort);
}

void lcrm_list_after(lcrm_list_t *l, const char *const *keys)
{
    int i, n = nkeys(l->sort);

    l->cursor = 1;
    for (i = 0; i < n; i++) {
        l->after[i] = keys[i];
    }
}

const char *lcrm_list_batch_sql(lcrm_list_t *l, apr_pool_t *pool,
                                const char *columns, int n, int *nargs,
                                const char *const **args)
{
    apr_pool_t *keep_pool = l->pool;
    apr_array_header_t *keep_args = l->args;
    const char *order, *keyset = "", *sql, *keys = "";
    int i;

    l->pool = pool;
    l->args = apr_array_copy(pool, keep_args);
    order = lcrm_list_order_sql(l);
    if (l->cursor) {
        keyset = keyset_sql(l);
    }
    for (i = 0; i < nkeys(l->sort); i++) {
        keys = apr_pstrcat(pool, keys, ", CAST(", l->sort->keys[i].expr,
                           " AS text)", NULL);
    }
    push_arg(l, i64(pool, n));
    sql = apr_pstrcat(pool, "SELECT ", columns, keys, l->def->from, l->where,
                      keyset, " ORDER BY ", order,
                      " LIMIT CAST(%s AS bigint)", NULL);
    *nargs = l->args->nelts;
    *args = (const char *const *)l->args->elts;
    l->pool = keep_pool;
    l->args = keep_args;
    return sql;
}

/* The sort of the chosen sort's keys as columns k0.. of m. */
static const char *m_order_sql(const lcrm_list_t *l)
{
    const char *out = "";
    int i, n = nkeys(l->sort);

    for (i = 0; i < n; i++) {
        const lcrm_list_key_t *k = &l->sort->keys[i];
        out = apr_psprintf(l->pool, "%s%sm.k%d%s%s", out, i ? ", " : "", i,
                           k->desc ? " DESC" : "",
                           k->nullable ? " NULLS LAST" : "");
    }
    return out;
}

/*
 * The page statement of a search (offset pages).  The trigram index finds
 * the matching rows, but the planner cannot tell a rare term from a common
 * one (its estimate is the same for every pattern), so it either walks the
 * sort's index filtering every row (fine for a common term, a walk over
 * the whole table for a rare one) or fetches every match before sorting
 * (the reverse).  Here m collects at most LCRM_LIST_COUNT_CAP matches with
 * their sort keys, through the index (the capped count's own work, which
 * the count then reads): when it holds fewer, m is every match and the
 * page is sorted from m, its rows fetched by id; when it is full the term
 * is common and the sort's index is walked as for any list.  Same rows,
 * same order, same capped total as page_sql's statement.
 */
static const char *narrow_page_sql(lcrm_list_t *l)
{
    const char *order = lcrm_list_order_sql(l), *keys = "", *where = l->where;
    const char *lim = i64(l->pool, l->page.limit + 1);
    const char *off = i64(l->pool, l->page.offset);
    const char *maxn = i64(l->pool, l->page.offset + l->page.limit);
    const char *id = l->sort->keys[nkeys(l->sort) - 1].expr, *cap, *row;
    int i, n = nkeys(l->sort), nwhere = l->args->nelts;

    for (i = 0; i < n; i++) {
        keys = apr_psprintf(l->pool, "%s%s%s AS k%d", keys, i ? ", " : "",
                            l->sort->keys[i].expr, i);
    }
    cap = APR_STRINGIFY(LCRM_LIST_COUNT_CAP);
    /* n is the row's position in the whole list, as in page_sql */
    row = apr_pstrcat(l->pool, "SELECT ", l->def->row_json, " AS j, ",
                      keys_json_sql(l), " AS k, row_number() OVER (ORDER BY ",
                      order, ")", NULL);
    /* m's WHERE arguments are already in place; then the first branch's
     * offset and page of m, the walk's WHERE again, its page, and the
     * tail's three */
    push_arg(l, off);
    push_arg(l, lim);
    push_arg(l, off);
    for (i = 0; i < nwhere; i++) {
        push_arg(l, APR_ARRAY_IDX(l->args, i, const char *));
    }
    push_arg(l, lim);
    push_arg(l, off);
    push_arg(l, maxn);
    push_arg(l, maxn);
    push_arg(l, maxn);
    return apr_pstrcat(l->pool,
        "WITH m AS MATERIALIZED (SELECT ", keys, l->def->from, where,
        " LIMIT ", cap, "), c AS (SELECT count(*) AS n FROM m),"
        " p AS ((", row, " + CAST(%s AS bigint) AS n", l->def->from,
        " WHERE ", id, " IN (SELECT s.k",
        apr_itoa(l->pool, n - 1), " FROM (SELECT * FROM m ORDER BY ",
        m_order_sql(l), " LIMIT CAST(%s AS bigint) OFFSET CAST(%s AS bigint))"
        " s) AND (SELECT c.n FROM c) < ", cap, " ORDER BY ", order, ")"
        " UNION ALL (", row, " AS n", l->def->from, where,
        " AND (SELECT c.n FROM c) >= ", cap,
        " ORDER BY ", order,
        " LIMIT CAST(%s AS bigint) OFFSET CAST(%s AS bigint)))"
        " SELECT coalesce((SELECT json_agg(p.j ORDER BY p.n) FROM p"
        " WHERE p.n <= CAST(%s AS bigint)), '[]'::json),"
        " (SELECT p.k FROM p WHERE p.n = CAST(%s AS bigint)"
        " AND EXISTS (SELECT 1 FROM p q WHERE q.n > CAST(%s AS bigint))),"
        " (SELECT c.n FROM c)", NULL);
}

/* The page statement; binds everything after the WHERE arguments. */
static const char *page_sql(lcrm_list_t *l, int *exact)
{
    const char *order = lcrm_list_order_sql(l), *keyset = "", *maxn, *count;
    const char *id, *const *cargs;
    int nwhere = l->args->nelts, ncargs;

    if (l->narrow && !l->cursor
        && !(l->def->exact_count && l->def->exact_count(l, &cargs, &ncargs))) {
        *exact = 0;
        return narrow_page_sql(l);
    }
    if (l->cursor) {
        keyset = keyset_sql(l);
    }
    push_arg(l, i64(l->pool, l->page.limit + 1));
    push_arg(l, i64(l->pool, l->cursor ? 0 : l->page.offset));
    maxn = i64(l->pool, (l->cursor ? 0 : l->page.offset) + l->page.limit);
    push_arg(l, maxn);
    push_arg(l, maxn);
    push_arg(l, maxn);
    *exact = 0;
    count = count_sql(l, nwhere, exact);
    /* deferred join: p walks the sort's index for the ids only (an
     * index-only scan where the sort has an index), r renders the page's
     * rows, fetched by id.  Rendering inside the OFFSET scan rendered
     * every row it passed over (page 900 of 20,000 leads: 0.6 s, most of
     * it JSON thrown away; the heap visit per skipped row was most of the
     * rest) */
    id = l->sort->keys[nkeys(l->sort) - 1].expr;
    return apr_pstrcat(l->pool,
        "WITH p AS (SELECT ", id, " AS id_, row_number() OVER (ORDER BY ",
        order, ") AS n_", l->def->from, l->where, keyset, " ORDER BY ", order,
        " LIMIT CAST(%s AS bigint) OFFSET CAST(%s AS bigint)),"
        " r AS (SELECT ", l->def->row_json, " AS j, ", keys_json_sql(l),
        " AS k_, p.n_ FROM p JOIN", l->def->from + strlen(" FROM"), " ON ",
        id, " = p.id_)"
        " SELECT coalesce((SELECT json_agg(r.j ORDER BY r.n_) FROM r"
        " WHERE r.n_ <= CAST(%s AS bigint)), '[]'::json),"
        " (SELECT r.k_ FROM r WHERE r.n_ = CAST(%s AS bigint)"
        " AND EXISTS (SELECT 1 FROM r q WHERE q.n_ > CAST(%s AS bigint))), ",
        count, NULL);
}

/* {"data":..,"pagination":{..}} from the statement's row. */
static const char *envelope(lcrm_list_t *l, const lcrm_row_t *row,
                            int exact_count)
{
    const char *next = row->cols[1] ? cursor_make(l, row->cols[1]) : NULL;
    const char *nc = next ? apr_pstrcat(l->pool, "\"", next, "\"", NULL)
                          : "null";
    apr_int64_t total, lim = l->page.limit;

    if (l->cursor) {
        return apr_psprintf(l->pool, "{\"data\":%s,\"pagination\":{\"limit\":%"
                            APR_INT64_T_FMT ",\"nextCursor\":%s}}",
                            row->cols[0], lim, nc);
    }
    total = row->cols[2] ? apr_atoi64(row->cols[2]) : 0;
    return apr_psprintf(l->pool, "{\"data\":%s,\"pagination\":{\"page\":%"
        APR_INT64_T_FMT ",\"limit\":%" APR_INT64_T_FMT ",\"total\":%"
        APR_INT64_T_FMT ",\"totalPages\":%" APR_INT64_T_FMT
        ",\"totalIsExact\":%s,\"nextCursor\":%s}}", row->cols[0],
        l->page.page, lim, total, (total + lim - 1) / lim,
        exact_count || total < LCRM_LIST_COUNT_CAP ? "true" : "false", nc);
}

void lcrm_list_cache(lcrm_list_t *l, char kind)
{
    l->cache = kind;
}

/*
 * Everything the answer depends on besides the data: the endpoint, the
 * statement and its arguments (filters, visibility, sort, page, limit,
 * cursor keys), the page number, the filters as sent (the next cursor
 * carries them) and the key that signs cursors (as a cursor it signed).
 */
static int cache_lookup(lcrm_list_t *l, lcrm_listcache_t *lc,
                        const char *sql)
{
    const lcrm_key_t *key = l->ctx->sc->key;
    const apr_array_header_t *used = apr_table_elts(l->used);
    const apr_table_entry_t *e = (const apr_table_entry_t *)used->elts;
    int n = 0, i, max = 5 + l->args->nelts + 2 * used->nelts;
    const char **parts = apr_palloc(l->pool, sizeof(char *) * (apr_size_t)max);

    parts[n++] = l->def->endpoint;
    parts[n++] = sql;
    parts[n++] = i64(l->pool, l->page.page);
    parts[n++] = l->cursor ? "cursor" : "page";
    parts[n++] = lcrm_cursor_sign(l->pool, key->bytes, key->len,
                                  "LeadCRMCache", l->def->endpoint);
    for (i = 0; i < l->args->nelts; i++) {
        parts[n++] = APR_ARRAY_IDX(l->args, i, const char *);
    }
    for (i = 0; i < used->nelts; i++) {
        parts[n++] = e[i].key;
        parts[n++] = e[i].val;
    }
    return lcrm_listcache_lookup(l->ctx, lc, l->cache, "list", 1, 0, n,
                                 parts);
}

int lcrm_list_respond(lcrm_list_t *l)
{
    request_rec *r = l->ctx->r;
    lcrm_row_t row;
    lcrm_db_rc_e rc;
    lcrm_listcache_t lc;
    int exact = 0;
    const char *sql = page_sql(l, &exact), *body;

    lc.key = NULL;
    if (l->cache && cache_lookup(l, &lc, sql)) {
        return OK;
    }
    if ((rc = lcrm_db_row(lcrm_db(r), sql, l->args->nelts,
                          (const char *const *)l->args->elts, &row))) {
        return lcrm_ctx_db_problem(l->ctx, (int)rc);
    }
    body = envelope(l, &row, exact);
    lcrm_listcache_store(l->ctx, &lc, body);
    lcrm_no_store(r);
    return lcrm_respond_json(r, HTTP_OK, body);
}
