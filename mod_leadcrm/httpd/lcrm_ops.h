/*
 * lcrm_ops: operator-facing start-up checks and the JSON access log item.
 */
#ifndef LCRM_OPS_H
#define LCRM_OPS_H

#include <httpd.h>

/*
 * pre_config: registers the mod_log_config item %^LJ (one JSON object per
 * request, valid JSON for any input) when mod_log_config is loaded.
 */
void lcrm_ops_pre_config(apr_pool_t *pconf);

/*
 * check_config (hooked last, after the MPM's): warns with the numbers when
 * DBDMax is below ThreadsPerChild or when DBDMax x child processes exceeds
 * PostgreSQL's default max_connections (100).  Never fails the start.
 */
int lcrm_ops_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s);

#endif
