/*
 * lcrm_authz: the "Require leadcrm-role ROLE..." authorization provider.
 * Role words are parsed once, at configuration time, into a bitmask; an
 * unknown word makes `apachectl -t` fail.  The caller's role comes from
 * the authn step (database-backed, so a demotion applies at once).
 */
#include "lcrm_authn.h"
#include "lcrm_config.h"
#include "lcrm_private.h"
#include "lcrm_role.h"

#include <apr_strings.h>
#include <ap_provider.h>
#include <http_request.h>
#include <mod_auth.h>

static const char *role_parse_config(cmd_parms *cmd, const char *line,
                                     const void **parsed)
{
    unsigned *mask = apr_pcalloc(cmd->pool, sizeof(*mask));
    const char *w;

    while (*(w = ap_getword_conf(cmd->temp_pool, &line))) {
        int role = lcrm_role_parse(w);
        if (role < 0) {
            return apr_psprintf(cmd->pool, "Require leadcrm-role: unknown "
                                "role '%s' (use USER, ADMIN, SUPER_ADMIN)", w);
        }
        *mask |= 1u << role;
    }
    if (!*mask) {
        return "Require leadcrm-role needs at least one role";
    }
    *parsed = mask;
    return NULL;
}

/* LeadCRMRequireMFA: the caller's role needs MFA and has none. */
static int mfa_missing(request_rec *r, int role)
{
    int need = lcrm_conf_require_mfa(lcrm_sconf(r->server));
    const lcrm_caller_t *caller;

    if (need < 0 || role < need || lcrm_authn_caller(r, &caller)) {
        return 0;
    }
    return caller->authenticated && !caller->mfa_enabled;
}

static authz_status role_check(request_rec *r, const char *line,
                               const void *parsed)
{
    const unsigned *mask = parsed;
    const char *name = apr_table_get(r->notes, LCRM_NOTE_ROLE);
    int role;

    if (name && !strcmp(name, "preflight")) {
        return AUTHZ_GRANTED;
    }
    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    role = lcrm_role_parse(name);
    if (role >= 0 && mfa_missing(r, role)) {
        apr_table_setn(r->notes, LCRM_NOTE_PROBLEM, "1");
        apr_table_setn(r->notes, LCRM_NOTE_PROBLEM_CODE,
                       "mfa_enrollment_required");
        return AUTHZ_DENIED;
    }
    if (role >= 0 && (*mask & (1u << role))) {
        return AUTHZ_GRANTED;
    }
    apr_table_setn(r->notes, LCRM_NOTE_PROBLEM, "1");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LCRM_LOGNO(00401)
                  "role %s not allowed by Require leadcrm-role",
                  name ? name : "(none)");
    return AUTHZ_DENIED;
}

static const authz_provider role_provider = {
    &role_check,
    &role_parse_config,
};

void lcrm_authz_register(apr_pool_t *p);

void lcrm_authz_register(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "leadcrm-role",
                              AUTHZ_PROVIDER_VERSION, &role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
