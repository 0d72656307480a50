/*
 * lcrm_keys: scoped API keys (API.md part 2 "API keys"), the leadcrm-keys
 * family at /api/keys.
 *
 * A key is "lcrm_" + 43 random characters of [A-Za-z0-9] (256 bits),
 * shown once at creation; the database keeps its SHA-256 (enough for a
 * high-entropy secret, and as cheap to check as a JWT: one indexed
 * lookup, lcrm_authn) and its first 12 characters as "prefix".  A key acts
 * as its owner with at most its scopes and the owner's current role
 * (checked on every request by lcrm_authn and the router).  Keys cannot
 * manage keys: every route here needs a login session.
 */
#include "lcrm_api.h"
#include "lcrm_db.h"
#include "lcrm_fields.h"
#include "lcrm_http.h"
#include "lcrm_json.h"
#include "lcrm_list.h"
#include "lcrm_private.h"
#include "lcrm_query.h"
#include "lcrm_role.h"
#include "lcrm_router.h"
#include "lcrm_secret.h"
#include "lcrm_security.h"
#include "lcrm_totp.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <http_protocol.h>

/* ---- SQL ------------------------------------------------------------------ */

static const char *const sql_create =
    "SELECT lcrm_apikey_create(CAST(lcrm_actx(%s, %s) AS uuid), %s, %s, %s,"
    " string_to_array(%s, ' '), CAST(%s AS timestamptz))";
static const char *const sql_get =
    "SELECT lcrm_apikey_json(k) FROM api_keys k WHERE k.id = CAST(%s AS uuid)"
    " AND k.revoked_at IS NULL"
    " AND (CAST(%s AS boolean) OR k.user_id = CAST(%s AS uuid))";
static const char *const sql_revoke =
    "SELECT lcrm_apikey_revoke(CAST(lcrm_actx(%s, %s) AS uuid),"
    " CAST(%s AS uuid), CAST(%s AS boolean))";

static const lcrm_field_t create_fields[] = {
    {"name", LCRM_FK_TEXT, LCRM_F_REQUIRED, 1, 100, NULL},
    {"expiresAt", LCRM_FK_TIMESTAMP, LCRM_F_NULLABLE, 0, 64, NULL},
    {"password", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 1024, NULL},
};
#define NCREATE ((int)(sizeof(create_fields) / sizeof(create_fields[0])))

static const char *const list_query[] = {"page", "limit", "cursor", "userId",
                                        NULL};

/*
 * GET /api/keys through the list toolkit: live (unrevoked) keys, newest
 * first, ties by id.  userId is a filter (so it travels in a cursor); the
 * owner scope is added from the caller on every request, never taken from
 * a cursor.
 */
static const lcrm_list_filter_t list_filters[] = {
    {"userId", " AND k.user_id = CAST(%s AS uuid)", 1, lcrm_list_uuid},
};
static const lcrm_list_sort_t list_sorts[] = {
    {"-createdAt", {{"k.created_at", "timestamptz", 1, 0},
                    {"k.id", "uuid", 1, 0}, {NULL}}},
};
static const lcrm_list_def_t keys_list_def = {
    "GET /api/keys", " FROM api_keys k", " WHERE k.revoked_at IS NULL",
    "lcrm_apikey_json(k)", list_filters,
    (int)(sizeof(list_filters) / sizeof(list_filters[0])), list_sorts,
    (int)(sizeof(list_sorts) / sizeof(list_sorts[0])), NULL, NULL, NULL, 1
};

/*
 * Takes "scopes" out of the body and checks it: a non-empty array of
 * distinct known scopes whose routes the owner's role may use.  Returns
 * the space-separated list, or NULL with an error added.
 */
static const char *take_scopes(lcrm_ctx_t *ctx, apr_array_header_t *errors)
{
    json_object *arr;
    const char *list = NULL;
    unsigned seen = 0;
    size_t i, n;

    if (!json_object_object_get_ex(ctx->body, "scopes", &arr)) {
        lcrm_fields_error(errors, "scopes", "is required");
        return NULL;
    }
    json_object_get(arr);
    json_object_object_del(ctx->body, "scopes");
    lcrm_json_own(ctx->r->pool, arr);
    if (!json_object_is_type(arr, json_type_array)
        || (n = json_object_array_length(arr)) == 0 || n > 16) {
        lcrm_fields_error(errors, "scopes", "must be a non-empty array of "
                                            "scope names");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        const char *name = json_object_is_type(v, json_type_string)
                               ? json_object_get_string(v) : "";
        int scope = lcrm_scope_parse(name);
        if (!scope || (seen & (1u << scope))
            || lcrm_scope_min_role(scope) > ctx->caller->role) {
            lcrm_fields_error(errors, "scopes", apr_psprintf(ctx->r->pool,
                "unknown, repeated or not allowed for your role: %.40s",
                scope ? name : "(unknown)"));
            return NULL;
        }
        seen |= 1u << scope;
        list = list ? apr_pstrcat(ctx->r->pool, list, " ", name, NULL) : name;
    }
    return list;
}

