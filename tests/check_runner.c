/* check_runner.c: the plan executor (runner.c) and its version store (versions.c) on an
 * in-memory SQLite database: the version re-read under the lock and the plan made again when
 * another run moved it, the rerun of a step with foreign keys off, and the bookkeeping of a
 * non-transactional step that failed midway (refused until stamped). Every migration records
 * that it ran in a table `ran`, so a test sees which steps ran, not only the version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_rbacmig.h"
#include "config.h"
#include "driver.h"
#include "driver_impl.h" /* the runner under a driver that lets another run in */
#include "graph.h"
#include "lua_host.h"
#include "output.h"
#include "runner.h"
#include "scripts.h"
#include "versions.h"

typedef struct fixture {
    config cfg;
    lua_host *host;
    graph g;
    db_conn *conn;
    runner r;
    char dir[64];
    char *migrations;
} fixture;

/* Writes the migration `id` (child of parent, or the root) with the given upgrade body and
 * extra fields; each upgrade first records its id in `ran`. */
static void write_migration(fixture *f, const char *id, const char *parent, const char *extra,
                            const char *body)
{
    char name[64], text[2048], down[64] = "nil";
    if (parent)
        snprintf(down, sizeof down, "\"%s\"", parent);
    snprintf(name, sizeof name, "%s_m.lua", id);
    snprintf(text, sizeof text,
             "-- Revision ID: %s\nreturn {\n  revision = \"%s\",\n  down_revision = %s,\n"
             "  message = \"step %s\",\n  %s\n  upgrade = function(db)\n"
             "    db:exec(\"INSERT INTO ran (id) VALUES ('%s')\")\n    %s\n  end,\n"
             "  downgrade = function(db) end,\n}\n",
             id, id, down, id, extra ? extra : "", id, body ? body : "");
    free(ck_write_in(f->migrations, name, text));
}

static void run_sql(fixture *f, const char *sql)
{
    rb_error err;
    rb_error_init(&err);
    ck_assert_msg(db_run(f->conn, sql, &err) == 0, "'%s' failed: %s", sql, err.message);
}

/* The first column of a query's rows, joined with ","; "" for none. */
static void query_text(fixture *f, const char *sql, char *out, size_t size)
{
    db_result *res = NULL;
    rb_error err;
    rb_error_init(&err);
    ck_assert_msg(db_exec(f->conn, sql, 0, NULL, &res, NULL, &err) == 0, "'%s' failed: %s", sql,
                  err.message);
    out[0] = '\0';
    for (int i = 0; i < res->nrows; i++) {
        const db_value *v = db_result_cell(res, i, 0);
        char cell[64];
        if (v->type == DBV_TEXT)
            rb_strlcpy(cell, v->text, sizeof cell);
        else
            snprintf(cell, sizeof cell, "%lld", v->type == DBV_INT ? v->i : -1LL);
        if (i)
            strncat(out, ",", size - strlen(out) - 1);
        strncat(out, cell, size - strlen(out) - 1);
    }
    db_result_free(res);
}

#define ck_query_eq(f, sql, expected)                                                        \
    do {                                                                                     \
        char got_[512];                                                                      \
        query_text((f), (sql), got_, sizeof got_);                                           \
        ck_assert_msg(strcmp(got_, (expected)) == 0, "%s: got '%s', expected '%s'", (sql),     \
                      got_, (expected));                                                     \
    } while (0)

/* A fixture on url ("" for a file `db` in the fixture's directory), whose locked
 * transactions wait lock_timeout_ms for another connection (0: forever). */
