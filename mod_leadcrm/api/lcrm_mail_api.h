/*
 * lcrm_mail_api: what api/lcrm_mail.c offers the /auth family: its four
 * routes (LCRM_MAIL_AUTH_ROUTES, spliced into the auth route table) and
 * the LeadCRMRequireVerifiedEmail checks for register, login and refresh.
 */
#ifndef LCRM_MAIL_API_H
#define LCRM_MAIL_API_H

#include "lcrm_router.h"

int lcrm_mail_verify_email(lcrm_ctx_t *ctx);
int lcrm_mail_verify_resend(lcrm_ctx_t *ctx);
int lcrm_mail_password_forgot(lcrm_ctx_t *ctx);
int lcrm_mail_password_reset(lcrm_ctx_t *ctx);

#define LCRM_MAIL_AUTH_ROUTES \
    LCRM_ENDPOINT("POST", "/auth/verify-email", lcrm_mail_verify_email, \
                  LCRM_RF_BODY | LCRM_RF_RL_AUTH, NULL), \
    LCRM_ENDPOINT("POST", "/auth/verify-email/resend", \
                  lcrm_mail_verify_resend, \
                  LCRM_RF_OPT_AUTH | LCRM_RF_OWN_BODY, NULL), \
    LCRM_ENDPOINT("POST", "/auth/password/forgot", lcrm_mail_password_forgot, \
                  LCRM_RF_OWN_BODY, NULL), \
    LCRM_ENDPOINT("POST", "/auth/password/reset", lcrm_mail_password_reset, \
                  LCRM_RF_BODY | LCRM_RF_RL_AUTH, NULL)

/*
 * With LeadCRMRequireVerifiedEmail On and user_id not verified: answers
 * 403 email_not_verified (or the database problem) and returns 1; else 0.
 */
int lcrm_mail_unverified(lcrm_ctx_t *ctx, const char *user_id);

/*
 * Register's answer under LeadCRMRequireVerifiedEmail On: the new session
 * is revoked and 201 {user} is sent without tokens or cookie (returns
 * OK).  DECLINED when the directive is off (answer as usual).
 */
int lcrm_mail_register_answer(lcrm_ctx_t *ctx, const char *user_id,
                              const char *user_json);

#endif
