/*
 * lcrm_leads: the /api/leads family (API.md).  NOT IMPLEMENTED YET: every
 * request answers 404 until the endpoints land.
 */
#include "lcrm_api.h"
#include "lcrm_router.h"

int lcrm_leads_handler(request_rec *r)
{
    return lcrm_router_dispatch(r, NULL, 0);
}
