/*
 * lcrm_token: JWT issue and verification (see lcrm_token.h).
 */
#include "lcrm_token.h"
#include "lcrm_json.h"
#include "lcrm_role.h"
#include "lcrm_secret.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <errno.h>
#include <jwt.h>
#include <stdlib.h>
#include <string.h>

/* Checks the raw header: alg exactly HS256, typ JWT if present; kid. */
static const char *check_header(apr_pool_t *pool, const char *tok,
                                apr_size_t hlen, const char **kid)
{
    apr_size_t jlen;
    const char *json = (const char *)lcrm_base64url_decode(pool, tok, hlen,
                                                             &jlen), *why, *alg,
               *typ;
    json_object *h;

    if (!json || lcrm_json_parse_value(pool, json, jlen, 2, &h, &why)
        || !json_object_is_type(h, json_type_object)) {
        return "malformed header";
    }
    alg = lcrm_json_get_str(h, "alg", NULL);
    if (!alg || strcmp(alg, "HS256")) {
        return "algorithm not allowed";
    }
    typ = lcrm_json_get_str(h, "typ", NULL);
    if (json_object_object_get_ex(h, "typ", NULL) && (!typ || strcmp(typ, "JWT"))) {
        return "bad typ";
    }
    *kid = lcrm_json_get_str(h, "kid", NULL);
    if (json_object_object_get_ex(h, "kid", NULL) && !*kid) {
        return "bad kid";
    }
    *kid = *kid ? apr_pstrdup(pool, *kid) : NULL;
    return NULL;
}

static const lcrm_key_t *choose_key(const lcrm_token_cfg_t *cfg,
                                    const char *kid)
{
    if (!kid) {
        return cfg->kid ? NULL : cfg->key;
    }
    if (cfg->kid && !strcmp(kid, cfg->kid)) {
        return cfg->key;
    }
    if (cfg->previous_key && cfg->previous_kid
        && !strcmp(kid, cfg->previous_kid)) {
        return cfg->previous_key;
    }
    return NULL;
}

/* Reads an integer claim; -1 when missing, -2 when of another type. */
static int int_claim(json_object *c, const char *name, apr_int64_t *v)
{
    json_object *o;
    if (!json_object_object_get_ex(c, name, &o)) {
        return -1;
    }
    if (!json_object_is_type(o, json_type_int)) {
        return -2;
    }
    *v = json_object_get_int64(o);
    return 0;
}

/* Checks the time claims at now. */
static const char *check_times(const lcrm_token_cfg_t *cfg, json_object *c,
                               apr_int64_t now, lcrm_claims_t *cl)
{
    apr_int64_t nbf;
    int r;

    if (int_claim(c, "exp", &cl->exp) || int_claim(c, "iat", &cl->iat)) {
        return "exp and iat must be integers";
    }
    if ((r = int_claim(c, "nbf", &nbf)) == -2
        || (r == 0 && nbf > now + cfg->leeway)) {
        return "not yet valid";
    }
    if (cl->exp <= now - cfg->leeway) {
        return "expired";
    }
    if (cl->iat > now + cfg->leeway) {
        return "issued in the future";
    }
    /* iat < exp - ttl, not exp - iat > ttl: that overflows (UB, and with
     * wrap-around a huge lifetime looks negative and passes) for an iat
     * near INT64_MIN; exp - ttl cannot, exp is recent here */
    if (cl->exp <= cl->iat || cl->iat < cl->exp - cfg->ttl) {
        return "lifetime longer than allowed";
    }
    return NULL;
}

/* Checks iss/aud/sub/sid/role/jti from the claims JSON. */
static const char *check_claims(apr_pool_t *pool, const lcrm_token_cfg_t *cfg,
                                const char *json, apr_int64_t now,
                                lcrm_claims_t *cl)
{
    json_object *c;
    const char *why, *iss, *aud;

    if (lcrm_json_parse_value(pool, json, strlen(json), 4, &c, &why)
        || !json_object_is_type(c, json_type_object)) {
        return "malformed claims";
    }
    if ((why = check_times(cfg, c, now, cl))) {
        return why;
    }
    iss = lcrm_json_get_str(c, "iss", NULL);
    aud = lcrm_json_get_str(c, "aud", NULL);
    if (!iss || strcmp(iss, cfg->issuer) || !aud || strcmp(aud, cfg->audience)) {
        return "wrong issuer or audience";
    }
    cl->sub = lcrm_json_get_str(c, "sub", NULL);
    cl->sid = lcrm_json_get_str(c, "sid", NULL);
    cl->role = lcrm_json_get_str(c, "role", NULL);
    cl->jti = lcrm_json_get_str(c, "jti", NULL);
    if (!cl->sub || !lcrm_is_uuid(cl->sub) || !cl->sid
        || !lcrm_is_uuid(cl->sid) || !cl->role || lcrm_role_parse(cl->role) < 0
        || !cl->jti) {
        return "missing or malformed sub, sid, role or jti";
    }
    cl->sub = lcrm_uuid_lower(pool, cl->sub);
    cl->sid = lcrm_uuid_lower(pool, cl->sid);
    cl->role = apr_pstrdup(pool, cl->role);
    cl->jti = apr_pstrdup(pool, cl->jti);
    return NULL;
}

