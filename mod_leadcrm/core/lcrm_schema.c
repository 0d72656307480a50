/*
 * lcrm_schema: the API's enums and request-body field tables (see
 * lcrm_schema.h).  Moved here from the api/ files, unchanged.
 */
#include "lcrm_schema.h"
#include "lcrm_role.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* ---- enums ------------------------------------------------------------ */

const char *const lcrm_schema_lead_statuses[] = {
    "NEW", "CONTACTED", "QUALIFIED", "PROPOSAL", "CONVERTED", "LOST", NULL
};
const char *const lcrm_schema_lead_sources[] = {
    "WEBSITE", "REFERRAL", "SOCIAL", "EMAIL", "ADS", "EVENT", "OTHER", NULL
};
const char *const lcrm_schema_consultation_statuses[] = {
    "SCHEDULED", "CONFIRMED", "COMPLETED", "CANCELLED", "NO_SHOW", NULL
};
const char *const lcrm_schema_meeting_types[] = {
    "VIDEO", "PHONE", "IN_PERSON", NULL
};

/* ---- auth -------------------------------------------------------------- */

const lcrm_field_t lcrm_schema_register[] = {
    {"email", LCRM_FK_EMAIL, LCRM_F_REQUIRED, 3, 254, NULL},
    {"password", LCRM_FK_PASSWORD, LCRM_F_REQUIRED, 8, 72, NULL},
    {"name", LCRM_FK_TEXT, LCRM_F_REQUIRED, 1, 100, NULL},
    {"company", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL},
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL},
    {"jobTitle", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 100, NULL},
};
_Static_assert(N(lcrm_schema_register) == LCRM_SCHEMA_NREGISTER, "register");

const lcrm_field_t lcrm_schema_login[] = {
    {"email", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 1024, NULL},
    {"password", LCRM_FK_SECRET, LCRM_F_REQUIRED, 0, 1024, NULL},
};
_Static_assert(N(lcrm_schema_login) == LCRM_SCHEMA_NLOGIN, "login");

const lcrm_field_t lcrm_schema_profile[] = {
    {"name", LCRM_FK_TEXT, 0, 1, 100, NULL},
    {"company", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL},
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL},
    {"jobTitle", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 100, NULL},
    {"bio", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 2000, NULL},
};
_Static_assert(N(lcrm_schema_profile) == LCRM_SCHEMA_NPROFILE, "profile");

/* ---- users (the order is the argument order of lcrm_user_update) ------ */

const lcrm_field_t lcrm_schema_user_update[] = {
    {"name", LCRM_FK_TEXT, 0, 1, 100, NULL},
    {"company", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL},
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL},
    {"jobTitle", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 100, NULL},
    {"bio", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 2000, NULL},
    {"role", LCRM_FK_ENUM, 0, 0, 32, lcrm_role_names},
    {"isActive", LCRM_FK_BOOL, 0, 0, 0, NULL},
    {"email", LCRM_FK_EMAIL, 0, 3, 254, NULL},
};
_Static_assert(N(lcrm_schema_user_update) == LCRM_SCHEMA_NUSER_UPDATE,
               "user update");

const lcrm_field_t lcrm_schema_password[] = {
    /* any string: a wrong one is 403 invalid_current_password, not 400 */
    {"currentPassword", LCRM_FK_SECRET, 0, 0, 1024, NULL},
    {"newPassword", LCRM_FK_PASSWORD, LCRM_F_REQUIRED, 8, 72, NULL},
};
_Static_assert(N(lcrm_schema_password) == LCRM_SCHEMA_NPASSWORD, "password");

/* ---- leads ------------------------------------------------------------- */

