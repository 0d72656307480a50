/*
 * lcrm_oidc_conf: start-up checks for `SetHandler leadcrm-oidc`, run from
 * check_config (so `apachectl -t` reports them).
 *
 * The handler turns what mod_auth_openidc verified into a session, so it
 * must never be reachable without mod_auth_openidc in front.  httpd keeps
 * the parsed configuration as a tree (ap_conftree, the same tree mod_info
 * shows); this file walks it and, for every SetHandler leadcrm-oidc,
 * requires in the context that applies to it: `AuthType openid-connect`, a
 * `Require valid-user` (or mod_auth_openidc's `Require claim ...`) and a
 * `LeadCRMOIDCLandingURL` on the server's own origin or a LeadCRMCORSOrigin.
 * "The context that applies" is the handler's own section, every enclosing
 * section (<If>, <Location>, <VirtualHost>, server), and the plain
 * <Location P> sections of the same scope whose path P is a prefix of the
 * handler's Location: how httpd merges them for that URL.  Sections only
 * known per request (.htaccess, <LocationMatch> regexes matching the same
 * URL) are not seen here; the handler itself refuses at run time (500,
 * logged) unless mod_auth_openidc authenticated the request.
 */
#include "lcrm_config.h"
#include "lcrm_private.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <util_cfgtree.h>

#define OIDC_HANDLER "leadcrm-oidc"

typedef int (*match_fn)(const char *args);

const char *lcrm_oidc_landing_problem(const char *url)
{
    const char *err = lcrm_check_url(url, 1), *host = url + 8;

    if (err) {
        return err;
    }
    if (strlen(url) > 2048) {
        return "must be at most 2048 characters";
    }
    if (strchr(url, '#')) {
        return "must not have a fragment (the module adds #error=...)";
    }
    if (memchr(host, '@', strcspn(host, "/?"))) {
        return "must not carry user information";
    }
    if (strpbrk(url, "\"<>\\")) {
        return "must not contain \" < > or \\";
    }
    return NULL;
}

/* A directive's arguments without quotes and a container's closing '>'. */
static const char *plain_args(apr_pool_t *p, const char *args)
{
    char *a = apr_pstrdup(p, args ? args : ""), *e;

    e = a + strlen(a);
    while (e > a && (e[-1] == '>' || e[-1] == ' ')) {
        *--e = '\0';
    }
    if (*a == '"' && e > a + 1 && e[-1] == '"') {
        e[-1] = '\0';
        a++;
    }
    return a;
}

static int is_oidc_auth(const char *a)
{
    return !strcasecmp(a, "openid-connect");
}

static int is_oidc_require(const char *a)
{
    return !strncasecmp(a, "valid-user", 10) || !strncasecmp(a, "claim ", 6);
}

static int is_any(const char *a)
{
    return 1;
}

/* The path of the nearest enclosing plain <Location>, or NULL. */
static const char *location_of(apr_pool_t *p, const ap_directive_t *d)
{
    for (; d; d = d->parent) {
        if (!strcasecmp(d->directive, "<Location")) {
            return plain_args(p, d->args);
        }
    }
    return NULL;
}

/* The first directive `name` among the children of sec that matches. */
static const ap_directive_t *child(apr_pool_t *p, const ap_directive_t *first,
                                   const char *name, match_fn ok)
{
    const ap_directive_t *c;

    for (c = first; c; c = c->next) {
        if (!strcasecmp(c->directive, name) && ok(plain_args(p, c->args))) {
            return c;
        }
    }
    return NULL;
}

/*
 * The directive `name` (matching ok) that applies where node sits: its
 * own section's children first, then each enclosing scope's children and
 * the children of that scope's <Location P> sections with P a prefix of
 * node's Location path.
 */
