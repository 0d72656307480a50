/*
 * lcrm_config: LeadCRM* directives (see lcrm_config.h and the directive
 * table in README.md).  Every value is validated when httpd parses it, so
 * `apachectl -t` reports a bad value with the directive's name; rules that
 * span directives live in lcrm_check_config.
 */
#include "lcrm_config.h"
#include "lcrm_private.h"
#include "lcrm_password.h"
#include "lcrm_monitor.h"
#include "lcrm_cache.h"
#include "lcrm_role.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <http_core.h>

#define DEFAULT_ISSUER "leadcrm"
#define DEFAULT_AUDIENCE "leadcrm-api"
#define DEFAULT_ACCESS_TTL 900
#define DEFAULT_REFRESH_TTL 604800
#define DEFAULT_REFRESH_GRACE 10
#define DEFAULT_LEEWAY 30
#define DEFAULT_COOKIE "leadcrm_refresh"
#define DEFAULT_MAX_BODY 65536
#define DEFAULT_TIME_ZONE "UTC"
#define DEFAULT_HORIZON (180 * 86400)

/* ---- records and merges ------------------------------------------------ */

void *lcrm_create_server_conf(apr_pool_t *p, server_rec *s)
{
    lcrm_server_conf_t *sc = apr_pcalloc(p, sizeof(*sc));
    sc->access_ttl = sc->refresh_ttl = sc->refresh_grace = LCRM_UNSET;
    sc->leeway = sc->booking_notice = sc->booking_horizon = LCRM_UNSET;
    sc->bcrypt_cost = sc->cookie_secure = sc->rl_slots = LCRM_UNSET;
    sc->rl_v6prefix = LCRM_UNSET;
    sc->sec.require_mfa = LCRM_UNSET;
    sc->sec.key_max_lifetime = sc->sec.audit_retention = LCRM_UNSET;
    sc->sec.purge_interval = LCRM_UNSET;
    lcrm_mail_conf_init(&sc->mail);
    return sc;
}

#define MERGE_PTR(f) m->f = add->f ? add->f : base->f
#define MERGE_NUM(f) m->f = add->f != LCRM_UNSET ? add->f : base->f

void *lcrm_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    lcrm_server_conf_t *base = basev, *add = addv;
    lcrm_server_conf_t *m = apr_pcalloc(p, sizeof(*m));

    if (add->secret_path) {
        m->secret_path = add->secret_path;
        m->key = add->key;
        m->kid = add->kid;
    }
    else {
        m->secret_path = base->secret_path;
        m->key = base->key;
        m->kid = base->kid;
    }
    if (add->previous_path) {
        m->previous_path = add->previous_path;
        m->previous_key = add->previous_key;
        m->previous_kid = add->previous_kid;
    }
    else {
        m->previous_path = base->previous_path;
        m->previous_key = base->previous_key;
        m->previous_kid = base->previous_kid;
    }
    if (add->data_key_path) {
        m->data_key_path = add->data_key_path;
        m->data_key = add->data_key;
    }
    else {
        m->data_key_path = base->data_key_path;
        m->data_key = base->data_key;
    }
    MERGE_PTR(issuer);
    MERGE_PTR(audience);
    MERGE_NUM(access_ttl);
    MERGE_NUM(refresh_ttl);
    MERGE_NUM(refresh_grace);
    MERGE_NUM(leeway);
    MERGE_NUM(bcrypt_cost);
    MERGE_PTR(cookie_name);
    MERGE_NUM(cookie_secure);
    MERGE_PTR(cookie_prefix);
    m->hours_set = add->hours_set || base->hours_set;
    m->hours = add->hours_set ? add->hours : base->hours;
    MERGE_PTR(time_zone);
    MERGE_NUM(booking_notice);
    MERGE_NUM(booking_horizon);
    MERGE_NUM(rl_slots);
    MERGE_PTR(rl_store);
    MERGE_NUM(rl_v6prefix);
    m->monitor = base->monitor;     /* main server only */
    m->cache = base->cache;         /* main server only */
    MERGE_NUM(sec.require_mfa);
    MERGE_PTR(sec.mfa_issuer);
    MERGE_NUM(sec.key_max_lifetime);
    MERGE_NUM(sec.audit_retention);
    MERGE_NUM(sec.purge_interval);
    lcrm_mail_conf_merge(&m->mail, &base->mail, &add->mail);
    return m;
}

void *lcrm_create_dir_conf(apr_pool_t *p, char *dir)
{
    lcrm_dir_conf_t *dc = apr_pcalloc(p, sizeof(*dc));
    int i;
    dc->max_body = LCRM_UNSET;
    dc->oidc_link_by_email = dc->oidc_provision = LCRM_UNSET;
    for (i = 0; i < LCRM_RL_CLASSES; i++) {
        dc->rl[i].limit = LCRM_UNSET;
    }
    return dc;
}