static void setup_on(fixture *f, const char *url, int lock_timeout_ms)
{
    memset(f, 0, sizeof *f);
    config_init(&f->cfg);
    ck_tmpdir(f->dir);
    f->migrations = ck_path(f->dir, "migrations");
    ck_assert_int_eq(mkdir(f->migrations, 0700), 0);
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(config_set(&f->cfg.lua_dir, f->dir, &err), 0);
    ck_assert_int_eq(config_set(&f->cfg.migrations_dir, f->migrations, &err), 0);
    char file_url[128];
    snprintf(file_url, sizeof file_url, "sqlite:%s/db", f->dir);
    ck_assert_int_eq(config_set(&f->cfg.database_url, url[0] ? url : file_url, &err), 0);
    ck_assert_msg(lua_host_new(&f->cfg, &f->host, &err) == 0, "lua_host_new: %s", err.message);
    db_open_options opts = {.lock_timeout_ms = lock_timeout_ms};
    ck_assert_msg(db_open(&f->cfg, &opts, &f->conn, &err) == 0, "db_open: %s", err.message);
    graph_init(&f->g);
    run_sql(f, "CREATE TABLE ran (n INTEGER PRIMARY KEY AUTOINCREMENT, id text)");
    out_set_quiet(true);
}

static void setup(fixture *f)
{
    setup_on(f, "sqlite::memory:", 0);
}

/* Loads the migrations written so far; the runner then works on them. */
static void load(fixture *f)
{
    rb_error err;
    rb_error_init(&err);
    ck_assert_msg(scripts_load(f->host, f->migrations, true, &f->g, &err) == 0, "load: %s",
                  err.message);
    f->r = (runner){.cfg = &f->cfg, .host = f->host, .g = &f->g, .conn = f->conn};
}

static void teardown(fixture *f)
{
    out_set_quiet(false);
    graph_release(&f->g);
    db_close(f->conn);
    lua_host_free(f->host);
    config_release(&f->cfg);
    ck_rmdir(f->migrations);
    char *file = ck_path(f->dir, "db");
    unlink(file);
    free(file);
    ck_rmdir(f->dir);
    free(f->migrations);
}

static int failed_revisions(fixture *f, str_list *failed, rb_error *err)
{
    version_store vs;
    int rc = versions_open(&vs, f->conn, &f->cfg, &f->g, err);
    if (rc == 0)
        rc = versions_failed(&vs, failed, err);
    versions_close(&vs);
    return rc;
}

static int upgrade(fixture *f, const char *to, rb_error *err)
{
    migrate_options opts = {.dir = DIR_UPGRADE, .target = to};
    rb_error_init(err);
    return runner_migrate(&f->r, &opts, err);
}

/* ---- the version read again under the lock ------------------------------------------- */

/* Stands for another run that takes the lock first: on the nth begin of a locked
 * transaction it runs its statements (the other run's committed steps), then the runner's
 * own begin goes on. */
static driver_ops sneaky_ops;
static const driver_ops *real_ops;
static int sneak_at, sneak_count;
static const char *sneak_sql;

static int sneaky_begin_locked(db_conn *c, long long key, const char *read_sql,
                               db_result **rows, rb_error *err)
{
    if (++sneak_count == sneak_at) {
        rb_error ignored;
        if (real_ops->exec(c, sneak_sql, 0, NULL, NULL, NULL, &ignored) != 0)
            ck_abort_msg("the other run's statements failed: %s", ignored.message);
    }
    return real_ops->begin_locked(c, key, read_sql, rows, err);
}

static void sneak_in(fixture *f, int at, const char *sql)
{
    real_ops = f->conn->ops;
    sneaky_ops = *real_ops;
    sneaky_ops.begin_locked = sneaky_begin_locked;
    f->conn->ops = &sneaky_ops;
    sneak_at = at;
    sneak_count = 0;
    sneak_sql = sql;
}

static void three_steps(fixture *f)
{
    write_migration(f, "aaaa00000001", NULL, NULL, NULL);
    write_migration(f, "aaaa00000002", "aaaa00000001", NULL, NULL);
    write_migration(f, "aaaa00000003", "aaaa00000002", NULL, NULL);
    load(f);
}

