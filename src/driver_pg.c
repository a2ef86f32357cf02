/* driver_pg.c: the PostgreSQL driver, on libpq.
 *
 * Only unnamed statements (PQexecParams) are used, never named prepared statements, so
 * rbacmig works through a transaction-mode pooler (Supavisor, PgBouncer). The migration
 * lock is transaction-scoped (pg_advisory_xact_lock) for the same reason. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_impl.h"
#include "output.h"

/* Type OIDs from pg_type.h (stable across versions). */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_OID = 26,
       OID_FLOAT4 = 700, OID_FLOAT8 = 701 };

typedef struct pg_conn {
    db_conn base;
    PGconn *pg;
    PGcancel *cancel;     /* made at connect time: PQcancel is async-signal-safe, PQgetCancel is not */
    char *user;
    int wait_timeout_ms;  /* how long begin_locked waits for another run */
    int lock_timeout_ms;  /* lock_timeout inside migrations */
    int statement_timeout_ms;
    char *search_path_config; /* ", set_config('search_path', ...)" or NULL for public */
    char *copy_buf;        /* rows of a COPY in progress, in text format, not yet sent */
    size_t copy_len, copy_cap;
    char *copy_sql;        /* the COPY statement, for error messages */
} pg_conn;

/* First line of a libpq message as the error, the rest as detail. */
static int pg_conn_error(PGconn *pg, rb_error *err, const char *what)
{
    char msg[1024];
    rb_strlcpy(msg, PQerrorMessage(pg), sizeof msg);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = '\0';
    /* libpq prefixes "connection to server at ... failed: "; keep it, it names the host. */
    return rb_errorf(err, RB_ERR_FAILURE, "%s: %s", what, msg[0] ? msg : "unknown error");
}

static int pg_result_error(const PGresult *res, PGconn *pg, const char *sql, rb_error *err)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!primary) {
        /* No server error fields: the connection broke (server restart, network). */
        pg_conn_error(pg, err, "lost connection to the database");
    } else {
        rb_errorf(err, RB_ERR_FAILURE, "%s", primary);
        const char *f;
        if ((f = PQresultErrorField(res, PG_DIAG_SQLSTATE))) {
            rb_strlcpy(err->sqlstate, f, sizeof err->sqlstate);
            /* The two conditions callers act on: undefined_table (a fresh database has no
             * version table yet) and lock_not_available (lock_timeout ran out). */
            if (strcmp(f, "42P01") == 0)
                err->kind = RB_ERR_NOT_FOUND;
            else if (strcmp(f, "55P03") == 0)
                err->kind = RB_ERR_LOCK_TIMEOUT;
        }
        if ((f = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)))
            rb_strlcpy(err->detail, f, sizeof err->detail);
        if ((f = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT)))
            rb_strlcpy(err->hint, f, sizeof err->hint);
        if ((f = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION)))
            err->position = atoi(f);
    }
    if (sql)
        rb_strlcpy(err->statement, sql, sizeof err->statement);
    return -1;
}

static void notice_to_debug(void *arg, const char *message)
{
    (void)arg;
    char buf[1024];
    rb_strlcpy(buf, message, sizeof buf);
    buf[strcspn(buf, "\n")] = '\0';
    out_debug("server: %s", buf);
}

/* Converts a result set into a db_result: integers, floats and booleans by type OID, the
 * rest as text. A command without rows gives an empty result. */
static int pg_rows(const PGresult *res, db_result **rows, rb_error *err)
{
    int ncols = PQresultStatus(res) == PGRES_TUPLES_OK ? PQnfields(res) : 0;
    int nrows = ncols ? PQntuples(res) : 0;
    db_result *out = db_result_new(ncols);
    if (!out)
        goto oom;
    for (int j = 0; j < ncols; j++)
        if (!(out->names[j] = strdup(PQfname(res, j))))
            goto oom;
    for (int r = 0; r < nrows; r++) {
        db_value *row = db_result_add_row(out);
        if (!row)
            goto oom;
        for (int j = 0; j < ncols; j++) {
            if (PQgetisnull(res, r, j))
                continue;
            const char *s = PQgetvalue(res, r, j);
            db_value *v = &row[j];
            switch (PQftype(res, j)) {
            case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
                v->type = DBV_INT; v->i = strtoll(s, NULL, 10); break;
            case OID_FLOAT4: case OID_FLOAT8:
                v->type = DBV_FLOAT; v->f = strtod(s, NULL); break;
            case OID_BOOL:
                v->type = DBV_BOOL; v->b = s[0] == 't'; break;
            default:
                v->type = DBV_TEXT;
                v->len = (size_t)PQgetlength(res, r, j);
                if (!(v->text = strndup(s, v->len)))
                    goto oom;
            }
        }
    }
    *rows = out;
    return 0;
oom:
    db_result_free(out);
    return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
}

