/* driver_sqlite.c: the SQLite driver, the embedded default.
 *
 * The migration lock is SQLite's own write lock (BEGIN IMMEDIATE), waited for by a busy
 * handler that says once that it waits. Foreign keys are on for every connection. */
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "driver_impl.h"
#include "output.h"
#include "sql_lex.h"

typedef struct sqlite_conn {
    db_conn base;
    sqlite3 *db;
    int wait_timeout_ms; /* 0 = wait forever */
    int waited_ms;
    bool said_waiting;
    volatile sig_atomic_t interrupted; /* set by a signal: stop waiting for the lock */
} sqlite_conn;

static int sqlite_error(sqlite_conn *sc, const char *sql, rb_error *err)
{
    const char *msg = sqlite3_errmsg(sc->db);
    rb_errorf(err, RB_ERR_FAILURE, "%s", msg);
    /* SQLite has no code of its own for a missing table, only this message: the one place
     * it is matched. It is RB_ERR_NOT_FOUND, as on PostgreSQL, and carries PostgreSQL's
     * SQLSTATE so that a migration's handler (e.sqlstate == "42P01") works on both. */
    if (strncmp(msg, "no such table", 13) == 0) {
        err->kind = RB_ERR_NOT_FOUND;
        rb_strlcpy(err->sqlstate, "42P01", sizeof err->sqlstate);
    }
    if (sql)
        rb_strlcpy(err->statement, sql, sizeof err->statement);
    return -1;
}

static int busy_wait(void *arg, int attempts)
{
    sqlite_conn *sc = arg;
    if (attempts == 0)
        sc->waited_ms = 0;
    if (!sc->said_waiting) {
        out_note("waiting for the database lock held by another process");
        sc->said_waiting = true;
    }
    if (sc->interrupted || (sc->wait_timeout_ms > 0 && sc->waited_ms >= sc->wait_timeout_ms))
        return 0;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    sc->waited_ms += 10;
    return 1;
}

/* Binds $1..$n by number and `?` by position. One pass over the statement's parameter
 * slots: looking each "$i" up by name would make a 30,000-parameter INSERT quadratic. */
static int bind_params(sqlite3_stmt *st, int nparams, const db_value *params)
{
    int count = sqlite3_bind_parameter_count(st);
    for (int idx = 1; idx <= count; idx++) {
        const char *name = sqlite3_bind_parameter_name(st, idx);
        long i = idx - 1;
        if (name && name[0] == '$' && name[1] >= '1' && name[1] <= '9')
            i = strtol(name + 1, NULL, 10) - 1;
        if (i < 0 || i >= nparams)
            continue; /* unbound parameters are NULL, as in sqlite3 */
        const db_value *v = &params[i];
        int rc = SQLITE_OK;
        switch (v->type) {
        case DBV_NULL: rc = sqlite3_bind_null(st, idx); break;
        case DBV_INT: rc = sqlite3_bind_int64(st, idx, v->i); break;
        case DBV_FLOAT: rc = sqlite3_bind_double(st, idx, v->f); break;
        case DBV_BOOL: rc = sqlite3_bind_int(st, idx, v->b ? 1 : 0); break;
        case DBV_TEXT: rc = sqlite3_bind_text(st, idx, v->text, (int)v->len, SQLITE_TRANSIENT); break;
        }
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static int sqlite_exec(db_conn *c, const char *sql, int nparams, const db_value *params,
                       db_result **rows, long long *affected, rb_error *err)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    db_result *out = NULL;
    int rc = -1;

    if (sqlite3_prepare_v2(sc->db, sql, -1, &st, &tail) != SQLITE_OK) {
        sqlite_error(sc, sql, err);
        goto done;
    }
    if (tail && !sql_lex_is_blank(tail)) {
        rb_errorf(err, RB_ERR_FAILURE, "one statement at a time: db:exec was given several");
        rb_strlcpy(err->statement, sql, sizeof err->statement);
        goto done;
    }
    if (!st) { /* empty statement or only a comment */
        rc = 0;
        goto done;
    }
    if (bind_params(st, nparams, params) != SQLITE_OK) {
        sqlite_error(sc, sql, err);
        goto done;
    }
    int ncols = sqlite3_column_count(st);
    if (rows && !(out = db_result_new(ncols)))
        goto oom;
    for (int j = 0; out && j < ncols; j++)
        if (!(out->names[j] = strdup(sqlite3_column_name(st, j))))
            goto oom;
    sqlite3_int64 changes_before = sqlite3_total_changes64(sc->db);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out)
            continue;
        db_value *row = db_result_add_row(out);
        if (!row)
            goto oom;
        for (int j = 0; j < ncols; j++) {
            db_value *v = &row[j];
            switch (sqlite3_column_type(st, j)) {
            case SQLITE_NULL: break;
            case SQLITE_INTEGER: v->type = DBV_INT; v->i = sqlite3_column_int64(st, j); break;
            case SQLITE_FLOAT: v->type = DBV_FLOAT; v->f = sqlite3_column_double(st, j); break;
            default: {
                const char *s = (const char *)sqlite3_column_text(st, j);
                v->type = DBV_TEXT;
                v->len = (size_t)sqlite3_column_bytes(st, j);
                char *copy = malloc(v->len + 1);
                if (!copy)
                    goto oom;
                memcpy(copy, s ? s : "", v->len);
                copy[v->len] = '\0';
                v->text = copy;
            }
            }
        }
    }
    if (step != SQLITE_DONE) {
        sqlite_error(sc, sql, err);
        goto done;
    }
    if (affected)
        /* sqlite3_changes64 keeps the last DML count across DDL; the difference of the
         * running total is right for every statement. */
        *affected = sqlite3_total_changes64(sc->db) - changes_before;
    if (rows) {
        *rows = out;
        out = NULL;
    }
    rc = 0;
    goto done;
