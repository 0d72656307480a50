/*
 * lcrm_fields: body validation from field tables (see lcrm_fields.h).
 */
#include "lcrm_fields.h"
#include "lcrm_validate.h"

#include <apr_strings.h>
#include <math.h>
#include <string.h>

void lcrm_fields_error(apr_array_header_t *errors, const char *field,
                       const char *message)
{
    lcrm_field_error_t *e = apr_array_push(errors);
    e->field = field;
    e->message = message;
}

int lcrm_fields_index(const lcrm_field_t *specs, int n, const char *name)
{
    int i;
    for (i = 0; i < n; i++) {
        if (!strcmp(specs[i].name, name)) {
            return i;
        }
    }
    return -1;
}

int lcrm_fields_has(const lcrm_fields_t *f, const lcrm_field_t *specs,
                    int n, const char *name)
{
    int i = lcrm_fields_index(specs, n, name);
    return i >= 0 && (f->present & ((apr_uint64_t)1 << i));
}

const char *lcrm_fields_get(const lcrm_fields_t *f, const lcrm_field_t *specs,
                            int n, const char *name)
{
    int i = lcrm_fields_index(specs, n, name);
    return i >= 0 ? f->values[i] : NULL;
}

static const char *check_length(const lcrm_field_t *spec, apr_size_t cps)
{
    if ((apr_int64_t)cps < spec->min) {
        return spec->min <= 1 ? "must not be empty" : "is too short";
    }
    if ((apr_int64_t)cps > spec->max) {
        return "is too long";
    }
    return NULL;
}

static const char *check_enum(const lcrm_field_t *spec, const char *s)
{
    const char *const *e;
    for (e = spec->enum_values; *e; e++) {
        if (!strcmp(*e, s)) {
            return NULL;
        }
    }
    return "is not an allowed value";
}

/* Checks a JSON string value by kind; *text gets the SQL text. */
static const char *string_value(apr_pool_t *pool, const lcrm_field_t *spec,
                                json_object *v, const char **text)
{
    const char *s = json_object_get_string(v), *err;
    apr_size_t len = (apr_size_t)json_object_get_string_len(v), cps = 0;
    apr_time_t t;

    if (len != strlen(s)) {
        return "must not contain NUL characters";
    }
    if (spec->max > 0 && (apr_int64_t)len > 4 * spec->max + 4) {
        return "is too long"; /* cheap bound before any scanning */
    }
    if ((err = lcrm_check_text(s, len, spec->kind == LCRM_FK_MULTILINE, &cps))) {
        return err;
    }
    if (spec->kind == LCRM_FK_PASSWORD) {
        *text = s;
        return lcrm_check_password(s, len);
    }
    if (spec->kind == LCRM_FK_SECRET) {
        *text = s;
        return (apr_int64_t)len > spec->max ? "is too long" : NULL;
    }
    *text = s;
    switch (spec->kind) {
    case LCRM_FK_EMAIL:
        *text = lcrm_normalize_email(pool, s, len);
        return (err = check_length(spec, strlen(*text))) ? err
                                                         : lcrm_check_email(*text);
    case LCRM_FK_PHONE:
        return lcrm_check_phone(s);
    case LCRM_FK_HTTP_URL:
    case LCRM_FK_HTTPS_URL:
        return (err = check_length(spec, cps)) ? err
               : lcrm_check_url(s, spec->kind == LCRM_FK_HTTPS_URL);
    case LCRM_FK_UUID:
        *text = lcrm_uuid_lower(pool, s);
        return lcrm_is_uuid(s) ? NULL : "must be a UUID";
    case LCRM_FK_TIMESTAMP:
        if ((err = lcrm_parse_rfc3339(s, &t))) {
            return err;
        }
        *text = lcrm_format_rfc3339(pool, t);
        return NULL;
    case LCRM_FK_ENUM:
        return check_enum(spec, s);
    default:
        return check_length(spec, cps);
    }
}