/* expiresAt: in the future and within LeadCRMAPIKeyMaxLifetime. */
static const char *check_expiry(lcrm_ctx_t *ctx, const char *v,
                                apr_array_header_t *errors)
{
    apr_time_t now = apr_time_now(), t;
    apr_time_t max = now + apr_time_from_sec(lcrm_conf_key_max_lifetime(
                                                 ctx->sc));

    if (!v) {
        return lcrm_format_rfc3339(ctx->r->pool, max);
    }
    if (lcrm_parse_rfc3339(v, &t) || t <= now || t > max) {
        lcrm_fields_error(errors, "expiresAt", "must lie in the future and "
                          "within the longest key lifetime");
        return NULL;
    }
    return v;
}

static int keys_create(lcrm_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    apr_array_header_t *errors = apr_array_make(r->pool, 2,
                                                sizeof(lcrm_field_error_t));
    const char *scopes = take_scopes(ctx, errors), *expires, *key, *args[7];
    const char *json;
    json_object *o;
    lcrm_fields_t f;
    lcrm_db_rc_e rc;

    if (lcrm_fields_extract(r->pool, ctx->body, create_fields, NCREATE, &f)) {
        apr_array_cat(f.errors, errors);
        return lcrm_ctx_invalid(ctx, f.errors);
    }
    expires = check_expiry(ctx, f.values[1], errors);
    if (errors->nelts) {
        return lcrm_ctx_invalid(ctx, errors);
    }
    if (lcrm_sec_check_password(ctx, f.values[2], NULL)) {
        return OK;
    }
    if (lcrm_apikey_new(r->pool, &key)) {
        return lcrm_problem(r, "internal_error", "no randomness");
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = ctx->caller->user_id;
    args[2] = f.values[0];
    args[3] = apr_pstrndup(r->pool, key, LCRM_APIKEY_SHOWN);
    args[4] = lcrm_sha256_hex(r->pool, key, strlen(key));
    args[5] = scopes;
    args[6] = expires;
    if ((rc = lcrm_db_value(lcrm_db(r), sql_create, 7, args, &json))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (lcrm_json_parse_value(r->pool, json, strlen(json), 4, &o, &args[0])) {
        return lcrm_problem(r, "internal_error", "bad key row");
    }
    json_object_object_add(o, "key", json_object_new_string(key));
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, LCRM_LOGNO(01630)
                  "API key %s created by %s", lcrm_json_get_str(o, "id", NULL), ctx->caller->user_id);
    apr_table_setn(r->err_headers_out, "Location", apr_pstrcat(
        r->pool, "/api/keys/", lcrm_json_get_str(o, "id", NULL), NULL));
    lcrm_no_store(r);
    return lcrm_respond_obj(r, HTTP_CREATED, o);
}

static int keys_list(lcrm_ctx_t *ctx)
{
    lcrm_list_t l;

    if (lcrm_list_begin(&l, ctx, &keys_list_def)) {
        return OK;
    }
    if (lcrm_list_has(&l, "userId")) {
        /* from the query or from a cursor: either way the caller decides */
        if (ctx->caller->role != LCRM_ROLE_SUPER_ADMIN) {
            return lcrm_problem(ctx->r, "forbidden",
                                "userId is for super admins");
        }
    }
    else {
        lcrm_list_scope(&l, " AND k.user_id = CAST(%s AS uuid)",
                        ctx->caller->user_id);
    }
    return lcrm_list_respond(&l);
}

static const char *is_super(lcrm_ctx_t *ctx)
{
    return ctx->caller->role == LCRM_ROLE_SUPER_ADMIN ? "true" : "false";
}

static int keys_get(lcrm_ctx_t *ctx)
{
    const char *args[3];

    if (!(args[0] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(ctx->r, "not_found", "no such API key");
    }
    args[1] = is_super(ctx);
    args[2] = ctx->caller->user_id;
    return lcrm_ctx_json_query(ctx, sql_get, 3, args, "not_found",
                               "no such API key");
}

static int keys_revoke(lcrm_ctx_t *ctx)
{
    const char *args[4], *done;
    lcrm_db_rc_e rc;

    if (!(args[2] = lcrm_ctx_uuid_param(ctx, 0))) {
        return lcrm_problem(ctx->r, "not_found", "no such API key");
    }
    args[0] = lcrm_ctx_audit(ctx);
    args[1] = ctx->caller->user_id;
    args[3] = is_super(ctx);
    if ((rc = lcrm_db_value(lcrm_db(ctx->r), sql_revoke, 4, args, &done))) {
        return lcrm_ctx_db_problem(ctx, (int)rc);
    }
    if (*done != 't') {
        return lcrm_problem(ctx->r, "not_found", "no such API key");
    }
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, ctx->r, LCRM_LOGNO(01631)
                  "API key %s revoked by %s", args[2], ctx->caller->user_id);
    return lcrm_respond_no_content(ctx->r);
}

static const lcrm_route_t key_routes[] = {
    LCRM_ENDPOINT("POST", "/api/keys", keys_create,
                  LCRM_RF_AUTH | LCRM_RF_BODY, NULL),
    LCRM_ENDPOINT("GET", "/api/keys", keys_list, LCRM_RF_AUTH, list_query),
    LCRM_ENDPOINT("GET", "/api/keys/:id", keys_get, LCRM_RF_AUTH, NULL),
    LCRM_ENDPOINT("DELETE", "/api/keys/:id", keys_revoke, LCRM_RF_AUTH, NULL),
};

const lcrm_family_t lcrm_keys_family = {
    "leadcrm-keys", key_routes, (int)(sizeof(key_routes) / sizeof(key_routes[0]))
};
