/*
 * lcrm_smtp: SMTP delivery through libcurl (see lcrm_smtp.h).
 */
#include "lcrm_smtp.h"

#include <apr_strings.h>
#include <curl/curl.h>
#include <string.h>

struct lcrm_smtp {
    CURL *curl;
    const lcrm_mail_conf_t *mc;
    char last[256];          /* last reply line seen from the server */
};

typedef struct {
    const char *data;
    size_t len, pos;
} upload_t;

static apr_status_t cleanup(void *data)
{
    curl_easy_cleanup(((lcrm_smtp_t *)data)->curl);
    return APR_SUCCESS;
}

/* Keeps the last line the server sent (replies arrive as HEADER_IN). */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t n,
                    void *userp)
{
    lcrm_smtp_t *c = userp;
    size_t i, k = 0;

    if (type != CURLINFO_HEADER_IN) {
        return 0;
    }
    for (i = 0; i < n && k < sizeof(c->last) - 1 && k < 200; i++) {
        unsigned char ch = (unsigned char)data[i];
        if (ch == '\r' || ch == '\n') {
            break;
        }
        c->last[k++] = ch >= 0x20 && ch < 0x7F ? (char)ch : '?';
    }
    c->last[k] = '\0';
    return 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userp)
{
    upload_t *u = userp;
    size_t room = size * nitems, left = u->len - u->pos;
    size_t n = left < room ? left : room;
    memcpy(buf, u->data + u->pos, n);
    u->pos += n;
    return n;
}

lcrm_smtp_t *lcrm_smtp_open(apr_pool_t *p, const lcrm_mail_conf_t *mc)
{
    lcrm_smtp_t *c = apr_pcalloc(p, sizeof(*c));
    CURL *h = curl_easy_init();

    if (!h) {
        return NULL;
    }
    c->curl = h;
    c->mc = mc;
    apr_pool_cleanup_register(p, c, cleanup, apr_pool_cleanup_null);
    /* the path is the EHLO name */
    curl_easy_setopt(h, CURLOPT_URL, apr_pstrcat(p, mc->smtp_url, "/",
                                                 mc->public_host, NULL));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (mc->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, mc->ca_file);
    }
    if (!mc->smtp_implicit) {
        curl_easy_setopt(h, CURLOPT_USE_SSL, lcrm_mail_starttls(mc)
                                                 ? (long)CURLUSESSL_ALL
                                                 : (long)CURLUSESSL_NONE);
    }
    if (mc->auth_user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, mc->auth_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, mc->auth_password);
    }
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, c);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    return c;
}

static const char *no_reply(CURLcode rc)
{
    switch (rc) {
    case CURLE_USE_SSL_FAILED:
        return "TLS not offered by the server (nothing sent in clear)";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return "TLS certificate not trusted (nothing sent)";
    case CURLE_SSL_CONNECT_ERROR:
        return "TLS handshake failed (nothing sent)";
    case CURLE_OPERATION_TIMEDOUT:
        return "SMTP server timed out";
    default:
        return "SMTP server unreachable";
    }
}

lcrm_smtp_rc_e lcrm_smtp_send(lcrm_smtp_t *c, apr_pool_t *p,
                              const char *from_addr, const char *to_addr,
                              const char *msg, const char **reply)
{
    struct curl_slist *rcpt = curl_slist_append(NULL, to_addr);
    upload_t up = {msg, strlen(msg), 0};
    long code = 0;
    CURLcode rc;

    c->last[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_MAIL_FROM, from_addr);
    curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c->curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    rc = curl_easy_perform(c->curl);
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_setopt(c->curl, CURLOPT_MAIL_RCPT, NULL);
    curl_slist_free_all(rcpt);
    if (rc == CURLE_OK) {
        *reply = apr_pstrdup(p, c->last);
        return LCRM_SMTP_SENT;
    }
    *reply = c->last[0] && code >= 400 ? apr_pstrdup(p, c->last)
                                       : no_reply(rc);
    return code >= 500 && code < 600 ? LCRM_SMTP_FAILED : LCRM_SMTP_RETRY;
}
