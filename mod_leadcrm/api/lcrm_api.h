/*
 * lcrm_api: the resource families.  Each is a content handler, mapped with
 * SetHandler in conf/leadcrm.conf, whose file holds its route table, its
 * SQL and its endpoint functions.
 */
#ifndef LCRM_API_H
#define LCRM_API_H

#include <httpd.h>
#include "lcrm_route.h"

/* A resource family: its SetHandler name and its route table. */
typedef struct {
    const char *handler;
    const lcrm_route_t *routes;
    int nroutes;
} lcrm_family_t;

extern const lcrm_family_t lcrm_health_family;        /* leadcrm-health */
extern const lcrm_family_t lcrm_auth_family;          /* leadcrm-auth */
extern const lcrm_family_t lcrm_users_family;         /* leadcrm-users */
extern const lcrm_family_t lcrm_leads_family;         /* leadcrm-leads */
extern const lcrm_family_t lcrm_consultations_family; /* leadcrm-consultations */
/* account security (lcrm_security.h) */
extern const lcrm_family_t lcrm_mfa_family;           /* leadcrm-auth */
extern const lcrm_family_t lcrm_sessions_family;      /* leadcrm-auth */
extern const lcrm_family_t lcrm_user_security_family; /* leadcrm-users */
extern const lcrm_family_t lcrm_keys_family;          /* leadcrm-keys */
extern const lcrm_family_t lcrm_audit_family;         /* leadcrm-audit */
extern const lcrm_family_t lcrm_notifications_family; /* leadcrm-notifications */

#endif
