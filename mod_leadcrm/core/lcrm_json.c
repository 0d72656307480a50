/*
 * lcrm_json: strict parsing over json-c 0.16 (see lcrm_json.h).
 *
 * json-c silently keeps the last of duplicate keys, so after a successful
 * parse we re-scan the raw text and compare each object's member count in
 * document order with the parsed tree: a duplicate anywhere makes the first
 * affected object's counts differ.
 */
#include "lcrm_json.h"

#include <apr_strings.h>
#include <math.h>
#include <string.h>

static apr_status_t json_put_cleanup(void *data)
{
    json_object_put(data);
    return APR_SUCCESS;
}

json_object *lcrm_json_own(apr_pool_t *pool, json_object *obj)
{
    if (obj) {
        apr_pool_cleanup_register(pool, obj, json_put_cleanup,
                                  apr_pool_cleanup_null);
    }
    return obj;
}

const char *lcrm_json_dump(apr_pool_t *pool, json_object *obj)
{
    size_t len = 0;
    const char *s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    return apr_pstrmemdup(pool, s, len);
}

const char *lcrm_json_get_str(json_object *obj, const char *key,
                              apr_size_t *len)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v)
        || !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    if (len) {
        *len = (apr_size_t)json_object_get_string_len(v);
    }
    return json_object_get_string(v);
}

/* Member counts of every object in the raw text, in document order. */
typedef struct {
    int *counts;
    int nobjects;
    int cap;
} obj_counts_t;

/* Scans validated JSON text; returns -1 if it holds too many objects. */
static int scan_member_counts(const char *buf, apr_size_t len,
                              obj_counts_t *oc)
{
    int stack[LCRM_JSON_MAX_DEPTH * 4 + 8]; /* index into counts, or -1 */
    int depth = 0;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        char c = buf[i];
        if (c == '"') {
            for (i++; i < len && buf[i] != '"'; i++) {
                if (buf[i] == '\\') {
                    i++;
                }
            }
        }
        else if (c == '{' || c == '[') {
            if (depth >= (int)(sizeof(stack) / sizeof(stack[0]))) {
                return -1;
            }
            if (c == '{') {
                if (oc->nobjects >= oc->cap) {
                    return -1;
                }
                oc->counts[oc->nobjects] = 0;
                stack[depth++] = oc->nobjects++;
            }
            else {
                stack[depth++] = -1;
            }
        }
        else if (c == '}' || c == ']') {
            depth--;
        }
        else if (c == ':' && depth > 0 && stack[depth - 1] >= 0) {
            oc->counts[stack[depth - 1]]++;
        }
    }
    return 0;
}

/* Walks the tree in document order comparing counts; 0 when all match. */
static int compare_counts(json_object *v, const obj_counts_t *oc, int *next)
{
    if (json_object_is_type(v, json_type_object)) {
        int me = (*next)++;
        if (me >= oc->nobjects
            || oc->counts[me] != json_object_object_length(v)) {
            return -1;
        }
        json_object_object_foreach(v, key, child) {
            (void)key;
            if (compare_counts(child, oc, next) != 0) {
                return -1;
            }
        }
    }
    else if (json_object_is_type(v, json_type_array)) {
        size_t i, n = json_object_array_length(v);
        for (i = 0; i < n; i++) {
            if (compare_counts(json_object_array_get_idx(v, i), oc, next)) {
                return -1;
            }
        }
    }
    else if (json_object_is_type(v, json_type_double)) {
        if (!isfinite(json_object_get_double(v))) {
            return -1;
        }
    }
    return 0;
}

static int has_duplicates(apr_pool_t *pool, json_object *root,
                          const char *buf, apr_size_t len)
{
    obj_counts_t oc;
    apr_size_t i;
    int next = 0;

    oc.cap = 1;
    for (i = 0; i < len; i++) {
        oc.cap += (buf[i] == '{');
    }
    oc.counts = apr_palloc(pool, sizeof(int) * (apr_size_t)oc.cap);
    oc.nobjects = 0;
    if (scan_member_counts(buf, len, &oc) != 0) {
        return 1;
    }
    return compare_counts(root, &oc, &next) != 0 || next != oc.nobjects;
}

/* RFC 8259: control characters must be escaped inside strings. */
/* Value of the 4 hex digits at s (already validated by json-c), or -1. */
static long hex4(const char *s, apr_size_t avail)
{
    long v = 0;
    int i;
    if (avail < 4) {
        return -1;
    }
    for (i = 0; i < 4; i++) {
        char c = s[i];
        v = v * 16 + (c >= '0' && c <= '9' ? c - '0'
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1000);
    }
    return v < 0 ? -1 : v;
}

/*
 * Inside strings: a raw control character (RFC 8259 wants it escaped)
 * -> 1; a \u escape of a lone surrogate (not Unicode text; json-c would
 * silently make it U+FFFD, so it could not round-trip) -> 2; else 0.
 */
