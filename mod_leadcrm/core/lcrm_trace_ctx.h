/*
 * lcrm_trace_ctx: the pure parts of error tracking and tracing, kept
 * httpd-free so they are unit-tested alone: W3C Trace Context
 * (`traceparent` parsing and formatting, the trace-id ratio sampler) and
 * Sentry DSN parsing (the envelope URL and the public key).
 */
#ifndef LCRM_TRACE_CTX_H
#define LCRM_TRACE_CTX_H

#include <apr_pools.h>

#define LCRM_TRACE_ID_HEX 32
#define LCRM_SPAN_ID_HEX 16

/* A parsed traceparent: lowercase hex ids, NUL-terminated. */
typedef struct {
    char trace_id[LCRM_TRACE_ID_HEX + 1];
    char parent_id[LCRM_SPAN_ID_HEX + 1];
    int sampled;                 /* the sampled flag (bit 0 of flags) */
} lcrm_traceparent_t;

/*
 * Parses a traceparent header (W3C Trace Context level 1): version 00
 * exactly 55 characters; a higher version may carry more fields after a
 * '-'; version ff, upper-case hex, all-zero ids are invalid.  Returns 1
 * and fills *out when valid, 0 otherwise (the caller starts a new trace).
 */
int lcrm_traceparent_parse(const char *header, lcrm_traceparent_t *out);

/* "00-<trace>-<span>-<01|00>" in pool memory. */
const char *lcrm_traceparent_format(apr_pool_t *p, const char *trace_id,
                                    const char *span_id, int sampled);

/*
 * Lowercase hex of n random bytes into out (2n + 1 bytes), never all
 * zeros (a zero id is invalid in W3C Trace Context).
 */
void lcrm_trace_hex_id(const unsigned char *bytes, apr_size_t n, char *out);

/*
 * The n-th child span id of a request whose root span has the 8 bytes
 * root (hex into out, 17 bytes): splitmix64 of the root's bits plus n, a
 * bijection, so ids 1..2^64-1 of one root never repeat, and as random as
 * the root it derives from (one random draw per request instead of one
 * per span).  Never all zeros.
 */
void lcrm_trace_child_id(const unsigned char root[8], apr_uint64_t n,
                         char *out);

/*
 * The trace-id ratio sampler: 1 when the trace is sampled at ratio
 * (0 = never, 1 = always), decided on the rightmost 8 bytes of the trace
 * id so every node of one trace decides alike.
 */
int lcrm_trace_sampled(const char *trace_id, double ratio);

/* A parsed Sentry DSN. */
typedef struct {
    const char *public_key;      /* sent in X-Sentry-Auth */
    const char *envelope_url;    /* scheme://host[:port][/path]/api/P/envelope/ */
} lcrm_dsn_t;

/*
 * Parses https://KEY@HOST[:PORT][/PATH]/PROJECT.  http:// is accepted only
 * for a loopback host (127.0.0.1, ::1, localhost: test receivers).  A
 * secret key (KEY:SECRET, deprecated) is refused.  Returns NULL and fills
 * *dsn, or an error message in pool memory.
 */
const char *lcrm_dsn_parse(apr_pool_t *p, const char *text, lcrm_dsn_t *dsn);

/*
 * Checks an OTLP/HTTP traces endpoint: http(s)://host[:port]/path.
 * Returns NULL when acceptable, or an error message.
 */
const char *lcrm_otlp_endpoint_check(apr_pool_t *p, const char *url);

#endif
