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
extern const lcrm_family_t lcrm_oidc_family;          /* leadcrm-oidc */

/* OIDC sign-in (lcrm_oidc.c) uses login's refresh token and cookie. */
struct lcrm_ctx;
apr_status_t lcrm_auth_new_refresh(struct lcrm_ctx *ctx, const char **token,
                                   const char **hash);
void lcrm_auth_set_refresh_cookie(struct lcrm_ctx *ctx, const char *token);

/* GET /auth/identities and DELETE /auth/identities/:id (lcrm_oidc.c),
 * routed by the leadcrm-auth family. */
int lcrm_oidc_identities_list(struct lcrm_ctx *ctx);
int lcrm_oidc_identities_delete(struct lcrm_ctx *ctx);

#endif