START_TEST(test_replan_when_another_run_moved_the_version)
{
    fixture f;
    setup(&f);
    three_steps(&f);
    rb_error err;
    ck_assert_msg(upgrade(&f, "aaaa00000001", &err) == 0, "%s", err.message);
    /* While this run waits for the lock before step 2, another applies step 2. */
    sneak_in(&f, 1, "UPDATE rbacmig_version SET version_num = 'aaaa00000002'");
    ck_assert_msg(upgrade(&f, "head", &err) == 0, "%s", err.message);
    f.conn->ops = real_ops;
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "aaaa00000001,aaaa00000003");
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "aaaa00000003");
    teardown(&f);
}
END_TEST

/* Between two steps of this run's plan (the re-read at the second step's begin), another run
 * applies the step this one was about to run: it is not run twice. */
START_TEST(test_replan_between_steps)
{
    fixture f;
    setup(&f);
    write_migration(&f, "aaaa00000001", NULL, NULL, NULL);
    write_migration(&f, "aaaa00000002", "aaaa00000001", NULL, NULL);
    write_migration(&f, "aaaa00000003", "aaaa00000002", NULL, NULL);
    write_migration(&f, "aaaa00000004", "aaaa00000003", NULL, NULL);
    load(&f);
    rb_error err;
    ck_assert_msg(upgrade(&f, "aaaa00000001", &err) == 0, "%s", err.message);
    sneak_in(&f, 2, "UPDATE rbacmig_version SET version_num = 'aaaa00000003'");
    ck_assert_msg(upgrade(&f, "head", &err) == 0, "%s", err.message);
    f.conn->ops = real_ops;
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "aaaa00000001,aaaa00000002,aaaa00000004");
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "aaaa00000004");
    teardown(&f);
}
END_TEST

START_TEST(test_nothing_left_when_another_run_reached_the_target)
{
    fixture f;
    setup(&f);
    three_steps(&f);
    rb_error err;
    ck_assert_msg(upgrade(&f, "aaaa00000001", &err) == 0, "%s", err.message);
    sneak_in(&f, 1, "UPDATE rbacmig_version SET version_num = 'aaaa00000003'");
    ck_assert_msg(upgrade(&f, "head", &err) == 0, "%s", err.message);
    f.conn->ops = real_ops;
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "aaaa00000001");
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "aaaa00000003");
    /* No history row for a step this run did not make. */
    ck_query_eq(&f, "SELECT revision FROM rbacmig_history ORDER BY id", "aaaa00000001");
    teardown(&f);
}
END_TEST

/* ---- the rerun with foreign keys off -------------------------------------------------- */

/* A real rebuild of a table another references: with foreign keys on the schema builder
 * refuses it with the error that only it can raise, and the runner runs the step again with
 * them off. */
#define NEEDS_FK_OFF "db:alter_column('parent', 'note', { nullable = true })"
#define REFUSED_WITH_FK_ON "table 'parent' cannot be rebuilt on sqlite while foreign keys are on"

static void parent_and_child(fixture *f)
{
    run_sql(f, "CREATE TABLE parent (id INTEGER PRIMARY KEY, note text NOT NULL DEFAULT '')");
    run_sql(f, "CREATE TABLE child (id INTEGER PRIMARY KEY, "
               "pid INTEGER REFERENCES parent (id) ON DELETE CASCADE)");
    run_sql(f, "INSERT INTO parent (id) VALUES (1)");
    run_sql(f, "INSERT INTO child VALUES (1, 1)");
}