oom:
    rb_errorf(err, RB_ERR_FAILURE, "out of memory");
done:
    db_result_free(out);
    sqlite3_finalize(st);
    return rc;
}

/* db:exec_script: SQLite's own reading of a script, as sqlite3_exec does it, one prepared
 * statement after another over the text (the tail pointer is where the next begins), so
 * the failing one is known with where it starts. Results are read and dropped. */
static int sqlite_exec_script(db_conn *c, const char *sql, int *stmt_no, size_t *offset,
                              rb_error *err)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    const char *p = sql;
    int n = 0, rc = 0;
    while (rc == 0 && *p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int prc = sqlite3_prepare_v2(sc->db, p, -1, &st, &tail);
        if (prc == SQLITE_OK && !st) /* only blanks or comments were left */
            break;
        n++;
        if (prc == SQLITE_OK) {
            int step;
            while ((step = sqlite3_step(st)) == SQLITE_ROW)
                ;
            prc = step == SQLITE_DONE ? SQLITE_OK : step;
        }
        if (prc != SQLITE_OK) {
            /* A statement SQLite could not prepare ends where it stopped reading: shown to
             * the end of that line. */
            const char *end = tail && tail > p ? tail : p + strlen(p);
            if (!st)
                end += strcspn(end, "\n");
            size_t len = (size_t)(end - p);
            char *text = strndup(p, len);
            *stmt_no = n;
            *offset = (size_t)(p - sql);
            sqlite_error(sc, NULL, err);
            if (text)
                rb_strlcpy(err->statement, text, sizeof err->statement);
            free(text);
            rc = -1;
        }
        sqlite3_finalize(st);
        p = tail ? tail : p + strlen(p);
    }
    if (rc == 0 && c->in_transaction && sqlite3_get_autocommit(sc->db))
        rc = rb_errorf(err, RB_ERR_FAILURE, "the script ended the migration's transaction "
                       "(COMMIT or ROLLBACK in it): what it did before may be committed");
    return rc;
}

