/*
 * lcrm_schema: the API vocabulary the handlers and the fuzzers share
 * (issue 10.19).  Iterates every body table: names unique and camelCase,
 * enums carry their values, bounds sane, at most 64 fields (the presence
 * mask); and pins the fields that copies had lost (consultation update's
 * timezone and meetingType, the profile table).
 */
#include "unit.h"
#include "lcrm_schema.h"
#include "lcrm_role.h"

#include <string.h>

static const lcrm_field_t *find(const lcrm_field_t *t, int n, const char *name)
{
    int i;
    for (i = 0; i < n; i++) {
        if (!strcmp(t[i].name, name)) {
            return &t[i];
        }
    }
    return NULL;
}

static void test_every_table(void)
{
    int b, i, j;

    CU_ASSERT(lcrm_schema_nbodies == 9);
    for (b = 0; b < lcrm_schema_nbodies; b++) {
        const lcrm_schema_body_t *body = &lcrm_schema_bodies[b];
        CU_ASSERT(body->nfields > 0 && body->nfields <= 64);
        for (i = 0; i < body->nfields; i++) {
            const lcrm_field_t *f = &body->fields[i];
            CU_ASSERT(f->name && f->name[0] >= 'a' && f->name[0] <= 'z');
            CU_ASSERT(!strchr(f->name, '_'));
            CU_ASSERT((f->kind == LCRM_FK_ENUM) == (f->enum_values != NULL));
            CU_ASSERT(f->min <= f->max || f->kind == LCRM_FK_ENUM
                      || f->kind == LCRM_FK_BOOL);
            for (j = i + 1; j < body->nfields; j++) {
                CU_ASSERT(strcmp(f->name, body->fields[j].name) != 0);
            }
        }
    }
}

static void test_enums(void)
{
    const char *const *lists[] = {
        lcrm_schema_lead_statuses, lcrm_schema_lead_sources,
        lcrm_schema_consultation_statuses, lcrm_schema_meeting_types,
    };
    int counts[] = {6, 7, 5, 3}, i, n;

    for (i = 0; i < 4; i++) {
        for (n = 0; lists[i][n]; n++) {
            CU_ASSERT(strspn(lists[i][n], "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
                      == strlen(lists[i][n]));
        }
        CU_ASSERT(n == counts[i]);
    }
}

static void test_drifted_fields_present(void)
{
    const lcrm_field_t *f;

    f = find(lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE,
             "timezone");
    CU_ASSERT(f && f->kind == LCRM_FK_TEXT);
    f = find(lcrm_schema_consultation_update, LCRM_SCHEMA_NCONSULTATION_UPDATE,
             "meetingType");
    CU_ASSERT(f && f->enum_values == lcrm_schema_meeting_types);
    f = find(lcrm_schema_profile, LCRM_SCHEMA_NPROFILE, "bio");
    CU_ASSERT(f && f->kind == LCRM_FK_MULTILINE);
    CU_ASSERT(!find(lcrm_schema_profile, LCRM_SCHEMA_NPROFILE, "role"));
    CU_ASSERT(!find(lcrm_schema_profile, LCRM_SCHEMA_NPROFILE, "email"));
    f = find(lcrm_schema_user_update, LCRM_SCHEMA_NUSER_UPDATE, "role");
    CU_ASSERT(f && f->enum_values == lcrm_role_names);
    f = find(lcrm_schema_lead_update, LCRM_SCHEMA_NLEAD_UPDATE, "status");
    CU_ASSERT(f && f->enum_values == lcrm_schema_lead_statuses);
    /* capture fields are required on create only */
    CU_ASSERT(find(lcrm_schema_lead_create, LCRM_SCHEMA_NLEAD_CREATE,
                   "email")->flags & LCRM_F_REQUIRED);
    CU_ASSERT(!(find(lcrm_schema_lead_update, LCRM_SCHEMA_NLEAD_UPDATE,
                     "email")->flags & LCRM_F_REQUIRED));
}

void lcrm_test_register_schema(void)
{
    CU_pSuite s = lcrm_test_suite("schema");
    LCRM_TEST(s, test_every_table);
    LCRM_TEST(s, test_enums);
    LCRM_TEST(s, test_drifted_fields_present);
}
