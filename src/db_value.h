/* db_value.h: the values that cross the driver interface (parameters, result cells, result
 * sets) and the SQL text made from them: quoted identifiers and literals. Below the drivers:
 * every driver and everything above them uses it, and it calls none of them. Depends on
 * error.h and dialect.h only. */
#ifndef RBACMIG_DB_VALUE_H
#define RBACMIG_DB_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "dialect.h"
#include "error.h"

typedef enum { DBV_NULL, DBV_INT, DBV_FLOAT, DBV_BOOL, DBV_TEXT } db_value_type;

/* A parameter or a result cell. In parameters `text` is borrowed from the caller; in a
 * db_result it is owned by the result. Text is NUL-terminated; `len` excludes the NUL. */
typedef struct db_value {
    db_value_type type;
    long long i;
    double f;
    bool b;
    const char *text;
    size_t len;
} db_value;

/* Rows of a query, column-major names, row-major cells; freed with db_result_free. */
typedef struct db_result {
    int ncols;
    int nrows;
    char **names;
    db_value *cells;
} db_result;

void db_result_free(db_result *result);
static inline const db_value *db_result_cell(const db_result *r, int row, int col)
{
    return &r->cells[(size_t)row * (size_t)r->ncols + (size_t)col];
}
/* Allocates an empty result of ncols columns; cells grow with db_result_add_row. */
db_result *db_result_new(int ncols);
/* Appends a row of NULLs and returns it for the driver to fill (text via strndup). */
db_value *db_result_add_row(db_result *r);

/* Helpers for parameters. */
static inline db_value dbv_text(const char *s)
{
    db_value v = {.type = s ? DBV_TEXT : DBV_NULL, .text = s, .len = s ? __builtin_strlen(s) : 0};
    return v;
}
static inline db_value dbv_int(long long i)
{
    db_value v = {.type = DBV_INT, .i = i};
    return v;
}
static inline db_value dbv_bool(bool b)
{
    db_value v = {.type = DBV_BOOL, .b = b};
    return v;
}

/* `"name"` with embedded quotes doubled; both dialects accept it. Caller frees. */
char *db_quote_ident_generic(const char *name);
/* A SQL literal for v ('text' with quotes doubled, numbers, TRUE/FALSE or 1/0, NULL), for
 * --sql output where there is no server to bind parameters: *out (the caller frees it) is
 * *len bytes and never holds a NUL. Text with a NUL byte is CAST(X'..' AS TEXT) on SQLite
 * and an error on PostgreSQL, whose text cannot store one. */
int db_literal(const db_value *v, db_dialect dialect, char **out, size_t *len, rb_error *err);

#endif