static const ap_directive_t *applies(apr_pool_t *p, const ap_directive_t *node,
                                     const char *name, match_fn ok)
{
    const char *loc = location_of(p, node);
    const ap_directive_t *scope, *c, *found;

    for (scope = node->parent; ; scope = scope->parent) {
        c = scope ? scope->first_child : ap_conftree;
        if ((found = child(p, c, name, ok))) {
            return found;
        }
        for (; loc && c; c = c->next) {
            const char *path;
            if (strcasecmp(c->directive, "<Location") || c == node->parent) {
                continue;
            }
            path = plain_args(p, c->args);
            if (!strncmp(loc, path, strlen(path))
                && (found = child(p, c->first_child, name, ok))) {
                return found;
            }
        }
        if (!scope) {
            return NULL;
        }
    }
}

/* https://host[:port] of url (already checked by the landing rule). */
static const char *origin_of(apr_pool_t *p, const char *url)
{
    return apr_pstrmemdup(p, url, 8 + strcspn(url + 8, "/?"));
}

static int origin_is_own(apr_pool_t *p, server_rec *s, const char *origin)
{
    for (; s; s = s->next) {
        const char *own;
        if (!s->server_hostname) {
            continue;
        }
        own = s->port && s->port != 443
                  ? apr_psprintf(p, "https://%s:%u", s->server_hostname,
                                 s->port)
                  : apr_pstrcat(p, "https://", s->server_hostname, NULL);
        if (!strcasecmp(own, origin)) {
            return 1;
        }
    }
    return 0;
}

/* Non-zero when a LeadCRMCORSOrigin applying at node lists origin. */
static int origin_is_cors(apr_pool_t *p, const ap_directive_t *node,
                          const char *origin)
{
    const ap_directive_t *d = applies(p, node, "LeadCRMCORSOrigin", is_any);
    char *list, *tok, *last;

    if (!d) {
        return 0;
    }
    list = apr_pstrdup(p, d->args);
    for (tok = apr_strtok(list, " \t", &last); tok;
         tok = apr_strtok(NULL, " \t", &last)) {
        if (!strcasecmp(plain_args(p, tok), origin)) {
            return 1;
        }
    }
    return 0;
}

static const char *check_one(apr_pool_t *p, server_rec *s,
                             const ap_directive_t *d)
{
    const char *where = apr_psprintf(p, "SetHandler " OIDC_HANDLER " (%s:%d)",
                                     d->filename, d->line_num);
    const ap_directive_t *landing;
    const char *url;

    if (!applies(p, d, "AuthType", is_oidc_auth)) {
        return apr_pstrcat(p, where, " needs AuthType openid-connect "
                           "(mod_auth_openidc) in the same context", NULL);
    }
    if (!applies(p, d, "Require", is_oidc_require)) {
        return apr_pstrcat(p, where, " needs Require valid-user (or Require "
                           "claim ...) in the same context", NULL);
    }
    if (!(landing = applies(p, d, "LeadCRMOIDCLandingURL", is_any))) {
        return apr_pstrcat(p, where, " needs LeadCRMOIDCLandingURL", NULL);
    }
    url = plain_args(p, landing->args);
    if (!origin_is_own(p, s, origin_of(p, url))
        && !origin_is_cors(p, d, origin_of(p, url))) {
        return apr_pstrcat(p, "LeadCRMOIDCLandingURL (", landing->filename,
                           ") must be on the server's own https origin or a "
                           "LeadCRMCORSOrigin", NULL);
    }
    return NULL;
}

static const char *walk(apr_pool_t *p, server_rec *s, const ap_directive_t *d)
{
    const char *err;

    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "SetHandler")
            && !strcasecmp(plain_args(p, d->args), OIDC_HANDLER)
            && (err = check_one(p, s, d))) {
            return err;
        }
        if (d->first_child && (err = walk(p, s, d->first_child))) {
            return err;
        }
    }
    return NULL;
}

const char *lcrm_oidc_conf_check(apr_pool_t *p, server_rec *s)
{
    return walk(p, s, ap_conftree);
}