void *lcrm_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    lcrm_dir_conf_t *base = basev, *add = addv;
    lcrm_dir_conf_t *m = apr_pcalloc(p, sizeof(*m));

    int i;

    MERGE_PTR(cors_origins);
    MERGE_NUM(max_body);
    for (i = 0; i < LCRM_RL_CLASSES; i++) {
        m->rl[i] = add->rl[i].limit != LCRM_UNSET ? add->rl[i] : base->rl[i];
    }
    MERGE_NUM(oidc_link_by_email);
    MERGE_NUM(oidc_provision);
    MERGE_PTR(oidc_landing);
    return m;
}

/* ---- getters ------------------------------------------------------------ */

const lcrm_aead_ring_t *lcrm_config_data_key(const server_rec *s)
{
    return lcrm_sconf(s)->data_key;
}

const lcrm_server_conf_t *lcrm_sconf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &leadcrm_module);
}

const lcrm_dir_conf_t *lcrm_dconf(const request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &leadcrm_module);
}

#define NUM_GETTER(name, field, def)                                         \
    apr_int64_t lcrm_conf_##name(const lcrm_server_conf_t *sc)               \
    {                                                                        \
        return sc->field != LCRM_UNSET ? sc->field : (def);                  \
    }

NUM_GETTER(access_ttl, access_ttl, DEFAULT_ACCESS_TTL)
NUM_GETTER(refresh_ttl, refresh_ttl, DEFAULT_REFRESH_TTL)
NUM_GETTER(refresh_grace, refresh_grace, DEFAULT_REFRESH_GRACE)
NUM_GETTER(booking_notice, booking_notice, 0)
NUM_GETTER(booking_horizon, booking_horizon, DEFAULT_HORIZON)

apr_int64_t lcrm_conf_max_body(const lcrm_dir_conf_t *dc)
{
    return dc->max_body != LCRM_UNSET ? dc->max_body : DEFAULT_MAX_BODY;
}

const char *lcrm_conf_issuer(const lcrm_server_conf_t *sc)
{
    return sc->issuer ? sc->issuer : DEFAULT_ISSUER;
}

const char *lcrm_conf_audience(const lcrm_server_conf_t *sc)
{
    return sc->audience ? sc->audience : DEFAULT_AUDIENCE;
}

int lcrm_conf_bcrypt_cost(const lcrm_server_conf_t *sc)
{
    return sc->bcrypt_cost != LCRM_UNSET ? sc->bcrypt_cost
                                         : LCRM_BCRYPT_COST_DEFAULT;
}

const char *lcrm_conf_cookie_name(const lcrm_server_conf_t *sc)
{
    return sc->cookie_name ? sc->cookie_name : DEFAULT_COOKIE;
}

int lcrm_conf_cookie_secure(const lcrm_server_conf_t *sc)
{
    return sc->cookie_secure != LCRM_UNSET ? sc->cookie_secure : 1;
}

const char *lcrm_conf_cookie_prefix(const lcrm_server_conf_t *sc)
{
    if (sc->cookie_prefix) {
        return sc->cookie_prefix;
    }
    return lcrm_conf_cookie_secure(sc) ? "__Secure-" : "";
}

const char *lcrm_conf_cookie_full_name(apr_pool_t *p,
                                       const lcrm_server_conf_t *sc)
{
    return apr_pstrcat(p, lcrm_conf_cookie_prefix(sc),
                       lcrm_conf_cookie_name(sc), NULL);
}

const lcrm_hours_t *lcrm_conf_hours(const lcrm_server_conf_t *sc)
{
    static const lcrm_hours_t def = {0x1F, 9 * 60, 17 * 60};
    return sc->hours_set ? &sc->hours : &def;
}

const char *lcrm_conf_time_zone(const lcrm_server_conf_t *sc)
{
    return sc->time_zone ? sc->time_zone : DEFAULT_TIME_ZONE;
}

int lcrm_conf_oidc_link_by_email(const lcrm_dir_conf_t *dc)
{
    return dc->oidc_link_by_email == 1;
}

int lcrm_conf_oidc_provision(const lcrm_dir_conf_t *dc)
{
    return dc->oidc_provision == 1;
}

int lcrm_conf_origin_allowed(const lcrm_dir_conf_t *dc, const char *origin)
{
    int i;
    if (!dc->cors_origins || !origin) {
        return 0;
    }
    for (i = 0; i < dc->cors_origins->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(dc->cors_origins, i, const char *), origin)) {
            return 1;
        }
    }
    return 0;
}

/* ---- directive handlers ------------------------------------------------- */

static lcrm_server_conf_t *cmd_sconf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &leadcrm_module);
}

/* Formats "<Directive> <problem>" so apachectl -t names the directive. */
static const char *bad(cmd_parms *cmd, const char *what)
{
    return apr_pstrcat(cmd->pool, cmd->cmd->name, " ", what, NULL);
}

