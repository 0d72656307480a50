/*
 * lcrm_smtp: one SMTP client over libcurl for the mail worker.  TLS is
 * STARTTLS (required: CURLUSESSL_ALL, so a server that does not offer it
 * or a failed handshake sends nothing in clear) or implicit (smtps://);
 * the certificate chain and host name are always verified (system CAs, or
 * LeadCRMSMTPCAFile).  AUTH uses LeadCRMSMTPAuth.  One handle is reused
 * for the messages of a worker pass, so curl keeps the connection open.
 */
#ifndef LCRM_SMTP_H
#define LCRM_SMTP_H

#include <httpd.h>
#include "lcrm_mail_conf.h"

typedef enum {
    LCRM_SMTP_SENT = 0,   /* the server accepted the message */
    LCRM_SMTP_RETRY,      /* 4xx reply, connection or TLS failure */
    LCRM_SMTP_FAILED      /* 5xx reply: never retried */
} lcrm_smtp_rc_e;

typedef struct lcrm_smtp lcrm_smtp_t;

/* A client for mc (its handle is cleaned up with p); NULL without curl. */
lcrm_smtp_t *lcrm_smtp_open(apr_pool_t *p, const lcrm_mail_conf_t *mc);

/*
 * Sends msg (CRLF lines) from from_addr to to_addr.  *reply gets the
 * server's last reply line ("550 5.1.1 ...", at most 200 characters,
 * control characters removed), or a short fixed description when there
 * was no reply (in p).
 */
lcrm_smtp_rc_e lcrm_smtp_send(lcrm_smtp_t *c, apr_pool_t *p,
                              const char *from_addr, const char *to_addr,
                              const char *msg, const char **reply);

#endif