static int sqlite_begin_locked(db_conn *c, long long key, const char *read_sql,
                               db_result **rows, rb_error *err)
{
    (void)key; /* the database file is the unit of locking */
    sqlite_conn *sc = (sqlite_conn *)c;
    sc->said_waiting = false;
    if (sqlite3_exec(sc->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        if (sqlite3_errcode(sc->db) == SQLITE_BUSY) {
            rb_errorf(err, RB_ERR_LOCK_TIMEOUT,
                      "timed out after %d ms waiting for the database lock", sc->wait_timeout_ms);
            rb_strlcpy(err->hint, "another process holds the SQLite write lock; retry, or raise "
                       "--lock-timeout", sizeof err->hint);
            return -1;
        }
        return sqlite_error(sc, "BEGIN IMMEDIATE", err);
    }
    if (read_sql && sqlite_exec(c, read_sql, 0, NULL, rows, NULL, err) != 0) {
        sqlite3_exec(sc->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static int sqlite_commit(db_conn *c, rb_error *err)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    if (sqlite3_exec(sc->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        /* A COMMIT refused (a deferred foreign key) leaves SQLite's transaction open, where
         * PostgreSQL's is over: end it, so that callers see one behaviour. */
        sqlite_error(sc, "COMMIT", err);
        if (!sqlite3_get_autocommit(sc->db))
            sqlite3_exec(sc->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

static void sqlite_rollback(db_conn *c)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    if (!sqlite3_get_autocommit(sc->db))
        sqlite3_exec(sc->db, "ROLLBACK", NULL, NULL, NULL);
}

static void sqlite_interrupt(db_conn *c)
{
    ((sqlite_conn *)c)->interrupted = 1;
    sqlite3_interrupt(((sqlite_conn *)c)->db);
}

static char *sqlite_quote_ident(db_conn *c, const char *name)
{
    (void)c;
    return db_quote_ident_generic(name);
}

static int sqlite_set_foreign_keys(db_conn *c, bool on, rb_error *err)
{
    return sqlite_exec(c, on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF", 0, NULL,
                       NULL, NULL, err);
}

static int sqlite_foreign_key_check(db_conn *c, db_result **rows, rb_error *err)
{
    return sqlite_exec(c, "PRAGMA foreign_key_check", 0, NULL, rows, NULL, err);
}

static const char *sqlite_current_user(db_conn *c)
{
    (void)c;
    const char *user = getenv("USER");
    return user ? user : "";
}

static void sqlite_close(db_conn *c)
{
    sqlite_conn *sc = (sqlite_conn *)c;
    sqlite3_close_v2(sc->db);
    free(sc);
}

static const driver_ops sqlite_ops = {
    .name = "sqlite",
    .dialect = DIALECT_SQLITE,
    .caps = DB_CAP_READ | DB_CAP_EXECUTE,
    .exec = sqlite_exec,
    .exec_script = sqlite_exec_script,
    .begin_locked = sqlite_begin_locked,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .interrupt = sqlite_interrupt,
    .quote_ident = sqlite_quote_ident,
    .set_foreign_keys = sqlite_set_foreign_keys,
    .foreign_key_check = sqlite_foreign_key_check,
    .current_user = sqlite_current_user,
    .close = sqlite_close,
};

static int sqlite_open_conn(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err)
{
    char *path = NULL;
    if (config_sqlite_path(cfg->database_url, &path, err) != 0)
        return -1;
    sqlite_conn *sc = calloc(1, sizeof *sc);
    if (!sc) {
        free(path);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    sc->base.ops = &sqlite_ops;
    sc->wait_timeout_ms = opts->lock_timeout_ms;
    bool memory = strcmp(path, ":memory:") == 0;
    int flags = opts->read_only && !memory ? SQLITE_OPEN_READONLY
                                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (opts->read_only && !memory && access(path, F_OK) != 0) {
        /* An inspection command never creates the file: it reads as an empty database. */
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        free(path);
        path = strdup(":memory:");
        if (!path) {
            free(sc);
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
    }
    if (sqlite3_open_v2(path, &sc->db, flags, NULL) != SQLITE_OK) {
        /* SQLite says only "unable to open database file": name a missing directory. */
        const char *slash = strrchr(path, '/');
        char *dir = slash && slash != path ? strndup(path, (size_t)(slash - path)) : NULL;
        struct stat st;
        if (dir && stat(dir, &st) != 0 && errno == ENOENT)
            rb_errorf(err, RB_ERR_FAILURE, "cannot open SQLite database '%s': directory '%s' "
                      "does not exist", path, dir);
        else
            rb_errorf(err, RB_ERR_FAILURE, "cannot open SQLite database '%s': %s", path,
                      sc->db ? sqlite3_errmsg(sc->db) : "out of memory");
        free(dir);
        free(path);
        sqlite_close(&sc->base);
        return -1;
    }
    sqlite3_extended_result_codes(sc->db, 0);
    sqlite3_busy_handler(sc->db, busy_wait, sc);
    /* Reading the schema proves the file is a database before anything else happens. */
    if (sqlite3_exec(sc->db, "PRAGMA foreign_keys = ON; SELECT count(*) FROM sqlite_master",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rb_errorf(err, RB_ERR_FAILURE, "cannot open SQLite database '%s': %s", path,
                  sqlite3_errmsg(sc->db));
        free(path);
        sqlite_close(&sc->base);
        return -1;
    }
    free(path);
    *out = &sc->base;
    return 0;
}

const db_driver db_driver_sqlite = {.dialect = DIALECT_SQLITE, .open = sqlite_open_conn};