static const char *load_key(cmd_parms *cmd, const char *path,
                            lcrm_key_t **out)
{
    const char *abs = ap_server_root_relative(cmd->pool, path), *err;
    lcrm_key_t *key = apr_pcalloc(cmd->pool, sizeof(*key));

    if (!abs) {
        return bad(cmd, "has an invalid path");
    }
    if ((err = lcrm_key_load(cmd->pool, abs, key))) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " ", abs, ": ", err,
                           NULL);
    }
    if (key->loose_perms) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                     LCRM_LOGNO(00001) "%s %s is readable by group or others;"
                     " chmod 0400 it", cmd->cmd->name, abs);
    }
    *out = key;
    return NULL;
}

static const char *check_kid(cmd_parms *cmd, const char *kid)
{
    const char *p;
    if (strlen(kid) > 64) {
        return bad(cmd, "key id is longer than 64 characters");
    }
    for (p = kid; *p; p++) {
        if (!apr_isalnum(*p) && *p != '-' && *p != '_' && *p != '.') {
            return bad(cmd, "key id may use only letters, digits, - _ .");
        }
    }
    return NULL;
}

static const char *set_secret(cmd_parms *cmd, void *dc, const char *path,
                              const char *kid)
{
    lcrm_server_conf_t *sc = cmd_sconf(cmd);
    const char *err = kid ? check_kid(cmd, kid) : NULL;
    if (err || (err = load_key(cmd, path, &sc->key))) {
        return err;
    }
    sc->secret_path = path;
    sc->kid = kid;
    return NULL;
}

static const char *set_previous_secret(cmd_parms *cmd, void *dc,
                                       const char *path, const char *kid)
{
    lcrm_server_conf_t *sc = cmd_sconf(cmd);
    const char *err = check_kid(cmd, kid);
    if (err || (err = load_key(cmd, path, &sc->previous_key))) {
        return err;
    }
    sc->previous_path = path;
    sc->previous_kid = kid;
    return NULL;
}

/* LeadCRMDataKeyFile: the AES-256-GCM keyring, read and parsed here so
 * that apachectl -t refuses a missing, unreadable or malformed file. */
static const char *set_data_key(cmd_parms *cmd, void *dc, const char *path)
{
    lcrm_server_conf_t *sc = cmd_sconf(cmd);
    lcrm_key_t *file;
    const char *err = load_key(cmd, path, &file), *why;

    if (err) {
        return err;
    }
    if (lcrm_aead_ring_parse(cmd->pool, (const char *)file->bytes, file->len,
                             &sc->data_key, &why) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " ", path, ": ", why,
                           NULL);
    }
    sc->data_key_path = path;
    return NULL;
}

static int printable_ascii(const char *v)
{
    for (; *v; v++) {
        if (*v < 0x21 || *v > 0x7E) {
            return 0;
        }
    }
    return 1;
}

static const char *set_claim(cmd_parms *cmd, void *dc, const char *v)
{
    lcrm_server_conf_t *sc = cmd_sconf(cmd);
    const char *err = NULL;
    if (!*v || strlen(v) > 200 || !printable_ascii(v)) {
        return bad(cmd, "must be 1..200 printable characters");
    }
    if (!strcmp(cmd->cmd->name, "LeadCRMJWTIssuer")) {
        sc->issuer = v;
    }
    else {
        sc->audience = v;
    }
    return err;
}

/* Duration directives: cmd->info holds the field offset and bounds. */
typedef struct {
    apr_size_t offset;
    apr_int64_t min, max;
} duration_spec_t;

static const char *set_duration(cmd_parms *cmd, void *dc, const char *v)
{
    const duration_spec_t *spec = cmd->info;
    apr_int64_t secs;
    const char *err = lcrm_parse_duration(v, spec->min, spec->max, &secs);
    if (err) {
        return apr_psprintf(cmd->pool, "%s %s (expected e.g. 900, 15m, 7d;"
                            " %" APR_INT64_T_FMT "..%" APR_INT64_T_FMT " s)",
                            cmd->cmd->name, err, spec->min, spec->max);
    }
    *(apr_int64_t *)((char *)cmd_sconf(cmd) + spec->offset) = secs;
    return NULL;
}

static const char *set_bcrypt_cost(cmd_parms *cmd, void *dc, const char *v)
{
    apr_int64_t cost;
    if (lcrm_parse_int(v, LCRM_BCRYPT_COST_MIN, LCRM_BCRYPT_COST_MAX, &cost)) {
        return bad(cmd, "must be an integer from 10 to 17");
    }
    cmd_sconf(cmd)->bcrypt_cost = (int)cost;
    return NULL;
}

static const char *set_cookie_name(cmd_parms *cmd, void *dc, const char *v)
{
    const char *p;
    if (!*v || strlen(v) > 64) {
        return bad(cmd, "must be 1..64 characters");
    }
    for (p = v; *p; p++) {
        if (!apr_isalnum(*p) && *p != '_' && *p != '-' && *p != '.') {
            return bad(cmd, "may use only letters, digits, _ - .");
        }
    }
    cmd_sconf(cmd)->cookie_name = v;
    return NULL;
}