/* The capture fields, shared by create and update; REQ flags name and email. */
#define LEAD_CAPTURE_FIELDS(REQ) \
    {"name", LCRM_FK_TEXT, (REQ), 1, 100, NULL}, \
    {"email", LCRM_FK_EMAIL, (REQ), 3, 254, NULL}, \
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL}, \
    {"company", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"jobTitle", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 100, NULL}, \
    {"message", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 5000, NULL}, \
    {"source", LCRM_FK_ENUM, 0, 0, 0, lcrm_schema_lead_sources}, \
    {"utmSource", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmMedium", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmCampaign", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmTerm", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"utmContent", LCRM_FK_TEXT, LCRM_F_NULLABLE, 0, 200, NULL}, \
    {"referrer", LCRM_FK_HTTP_URL, LCRM_F_NULLABLE, 0, 2048, NULL}, \
    {"landingPage", LCRM_FK_HTTP_URL, LCRM_F_NULLABLE, 0, 2048, NULL}

/* POST /api/leads, in sql_create's column order (user_id comes last). */
const lcrm_field_t lcrm_schema_lead_create[] = {
    LEAD_CAPTURE_FIELDS(LCRM_F_REQUIRED)
};
_Static_assert(N(lcrm_schema_lead_create) == LCRM_SCHEMA_NLEAD_CREATE,
               "lead create");

/* PUT|PATCH /api/leads/:id: every lead field but id, userId, timestamps. */
const lcrm_field_t lcrm_schema_lead_update[] = {
    LEAD_CAPTURE_FIELDS(0),
    {"status", LCRM_FK_ENUM, 0, 0, 0, lcrm_schema_lead_statuses},
    {"score", LCRM_FK_INT, LCRM_F_NULLABLE, 0, 100, NULL},
    {"estimatedValue", LCRM_FK_MONEY, LCRM_F_NULLABLE, 0,
     APR_INT64_C(1000000000000), NULL},
    {"assignedToId", LCRM_FK_UUID, LCRM_F_NULLABLE, 0, 36, NULL},
    {"lostReason", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 500, NULL},
    {"notes", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 10000, NULL},
};
_Static_assert(N(lcrm_schema_lead_update) == LCRM_SCHEMA_NLEAD_UPDATE,
               "lead update");

/* ---- consultations ----------------------------------------------------- */

const lcrm_field_t lcrm_schema_book[] = {
    {"name", LCRM_FK_TEXT, LCRM_F_REQUIRED, 1, 100, NULL},
    {"email", LCRM_FK_EMAIL, LCRM_F_REQUIRED, 3, 254, NULL},
    {"phone", LCRM_FK_PHONE, LCRM_F_NULLABLE, 0, 32, NULL},
    {"topic", LCRM_FK_TEXT, LCRM_F_REQUIRED, 1, 200, NULL},
    {"notes", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 10000, NULL},
    {"scheduledAt", LCRM_FK_TIMESTAMP, LCRM_F_REQUIRED, 0, 64, NULL},
    {"durationMinutes", LCRM_FK_INT, 0, 15, 240, NULL},
    {"timezone", LCRM_FK_TEXT, 0, 1, 64, NULL},
    {"meetingType", LCRM_FK_ENUM, 0, 0, 32, lcrm_schema_meeting_types},
    {"consultantId", LCRM_FK_UUID, LCRM_F_NULLABLE, 0, 36, NULL},
    {"leadId", LCRM_FK_UUID, LCRM_F_NULLABLE, 0, 36, NULL},
};
_Static_assert(N(lcrm_schema_book) == LCRM_SCHEMA_NBOOK, "book");

const lcrm_field_t lcrm_schema_consultation_update[] = {
    {"scheduledAt", LCRM_FK_TIMESTAMP, 0, 0, 64, NULL},
    {"durationMinutes", LCRM_FK_INT, 0, 15, 240, NULL},
    {"timezone", LCRM_FK_TEXT, 0, 1, 64, NULL},
    {"meetingType", LCRM_FK_ENUM, 0, 0, 32, lcrm_schema_meeting_types},
    {"meetingLink", LCRM_FK_HTTPS_URL, LCRM_F_NULLABLE, 0, 2048, NULL},
    {"notes", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 10000, NULL},
    {"status", LCRM_FK_ENUM, 0, 0, 32, lcrm_schema_consultation_statuses},
    {"followUpRequired", LCRM_FK_BOOL, 0, 0, 0, NULL},
    {"followUpAt", LCRM_FK_TIMESTAMP, LCRM_F_NULLABLE, 0, 64, NULL},
    {"followUpNotes", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 5000, NULL},
    {"cancellationReason", LCRM_FK_MULTILINE, LCRM_F_NULLABLE, 0, 500, NULL},
    {"consultantId", LCRM_FK_UUID, LCRM_F_NULLABLE, 0, 36, NULL},
};
_Static_assert(N(lcrm_schema_consultation_update)
                   == LCRM_SCHEMA_NCONSULTATION_UPDATE,
               "consultation update");

/* ---- all bodies ---------------------------------------------------------- */

#define BODY(name, t, n) {name, t, n}
const lcrm_schema_body_t lcrm_schema_bodies[] = {
    BODY("register", lcrm_schema_register, LCRM_SCHEMA_NREGISTER),
    BODY("login", lcrm_schema_login, LCRM_SCHEMA_NLOGIN),
    BODY("profile", lcrm_schema_profile, LCRM_SCHEMA_NPROFILE),
    BODY("user update", lcrm_schema_user_update, LCRM_SCHEMA_NUSER_UPDATE),
    BODY("password", lcrm_schema_password, LCRM_SCHEMA_NPASSWORD),
    BODY("lead create", lcrm_schema_lead_create, LCRM_SCHEMA_NLEAD_CREATE),
    BODY("lead update", lcrm_schema_lead_update, LCRM_SCHEMA_NLEAD_UPDATE),
    BODY("book", lcrm_schema_book, LCRM_SCHEMA_NBOOK),
    BODY("consultation update", lcrm_schema_consultation_update,
         LCRM_SCHEMA_NCONSULTATION_UPDATE),
};
const int lcrm_schema_nbodies = (int)N(lcrm_schema_bodies);
