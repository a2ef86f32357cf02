/* driver_offline.c: the --sql driver. Nothing runs; each statement is written to stdout
 * with its parameters inlined as literals, ready for `psql -v ON_ERROR_STOP=1` or sqlite3.
 *
 * A driver rather than a script writer beside the runner: migrations, the schema builder,
 * the RBAC helpers and the version store all speak through the driver interface, so the
 * script holds exactly the statements an online run would send, in the same order, from one
 * executor. What --sql cannot do it says through its capabilities (driver_impl.h: neither
 * DB_CAP_READ nor DB_CAP_EXECUTE), which the runner asks instead of testing for --sql. It is
 * opened by db_open's offline option for the URL's dialect, not registered by a scheme. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_impl.h"
#include "output.h"
#include "sql_lex.h"

typedef struct offline_conn {
    db_conn base;
    char *search_path_sql; /* as the online PostgreSQL driver sets it, or NULL */
} offline_conn;

/* Writes sql with $N replaced by literals; $N inside quotes or comments is left alone. */
static int write_statement(db_dialect dialect, const char *sql, int nparams,
                           const db_value *params, rb_error *err)
{
    size_t cap = strlen(sql) + 64, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    size_t comment_end = (size_t)-1; /* where the last "--" comment ended in buf */
    sql_lexer lx;
    sql_token t;
    sql_lex_init(&lx, sql);
    while (sql_lex_next(&lx, &t)) {
        const char *piece = t.start;
        size_t piece_len = t.len;
        char *literal = NULL;
        /* $N inside quotes, comments and $tag$ bodies (whose $1 belongs to the function) is
         * no token of its own, so it stays as written. */
        if (t.kind == SQL_TOK_PARAM && nparams > 0) {
            if (t.number > nparams) {
                free(buf);
                return rb_errorf(err, RB_ERR_FAILURE,
                                 "statement uses $%ld but only %d parameters were given",
                                 t.number, nparams);
            }
            if (db_literal(&params[t.number - 1], dialect, &literal, &piece_len, err) != 0) {
                free(buf);
                return rb_error_prefix(err, "cannot write parameter $%ld", t.number);
            }
            piece = literal;
        }
        if (n + piece_len + 4 > cap) {
            cap = (n + piece_len + 4) * 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(literal);
                free(buf);
                return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            }
            buf = grown;
        }
        memcpy(buf + n, piece, piece_len);
        n += piece_len;
        if (t.kind == SQL_TOK_LINE_COMMENT)
            comment_end = n;
        free(literal);
    }
    /* One terminating semicolon, whatever the statement ended with. */
    while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\n' || buf[n - 1] == '\t'))
        n--;
    if (n > 0 && buf[n - 1] == ';')
        n--;
    if (n == comment_end) /* a trailing "--" comment would swallow the ';' */
        buf[n++] = '\n';
    memcpy(buf + n, ";\n", 3);
    out_sql(buf);
    free(buf);
    return 0;
}

static int offline_exec(db_conn *c, const char *sql, int nparams, const db_value *params,
                        db_result **rows, long long *affected, rb_error *err)
{
    if (rows)
        return rb_errorf(err, RB_ERR_FAILURE,
                         "cannot read from the database in --sql mode (db:query and db:scalar "
                         "need a live connection)");
    if (affected)
        *affected = 0;
    return write_statement(c->ops->dialect, sql, nparams, params, err);
}

/* db:exec_script: the script as written, which is what psql or sqlite3 reads anyway, with
 * the one terminating semicolon a statement gets here (the last statement of a script may
 * lack its own, and the next line written is COMMIT). */
static int offline_exec_script(db_conn *c, const char *sql, int *stmt_no, size_t *offset,
                               rb_error *err)
{
    (void)stmt_no;
    (void)offset;
    return write_statement(c->ops->dialect, sql, 0, NULL, err);
}

static int offline_begin_locked(db_conn *c, long long key, const char *read_sql,
                                db_result **rows, rb_error *err)
{
    (void)key;
    if (read_sql || rows)
        return rb_errorf(err, RB_ERR_FAILURE, "cannot read from the database in --sql mode");
    (void)err;
    out_sql(c->ops->dialect == DIALECT_SQLITE ? "\nBEGIN IMMEDIATE;\n" : "\nBEGIN;\n");
    offline_conn *oc = (offline_conn *)c;
    if (oc->search_path_sql)
        out_sql(oc->search_path_sql);
    return 0;
}

static int offline_commit(db_conn *c, rb_error *err)
{
    (void)c;
    (void)err;
    out_sql("COMMIT;\n");
    return 0;
}

static void offline_rollback(db_conn *c)
{
    (void)c;
}

static char *offline_quote_ident(db_conn *c, const char *name)
{
    (void)c;
    return db_quote_ident_generic(name);
}

static const char *offline_current_user(db_conn *c)
{
    (void)c;
    return "";
}

static void offline_close(db_conn *c)
{
    free(((offline_conn *)c)->search_path_sql);
    free(c);
}

/* Neither DB_CAP_READ nor DB_CAP_EXECUTE: the script is written, nothing runs. */
static const driver_ops offline_pg_ops = {
    .name = "postgresql", .dialect = DIALECT_POSTGRESQL, .exec = offline_exec,
    .exec_script = offline_exec_script, .begin_locked = offline_begin_locked,
    .commit = offline_commit, .rollback = offline_rollback, .quote_ident = offline_quote_ident,
    .current_user = offline_current_user, .close = offline_close,
};
static const driver_ops offline_sqlite_ops = {
    .name = "sqlite", .dialect = DIALECT_SQLITE, .exec = offline_exec,
    .exec_script = offline_exec_script, .begin_locked = offline_begin_locked,
    .commit = offline_commit, .rollback = offline_rollback, .quote_ident = offline_quote_ident,
    .current_user = offline_current_user, .close = offline_close,
};

int offline_open(const config *cfg, db_dialect dialect, db_conn **out, rb_error *err)
{
    offline_conn *oc = calloc(1, sizeof *oc);
    if (!oc)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    if (dialect == DIALECT_POSTGRESQL && cfg->schema && strcmp(cfg->schema, "public") != 0) {
        char *q = db_quote_ident_generic(cfg->schema);
        size_t n = q ? strlen(q) + 64 : 0;
        if (!q || !(oc->search_path_sql = malloc(n))) {
            free(q);
            free(oc);
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
        snprintf(oc->search_path_sql, n, "SET LOCAL search_path TO %s, public;\n", q);
        free(q);
    }
    oc->base.ops = dialect == DIALECT_SQLITE ? &offline_sqlite_ops : &offline_pg_ops;
    *out = &oc->base;
    return 0;
}