static const char *set_cookie_secure(cmd_parms *cmd, void *dc, int on)
{
    cmd_sconf(cmd)->cookie_secure = on;
    return NULL;
}

static const char *set_cookie_prefix(cmd_parms *cmd, void *dc, const char *v)
{
    if (!strcmp(v, "__Secure-") || !strcmp(v, "__Host-")) {
        cmd_sconf(cmd)->cookie_prefix = v;
    }
    else if (!strcmp(v, "none")) {
        cmd_sconf(cmd)->cookie_prefix = "";
    }
    else {
        return bad(cmd, "must be __Secure-, __Host- or none");
    }
    return NULL;
}

/* An origin is scheme://host[:port] with nothing after it. */
static const char *check_origin(cmd_parms *cmd, const char *o)
{
    const char *host, *p;
    if (!strcmp(o, "*") || !strcasecmp(o, "null")) {
        return bad(cmd, "never allows * or null (credentials are used)");
    }
    if (!strncmp(o, "https://", 8)) {
        host = o + 8;
    }
    else if (!strncmp(o, "http://", 7)) {
        host = o + 7;
    }
    else {
        return bad(cmd, "takes origins like https://www.example.com");
    }
    if (!*host) {
        return bad(cmd, "origin has no host");
    }
    for (p = host; *p; p++) {
        if (!apr_isalnum(*p) && !strchr("-.:[]", *p)) {
            return bad(cmd, "origin must be scheme://host[:port] exactly");
        }
    }
    return NULL;
}

static const char *add_cors_origin(cmd_parms *cmd, void *dcv, const char *o)
{
    lcrm_dir_conf_t *dc = dcv;
    const char *err;

    /* "none": no origin here, whatever an enclosing section allows */
    if (!strcmp(o, "none")) {
        dc->cors_origins = apr_array_make(cmd->pool, 1, sizeof(const char *));
        return NULL;
    }
    if ((err = check_origin(cmd, o))) {
        return err;
    }
    if (!dc->cors_origins) {
        dc->cors_origins = apr_array_make(cmd->pool, 4, sizeof(const char *));
    }
    APR_ARRAY_PUSH(dc->cors_origins, const char *) = o;
    return NULL;
}

static const char *set_max_body(cmd_parms *cmd, void *dcv, const char *v)
{
    lcrm_dir_conf_t *dc = dcv;
    if (lcrm_parse_size(v, 1024, 10 * 1048576, &dc->max_body)) {
        return bad(cmd, "must be a size from 1k to 10M (e.g. 64k)");
    }
    return NULL;
}

static const char *set_hours(cmd_parms *cmd, void *dc, const char *days,
                             const char *times)
{
    lcrm_server_conf_t *sc = cmd_sconf(cmd);
    const char *err = lcrm_parse_hours(
        apr_pstrcat(cmd->pool, days, " ", times, NULL), &sc->hours);
    if (err) {
        return bad(cmd, apr_pstrcat(cmd->pool, err,
                                    " (e.g. Mon-Fri 09:00-17:00)", NULL));
    }
    sc->hours_set = 1;
    return NULL;
}

static const char *set_time_zone(cmd_parms *cmd, void *dc, const char *v)
{
    const char *p;
    apr_finfo_t fi;
    if (!*v || strlen(v) > 64 || strstr(v, "..") || *v == '/') {
        return bad(cmd, "must be an IANA time zone name such as Europe/Paris");
    }
    for (p = v; *p; p++) {
        if (!apr_isalnum(*p) && !strchr("/_+-", *p)) {
            return bad(cmd, "must be an IANA time zone name such as Europe/Paris");
        }
    }
    if (strcmp(v, "UTC")
        && apr_stat(&fi, apr_pstrcat(cmd->temp_pool, "/usr/share/zoneinfo/",
                                     v, NULL), APR_FINFO_TYPE, cmd->temp_pool)
               != APR_SUCCESS) {
        return bad(cmd, "names an unknown time zone");
    }
    cmd_sconf(cmd)->time_zone = v;
    return NULL;
}

/* ---- OpenID Connect sign-in (LeadCRMOIDC*) ---- */

static const char *set_oidc_flag(cmd_parms *cmd, void *dcv, int on)
{
    lcrm_dir_conf_t *dc = dcv;
    if (!strcmp(cmd->cmd->name, "LeadCRMOIDCLinkByEmail")) {
        dc->oidc_link_by_email = on;
    }
    else {
        dc->oidc_provision = on;
    }
    return NULL;
}

static const char *set_oidc_landing(cmd_parms *cmd, void *dcv, const char *v)
{
    const char *err = lcrm_oidc_landing_problem(v);
    if (err) {
        return bad(cmd, err);
    }
    ((lcrm_dir_conf_t *)dcv)->oidc_landing = v;
    return NULL;
}

