/*
 * lcrm_csv: RFC 4180 cells for CSV exports (API.md part 2 "Leads: series
 * and export"): a cell holding `,` `"` CR or LF is quoted with `"` doubled;
 * NULL is an empty cell; a text cell that begins with `=`, `+`, `-`, `@`,
 * tab or CR gets a `'` prefix inside the cell, so spreadsheets never read
 * it as a formula.
 */
#ifndef LCRM_CSV_H
#define LCRM_CSV_H

#include <apr.h>

/* Bytes lcrm_csv_cell may write for v (an upper bound). */
apr_size_t lcrm_csv_cell_max(const char *v);

/*
 * Writes the cell for v (NULL = empty) at out, which has room for
 * lcrm_csv_cell_max(v) bytes; text non-zero applies the formula guard.
 * Returns the end of what was written (no NUL is added).
 */
char *lcrm_csv_cell(char *out, const char *v, int text);

#endif
