/*
 * lcrm_schema: the API's vocabulary in one httpd-free place: the enum
 * values and the field table of every request body (API.md), which the
 * api/ handlers validate with, and which the unit tests and the fuzz
 * harnesses iterate directly (no copies that can drift).  A table's order
 * is the argument order of the SQL that consumes it; the LCRM_SCHEMA_N*
 * counts are checked against the tables at compile time.
 */
#ifndef LCRM_SCHEMA_H
#define LCRM_SCHEMA_H

#include "lcrm_fields.h"

/* NULL-terminated enum values. */
extern const char *const lcrm_schema_lead_statuses[];
extern const char *const lcrm_schema_lead_sources[];
extern const char *const lcrm_schema_consultation_statuses[];
extern const char *const lcrm_schema_meeting_types[];

/* Request bodies. */
#define LCRM_SCHEMA_NREGISTER 6
#define LCRM_SCHEMA_NLOGIN 2
#define LCRM_SCHEMA_NPROFILE 5
#define LCRM_SCHEMA_NUSER_UPDATE 8
#define LCRM_SCHEMA_NPASSWORD 2
#define LCRM_SCHEMA_NLEAD_CREATE 14
#define LCRM_SCHEMA_NLEAD_UPDATE 20
#define LCRM_SCHEMA_NBOOK 11
#define LCRM_SCHEMA_NCONSULTATION_UPDATE 12

extern const lcrm_field_t lcrm_schema_register[];          /* POST /auth/register */
extern const lcrm_field_t lcrm_schema_login[];             /* POST /auth/login */
extern const lcrm_field_t lcrm_schema_profile[];           /* PUT /auth/profile */
extern const lcrm_field_t lcrm_schema_user_update[];       /* PUT|PATCH /api/users/:id */
extern const lcrm_field_t lcrm_schema_password[];          /* change-password */
extern const lcrm_field_t lcrm_schema_lead_create[];       /* POST /api/leads */
extern const lcrm_field_t lcrm_schema_lead_update[];       /* PUT|PATCH /api/leads/:id */
extern const lcrm_field_t lcrm_schema_book[];              /* POST /api/consultations */
extern const lcrm_field_t lcrm_schema_consultation_update[]; /* PUT|PATCH .../:id */

/* Every body table, for tests and fuzzers to iterate. */
typedef struct {
    const char *name;
    const lcrm_field_t *fields;
    int nfields;
} lcrm_schema_body_t;

extern const lcrm_schema_body_t lcrm_schema_bodies[];
extern const int lcrm_schema_nbodies;

#endif