/* Parameters as libpq's text values. Numbers are formatted into `owned`; text is borrowed
 * from the caller's db_values. Small lists live on the stack. */
enum { STACK_PARAMS = 16 };
typedef struct pg_params {
    const char **values;
    char **owned;
    int n;
    const char *stack_values[STACK_PARAMS];
    char *stack_owned[STACK_PARAMS];
} pg_params;

static void pg_params_release(pg_params *pp)
{
    for (int i = 0; i < pp->n; i++)
        free(pp->owned[i]);
    if (pp->values != pp->stack_values)
        free((void *)pp->values);
    if (pp->owned != pp->stack_owned)
        free(pp->owned);
    pp->n = 0;
}

static int pg_params_init(pg_params *pp, int nparams, const db_value *params, rb_error *err)
{
    pp->values = pp->stack_values;
    pp->owned = pp->stack_owned;
    pp->n = 0;
    if (nparams > STACK_PARAMS) {
        pp->values = calloc((size_t)nparams, sizeof *pp->values);
        pp->owned = calloc((size_t)nparams, sizeof *pp->owned);
        if (!pp->values || !pp->owned) {
            pg_params_release(pp);
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
    }
    for (int i = 0; i < nparams; i++) {
        const db_value *v = &params[i];
        char buf[64];
        pp->owned[i] = NULL;
        pp->n = i + 1;
        switch (v->type) {
        case DBV_NULL: pp->values[i] = NULL; continue;
        case DBV_TEXT: pp->values[i] = v->text; continue;
        case DBV_BOOL: pp->values[i] = v->b ? "true" : "false"; continue;
        case DBV_INT: snprintf(buf, sizeof buf, "%lld", v->i); break;
        case DBV_FLOAT: snprintf(buf, sizeof buf, "%.17g", v->f); break;
        }
        if (!(pp->owned[i] = strdup(buf))) {
            pg_params_release(pp);
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
        pp->values[i] = pp->owned[i];
    }
    return 0;
}

static int pg_exec(db_conn *c, const char *sql, int nparams, const db_value *params,
                   db_result **rows, long long *affected, rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    pg_params pp;
    if (pg_params_init(&pp, nparams, params, err) != 0)
        return -1;
    PGresult *res = PQexecParams(pc->pg, sql, nparams, NULL, pp.values, NULL, NULL, 0);
    pg_params_release(&pp);

    int rc = -1;
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pg_result_error(res, pc->pg, sql, err);
        goto done;
    }
    if (affected) {
        const char *n = PQcmdTuples(res);
        *affected = n[0] ? atoll(n) : 0;
    }
    if (rows && pg_rows(res, rows, err) != 0)
        goto done;
    rc = 0;
done:
    PQclear(res);
    return rc;
}

/* The byte offset of the character PostgreSQL's error position (1-based, in characters of
 * the whole query string) points at, or (size_t)-1. */
static size_t position_offset(const char *sql, int position)
{
    if (position <= 0)
        return (size_t)-1;
    size_t i = 0;
    for (int chars = 1; sql[i] && chars < position; chars++) {
        i++;
        while (((unsigned char)sql[i] & 0xc0) == 0x80) /* UTF-8 continuation bytes */
            i++;
    }
    return sql[i] ? i : (size_t)-1;
}

/* db:exec_script: the whole script as one simple query (PQsendQuery, no parameters), so the
 * server reads its $$ bodies, comments and strings itself, and every statement runs in the
 * step's transaction (one round trip; through a transaction pooler that is one server
 * session). Each statement that succeeds gives one result, so the failing one is counted.
 * A COPY FROM STDIN would wait for rows the script cannot send: it is ended with an error,
 * which makes the server abort the query and skip what follows. */
static int pg_exec_script(db_conn *c, const char *sql, int *stmt_no, size_t *offset,
                          rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    bool failed = false;
    int done_ok = 0;
    if (!PQsendQuery(pc->pg, sql))
        return pg_conn_error(pc->pg, err, "lost connection to the database");
    PGresult *res;
    while ((res = PQgetResult(pc->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT) {
            if (!failed) {
                *stmt_no = done_ok + 1;
                rb_errorf(err, RB_ERR_FAILURE, "COPY ... %s cannot run in a script: its rows "
                          "would have to follow in the script, which only psql reads",
                          st == PGRES_COPY_IN ? "FROM STDIN" : "TO STDOUT");
                rb_strlcpy(err->hint, "use db:copy in the migration, or COPY from a "
                           "server-side file", sizeof err->hint);
                failed = true;
            }
            if (st == PGRES_COPY_IN) {
                PQputCopyEnd(pc->pg, "COPY in a script refused by rbacmig");
            } else {
                char *buf;
                while (PQgetCopyData(pc->pg, &buf, 0) > 0)
                    PQfreemem(buf);
            }
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
                   st != PGRES_EMPTY_QUERY) {
            if (!failed) {
                *stmt_no = done_ok + 1;
                pg_result_error(res, pc->pg, NULL, err);
                *offset = position_offset(sql, err->position);
                err->position = 0; /* it counted in the script, not in a statement */
                failed = true;
            }
        } else if (!failed && st != PGRES_EMPTY_QUERY) {
            done_ok++;
        }
        PQclear(res);
    }
    if (!failed && PQstatus(pc->pg) != CONNECTION_OK)
        return pg_conn_error(pc->pg, err, "lost connection to the database");
    if (!failed && c->in_transaction && PQtransactionStatus(pc->pg) != PQTRANS_INTRANS) {
        failed = true;
        rb_errorf(err, RB_ERR_FAILURE, "the script ended the migration's transaction "
                  "(COMMIT or ROLLBACK in it): what it did before may be committed");
    }
    return failed ? -1 : 0;
}

/* Ends whatever transaction is open, on paths that already have their error. */
static void pg_rollback_quietly(pg_conn *pc)
{
    if (PQstatus(pc->pg) == CONNECTION_OK)
        PQclear(PQexec(pc->pg, "ROLLBACK"));
}

/* A migration transaction. READ COMMITTED whatever the role's or database's default: the
 * version read after the lock must see what the lock's last holder committed, which a
 * snapshot taken by an earlier statement of the transaction would not. */
#define BEGIN_MIGRATION "BEGIN ISOLATION LEVEL READ COMMITTED"

/* What opens a migration transaction after BEGIN, as one statement: its settings (SET
 * LOCAL, written as set_config(..., true)) and the migration lock, tried without waiting.
 * The last column is true when the lock came. */
static void lock_attempt_sql(const pg_conn *pc, long long key, char *buf, size_t size)
{
    snprintf(buf, size,
             "SELECT set_config('lock_timeout', '%d', true), "
             "set_config('statement_timeout', '%d', true)%s, pg_try_advisory_xact_lock(%lld)",
             pc->lock_timeout_ms, pc->statement_timeout_ms,
             pc->search_path_config ? pc->search_path_config : "", key);
}

static bool lock_granted(const PGresult *res)
{
    return res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
           PQnfields(res) > 0 && PQgetvalue(res, 0, PQnfields(res) - 1)[0] == 't';
}

static bool pg_ok(const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* The last result of the next query in a pipeline (a query's results end with a NULL);
 * NULL when the connection broke before it gave one. */
static PGresult *pg_query_result(PGconn *pg)
{
    PGresult *last = NULL, *res;
    while ((res = PQgetResult(pg)) != NULL) {
        PQclear(last);
        last = res;
    }
    return last;
}

/* One query of a flight, with text parameters. */
typedef struct pg_flight_query {
    const char *sql;
    int nparams;
    const char *const *values;
} pg_flight_query;

/* Sends n queries and one Sync in one flight (libpq pipeline mode: one write, one round
 * trip) and takes one result per query into results[], the caller's to PQclear. After an
 * error the server skips the rest, whose results are PGRES_PIPELINE_ABORTED; when the
 * connection breaks, the results from there on are NULL. Returns false when the flight did
 * not complete: the connection is then unusable (possibly still in pipeline mode). */
static bool pg_flight(pg_conn *pc, const pg_flight_query *q, int n, PGresult **results)
{
    for (int i = 0; i < n; i++)
        results[i] = NULL;
    bool sent = PQenterPipelineMode(pc->pg);
    for (int i = 0; sent && i < n; i++)
        sent = PQsendQueryParams(pc->pg, q[i].sql, q[i].nparams, NULL, q[i].values, NULL, NULL,
                                 0);
    sent = sent && PQpipelineSync(pc->pg);
    /* Each query's results end with a NULL; the Sync gives one PGRES_PIPELINE_SYNC. */
    for (int i = 0; sent && i < n; i++)
        if (!(results[i] = pg_query_result(pc->pg)))
            break;
    bool synced = false;
    if (sent && results[n - 1]) {
        PGresult *sync = PQgetResult(pc->pg);
        synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
        PQclear(sync);
    }
    return PQexitPipelineMode(pc->pg) && synced;
}

/* db_send_queries: the queries and a Sync written in one go (pipeline mode), the server
 * left to run them while the caller sends other connections theirs. */
static int pg_send_queries(db_conn *c, const char *const *sqls, int n, rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    bool sent = PQenterPipelineMode(pc->pg);
    for (int i = 0; sent && i < n; i++)
        sent = PQsendQueryParams(pc->pg, sqls[i], 0, NULL, NULL, NULL, NULL, 0);
    if (sent && PQpipelineSync(pc->pg))
        return 0;
    return pg_conn_error(pc->pg, err, "cannot send the queries");
}

/* db_collect_queries: every result is taken, even after a failure (the server skips the
 * rest, PGRES_PIPELINE_ABORTED), so the connection leaves pipeline mode usable. */
static int pg_collect_queries(db_conn *c, const char *const *sqls, int n, db_result **results,
                              rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    int rc = 0;
    bool broken = false;
    for (int i = 0; i < n && !broken; i++) {
        PGresult *res = pg_query_result(pc->pg);
        broken = res == NULL;
        if (rc == 0)
            rc = pg_ok(res) ? pg_rows(res, &results[i], err)
                            : pg_result_error(res, pc->pg, sqls[i], err);
        PQclear(res);
    }
    PGresult *sync = broken ? NULL : PQgetResult(pc->pg);
    bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    if (!PQexitPipelineMode(pc->pg) || !synced) {
        if (rc == 0)
            rc = pg_conn_error(pc->pg, err, "lost connection to the database");
    }
    if (rc != 0)
        for (int i = 0; i < n; i++) {
            db_result_free(results[i]);
            results[i] = NULL;
        }
    return rc;
}

/* The statement and COMMIT in one flight: one round trip instead of two for every step's
 * bookkeeping. When the statement fails the server skips the COMMIT and the transaction
 * stays open (aborted) for the caller's rollback. With `next`, the same flight goes on
 * to BEGIN the next step's transaction, try its lock and read (all skipped by the server
 * if anything before failed): a step then costs one round trip fewer again. Whatever
 * goes wrong in that second part only leaves next->rows NULL, with anything it began
 * rolled back: the caller then begins the usual way, which waits for the lock and
 * reports errors. */
static int pg_exec_commit(db_conn *c, const char *sql, int nparams, const db_value *params,
                          db_reopen *next, bool *ended, rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    pg_params pp;
    char lock_sql[1024];
    *ended = false;
    if (pg_params_init(&pp, nparams, params, err) != 0)
        return -1;
    enum { STATEMENT, COMMIT, NEXT_BEGIN, NEXT_LOCK, NEXT_READ, NQUERIES };
    const pg_flight_query q[NQUERIES] = {
        [STATEMENT] = {sql, nparams, pp.values},
        [COMMIT] = {"COMMIT", 0, NULL},
        [NEXT_BEGIN] = {BEGIN_MIGRATION, 0, NULL},
        [NEXT_LOCK] = {lock_sql, 0, NULL},
        [NEXT_READ] = {next ? next->read_sql : "", 0, NULL},
    };
    if (next)
        lock_attempt_sql(pc, next->key, lock_sql, sizeof lock_sql);
    PGresult *res[NQUERIES];
    bool flown = pg_flight(pc, q, next ? NQUERIES : NEXT_BEGIN, res);
    pg_params_release(&pp);

    /* The step's outcome is its statement's and COMMIT's; a flight that broke after them
     * only loses the next step's opening, and the next use of the connection reports it. */
    int rc = 0;
    if (!pg_ok(res[STATEMENT]))
        rc = pg_result_error(res[STATEMENT], pc->pg, sql, err);
    else if (!pg_ok(res[COMMIT]))
        rc = pg_result_error(res[COMMIT], pc->pg, "COMMIT", err);
    /* A COMMIT the server skipped never ran: the transaction is still open. */
    *ended = res[COMMIT] && PQresultStatus(res[COMMIT]) != PGRES_PIPELINE_ABORTED;
    bool begun = false;
    if (next) {
        begun = pg_ok(res[NEXT_BEGIN]);
        rb_error ignored;
        if (rc == 0 && flown && begun && lock_granted(res[NEXT_LOCK]) && pg_ok(res[NEXT_READ]) &&
            pg_rows(res[NEXT_READ], &next->rows, &ignored) != 0)
            next->rows = NULL;
    }
    for (int i = 0; i < (next ? NQUERIES : NEXT_BEGIN); i++)
        PQclear(res[i]);
    if (begun && !next->rows)
        pg_rollback_quietly(pc);
    return rc;
}

/* A simple-protocol round trip for our own fixed SQL (several statements, no params). */
static int pg_simple(pg_conn *pc, const char *sql, PGresult **keep, rb_error *err)
{
    PGresult *res = PQexec(pc->pg, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pg_result_error(res, pc->pg, sql, err);
        PQclear(res);
        return -1;
    }
    if (keep)
        *keep = res;
    else
        PQclear(res);
    return 0;
}

static void describe_lock_holder(pg_conn *pc, long long key, char *out, size_t size)
{
    char sql[512];
    /* An int8 advisory key is stored as classid (high 32 bits) and objid (low 32 bits). */
    snprintf(sql, sizeof sql,
             "SELECT a.pid, coalesce(a.application_name, '') FROM pg_locks l "
             "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
             "AND l.granted AND l.classid::bigint = %lld AND l.objid::bigint = %lld "
             "AND l.objsubid = 1 LIMIT 1",
             (long long)((unsigned long long)key >> 32), (long long)(key & 0xffffffffLL));
    PGresult *res = PQexec(pc->pg, sql);
    out[0] = '\0';
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(out, size, " held by pid %s (%s)", PQgetvalue(res, 0, 0),
                 PQgetvalue(res, 0, 1)[0] ? PQgetvalue(res, 0, 1) : "no application_name");
    PQclear(res);
}

static int pg_begin_locked(db_conn *c, long long key, const char *read_sql, db_result **rows,
                           rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    char sql[4096], lock_sql[1024];
    PGresult *res, *lock_res = NULL, *read_res = NULL;
    bool failed = false;
    /* One round trip in the common, uncontended case: the transaction, its settings and
     * lock, and the caller's read (whose answer only counts if the lock came at once). Each
     * statement of a simple query takes its own snapshot, so the read sees what the last
     * holder of the lock committed. */
    lock_attempt_sql(pc, key, lock_sql, sizeof lock_sql);
    /* The names in both parts are at most 63 bytes each (config.c), so this fits; a cut
     * statement would run something else, so say so rather than send it. */
    if (snprintf(sql, sizeof sql, BEGIN_MIGRATION "; %s%s%s", lock_sql, read_sql ? "; " : "",
                 read_sql ? read_sql : "") >= (int)sizeof sql)
        return rb_errorf(err, RB_ERR_FAILURE, "the opening statement of a migration "
                         "transaction is longer than %zu bytes (a bug in rbacmig)", sizeof sql);
    if (!PQsendQuery(pc->pg, sql))
        return pg_conn_error(pc->pg, err, "lost connection to the database");
    while ((res = PQgetResult(pc->pg)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            if (!failed)
                pg_result_error(res, pc->pg, sql, err);
            failed = true;
            PQclear(res);
        } else if (st == PGRES_TUPLES_OK && !lock_res) {
            lock_res = res;
        } else if (st == PGRES_TUPLES_OK) {
            PQclear(read_res);
            read_res = res;
        } else {
            PQclear(res);
        }
    }
    bool got = !failed && lock_granted(lock_res);
    int rc = failed ? -1 : 0;
    if (got && read_sql)
        rc = pg_rows(read_res, rows, err);
    PQclear(lock_res);
    PQclear(read_res);
    if (failed || !lock_res) {
        if (!failed)
            pg_conn_error(pc->pg, err, "lost connection to the database");
        pg_rollback_quietly(pc);
        return -1;
    }
    if (got)
        return rc;

    char holder[256];
    describe_lock_holder(pc, key, holder, sizeof holder);
    out_note("waiting for the migration lock%s", holder);
    snprintf(sql, sizeof sql,
             "SET LOCAL lock_timeout = %d; SELECT pg_advisory_xact_lock(%lld); "
             "SET LOCAL lock_timeout = %d",
             pc->wait_timeout_ms, key, pc->lock_timeout_ms);
    if (pg_simple(pc, sql, NULL, err) != 0) {
        if (err->kind == RB_ERR_LOCK_TIMEOUT) {
            rb_errorf(err, RB_ERR_LOCK_TIMEOUT,
                      "timed out after %d ms waiting for the migration lock%s",
                      pc->wait_timeout_ms, holder);
            rb_strlcpy(err->hint, "another rbacmig run is migrating this database; retry, or "
                       "raise --lock-timeout", sizeof err->hint);
        }
        pg_rollback_quietly(pc);
        return -1;
    }
    /* Another run held the lock: what it changed is only visible now. */
    if (read_sql && pg_exec(c, read_sql, 0, NULL, rows, NULL, err) != 0) {
        pg_rollback_quietly(pc);
        return -1;
    }
    return 0;
}

/* One snapshot for a command that only reads, with a migration's settings (search path,
 * statement timeout) and without the advisory lock: it answers while a migration runs. */
static int pg_begin_read(db_conn *c, rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    char sql[1024];
    if (snprintf(sql, sizeof sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT "
                 "set_config('statement_timeout', '%d', true)%s", pc->statement_timeout_ms,
                 pc->search_path_config ? pc->search_path_config : "") >= (int)sizeof sql)
        return rb_errorf(err, RB_ERR_FAILURE, "the opening statement of a read-only "
                         "transaction is longer than %zu bytes (a bug in rbacmig)", sizeof sql);
    if (pg_simple(pc, sql, NULL, err) != 0) {
        pg_rollback_quietly(pc);
        return -1;
    }
    return 0;
}

/* ---- COPY FROM STDIN, text format ----------------------------------------------------- */

enum { COPY_FLUSH_AT = 64 * 1024 };

static int copy_reserve(pg_conn *pc, size_t more, rb_error *err)
{
    if (pc->copy_len + more <= pc->copy_cap)
        return 0;
    size_t cap = pc->copy_cap ? pc->copy_cap : COPY_FLUSH_AT * 2;
    while (cap < pc->copy_len + more)
        cap *= 2;
    char *grown = realloc(pc->copy_buf, cap);
    if (!grown)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    pc->copy_buf = grown;
    pc->copy_cap = cap;
    return 0;
}

static int copy_flush(pg_conn *pc, rb_error *err)
{
    if (pc->copy_len && PQputCopyData(pc->pg, pc->copy_buf, (int)pc->copy_len) != 1)
        return pg_conn_error(pc->pg, err, "COPY failed");
    pc->copy_len = 0;
    return 0;
}

static int pg_copy_begin(db_conn *c, const char *copy_sql, rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    PGresult *res = PQexec(pc->pg, copy_sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        pg_result_error(res, pc->pg, copy_sql, err);
        PQclear(res);
        return -1;
    }
    PQclear(res);
    pc->copy_len = 0;
    free(pc->copy_sql);
    pc->copy_sql = strdup(copy_sql);
    return 0;
}

/* One row: values tab-separated, \N for NULL, backslash escapes for the four characters
 * the text format reserves. */
static int pg_copy_row(db_conn *c, const db_value *values, int n, rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    for (int i = 0; i < n; i++) {
        const db_value *v = &values[i];
        char num[64];
        const char *text = num;
        size_t len;
        switch (v->type) {
        case DBV_NULL: text = "\\N"; break;
        case DBV_BOOL: text = v->b ? "t" : "f"; break;
        case DBV_INT: snprintf(num, sizeof num, "%lld", v->i); break;
        case DBV_FLOAT: snprintf(num, sizeof num, "%.17g", v->f); break;
        case DBV_TEXT: text = NULL; break;
        }
        len = text ? strlen(text) : v->len * 2;
        if (copy_reserve(pc, len + 2, err) != 0)
            return -1;
        if (text) {
            memcpy(pc->copy_buf + pc->copy_len, text, len);
            pc->copy_len += len;
        } else {
            for (size_t k = 0; k < v->len; k++) {
                char ch = v->text[k];
                char *out = pc->copy_buf + pc->copy_len;
                switch (ch) {
                case '\\': out[0] = '\\'; out[1] = '\\'; pc->copy_len += 2; break;
                case '\n': out[0] = '\\'; out[1] = 'n'; pc->copy_len += 2; break;
                case '\r': out[0] = '\\'; out[1] = 'r'; pc->copy_len += 2; break;
                case '\t': out[0] = '\\'; out[1] = 't'; pc->copy_len += 2; break;
                default: out[0] = ch; pc->copy_len += 1;
                }
            }
        }
        pc->copy_buf[pc->copy_len++] = i + 1 < n ? '\t' : '\n';
    }
    if (n == 0 && copy_reserve(pc, 1, err) == 0)
        pc->copy_buf[pc->copy_len++] = '\n';
    return pc->copy_len >= COPY_FLUSH_AT ? copy_flush(pc, err) : 0;
}

static int pg_copy_end(db_conn *c, const char *abort_reason, long long *copied, rb_error *err)
{
    pg_conn *pc = (pg_conn *)c;
    int rc = 0;
    if (!abort_reason && copy_flush(pc, err) != 0) {
        abort_reason = "rbacmig could not send every row";
        rc = -1;
    }
    if (PQputCopyEnd(pc->pg, abort_reason) != 1 && rc == 0)
        rc = pg_conn_error(pc->pg, err, "COPY failed");
    PGresult *res;
    while ((res = PQgetResult(pc->pg)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            if (copied)
                *copied = atoll(PQcmdTuples(res));
        } else if (rc == 0 && !abort_reason) {
            rc = pg_result_error(res, pc->pg, pc->copy_sql, err);
        }
        PQclear(res);
    }
    pc->copy_len = 0;
    return abort_reason ? -1 : rc;
}

static int pg_commit(db_conn *c, rb_error *err)
{
    return pg_simple((pg_conn *)c, "COMMIT", NULL, err);
}

static void pg_rollback(db_conn *c)
{
    pg_rollback_quietly((pg_conn *)c);
}

static char *pg_quote_ident(db_conn *c, const char *name)
{
    pg_conn *pc = (pg_conn *)c;
    char *q = PQescapeIdentifier(pc->pg, name, strlen(name));
    if (!q)
        return NULL;
    char *copy = strdup(q); /* callers free with free(), not PQfreemem */
    PQfreemem(q);
    return copy;
}

static const char *pg_current_user(db_conn *c)
{
    pg_conn *pc = (pg_conn *)c;
    return pc->user ? pc->user : "";
}

static void pg_interrupt(db_conn *c)
{
    pg_conn *pc = (pg_conn *)c;
    char errbuf[256];
    if (pc->cancel)
        PQcancel(pc->cancel, errbuf, sizeof errbuf);
}

static void pg_close(db_conn *c)
{
    pg_conn *pc = (pg_conn *)c;
    if (pc->cancel)
        PQfreeCancel(pc->cancel);
    PQfinish(pc->pg);
    free(pc->user);
    free(pc->search_path_config);
    free(pc->copy_buf);
    free(pc->copy_sql);
    free(pc);
}

static const driver_ops pg_ops = {
    .name = "postgresql",
    .dialect = DIALECT_POSTGRESQL,
    .caps = DB_CAP_READ | DB_CAP_EXECUTE,
    .exec = pg_exec,
    .exec_script = pg_exec_script,
    .begin_locked = pg_begin_locked,
    .begin_read = pg_begin_read,
    .commit = pg_commit,
    .exec_commit = pg_exec_commit,
    .send_queries = pg_send_queries,
    .collect_queries = pg_collect_queries,
    .rollback = pg_rollback,
    .interrupt = pg_interrupt,
    .copy_begin = pg_copy_begin,
    .copy_row = pg_copy_row,
    .copy_end = pg_copy_end,
    .quote_ident = pg_quote_ident,
    .current_user = pg_current_user,
    .close = pg_close,
};

static int pg_open(const config *cfg, const db_open_options *opts, db_conn **out, rb_error *err)
{
    /* expand_dbname: the URL (or key=value string) is expanded; later keywords would
     * override it, so only a fallback application_name is given. */
    const char *keywords[] = {"dbname", "fallback_application_name", NULL};
    const char *values[] = {cfg->database_url, "rbacmig", NULL};
    pg_conn *pc = calloc(1, sizeof *pc);
    if (!pc)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    pc->base.ops = &pg_ops;
    pc->wait_timeout_ms = opts->lock_timeout_ms;
    pc->lock_timeout_ms = cfg->lock_timeout_ms;
    pc->statement_timeout_ms = cfg->statement_timeout_ms;
    pc->pg = PQconnectdbParams(keywords, values, 1);
    if (!pc->pg || PQstatus(pc->pg) != CONNECTION_OK) {
        if (pc->pg)
            pg_conn_error(pc->pg, err, "cannot connect to the database");
        else
            rb_errorf(err, RB_ERR_FAILURE, "cannot connect to the database: out of memory");
        pg_close(&pc->base);
        return -1;
    }
    PQsetNoticeProcessor(pc->pg, notice_to_debug, NULL);
    pc->cancel = PQgetCancel(pc->pg);
    /* 6543 is where Supabase (Supavisor) and most PgBouncer set-ups serve transaction mode. */
    pc->base.via_transaction_pooler = PQport(pc->pg) && strcmp(PQport(pc->pg), "6543") == 0;
    pc->user = strdup(PQuser(pc->pg) ? PQuser(pc->pg) : "");
    if (cfg->schema && strcmp(cfg->schema, "public") != 0) {
        /* The setting's value is a list of quoted identifiers, passed as a literal. */
        char *q = pg_quote_ident(&pc->base, cfg->schema);
        size_t n = q ? strlen(q) + 16 : 0;
        char *value = n ? malloc(n) : NULL;
        char *literal = NULL;
        if (value) {
            snprintf(value, n, "%s, public", q);
            literal = PQescapeLiteral(pc->pg, value, strlen(value));
        }
        n = literal ? strlen(literal) + 64 : 0;
        if (n && (pc->search_path_config = malloc(n)))
            snprintf(pc->search_path_config, n, ", set_config('search_path', %s, true)", literal);
        PQfreemem(literal);
        free(value);
        free(q);
        if (!pc->search_path_config) {
            pg_close(&pc->base);
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
    }
    *out = &pc->base;
    return 0;
}

const db_driver db_driver_postgresql = {.dialect = DIALECT_POSTGRESQL, .open_waits = true,
                                        .open = pg_open};
