/*
 * lcrm_listcache: cached list answers (see lcrm_listcache.h).  One
 * statement reads the list version and the database clock; the key is
 * lcrm_cache_key("<ns>", "<kind><version>", scope + parts); a hit is
 * answered exactly as the SQL path answers (200, no-store, the same body).
 */
#include "lcrm_listcache.h"
#include "lcrm_authn.h"
#include "lcrm_cache.h"
#include "lcrm_cachekey.h"
#include "lcrm_db.h"
#include "lcrm_http.h"
#include "lcrm_role.h"

#include <apr_strings.h>

static const char *const sql_version =
    "SELECT lcrm_list_version(CAST(%s AS \"char\"))::text,"
    " floor(extract(epoch FROM now()) * 1000000)::bigint::text";

/* The caller's visibility: role, and the user id of a USER. */
static void scope_parts(const lcrm_ctx_t *ctx, const char **out)
{
    const lcrm_caller_t *c = ctx->caller;

    if (!c->authenticated) {
        out[0] = "anonymous";
        out[1] = NULL;
        return;
    }
    out[0] = lcrm_role_name(c->role);
    out[1] = c->role < LCRM_ROLE_ADMIN ? c->user_id : NULL;
}

int lcrm_listcache_lookup(lcrm_ctx_t *ctx, lcrm_listcache_t *lc, char kind,
                          const char *ns, int scoped, int framed,
                          int nparts, const char *const *parts)
{
    request_rec *r = ctx->r;
    const char *args[1], **all, *val, *body;
    char k[2];
    lcrm_row_t row;

    lc->key = NULL;
    lc->now_us = 0;
    if (!lcrm_cache_on(r)) {
        return 0;
    }
    k[0] = kind;
    k[1] = '\0';
    args[0] = k;
    if (lcrm_db_row(lcrm_db(r), sql_version, 1, args, &row)
        || row.ncols < 2 || !row.cols[0] || !row.cols[1]) {
        return 0;
    }
    lc->now_us = apr_atoi64(row.cols[1]);
    all = apr_palloc(r->pool, sizeof(char *) * (apr_size_t)(nparts + 2));
    if (scoped) {
        scope_parts(ctx, all);
    }
    else {
        all[0] = all[1] = "";
    }
    memcpy(all + 2, parts, sizeof(char *) * (apr_size_t)nparts);
    lc->key = lcrm_cache_key(r->pool, ns, apr_pstrcat(r->pool, k,
                             row.cols[0], NULL), all, nparts + 2);
    if (!lc->key || !(val = lcrm_cache_get(r, lc->key))) {
        return 0;
    }
    body = framed ? lcrm_cache_unframe(val, lc->now_us) : val;
    if (!body) {
        return 0;
    }
    lcrm_no_store(r);
    lcrm_respond_json(r, HTTP_OK, body);
    return 1;
}

void lcrm_listcache_store(lcrm_ctx_t *ctx, const lcrm_listcache_t *lc,
                          const char *json)
{
    if (lc->key && json) {
        lcrm_cache_put(ctx->r, lc->key, json, LCRM_LISTCACHE_TTL);
    }
}

void lcrm_listcache_store_until(lcrm_ctx_t *ctx, const lcrm_listcache_t *lc,
                                const char *json, const char *until_us)
{
    apr_interval_time_t ttl = LCRM_LISTCACHE_TTL;
    apr_int64_t until;

    if (!lc->key || !json) {
        return;
    }
    if (until_us) {
        until = apr_atoi64(until_us);
        if (until <= lc->now_us) {
            return;
        }
        ttl = until - lc->now_us < ttl ? until - lc->now_us : ttl;
    }
    else {
        /* nothing ahead changes it with time: good until the TTL */
        until = lc->now_us + ttl;
    }
    lcrm_cache_put(ctx->r, lc->key, lcrm_cache_frame(ctx->r->pool, until,
                                                     json), ttl);
}
