/*
 * lcrm_storage: see lcrm_storage.h.  On GET /health the directory walk
 * was about a tenth of the child's CPU (six stat(2) calls per request).
 */
#include "lcrm_storage.h"
#include "lcrm_private.h"

#include <apr_strings.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#define NOTE_NO_STORAGE "leadcrm-no-storage"
#define HANDLER_PREFIX "leadcrm-"

/* The handler SetHandler gives the request's location (NULL if none). */
static const char *location_handler(request_rec *r)
{
    core_dir_config *d = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *h;

    if (!d || !d->expr_handler) {
        return NULL;
    }
    h = ap_expr_str_exec(r, d->expr_handler, &err);
    return err ? NULL : h;
}

int lcrm_storage_translate(request_rec *r)
{
    const char *h;

    if (r->proxyreq || r->method_number == M_TRACE) {
        return DECLINED;
    }
    h = location_handler(r);
    if (h && !strncmp(h, HANDLER_PREFIX, sizeof(HANDLER_PREFIX) - 1)) {
        /* the URI it was decided for: a later translate_name hook that
         * rewrites it (mod_rewrite, mod_alias) gets the usual mapping */
        apr_table_setn(r->notes, NOTE_NO_STORAGE,
                       apr_pstrdup(r->pool, r->uri));
    }
    return DECLINED;
}

int lcrm_storage_map(request_rec *r)
{
    const char *uri = apr_table_get(r->notes, NOTE_NO_STORAGE);

    if (!uri || strcmp(uri, r->uri) || r->method_number == M_TRACE) {
        return DECLINED;
    }
    return OK;
}