START_TEST(test_fk_off_rerun)
{
    fixture f;
    setup(&f);
    parent_and_child(&f);
    write_migration(&f, "bbbb00000001", NULL, NULL, NULL);
    /* With foreign keys off, dropping the parent's rows leaves the child's: a rebuild. */
    write_migration(&f, "bbbb00000002", "bbbb00000001", NULL,
                    NEEDS_FK_OFF "\n    db:exec('DELETE FROM parent')\n"
                    "    db:exec('INSERT INTO parent (id) VALUES (1)')");
    write_migration(&f, "bbbb00000003", "bbbb00000002", NULL,
                    "if db:scalar('PRAGMA foreign_keys') ~= 1 then error('foreign keys off') end");
    load(&f);
    rb_error err;
    ck_assert_msg(upgrade(&f, "head", &err) == 0, "%s", err.message);
    /* The first attempt was rolled back: its `ran` row is gone, the rerun's stays. */
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "bbbb00000001,bbbb00000002,bbbb00000003");
    ck_query_eq(&f, "SELECT count(*) FROM child", "1");
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "bbbb00000003");
    ck_query_eq(&f, "SELECT revision FROM rbacmig_history ORDER BY id",
                "bbbb00000001,bbbb00000002,bbbb00000003");
    /* Foreign keys are back on for the steps after it, and after the run. */
    ck_query_eq(&f, "PRAGMA foreign_keys", "1");
    teardown(&f);
}
END_TEST

START_TEST(test_fk_off_rerun_checks_foreign_keys)
{
    fixture f;
    setup(&f);
    parent_and_child(&f);
    write_migration(&f, "cccc00000001", NULL, NULL, NULL);
    write_migration(&f, "cccc00000002", "cccc00000001", NULL,
                    NEEDS_FK_OFF "\n    db:exec('DELETE FROM parent')");
    load(&f);
    rb_error err;
    ck_assert_int_eq(upgrade(&f, "head", &err), -1);
    ck_assert_msg(strstr(err.message, "upgrade cccc00000002 failed") &&
                  strstr(err.message, "violating foreign keys"), "message: %s", err.message);
    ck_assert_msg(strstr(err.hint, "foreign keys were off") != NULL, "hint: %s", err.hint);
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "cccc00000001");
    ck_query_eq(&f, "SELECT count(*) FROM parent", "1");
    ck_query_eq(&f, "PRAGMA foreign_keys", "1");
    teardown(&f);
}
END_TEST

START_TEST(test_fk_off_not_rerun_in_single_transaction)
{
    fixture f;
    setup(&f);
    parent_and_child(&f);
    write_migration(&f, "dddd00000001", NULL, NULL, NEEDS_FK_OFF);
    load(&f);
    migrate_options opts = {.dir = DIR_UPGRADE, .target = "head", .single_transaction = true};
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(runner_migrate(&f.r, &opts, &err), -1);
    ck_assert_msg(strstr(err.message, REFUSED_WITH_FK_ON) != NULL, "message: %s", err.message);
    ck_assert_int_eq(err.kind, RB_ERR_NEEDS_FK_OFF);
    ck_query_eq(&f, "SELECT count(*) FROM ran", "0");
    teardown(&f);
}
END_TEST

/* What a migration can raise itself never means "run me again with foreign keys off": the
 * old SQLSTATE, a metatable of its own, or the fields of the real error copied into a table
 * of its own (caught from a rebuild) all fail the step once, as any error does. */
#define WITH_FK_ON "if db:scalar('PRAGMA foreign_keys') == 1 then "
static const char *const forged_fk_off[] = {
    WITH_FK_ON "error({sqlstate = 'RBFK0', message = 'rebuilds a referenced table'}, 0) end",
    WITH_FK_ON "error(setmetatable({sqlstate = 'RBFK0', message = 'rebuilds a referenced "
    "table'}, {__metatable = false}), 0) end",
    WITH_FK_ON "local ok, e = pcall(db.alter_column, db, 'parent', 'note', { nullable = true })\n"
    "    local copy = {} for k, v in pairs(e) do copy[k] = v end\n"
    "    error(copy, 0) end",
};

