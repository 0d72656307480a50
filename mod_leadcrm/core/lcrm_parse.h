/*
 * lcrm_parse: strict parsers for configuration values (integers with
 * bounds, durations with units, sizes, business hours).  Each returns NULL
 * on success or a short message naming what was expected.
 */
#ifndef LCRM_PARSE_H
#define LCRM_PARSE_H

#include <apr_pools.h>

/* A decimal integer in min..max, nothing else (no sign unless min < 0). */
const char *lcrm_parse_int(const char *s, apr_int64_t min, apr_int64_t max,
                           apr_int64_t *out);

/* A duration "<n>[s|m|h|d]" (bare number = seconds) in min..max seconds. */
const char *lcrm_parse_duration(const char *s, apr_int64_t min,
                                apr_int64_t max, apr_int64_t *secs);

/* A size "<n>[k|K|m|M]" in bytes within min..max. */
const char *lcrm_parse_size(const char *s, apr_int64_t min, apr_int64_t max,
                            apr_int64_t *bytes);

/* Business hours: open days (bit 0 = Monday .. bit 6 = Sunday) and times. */
typedef struct {
    unsigned days;      /* bitmask, Monday = bit 0 */
    int open_minute;    /* minutes after midnight, local */
    int close_minute;   /* exclusive */
} lcrm_hours_t;

/*
 * Parses "Mon-Fri 09:00-17:00" or "Mon,Wed,Fri 08:30-12:00".  Day names
 * are English three-letter abbreviations; ranges wrap (Sat-Mon).
 */
const char *lcrm_parse_hours(const char *s, lcrm_hours_t *h);

#endif
