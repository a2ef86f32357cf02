/* runner.c: applying plans. */
#include "runner.h"

#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "version.h"

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t migrating;   /* runner_migrate is in progress */
static db_conn *volatile running_conn;    /* the connection a migration is running on */

/* The signal's default action: the process ends as killed by it. */
static void die_by_signal(int signo)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_UNBLOCK, &set, NULL); /* blocked while its handler runs */
    raise(signo);
    _exit(128 + signo);
}

void runner_request_stop(int signo)
{
    /* A second signal: the first did not stop the run (a finalizer that loops runs with hooks
     * off; a driver call may ignore the cancel). Nothing was committed by the step under way,
     * and the database rolls back a connection that goes away. */
    if (stop_signal)
        die_by_signal(signo);
    stop_signal = signo;
    /* Lua running (a migration, a file being loaded, an RBAC command) stops at its next
     * instruction and the server at its current statement; the runner then rolls back and
     * reports, outside the handler. With neither Lua nor a migration under way there is
     * nothing to undo: exit as the default action would. */
    bool lua = lua_host_interrupt(signo);
    if (running_conn)
        db_interrupt(running_conn);
    if (!lua && !migrating)
        _exit(128 + signo);
}

int runner_stop_signal(void)
{
    return stop_signal;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* A statement around names the driver quoted (values are always bound, never formatted in),
 * allocated to fit: a quoted name may be twice its length plus quotes, and a statement cut
 * short in a fixed buffer would run as some other statement. NULL after filling err. */
static char *sql_vformat(rb_error *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static char *sql_vformat(rb_error *err, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    char *sql = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!sql) {
        rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        return NULL;
    }
    vsnprintf(sql, (size_t)n + 1, fmt, ap);
    return sql;
}

static char *sql_format(rb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *sql_format(rb_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sql_vformat(err, fmt, ap);
    va_end(ap);
    return sql;
}

/* Formats a statement, runs it with no parameters and no result. */
static int run_format(runner *r, rb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int run_format(runner *r, rb_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sql_vformat(err, fmt, ap);
    va_end(ap);
    int rc = sql ? db_run(r->conn, sql, err) : -1;
    free(sql);
    return rc;
}

/* Formats a statement and runs it with params (see db_exec). */
static int exec_format(runner *r, int nparams, const db_value *params, rb_error *err,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int exec_format(runner *r, int nparams, const db_value *params, rb_error *err,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sql_vformat(err, fmt, ap);
    va_end(ap);
    int rc = sql ? db_exec(r->conn, sql, nparams, params, NULL, NULL, err) : -1;
    free(sql);
    return rc;
}

/* The advisory-lock key: stable for a (schema, version table) pair across rbacmig versions. */
long long runner_lock_key(const config *cfg)
{
    uint64_t h = 14695981039346656037ull;
    const char *parts[] = {cfg->schema, ".", cfg->version_table};
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (long long)(h & 0x7fffffffffffffffull);
}

/* "schema"."table" on PostgreSQL, "table" on SQLite. Caller frees. */
static char *qualified(runner *r, const char *table)
{
    char *t = db_quote_ident(r->conn, table);
    if (!t || r->conn->dialect == DIALECT_SQLITE)
        return t;
    char *s = db_quote_ident(r->conn, r->cfg->schema);
    char *out = s ? malloc(strlen(s) + strlen(t) + 2) : NULL;
    if (out)
        sprintf(out, "%s.%s", s, t);
    free(s);
    free(t);
    return out;
}

typedef struct names {
    char *version;
    char *history;
    char *schema; /* quoted, PostgreSQL only */
} names;

static int names_init(runner *r, names *n, rb_error *err)
{
    n->version = qualified(r, r->cfg->version_table);
    n->history = qualified(r, r->cfg->history_table);
    n->schema = db_quote_ident(r->conn, r->cfg->schema);
    if (!n->version || !n->history || !n->schema)
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    return 0;
}

static void names_release(names *n)
{
    free(n->version);
    free(n->history);
    free(n->schema);
}

/* The version rows of a `SELECT version_num` result, appended to rows. */
static int rows_from_result(const db_result *res, str_list *rows, rb_error *err)
{
    for (int i = 0; i < res->nrows; i++) {
        const db_value *v = db_result_cell(res, i, 0);
        if (v->type == DBV_TEXT && str_list_push(rows, v->text) != 0)
            return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    }
    return 0;
}

/* Caller frees; NULL after filling err. */
static char *version_query(const names *n, rb_error *err)
{
    return sql_format(err, "SELECT version_num FROM %s", n->version);
}

static int read_versions(runner *r, const names *n, str_list *rows, bool *exists, rb_error *err)
{
    db_result *res = NULL;
    int rc = -1;
    *exists = true;
    char *sql = version_query(n, err);
    if (!sql)
        goto done;
    if (db_exec(r->conn, sql, 0, NULL, &res, NULL, err) != 0) {
        if (strcmp(err->sqlstate, "42P01") == 0 && !r->conn->in_transaction) {
            *exists = false;
            rb_error_init(err);
            rc = 0;
        }
        goto done;
    }
    rc = rows_from_result(res, rows, err);
done:
    db_result_free(res);
    free(sql);
    return rc;
}

int runner_read_versions(runner *r, str_list *rows, bool *exists, rb_error *err)
{
    names n = {0};
    int rc = names_init(r, &n, err);
    if (rc == 0)
        rc = read_versions(r, &n, rows, exists, err);
    names_release(&n);
    return rc;
}

/* Runs a query on the history table whose format names it twice (%s ... %s). *res is an
 * empty result when the table does not exist yet (a fresh database has no history). */
static int query_history(runner *r, const char *format, db_result **res, rb_error *err)
{
    names n = {0};
    char *sql = NULL;
    int rc = names_init(r, &n, err);
    /* format is one of the callers' literals below, each naming the history table twice. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (rc == 0 && !(sql = sql_format(err, format, n.history, n.history)))
        rc = -1;
#pragma GCC diagnostic pop
    if (rc == 0) {
        rc = db_exec(r->conn, sql, 0, NULL, res, NULL, err);
        if (rc != 0 && strcmp(err->sqlstate, "42P01") == 0 && !r->conn->in_transaction) {
            rb_error_init(err);
            rc = (*res = db_result_new(0)) ? 0 : rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        }
    }
    free(sql);
    names_release(&n);
    return rc;
}

/* Copies a text cell (NULL or another type: "") into a bounded field. */
static void cell_to(const db_result *res, int row, int col, char *dst, size_t size)
{
    const db_value *v = db_result_cell(res, row, col);
    rb_strlcpy(dst, v->type == DBV_TEXT ? v->text : "", size);
}

int runner_changes(runner *r, const rev_set *applied, runner_change **changes, int *nchanges,
                   rb_error *err)
{
    db_result *res = NULL;
    int *row_of = NULL, rc = -1;
    *changes = NULL;
    *nchanges = 0;
    if (!(row_of = malloc(sizeof *row_of * ((size_t)r->g->count + 1))) ||
        !(*changes = calloc((size_t)r->g->count + 1, sizeof **changes))) {
        rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        goto done;
    }
    for (int i = 0; i < r->g->count; i++)
        row_of[i] = -1;
    /* The checksum of what is applied is the one its latest upgrade, stamp or repair recorded
     * (an unstamp or a downgrade records that it went). */
    if (query_history(r, "SELECT revision, checksum, direction, db_user, "
                      "CAST(started_at AS text) FROM %s WHERE id IN (SELECT max(id) FROM %s "
                      "WHERE direction IN ('upgrade', 'stamp', 'repair') AND success "
                      "GROUP BY revision)",
                      &res, err) != 0)
        goto done;
    for (int i = 0; i < res->nrows; i++) {
        const db_value *id = db_result_cell(res, i, 0), *sum = db_result_cell(res, i, 1);
        if (id->type != DBV_TEXT || sum->type != DBV_TEXT)
            continue;
        int idx = graph_find(r->g, id->text);
        if (idx >= 0 && applied->in[idx] && strcmp(r->g->revs[idx].sha256, sum->text) != 0)
            row_of[idx] = i;
    }
    /* Parents first (topological order), so a listing reads as the history does. */
    for (int k = 0; k < r->g->count; k++) {
        int idx = r->g->order[k], row = row_of[idx];
        if (row < 0)
            continue;
        runner_change *c = &(*changes)[(*nchanges)++];
        c->rev = idx;
        cell_to(res, row, 1, c->recorded, sizeof c->recorded);
        cell_to(res, row, 2, c->how, sizeof c->how);
        cell_to(res, row, 3, c->who, sizeof c->who);
        cell_to(res, row, 4, c->when, sizeof c->when);
    }
    rc = 0;
done:
    if (rc != 0) {
        free(*changes);
        *changes = NULL;
    }
    free(row_of);
    db_result_free(res);
    return rc;
}

int runner_changed_files(runner *r, const rev_set *applied, int **changed, int *nchanged,
                         rb_error *err)
{
    runner_change *changes = NULL;
    *changed = NULL;
    if (runner_changes(r, applied, &changes, nchanged, err) != 0)
        return -1;
    if (!(*changed = malloc(sizeof **changed * ((size_t)*nchanged + 1)))) {
        free(changes);
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    }
    for (int i = 0; i < *nchanged; i++)
        (*changed)[i] = changes[i].rev;
    free(changes);
    return 0;
}

int runner_failed_revisions(runner *r, str_list *failed, rb_error *err)
{
    db_result *res = NULL;
    if (query_history(r, "SELECT revision FROM %s WHERE NOT success AND id IN "
                      "(SELECT max(id) FROM %s GROUP BY revision) ORDER BY id", &res, err) != 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < res->nrows && rc == 0; i++) {
        const db_value *v = db_result_cell(res, i, 0);
        if (v->type == DBV_TEXT && str_list_push(failed, v->text) != 0)
            rc = rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    }
    db_result_free(res);
    return rc;
}

/* A non-transactional migration that stopped midway leaves the database between two
 * revisions; nothing runs on top of it until a person says which one it is. */
static int refuse_failed(runner *r, rb_error *err)
{
    str_list failed = {0};
    if (runner_failed_revisions(r, &failed, err) != 0)
        return -1;
    int rc = 0;
    if (failed.count > 0) {
        int idx = graph_find(r->g, failed.items[0]);
        char parent[128] = "PARENT";
        if (idx >= 0 && r->g->revs[idx].down.count)
            rb_strlcpy(parent, r->g->revs[idx].down.items[0], sizeof parent);
        rc = rb_errorf(err, RB_EXIT_FAILURE,
                       "revision %s failed midway (transactional = false) and is not resolved",
                       failed.items[0]);
        snprintf(err->hint, sizeof err->hint,
                 "repair the database by hand, then record what it is: 'rbacmig stamp %s' if "
                 "the migration's changes are all there, 'rbacmig stamp %s' if none are",
                 failed.items[0], idx >= 0 && r->g->revs[idx].down.count ? parent : "base");
    }
    str_list_release(&failed);
    return rc;
}

/* Refuses to build on an applied migration whose file was edited after it ran; with
 * --allow-changed names each and runs anyway, recording nothing: accepting the edited file
 * as the applied one is `repair`'s job, done once, not a side effect of every upgrade. */
static int refuse_changed(runner *r, const rev_set *applied, bool allow, rb_error *err)
{
    runner_change *changes = NULL;
    int n = 0;
    if (runner_changes(r, applied, &changes, &n, err) != 0)
        return -1;
    int rc = 0;
    if (n > 0 && !allow) {
        const revision *rev = &r->g->revs[changes[0].rev];
        rc = rb_errorf(err, RB_EXIT_FAILURE,
                       "'%s' (revision %s) changed after it was applied%s", rev->path, rev->id,
                       n > 1 ? " (and others; see 'rbacmig check')" : "");
        rb_strlcpy(err->hint, "restore the applied file; or, if the edit changes nothing that "
                   "ran (a comment), record it with 'rbacmig repair'; or pass --allow-changed "
                   "to run this once anyway", sizeof err->hint);
    }
    for (int i = 0; allow && i < n; i++)
        out_note("warning: '%s' (revision %s) changed after it was applied; running anyway "
                 "(--allow-changed); 'rbacmig repair' records the edit",
                 r->g->revs[changes[i].rev].path, r->g->revs[changes[i].rev].id);
    free(changes);
    return rc;
}

/* On Supabase every table in public is reachable through the Data API, and default
 * privileges hand anon and authenticated full rights on new tables and sequences: nobody may
 * rewrite the version table, or push the history table's sequence to its end (every later
 * insert into the history, so every run, would fail) over HTTP. RLS without policies shuts the
 * API roles out of the tables (rbacmig, the owner, is not subject to it), and every grant they
 * hold on rbacmig's objects (the two tables and the sequences they own) is revoked.
 * One block does it, the same online and in a --sql script, where it meets the database only
 * when applied. It changes only what is missing: ALTER TABLE takes an exclusive lock that a
 * run waiting for the migration lock (holding a read lock on the version table) would
 * deadlock with, and a REVOKE of nothing would still write an explicit ACL. */
static int close_to_api_roles(runner *r, const names *n, rb_error *err)
{
    static const char block[] =
        "DO $rbacmig$ DECLARE o record; g name; BEGIN "
        "FOR o IN SELECT c.oid::regclass AS rel, c.relkind, c.relrowsecurity, "
        "ARRAY(SELECT p.rolname FROM pg_roles p "
        "WHERE p.rolname IN ('anon', 'authenticated') "
        "AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = p.oid) "
        "ORDER BY p.rolname) AS grantees "
        "FROM pg_class c WHERE c.oid IN (to_regclass(%s), to_regclass(%s)) "
        "OR (c.relkind = 'S' AND c.oid IN (SELECT d.objid FROM pg_depend d "
        "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND d.refobjid IN (to_regclass(%s), to_regclass(%s)) AND d.deptype IN ('a', 'i'))) "
        "LOOP "
        "IF o.relkind <> 'S' AND NOT o.relrowsecurity THEN "
        "EXECUTE format('ALTER TABLE %%s ENABLE ROW LEVEL SECURITY', o.rel); END IF; "
        "FOREACH g IN ARRAY o.grantees LOOP "
        "EXECUTE format('REVOKE ALL ON %%s %%s FROM %%I', "
        "CASE o.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, o.rel, g); "
        "END LOOP; END LOOP; END $rbacmig$";
    db_value vv = dbv_text(n->version), hv = dbv_text(n->history);
    char *version = NULL, *history = NULL, *sql = NULL;
    size_t version_len = 0, history_len = 0;
    int rc = -1;
    if (db_literal(&vv, DIALECT_POSTGRESQL, &version, &version_len, err) != 0 ||
        db_literal(&hv, DIALECT_POSTGRESQL, &history, &history_len, err) != 0)
        goto done;
    size_t len = sizeof block + 2 * (version_len + history_len);
    sql = malloc(len);
    if (!sql) {
        rc = rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        goto done;
    }
    snprintf(sql, len, block, version, history, version, history);
    rc = db_run(r->conn, sql, err);
done:
    free(sql);
    free(version);
    free(history);
    return rc;
}

/* Inside the locked transaction: creates the schema (PostgreSQL, if not public), the
 * version table and the history table when missing. */
static int ensure_tables(runner *r, const names *n, rb_error *err)
{
    bool pg = r->conn->dialect == DIALECT_POSTGRESQL;
    if (pg && strcmp(r->cfg->schema, "public") != 0 &&
        run_format(r, err, "CREATE SCHEMA IF NOT EXISTS %s", n->schema) != 0)
        return -1;
    if (run_format(r, err,
                   "CREATE TABLE IF NOT EXISTS %s (version_num varchar(64) NOT NULL PRIMARY KEY)",
                   n->version) != 0)
        return -1;
    if (run_format(r, err,
             "CREATE TABLE IF NOT EXISTS %s ("
             "id %s, revision varchar(64) NOT NULL, down_revision text, "
             "direction varchar(10) NOT NULL, message text, checksum char(64), "
             "started_at %s NOT NULL DEFAULT CURRENT_TIMESTAMP, duration_ms %s, db_user text, "
             "rbacmig_version text, success boolean NOT NULL)",
             n->history,
             pg ? "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                : "INTEGER PRIMARY KEY AUTOINCREMENT",
             pg ? "timestamptz" : "text", pg ? "double precision" : "real") != 0)
        return -1;
    if (!pg)
        return 0;
    return close_to_api_roles(r, n, err);
}

/* SQLite cannot ALTER a table in place; the schema builder rebuilds it, and a rebuild
 * drops the old table, which with foreign keys on would fire ON DELETE actions in the tables
 * that reference it. The builder then raises SQLSTATE "RBFK0" and the runner runs that step
 * again with foreign keys off (a pragma that only takes effect outside a transaction),
 * checking them with foreign_key_check before it commits: SQLite's own ALTER TABLE
 * procedure. Every other step runs with foreign keys on, so ON DELETE CASCADE works in data
 * migrations as users expect. */
#define SQLSTATE_NEEDS_FK_OFF "RBFK0"

static int sqlite_foreign_keys(runner *r, bool on, rb_error *err)
{
    if (r->conn->dialect != DIALECT_SQLITE || r->conn->offline)
        return 0;
    return db_run(r->conn, on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF", err);
}

static int sqlite_check_foreign_keys(runner *r, const revision *rev, rb_error *err)
{
    if (r->conn->dialect != DIALECT_SQLITE || r->conn->offline)
        return 0;
    db_result *res = NULL;
    if (db_exec(r->conn, "PRAGMA foreign_key_check", 0, NULL, &res, NULL, err) != 0)
        return -1;
    int rc = 0;
    if (res->nrows > 0 && res->ncols >= 3) {
        const db_value *table = db_result_cell(res, 0, 0), *parent = db_result_cell(res, 0, 2);
        rc = rb_errorf(err, RB_EXIT_FAILURE,
                       "%s: leaves %d row(s) violating foreign keys (first: a row of '%s' "
                       "references a missing row of '%s')",
                       rev->path, res->nrows, table->type == DBV_TEXT ? table->text : "?",
                       parent->type == DBV_TEXT ? parent->text : "?");
        /* Only a step the foreign-keys-off retry ran is checked here: say why the rows
         * escaped the actions PostgreSQL would have taken. */
        rb_strlcpy(err->hint, "foreign keys were off in this migration because it rebuilds a "
                   "table other tables reference (SQLite cannot switch them on inside a "
                   "transaction), so ON DELETE and ON UPDATE actions did not run; put the "
                   "operations that rebuild that table in a migration of their own",
                   sizeof err->hint);
    }
    db_result_free(res);
    return rc;
}

/* Brings the version table from `before` rows to the rows of the new applied set. */
static int write_versions(runner *r, const names *n, const str_list *before, const rev_set *applied,
                          rb_error *err)
{
    str_list after = {0}, removed = {0}, added = {0};
    int rc = -1;
    if (graph_version_rows(r->g, applied, &after) != 0)
        goto oom;
    for (int i = 0; i < before->count; i++)
        if (!str_list_contains(&after, before->items[i]) && str_list_push(&removed, before->items[i]))
            goto oom;
    for (int i = 0; i < after.count; i++)
        if (!str_list_contains(before, after.items[i]) && str_list_push(&added, after.items[i]))
            goto oom;
    /* The common linear step is one UPDATE, as in alembic_version. */
    while (removed.count > 0 && added.count > 0) {
        db_value p[2] = {dbv_text(added.items[added.count - 1]),
                         dbv_text(removed.items[removed.count - 1])};
        if (exec_format(r, 2, p, err, "UPDATE %s SET version_num = $1 WHERE version_num = $2",
                        n->version) != 0)
            goto done;
        free(added.items[--added.count]);
        free(removed.items[--removed.count]);
    }
    for (int i = 0; i < removed.count; i++) {
        db_value p = dbv_text(removed.items[i]);
        if (exec_format(r, 1, &p, err, "DELETE FROM %s WHERE version_num = $1", n->version) != 0)
            goto done;
    }
    for (int i = 0; i < added.count; i++) {
        db_value p = dbv_text(added.items[i]);
        if (exec_format(r, 1, &p, err, "INSERT INTO %s (version_num) VALUES ($1)",
                        n->version) != 0)
            goto done;
    }
    rc = 0;
    goto done;
oom:
    rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
done:
    str_list_release(&after);
    str_list_release(&removed);
    str_list_release(&added);
    return rc;
}

/* The eight values of a history row, in column order; *down is the caller's to free. */
static int history_values(runner *r, const revision *rev, const char *direction_name, double ms,
                          db_value p[8], char **down, rb_error *err)
{
    size_t len = 1;
    for (int i = 0; i < rev->down.count; i++)
        len += strlen(rev->down.items[i]) + 2;
    if (!(*down = malloc(len)))
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    (*down)[0] = '\0';
    for (int i = 0; i < rev->down.count; i++) {
        if (i)
            strcat(*down, ", ");
        strcat(*down, rev->down.items[i]);
    }
    p[0] = dbv_text(rev->id);
    p[1] = dbv_text((*down)[0] ? *down : NULL);
    p[2] = dbv_text(direction_name);
    p[3] = dbv_text(rev->message);
    p[4] = dbv_text(rev->sha256);
    p[5] = r->conn->offline ? dbv_text(NULL) : (db_value){.type = DBV_FLOAT, .f = ms};
    p[6] = dbv_text(r->conn->ops->current_user(r->conn));
    p[7] = dbv_text(RBACMIG_VERSION);
    return 0;
}

#define HISTORY_INSERT                                                                        \
    "INSERT INTO %s (revision, down_revision, direction, message, checksum, duration_ms, "    \
    "db_user, rbacmig_version, success) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, %s)"

static int write_history(runner *r, const names *n, const revision *rev, const char *direction_name,
                         double ms, bool success, rb_error *err)
{
    char *down = NULL;
    db_value p[8];
    if (history_values(r, rev, direction_name, ms, p, &down, err) != 0)
        return -1;
    int rc = exec_format(r, 8, p, err, HISTORY_INSERT, n->history, success ? "TRUE" : "FALSE");
    free(down);
    return rc;
}

/* Records a successful step: the version rows and the history row, then commits when
 * asked. On PostgreSQL a linear step (one row replaced, added or removed) is one statement,
 * the version change in a CTE, sent with its COMMIT in one flight: the step's bookkeeping
 * costs one round trip, one fewer than psql's UPDATE then COMMIT. With `reopen`, that flight
 * may also begin the next step's transaction (db_exec_commit). */
static int record_step(runner *r, const names *n, const str_list *before, const rev_set *applied,
                       const revision *rev, const char *direction_name, double ms, bool commit,
                       db_reopen *reopen, rb_error *err)
{
    str_list after = {0};
    char *sql = NULL, *down = NULL;
    const char *gone = NULL, *came = NULL;
    int changes = 0, rc = -1;
    if (r->conn->dialect != DIALECT_POSTGRESQL || r->conn->offline ||
        graph_version_rows(r->g, applied, &after) != 0)
        goto separate;
    for (int i = 0; i < before->count; i++)
        if (!str_list_contains(&after, before->items[i]) && ++changes)
            gone = before->items[i];
    for (int i = 0; i < after.count; i++)
        if (!str_list_contains(before, after.items[i]) && ++changes)
            came = after.items[i];
    if (changes > 2 || (changes == 2 && (!gone || !came)) || changes == 0)
        goto separate;
    db_value p[10];
    if (history_values(r, rev, direction_name, ms, p, &down, err) != 0)
        goto done;
    const char *version_change;
    int np = 8;
    if (gone && came) {
        version_change = "UPDATE %s SET version_num = $9 WHERE version_num = $10";
        p[np++] = dbv_text(came);
        p[np++] = dbv_text(gone);
    } else if (came) {
        version_change = "INSERT INTO %s (version_num) VALUES ($9)";
        p[np++] = dbv_text(came);
    } else {
        version_change = "DELETE FROM %s WHERE version_num = $9";
        p[np++] = dbv_text(gone);
    }
    /* version_change is one of the three literals above, each naming the table once. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char *version_sql = sql_format(err, version_change, n->version);
#pragma GCC diagnostic pop
    if (version_sql)
        sql = sql_format(err, "WITH version_change AS (%s) " HISTORY_INSERT, version_sql,
                         n->history, "TRUE");
    free(version_sql);
    if (!sql)
        goto done;
    rc = commit ? db_exec_commit(r->conn, sql, np, p, reopen, err)
                : db_exec(r->conn, sql, np, p, NULL, NULL, err);
    goto done;
separate:
    rc = write_versions(r, n, before, applied, err);
    if (rc == 0)
        rc = write_history(r, n, rev, direction_name, ms, true, err);
    if (rc == 0 && commit)
        rc = db_commit(r->conn, err);
done:
    free(sql);
    free(down);
    str_list_release(&after);
    return rc;
}

/* "a, b" for the ids a step moves from/to; "" for base. Caller frees. */
static char *step_from(const graph *g, int idx, direction dir)
{
    const revision *rev = &g->revs[idx];
    return dir == DIR_UPGRADE ? graph_join_ids(g, rev->parents, rev->nparents) : strdup(rev->id);
}

static char *step_to(const graph *g, int idx, direction dir)
{
    const revision *rev = &g->revs[idx];
    return dir == DIR_UPGRADE ? strdup(rev->id) : graph_join_ids(g, rev->parents, rev->nparents);
}

/* Under --single-transaction a failure takes the command's earlier steps with it: the text
 * that says so (", and --single-transaction rolled back the 2 steps before it (a, b) too"),
 * or "" when the step was the first. */
static void rolled_back_too(const graph *g, const int *earlier, int nearlier, char *buf,
                            size_t size)
{
    buf[0] = '\0';
    if (nearlier == 0)
        return;
    char *ids = graph_join_ids(g, earlier, nearlier);
    snprintf(buf, size, ", and --single-transaction rolled back the %d step%s before it (%s) "
             "too", nearlier, nearlier == 1 ? "" : "s", ids ? ids : "out of memory");
    free(ids);
}

/* Runs one migration and records it; with commit, ends the transaction the caller began, and
 * with `reopen` may begin the next one (db_exec_commit). `earlier` are the steps done before
 * it in the same transaction, which a failure undoes too (--single-transaction). Prints the
 * step when it starts (a long or failing step is named while it runs, as Alembic does) and
 * its time when it is recorded; `again` (a rerun with foreign keys off) prints no new line. */
static int apply_step(runner *r, const names *n, const migrate_options *opts, int idx,
                      str_list *rows, rev_set *applied, bool fk_off, bool commit, bool again,
                      db_reopen *reopen, const int *earlier, int nearlier, rb_error *err)
{
    const revision *rev = &r->g->revs[idx];
    const char *verb = opts->dir == DIR_UPGRADE ? "upgrade" : "downgrade";
    char too[512];
    double t0 = now_ms();
    if (!again) {
        char *from = step_from(r->g, idx, opts->dir), *to = step_to(r->g, idx, opts->dir);
        char *message = out_printable(rev->message);
        if (!from || !to || !message) {
            free(from);
            free(to);
            free(message);
            return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        }
        out_progress("Running %s %s -> %s, %s", verb, from, to, message);
        free(from);
        free(to);
        free(message);
    }
    int rc = lua_host_run_migration(r->host, rev->path, rev->sha256, verb, r->conn, err);
    if (stop_signal) {
        rolled_back_too(r->g, earlier, nearlier, too, sizeof too);
        return rb_errorf(err, stop_signal == SIGTERM ? RB_EXIT_SIGTERM : RB_EXIT_SIGINT,
                         "interrupted by %s: %s %s rolled back%s; the database stays at the "
                         "revision %s", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", verb,
                         rev->id, too, nearlier ? "it was at before the command" : "before it");
    }
    if (rc != 0 && !r->conn->in_transaction && !r->conn->offline) {
        /* Its statements that ran are committed: record the failure, so that nothing
         * runs on top of a half-applied revision. */
        rb_error record;
        if (db_begin_locked(r->conn, runner_lock_key(r->cfg), &record) == 0 &&
            write_history(r, n, rev, verb, now_ms() - t0, false, &record) == 0)
            db_commit(r->conn, &record);
        else
            db_rollback(r->conn);
        rb_strlcpy(err->hint, "the migration ran outside a transaction: its statements before "
                   "the failure are committed; 'rbacmig check' shows it as failed",
                   sizeof err->hint);
    }
    if (rc != 0) {
        rolled_back_too(r->g, earlier, nearlier, too, sizeof too);
        return rb_error_prefix(err, "%s %s failed%s", verb, rev->id, too);
    }
    double ms = now_ms() - t0;
    if (fk_off && sqlite_check_foreign_keys(r, rev, err) != 0)
        goto failed;
    if (!r->conn->in_transaction) {
        /* A non-transactional migration ran in autocommit mode; its bookkeeping still
         * takes the lock and a transaction of its own. */
        if (db_begin_locked(r->conn, runner_lock_key(r->cfg), err) != 0)
            return -1;
    }
    rev_set next;
    if (rev_set_init(&next, r->g) != 0)
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    memcpy(next.in, applied->in, (size_t)r->g->count);
    next.count = applied->count;
    if (opts->dir == DIR_UPGRADE) {
        rev_set_add(&next, idx);
    } else {
        next.in[idx] = 0;
        next.count--;
    }
    /* A deferred constraint fails at COMMIT: the error names the step it failed. */
    if (record_step(r, n, rows, &next, rev, verb, ms, commit, reopen, err) != 0) {
        rev_set_release(&next);
        goto failed;
    }
    str_list_release(rows);
    rev_set_release(applied);
    *applied = next;
    if (graph_version_rows(r->g, &next, rows) != 0)
        /* Committed, but the rows for the next step's plan could not be kept. */
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory after %s %s", verb, rev->id);
    if (!r->conn->offline)
        out_progress("  done in %.0f ms", now_ms() - t0);
    return 0;
failed:
    rolled_back_too(r->g, earlier, nearlier, too, sizeof too);
    return rb_error_prefix(err, "%s %s failed%s", verb, rev->id, too);
}

static bool same_rows(const str_list *a, const str_list *b)
{
    if (a->count != b->count)
        return false;
    for (int i = 0; i < a->count; i++)
        if (!str_list_contains(b, a->items[i]))
            return false;
    return true;
}

/* The version rows read at the start of a step's transaction, under the lock, replace
 * *rows; the plan stays valid only if they are what our own last step left. Frees res. */
static int take_fresh_rows(db_result *res, str_list *rows, bool *plan_valid, rb_error *err)
{
    str_list fresh = {0};
    int failed = rows_from_result(res, &fresh, err);
    db_result_free(res);
    if (failed) {
        str_list_release(&fresh);
        return -1;
    }
    *plan_valid = *plan_valid && same_rows(&fresh, rows);
    str_list_release(rows);
    *rows = fresh;
    return 0;
}

/* Resolves the target once, against the state seen before any lock: relative targets
 * (+1, -2) must not drift while concurrent runs move the database. */
static int resolve(runner *r, const migrate_options *opts, const str_list *rows, target *t,
                   rb_error *err)
{
    rev_set applied;
    if (graph_applied(r->g, rows, &applied, err) != 0)
        return -1;
    int rc = graph_resolve_target(r->g, opts->target, opts->dir, &applied, t, err);
    rev_set_release(&applied);
    return rc;
}

static int plan_from(runner *r, const migrate_options *opts, const str_list *rows, const target *t,
                     rev_set *applied, int **steps, int *nsteps, rb_error *err)
{
    if (graph_applied(r->g, rows, applied, err) != 0)
        return -1;
    if (graph_plan(r->g, applied, t, opts->dir, steps, nsteps, err) != 0) {
        rev_set_release(applied);
        return -1;
    }
    return 0;
}

/* Stamp moves the version table to the target in one locked transaction, running no
 * migration, and records a history row for every revision whose state it changed, for the
 * target, and for failed revisions: stamping is how a person resolves a failure. The row
 * says which way: "stamp" for a revision recorded as applied, "unstamp" for one recorded as
 * not applied (`stamp base` unstamps them all), so the history tells the two apart. */
static int stamp(runner *r, const names *n, const migrate_options *opts, const target *t,
                 rb_error *err)
{
    str_list rows = {0}, failed = {0};
    rev_set applied = {0}, next = {0};
    bool exists;
    int rc = -1;
    if (db_begin_locked(r->conn, runner_lock_key(r->cfg), err) != 0)
        return -1;
    if (ensure_tables(r, n, err) != 0)
        goto done;
    if (!r->conn->offline && read_versions(r, n, &rows, &exists, err) != 0)
        goto done;
    if (opts->purge) {
        if (run_format(r, err, "DELETE FROM %s", n->version) != 0)
            goto done;
        str_list_release(&rows);
    }
    if (graph_applied(r->g, &rows, &applied, err) != 0)
        goto done;
    /* Everything not below the target goes; the target and its ancestors come. */
    if (rev_set_init(&next, r->g) != 0) {
        rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
        goto done;
    }
    if (t->kind == TARGET_REVISIONS)
        for (int i = 0; i < t->nrevs; i++)
            rev_set_add_ancestors(&next, r->g, t->revs[i]);
    if (!r->conn->offline && runner_failed_revisions(r, &failed, err) != 0)
        goto done;
    if (write_versions(r, n, &rows, &next, err) != 0)
        goto done;
    for (int i = 0; i < r->g->count; i++) {
        bool record = str_list_contains(&failed, r->g->revs[i].id) || applied.in[i] != next.in[i];
        for (int k = 0; t->kind == TARGET_REVISIONS && k < t->nrevs; k++)
            record |= t->revs[k] == i;
        if (record && write_history(r, n, &r->g->revs[i], next.in[i] ? "stamp" : "unstamp", 0,
                                    true, err) != 0)
            goto done;
    }
    if (db_commit(r->conn, err) != 0)
        goto done;
    char *ids = t->kind == TARGET_BASE ? strdup("base") : graph_join_ids(r->g, t->revs, t->nrevs);
    out_progress("Stamped %s", ids ? ids : "");
    free(ids);
    rc = 0;
done:
    if (r->conn->in_transaction)
        db_rollback(r->conn);
    rev_set_release(&applied);
    rev_set_release(&next);
    str_list_release(&rows);
    str_list_release(&failed);
    return rc;
}

int runner_migrate(runner *r, const migrate_options *opts, rb_error *err)
{
    names n = {0};
    str_list rows = {0};
    rev_set applied = {0};
    int *steps = NULL, nsteps = 0, rc = -1;
    char *version_sql = NULL; /* the locked re-read of each step */
    bool exists = false, in_tx = false;
    bool fk_off = false; /* SQLite: the next step runs with foreign keys off (see above) */
    target t;
    const long long key = runner_lock_key(r->cfg);
    migrating = 1;
    running_conn = r->conn; /* a signal cancels whatever the server is doing, lock waits too */

    if (names_init(r, &n, err) != 0)
        goto done;
    if (r->conn->offline) {
        /* --sql: no database to read; start from START (or base) and write every step. */
        if (opts->sql_start && strcmp(opts->sql_start, "base") != 0) {
            int idx;
            if (graph_resolve_one(r->g, opts->sql_start, &idx, err) != 0)
                goto done;
            if (str_list_push(&rows, r->g->revs[idx].id) != 0)
                goto oom;
        }
    } else if (read_versions(r, &n, &rows, &exists, err) != 0) {
        goto done;
    }
    str_list none = {0};
    if (resolve(r, opts, opts->purge ? &none : &rows, &t, err) != 0)
        goto done;

    if (opts->stamp) {
        rc = stamp(r, &n, opts, &t, err);
        goto done;
    }

    /* The fast path of a no-op run: one query, no lock, no write. */
    if (!r->conn->offline) {
        if (plan_from(r, opts, &rows, &t, &applied, &steps, &nsteps, err) != 0)
            goto done;
        if (nsteps == 0) {
            out_debug("nothing to do: already at the target");
            rc = 0;
            goto done;
        }
        if (exists && refuse_failed(r, err) != 0)
            goto done;
        if (exists && refuse_changed(r, &applied, opts->allow_changed, err) != 0)
            goto done;
        rev_set_release(&applied);
        free(steps);
        steps = NULL;
    }

    /* rbacmig's tables are made together, in one transaction: a version table that could
     * be read means both exist, and the first step can begin with the locked read. */
    bool tables_ready = exists && !r->conn->offline, plan_valid = false;
    if (!(version_sql = version_query(&n, err)))
        goto done;
    int next_step = 0;
    for (;;) {
        /* Our own plan is done: no transaction to open just to find nothing left. */
        if (plan_valid && next_step == nsteps && !in_tx)
            break;
        if (!in_tx) {
            if (fk_off && sqlite_foreign_keys(r, false, err) != 0)
                goto done;
            /* Another run may have moved the database while we waited for the lock, so the
             * version is read again under it: in the same round trip once the tables exist. */
            if (tables_ready && !r->conn->offline) {
                db_result *res = NULL;
                if (db_begin_locked_read(r->conn, key, version_sql, &res, err) != 0)
                    goto done;
                in_tx = true;
                if (take_fresh_rows(res, &rows, &plan_valid, err) != 0)
                    goto done;
            } else {
                if (db_begin_locked(r->conn, key, err) != 0)
                    goto done;
                in_tx = true;
                if (!tables_ready && ensure_tables(r, &n, err) != 0)
                    goto done;
                tables_ready = true;
                if (!r->conn->offline) {
                    str_list_release(&rows);
                    if (read_versions(r, &n, &rows, &exists, err) != 0)
                        goto done;
                    plan_valid = false;
                }
                /* Offline the state only moves by our own steps: rows stay as they are. */
            }
        }
        /* Planning walks the whole graph; doing it once per step made a long upgrade
         * quadratic. The plan is recomputed only when another run moved the database. */
        if (!plan_valid) {
            rev_set_release(&applied);
            free(steps);
            steps = NULL;
            if (plan_from(r, opts, &rows, &t, &applied, &steps, &nsteps, err) != 0)
                goto done;
            next_step = 0;
            plan_valid = true;
        }
        if (next_step == nsteps)
            break;
        const revision *rev = &r->g->revs[steps[next_step]];
        if (!rev->transactional) {
            if (opts->single_transaction) {
                rb_errorf(err, RB_EXIT_FAILURE,
                          "%s: transactional = false cannot run inside --single-transaction",
                          rev->path);
                goto done;
            }
            if (r->conn->via_transaction_pooler) {
                rb_errorf(err, RB_EXIT_FAILURE,
                          "%s: transactional = false needs one database session, which a "
                          "transaction-mode pooler does not give; use the direct URL (port "
                          "5432) or the session-mode pooler for this migration",
                          rev->path);
                goto done;
            }
            /* Outside a transaction the statements run one by one; the lock and the
             * version update take a transaction of their own afterwards. */
            if (db_commit(r->conn, err) != 0)
                goto done;
            in_tx = false;
        }
        /* The next step's transaction may begin in the round trip that commits this one
         * (PostgreSQL): its locked read then comes back with the commit. */
        db_reopen reopen = {.key = key, .read_sql = version_sql};
        bool want_reopen = !opts->single_transaction && !r->conn->offline && tables_ready &&
                           next_step + 1 < nsteps && r->g->revs[steps[next_step + 1]].transactional;
        /* Under --single-transaction the steps of this plan before this one share its
         * transaction (the plan is only made again before the transaction began). */
        int nearlier = opts->single_transaction && !r->conn->offline ? next_step : 0;
        if (apply_step(r, &n, opts, steps[next_step], &rows, &applied, fk_off,
                       !opts->single_transaction, fk_off, want_reopen ? &reopen : NULL, steps,
                       nearlier, err) != 0) {
            db_result_free(reopen.rows); /* a step that committed, then ran out of memory */
            reopen.rows = NULL;
            in_tx = r->conn->in_transaction;
            if (strcmp(err->sqlstate, SQLSTATE_NEEDS_FK_OFF) == 0 && !fk_off &&
                rev->transactional && !opts->single_transaction && !stop_signal) {
                out_debug("%s rebuilds a referenced table: running it again with foreign keys "
                          "off", rev->path);
                db_rollback(r->conn);
                in_tx = false;
                fk_off = true;
                tables_ready = false; /* the rollback may have undone their creation */
                rb_error_init(err);
                continue;
            }
            goto done;
        }
        in_tx = r->conn->in_transaction; /* committed by apply_step unless one transaction */
        next_step++;
        if (want_reopen && reopen.rows) {
            out_debug("the next step's transaction began with this step's COMMIT");
            if (take_fresh_rows(reopen.rows, &rows, &plan_valid, err) != 0)
                goto done;
        }
        if (!opts->single_transaction) {
            if (fk_off) {
                fk_off = false;
                if (sqlite_foreign_keys(r, true, err) != 0)
                    goto done;
            }
        }
        if (stop_signal) {
            const char *sig = stop_signal == SIGTERM ? "SIGTERM" : "SIGINT";
            const char *verb = opts->dir == DIR_UPGRADE ? "upgrade" : "downgrade";
            rb_errorf(err, stop_signal == SIGTERM ? RB_EXIT_SIGTERM : RB_EXIT_SIGINT,
                      "interrupted by %s after %s %s; the database is at a consistent revision",
                      sig, verb, rev->id);
            if (in_tx && opts->single_transaction && !r->conn->offline)
                rb_errorf(err, stop_signal == SIGTERM ? RB_EXIT_SIGTERM : RB_EXIT_SIGINT,
                          "interrupted by %s after %s %s: --single-transaction rolled back all "
                          "%d step%s of the command; the database stays at the revision it was "
                          "at before it", sig, verb, rev->id, next_step, next_step == 1 ? "" : "s");
            goto done;
        }
    }
    if (in_tx) {
        if (db_commit(r->conn, err) != 0) {
            /* A deferred constraint or a lost connection at the one COMMIT. */
            if (opts->single_transaction && !r->conn->offline)
                rb_error_prefix(err, "committing the %d step%s of --single-transaction failed, "
                                "so none of them is applied", nsteps, nsteps == 1 ? "" : "s");
            goto done;
        }
        in_tx = false;
    }
    rc = 0;
    goto done;
oom:
    rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
done:
    if (in_tx)
        db_rollback(r->conn);
    if (fk_off) {
        rb_error ignored;
        sqlite_foreign_keys(r, true, &ignored);
    }
    rev_set_release(&applied);
    free(steps);
    str_list_release(&rows);
    names_release(&n);
    free(version_sql);
    running_conn = NULL;
    migrating = 0;
    if (rc != 0 && stop_signal && err->code != RB_EXIT_SIGINT && err->code != RB_EXIT_SIGTERM) {
        /* Cancelled outside a migration (waiting for the lock, bookkeeping): nothing of the
         * step that was under way was committed. */
        rb_error_prefix(err, "interrupted by %s", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
        err->code = stop_signal == SIGTERM ? RB_EXIT_SIGTERM : RB_EXIT_SIGINT;
    }
    return rc;
}

int runner_repair(runner *r, bool dry_run, runner_change **changes, int *nchanges,
                  rb_error *err)
{
    names n = {0};
    str_list rows = {0};
    rev_set applied = {0};
    bool exists = false;
    int rc = -1;
    *changes = NULL;
    *nchanges = 0;
    if (names_init(r, &n, err) != 0)
        goto done;
    /* Looked at first without the lock, as a no-op upgrade does: most runs find nothing. */
    if (read_versions(r, &n, &rows, &exists, err) != 0 ||
        graph_applied(r->g, &rows, &applied, err) != 0 ||
        runner_changes(r, &applied, changes, nchanges, err) != 0)
        goto done;
    if (dry_run || *nchanges == 0) {
        rc = 0;
        goto done;
    }
    /* Again under the lock, with the writes in its transaction: a concurrent upgrade or
     * repair must not slip between what is listed and what is recorded. */
    free(*changes);
    *changes = NULL;
    str_list_release(&rows);
    rev_set_release(&applied);
    if (db_begin_locked(r->conn, runner_lock_key(r->cfg), err) != 0 ||
        read_versions(r, &n, &rows, &exists, err) != 0 ||
        graph_applied(r->g, &rows, &applied, err) != 0 ||
        runner_changes(r, &applied, changes, nchanges, err) != 0)
        goto done;
    for (int i = 0; i < *nchanges; i++)
        if (write_history(r, &n, &r->g->revs[(*changes)[i].rev], "repair", 0, true, err) != 0)
            goto done;
    if (db_commit(r->conn, err) != 0)
        goto done;
    rc = 0;
done:
    if (r->conn->in_transaction)
        db_rollback(r->conn);
    if (rc != 0) {
        free(*changes);
        *changes = NULL;
        *nchanges = 0;
    }
    rev_set_release(&applied);
    str_list_release(&rows);
    names_release(&n);
    return rc;
}
