/*
 * lcrm_ratelimit: request counters in a caller-provided table of fixed
 * size (shared memory in the module, plain memory in the unit tests),
 * plus the arithmetic the memcached store shares.  Keys are stored as
 * 64-bit SipHash-2-4 values under a secret drawn when the table is made,
 * so nobody outside can choose which keys share a probe run.  The caller
 * serialises access (a global mutex); nothing here locks or allocates.
 *
 * Windows are fixed, or sliding (two buckets: the previous bucket's count
 * weighs in by the part of it still inside the window), so a burst at a
 * bucket edge cannot pass twice the limit.
 *
 * Memory is bounded: a new key takes a free or expired slot of its probe
 * run, else evicts the live unprotected entry that expires first.  Live
 * protected entries (security classes) are never evicted: when a run is
 * all live protected entries the table is "full" for that key and the
 * caller decides (fail closed or open).  A check (no counting) never
 * takes a slot.
 */
#ifndef LCRM_RATELIMIT_H
#define LCRM_RATELIMIT_H

#include <apr.h>

#define LCRM_RL_SECRET_LEN 16

typedef struct {
    apr_uint64_t key;          /* 0 = empty */
    apr_int64_t start;         /* start of the current bucket, seconds */
    apr_uint32_t count;        /* in the current bucket */
    apr_uint32_t previous;     /* in the bucket before (sliding only) */
    apr_uint32_t window;       /* seconds */
    apr_uint32_t flags;        /* LCRM_RL_SLIDING | LCRM_RL_PROTECTED */
} lcrm_rl_slot_t;

typedef struct {
    apr_uint32_t nslots;       /* power of two */
    apr_uint32_t reserved;
    unsigned char secret[LCRM_RL_SECRET_LEN];   /* key hash secret */
    lcrm_rl_slot_t slots[1];   /* nslots entries follow */
} lcrm_rl_table_t;

/* Rule flags. */
#define LCRM_RL_SLIDING   1u   /* two-bucket sliding window */
#define LCRM_RL_PROTECTED 2u   /* never evicted while live */

typedef struct {
    apr_uint32_t limit;        /* >= 1 */
    apr_uint32_t window;       /* seconds, >= 1 */
    apr_uint32_t flags;
} lcrm_rl_spec_t;

/* Bytes needed for a table of nslots (a power of two). */
apr_size_t lcrm_rl_table_size(apr_uint32_t nslots);

/* Initialises a table of nslots with the hash secret (LCRM_RL_SECRET_LEN
 * random bytes). */
void lcrm_rl_table_init(lcrm_rl_table_t *t, apr_uint32_t nslots,
                        const unsigned char *secret);

/*
 * SipHash-2-4 under secret of the key's parts (class, client, extra; NULL
 * and "" are the same part) and the window, so one class with different
 * windows keeps separate counters.  Never 0.
 */
apr_uint64_t lcrm_rl_key(const unsigned char *secret, const char *cls,
                         const char *client, const char *extra,
                         apr_uint32_t window);

/* SipHash-2-4 of len bytes under a 16-byte secret (exposed for tests). */
apr_uint64_t lcrm_rl_siphash(const unsigned char *secret, const void *data,
                             apr_size_t len);

typedef struct {
    int allowed;               /* the request may go on */
    apr_uint32_t limit;
    apr_uint32_t remaining;    /* after this request */
    apr_int64_t reset;         /* seconds until allowed again / bucket end */
} lcrm_rl_result_t;

typedef enum {
    LCRM_RL_OK = 0,
    LCRM_RL_FULL               /* no slot for a new counting key */
} lcrm_rl_status_e;

/*
 * Counts one request for key under spec at now.  consume: 1 counts the
 * request when it is allowed (a request over the limit is not counted),
 * 0 only checks, -1 gives back one earlier count (a reservation that
 * turned out not to be a failure; res is then the state after it).
 * Returns LCRM_RL_FULL (res untouched) when a counting request finds no
 * slot its key may take.
 */
lcrm_rl_status_e lcrm_rl_hit(lcrm_rl_table_t *t, apr_uint64_t key,
                             const lcrm_rl_spec_t *spec, apr_int64_t now,
                             int consume, lcrm_rl_result_t *res);

/*
 * The decision for counts already known (the memcached store): previous
 * and count are the previous and current bucket's counts before this
 * request, now the time.  Fills res as lcrm_rl_hit does for consume 1
 * (allowed when one more request stays within the limit).
 */
void lcrm_rl_decide(const lcrm_rl_spec_t *spec, apr_uint32_t previous,
                    apr_uint32_t count, apr_int64_t now,
                    lcrm_rl_result_t *res);

/*
 * The client part of a key: an IPv4 address as is, an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) as its IPv4 address, any other IPv6 address
 * reduced to its first v6prefix bits ("2001:db8:1:2::/64"); text that is
 * not an address as is.  Returns ip itself or out (at least 64 bytes).
 */
const char *lcrm_rl_client(const char *ip, int v6prefix, char *out,
                           apr_size_t outlen);

#endif
