/*
 * lcrm_mail_conf: mail directives, merge and checks (see lcrm_mail_conf.h).
 */
#include "lcrm_config.h"
#include "lcrm_mail_conf.h"
#include "lcrm_mime.h"
#include "lcrm_parse.h"
#include "lcrm_private.h"

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>

#define DEFAULT_REMINDER 86400
#define DEFAULT_RETRY 60

void lcrm_mail_conf_init(lcrm_mail_conf_t *mc)
{
    memset(mc, 0, sizeof(*mc));
    mc->tls = mc->require_verified = LCRM_UNSET;
    mc->reminder_before = mc->retry_delay = LCRM_UNSET;
}

#define MPTR(f) m->f = add->f ? add->f : base->f
#define MNUM(f) m->f = add->f != LCRM_UNSET ? add->f : base->f

void lcrm_mail_conf_merge(lcrm_mail_conf_t *m, const lcrm_mail_conf_t *base,
                          const lcrm_mail_conf_t *add)
{
    if (add->smtp_url) {
        m->smtp_url = add->smtp_url;
        m->smtp_host = add->smtp_host;
        m->smtp_implicit = add->smtp_implicit;
    }
    else {
        m->smtp_url = base->smtp_url;
        m->smtp_host = base->smtp_host;
        m->smtp_implicit = base->smtp_implicit;
    }
    if (add->auth_user) {
        m->auth_user = add->auth_user;
        m->auth_password = add->auth_password;
    }
    else {
        m->auth_user = base->auth_user;
        m->auth_password = base->auth_password;
    }
    if (add->from_addr) {
        m->from_addr = add->from_addr;
        m->from_name = add->from_name;
    }
    else {
        m->from_addr = base->from_addr;
        m->from_name = base->from_name;
    }
    if (add->public_url) {
        m->public_url = add->public_url;
        m->public_host = add->public_host;
    }
    else {
        m->public_url = base->public_url;
        m->public_host = base->public_host;
    }
    MNUM(tls);
    MPTR(ca_file);
    MPTR(notify_admins);
    MNUM(reminder_before);
    MNUM(require_verified);
    MNUM(retry_delay);
}

int lcrm_mail_enabled(const lcrm_mail_conf_t *mc)
{
    return mc->smtp_url != NULL;
}

int lcrm_mail_starttls(const lcrm_mail_conf_t *mc)
{
    return !mc->smtp_implicit && mc->tls != 0;
}

apr_int64_t lcrm_mail_reminder_before(const lcrm_mail_conf_t *mc)
{
    return mc->reminder_before != LCRM_UNSET ? mc->reminder_before
                                             : DEFAULT_REMINDER;
}

int lcrm_mail_require_verified(const lcrm_mail_conf_t *mc)
{
    return mc->require_verified == 1;
}

apr_int64_t lcrm_mail_retry_delay(const lcrm_mail_conf_t *mc)
{
    return mc->retry_delay != LCRM_UNSET ? mc->retry_delay : DEFAULT_RETRY;
}

static int loopback_host(const char *h)
{
    return !strcmp(h, "localhost") || !strncmp(h, "127.", 4)
           || !strcmp(h, "[::1]");
}

const char *lcrm_mail_conf_problem(const lcrm_mail_conf_t *mc,
                                   int have_data_key)
{
    if (mc->require_verified == 1 && !mc->smtp_url) {
        return "LeadCRMRequireVerifiedEmail On needs LeadCRMSMTPServer";
    }
    if (!mc->smtp_url) {
        return NULL;
    }
    if (!mc->from_addr) {
        return "LeadCRMSMTPServer needs LeadCRMMailFrom";
    }
    if (!mc->public_url) {
        return "LeadCRMSMTPServer needs LeadCRMPublicURL";
    }
    if (!have_data_key) {
        return "LeadCRMSMTPServer needs LeadCRMDataKeyFile (queued mail is "
               "encrypted)";
    }
    if (mc->smtp_implicit && mc->tls == 0) {
        return "LeadCRMSMTPTLS off contradicts an smtps:// LeadCRMSMTPServer";
    }
    if (mc->auth_user && !lcrm_mail_starttls(mc) && !mc->smtp_implicit
        && !loopback_host(mc->smtp_host)) {
        return "LeadCRMSMTPAuth is refused with LeadCRMSMTPTLS off unless "
               "the server is a loopback address";
    }
    return NULL;
}

/* ---- directive handlers -------------------------------------------------- */

static lcrm_mail_conf_t *mconf(cmd_parms *cmd)
{
    lcrm_server_conf_t *sc = ap_get_module_config(cmd->server->module_config,
                                                  &leadcrm_module);
    return &sc->mail;
}

static const char *bad(cmd_parms *cmd, const char *what)
{
    return apr_pstrcat(cmd->pool, cmd->cmd->name, " ", what, NULL);
}

/* host[:port] of a URL authority: letters, digits, - . : [ ] only. */
static const char *check_authority(const char *a)
{
    const char *p, *colon;
    if (!*a || *a == ':') {
        return "has no host";
    }
    for (p = a; *p; p++) {
        if (!apr_isalnum(*p) && !strchr("-.:[]", *p)) {
            return "must be scheme://host[:port] with nothing after it";
        }
    }
    colon = a[0] == '[' ? strchr(a, ']') : a;
    colon = colon ? strchr(colon, ':') : NULL;
    return colon && !apr_isdigit(colon[1]) ? "has a bad port" : NULL;
}

