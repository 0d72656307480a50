/*
 * lcrm_cursor: signed, endpoint-bound opaque cursors for keyset
 * pagination (API.md part 2 "Lists: cursors"), and the LIKE pattern every
 * list search shares.
 *
 * A cursor is base64url(payload) "." base64url(tag) where payload is any
 * text (the list toolkit puts a small JSON document in it) and tag is
 * HMAC-SHA256 under a key derived from the server's master secret (the
 * JWT key) for cursors only, over the endpoint name and the payload.  A
 * cursor made for one endpoint therefore never verifies on another, and
 * any changed byte (payload, tag or a non-canonical base64 spelling) is
 * refused.  Nothing here is secret in the payload: cursors are signed, not
 * encrypted; they carry sort keys of rows the caller was allowed to see.
 */
#ifndef LCRM_CURSOR_H
#define LCRM_CURSOR_H

#include <apr_pools.h>

#define LCRM_CURSOR_MAX 2048  /* bytes of cursor text accepted */

/*
 * Signs payload for endpoint under master[0..mlen).  Returns the cursor in
 * pool memory (never NULL).
 */
const char *lcrm_cursor_sign(apr_pool_t *pool, const unsigned char *master,
                             apr_size_t mlen, const char *endpoint,
                             const char *payload);

/*
 * Verifies cursor for endpoint.  APR_SUCCESS and *payload (NUL-terminated,
 * pool memory), or APR_EINVAL when it is malformed, too long, tampered
 * with or made for another endpoint (or under another key).
 */
apr_status_t lcrm_cursor_open(apr_pool_t *pool, const unsigned char *master,
                              apr_size_t mlen, const char *endpoint,
                              const char *cursor, const char **payload);

/*
 * "%s%" for a case-insensitive substring search with LIKE: the
 * metacharacters %, _ and the escape \ of s are escaped (API.md "%% and _
 * are literal").
 */
const char *lcrm_like_pattern(apr_pool_t *pool, const char *s);

#endif
