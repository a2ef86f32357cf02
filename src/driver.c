/* driver.c: the registry of drivers (one per URL scheme's dialect), and the calls that go
 * through a connection's driver, with the transaction state they keep. */
#include "driver.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "driver_impl.h"
#include "sql_lex.h"

/* The drivers, by the dialect a URL's scheme names (as Redis keeps its engines in a table):
 * a new driver is one entry here and one file. */
static const db_driver *const drivers[] = {
    &db_driver_postgresql,
    &db_driver_sqlite,
};

/* PostgreSQL's text cannot hold a NUL, and libpq passes parameters as C strings: a value
 * with one would be cut short without a word. Refused here, for every driver call. */
static int check_no_nul(const db_conn *c, int n, const db_value *values, rb_error *err)
{
    if (c->ops->dialect != DIALECT_POSTGRESQL)
        return 0;
    for (int i = 0; i < n; i++)
        if (values[i].type == DBV_TEXT && values[i].len > 0 &&
            memchr(values[i].text, '\0', values[i].len))
            return rb_errorf(err, RB_ERR_FAILURE,
                             "parameter $%d holds a NUL byte, which PostgreSQL text cannot store",
                             i + 1);
    return 0;
}

int db_open(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err)
{
    db_dialect dialect;
    *out = NULL;
    if (config_url_dialect(cfg->database_url, &dialect, err) != 0)
        return -1;
    if (opts->offline)
        return offline_open(cfg, dialect, out, err);
    for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
        if (drivers[i]->dialect == dialect)
            return drivers[i]->open(cfg, opts, out, err);
    return rb_errorf(err, RB_ERR_USAGE, "no driver for this database URL's scheme");
}

void db_close(db_conn *c)
{
    if (c)
        c->ops->close(c);
}

/* One connection of db_open_read_many: opened, its read transaction begun. */
typedef struct open_job {
    const config *cfg;
    const db_open_options *opts;
    db_conn *conn;
    int rc;
    rb_error err;
} open_job;

static void open_job_run(open_job *job)
{
    job->rc = db_open(job->cfg, job->opts, &job->conn, &job->err);
    if (job->rc == 0 && (job->rc = db_begin_read(job->conn, &job->err)) != 0) {
        db_close(job->conn);
        job->conn = NULL;
    }
}

static void *open_job_thread(void *arg)
{
    open_job_run(arg);
    return NULL;
}

static bool open_waits(const config *cfgs, int n, const db_open_options *opts)
{
    if (n < 2 || opts->offline)
        return false;
    for (int i = 0; i < n; i++) {
        db_dialect dialect;
        rb_error ignored;
        bool waits = false;
        if (config_url_dialect(cfgs[i].database_url, &dialect, &ignored) != 0)
            return false;
        for (size_t d = 0; d < sizeof drivers / sizeof *drivers; d++)
            if (drivers[d]->dialect == dialect)
                waits = drivers[d]->open_waits;
        if (!waits)
            return false;
    }
    return true;
}

/* The first connection is opened on the calling thread, the others each on a thread of its
 * own, started with every signal blocked: SIGINT and SIGTERM stay the main thread's, whose
 * handlers (cli.c, runner.c) act as they would during a single connect. Each thread runs
 * the driver's own blocking open, so it behaves as alone (libpq: connect_timeout, several
 * hosts, SSL, .pgpass). When one fails, the others' attempts are still waited for (each
 * ends within its connect_timeout) and then closed. A thread that cannot be started leaves
 * its connection to the calling thread, after the first. */
int db_open_read_many(const config *cfgs, int n, const db_open_options *opts, db_conn **out,
                      int *failed, rb_error *err)
{
    int rc = 0;
    *failed = -1;
    open_job *jobs = calloc((size_t)n + 1, sizeof *jobs);
    pthread_t *threads = calloc((size_t)n + 1, sizeof *threads);
    bool *started = calloc((size_t)n + 1, sizeof *started);
    if (!jobs || !threads || !started) {
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        out[i] = NULL;
        jobs[i].cfg = &cfgs[i];
        jobs[i].opts = opts;
        rb_error_init(&jobs[i].err);
    }
    if (open_waits(cfgs, n, opts)) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        for (int i = 1; i < n; i++)
            started[i] = pthread_create(&threads[i], NULL, open_job_thread, &jobs[i]) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    for (int i = 0; i < n; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        else if (*failed < 0) /* in order, up to the first failure, as one by one */
            open_job_run(&jobs[i]);
        else
            continue;
        if (jobs[i].rc != 0 && *failed < 0) {
            *failed = i;
            *err = jobs[i].err;
            rc = -1;
        }
    }
    /* On failure the others are closed: that ends their read transactions on the server. */
    for (int i = 0; i < n; i++) {
        if (rc != 0)
            db_close(jobs[i].conn);
        else
            out[i] = jobs[i].conn;
    }
done:
    free(jobs);
    free(threads);
    free(started);
    return rc;
}