static int bad_string_char(const char *buf, apr_size_t len)
{
    apr_size_t i;
    int in_string = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (in_string && c < 0x20) {
            return 1;
        }
        if (c == '"') {
            in_string = !in_string;
        }
        else if (c == '\\' && in_string && i + 1 < len && buf[i + 1] == 'u') {
            long u = hex4(buf + i + 2, len - i - 2), lo;
            if (u >= 0xDC00 && u <= 0xDFFF) {
                return 2;
            }
            if (u >= 0xD800 && u <= 0xDBFF) {
                lo = i + 11 < len && buf[i + 6] == '\\' && buf[i + 7] == 'u'
                         ? hex4(buf + i + 8, len - i - 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    return 2;
                }
                i += 6;
            }
            i += 5;
        }
        else if (c == '\\' && in_string) {
            i++;
        }
    }
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), 0 if none. */
static apr_size_t utf8_len(const unsigned char *s, apr_size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    apr_size_t len, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;   /* no overlong forms */
        hi = c == 0xED ? 0x9F : 0xBF;   /* no surrogates */
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;   /* <= U+10FFFF */
    }
    else {
        return 0;
    }
    if (len > n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return len;
}

/*
 * What json-c's strict mode still lets through, checked on text it has
 * accepted: more than max_depth nested objects/arrays (its tokener depth
 * also counts a scalar member as a level, so it is set one higher),
 * single-quoted keys, and UTF-8 that is overlong, encodes a surrogate or
 * exceeds U+10FFFF.  Returns NULL when the text is clean.
 */
static const char *lexical_error(const char *buf, apr_size_t len,
                                 int max_depth)
{
    const unsigned char *u = (const unsigned char *)buf;
    apr_size_t i, n;
    int depth = 0;

    for (i = 0; i < len; i++) {
        if (u[i] == '"') {
            for (i++; i < len && u[i] != '"'; i += n) {
                n = u[i] == '\\' ? 2 : utf8_len(u + i, len - i);
                if (n == 0) {
                    return "body is not valid UTF-8";
                }
            }
        }
        else if (u[i] == '{' || u[i] == '[') {
            if (++depth > max_depth) {
                return "JSON nesting is too deep";
            }
        }
        else if (u[i] == '}' || u[i] == ']') {
            depth--;
        }
        else if (u[i] == '\'') {
            return "body is not valid JSON";
        }
    }
    return NULL;
}

static int only_space(const char *p, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') {
            return 0;
        }
    }
    return 1;
}

apr_status_t lcrm_json_parse_value(apr_pool_t *pool, const char *buf,
                                   apr_size_t len, int max_depth,
                                   json_object **out, const char **why)
{
    json_tokener *tok;
    json_object *root;
    size_t used;

    *out = NULL;
    if (len == 0 || len > (apr_size_t)INT32_MAX || memchr(buf, '\0', len)) {
        *why = "body is not valid JSON";
        return APR_EINVAL;
    }
    /* json-c's tokener depth D admits D - 1 levels of nesting */
    tok = json_tokener_new_ex(max_depth + 1);
    if (!tok) {
        *why = "body is not valid JSON";
        return APR_ENOMEM;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
                                    | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, buf, (int)len);
    used = json_tokener_get_parse_end(tok);
    if (!root || json_tokener_get_error(tok) != json_tokener_success) {
        *why = json_tokener_get_error(tok) == json_tokener_error_depth
                   ? "JSON nesting is too deep" : "body is not valid JSON";
        json_tokener_free(tok);
        json_object_put(root);
        return APR_EINVAL;
    }
    json_tokener_free(tok);
    lcrm_json_own(pool, root);
    if (!only_space(buf + used, len - used)) {
        *why = "trailing data after the JSON value";
        return APR_EINVAL;
    }
    if ((*why = lexical_error(buf, len, max_depth))) {
        return APR_EINVAL;
    }
    switch (bad_string_char(buf, len)) {
    case 1:
        *why = "unescaped control character in a JSON string";
        return APR_EINVAL;
    case 2:
        *why = "lone surrogate escape in a JSON string";
        return APR_EINVAL;
    default:
        break;
    }
    if (has_duplicates(pool, root, buf, len)) {
        *why = "duplicate keys or non-finite numbers in JSON";
        return APR_EINVAL;
    }
    *out = root;
    return APR_SUCCESS;
}

apr_status_t lcrm_json_parse_object(apr_pool_t *pool, const char *buf,
                                    apr_size_t len, json_object **out,
                                    const char **why)
{
    apr_status_t rv = lcrm_json_parse_value(pool, buf, len,
                                            LCRM_JSON_MAX_DEPTH, out, why);
    if (rv == APR_SUCCESS && !json_object_is_type(*out, json_type_object)) {
        *why = "the JSON body must be an object";
        *out = NULL;
        return APR_EINVAL;
    }
    return rv;
}