/* Splits into three base64url parts; returns header length or 0. */
static apr_size_t split_token(const char *token, apr_size_t len)
{
    const char *d1 = memchr(token, '.', len), *d2;
    if (!d1) {
        return 0;
    }
    d2 = memchr(d1 + 1, '.', len - (apr_size_t)(d1 + 1 - token));
    if (!d2 || d2 == d1 + 1 || d2 + 1 == token + len
        || memchr(d2 + 1, '.', len - (apr_size_t)(d2 + 1 - token))) {
        return 0;
    }
    return (apr_size_t)(d1 - token);
}

apr_status_t lcrm_token_verify(apr_pool_t *pool, const lcrm_token_cfg_t *cfg,
                               const char *token, apr_size_t len,
                               apr_int64_t now, lcrm_claims_t *claims,
                               const char **why)
{
    apr_size_t hlen;
    const lcrm_key_t *key;
    const char *kid = NULL;
    jwt_t *jwt = NULL;
    char *grants;

    memset(claims, 0, sizeof(*claims));
    if (len == 0 || len > LCRM_TOKEN_MAX_LEN || strlen(token) != len
        || (hlen = split_token(token, len)) == 0) {
        *why = "malformed token";
        return APR_EINVAL;
    }
    if ((*why = check_header(pool, token, hlen, &kid))) {
        return APR_EINVAL;
    }
    if (!(key = choose_key(cfg, kid))) {
        *why = "unknown key id";
        return APR_EINVAL;
    }
    if (jwt_decode(&jwt, token, key->bytes, (int)key->len) != 0 || !jwt
        || jwt_get_alg(jwt) != JWT_ALG_HS256) {
        jwt_free(jwt);
        *why = "bad signature";
        return APR_EINVAL;
    }
    grants = jwt_get_grants_json(jwt, NULL);
    jwt_free(jwt);
    if (!grants) {
        *why = "malformed claims";
        return APR_EINVAL;
    }
    *why = check_claims(pool, cfg, grants, now, claims);
    free(grants);
    return *why ? APR_EINVAL : APR_SUCCESS;
}

apr_status_t lcrm_token_issue(apr_pool_t *pool, const lcrm_token_cfg_t *cfg,
                              apr_int64_t now, lcrm_claims_t *claims,
                              const char **token)
{
    jwt_t *jwt = NULL;
    char *out;
    apr_status_t rv;

    if ((rv = lcrm_random_token(pool, 16, &claims->jti)) != APR_SUCCESS) {
        return rv;
    }
    claims->iat = now;
    claims->exp = now + cfg->ttl;
    if (jwt_new(&jwt) != 0) {
        return APR_ENOMEM;
    }
    if (jwt_set_alg(jwt, JWT_ALG_HS256, cfg->key->bytes, (int)cfg->key->len)
        || (cfg->kid && jwt_add_header(jwt, "kid", cfg->kid))
        || jwt_add_grant(jwt, "sub", claims->sub)
        || jwt_add_grant(jwt, "role", claims->role)
        || jwt_add_grant(jwt, "sid", claims->sid)
        || jwt_add_grant(jwt, "jti", claims->jti)
        || jwt_add_grant(jwt, "iss", cfg->issuer)
        || jwt_add_grant(jwt, "aud", cfg->audience)
        || jwt_add_grant_int(jwt, "iat", (long)claims->iat)
        || jwt_add_grant_int(jwt, "exp", (long)claims->exp)
        || !(out = jwt_encode_str(jwt))) {
        jwt_free(jwt);
        return APR_EGENERAL;
    }
    jwt_free(jwt);
    *token = apr_pstrdup(pool, out);
    free(out);
    return APR_SUCCESS;
}
