/*
 * lcrm_role: the three roles and their order (USER < ADMIN < SUPER_ADMIN).
 */
#ifndef LCRM_ROLE_H
#define LCRM_ROLE_H

typedef enum {
    LCRM_ROLE_USER = 0,
    LCRM_ROLE_ADMIN = 1,
    LCRM_ROLE_SUPER_ADMIN = 2
} lcrm_role_e;

#define LCRM_ROLE_COUNT 3

/* Parses an exact role name; returns the role or -1. */
int lcrm_role_parse(const char *name);

/* The name of a role (NULL for an out-of-range value). */
const char *lcrm_role_name(int role);

/* Names in order, NULL-terminated (for enum field validation). */
extern const char *const lcrm_role_names[];

#endif
