/*
 * lcrm_csv: CSV cells (see lcrm_csv.h).
 */
#include "lcrm_csv.h"

#include <string.h>

apr_size_t lcrm_csv_cell_max(const char *v)
{
    return v ? 2 * strlen(v) + 3 : 0;
}

char *lcrm_csv_cell(char *out, const char *v, int text)
{
    int guard, quote;
    const char *s;

    if (!v) {
        return out;
    }
    guard = text && *v && strchr("=+-@\t\r", *v) != NULL;
    quote = strpbrk(v, ",\"\r\n") != NULL;
    if (quote) {
        *out++ = '"';
    }
    if (guard) {
        *out++ = '\'';
    }
    for (s = v; *s; s++) {
        if (*s == '"') {
            *out++ = '"';
        }
        *out++ = *s;
    }
    if (quote) {
        *out++ = '"';
    }
    return out;
}
