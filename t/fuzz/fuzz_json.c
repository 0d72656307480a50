/*
 * fuzz_json: the request-body path.  Each input is a raw body: it goes
 * through lcrm_json_parse_object and, when that accepts it, through
 * lcrm_fields_extract with every field table of the API (core
 * lcrm_schema, the tables the handlers use: no copies), which together
 * use every field kind, plus a table of edge bounds.
 *
 * Invariants checked beyond "no crash": an accepted body re-serialises to
 * text that is accepted again and serialises identically; an accepted
 * field set holds every required field, and every value handed to SQL
 * passes its kind's validator again (normalised emails and UUIDs are
 * lowercase, timestamps end in Z, money has two decimals, ...).
 */
#include "fuzz.h"
#include "lcrm_fields.h"
#include "lcrm_json.h"
#include "lcrm_role.h"
#include "lcrm_schema.h"
#include "lcrm_validate.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <string.h>

static const lcrm_field_t edge_fields[] = {
    {"delta", LCRM_FK_INT, LCRM_F_REQUIRED, -1000, 1000, NULL},
    {"balance", LCRM_FK_MONEY, 0, APR_INT64_C(-1000000000000),
     APR_INT64_C(1000000000000), NULL},
    {"token", LCRM_FK_SECRET, LCRM_F_NULLABLE, 0, 16, NULL},
    {"label", LCRM_FK_TEXT, 0, 3, 5, NULL},
};

typedef struct {
    const lcrm_field_t *specs;
    int n;
} table_t;

/* a table of edge kinds and bounds no API body uses */
static const table_t edge_table = {
    edge_fields, (int)(sizeof(edge_fields) / sizeof(edge_fields[0]))
};

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&root, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

static int has_upper(const char *s)
{
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'Z') {
            return 1;
        }
    }
    return 0;
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++) {
        if (!strcmp(*list, s)) {
            return 1;
        }
    }
    return 0;
}

/* "-?[0-9]+\.[0-9][0-9]" */
static int money_text(const char *s)
{
    const char *dot;
    if (*s == '-') {
        s++;
    }
    dot = strchr(s, '.');
    if (!dot || dot == s || strlen(dot) != 3) {
        return 0;
    }
    return strspn(s, "0123456789") == (size_t)(dot - s)
           && strspn(dot + 1, "0123456789") == 2;
}

static void check_text_len(const lcrm_field_t *spec, const char *v)
{
    apr_size_t cps = 0;
    FUZZ_CHECK(!lcrm_check_text(v, strlen(v),
                                spec->kind == LCRM_FK_MULTILINE, &cps),
               "accepted text fails lcrm_check_text");
    FUZZ_CHECK((apr_int64_t)cps >= spec->min && (apr_int64_t)cps <= spec->max,
               "accepted text length out of range");
}

/* An accepted value (the SQL text) must pass its kind's check again. */
static void check_value(apr_pool_t *p, const lcrm_field_t *spec,
                        const char *v)
{
    apr_time_t t;
    char *end;
    long long i;
    double d;

    switch (spec->kind) {
    case LCRM_FK_TEXT:
    case LCRM_FK_MULTILINE:
        check_text_len(spec, v);
        break;
    case LCRM_FK_EMAIL:
        FUZZ_CHECK(!lcrm_check_email(v), "accepted email fails check");
        FUZZ_CHECK(!has_upper(v), "accepted email not lowercased");
        FUZZ_CHECK((apr_int64_t)strlen(v) <= spec->max, "email too long");
        break;
    case LCRM_FK_PHONE:
        FUZZ_CHECK(!lcrm_check_phone(v), "accepted phone fails check");
        break;
    case LCRM_FK_HTTP_URL:
    case LCRM_FK_HTTPS_URL:
        FUZZ_CHECK(!lcrm_check_url(v, spec->kind == LCRM_FK_HTTPS_URL),
                   "accepted URL fails check");
        check_text_len(spec, v);
        break;
    case LCRM_FK_UUID:
        FUZZ_CHECK(lcrm_is_uuid(v) && !has_upper(v), "UUID not canonical");
        break;
    case LCRM_FK_TIMESTAMP:
        FUZZ_CHECK(strlen(v) >= 24 && v[strlen(v) - 1] == 'Z',
                   "timestamp not normalised to ...Z");
        if (strlen(v) == 24) { /* years past 9999 do not parse back */
            FUZZ_CHECK(!lcrm_parse_rfc3339(v, &t)
                       && !strcmp(lcrm_format_rfc3339(p, t), v),
                       "normalised timestamp does not round-trip");
        }
        break;
    case LCRM_FK_ENUM:
        FUZZ_CHECK(in_list(spec->enum_values, v), "enum value not listed");
        break;
    case LCRM_FK_PASSWORD:
        FUZZ_CHECK(!lcrm_check_password(v, strlen(v)),
                   "accepted password fails check");
        break;
    case LCRM_FK_SECRET:
        FUZZ_CHECK((apr_int64_t)strlen(v) <= spec->max, "secret too long");
        break;
    case LCRM_FK_INT:
        i = strtoll(v, &end, 10);
        FUZZ_CHECK(!*end && i >= spec->min && i <= spec->max,
                   "integer text out of range");
        break;
    case LCRM_FK_MONEY:
        d = strtod(v, &end);
        FUZZ_CHECK(!*end && money_text(v) && d >= (double)spec->min
                   && d <= (double)spec->max, "money text malformed");
        break;
    case LCRM_FK_BOOL:
        FUZZ_CHECK(!strcmp(v, "true") || !strcmp(v, "false"), "bool text");
        break;
    }
}