START_TEST(test_forged_fk_off_is_not_rerun)
{
    fixture f;
    setup(&f);
    parent_and_child(&f);
    write_migration(&f, "ffff00000001", NULL, NULL, forged_fk_off[_i]);
    load(&f);
    rb_error err;
    ck_assert_int_eq(upgrade(&f, "head", &err), -1);
    ck_assert_msg(err.kind == RB_ERR_FAILURE, "[%d] kind %d: %s", _i, (int)err.kind, err.message);
    ck_assert_int_eq(rb_error_exit_code(&err), 1);
    ck_assert_msg(strstr(err.message, "upgrade ffff00000001 failed") != NULL, "message: %s",
                  err.message);
    /* Run once, with foreign keys on (a rerun with them off would have passed), and rolled
     * back. */
    ck_query_eq(&f, "SELECT count(*) FROM ran", "0");
    ck_query_eq(&f, "PRAGMA foreign_keys", "1");
    teardown(&f);
}
END_TEST

/* ---- kinds the runner and the version store act on ------------------------------------ */

/* A fresh database has no version table: the driver says "not found", and the store reads
 * that as "no version" outside a transaction; inside one the error stands, with its kind. */
START_TEST(test_not_found_on_a_fresh_database)
{
    fixture f;
    setup(&f);
    load(&f);
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(db_run(f.conn, "SELECT version_num FROM rbacmig_version", &err), -1);
    ck_assert_int_eq(err.kind, RB_ERR_NOT_FOUND);
    ck_assert_int_eq(rb_error_exit_code(&err), 1);
    version_store vs;
    ck_assert_int_eq(versions_open(&vs, f.conn, &f.cfg, &f.g, &err), 0);
    str_list rows = {0};
    bool exists = true;
    ck_assert_msg(versions_read(&vs, &rows, &exists, &err) == 0, "%s", err.message);
    ck_assert(!exists);
    ck_assert_int_eq(rows.count, 0);
    ck_assert_int_eq(db_begin_locked(f.conn, versions_lock_key(&f.cfg), &err), 0);
    ck_assert_int_eq(versions_read(&vs, &rows, &exists, &err), -1);
    ck_assert_int_eq(err.kind, RB_ERR_NOT_FOUND);
    db_rollback(f.conn);
    /* An error that is not "not found" is not taken for a missing table. */
    run_sql(&f, "CREATE VIEW rbacmig_version AS SELECT 1 / 0 AS v, missing_column");
    ck_assert_int_eq(versions_read(&vs, &rows, &exists, &err), -1);
    ck_assert_int_eq(err.kind, RB_ERR_FAILURE);
    versions_close(&vs);
    str_list_release(&rows);
    teardown(&f);
}
END_TEST

/* Another process holds the database's write lock past --lock-timeout: the run fails with
 * the lock-timeout kind (exit 1), naming the wait, and runs nothing. */
START_TEST(test_lock_timeout_kind)
{
    fixture f;
    setup_on(&f, "", 50);
    write_migration(&f, "abab00000001", NULL, NULL, NULL);
    load(&f);
    rb_error err;
    rb_error_init(&err);
    db_conn *other = NULL;
    db_open_options opts = {0};
    ck_assert_msg(db_open(&f.cfg, &opts, &other, &err) == 0, "%s", err.message);
    ck_assert_msg(db_begin_locked(other, versions_lock_key(&f.cfg), &err) == 0, "%s",
                  err.message);
    ck_assert_int_eq(upgrade(&f, "head", &err), -1);
    ck_assert_msg(err.kind == RB_ERR_LOCK_TIMEOUT, "kind %d: %s", (int)err.kind, err.message);
    ck_assert_int_eq(rb_error_exit_code(&err), 1);
    ck_assert_msg(strstr(err.message, "timed out after 50 ms") != NULL, "message: %s",
                  err.message);
    db_rollback(other);
    db_close(other);
    ck_query_eq(&f, "SELECT count(*) FROM ran", "0");
    teardown(&f);
}
END_TEST

/* ---- a non-transactional step that failed midway -------------------------------------- */

