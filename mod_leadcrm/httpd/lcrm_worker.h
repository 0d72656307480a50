/*
 * lcrm_worker: the background mail worker (API.md part 2 "Mail and
 * notifications").  A mod_watchdog callback of a child-process singleton
 * instance (one running worker per node, as mod_md and mod_proxy_hcheck
 * use it), called every second: it publishes the node's mail settings,
 * turns deferred token jobs into tokens and outbox rows, queues due
 * reminders, then leases due outbox rows (FOR UPDATE SKIP LOCKED, so
 * several nodes never hold one row), renders and sends each through
 * libcurl and records the outcome.  Nothing here runs on a request
 * thread.  The worker knows outbox rows, not resources: what it renders
 * comes from one query per row.
 */
#ifndef LCRM_WORKER_H
#define LCRM_WORKER_H

#include <httpd.h>

/*
 * post_config: when LeadCRMSMTPServer is set, initialises libcurl and
 * registers the watchdog callback.  Returns OK, or an HTTP error status
 * (logged) when mod_watchdog is missing.
 */
int lcrm_worker_post_config(apr_pool_t *pconf, server_rec *s);

#endif
