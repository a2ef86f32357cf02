/* check_driver_sqlite.c: the driver interface on SQLite (parameters of every type, results,
 * errors and their kinds, transactions, read-only opening) and SQL literals for both
 * dialects. The offline (--sql) driver has its own suite, check_offline.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_rbacmig.h"
#include "config.h"
#include "driver.h"
#include "output.h"

/* A connection on url, with cfg kept alive alongside (the driver may borrow it). */
typedef struct test_db {
    config cfg;
    db_conn *conn;
    char dir[64];
    char *path;
} test_db;

static int open_url(test_db *t, const char *url, const db_open_options *opts, rb_error *err)
{
    config_init(&t->cfg);
    ck_assert_int_eq(config_set(&t->cfg.database_url, url, err), 0);
    t->conn = NULL;
    rb_error_init(err);
    return db_open(&t->cfg, opts, &t->conn, err);
}

/* A read-write connection on the SQLite file at path. */
static void open_url_path(test_db *t, const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "sqlite:%s", path);
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    rb_error err;
    ck_assert_msg(open_url(t, url, &opts, &err) == 0, "db_open(%s) failed: %s", url, err.message);
}

/* A fresh SQLite file in a new temporary directory. */
static void open_temp(test_db *t)
{
    ck_tmpdir(t->dir);
    t->path = ck_path(t->dir, "test.db");
    char url[256];
    snprintf(url, sizeof url, "sqlite:%s", t->path);
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    rb_error err;
    int rc = open_url(t, url, &opts, &err);
    ck_assert_msg(rc == 0, "db_open(%s) failed: %s", url, err.message);
    ck_assert_ptr_nonnull(t->conn);
}

static void close_temp(test_db *t)
{
    db_close(t->conn);
    t->conn = NULL;
    config_release(&t->cfg);
    free(t->path);
    t->path = NULL;
    ck_rmdir(t->dir);
}

/* Runs sql that must succeed. */
static void run_ok(db_conn *c, const char *sql)
{
    rb_error err;
    rb_error_init(&err);
    int rc = db_run(c, sql, &err);
    ck_assert_msg(rc == 0, "'%s' failed: %s", sql, err.message);
}

/* The one integer a query returns. */
static long long scalar_int(db_conn *c, const char *sql)
{
    db_result *r = NULL;
    rb_error err;
    rb_error_init(&err);
    int rc = db_exec(c, sql, 0, NULL, &r, NULL, &err);
    ck_assert_msg(rc == 0, "'%s' failed: %s", sql, err.message);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->nrows, 1);
    ck_assert_int_eq(r->ncols, 1);
    const db_value *v = db_result_cell(r, 0, 0);
    ck_assert_int_eq(v->type, DBV_INT);
    long long out = v->i;
    db_result_free(r);
    return out;
}

static db_value dbv_float(double f)
{
    db_value v = {.type = DBV_FLOAT, .f = f};
    return v;
}

static db_value dbv_null(void)
{
    db_value v = {.type = DBV_NULL};
    return v;
}

/* ---- scripts (db_exec_script) ------------------------------------------------------- */

/* A script runs whole: comments, strings and a trigger body holding ';' do not end a
 * statement early, and a result set is read and dropped. */
START_TEST(test_script_runs)
{
    test_db t;
    open_temp(&t);
    rb_error err;
    rb_error_init(&err);
    int stmt_no = -1, line = -1;
    const char *script =
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (s text);\n"
        "/* a block; comment */ CREATE TABLE log (s text);\n"
        "CREATE TRIGGER a_log AFTER INSERT ON a BEGIN\n"
        "  INSERT INTO log VALUES (NEW.s || ';'); -- inside; the body\n"
        "END;\n"
        "SELECT 1;\n"
        "INSERT INTO a VALUES ('x;y');\n"
        "INSERT INTO a VALUES ('it''s')  -- no ';' at the end\n";
    int rc = db_exec_script(t.conn, script, &stmt_no, &line, &err);
    ck_assert_msg(rc == 0, "db_exec_script: %s", err.message);
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM a"), 2);
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM log WHERE s IN ('x;y;', 'it''s;')"),
                     2);
    ck_assert_int_eq(stmt_no, 0);
    close_temp(&t);
}
END_TEST

/* The failing statement is named by its number and the line it begins on (past the blank
 * lines and comments before it), with its text; the statements before it ran (the caller's
 * transaction undoes them), those after it did not. */