START_TEST(test_nontransactional_failure_recorded_and_refused_until_stamped)
{
    fixture f;
    setup(&f);
    write_migration(&f, "eeee00000001", NULL, NULL, NULL);
    write_migration(&f, "eeee00000002", "eeee00000001", "transactional = false,",
                    "db:exec('INSERT INTO nowhere VALUES (1)')");
    write_migration(&f, "eeee00000003", "eeee00000002", NULL, NULL);
    load(&f);
    rb_error err;
    ck_assert_int_eq(upgrade(&f, "head", &err), -1);
    ck_assert_msg(strstr(err.message, "upgrade eeee00000002 failed") != NULL, "message: %s",
                  err.message);
    ck_assert_msg(strstr(err.hint, "outside a transaction") != NULL, "hint: %s", err.hint);
    /* Its statement before the failure stays; the version does not move; a failure row. */
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "eeee00000001,eeee00000002");
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "eeee00000001");
    ck_query_eq(&f, "SELECT revision || ':' || direction || ':' || success FROM rbacmig_history "
                    "ORDER BY id", "eeee00000001:upgrade:1,eeee00000002:upgrade:0");
    str_list failed = {0};
    rb_error_init(&err);
    ck_assert_int_eq(failed_revisions(&f, &failed, &err), 0);
    ck_assert_int_eq(failed.count, 1);
    ck_assert_str_eq(failed.items[0], "eeee00000002");
    str_list_release(&failed);

    /* Nothing runs on top of it ... */
    ck_assert_int_eq(upgrade(&f, "head", &err), -1);
    ck_assert_msg(strstr(err.message, "revision eeee00000002 failed midway") != NULL,
                  "message: %s", err.message);
    ck_assert_msg(strstr(err.hint, "rbacmig stamp eeee00000002") &&
                  strstr(err.hint, "rbacmig stamp eeee00000001"), "hint: %s", err.hint);
    ck_query_eq(&f, "SELECT count(*) FROM ran", "2");

    /* ... until a person stamps the revision it is at. */
    migrate_options opts = {.dir = DIR_UPGRADE, .target = "eeee00000002"};
    rb_error_init(&err);
    ck_assert_msg(runner_stamp(&f.r, &opts, &err) == 0, "%s", err.message);
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "eeee00000002");
    rb_error_init(&err);
    ck_assert_int_eq(failed_revisions(&f, &failed, &err), 0);
    ck_assert_int_eq(failed.count, 0);
    ck_assert_msg(upgrade(&f, "head", &err) == 0, "%s", err.message);
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "eeee00000001,eeee00000002,eeee00000003");
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "eeee00000003");
    teardown(&f);
}
END_TEST

/* A non-transactional step runs without the lock: another run may record a step meanwhile
 * (here, the same one, as a second pod would). Its bookkeeping re-reads the version under
 * the lock and stops, rather than write over the other run's rows. */
START_TEST(test_nontransactional_bookkeeping_sees_a_moved_version)
{
    fixture f;
    setup(&f);
    write_migration(&f, "gggg00000001", NULL, NULL, NULL);
    write_migration(&f, "gggg00000002", "gggg00000001", "transactional = false,",
                    "db:exec(\"UPDATE rbacmig_version SET version_num = 'gggg00000002'\")");
    write_migration(&f, "gggg00000003", "gggg00000002", NULL, NULL);
    load(&f);
    rb_error err;
    ck_assert_int_eq(upgrade(&f, "head", &err), -1);
    ck_assert_msg(strstr(err.message, "another run moved the version") != NULL, "message: %s",
                  err.message);
    ck_assert_msg(strstr(err.message, "gggg00000002") != NULL, "message: %s", err.message);
    /* The other run's version stands; nothing ran after; no success row of ours. */
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "gggg00000002");
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "gggg00000001,gggg00000002");
    ck_query_eq(&f, "SELECT count(*) FROM rbacmig_history WHERE revision = 'gggg00000002'", "0");
    teardown(&f);
}
END_TEST

