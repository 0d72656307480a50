/*
 * lcrm_role: role names and order (see lcrm_role.h).
 */
#include "lcrm_role.h"

#include <string.h>

const char *const lcrm_role_names[] = {"USER", "ADMIN", "SUPER_ADMIN", NULL};

int lcrm_role_parse(const char *name)
{
    int i;
    for (i = 0; i < LCRM_ROLE_COUNT; i++) {
        if (name && !strcmp(name, lcrm_role_names[i])) {
            return i;
        }
    }
    return -1;
}

const char *lcrm_role_name(int role)
{
    return role >= 0 && role < LCRM_ROLE_COUNT ? lcrm_role_names[role] : NULL;
}