static const struct {
    const char *script;
    int stmt_no, line;
    const char *statement, *message;
} script_errors[] = {
    {"CREATE TABLE a (x int);\n/* two; */\nINSERT INTO a VALUES (1);\n\n-- three\n\n"
     "INSERT INTO nope VALUES (1);\nCREATE TABLE b (x int);",
     3, 7, "INSERT INTO nope VALUES (1);", "no such table: nope"},
    {"SELECT 1; SELECT * FROM", 2, 1, "SELECT * FROM", "incomplete input"},
    {"\n\nCREATE TABLE a (x int); CREATE TABLE a (x int);", 2, 3, "CREATE TABLE a (x int);",
     "already exists"},
    {"CREATE TABLE a (x int CHECK (x > 0));\nINSERT INTO a\n  VALUES (-1);", 2, 2,
     "INSERT INTO a\n  VALUES (-1);", "CHECK constraint failed"},
};

START_TEST(test_script_errors)
{
    test_db t;
    open_temp(&t);
    rb_error err;
    rb_error_init(&err);
    int stmt_no = -1, line = -1;
    int rc = db_exec_script(t.conn, script_errors[_i].script, &stmt_no, &line, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(stmt_no, script_errors[_i].stmt_no);
    ck_assert_int_eq(line, script_errors[_i].line);
    ck_assert_str_eq(err.statement, script_errors[_i].statement);
    ck_assert_msg(strstr(err.message, script_errors[_i].message), "message: %s", err.message);
    close_temp(&t);
}
END_TEST

/* A script that ends the migration's transaction (COMMIT in it) is an error: the step's
 * work before it may be committed, which the runner must not report as a success. */
START_TEST(test_script_ends_transaction)
{
    test_db t;
    open_temp(&t);
    rb_error err;
    rb_error_init(&err);
    int stmt_no, line;
    ck_assert_int_eq(db_begin_locked(t.conn, 1, &err), 0);
    int rc = db_exec_script(t.conn, "CREATE TABLE a (x int); COMMIT;", &stmt_no, &line, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, "ended the migration's transaction"), "%s", err.message);
    db_rollback(t.conn);
    close_temp(&t);
}
END_TEST

/* ---- a SQLite file ------------------------------------------------------------------- */

START_TEST(test_open_file)
{
    test_db t;
    open_temp(&t);
    ck_assert_int_eq(db_conn_dialect(t.conn), DIALECT_SQLITE);
    ck_assert_str_eq(db_dialect_name(t.conn), "sqlite");
    ck_assert(db_can_read(t.conn) && db_executes(t.conn));
    ck_assert(!db_in_transaction(t.conn));
    ck_assert(ck_file_exists(t.path));
    /* Foreign keys are on for every connection. */
    ck_assert_int_eq(scalar_int(t.conn, "PRAGMA foreign_keys"), 1);
    close_temp(&t);
}
END_TEST

