/*
 * lcrm_ratelimit: counters, keyed hashing and client grouping (see
 * lcrm_ratelimit.h).
 */
#include "lcrm_ratelimit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define PROBES 16

apr_size_t lcrm_rl_table_size(apr_uint32_t nslots)
{
    return sizeof(lcrm_rl_table_t) + sizeof(lcrm_rl_slot_t) * (nslots - 1);
}

void lcrm_rl_table_init(lcrm_rl_table_t *t, apr_uint32_t nslots,
                        const unsigned char *secret)
{
    memset(t, 0, lcrm_rl_table_size(nslots));
    t->nslots = nslots;
    memcpy(t->secret, secret, LCRM_RL_SECRET_LEN);
}

/* ---- SipHash-2-4, fed incrementally ------------------------------------ */

typedef struct {
    apr_uint64_t v0, v1, v2, v3;
    apr_uint64_t tail;         /* bytes not yet in a full word */
    apr_size_t len;            /* total bytes fed */
} sip_t;

#define ROTL(x, b) (apr_uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(sip_t *s)
{
    s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0;
    s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
    s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
    s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2;
    s->v2 = ROTL(s->v2, 32);
}

static apr_uint64_t le64(const unsigned char *p)
{
    apr_uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void sip_init(sip_t *s, const unsigned char *k)
{
    apr_uint64_t k0 = le64(k), k1 = le64(k + 8);
    s->v0 = k0 ^ 0x736f6d6570736575ULL;
    s->v1 = k1 ^ 0x646f72616e646f6dULL;
    s->v2 = k0 ^ 0x6c7967656e657261ULL;
    s->v3 = k1 ^ 0x7465646279746573ULL;
    s->tail = 0;
    s->len = 0;
}

static void sip_word(sip_t *s, apr_uint64_t m)
{
    s->v3 ^= m;
    sip_round(s);
    sip_round(s);
    s->v0 ^= m;
}

static void sip_feed(sip_t *s, const void *data, apr_size_t n)
{
    const unsigned char *p = data;
    apr_size_t i = 0;

    for (; i < n && (s->len & 7); i++) {
        s->tail |= (apr_uint64_t)p[i] << (8 * (s->len & 7));
        if ((++s->len & 7) == 0) {
            sip_word(s, s->tail);
            s->tail = 0;
        }
    }
    for (; i + 8 <= n; i += 8) {       /* whole words */
        sip_word(s, le64(p + i));
        s->len += 8;
    }
    for (; i < n; i++) {
        s->tail |= (apr_uint64_t)p[i] << (8 * (s->len & 7));
        s->len++;
    }
}

static apr_uint64_t sip_final(sip_t *s)
{
    apr_uint64_t b = s->tail | ((apr_uint64_t)(s->len & 0xff) << 56);
    s->v3 ^= b;
    sip_round(s);
    sip_round(s);
    s->v0 ^= b;
    s->v2 ^= 0xff;
    sip_round(s);
    sip_round(s);
    sip_round(s);
    sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

apr_uint64_t lcrm_rl_siphash(const unsigned char *secret, const void *data,
                             apr_size_t len)
{
    sip_t s;
    sip_init(&s, secret);
    sip_feed(&s, data, len);
    return sip_final(&s);
}

/* One part, length first, so that no two part lists feed the same bytes. */
static void feed_part(sip_t *s, const char *part)
{
    apr_uint32_t n = part ? (apr_uint32_t)strlen(part) : 0;
    unsigned char len[4] = {(unsigned char)n, (unsigned char)(n >> 8),
                            (unsigned char)(n >> 16), (unsigned char)(n >> 24)};
    sip_feed(s, len, sizeof(len));
    sip_feed(s, part ? part : "", n);
}

apr_uint64_t lcrm_rl_key(const unsigned char *secret, const char *cls,
                         const char *client, const char *extra,
                         apr_uint32_t window)
{
    unsigned char w[4] = {(unsigned char)window, (unsigned char)(window >> 8),
                          (unsigned char)(window >> 16),
                          (unsigned char)(window >> 24)};
    apr_uint64_t h;
    sip_t s;

    sip_init(&s, secret);
    feed_part(&s, cls);
    feed_part(&s, client);
    feed_part(&s, extra);
    sip_feed(&s, w, sizeof(w));
    h = sip_final(&s);
    return h ? h : 1;
}

/* ---- windows ------------------------------------------------------------ */

/* When an entry stops mattering: a sliding one weighs one bucket longer. */
static apr_int64_t expiry(const lcrm_rl_slot_t *s)
{
    return s->start + (apr_int64_t)s->window
                      * ((s->flags & LCRM_RL_SLIDING) ? 2 : 1);
}

static int live(const lcrm_rl_slot_t *s, apr_int64_t now)
{
    return s->key != 0 && now < expiry(s);
}

/*
 * The slot for key: its own; else (counting only) a free or expired one,
 * else the live unprotected entry that expires first; else NULL.
 */
static lcrm_rl_slot_t *find_slot(lcrm_rl_table_t *t, apr_uint64_t key,
                                 apr_int64_t now, int counting)
{
    apr_uint32_t mask = t->nslots - 1, i;
    lcrm_rl_slot_t *spare = NULL, *victim = NULL;

    for (i = 0; i < PROBES && i < t->nslots; i++) {
        lcrm_rl_slot_t *s = &t->slots[(key + i) & mask];
        if (s->key == key) {
            return s;
        }
        if (!live(s, now)) {
            if (!spare) {
                spare = s;
            }
        }
        else if (!(s->flags & LCRM_RL_PROTECTED)
                 && (!victim || expiry(s) < expiry(victim))) {
            victim = s;
        }
    }
    if (!counting) {
        return NULL;
    }
    return spare ? spare : victim;
}

/* Moves the slot's buckets forward to the bucket starting at start. */
static void roll(lcrm_rl_slot_t *s, apr_int64_t start)
{
    if (s->start == start) {
        return;
    }
    s->previous = (s->flags & LCRM_RL_SLIDING)
                  && s->start == start - (apr_int64_t)s->window ? s->count : 0;
    s->count = 0;
    s->start = start;
}

/*
 * Seconds from now until one more request would be allowed, for a
 * sliding window with previous/count before it (elapsed seconds into
 * the current bucket).
 */
static apr_int64_t sliding_wait(apr_uint64_t previous, apr_uint64_t count,
                                apr_uint64_t w, apr_uint64_t limit,
                                apr_uint64_t elapsed)
{
    apr_uint64_t need, t;

    /* inside this bucket: previous * (w - elapsed - t) + (count + 1) * w
     * <= limit * w, possible only while previous still weighs */
    if (previous > 0 && (count + 1) <= limit) {
        need = previous * (w - elapsed) + (count + 1) * w - limit * w;
        t = (need + previous - 1) / previous;
        if (t < w - elapsed) {
            return t > 0 ? (apr_int64_t)t : 1;
        }
    }
    /* in the next bucket (its elapsed e): count * (w - e) + w <= limit * w */
    if (count + 1 <= limit) {
        return (apr_int64_t)(w - elapsed);
    }
    t = ((count + 1 - limit) * w + count - 1) / count;
    return (apr_int64_t)(w - elapsed + t);
}

void lcrm_rl_decide(const lcrm_rl_spec_t *spec, apr_uint32_t previous,
                    apr_uint32_t count, apr_int64_t now,
                    lcrm_rl_result_t *res)
{
    apr_uint64_t w = spec->window, limit = spec->limit;
    apr_uint64_t elapsed = (apr_uint64_t)(now % (apr_int64_t)w);
    apr_uint64_t prev = (spec->flags & LCRM_RL_SLIDING) ? previous : 0;
    /* weighted count, scaled by w, with this request */
    apr_uint64_t used = prev * (w - elapsed) + ((apr_uint64_t)count + 1) * w;

    res->limit = spec->limit;
    res->allowed = used <= limit * w;
    if (res->allowed) {
        res->remaining = (apr_uint32_t)((limit * w - used) / w);
        res->reset = (apr_int64_t)(w - elapsed);
    }
    else {
        used -= w;     /* not counted */
        res->remaining = used < limit * w
                         ? (apr_uint32_t)((limit * w - used) / w) : 0;
        res->reset = (spec->flags & LCRM_RL_SLIDING)
                     ? sliding_wait(prev, count, w, limit, elapsed)
                     : (apr_int64_t)(w - elapsed);
    }
}

lcrm_rl_status_e lcrm_rl_hit(lcrm_rl_table_t *t, apr_uint64_t key,
                             const lcrm_rl_spec_t *spec, apr_int64_t now,
                             int consume, lcrm_rl_result_t *res)
{
    apr_int64_t start = now - now % (apr_int64_t)spec->window;
    lcrm_rl_slot_t *s = find_slot(t, key, now, consume > 0);
    apr_uint32_t previous = 0, count = 0;

    if (!s && consume > 0) {
        return LCRM_RL_FULL;
    }
    if (s && s->key != key) {
        s->key = key;
        s->window = spec->window;
        s->flags = spec->flags;
        s->start = start;
        s->count = s->previous = 0;
    }
    if (s) {
        roll(s, start);
        if (consume < 0 && s->count > 0) {
            s->count--;
        }
        else if (consume < 0 && s->previous > 0) {
            s->previous--;      /* the reservation fell into the last bucket */
        }
        previous = s->previous;
        count = s->count;
    }
    lcrm_rl_decide(spec, previous, count, now, res);
    if (res->allowed && consume > 0) {
        s->count++;
    }
    return LCRM_RL_OK;
}

/* ---- client grouping ---------------------------------------------------- */

const char *lcrm_rl_client(const char *ip, int v6prefix, char *out,
                           apr_size_t outlen)
{
    unsigned char a[16];
    int i;

    if (!strchr(ip, ':') || inet_pton(AF_INET6, ip, a) != 1) {
        return ip;
    }
    for (i = 0; i < 10 && a[i] == 0; i++) {
    }
    if (i == 10 && a[10] == 0xff && a[11] == 0xff) {
        return inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen) ? out : ip;
    }
    for (i = 0; i < 16; i++) {
        int keep = v6prefix - 8 * i;
        if (keep <= 0) {
            a[i] = 0;
        }
        else if (keep < 8) {
            a[i] &= (unsigned char)(0xff << (8 - keep));
        }
    }
    if (!inet_ntop(AF_INET6, a, out, (socklen_t)outlen)) {
        return ip;
    }
    if (v6prefix < 128) {
        apr_size_t n = strlen(out);
        snprintf(out + n, outlen - n, "/%d", v6prefix);
    }
    return out;
}