const char *lcrm_mail_set_server(cmd_parms *cmd, void *dc, const char *v)
{
    lcrm_mail_conf_t *mc = mconf(cmd);
    const char *auth, *err, *colon;

    if (!strncmp(v, "smtps://", 8)) {
        auth = v + 8;
        mc->smtp_implicit = 1;
    }
    else if (!strncmp(v, "smtp://", 7)) {
        auth = v + 7;
        mc->smtp_implicit = 0;
    }
    else {
        return bad(cmd, "must be smtp://host:port or smtps://host:port");
    }
    if ((err = check_authority(auth))) {
        return bad(cmd, err);
    }
    colon = strrchr(auth, ':');
    mc->smtp_host = colon && (auth[0] != '[' || colon > strchr(auth, ']'))
        ? apr_pstrmemdup(cmd->pool, auth, (apr_size_t)(colon - auth))
        : auth;
    mc->smtp_url = v;
    return NULL;
}

const char *lcrm_mail_set_tls(cmd_parms *cmd, void *dc, const char *v)
{
    if (!strcasecmp(v, "starttls")) {
        mconf(cmd)->tls = 1;
    }
    else if (!strcasecmp(v, "off")) {
        mconf(cmd)->tls = 0;
    }
    else {
        return bad(cmd, "must be starttls or off");
    }
    return NULL;
}

const char *lcrm_mail_set_auth(cmd_parms *cmd, void *dc, const char *user,
                               const char *file)
{
    const char *path = ap_server_root_relative(cmd->pool, file);
    char *buf = NULL;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;

    if (!*user || strlen(user) > 256 || strpbrk(user, "\r\n")) {
        return bad(cmd, "user must be 1..256 characters on one line");
    }
    if (!path || apr_file_open(&f, path, APR_READ | APR_BINARY, 0,
                               cmd->temp_pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size < 1 || fi.size > 1024) {
        return bad(cmd, "password file is missing, unreadable, empty or "
                        "larger than 1 KiB");
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(cmd->pool, n + 1);
    apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    if (!n || strlen(buf) != n || strpbrk(buf, "\r\n")) {
        return bad(cmd, "password file must hold one line");
    }
    mconf(cmd)->auth_user = user;
    mconf(cmd)->auth_password = buf;
    return NULL;
}

const char *lcrm_mail_set_ca_file(cmd_parms *cmd, void *dc, const char *v)
{
    const char *path = ap_server_root_relative(cmd->pool, v);
    apr_finfo_t fi;
    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool)
                     != APR_SUCCESS || fi.filetype != APR_REG) {
        return bad(cmd, "file does not exist");
    }
    mconf(cmd)->ca_file = path;
    return NULL;
}

const char *lcrm_mail_set_from(cmd_parms *cmd, void *dc, const char *v)
{
    const char *name, *addr;
    const char *err = lcrm_mime_parse_mailbox(cmd->pool, v, &name, &addr);
    if (err) {
        return bad(cmd, err);
    }
    mconf(cmd)->from_name = name;
    mconf(cmd)->from_addr = addr;
    return NULL;
}

const char *lcrm_mail_set_public_url(cmd_parms *cmd, void *dc, const char *v)
{
    lcrm_mail_conf_t *mc = mconf(cmd);
    const char *auth, *err, *end;
    apr_size_t n = strlen(v);

    while (n > 0 && v[n - 1] == '/') {
        n--;
    }
    v = apr_pstrmemdup(cmd->pool, v, n);
    if (!strncmp(v, "https://", 8)) {
        auth = v + 8;
    }
    else if (!strncmp(v, "http://", 7)) {
        auth = v + 7;
    }
    else {
        return bad(cmd, "must be an https:// (or http://) URL such as "
                        "https://app.example.com");
    }
    if ((err = check_authority(auth))) {
        return bad(cmd, err);
    }
    end = auth[0] == '[' ? strchr(auth, ']') : NULL;
    end = strchr(end ? end : auth, ':');
    mc->public_host = end ? apr_pstrmemdup(cmd->pool, auth,
                                           (apr_size_t)(end - auth))
                          : auth;
    mc->public_url = v;
    return NULL;
}

const char *lcrm_mail_add_admin(cmd_parms *cmd, void *dc, const char *v)
{
    lcrm_mail_conf_t *mc = mconf(cmd);
    if (!lcrm_mime_address_ok(v)) {
        return bad(cmd, apr_pstrcat(cmd->pool, "'", v, "' is not a plain "
                                    "email address", NULL));
    }
    if (!mc->notify_admins) {
        mc->notify_admins = apr_array_make(cmd->pool, 2, sizeof(char *));
    }
    APR_ARRAY_PUSH(mc->notify_admins, const char *) =
        apr_pstrdup(cmd->pool, v);
    return NULL;
}

const char *lcrm_mail_set_reminder(cmd_parms *cmd, void *dc, const char *v)
{
    if (lcrm_parse_duration(v, 0, 30 * 86400, &mconf(cmd)->reminder_before)) {
        return bad(cmd, "must be a duration from 0 (off) to 30d, e.g. 24h");
    }
    return NULL;
}

const char *lcrm_mail_set_require_verified(cmd_parms *cmd, void *dc, int on)
{
    mconf(cmd)->require_verified = on;
    return NULL;
}

const char *lcrm_mail_set_retry_delay(cmd_parms *cmd, void *dc, const char *v)
{
    if (lcrm_parse_duration(v, 1, 3600, &mconf(cmd)->retry_delay)) {
        return bad(cmd, "must be a duration from 1s to 1h");
    }
    return NULL;
}