START_TEST(test_params_every_type)
{
    test_db t;
    open_temp(&t);
    run_ok(t.conn, "CREATE TABLE v (n, i INTEGER, big INTEGER, f REAL, b, s TEXT, u TEXT)");
    const char *quoted = "it's \"quoted\" -- not a comment; $1";
    const char *unicode = "Z\xc3\xbcrich \xe2\x80\x93 \xe6\x9d\xb1\xe4\xba\xac \xe2\x9c\x93";
    db_value params[7] = {
        dbv_null(), dbv_int(42), dbv_int(9007199254740993LL), dbv_float(3.25),
        dbv_bool(true), dbv_text(quoted), dbv_text(unicode),
    };
    rb_error err;
    rb_error_init(&err);
    long long affected = -1;
    int rc = db_exec(t.conn, "INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, params, NULL,
                     &affected, &err);
    ck_assert_msg(rc == 0, "insert failed: %s", err.message);
    ck_assert_int_eq(affected, 1);

    db_result *r = NULL;
    rc = db_exec(t.conn, "SELECT n, i, big, f, b, s, u FROM v", 0, NULL, &r, NULL, &err);
    ck_assert_msg(rc == 0, "select failed: %s", err.message);
    ck_assert_int_eq(r->ncols, 7);
    ck_assert_int_eq(r->nrows, 1);
    static const char *const names[] = {"n", "i", "big", "f", "b", "s", "u"};
    for (int j = 0; j < 7; j++)
        ck_assert_str_eq(r->names[j], names[j]);
    ck_assert_int_eq(db_result_cell(r, 0, 0)->type, DBV_NULL);
    ck_assert_int_eq(db_result_cell(r, 0, 1)->type, DBV_INT);
    ck_assert_int_eq(db_result_cell(r, 0, 1)->i, 42);
    ck_assert_int_eq(db_result_cell(r, 0, 2)->type, DBV_INT);
    ck_assert(db_result_cell(r, 0, 2)->i == 9007199254740993LL);
    ck_assert_int_eq(db_result_cell(r, 0, 3)->type, DBV_FLOAT);
    ck_assert_double_eq(db_result_cell(r, 0, 3)->f, 3.25);
    /* SQLite has no boolean type: true is stored and read as the integer 1. */
    ck_assert_int_eq(db_result_cell(r, 0, 4)->type, DBV_INT);
    ck_assert_int_eq(db_result_cell(r, 0, 4)->i, 1);
    ck_assert_int_eq(db_result_cell(r, 0, 5)->type, DBV_TEXT);
    ck_assert_str_eq(db_result_cell(r, 0, 5)->text, quoted);
    ck_assert_uint_eq(db_result_cell(r, 0, 5)->len, strlen(quoted));
    ck_assert_int_eq(db_result_cell(r, 0, 6)->type, DBV_TEXT);
    ck_assert_str_eq(db_result_cell(r, 0, 6)->text, unicode);
    ck_assert_uint_eq(db_result_cell(r, 0, 6)->len, strlen(unicode));
    db_result_free(r);

    /* How each parameter type is bound, as SQLite sees it. */
    r = NULL;
    rc = db_exec(t.conn, "SELECT typeof($1), typeof($2), typeof($3), typeof($4), typeof($5)", 5,
                 params, &r, NULL, &err);
    ck_assert_msg(rc == 0, "typeof failed: %s", err.message);
    static const char *const types[] = {"null", "integer", "integer", "real", "integer"};
    for (int j = 0; j < 5; j++)
        ck_assert_str_eq(db_result_cell(r, 0, j)->text, types[j]);
    db_result_free(r);
    close_temp(&t);
}
END_TEST

START_TEST(test_params_by_number)
{
    test_db t;
    open_temp(&t);
    db_value params[2] = {dbv_text("first"), dbv_int(2)};
    db_result *r = NULL;
    rb_error err;
    rb_error_init(&err);
    /* Out of order and repeated. */
    int rc = db_exec(t.conn, "SELECT $2 AS two, $1 AS one, $2 + 1 AS three", 2, params, &r, NULL,
                     &err);
    ck_assert_msg(rc == 0, "select failed: %s", err.message);
    ck_assert_str_eq(r->names[0], "two");
    ck_assert_int_eq(db_result_cell(r, 0, 0)->i, 2);
    ck_assert_str_eq(db_result_cell(r, 0, 1)->text, "first");
    ck_assert_int_eq(db_result_cell(r, 0, 2)->i, 3);
    db_result_free(r);
    close_temp(&t);
}
END_TEST

START_TEST(test_many_rows)
{
    test_db t;
    open_temp(&t);
    db_result *r = NULL;
    rb_error err;
    rb_error_init(&err);
    int rc = db_exec(t.conn,
                     "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000) "
                     "SELECT x, 'row ' || x AS label FROM n",
                     0, NULL, &r, NULL, &err);
    ck_assert_msg(rc == 0, "select failed: %s", err.message);
    ck_assert_int_eq(r->nrows, 1000);
    for (int row = 0; row < 1000; row += 111) {
        char want[32];
        snprintf(want, sizeof want, "row %d", row + 1);
        ck_assert_int_eq(db_result_cell(r, row, 0)->i, row + 1);
        ck_assert_str_eq(db_result_cell(r, row, 1)->text, want);
    }
    db_result_free(r);

    /* No rows: a result with the columns and nothing else. */
    r = NULL;
    rc = db_exec(t.conn, "SELECT 1 AS a, 2 AS b WHERE 0", 0, NULL, &r, NULL, &err);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->nrows, 0);
    ck_assert_int_eq(r->ncols, 2);
    ck_assert_str_eq(r->names[1], "b");
    db_result_free(r);
    close_temp(&t);
}
END_TEST

/* The number of rows a statement changed, each on a table a of three rows (1, 2, 3) whose
 * INSERT was the connection's last change. */
static const struct {
    const char *sql;
    long long affected;
} affected_cases[] = {
    {"INSERT INTO a VALUES (4), (5)", 2},
    {"UPDATE a SET x = x * 10 WHERE x >= 2", 2},
    {"UPDATE a SET x = 0 WHERE x > 1000", 0},
    {"DELETE FROM a WHERE x = 1", 1},
    {"DELETE FROM a", 3},
    {"SELECT * FROM a", 0},
    /* Regression test (bug found and fixed): sqlite_exec reported sqlite3_changes64() for
     * every statement that is not read-only, but SQLite only updates that count for
     * INSERT/UPDATE/DELETE: a CREATE TABLE after an INSERT of 3 rows reported 3, so
     * db:exec("CREATE ...") in a migration returned a stale row count. */
    {"CREATE TABLE b (y INTEGER)", 0},
    {"CREATE INDEX a_x ON a (x)", 0},
};

