/*
 * lcrm_ratelimit: fixed-window request counters in a caller-provided
 * table of fixed size (shared memory in the module, plain memory in the
 * unit tests).  Keys are stored as 64-bit hashes only.  The caller
 * serialises access (a global mutex); nothing here locks or allocates.
 *
 * Memory is bounded: a full probe run evicts an expired entry, else the
 * oldest one, so a flood of distinct keys can only make the limiter
 * forget old keys (fail open for them), never grow.
 */
#ifndef LCRM_RATELIMIT_H
#define LCRM_RATELIMIT_H

#include <apr.h>

typedef struct {
    apr_uint64_t key;          /* 0 = empty */
    apr_int64_t window_start;  /* seconds */
    apr_uint32_t count;
    apr_uint32_t window;       /* seconds */
} lcrm_rl_slot_t;

typedef struct {
    apr_uint32_t nslots;       /* power of two */
    lcrm_rl_slot_t slots[1];   /* nslots entries follow */
} lcrm_rl_table_t;

/* Bytes needed for a table of nslots (a power of two). */
apr_size_t lcrm_rl_table_size(apr_uint32_t nslots);

/* Initialises a zeroed table of nslots. */
void lcrm_rl_table_init(lcrm_rl_table_t *t, apr_uint32_t nslots);

/* 64-bit FNV-1a of a key's parts, joined with a separator. */
apr_uint64_t lcrm_rl_key(const char *a, const char *b, const char *c);

typedef struct {
    int allowed;               /* the request may go on */
    apr_uint32_t limit;
    apr_uint32_t remaining;    /* after this request */
    apr_int64_t reset;         /* seconds until the window ends (>= 1) */
} lcrm_rl_result_t;

/*
 * Counts one request for key against limit per window seconds at now.
 * consume = 0 only checks (the failed-login rule checks before any
 * password work and counts failures afterwards).  A request over the
 * limit is not counted again.
 */
void lcrm_rl_hit(lcrm_rl_table_t *t, apr_uint64_t key, apr_uint32_t limit,
                 apr_uint32_t window, apr_int64_t now, int consume,
                 lcrm_rl_result_t *res);

#endif