static const duration_spec_t access_ttl = {
    APR_OFFSETOF(lcrm_server_conf_t, access_ttl), 60, 86400};
static const duration_spec_t refresh_ttl = {
    APR_OFFSETOF(lcrm_server_conf_t, refresh_ttl), 3600, 90 * 86400};
static const duration_spec_t refresh_grace = {
    APR_OFFSETOF(lcrm_server_conf_t, refresh_grace), 0, 60};
static const duration_spec_t leeway = {
    APR_OFFSETOF(lcrm_server_conf_t, leeway), 0, 300};
static const duration_spec_t notice = {
    APR_OFFSETOF(lcrm_server_conf_t, booking_notice), 0, 30 * 86400};
static const duration_spec_t horizon = {
    APR_OFFSETOF(lcrm_server_conf_t, booking_horizon), 86400, 730 * 86400};

/* ---- rate limits (the limiter is handed these; see lcrm_limit.h) ----- */

#define DEFAULT_RL_SLOTS 65536
#define DEFAULT_RL_V6PREFIX 64

static const char *set_rate_rule(cmd_parms *cmd, void *dcv, const char *cls,
                                 const char *count, const char *window)
{
    lcrm_dir_conf_t *dc = dcv;
    int i = lcrm_limit_class(cls);
    apr_int64_t n, w;

    if (i < 0) {
        return apr_pstrcat(cmd->pool, "LeadCRMRateLimit class must be ",
                           lcrm_limit_class_list, NULL);
    }
    if (lcrm_parse_int(count, 0, 1000000, &n)) {
        return "LeadCRMRateLimit count must be 0 (off) .. 1000000";
    }
    if (lcrm_parse_duration(window, 1, 86400, &w)) {
        return "LeadCRMRateLimit window must be a duration of 1s .. 1d";
    }
    dc->rl[i].limit = n;
    dc->rl[i].window = w;
    return NULL;
}

static const char *set_rate_slots(cmd_parms *cmd, void *dc, const char *v)
{
    apr_int64_t n;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err) {
        return err;
    }
    if (lcrm_parse_int(v, 1024, 1 << 24, &n) || (n & (n - 1))) {
        return "LeadCRMRateLimitSlots must be a power of two, 1024 .. 16777216";
    }
    cmd_sconf(cmd)->rl_slots = n;
    return NULL;
}

static const char *set_rate_store(cmd_parms *cmd, void *dc, const char *kind,
                                  const char *servers)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!strcmp(kind, "shm") && !servers) {
        cmd_sconf(cmd)->rl_store = NULL;
        return NULL;
    }
    if (strcmp(kind, "memcache") || !servers) {
        return "LeadCRMRateLimitStore takes shm, or memcache host:port[,...]";
    }
    if ((err = lcrm_limit_check_servers(cmd->temp_pool, servers))) {
        return apr_pstrcat(cmd->pool, "LeadCRMRateLimitStore memcache ",
                           err, NULL);
    }
    cmd_sconf(cmd)->rl_store = servers;
    return NULL;
}

static const char *set_rate_v6prefix(cmd_parms *cmd, void *dc, const char *v)
{
    apr_int64_t n;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (err) {
        return err;
    }
    if (lcrm_parse_int(v, 48, 128, &n)) {
        return "LeadCRMRateLimitIPv6Prefix must be a prefix length, 48 .. 128";
    }
    cmd_sconf(cmd)->rl_v6prefix = n;
    return NULL;
}

lcrm_rl_rule_t lcrm_conf_rate_rule(const request_rec *r, lcrm_rl_class_e cls)
{
    const lcrm_dir_conf_t *dc = lcrm_dconf(r);
    return dc->rl[cls].limit != LCRM_UNSET ? dc->rl[cls]
                                           : lcrm_limit_default_rule(cls);
}

struct lcrm_limiter *lcrm_conf_limiter(const server_rec *s)
{
    return lcrm_sconf(s)->limiter;
}