START_TEST(test_affected_counts)
{
    test_db t;
    open_temp(&t);
    run_ok(t.conn, "CREATE TABLE a (x INTEGER)");
    run_ok(t.conn, "INSERT INTO a VALUES (1), (2), (3)");
    rb_error err;
    rb_error_init(&err);
    long long n = -1;
    int rc = db_exec(t.conn, affected_cases[_i].sql, 0, NULL, NULL, &n, &err);
    close_temp(&t);
    ck_assert_msg(rc == 0, "'%s': %s", affected_cases[_i].sql, err.message);
    ck_assert_msg(n == affected_cases[_i].affected, "'%s': affected %lld, want %lld",
                  affected_cases[_i].sql, n, affected_cases[_i].affected);
}
END_TEST

START_TEST(test_one_statement_at_a_time)
{
    test_db t;
    open_temp(&t);
    const char *two = "CREATE TABLE x (a); CREATE TABLE y (b)";
    rb_error err;
    rb_error_init(&err);
    int rc = db_run(t.conn, two, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(err.kind, RB_ERR_FAILURE);
    ck_assert_msg(strstr(err.message, "one statement") != NULL, "message: %s", err.message);
    ck_assert_str_eq(err.statement, two);
    /* Nothing ran. */
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM sqlite_master WHERE name = 'x'"), 0);
    /* A trailing semicolon, blanks and comments are not a second statement. */
    run_ok(t.conn, "CREATE TABLE z (c); -- done\n/* really */ ;\n");
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM sqlite_master WHERE name = 'z'"), 1);
    /* An empty statement does nothing and succeeds. */
    run_ok(t.conn, "");
    run_ok(t.conn, "-- only a comment");
    close_temp(&t);
}
END_TEST

START_TEST(test_syntax_error)
{
    test_db t;
    open_temp(&t);
    const char *sql = "SELEC 1 FROM nowhere";
    rb_error err;
    rb_error_init(&err);
    int rc = db_run(t.conn, sql, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(err.kind, RB_ERR_FAILURE);
    ck_assert_msg(strstr(err.message, "syntax error") != NULL, "message: %s", err.message);
    ck_assert_msg(strstr(err.message, "SELEC") != NULL, "message: %s", err.message);
    ck_assert_str_eq(err.statement, sql);
    ck_assert_str_eq(err.sqlstate, "");
    close_temp(&t);
}
END_TEST

START_TEST(test_missing_table)
{
    test_db t;
    open_temp(&t);
    const char *sql = "SELECT * FROM nope";
    db_result *r = (db_result *)&t;
    rb_error err;
    rb_error_init(&err);
    int rc = db_exec(t.conn, sql, 0, NULL, &r, NULL, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(r);
    /* Not found, the kind the version store acts on; PostgreSQL's SQLSTATE for it, for a
     * migration's handler that tests e.sqlstate on both databases. */
    ck_assert_int_eq(err.kind, RB_ERR_NOT_FOUND);
    ck_assert_str_eq(err.sqlstate, "42P01");
    ck_assert_msg(strstr(err.message, "nope") != NULL, "message: %s", err.message);
    ck_assert_str_eq(err.statement, sql);
    close_temp(&t);
}
END_TEST

/* A batch of reads (db_send_queries, db_collect_queries): SQLite has no pipelining, so the
 * queries run at collect, in order, each result in its slot; a failing one leaves every
 * slot empty and names its statement. */
START_TEST(test_query_batch)
{
    test_db t;
    open_temp(&t);
    run_ok(t.conn, "CREATE TABLE b (x integer)");
    run_ok(t.conn, "INSERT INTO b VALUES (1), (2)");
    const char *sqls[] = {"SELECT count(*) AS n FROM b", "SELECT x FROM b ORDER BY x DESC"};
    db_result *rows[2];
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(db_send_queries(t.conn, sqls, 2, &err), 0);
    ck_assert_int_eq(db_collect_queries(t.conn, sqls, 2, rows, &err), 0);
    ck_assert_int_eq(rows[0]->nrows, 1);
    ck_assert_int_eq(db_result_cell(rows[0], 0, 0)->i, 2);
    ck_assert_int_eq(rows[1]->nrows, 2);
    ck_assert_int_eq(db_result_cell(rows[1], 0, 0)->i, 2);
    db_result_free(rows[0]);
    db_result_free(rows[1]);

    const char *bad[] = {"SELECT 1", "SELECT * FROM nope", "SELECT 2"};
    db_result *out[3] = {(db_result *)&t, (db_result *)&t, (db_result *)&t};
    ck_assert_int_eq(db_send_queries(t.conn, bad, 3, &err), 0);
    ck_assert_int_eq(db_collect_queries(t.conn, bad, 3, out, &err), -1);
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_null(out[i]);
    ck_assert_str_eq(err.statement, "SELECT * FROM nope");
    ck_assert_int_eq(db_collect_queries(t.conn, NULL, 0, NULL, &err), 0);
    close_temp(&t);
}
END_TEST

START_TEST(test_constraint_error_at_step)
{
    test_db t;
    open_temp(&t);
    run_ok(t.conn, "CREATE TABLE u (x INTEGER PRIMARY KEY)");
    run_ok(t.conn, "INSERT INTO u VALUES (1)");
    const char *sql = "INSERT INTO u VALUES (1)";
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(db_run(t.conn, sql, &err), -1);
    ck_assert_msg(strstr(err.message, "UNIQUE") != NULL, "message: %s", err.message);
    ck_assert_str_eq(err.statement, sql);
    close_temp(&t);
}
END_TEST

START_TEST(test_quote_ident)
{
    test_db t;
    open_temp(&t);
    char *q = db_quote_ident(t.conn, "we\"ird name");
    ck_assert_str_eq(q, "\"we\"\"ird name\"");
    free(q);
    q = db_quote_ident(t.conn, "plain");
    ck_assert_str_eq(q, "\"plain\"");
    free(q);
    q = db_quote_ident_generic("\"\"");
    ck_assert_str_eq(q, "\"\"\"\"\"\"");
    free(q);
    /* The quoted name really is the identifier. */
    q = db_quote_ident(t.conn, "a \"b\" c");
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE %s (x)", q);
    free(q);
    run_ok(t.conn, sql);
    ck_assert_int_eq(
        scalar_int(t.conn, "SELECT count(*) FROM sqlite_master WHERE name = 'a \"b\" c'"), 1);
    close_temp(&t);
}
END_TEST

START_TEST(test_transactions)
{
    test_db t;
    open_temp(&t);
    rb_error err;
    rb_error_init(&err);
    run_ok(t.conn, "CREATE TABLE tx (x INTEGER)");

    ck_assert_int_eq(db_begin_locked(t.conn, 1, &err), 0);
    ck_assert(db_in_transaction(t.conn));
    run_ok(t.conn, "INSERT INTO tx VALUES (1)");
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM tx"), 1);
    db_rollback(t.conn);
    ck_assert(!db_in_transaction(t.conn));
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM tx"), 0);

    ck_assert_int_eq(db_begin_locked(t.conn, 1, &err), 0);
    run_ok(t.conn, "INSERT INTO tx VALUES (2)");
    run_ok(t.conn, "CREATE TABLE tx2 (y)");
    ck_assert_int_eq(db_commit(t.conn, &err), 0);
    ck_assert(!db_in_transaction(t.conn));
    /* A rollback with no transaction open is harmless. */
    db_rollback(t.conn);

    /* Committed work survives the connection. */
    db_close(t.conn);
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    ck_assert_int_eq(db_open(&t.cfg, &opts, &t.conn, &err), 0);
    ck_assert_int_eq(scalar_int(t.conn, "SELECT sum(x) FROM tx"), 2);
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM sqlite_master WHERE name = 'tx2'"), 1);
    close_temp(&t);
}
END_TEST

START_TEST(test_lock_timeout)
{
    test_db t;
    open_temp(&t);
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    opts.lock_timeout_ms = 50;
    db_conn *other = NULL;
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(db_open(&t.cfg, &opts, &other, &err), 0);
    ck_assert_int_eq(db_begin_locked(t.conn, 1, &err), 0);
    int rc = db_begin_locked(other, 1, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert(!db_in_transaction(other));
    ck_assert_int_eq(err.kind, RB_ERR_LOCK_TIMEOUT);
    ck_assert_msg(strstr(err.message, "lock") != NULL, "message: %s", err.message);
    db_rollback(t.conn);
    rb_error_init(&err);
    ck_assert_int_eq(db_begin_locked(other, 1, &err), 0);
    db_rollback(other);
    db_close(other);
    close_temp(&t);
}
END_TEST

START_TEST(test_read_only_missing_file)
{
    char dir[64];
    ck_tmpdir(dir);
    char *path = ck_path(dir, "missing.db");
    char url[256];
    snprintf(url, sizeof url, "sqlite:%s", path);
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    opts.read_only = true;
    test_db t;
    rb_error err;
    int rc = open_url(&t, url, &opts, &err);
    ck_assert_msg(rc == 0, "read-only open of a missing file failed: %s", err.message);
    /* It reads as an empty database. */
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM sqlite_master"), 0);
    db_result *r = NULL;
    rc = db_exec(t.conn, "SELECT * FROM rbacmig_version", 0, NULL, &r, NULL, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(err.kind, RB_ERR_NOT_FOUND);
    db_close(t.conn);
    config_release(&t.cfg);
    ck_assert_msg(!ck_file_exists(path), "'%s' was created by a read-only open", path);
    free(path);
    ck_rmdir(dir);
}
END_TEST

START_TEST(test_read_only_existing_file)
{
    test_db t;
    open_temp(&t);
    run_ok(t.conn, "CREATE TABLE ro (x)");
    run_ok(t.conn, "INSERT INTO ro VALUES (7)");
    db_close(t.conn);
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    opts.read_only = true;
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(db_open(&t.cfg, &opts, &t.conn, &err), 0);
    ck_assert_int_eq(scalar_int(t.conn, "SELECT x FROM ro"), 7);
    ck_assert_int_eq(db_run(t.conn, "INSERT INTO ro VALUES (8)", &err), -1);
    ck_assert_msg(strstr(err.message, "readonly") != NULL || strstr(err.message, "read-only"),
                  "message: %s", err.message);
    close_temp(&t);
}
END_TEST

START_TEST(test_open_not_a_database)
{
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    test_db t;
    rb_error err;
    char dir[64];
    ck_tmpdir(dir);
    char *junk = ck_write_in(dir, "junk.db", "this is not a database file, just some text....."
                                              "..................................................");
    char url[256];
    snprintf(url, sizeof url, "sqlite:%s", junk);
    int rc = open_url(&t, url, &opts, &err);
    config_release(&t.cfg);
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(t.conn);
    ck_assert_int_eq(err.kind, RB_ERR_FAILURE);
    ck_assert_msg(strstr(err.message, junk) != NULL, "message: %s", err.message);
    free(junk);
    ck_rmdir(dir);
}
END_TEST

/* db_open_read_many (diff's two sides): all open and in their read transactions, or none,
 * with the index and error of the first that failed. (PostgreSQL's sides, opened at the
 * same time: tests/e2e/test_schema_dump.sh.) */
START_TEST(test_open_read_many)
{
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    opts.read_only = true;
    char dir[64];
    ck_tmpdir(dir);
    char *junk = ck_write_in(dir, "junk.db", "this is not a database file, just some text....."
                                              "..................................................");
    char *good = ck_path(dir, "good.db");
    test_db made;
    open_url_path(&made, good);
    run_ok(made.conn, "CREATE TABLE t (x integer)");
    db_close(made.conn);
    config_release(&made.cfg);

    char good_url[256], junk_url[256];
    snprintf(good_url, sizeof good_url, "sqlite:%s", good);
    snprintf(junk_url, sizeof junk_url, "sqlite:%s", junk);
    config cfgs[3];
    rb_error err;
    for (int i = 0; i < 3; i++) {
        config_init(&cfgs[i]);
        ck_assert_int_eq(config_set(&cfgs[i].database_url, i == 1 ? junk_url : good_url, &err), 0);
    }
    db_conn *conns[3] = {NULL, NULL, NULL};
    int failed = 99;
    rb_error_init(&err);
    ck_assert_int_eq(db_open_read_many(cfgs, 3, &opts, conns, &failed, &err), -1);
    ck_assert_int_eq(failed, 1);
    ck_assert_msg(strstr(err.message, junk) != NULL, "message: %s", err.message);
    for (int i = 0; i < 3; i++)
        ck_assert_ptr_null(conns[i]);

    /* Without the junk: both open, each in its read transaction. */
    config_release(&cfgs[1]);
    cfgs[1] = cfgs[2];
    failed = 99;
    ck_assert_int_eq(db_open_read_many(cfgs, 2, &opts, conns, &failed, &err), 0);
    ck_assert_int_eq(failed, -1);
    for (int i = 0; i < 2; i++) {
        ck_assert_ptr_nonnull(conns[i]);
        ck_assert(db_in_transaction(conns[i]));
        db_result *rows = NULL;
        ck_assert_int_eq(db_exec(conns[i], "SELECT count(*) FROM t", 0, NULL, &rows, NULL, &err), 0);
        db_result_free(rows);
        db_close(conns[i]);
    }
    config_release(&cfgs[0]);
    config_release(&cfgs[1]); /* the third's, moved */
    free(junk);
    free(good);
    ck_rmdir(dir);
}
END_TEST

/* URLs no driver opens: what is wrong with the URL itself is a usage error (exit 2), a
 * place that is not there a failure (exit 1). */
static const struct {
    const char *url;
    rb_error_kind kind;
    const char *says;
} bad_urls[] = {
    {"sqlite://host/x.db", RB_ERR_USAGE, "sqlite:///relative"},
    {"sqlite:", RB_ERR_USAGE, "no file name"},
    {"mysql://x", RB_ERR_USAGE, "unsupported database URL"},
    {"sqlite:/nonexistent-rbacmig-dir/x.db", RB_ERR_FAILURE, "does not exist"},
};

START_TEST(test_open_errors)
{
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    test_db t;
    rb_error err;
    int rc = open_url(&t, bad_urls[_i].url, &opts, &err);
    config_release(&t.cfg);
    out_forget_secrets();
    ck_assert_int_eq(rc, -1);
    ck_assert_ptr_null(t.conn);
    ck_assert_msg(err.kind == bad_urls[_i].kind, "'%s': kind %d: %s", bad_urls[_i].url,
                  (int)err.kind, err.message);
    ck_assert_msg(strstr(err.message, bad_urls[_i].says) != NULL, "'%s': message: %s",
                  bad_urls[_i].url, err.message);
}
END_TEST

START_TEST(test_memory_database)
{
    db_open_options opts;
    memset(&opts, 0, sizeof opts);
    test_db t;
    rb_error err;
    ck_assert_int_eq(open_url(&t, "sqlite::memory:", &opts, &err), 0);
    run_ok(t.conn, "CREATE TABLE m (x)");
    ck_assert_int_eq(scalar_int(t.conn, "SELECT count(*) FROM m"), 0);
    const char *user = db_current_user(t.conn);
    ck_assert_ptr_nonnull(user);
    db_close(t.conn);
    config_release(&t.cfg);
}
END_TEST

/* ---- literals ------------------------------------------------------------------------ */

static void expect_literal(db_value v, db_dialect d, const char *want)
{
    char *lit = NULL;
    size_t len = 0;
    rb_error err;
    ck_assert_int_eq(db_literal(&v, d, &lit, &len, &err), 0);
    ck_assert_msg(strcmp(lit, want) == 0, "literal: got [%s], want [%s]", lit, want);
    ck_assert_uint_eq(len, strlen(want));
    free(lit);
}

#define TXT(s) {.type = DBV_TEXT, .text = (s), .len = sizeof(s) - 1}
#define BOTH DIALECT_NONE /* a case that holds for both dialects */

/* One value, the dialect (or BOTH), the literal. */
static const struct {
    db_value v;
    db_dialect dialect;
    const char *want;
} literal_cases[] = {
    {{.type = DBV_NULL}, BOTH, "NULL"},
    {{.type = DBV_INT, .i = 0}, BOTH, "0"},
    {{.type = DBV_INT, .i = -42}, BOTH, "-42"},
    {{.type = DBV_INT, .i = 9223372036854775807LL}, BOTH, "9223372036854775807"},
    {{.type = DBV_FLOAT, .f = 2.5}, BOTH, "2.5"},
    {{.type = DBV_FLOAT, .f = -0.125}, BOTH, "-0.125"},
    {TXT(""), BOTH, "''"},
    {TXT("plain"), BOTH, "'plain'"},
    {TXT("O'Reilly's"), BOTH, "'O''Reilly''s'"},
    {TXT("'"), BOTH, "''''"},
    {TXT("a \"b\" $1 \\n"), BOTH, "'a \"b\" $1 \\n'"},
    {TXT("\xe6\x9d\xb1\xe4\xba\xac"), BOTH, "'\xe6\x9d\xb1\xe4\xba\xac'"},
    {{.type = DBV_BOOL, .b = true}, DIALECT_POSTGRESQL, "TRUE"},
    {{.type = DBV_BOOL, .b = false}, DIALECT_POSTGRESQL, "FALSE"},
    {{.type = DBV_BOOL, .b = true}, DIALECT_SQLITE, "1"},
    {{.type = DBV_BOOL, .b = false}, DIALECT_SQLITE, "0"},
    {{.type = DBV_FLOAT, .f = NAN}, DIALECT_POSTGRESQL, "'NaN'"},
    {{.type = DBV_FLOAT, .f = INFINITY}, DIALECT_POSTGRESQL, "'Infinity'"},
    {{.type = DBV_FLOAT, .f = -INFINITY}, DIALECT_POSTGRESQL, "'-Infinity'"},
    /* Only len bytes of the text are used. */
    {{.type = DBV_TEXT, .text = "abcdef", .len = 3}, DIALECT_SQLITE, "'abc'"},
};

START_TEST(test_literals)
{
    db_dialect d = literal_cases[_i].dialect;
    if (d == BOTH) {
        expect_literal(literal_cases[_i].v, DIALECT_POSTGRESQL, literal_cases[_i].want);
        expect_literal(literal_cases[_i].v, DIALECT_SQLITE, literal_cases[_i].want);
    } else {
        expect_literal(literal_cases[_i].v, d, literal_cases[_i].want);
    }
}
END_TEST

/* A float literal reads back as the same double, in both dialects. */
START_TEST(test_float_literal_round_trip)
{
    db_value tenth = dbv_float(0.1);
    db_dialect both[2] = {DIALECT_POSTGRESQL, DIALECT_SQLITE};
    for (int k = 0; k < 2; k++) {
        char *lit = NULL;
        size_t len;
        rb_error err;
        ck_assert_int_eq(db_literal(&tenth, both[k], &lit, &len, &err), 0);
        ck_assert_double_eq(strtod(lit, NULL), 0.1);
        free(lit);
    }
}
END_TEST

/* Regression test (issue 12, item 3): a text value with a NUL byte was quoted over its
 * whole length, then copied into the script with strlen, so the literal lost its closing
 * quote and the rest of the --sql script flipped between string and code. Expected: SQLite
 * gets the exact bytes as a blob cast to text; PostgreSQL (whose text has no NUL) an error,
 * offline and online alike; the script never holds a NUL or an open quote. */
START_TEST(test_literal_nul)
{
    db_value nul = {.type = DBV_TEXT, .text = "a'\0b", .len = 4};
    expect_literal(nul, DIALECT_SQLITE, "CAST(X'61270062' AS TEXT)");
    char *lit = NULL;
    size_t len = 0;
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(db_literal(&nul, DIALECT_POSTGRESQL, &lit, &len, &err), -1);
    ck_assert_ptr_null(lit);
    ck_assert_msg(strstr(err.message, "NUL") != NULL, "message: %s", err.message);
    /* The --sql script's side of it: check_offline.c. */
}
END_TEST

Suite *make_driver_sqlite_suite(void)
{
    Suite *s = suite_create("driver_sqlite");
    TCase *tc = tcase_create("sqlite");
    tcase_add_test(tc, test_open_file);
    tcase_add_test(tc, test_params_every_type);
    tcase_add_test(tc, test_params_by_number);
    tcase_add_test(tc, test_many_rows);
    tcase_add_loop_test(tc, test_affected_counts, 0,
                        (int)(sizeof affected_cases / sizeof *affected_cases));
    tcase_add_test(tc, test_one_statement_at_a_time);
    tcase_add_test(tc, test_syntax_error);
    tcase_add_test(tc, test_missing_table);
    tcase_add_test(tc, test_query_batch);
    tcase_add_test(tc, test_constraint_error_at_step);
    tcase_add_test(tc, test_quote_ident);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_lock_timeout);
    tcase_add_test(tc, test_read_only_missing_file);
    tcase_add_test(tc, test_read_only_existing_file);
    tcase_add_test(tc, test_open_not_a_database);
    tcase_add_test(tc, test_open_read_many);
    tcase_add_loop_test(tc, test_open_errors, 0, (int)(sizeof bad_urls / sizeof *bad_urls));
    tcase_add_test(tc, test_memory_database);
    tcase_add_test(tc, test_script_runs);
    tcase_add_loop_test(tc, test_script_errors, 0,
                        (int)(sizeof script_errors / sizeof *script_errors));
    tcase_add_test(tc, test_script_ends_transaction);
    suite_add_tcase(s, tc);

    tc = tcase_create("literals");
    tcase_add_loop_test(tc, test_literals, 0, (int)(sizeof literal_cases / sizeof *literal_cases));
    tcase_add_test(tc, test_float_literal_round_trip);
    tcase_add_test(tc, test_literal_nul);
    suite_add_tcase(s, tc);
    return s;
}
