/* versions.c: rbacmig's own tables (see versions.h). */
#include "versions.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

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
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
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
static int run_format(version_store *vs, rb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int run_format(version_store *vs, rb_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sql_vformat(err, fmt, ap);
    va_end(ap);
    int rc = sql ? db_run(vs->conn, sql, err) : -1;
    free(sql);
    return rc;
}

/* Formats a statement and runs it with params (see db_exec). */
static int exec_format(version_store *vs, int nparams, const db_value *params, rb_error *err,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int exec_format(version_store *vs, int nparams, const db_value *params, rb_error *err,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sql_vformat(err, fmt, ap);
    va_end(ap);
    int rc = sql ? db_exec(vs->conn, sql, nparams, params, NULL, NULL, err) : -1;
    free(sql);
    return rc;
}

/* The advisory-lock key: stable for a (schema, version table) pair across rbacmig versions. */
long long versions_lock_key(const config *cfg)
{
    uint64_t h = 14695981039346656037ull;
    const char *parts[] = {cfg->schema, ".", cfg->version_table};
    for (int i = 0; i < 3; i++)
        for (const char *p = parts[i]; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (long long)(h & 0x7fffffffffffffffull);
}

/* "schema"."table" on PostgreSQL, "table" on SQLite. Caller frees. */
static char *qualified(db_conn *conn, const config *cfg, const char *table)
{
    char *t = db_quote_ident(conn, table);
    if (!t || db_conn_dialect(conn) == DIALECT_SQLITE)
        return t;
    char *s = db_quote_ident(conn, cfg->schema);
    char *out = s ? malloc(strlen(s) + strlen(t) + 2) : NULL;
    if (out)
        sprintf(out, "%s.%s", s, t);
    free(s);
    free(t);
    return out;
}

int versions_open(version_store *vs, db_conn *conn, const config *cfg, const graph *g,
                  rb_error *err)
{
    *vs = (version_store){.conn = conn, .cfg = cfg, .g = g};
    vs->version = qualified(conn, cfg, cfg->version_table);
    vs->history = qualified(conn, cfg, cfg->history_table);
    vs->schema = db_quote_ident(conn, cfg->schema);
    if (!vs->version || !vs->history || !vs->schema) {
        versions_close(vs);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    return 0;
}

void versions_close(version_store *vs)
{
    free(vs->version);
    free(vs->history);
    free(vs->schema);
    vs->version = vs->history = vs->schema = NULL;
}

int versions_clear(version_store *vs, rb_error *err)
{
    return run_format(vs, err, "DELETE FROM %s", vs->version);
}

/* The version rows of a `SELECT version_num` result, appended to rows. */
int versions_rows_from_result(const db_result *res, str_list *rows, rb_error *err)
{
    for (int i = 0; i < res->nrows; i++) {
        const db_value *v = db_result_cell(res, i, 0);
        if (v->type == DBV_TEXT && str_list_push(rows, v->text) != 0)
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    return 0;
}

char *versions_read_sql(const version_store *vs, rb_error *err)
{
    return sql_format(err, "SELECT version_num FROM %s", vs->version);
}

int versions_read(version_store *vs, str_list *rows, bool *exists, rb_error *err)
{
    db_result *res = NULL;
    int rc = -1;
    *exists = true;
    char *sql = versions_read_sql(vs, err);
    if (!sql)
        goto done;
    if (db_exec(vs->conn, sql, 0, NULL, &res, NULL, err) != 0) {
        if (err->kind == RB_ERR_NOT_FOUND && !db_in_transaction(vs->conn)) {
            *exists = false;
            rb_error_init(err);
            rc = 0;
        }
        goto done;
    }
    rc = versions_rows_from_result(res, rows, err);
done:
    db_result_free(res);
    free(sql);
    return rc;
}

/* Runs a query on the history table whose format names it twice (%s ... %s). *res is an
 * empty result when the table does not exist yet (a fresh database has no history). */
static int query_history(version_store *vs, const char *format, db_result **res, rb_error *err)
{
    /* format is one of the callers' literals, each naming the history table twice. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char *sql = sql_format(err, format, vs->history, vs->history);
#pragma GCC diagnostic pop
    int rc = sql ? 0 : -1;
    if (rc == 0) {
        rc = db_exec(vs->conn, sql, 0, NULL, res, NULL, err);
        if (rc != 0 && err->kind == RB_ERR_NOT_FOUND && !db_in_transaction(vs->conn)) {
            rb_error_init(err);
            rc = (*res = db_result_new(0)) ? 0 : rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        }
    }
    free(sql);
    return rc;
}

/* Copies a text cell (NULL or another type: "") into a bounded field. */
static void cell_to(const db_result *res, int row, int col, char *dst, size_t size)
{
    const db_value *v = db_result_cell(res, row, col);
    rb_strlcpy(dst, v->type == DBV_TEXT ? v->text : "", size);
}

int versions_changes(version_store *vs, const rev_set *applied, version_change **changes,
                     int *nchanges, rb_error *err)
{
    db_result *res = NULL;
    int *row_of = NULL, rc = -1;
    *changes = NULL;
    *nchanges = 0;
    if (!(row_of = malloc(sizeof *row_of * ((size_t)vs->g->count + 1))) ||
        !(*changes = calloc((size_t)vs->g->count + 1, sizeof **changes))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    for (int i = 0; i < vs->g->count; i++)
        row_of[i] = -1;
    /* The checksum of what is applied is the one its latest upgrade, stamp or repair recorded
     * (an unstamp or a downgrade records that it went). */
    if (query_history(vs, "SELECT revision, checksum, direction, db_user, "
                      "CAST(started_at AS text) FROM %s WHERE id IN (SELECT max(id) FROM %s "
                      "WHERE direction IN ('upgrade', 'stamp', 'repair') AND success "
                      "GROUP BY revision)",
                      &res, err) != 0)
        goto done;
    for (int i = 0; i < res->nrows; i++) {
        const db_value *id = db_result_cell(res, i, 0), *sum = db_result_cell(res, i, 1);
        if (id->type != DBV_TEXT || sum->type != DBV_TEXT)
            continue;
        int idx = graph_find(vs->g, id->text);
        if (idx >= 0 && applied->in[idx] && strcmp(vs->g->revs[idx].sha256, sum->text) != 0)
            row_of[idx] = i;
    }
    /* Parents first (topological order), so a listing reads as the history does. */
    for (int k = 0; k < vs->g->count; k++) {
        int idx = vs->g->order[k], row = row_of[idx];
        if (row < 0)
            continue;
        version_change *c = &(*changes)[(*nchanges)++];
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

int versions_changed_files(version_store *vs, const rev_set *applied, int **changed, int *nchanged,
                           rb_error *err)
{
    version_change *changes = NULL;
    *changed = NULL;
    if (versions_changes(vs, applied, &changes, nchanged, err) != 0)
        return -1;
    if (!(*changed = malloc(sizeof **changed * ((size_t)*nchanged + 1)))) {
        free(changes);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    for (int i = 0; i < *nchanged; i++)
        (*changed)[i] = changes[i].rev;
    free(changes);
    return 0;
}

int versions_failed(version_store *vs, str_list *failed, rb_error *err)
{
    db_result *res = NULL;
    if (query_history(vs, "SELECT revision FROM %s WHERE NOT success AND id IN "
                      "(SELECT max(id) FROM %s GROUP BY revision) ORDER BY id", &res, err) != 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < res->nrows && rc == 0; i++) {
        const db_value *v = db_result_cell(res, i, 0);
        if (v->type == DBV_TEXT && str_list_push(failed, v->text) != 0)
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    }
    db_result_free(res);
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
static int close_to_api_roles(version_store *vs, rb_error *err)
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
    db_value vv = dbv_text(vs->version), hv = dbv_text(vs->history);
    char *version = NULL, *history = NULL, *sql = NULL;
    size_t version_len = 0, history_len = 0;
    int rc = -1;
    if (db_literal(&vv, DIALECT_POSTGRESQL, &version, &version_len, err) != 0 ||
        db_literal(&hv, DIALECT_POSTGRESQL, &history, &history_len, err) != 0)
        goto done;
    size_t len = sizeof block + 2 * (version_len + history_len);
    sql = malloc(len);
    if (!sql) {
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    snprintf(sql, len, block, version, history, version, history);
    rc = db_run(vs->conn, sql, err);
done:
    free(sql);
    free(version);
    free(history);
    return rc;
}

/* Inside the locked transaction: creates the schema (PostgreSQL, if not public), the
 * version table and the history table when missing. */
int versions_ensure_tables(version_store *vs, rb_error *err)
{
    bool pg = db_conn_dialect(vs->conn) == DIALECT_POSTGRESQL;
    if (pg && strcmp(vs->cfg->schema, "public") != 0 &&
        run_format(vs, err, "CREATE SCHEMA IF NOT EXISTS %s", vs->schema) != 0)
        return -1;
    if (run_format(vs, err,
                   "CREATE TABLE IF NOT EXISTS %s (version_num varchar(64) NOT NULL PRIMARY KEY)",
                   vs->version) != 0)
        return -1;
    if (run_format(vs, err,
             "CREATE TABLE IF NOT EXISTS %s ("
             "id %s, revision varchar(64) NOT NULL, down_revision text, "
             "direction varchar(10) NOT NULL, message text, checksum char(64), "
             "started_at %s NOT NULL DEFAULT CURRENT_TIMESTAMP, duration_ms %s, db_user text, "
             "rbacmig_version text, success boolean NOT NULL)",
             vs->history,
             pg ? "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                : "INTEGER PRIMARY KEY AUTOINCREMENT",
             pg ? "timestamptz" : "text", pg ? "double precision" : "real") != 0)
        return -1;
    if (!pg)
        return 0;
    return close_to_api_roles(vs, err);
}

int versions_foreign_keys(version_store *vs, bool on, rb_error *err)
{
    return db_set_foreign_keys(vs->conn, on, err);
}

int versions_check_foreign_keys(version_store *vs, const revision *rev, rb_error *err)
{
    db_result *res = NULL;
    if (db_foreign_key_check(vs->conn, &res, err) != 0)
        return -1;
    int rc = 0;
    if (res->nrows > 0 && res->ncols >= 3) {
        const db_value *table = db_result_cell(res, 0, 0), *parent = db_result_cell(res, 0, 2);
        rc = rb_errorf(err, RB_ERR_FAILURE,
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
int versions_write(version_store *vs, const str_list *before, const rev_set *applied,
                   rb_error *err)
{
    str_list removed = {0}, added = {0};
    int rc = -1;
    if (graph_version_changes(vs->g, before, applied, &removed, &added) != 0)
        goto oom;
    /* The common linear step is one UPDATE, as in alembic_version. */
    while (removed.count > 0 && added.count > 0) {
        db_value p[2] = {dbv_text(added.items[added.count - 1]),
                         dbv_text(removed.items[removed.count - 1])};
        if (exec_format(vs, 2, p, err, "UPDATE %s SET version_num = $1 WHERE version_num = $2",
                        vs->version) != 0)
            goto done;
        free(added.items[--added.count]);
        free(removed.items[--removed.count]);
    }
    for (int i = 0; i < removed.count; i++) {
        db_value p = dbv_text(removed.items[i]);
        if (exec_format(vs, 1, &p, err, "DELETE FROM %s WHERE version_num = $1", vs->version) != 0)
            goto done;
    }
    for (int i = 0; i < added.count; i++) {
        db_value p = dbv_text(added.items[i]);
        if (exec_format(vs, 1, &p, err, "INSERT INTO %s (version_num) VALUES ($1)",
                        vs->version) != 0)
            goto done;
    }
    rc = 0;
    goto done;
oom:
    rb_errorf(err, RB_ERR_FAILURE, "out of memory");
done:
    str_list_release(&removed);
    str_list_release(&added);
    return rc;
}

/* The eight values of a history row, in column order; *down is the caller's to free. */
static int history_values(version_store *vs, const revision *rev, const char *direction_name,
                          double ms, db_value p[8], char **down, rb_error *err)
{
    if (!(*down = str_list_join(&rev->down, ", ")))
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    p[0] = dbv_text(rev->id);
    p[1] = dbv_text((*down)[0] ? *down : NULL);
    p[2] = dbv_text(direction_name);
    p[3] = dbv_text(rev->message);
    p[4] = dbv_text(rev->sha256);
    p[5] = db_executes(vs->conn) ? (db_value){.type = DBV_FLOAT, .f = ms} : dbv_text(NULL);
    p[6] = dbv_text(db_current_user(vs->conn));
    p[7] = dbv_text(RBACMIG_VERSION);
    return 0;
}

#define HISTORY_INSERT                                                                        \
    "INSERT INTO %s (revision, down_revision, direction, message, checksum, duration_ms, "    \
    "db_user, rbacmig_version, success) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, %s)"

int versions_write_history(version_store *vs, const revision *rev, const char *direction_name,
                           double ms, bool success, rb_error *err)
{
    char *down = NULL;
    db_value p[8];
    if (history_values(vs, rev, direction_name, ms, p, &down, err) != 0)
        return -1;
    int rc = exec_format(vs, 8, p, err, HISTORY_INSERT, vs->history, success ? "TRUE" : "FALSE");
    free(down);
    return rc;
}

/* Records a successful step: the version rows and the history row, then commits when
 * asked. On PostgreSQL a linear step (one row replaced, added or removed) is one statement,
 * the version change in a CTE, sent with its COMMIT in one flight: the step's bookkeeping
 * costs one round trip, one fewer than psql's UPDATE then COMMIT. With `reopen`, that flight
 * may also begin the next step's transaction (db_exec_commit). */
int versions_record_step(version_store *vs, const str_list *before, const rev_set *applied,
                         const revision *rev, const char *direction_name, double ms, bool commit,
                         db_reopen *reopen, rb_error *err)
{
    str_list removed = {0}, added = {0};
    char *sql = NULL, *down = NULL;
    int rc = -1;
    if (db_conn_dialect(vs->conn) != DIALECT_POSTGRESQL || !db_executes(vs->conn) ||
        graph_version_changes(vs->g, before, applied, &removed, &added) != 0 ||
        removed.count > 1 || added.count > 1 || removed.count + added.count == 0)
        goto separate;
    const char *gone = removed.count ? removed.items[0] : NULL;
    const char *came = added.count ? added.items[0] : NULL;
    db_value p[10];
    if (history_values(vs, rev, direction_name, ms, p, &down, err) != 0)
        goto done;
    const char *change_sql;
    int np = 8;
    if (gone && came) {
        change_sql = "UPDATE %s SET version_num = $9 WHERE version_num = $10";
        p[np++] = dbv_text(came);
        p[np++] = dbv_text(gone);
    } else if (came) {
        change_sql = "INSERT INTO %s (version_num) VALUES ($9)";
        p[np++] = dbv_text(came);
    } else {
        change_sql = "DELETE FROM %s WHERE version_num = $9";
        p[np++] = dbv_text(gone);
    }
    /* change_sql is one of the three literals above, each naming the table once. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char *version_sql = sql_format(err, change_sql, vs->version);
#pragma GCC diagnostic pop
    if (version_sql)
        sql = sql_format(err, "WITH version_change AS (%s) " HISTORY_INSERT, version_sql,
                         vs->history, "TRUE");
    free(version_sql);
    if (!sql)
        goto done;
    rc = commit ? db_exec_commit(vs->conn, sql, np, p, reopen, err)
                : db_exec(vs->conn, sql, np, p, NULL, NULL, err);
    goto done;
separate:
    rc = versions_write(vs, before, applied, err);
    if (rc == 0)
        rc = versions_write_history(vs, rev, direction_name, ms, true, err);
    if (rc == 0 && commit)
        rc = db_commit(vs->conn, err);
done:
    free(sql);
    free(down);
    str_list_release(&removed);
    str_list_release(&added);
    return rc;
}

/* A non-transactional migration that stopped midway leaves the database between two
 * revisions; nothing runs on top of it until a person says which one it is. */
int versions_refuse_failed(version_store *vs, rb_error *err)
{
    str_list failed = {0};
    if (versions_failed(vs, &failed, err) != 0)
        return -1;
    int rc = 0;
    if (failed.count > 0) {
        int idx = graph_find(vs->g, failed.items[0]);
        char parent[128] = "PARENT";
        if (idx >= 0 && vs->g->revs[idx].down.count)
            rb_strlcpy(parent, vs->g->revs[idx].down.items[0], sizeof parent);
        rc = rb_errorf(err, RB_ERR_FAILURE,
                       "revision %s failed midway (transactional = false) and is not resolved",
                       failed.items[0]);
        snprintf(err->hint, sizeof err->hint,
                 "repair the database by hand, then record what it is: 'rbacmig stamp %s' if "
                 "the migration's changes are all there, 'rbacmig stamp %s' if none are",
                 failed.items[0], idx >= 0 && vs->g->revs[idx].down.count ? parent : "base");
    }
    str_list_release(&failed);
    return rc;
}

/* Stamp moves the version table to the target in one locked transaction, running no
 * migration, and records a history row for every revision whose state it changed, for the
 * target, and for failed revisions: stamping is how a person resolves a failure. The row
 * says which way: "stamp" for a revision recorded as applied, "unstamp" for one recorded as
 * not applied (`stamp base` unstamps them all), so the history tells the two apart. */
int versions_stamp(version_store *vs, bool purge, const target *t, rb_error *err)
{
    str_list rows = {0}, failed = {0};
    rev_set applied = {0}, next = {0};
    bool exists;
    int rc = -1;
    if (db_begin_locked(vs->conn, versions_lock_key(vs->cfg), err) != 0)
        return -1;
    if (versions_ensure_tables(vs, err) != 0)
        goto done;
    if (db_can_read(vs->conn) && versions_read(vs, &rows, &exists, err) != 0)
        goto done;
    if (purge) {
        if (versions_clear(vs, err) != 0)
            goto done;
        str_list_release(&rows);
    }
    if (graph_applied(vs->g, &rows, &applied, err) != 0)
        goto done;
    /* Everything not below the target goes; the target and its ancestors come. */
    if (rev_set_init(&next, vs->g) != 0) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (t->kind == TARGET_REVISIONS)
        for (int i = 0; i < t->nrevs; i++)
            rev_set_add_ancestors(&next, vs->g, t->revs[i]);
    if (db_can_read(vs->conn) && versions_failed(vs, &failed, err) != 0)
        goto done;
    if (versions_write(vs, &rows, &next, err) != 0)
        goto done;
    for (int i = 0; i < vs->g->count; i++) {
        bool record = str_list_contains(&failed, vs->g->revs[i].id) || applied.in[i] != next.in[i];
        for (int k = 0; t->kind == TARGET_REVISIONS && k < t->nrevs; k++)
            record |= t->revs[k] == i;
        if (record && versions_write_history(vs, &vs->g->revs[i],
                                             next.in[i] ? "stamp" : "unstamp", 0, true, err) != 0)
            goto done;
    }
    rc = db_commit(vs->conn, err);
done:
    db_rollback(vs->conn); /* only if a failure left the transaction open */
    rev_set_release(&applied);
    rev_set_release(&next);
    str_list_release(&rows);
    str_list_release(&failed);
    return rc;
}

/* Frees a list of changes and leaves it empty. */
static void changes_clear(version_change **changes, int *nchanges)
{
    free(*changes);
    *changes = NULL;
    *nchanges = 0;
}

/* The applied files whose checksum differs from the history's: read afresh each time, since
 * repair asks once without the lock and again under it. Fills rows and applied too. */
static int read_changes(version_store *vs, str_list *rows, rev_set *applied,
                        version_change **changes, int *nchanges, rb_error *err)
{
    bool exists = false;
    str_list_release(rows);
    rev_set_release(applied);
    changes_clear(changes, nchanges);
    if (versions_read(vs, rows, &exists, err) != 0 ||
        graph_applied(vs->g, rows, applied, err) != 0)
        return -1;
    return versions_changes(vs, applied, changes, nchanges, err);
}

int versions_repair(version_store *vs, bool dry_run, version_change **changes, int *nchanges,
                    rb_error *err)
{
    str_list rows = {0};
    rev_set applied = {0};
    int rc = -1;
    *changes = NULL;
    *nchanges = 0;
    /* Looked at first without the lock, as a no-op upgrade does: most runs find nothing. */
    if (read_changes(vs, &rows, &applied, changes, nchanges, err) != 0)
        goto done;
    if (dry_run || *nchanges == 0) {
        rc = 0;
        goto done;
    }
    /* Again under the lock, with the writes in its transaction: a concurrent upgrade or
     * repair must not slip between what is listed and what is recorded. */
    if (db_begin_locked(vs->conn, versions_lock_key(vs->cfg), err) != 0 ||
        read_changes(vs, &rows, &applied, changes, nchanges, err) != 0)
        goto done;
    for (int i = 0; i < *nchanges; i++)
        if (versions_write_history(vs, &vs->g->revs[(*changes)[i].rev], "repair", 0, true,
                                   err) != 0)
            goto done;
    rc = db_commit(vs->conn, err);
done:
    db_rollback(vs->conn); /* only if a failure left the transaction open */
    if (rc != 0)
        changes_clear(changes, nchanges);
    rev_set_release(&applied);
    str_list_release(&rows);
    return rc;
}