/* Checks a JSON number by kind; *text gets the SQL text. */
static const char *number_value(apr_pool_t *pool, const lcrm_field_t *spec,
                                json_object *v, const char **text)
{
    if (spec->kind == LCRM_FK_INT) {
        apr_int64_t i;
        if (!json_object_is_type(v, json_type_int)) {
            return "must be an integer";
        }
        i = json_object_get_int64(v);
        if (i < spec->min || i > spec->max) {
            return "is out of range";
        }
        *text = apr_psprintf(pool, "%" APR_INT64_T_FMT, i);
        return NULL;
    }
    else {
        /*
         * Exact test, no libm (the module must load into an httpd that
         * does not link libm): d has at most 2 decimals when it is the
         * double nearest to c / 100 for the integer c nearest to d * 100.
         * |d| < 4e13 keeps c below 2^52, where that rounding is exact.
         */
        double d = json_object_get_double(v), cents = d * 100.0;
        apr_int64_t c, a;
        if (!isfinite(d) || d < (double)spec->min || d > (double)spec->max
            || d >= 4e13 || d <= -4e13) {
            return "is out of range";
        }
        c = (apr_int64_t)(cents < 0 ? cents - 0.5 : cents + 0.5);
        if ((double)c / 100.0 != d) {
            return "must have at most 2 decimals";
        }
        a = c < 0 ? -c : c;
        *text = apr_psprintf(pool, "%s%" APR_INT64_T_FMT ".%02d",
                             c < 0 ? "-" : "", a / 100, (int)(a % 100));
        return NULL;
    }
}

static const char *type_name(lcrm_field_kind_e kind)
{
    switch (kind) {
    case LCRM_FK_INT: return "must be an integer";
    case LCRM_FK_MONEY: return "must be a number";
    case LCRM_FK_BOOL: return "must be a boolean";
    default: return "must be a string";
    }
}

/* Validates one present field; returns an error message or NULL. */
static const char *one_field(apr_pool_t *pool, const lcrm_field_t *spec,
                             json_object *v, const char **text)
{
    json_type t = json_object_get_type(v);

    *text = NULL;
    if (t == json_type_null) {
        return (spec->flags & LCRM_F_NULLABLE) ? NULL : "must not be null";
    }
    switch (spec->kind) {
    case LCRM_FK_BOOL:
        if (t != json_type_boolean) {
            return type_name(spec->kind);
        }
        *text = json_object_get_boolean(v) ? "true" : "false";
        return NULL;
    case LCRM_FK_INT:
    case LCRM_FK_MONEY:
        if (t != json_type_int && t != json_type_double) {
            return type_name(spec->kind);
        }
        return number_value(pool, spec, v, text);
    default:
        if (t != json_type_string) {
            return type_name(spec->kind);
        }
        return string_value(pool, spec, v, text);
    }
}

apr_status_t lcrm_fields_extract(apr_pool_t *pool, json_object *body,
                                 const lcrm_field_t *specs, int n,
                                 lcrm_fields_t *out)
{
    int i;

    out->values = apr_pcalloc(pool, sizeof(char *) * (apr_size_t)(n + 1));
    out->present = 0;
    out->errors = apr_array_make(pool, 4, sizeof(lcrm_field_error_t));

    json_object_object_foreach(body, key, val) {
        const char *err;
        i = lcrm_fields_index(specs, n, key);
        if (i < 0 || i >= LCRM_FIELDS_MAX) {
            lcrm_fields_error(out->errors, apr_pstrdup(pool, key),
                              "is not a known field");
            continue;
        }
        out->present |= (apr_uint64_t)1 << i;
        if ((err = one_field(pool, &specs[i], val, &out->values[i]))) {
            lcrm_fields_error(out->errors, specs[i].name, err);
        }
    }
    for (i = 0; i < n; i++) {
        if ((specs[i].flags & LCRM_F_REQUIRED)
            && !(out->present & ((apr_uint64_t)1 << i))) {
            lcrm_fields_error(out->errors, specs[i].name, "is required");
        }
    }
    return out->errors->nelts ? APR_EINVAL : APR_SUCCESS;
}
