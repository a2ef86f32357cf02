/* db_value.c: result sets, quoted identifiers and SQL literals (see db_value.h). */
#include "db_value.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void db_result_free(db_result *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->ncols; i++)
        free(r->names[i]);
    free(r->names);
    size_t n = (size_t)r->nrows * (size_t)r->ncols;
    for (size_t i = 0; i < n; i++)
        free((void *)(uintptr_t)r->cells[i].text); /* a result owns its cells' text */
    free(r->cells);
    free(r);
}

db_result *db_result_new(int ncols)
{
    db_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ncols = ncols;
    if (ncols > 0 && !(r->names = calloc((size_t)ncols, sizeof *r->names))) {
        free(r);
        return NULL;
    }
    return r;
}

db_value *db_result_add_row(db_result *r)
{
    size_t ncells = (size_t)(r->nrows + 1) * (size_t)r->ncols;
    /* Grow geometrically: capacity is the next power of two of the row count. */
    int rows = r->nrows;
    if (rows == 0 || (rows & (rows - 1)) == 0) {
        size_t cap = rows == 0 ? 1 : (size_t)rows * 2;
        db_value *grown = realloc(r->cells, sizeof *grown * cap * (size_t)(r->ncols ? r->ncols : 1));
        if (!grown)
            return NULL;
        r->cells = grown;
    }
    db_value *row = &r->cells[ncells - (size_t)r->ncols];
    memset(row, 0, sizeof *row * (size_t)r->ncols);
    r->nrows++;
    return row;
}

char *db_quote_ident_generic(const char *name)
{
    size_t n = strlen(name), quotes = 0;
    for (size_t i = 0; i < n; i++)
        quotes += name[i] == '"';
    char *out = malloc(n + quotes + 3);
    if (!out)
        return NULL;
    char *p = out;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"')
            *p++ = '"';
        *p++ = name[i];
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

static int literal_done(char *text, size_t n, char **out, size_t *len, rb_error *err)
{
    if (!text)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    *out = text;
    *len = n;
    return 0;
}

static int literal_of(const char *text, char **out, size_t *len, rb_error *err)
{
    char *copy = strdup(text);
    return literal_done(copy, copy ? strlen(copy) : 0, out, len, err);
}

int db_literal(const db_value *v, db_dialect dialect, char **out, size_t *len, rb_error *err)
{
    char buf[64];
    *out = NULL;
    *len = 0;
    switch (v->type) {
    case DBV_NULL:
        return literal_of("NULL", out, len, err);
    case DBV_INT:
        snprintf(buf, sizeof buf, "%lld", v->i);
        return literal_of(buf, out, len, err);
    case DBV_FLOAT:
        if (!isfinite(v->f))
            return literal_of(isnan(v->f) ? "'NaN'" : v->f > 0 ? "'Infinity'" : "'-Infinity'",
                              out, len, err);
        snprintf(buf, sizeof buf, "%.17g", v->f);
        return literal_of(buf, out, len, err);
    case DBV_BOOL:
        if (dialect == DIALECT_SQLITE)
            return literal_of(v->b ? "1" : "0", out, len, err);
        return literal_of(v->b ? "TRUE" : "FALSE", out, len, err);
    case DBV_TEXT:
        break;
    }
    /* A script is text: a NUL inside it would end it for every reader (psql, sqlite3, this
     * file's own callers), so a text value holding one never becomes a quoted literal.
     * SQLite stores such text, and gets it as a blob cast to text; PostgreSQL cannot. */
    if (v->len > 0 && memchr(v->text, '\0', v->len)) {
        if (dialect != DIALECT_SQLITE)
            return rb_errorf(err, RB_ERR_FAILURE,
                             "a text value holds a NUL byte, which PostgreSQL text cannot store");
        static const char hex[] = "0123456789ABCDEF";
        size_t n = v->len * 2 + sizeof "CAST(X'' AS TEXT)" - 1;
        char *blob = malloc(n + 1);
        if (!blob)
            return literal_done(NULL, 0, out, len, err);
        char *p = blob + sprintf(blob, "CAST(X'");
        for (size_t i = 0; i < v->len; i++) {
            *p++ = hex[(unsigned char)v->text[i] >> 4];
            *p++ = hex[(unsigned char)v->text[i] & 15];
        }
        memcpy(p, "' AS TEXT)", sizeof "' AS TEXT)");
        return literal_done(blob, n, out, len, err);
    }
    size_t quotes = 0;
    for (size_t i = 0; i < v->len; i++)
        quotes += v->text[i] == '\'';
    char *text = malloc(v->len + quotes + 3);
    if (!text)
        return literal_done(NULL, 0, out, len, err);
    char *p = text;
    *p++ = '\'';
    for (size_t i = 0; i < v->len; i++) {
        if (v->text[i] == '\'')
            *p++ = '\'';
        *p++ = v->text[i];
    }
    *p++ = '\'';
    *p = '\0';
    return literal_done(text, (size_t)(p - text), out, len, err);
}