START_TEST(test_nontransactional_refused_in_single_transaction)
{
    fixture f;
    setup(&f);
    write_migration(&f, "ffff00000001", NULL, "transactional = false,", NULL);
    load(&f);
    migrate_options opts = {.dir = DIR_UPGRADE, .target = "head", .single_transaction = true};
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(runner_migrate(&f.r, &opts, &err), -1);
    ck_assert_msg(strstr(err.message, "cannot run inside --single-transaction") != NULL,
                  "message: %s", err.message);
    ck_query_eq(&f, "SELECT count(*) FROM ran", "0");
    teardown(&f);
}
END_TEST

/* ---- --single-transaction and stamp -------------------------------------------------- */

START_TEST(test_single_transaction_failure_takes_earlier_steps)
{
    fixture f;
    setup(&f);
    write_migration(&f, "1111aaaa0001", NULL, NULL, NULL);
    write_migration(&f, "1111aaaa0002", "1111aaaa0001", NULL, "error('boom')");
    load(&f);
    migrate_options opts = {.dir = DIR_UPGRADE, .target = "head", .single_transaction = true};
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(runner_migrate(&f.r, &opts, &err), -1);
    ck_assert_msg(strstr(err.message, "upgrade 1111aaaa0002 failed, and --single-transaction "
                                      "rolled back the 1 step before it (1111aaaa0001) too"),
                  "message: %s", err.message);
    /* Nothing stays, not even rbacmig's tables, made in the same transaction. */
    ck_query_eq(&f, "SELECT count(*) FROM ran", "0");
    ck_query_eq(&f, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'rbacmig%'", "0");
    teardown(&f);
}
END_TEST

START_TEST(test_stamp_runs_nothing_and_records_each_way)
{
    fixture f;
    setup(&f);
    three_steps(&f);
    rb_error err;
    ck_assert_msg(upgrade(&f, "head", &err) == 0, "%s", err.message);
    migrate_options opts = {.dir = DIR_UPGRADE, .target = "aaaa00000001"};
    rb_error_init(&err);
    ck_assert_msg(runner_stamp(&f.r, &opts, &err) == 0, "%s", err.message);
    ck_query_eq(&f, "SELECT version_num FROM rbacmig_version", "aaaa00000001");
    ck_query_eq(&f, "SELECT revision || ':' || direction FROM rbacmig_history WHERE id > 3 "
                    "ORDER BY id", "aaaa00000001:stamp,aaaa00000002:unstamp,aaaa00000003:unstamp");
    opts.target = "base";
    rb_error_init(&err);
    ck_assert_msg(runner_stamp(&f.r, &opts, &err) == 0, "%s", err.message);
    ck_query_eq(&f, "SELECT count(*) FROM rbacmig_version", "0");
    ck_query_eq(&f, "SELECT id FROM ran ORDER BY n", "aaaa00000001,aaaa00000002,aaaa00000003");
    teardown(&f);
}
END_TEST

Suite *make_runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_replan_when_another_run_moved_the_version);
    tcase_add_test(tc, test_replan_between_steps);
    tcase_add_test(tc, test_nothing_left_when_another_run_reached_the_target);
    tcase_add_test(tc, test_fk_off_rerun);
    tcase_add_test(tc, test_fk_off_rerun_checks_foreign_keys);
    tcase_add_test(tc, test_fk_off_not_rerun_in_single_transaction);
    tcase_add_loop_test(tc, test_forged_fk_off_is_not_rerun, 0,
                        (int)(sizeof forged_fk_off / sizeof *forged_fk_off));
    tcase_add_test(tc, test_not_found_on_a_fresh_database);
    tcase_add_test(tc, test_lock_timeout_kind);
    tcase_add_test(tc, test_nontransactional_failure_recorded_and_refused_until_stamped);
    tcase_add_test(tc, test_nontransactional_refused_in_single_transaction);
    tcase_add_test(tc, test_nontransactional_bookkeeping_sees_a_moved_version);
    tcase_add_test(tc, test_single_transaction_failure_takes_earlier_steps);
    tcase_add_test(tc, test_stamp_runs_nothing_and_records_each_way);
    suite_add_tcase(s, tc);
    return s;
}
