/*
 * lcrm_private.h: what every httpd-side file of mod_leadcrm shares: the
 * module declaration for per-module log levels and the LCRM_LOGNO() tag
 * that prefixes every log message (see README "Troubleshooting").
 */
#ifndef LCRM_PRIVATE_H
#define LCRM_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

/* mod_leadcrm.c gets this from AP_DECLARE_MODULE */
#ifndef LCRM_MODULE_FILE
APLOG_USE_MODULE(leadcrm);
#endif
extern module AP_MODULE_DECLARE_DATA leadcrm_module;

/* Tags look like "LCRM00042: "; numbers are never reused. */
#define LCRM_LOGNO(n) "LCRM" #n ": "

#define LCRM_VERSION "0.1.0"

#endif