int db_exec(db_conn *c, const char *sql, int nparams, const db_value *params, db_result **rows,
            long long *affected, rb_error *err)
{
    if (rows)
        *rows = NULL;
    if (affected)
        *affected = 0;
    if (check_no_nul(c, nparams, params, err) != 0)
        return -1;
    return c->ops->exec(c, sql, nparams, params, rows, affected, err);
}

int db_send_queries(db_conn *c, const char *const *sqls, int n, rb_error *err)
{
    return n > 0 && c->ops->send_queries ? c->ops->send_queries(c, sqls, n, err) : 0;
}

int db_collect_queries(db_conn *c, const char *const *sqls, int n, db_result **results,
                       rb_error *err)
{
    for (int i = 0; i < n; i++)
        results[i] = NULL;
    if (n == 0)
        return 0;
    if (c->ops->collect_queries)
        return c->ops->collect_queries(c, sqls, n, results, err);
    for (int i = 0; i < n; i++) {
        if (db_exec(c, sqls[i], 0, NULL, &results[i], NULL, err) != 0) {
            for (int j = 0; j < i; j++) {
                db_result_free(results[j]);
                results[j] = NULL;
            }
            return -1;
        }
    }
    return 0;
}

static bool is_noise(const sql_token *t)
{
    return t->kind == SQL_TOK_SPACE || t->kind == SQL_TOK_LINE_COMMENT ||
           t->kind == SQL_TOK_BLOCK_COMMENT;
}

/* Where the statement at p begins: past the blanks and comments before it (a script's
 * comments usually sit on the lines above what they describe). */
static const char *statement_begins(const char *p)
{
    sql_lexer lx;
    sql_token t;
    sql_lex_init(&lx, p);
    while (sql_lex_next(&lx, &t))
        if (!is_noise(&t))
            return t.start;
    return p + strlen(p);
}

/* The n-th statement (from 1) of a script as the scanner splits it at ';' outside quotes,
 * dollar quotes and comments: from its first token to its ';' (or the end of the text).
 * Empty statements are not counted, as PostgreSQL gives them no result either. False when
 * the script has fewer. */
static bool nth_statement(const char *sql, int n, const char **start, const char **end)
{
    sql_lexer lx;
    sql_token t;
    const char *begun = NULL;
    int k = 0;
    sql_lex_init(&lx, sql);
    while (sql_lex_next(&lx, &t)) {
        if (t.kind == SQL_TOK_END) {
            if (begun && ++k == n) {
                *start = begun;
                *end = t.start + 1;
                return true;
            }
            begun = NULL;
        } else if (!begun && !is_noise(&t)) {
            begun = t.start;
        }
    }
    *start = begun;
    *end = sql + strlen(sql);
    return begun && ++k == n;
}

static int line_at(const char *sql, const char *at)
{
    int line = 1;
    for (const char *p = sql; p < at; p++)
        line += *p == '\n';
    return line;
}

/* The driver says which statement failed and, where it knows, the offset of where it
 * begins (SQLite's tail pointer) or of the error (PostgreSQL's position). What it leaves
 * open, PostgreSQL's failing statement without a position and its text, the scanner finds
 * from the statement's number. */
int db_exec_script(db_conn *c, const char *sql, int *stmt_no, int *line, rb_error *err)
{
    size_t offset = (size_t)-1;
    *stmt_no = 0;
    *line = 0;
    if (!c->ops->exec_script)
        return rb_errorf(err, RB_ERR_FAILURE, "scripts are not supported on %s", c->ops->name);
    if (c->ops->exec_script(c, sql, stmt_no, &offset, err) == 0)
        return 0;
    const char *start = NULL, *end = NULL;
    bool found = *stmt_no > 0 && nth_statement(sql, *stmt_no, &start, &end);
    if (offset != (size_t)-1 && offset <= strlen(sql)) {
        const char *at = statement_begins(sql + offset);
        *line = line_at(sql, at);
        /* The statement as the driver cut it begins with those blanks and comments too. */
        size_t skip = (size_t)(at - (sql + offset)), n = strlen(err->statement);
        if (skip > 0 && skip < n && strncmp(err->statement, sql + offset, skip) == 0)
            memmove(err->statement, err->statement + skip, n - skip + 1);
    } else if (found) {
        *line = line_at(sql, start);
    }
    if (!err->statement[0] && found) {
        size_t n = (size_t)(end - start);
        if (n >= sizeof err->statement)
            n = sizeof err->statement - 1;
        memcpy(err->statement, start, n);
        err->statement[n] = '\0';
    }
    return -1;
}

