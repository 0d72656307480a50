/*
 * lcrm_problem: the table of stable error codes of API.md and their HTTP
 * status and title, shared by the module and the tests.
 */
#ifndef LCRM_PROBLEM_H
#define LCRM_PROBLEM_H

typedef struct {
    const char *code;   /* stable machine-readable `code` */
    int status;         /* HTTP status */
    const char *title;  /* short human title */
} lcrm_problem_t;

/* Looks up code; returns NULL when it is not a known code. */
const lcrm_problem_t *lcrm_problem_find(const char *code);

/* The whole table, terminated by an entry whose code is NULL. */
extern const lcrm_problem_t lcrm_problems[];

#endif