int lcrm_config_limiter(apr_pool_t *pconf, server_rec *s)
{
    const lcrm_server_conf_t *main = lcrm_sconf(s);
    lcrm_limit_settings_t set;
    struct lcrm_limiter *l;

    set.slots = main->rl_slots != LCRM_UNSET ? (apr_uint32_t)main->rl_slots
                                             : DEFAULT_RL_SLOTS;
    set.mc_servers = main->rl_store;
    set.v6prefix = main->rl_v6prefix != LCRM_UNSET ? (int)main->rl_v6prefix
                                                   : DEFAULT_RL_V6PREFIX;
    if (!(l = lcrm_limit_create(pconf, s, &set))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (; s; s = s->next) {
        lcrm_server_conf_t *sc = ap_get_module_config(s->module_config,
                                                      &leadcrm_module);
        sc->limiter = l;
    }
    return OK;
}
/* ---- account security (MFA, API keys, audit) ------------------------ */

#define DEFAULT_KEY_MAX_LIFETIME (365 * 86400)
#define DEFAULT_AUDIT_RETENTION (365 * 86400)

int lcrm_conf_require_mfa(const lcrm_server_conf_t *sc)
{
    return sc->sec.require_mfa != LCRM_UNSET ? sc->sec.require_mfa : -1;
}

const char *lcrm_conf_mfa_issuer(const lcrm_server_conf_t *sc)
{
    return sc->sec.mfa_issuer ? sc->sec.mfa_issuer : "LeadCRM";
}

apr_int64_t lcrm_conf_key_max_lifetime(const lcrm_server_conf_t *sc)
{
    return sc->sec.key_max_lifetime != LCRM_UNSET ? sc->sec.key_max_lifetime
                                                  : DEFAULT_KEY_MAX_LIFETIME;
}

apr_int64_t lcrm_conf_audit_retention(const lcrm_server_conf_t *sc)
{
    return sc->sec.audit_retention != LCRM_UNSET ? sc->sec.audit_retention
                                                 : DEFAULT_AUDIT_RETENTION;
}

apr_int64_t lcrm_conf_audit_purge_interval(const lcrm_server_conf_t *sc)
{
    return sc->sec.purge_interval != LCRM_UNSET ? sc->sec.purge_interval
                                                : 3600;
}

static const char *set_require_mfa(cmd_parms *cmd, void *dc, const char *v)
{
    int role = lcrm_role_parse(v);
    if (role < 0) {
        return bad(cmd, "takes USER, ADMIN or SUPER_ADMIN (that role and "
                        "those above must use two-factor authentication)");
    }
    cmd_sconf(cmd)->sec.require_mfa = role;
    return NULL;
}

static const char *set_mfa_issuer(cmd_parms *cmd, void *dc, const char *v)
{
    const char *p;
    if (!*v || strlen(v) > 64) {
        return bad(cmd, "must be 1 to 64 characters");
    }
    for (p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == ':' || *p == 0x7f) {
            return bad(cmd, "must not contain ':' or control characters");
        }
    }
    cmd_sconf(cmd)->sec.mfa_issuer = v;
    return NULL;
}

static const duration_spec_t key_max_lifetime = {
    APR_OFFSETOF(lcrm_server_conf_t, sec.key_max_lifetime), 3600,
    3650 * 86400};
static const duration_spec_t audit_retention = {
    APR_OFFSETOF(lcrm_server_conf_t, sec.audit_retention), 30 * 86400,
    36500 * 86400LL};
static const duration_spec_t purge_interval = {
    APR_OFFSETOF(lcrm_server_conf_t, sec.purge_interval), 5, 86400};

#define LCRM_SECURITY_DIRECTIVES                                              \
    AP_INIT_TAKE1("LeadCRMRequireMFA", set_require_mfa, NULL, RSRC_CONF,      \
                  "USER, ADMIN or SUPER_ADMIN: that role and above need MFA"),\
    AP_INIT_TAKE1("LeadCRMMFAIssuer", set_mfa_issuer, NULL, RSRC_CONF,        \
                  "issuer shown by authenticator apps (default LeadCRM)"),    \
    AP_INIT_TAKE1("LeadCRMAPIKeyMaxLifetime", set_duration,                   \
                  (void *)&key_max_lifetime, RSRC_CONF,                       \
                  "longest (and default) API key lifetime (e.g. 365d)"),      \
    AP_INIT_TAKE1("LeadCRMAuditRetention", set_duration,                      \
                  (void *)&audit_retention, RSRC_CONF,                        \
                  "audit entries older than this are purged (>= 30d)"),\
    AP_INIT_TAKE1("LeadCRMAuditPurgeInterval", set_duration,                 \
                  (void *)&purge_interval, RSRC_CONF,                         \
                  "how often the audit purge runs (default 1h)"),