static void check_fields(apr_pool_t *p, json_object *body, const table_t *t)
{
    lcrm_fields_t f;
    apr_status_t rv = lcrm_fields_extract(p, body, t->specs, t->n, &f);
    int i;

    FUZZ_CHECK((rv == APR_SUCCESS) == (f.errors->nelts == 0),
               "status disagrees with the error list");
    FUZZ_NOTE("  table %s...: %d errors%s%s\n", t->specs[0].name,
              f.errors->nelts, f.errors->nelts ? ", first: " : "",
              f.errors->nelts ? APR_ARRAY_IDX(f.errors, 0,
                                              lcrm_field_error_t).field : "");
    for (i = 0; i < f.errors->nelts; i++) {
        const lcrm_field_error_t *e =
            &APR_ARRAY_IDX(f.errors, i, lcrm_field_error_t);
        FUZZ_CHECK(e->field && e->message, "error without field or message");
    }
    for (i = 0; i < t->n; i++) {
        int present = (f.present >> i) & 1;
        const char *v = f.values[i];
        FUZZ_CHECK(present == json_object_object_get_ex(body, t->specs[i].name,
                                                        NULL),
                   "present bit disagrees with the body");
        FUZZ_CHECK(present || !v, "value for an absent field");
        if (rv != APR_SUCCESS) {
            continue;
        }
        if (t->specs[i].flags & LCRM_F_REQUIRED) {
            FUZZ_CHECK(present && v, "required field missing");
        }
        if (v) {
            check_value(p, &t->specs[i], v);
        }
    }
}

/* An accepted body serialises to text that parses to the same text. */
static void check_round_trip(apr_pool_t *p, json_object *body)
{
    const char *text = lcrm_json_dump(p, body), *why = NULL;
    json_object *again = NULL;

    FUZZ_CHECK(lcrm_json_parse_object(p, text, strlen(text), &again, &why)
               == APR_SUCCESS, "re-serialised body is refused");
    FUZZ_CHECK(!strcmp(lcrm_json_dump(p, again), text),
               "re-serialised body differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *buf = malloc(size ? size : 1);  /* exact size: no terminator */
    json_object *body = NULL, *any = NULL;
    const char *why = NULL;
    apr_status_t rv;
    size_t i;

    if (!buf || apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    if (size) {
        memcpy(buf, data, size);
    }
    rv = lcrm_json_parse_object(p, buf, size, &body, &why);
    if (rv != APR_SUCCESS) {
        FUZZ_CHECK(!body && why, "refused body without a reason");
        FUZZ_NOTE("  refused: %s\n", why);
    }
    else {
        FUZZ_CHECK(body && json_object_is_type(body, json_type_object),
                   "accepted body is not an object");
        check_round_trip(p, body);
        /* every body table of the API, straight from core lcrm_schema */
        for (i = 0; i < (apr_size_t)lcrm_schema_nbodies; i++) {
            table_t t = {lcrm_schema_bodies[i].fields,
                         lcrm_schema_bodies[i].nfields};
            check_fields(p, body, &t);
        }
        check_fields(p, body, &edge_table);
    }
    /* the claims parser of lcrm_token (any top level, depth 4) */
    if (lcrm_json_parse_value(p, buf, size, 4, &any, &why) == APR_SUCCESS) {
        FUZZ_CHECK(any != NULL, "accepted value is NULL");
        FUZZ_CHECK(rv == APR_SUCCESS
                   || !json_object_is_type(any, json_type_object),
                   "object accepted at depth 4 but refused at depth 16");
    }
    apr_pool_destroy(p);
    free(buf);
    return 0;
}
