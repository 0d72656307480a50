/*
 * lcrm_mail_conf: the mail directives of API.md part 2 (LeadCRMSMTPServer,
 * LeadCRMSMTPTLS, LeadCRMSMTPAuth, LeadCRMSMTPCAFile, LeadCRMMailFrom,
 * LeadCRMPublicURL, LeadCRMNotifyAdmins, LeadCRMReminderBefore,
 * LeadCRMRequireVerifiedEmail, LeadCRMMailRetryDelay).  The record is a
 * member of lcrm_server_conf_t (server scope); lcrm_config.c creates,
 * merges and checks it through the functions below and lists the
 * directives with LCRM_MAIL_DIRECTIVES.  Every value is validated when
 * httpd reads it; the SMTP password file is read then too.
 */
#ifndef LCRM_MAIL_CONF_H
#define LCRM_MAIL_CONF_H

#include <httpd.h>
#include <http_config.h>

typedef struct {
    const char *smtp_url;       /* smtp://host:port or smtps://host:port */
    const char *smtp_host;      /* host part of smtp_url */
    int smtp_implicit;          /* smtps:// */
    int tls;                    /* -1 unset, 1 starttls, 0 off */
    const char *auth_user;
    const char *auth_password;  /* read from the file; never logged */
    const char *ca_file;        /* extra trust anchors (else system CAs) */
    const char *from_name;      /* may be NULL */
    const char *from_addr;
    const char *public_url;     /* https://host[:port], no trailing slash */
    const char *public_host;    /* host of public_url without port */
    apr_array_header_t *notify_admins; /* of const char * (addresses) */
    apr_int64_t reminder_before;/* seconds; -1 unset (24h), 0 off */
    int require_verified;       /* -1 unset (off) */
    apr_int64_t retry_delay;    /* first retry, seconds; -1 unset (60) */
} lcrm_mail_conf_t;

/* Marks every field unset. */
void lcrm_mail_conf_init(lcrm_mail_conf_t *mc);

/* m = add over base, field by field. */
void lcrm_mail_conf_merge(lcrm_mail_conf_t *m, const lcrm_mail_conf_t *base,
                          const lcrm_mail_conf_t *add);

/* check_config: NULL, or the one-line reason the mail settings are
 * unusable (a server without From/PublicURL/DataKeyFile, AUTH over
 * clear text to a remote host, RequireVerifiedEmail without a server). */
const char *lcrm_mail_conf_problem(const lcrm_mail_conf_t *mc,
                                   int have_data_key);

/* Getters that apply defaults. */
int lcrm_mail_enabled(const lcrm_mail_conf_t *mc);
int lcrm_mail_starttls(const lcrm_mail_conf_t *mc);
apr_int64_t lcrm_mail_reminder_before(const lcrm_mail_conf_t *mc);
int lcrm_mail_require_verified(const lcrm_mail_conf_t *mc);
apr_int64_t lcrm_mail_retry_delay(const lcrm_mail_conf_t *mc);

/* Directive handlers (cmd->server's record). */
const char *lcrm_mail_set_server(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_mail_set_tls(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_mail_set_auth(cmd_parms *cmd, void *dc, const char *user,
                               const char *file);
const char *lcrm_mail_set_ca_file(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_mail_set_from(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_mail_set_public_url(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_mail_add_admin(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_mail_set_reminder(cmd_parms *cmd, void *dc, const char *v);
const char *lcrm_mail_set_require_verified(cmd_parms *cmd, void *dc, int on);
const char *lcrm_mail_set_retry_delay(cmd_parms *cmd, void *dc,
                                      const char *v);

#define LCRM_MAIL_DIRECTIVES \
    AP_INIT_TAKE1("LeadCRMSMTPServer", lcrm_mail_set_server, NULL, RSRC_CONF, \
                  "smtp://host:port or smtps://host:port (mail is off without it)"), \
    AP_INIT_TAKE1("LeadCRMSMTPTLS", lcrm_mail_set_tls, NULL, RSRC_CONF, \
                  "starttls (default for smtp://) or off"), \
    AP_INIT_TAKE2("LeadCRMSMTPAuth", lcrm_mail_set_auth, NULL, RSRC_CONF, \
                  "SMTP AUTH user and a file holding the password"), \
    AP_INIT_TAKE1("LeadCRMSMTPCAFile", lcrm_mail_set_ca_file, NULL, RSRC_CONF, \
                  "PEM file of CA certificates trusted for the SMTP server"), \
    AP_INIT_TAKE1("LeadCRMMailFrom", lcrm_mail_set_from, NULL, RSRC_CONF, \
                  "sender: \"Name <address>\" or an address"), \
    AP_INIT_TAKE1("LeadCRMPublicURL", lcrm_mail_set_public_url, NULL, \
                  RSRC_CONF, "https://host[:port] of the web app (mail links)"), \
    AP_INIT_ITERATE("LeadCRMNotifyAdmins", lcrm_mail_add_admin, NULL, \
                    RSRC_CONF, "addresses alerted of new leads"), \
    AP_INIT_TAKE1("LeadCRMReminderBefore", lcrm_mail_set_reminder, NULL, \
                  RSRC_CONF, "consultation reminder lead time (0 = off)"), \
    AP_INIT_FLAG("LeadCRMRequireVerifiedEmail", \
                 lcrm_mail_set_require_verified, NULL, RSRC_CONF, \
                 "On: unverified accounts cannot sign in"), \
    AP_INIT_TAKE1("LeadCRMMailRetryDelay", lcrm_mail_set_retry_delay, NULL, \
                  RSRC_CONF, "first retry delay of a mail (doubles, max 1h)")

#endif