const command_rec lcrm_directives[] = {
    AP_INIT_TAKE12("LeadCRMJWTSecretFile", set_secret, NULL, RSRC_CONF,
                   "file with the HS256 signing key (>= 32 bytes) [key id]"),
    AP_INIT_TAKE2("LeadCRMJWTPreviousSecretFile", set_previous_secret, NULL,
                  RSRC_CONF, "previous key file and its key id (verify only)"),
    AP_INIT_TAKE1("LeadCRMDataKeyFile", set_data_key, NULL, RSRC_CONF,
                  "AES-256-GCM keyring for secrets at rest (ID:BASE64 lines)"),
    AP_INIT_TAKE1("LeadCRMJWTIssuer", set_claim, NULL, RSRC_CONF,
                  "iss claim of access tokens"),
    AP_INIT_TAKE1("LeadCRMJWTAudience", set_claim, NULL, RSRC_CONF,
                  "aud claim of access tokens"),
    AP_INIT_TAKE1("LeadCRMAccessTokenTTL", set_duration, (void *)&access_ttl,
                  RSRC_CONF, "access token lifetime (e.g. 15m)"),
    AP_INIT_TAKE1("LeadCRMRefreshTokenTTL", set_duration,
                  (void *)&refresh_ttl, RSRC_CONF,
                  "absolute login session lifetime (e.g. 7d)"),
    AP_INIT_TAKE1("LeadCRMRefreshGrace", set_duration, (void *)&refresh_grace,
                  RSRC_CONF, "grace for the previous refresh token (0 = off)"),
    AP_INIT_TAKE1("LeadCRMTokenLeeway", set_duration, (void *)&leeway,
                  RSRC_CONF, "clock skew allowed on exp/iat/nbf"),
    AP_INIT_TAKE1("LeadCRMBcryptCost", set_bcrypt_cost, NULL, RSRC_CONF,
                  "bcrypt cost for new hashes, 10..17"),
    AP_INIT_TAKE1("LeadCRMCookieName", set_cookie_name, NULL, RSRC_CONF,
                  "name of the refresh cookie"),
    AP_INIT_FLAG("LeadCRMCookieSecure", set_cookie_secure, NULL, RSRC_CONF,
                 "On: refresh cookie carries Secure (Off for plain-HTTP dev)"),
    AP_INIT_TAKE1("LeadCRMCookiePrefix", set_cookie_prefix, NULL, RSRC_CONF,
                  "__Secure- (default with Secure), __Host- (implies "
                  "Path=/) or none"),
    AP_INIT_ITERATE("LeadCRMCORSOrigin", add_cors_origin, NULL, OR_ALL,
                    "exact origins allowed for CORS with credentials, or none"),
    AP_INIT_TAKE1("LeadCRMMaxBodySize", set_max_body, NULL, OR_ALL,
                  "request body limit (e.g. 64k)"),
    AP_INIT_TAKE2("LeadCRMBusinessHours", set_hours, NULL, RSRC_CONF,
                  "bookable days and hours, e.g. Mon-Fri 09:00-17:00"),
    AP_INIT_TAKE1("LeadCRMTimeZone", set_time_zone, NULL, RSRC_CONF,
                  "IANA time zone of the business hours"),
    AP_INIT_TAKE1("LeadCRMBookingNotice", set_duration, (void *)&notice,
                  RSRC_CONF, "minimum notice for a booking (e.g. 2h)"),
    AP_INIT_TAKE1("LeadCRMBookingHorizon", set_duration, (void *)&horizon,
                  RSRC_CONF, "how far ahead bookings are accepted"),
    AP_INIT_TAKE3("LeadCRMRateLimit", set_rate_rule, NULL, OR_ALL,
                  "class (general, auth, refresh, public-write, "
                  "login-failures, mail, mail-target, mfa-failures, "
                  "login-account-failures), count (0 = off), window"),
    AP_INIT_TAKE1("LeadCRMRateLimitSlots", set_rate_slots, NULL,
                  RSRC_CONF, "size of the shared rate-limit table"),
    AP_INIT_TAKE12("LeadCRMRateLimitStore", set_rate_store, NULL,
                   RSRC_CONF, "shm (one node), or memcache host:port[,...] "
                   "(counters shared by several nodes)"),
    AP_INIT_TAKE1("LeadCRMRateLimitIPv6Prefix", set_rate_v6prefix, NULL,
                  RSRC_CONF, "IPv6 clients share limits per prefix of "
                  "this length (48..128, default 64)"),
    /* answer cache (lcrm_cache.c): main server only */
    AP_INIT_TAKE1("LeadCRMCache", lcrm_cache_set, NULL, RSRC_CONF,
                  "socache provider[:args] for cached stats answers"
                  " (default shmcb when loaded), or none"),
    /* monitoring (lcrm_monitor.c): main server only */
    AP_INIT_TAKE1("LeadCRMSentryDSN", lcrm_monitor_set_dsn, NULL, RSRC_CONF,
                  "Sentry DSN https://KEY@HOST/PROJECT (errors and 5xx)"),
    AP_INIT_FLAG("LeadCRMSentrySendPII", lcrm_monitor_set_pii, NULL,
                 RSRC_CONF, "On: add client address and query string"),
    AP_INIT_TAKE1("LeadCRMSentryEnvironment", lcrm_monitor_set_text, NULL,
                  RSRC_CONF, "Sentry environment (default production)"),
    AP_INIT_TAKE1("LeadCRMSentryRelease", lcrm_monitor_set_text, NULL,
                  RSRC_CONF, "Sentry release (default mod_leadcrm@VERSION)"),
    AP_INIT_TAKE1("LeadCRMServiceName", lcrm_monitor_set_text, NULL,
                  RSRC_CONF, "OTLP service.name (default mod_leadcrm)"),
    AP_INIT_TAKE1("LeadCRMOTLPEndpoint", lcrm_monitor_set_otlp, NULL,
                  RSRC_CONF, "OTLP/HTTP traces URL, e.g. "
                  "http://127.0.0.1:4318/v1/traces"),
    AP_INIT_TAKE1("LeadCRMTraceSampleRatio", lcrm_monitor_set_ratio, NULL,
                  RSRC_CONF, "share of new traces exported, 0 to 1"),
    AP_INIT_TAKE1("LeadCRMMonitorQueueSize", lcrm_monitor_set_queue, NULL,
                  RSRC_CONF, "documents queued per kind before dropping"),
    LCRM_SECURITY_DIRECTIVES
    LCRM_MAIL_DIRECTIVES,
    AP_INIT_FLAG("LeadCRMOIDCLinkByEmail", set_oidc_flag, NULL,
                 RSRC_CONF | ACCESS_CONF, "On: a first OIDC sign-in may link "
                 "the verified USER account with the provider's verified email"),
    AP_INIT_FLAG("LeadCRMOIDCProvision", set_oidc_flag, NULL,
                 RSRC_CONF | ACCESS_CONF, "On: a first OIDC sign-in with an "
                 "unknown email creates a USER account"),
    AP_INIT_TAKE1("LeadCRMOIDCLandingURL", set_oidc_landing, NULL,
                  RSRC_CONF | ACCESS_CONF, "https URL every OIDC sign-in "
                  "redirects to (own origin or a LeadCRMCORSOrigin)"),
    {NULL}
};

