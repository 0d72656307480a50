/*
 * lcrm_logjson: JSON string escaping for log lines (httpd-free).
 *
 * httpd escapes log items as \xhh, which is not JSON; the module's access
 * log item (httpd/lcrm_ops.c) writes its strings through this instead, so
 * every line is valid JSON whatever bytes a client sends.
 */
#ifndef LCRM_LOGJSON_H
#define LCRM_LOGJSON_H

#include <apr_pools.h>

/*
 * Returns s as a JSON string literal (with the quotes), allocated from
 * pool.  ", \ and control characters (U+0000..U+001F, U+007F) become
 * escapes; valid UTF-8 passes through; every byte of an invalid, overlong
 * or surrogate UTF-8 sequence becomes U+FFFD.  NULL gives "-".
 */
const char *lcrm_logjson_str(apr_pool_t *pool, const char *s);

#endif
