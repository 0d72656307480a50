/*
 * lcrm_fields: declarative validation of a JSON request body.
 *
 * A handler describes the fields it accepts in a const table; one call
 * checks types (no coercion), presence, lengths, ranges and formats,
 * reports unknown fields, and turns every accepted value into the text
 * form bound as an SQL parameter.  A bitmask records which fields were
 * sent, so PUT/PATCH can change only those.
 */
#ifndef LCRM_FIELDS_H
#define LCRM_FIELDS_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <json-c/json.h>

typedef enum {
    LCRM_FK_TEXT,       /* single-line text, min..max code points */
    LCRM_FK_MULTILINE,  /* text that may hold newline and tab */
    LCRM_FK_EMAIL,      /* trimmed and lowercased, <= max */
    LCRM_FK_PHONE,
    LCRM_FK_HTTP_URL,   /* http or https, <= max */
    LCRM_FK_HTTPS_URL,
    LCRM_FK_UUID,       /* lowercased */
    LCRM_FK_TIMESTAMP,  /* RFC 3339, normalised to ...Z */
    LCRM_FK_ENUM,       /* one of enum_values, exact case */
    LCRM_FK_PASSWORD,   /* 8 code points .. 72 bytes, no NUL */
    LCRM_FK_SECRET,     /* no NUL/control chars, <= max bytes (login) */
    LCRM_FK_INT,        /* JSON integer in min..max */
    LCRM_FK_MONEY,      /* JSON number in min..max, at most 2 decimals */
    LCRM_FK_BOOL
} lcrm_field_kind_e;

#define LCRM_F_REQUIRED 0x1  /* must be present and not null */
#define LCRM_F_NULLABLE 0x2  /* JSON null accepted (clears the column) */

typedef struct {
    const char *name;               /* camelCase JSON key */
    lcrm_field_kind_e kind;
    unsigned flags;
    apr_int64_t min, max;           /* lengths or numeric range */
    const char *const *enum_values; /* NULL-terminated, for LCRM_FK_ENUM */
} lcrm_field_t;

typedef struct {
    const char *field;
    const char *message;
} lcrm_field_error_t;

#define LCRM_FIELDS_MAX 64

typedef struct {
    const char **values;        /* by spec index: SQL text or NULL */
    apr_uint64_t present;       /* bit i: field i was in the body */
    apr_array_header_t *errors; /* of lcrm_field_error_t */
} lcrm_fields_t;

/*
 * Validates body against specs[0..n).  Always fills *out; returns
 * APR_SUCCESS when out->errors is empty, APR_EINVAL otherwise.
 */
apr_status_t lcrm_fields_extract(apr_pool_t *pool, json_object *body,
                                 const lcrm_field_t *specs, int n,
                                 lcrm_fields_t *out);

/* Index of name in specs, or -1. */
int lcrm_fields_index(const lcrm_field_t *specs, int n, const char *name);

/* Non-zero when field name was sent. */
int lcrm_fields_has(const lcrm_fields_t *f, const lcrm_field_t *specs,
                    int n, const char *name);

/* Value of field name (NULL when absent or null). */
const char *lcrm_fields_get(const lcrm_fields_t *f, const lcrm_field_t *specs,
                            int n, const char *name);

/* Adds one error to an error list. */
void lcrm_fields_error(apr_array_header_t *errors, const char *field,
                       const char *message);

#endif