/* ---- start-up checks ------------------------------------------------- */

static const char *server_problem(apr_pool_t *p, const lcrm_server_conf_t *sc)
{
    const char *mail_err = lcrm_mail_conf_problem(&sc->mail,
                                                  sc->data_key != NULL);
    if (mail_err) {
        return mail_err;
    }
    if (!sc->key) {
        return "LeadCRMJWTSecretFile is required (a file of >= 32 random bytes)";
    }
    if (sc->previous_key && !sc->kid) {
        return "LeadCRMJWTPreviousSecretFile needs a key id on "
               "LeadCRMJWTSecretFile too";
    }
    if (sc->previous_kid && sc->kid && !strcmp(sc->previous_kid, sc->kid)) {
        return "LeadCRMJWTPreviousSecretFile key id must differ from the "
               "current key id";
    }
    if (lcrm_conf_refresh_ttl(sc) <= lcrm_conf_access_ttl(sc)) {
        return "LeadCRMRefreshTokenTTL must be longer than "
               "LeadCRMAccessTokenTTL";
    }
    if (*lcrm_conf_cookie_prefix(sc) && !lcrm_conf_cookie_secure(sc)) {
        return "LeadCRMCookiePrefix __Secure- or __Host- needs "
               "LeadCRMCookieSecure On (browsers drop such cookies "
               "without Secure); use LeadCRMCookiePrefix none";
    }
    if (lcrm_conf_require_mfa(sc) >= 0 && !sc->data_key) {
        return "LeadCRMRequireMFA needs LeadCRMDataKeyFile (TOTP seeds are "
               "encrypted with it)";
    }
    if (lcrm_conf_booking_notice(sc) >= lcrm_conf_booking_horizon(sc)) {
        return "LeadCRMBookingNotice must be shorter than "
               "LeadCRMBookingHorizon";
    }
    return NULL;
}

int lcrm_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *s)
{
    const char *oidc = lcrm_oidc_conf_check(ptemp, s);

    if (oidc) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LCRM_LOGNO(02000) "%s",
                     oidc);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    for (; s; s = s->next) {
        const char *err = server_problem(ptemp, lcrm_sconf(s));
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, LCRM_LOGNO(00002)
                         "%s (server %s:%u)", err,
                         s->server_hostname ? s->server_hostname : "-",
                         s->port);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

int lcrm_config_post(apr_pool_t *pconf, server_rec *s)
{
    for (; s; s = s->next) {
        lcrm_server_conf_t *sc = ap_get_module_config(s->module_config,
                                                      &leadcrm_module);
        apr_status_t rv;
        sc->token.key = sc->key;
        sc->token.kid = sc->kid;
        sc->token.previous_key = sc->previous_key;
        sc->token.previous_kid = sc->previous_kid;
        sc->token.issuer = lcrm_conf_issuer(sc);
        sc->token.audience = lcrm_conf_audience(sc);
        sc->token.ttl = lcrm_conf_access_ttl(sc);
        sc->token.leeway = sc->leeway != LCRM_UNSET ? sc->leeway
                                                    : DEFAULT_LEEWAY;
        sc->started = apr_time_now();
        /* per server, at that server's cost: unknown emails then cost
         * what known ones do, whatever each virtual host configures */
        rv = lcrm_password_dummy_hash(pconf, lcrm_conf_bcrypt_cost(sc),
                                      &sc->dummy_hash);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LCRM_LOGNO(00003)
                         "cannot create the dummy password hash");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}
