/*
 * lcrm_storage: the module's locations are not files.  A request that a
 * leadcrm-* handler will answer skips httpd's map to storage (the
 * <Directory> walk and its stat(2) of every path segment, <Files>,
 * .htaccess), as mod_proxy's locations do; <Location> sections, which
 * carry the module's configuration, apply as before.
 */
#ifndef LCRM_STORAGE_H
#define LCRM_STORAGE_H

#include <httpd.h>

/* translate_name hook: marks a request whose location's SetHandler names
 * a leadcrm-* handler.  Always DECLINED (translation goes on). */
int lcrm_storage_translate(request_rec *r);

/* map_to_storage hook (run first): OK for a marked request whose URI
 * translation left unchanged (no directory walk), else DECLINED.  TRACE
 * stays with httpd (TraceEnable). */
int lcrm_storage_map(request_rec *r);

#endif