int db_begin_locked_read(db_conn *c, long long key, const char *read_sql, db_result **rows,
                         rb_error *err)
{
    if (rows)
        *rows = NULL;
    if (c->ops->begin_locked(c, key, read_sql, rows, err) != 0)
        return -1;
    c->in_transaction = true;
    return 0;
}

int db_begin_locked(db_conn *c, long long key, rb_error *err)
{
    return db_begin_locked_read(c, key, NULL, NULL, err);
}

int db_begin_read(db_conn *c, rb_error *err)
{
    if ((c->ops->begin_read ? c->ops->begin_read(c, err) : db_run(c, "BEGIN", err)) != 0)
        return -1;
    c->in_transaction = true;
    return 0;
}

int db_commit(db_conn *c, rb_error *err)
{
    int rc = c->ops->commit(c, err);
    c->in_transaction = false;
    return rc;
}

int db_exec_commit(db_conn *c, const char *sql, int nparams, const db_value *params,
                   db_reopen *next, rb_error *err)
{
    if (next)
        next->rows = NULL;
    if (!c->ops->exec_commit) {
        if (db_exec(c, sql, nparams, params, NULL, NULL, err) != 0)
            return -1;
        return db_commit(c, err);
    }
    if (check_no_nul(c, nparams, params, err) != 0)
        return -1;
    bool ended = false;
    int rc = c->ops->exec_commit(c, sql, nparams, params, next, &ended, err);
    if (ended)
        c->in_transaction = false;
    if (rc == 0 && next && next->rows)
        c->in_transaction = true;
    return rc;
}

void db_rollback(db_conn *c)
{
    if (c->in_transaction)
        c->ops->rollback(c);
    c->in_transaction = false;
}

bool db_can_copy(const db_conn *c)
{
    return c->ops->copy_begin != NULL;
}

int db_copy_begin(db_conn *c, const char *copy_sql, rb_error *err)
{
    if (!c->ops->copy_begin)
        return rb_errorf(err, RB_ERR_FAILURE, "COPY is not supported on %s", c->ops->name);
    return c->ops->copy_begin(c, copy_sql, err);
}

int db_copy_row(db_conn *c, const db_value *values, int n, rb_error *err)
{
    if (check_no_nul(c, n, values, err) != 0)
        return -1;
    return c->ops->copy_row(c, values, n, err);
}

int db_copy_end(db_conn *c, const char *abort_reason, long long *copied, rb_error *err)
{
    return c->ops->copy_end(c, abort_reason, copied, err);
}

void db_interrupt(db_conn *c)
{
    if (c && c->ops->interrupt)
        c->ops->interrupt(c);
}

char *db_quote_ident(db_conn *c, const char *name)
{
    return c->ops->quote_ident(c, name);
}

const char *db_dialect_name(const db_conn *c)
{
    return c->ops->name;
}

db_dialect db_conn_dialect(const db_conn *c)
{
    return c->ops->dialect;
}

bool db_can_read(const db_conn *c)
{
    return (c->ops->caps & DB_CAP_READ) != 0;
}

bool db_executes(const db_conn *c)
{
    return (c->ops->caps & DB_CAP_EXECUTE) != 0;
}

bool db_is_offline(const db_conn *c)
{
    return !db_executes(c);
}

bool db_in_transaction(const db_conn *c)
{
    return c->in_transaction;
}

bool db_via_transaction_pooler(const db_conn *c)
{
    return c->via_transaction_pooler;
}

const char *db_current_user(db_conn *c)
{
    const char *user = c->ops->current_user ? c->ops->current_user(c) : NULL;
    return user ? user : "";
}

int db_set_foreign_keys(db_conn *c, bool on, rb_error *err)
{
    return c->ops->set_foreign_keys ? c->ops->set_foreign_keys(c, on, err) : 0;
}

int db_foreign_key_check(db_conn *c, db_result **rows, rb_error *err)
{
    *rows = NULL;
    if (c->ops->foreign_key_check)
        return c->ops->foreign_key_check(c, rows, err);
    return (*rows = db_result_new(0)) ? 0 : rb_errorf(err, RB_ERR_FAILURE, "out of memory");
}

