/*
 * lcrm_api: the resource families.  Each is a content handler, mapped with
 * SetHandler in conf/leadcrm.conf, whose file holds its route table, its
 * SQL and its endpoint functions.
 */
#ifndef LCRM_API_H
#define LCRM_API_H

#include <httpd.h>

int lcrm_health_handler(request_rec *r);  /* leadcrm-health */
int lcrm_auth_handler(request_rec *r);    /* leadcrm-auth */
int lcrm_users_handler(request_rec *r);   /* leadcrm-users */
int lcrm_leads_handler(request_rec *r);   /* leadcrm-leads */
int lcrm_consultations_handler(request_rec *r); /* leadcrm-consultations */

#endif
