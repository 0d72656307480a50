/*
 * lcrm_ratelimit: fixed-window counters (see lcrm_ratelimit.h).
 */
#include "lcrm_ratelimit.h"

#include <string.h>

#define PROBES 16

apr_size_t lcrm_rl_table_size(apr_uint32_t nslots)
{
    return sizeof(lcrm_rl_table_t) + sizeof(lcrm_rl_slot_t) * (nslots - 1);
}

void lcrm_rl_table_init(lcrm_rl_table_t *t, apr_uint32_t nslots)
{
    memset(t, 0, lcrm_rl_table_size(nslots));
    t->nslots = nslots;
}

static apr_uint64_t fnv(apr_uint64_t h, const char *s)
{
    for (; s && *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    h ^= 0x1F; /* separator: "a|b" and "ab|" differ */
    h *= 0x100000001b3ULL;
    return h;
}

apr_uint64_t lcrm_rl_key(const char *a, const char *b, const char *c)
{
    apr_uint64_t h = fnv(fnv(fnv(0xcbf29ce484222325ULL, a), b), c);
    return h ? h : 1;
}

static int expired(const lcrm_rl_slot_t *s, apr_int64_t now)
{
    return s->key == 0 || now >= s->window_start + s->window;
}

/* The slot for key: its own, else a free/expired one, else the oldest. */
static lcrm_rl_slot_t *find_slot(lcrm_rl_table_t *t, apr_uint64_t key,
                                 apr_int64_t now)
{
    apr_uint32_t mask = t->nslots - 1, i;
    lcrm_rl_slot_t *spare = NULL, *oldest = NULL;

    for (i = 0; i < PROBES && i < t->nslots; i++) {
        lcrm_rl_slot_t *s = &t->slots[(key + i) & mask];
        if (s->key == key) {
            return s;
        }
        if (!spare && expired(s, now)) {
            spare = s;
        }
        if (!oldest || s->window_start < oldest->window_start) {
            oldest = s;
        }
    }
    return spare ? spare : oldest;
}

void lcrm_rl_hit(lcrm_rl_table_t *t, apr_uint64_t key, apr_uint32_t limit,
                 apr_uint32_t window, apr_int64_t now, int consume,
                 lcrm_rl_result_t *res)
{
    lcrm_rl_slot_t *s = find_slot(t, key, now);
    apr_int64_t start = now - now % window;

    if (s->key != key || s->window != window || s->window_start != start) {
        s->key = key;
        s->window = window;
        s->window_start = start;
        s->count = 0;
    }
    res->limit = limit;
    res->reset = start + window - now;
    res->allowed = s->count < limit;
    if (res->allowed && consume) {
        s->count++;
    }
    res->remaining = s->count < limit ? limit - s->count : 0;
}
