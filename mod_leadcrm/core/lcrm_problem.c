/*
 * lcrm_problem: stable error codes (API.md "Every error is RFC 9457").
 */
#include "lcrm_problem.h"

#include <string.h>

const lcrm_problem_t lcrm_problems[] = {
    {"bad_request", 400, "Bad Request"},
    {"invalid_json", 400, "Invalid JSON"},
    {"validation_failed", 400, "Validation Failed"},
    {"invalid_query", 400, "Invalid Query Parameters"},
    {"unauthorized", 401, "Unauthorized"},
    {"invalid_token", 401, "Invalid Token"},
    {"invalid_credentials", 401, "Invalid Credentials"},
    {"token_reused", 401, "Refresh Token Reused"},
    {"forbidden", 403, "Forbidden"},
    {"invalid_current_password", 403, "Invalid Current Password"},
    {"origin_not_allowed", 403, "Origin Not Allowed"},
    {"not_found", 404, "Not Found"},
    {"method_not_allowed", 405, "Method Not Allowed"},
    {"email_taken", 409, "Email Taken"},
    {"slot_taken", 409, "Slot Taken"},
    {"invalid_transition", 409, "Invalid Status Transition"},
    {"conflict", 409, "Conflict"},
    {"request_timeout", 408, "Request Timeout"},
    {"last_sign_in_method", 409, "Last Sign-In Method"},
    {"payload_too_large", 413, "Payload Too Large"},
    {"uri_too_long", 414, "URI Too Long"},
    {"unsupported_media_type", 415, "Unsupported Media Type"},
    {"rate_limited", 429, "Too Many Requests"},
    {"header_too_large", 431, "Request Header Fields Too Large"},
    /* account security (API.md part 2): MFA, keys */
    {"invalid_code", 400, "Invalid Code"},
    {"insufficient_scope", 403, "Insufficient Scope"},
    {"mfa_enrollment_required", 403, "MFA Enrollment Required"},
    {"password_required", 403, "Password Required"},
    {"mfa_already_enabled", 409, "MFA Already Enabled"},
    {"mfa_not_enabled", 409, "MFA Not Enabled"},
    {"mfa_setup_required", 409, "MFA Setup Required"},
    {"internal_error", 500, "Internal Server Error"},
    {"service_unavailable", 503, "Service Unavailable"},
    /* mail, verification and reset (API.md part 2) */
    {"invalid_or_expired_token", 400, "Invalid or Expired Token"},
    {"email_not_verified", 403, "Email Not Verified"},
    {"email_already_verified", 409, "Email Already Verified"},
    {"mail_unavailable", 503, "Mail Unavailable"},
    {NULL, 0, NULL}
};

const lcrm_problem_t *lcrm_problem_find(const char *code)
{
    const lcrm_problem_t *p;
    for (p = lcrm_problems; p->code; p++) {
        if (!strcmp(p->code, code)) {
            return p;
        }
    }
    return NULL;
}
