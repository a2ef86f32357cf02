/* check_offline.c: the offline (--sql) driver, which writes each statement to stdout with its
 * $N parameters inlined as literals instead of running it. One table of cases for the
 * substitution (what is replaced, what is left alone inside quotes, dollar quotes and
 * comments, how a statement is terminated, what is refused), then the transaction lines and
 * what the driver says it cannot do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_rbacmig.h"
#include "config.h"
#include "driver.h"
#include "output.h"

/* Parameter values as constant initialisers (text length from the literal, so "a\0b" is 3). */
#define TXT(s) {.type = DBV_TEXT, .text = (s), .len = sizeof(s) - 1}
#define INT(n) {.type = DBV_INT, .i = (n)}
#define FLT(x) {.type = DBV_FLOAT, .f = (x)}
#define BOOL(x) {.type = DBV_BOOL, .b = (x)}
#define NUL_ {.type = DBV_NULL}

enum { MAX_PARAMS = 11 };

#define PG "postgresql://app@localhost/app"
#define LITE "sqlite:never.db"

typedef struct offline_case {
    const char *url;    /* the dialect the script is for */
    const char *sql;
    int nparams;
    db_value params[MAX_PARAMS];
    const char *want;   /* the script written; NULL when the statement is refused */
    const char *error;  /* refused: a part of the message */
} offline_case;

static const offline_case cases[] = {
    /* Every type, in both dialects: booleans are TRUE/FALSE on PostgreSQL, 1/0 on SQLite. */
    {LITE, "INSERT INTO t VALUES ($1, $2, $3, $4, $5)", 5,
     {TXT("it's"), INT(7), NUL_, BOOL(true), FLT(1.5)},
     "INSERT INTO t VALUES ('it''s', 7, NULL, 1, 1.5);\n", NULL},
    {PG, "INSERT INTO t VALUES ($1, $2, $3, $4, $5)", 5,
     {TXT("it's"), INT(-7), NUL_, BOOL(false), FLT(-0.25)},
     "INSERT INTO t VALUES ('it''s', -7, NULL, FALSE, -0.25);\n", NULL},
    /* Repeated, out of order, two digits. */
    {PG, "SELECT $1, $10, $11, $1, $2", 11,
     {INT(100), INT(101), INT(102), INT(103), INT(104), INT(105), INT(106), INT(107), INT(108),
      INT(109), INT(110)},
     "SELECT 100, 109, 110, 100, 101;\n", NULL},
    /* $N inside a string or a quoted identifier belongs to the text. */
    {PG, "SELECT '$1', \"$1\", $1", 1, {INT(7)}, "SELECT '$1', \"$1\", 7;\n", NULL},
    {PG, "SELECT 'it''s $1', $1", 1, {TXT("x")}, "SELECT 'it''s $1', 'x';\n", NULL},
    {LITE, "SELECT \"a\"\"$1\", $1", 1, {INT(2)}, "SELECT \"a\"\"$1\", 2;\n", NULL},
    /* A value that looks like SQL stays a value. */
    {PG, "SELECT $1, $2", 2, {TXT("$2'; DROP TABLE t; --"), INT(1)},
     "SELECT '$2''; DROP TABLE t; --', 1;\n", NULL},
    /* Dollar quotes (function bodies): their $1 is the function's. */
    {PG, "CREATE FUNCTION f(a int) RETURNS int AS $$ SELECT $1 + 1 $$ LANGUAGE sql", 1,
     {BOOL(false)}, "CREATE FUNCTION f(a int) RETURNS int AS $$ SELECT $1 + 1 $$ LANGUAGE sql;\n",
     NULL},
    {PG, "SELECT $fn$ body $1 $fn$, $2, $1", 2, {BOOL(false), TXT("x")},
     "SELECT $fn$ body $1 $fn$, 'x', FALSE;\n", NULL},
    {PG, "SELECT $a$ $b$ $1 $b$ $a$, $1", 1, {INT(3)}, "SELECT $a$ $b$ $1 $b$ $a$, 3;\n", NULL},
    /* Comments: their $N stays, and a quote in one opens nothing (regression: the apostrophe
     * in a block comment once opened a string and the real $1 after it was not replaced). */
    {PG, "SELECT $2 -- $1\n;  \n", 2, {INT(1), INT(7)}, "SELECT 7 -- $1\n;\n", NULL},
    {PG, "/* don't touch $1 */ SELECT $1", 1, {INT(7)}, "/* don't touch $1 */ SELECT 7;\n", NULL},
    /* Regression: the terminating ';' was written inside a trailing line comment, so the
     * statement ran together with the next one. */
    {LITE, "CREATE TABLE t (x int) -- the first table", 0, {NUL_},
     "CREATE TABLE t (x int) -- the first table\n;\n", NULL},
    /* One terminating semicolon whatever the statement ended with. */
    {LITE, "CREATE TABLE t (x int)", 0, {NUL_}, "CREATE TABLE t (x int);\n", NULL},
    {LITE, "DELETE FROM t;  \n\t", 0, {NUL_}, "DELETE FROM t;\n", NULL},
    /* Without parameters the text is written as it is, $1 included. */
    {PG, "SELECT $1", 0, {NUL_}, "SELECT $1;\n", NULL},
    /* Regression (issue 12): a NUL byte in a text value. SQLite stores it: the exact bytes as
     * a blob cast to text; PostgreSQL cannot: refused, and nothing is written. */
    {LITE, "INSERT INTO t VALUES ($1, 'tail')", 1, {TXT("a'\0b")},
     "INSERT INTO t VALUES (CAST(X'61270062' AS TEXT), 'tail');\n", NULL},
    {PG, "INSERT INTO t VALUES ($1, 'tail')", 1, {TXT("a'\0b")}, NULL, "$1"},
    {PG, "INSERT INTO t VALUES ($1, 'tail')", 1, {TXT("a'\0b")}, NULL, "NUL"},
    /* Too few parameters: refused, naming the one missing. */
    {LITE, "SELECT $1, $2", 1, {INT(1)}, NULL, "$2"},
    {PG, "SELECT $1, $12", 11, {INT(1)}, NULL, "only 11 parameters"},
};

typedef struct offline_db {
    config cfg;
    db_conn *conn;
} offline_db;

static void open_offline(offline_db *t, const char *url)
{
    db_open_options opts = {.offline = true};
    rb_error err;
    rb_error_init(&err);
    config_init(&t->cfg);
    ck_assert_int_eq(config_set(&t->cfg.database_url, url, &err), 0);
    t->conn = NULL;
    ck_assert_msg(db_open(&t->cfg, &opts, &t->conn, &err) == 0, "offline open of %s: %s", url,
                  err.message);
    out_forget_secrets();
}

static void close_offline(offline_db *t)
{
    db_close(t->conn);
    config_release(&t->cfg);
}

START_TEST(test_substitution)
{
    const offline_case *c = &cases[_i];
    offline_db t;
    open_offline(&t, c->url);
    rb_error err;
    rb_error_init(&err);
    long long affected = -1;
    ck_capture cap;
    ck_capture_begin(&cap);
    int rc = db_exec(t.conn, c->sql, c->nparams, c->params, NULL, &affected, &err);
    char *out = ck_capture_end(&cap);
    close_offline(&t);
    if (c->want) {
        ck_assert_msg(rc == 0, "[%d] %s: %s", _i, c->sql, err.message);
        ck_assert_msg(strcmp(out, c->want) == 0, "[%d] got [%s], want [%s]", _i, out, c->want);
        ck_assert_int_eq(affected, 0);
    } else {
        ck_assert_msg(rc == -1, "[%d] %s: written as [%s]", _i, c->sql, out);
        ck_assert_msg(strstr(err.message, c->error) != NULL, "[%d] message: %s", _i,
                      err.message);
        ck_assert_int_eq(err.kind, RB_ERR_FAILURE);
        ck_assert_msg(out[0] == '\0', "[%d] a refused statement wrote [%s]", _i, out);
    }
    free(out);
}
END_TEST

/* ---- transactions and what the driver cannot do --------------------------------------- */

/* The locked transaction is BEGIN IMMEDIATE on SQLite (its write lock), BEGIN on PostgreSQL
 * with the search path set when rbacmig's schema is not public. */
static const struct {
    const char *url, *schema, *want;
} transaction_cases[] = {
    {LITE, NULL, "\nBEGIN IMMEDIATE;\nDELETE FROM t;\nCOMMIT;\n"},
    {PG, NULL, "\nBEGIN;\nDELETE FROM t;\nCOMMIT;\n"},
    {PG, "my \"app\"",
     "\nBEGIN;\nSET LOCAL search_path TO \"my \"\"app\"\"\", public;\nDELETE FROM t;\nCOMMIT;\n"},
};

START_TEST(test_transaction_lines)
{
    offline_db t;
    rb_error err;
    rb_error_init(&err);
    config_init(&t.cfg);
    ck_assert_int_eq(config_set(&t.cfg.database_url, transaction_cases[_i].url, &err), 0);
    if (transaction_cases[_i].schema)
        ck_assert_int_eq(config_set(&t.cfg.schema, transaction_cases[_i].schema, &err), 0);
    db_open_options opts = {.offline = true};
    ck_assert_int_eq(db_open(&t.cfg, &opts, &t.conn, &err), 0);
    ck_capture cap;
    ck_capture_begin(&cap);
    int rc1 = db_begin_locked(t.conn, 1, &err);
    bool in_tx = db_in_transaction(t.conn);
    int rc2 = db_run(t.conn, "DELETE FROM t", &err);
    int rc3 = db_commit(t.conn, &err);
    char *out = ck_capture_end(&cap);
    close_offline(&t);
    out_forget_secrets();
    ck_assert(rc1 == 0 && rc2 == 0 && rc3 == 0);
    ck_assert(in_tx);
    ck_assert_str_eq(out, transaction_cases[_i].want);
    free(out);
}
END_TEST

/* Nothing runs, so nothing can be read: the driver says so through its capabilities (the
 * runner asks them instead of testing for --sql), and a query is refused with a message
 * that names --sql, writing nothing. */
START_TEST(test_cannot_read)
{
    offline_db t;
    open_offline(&t, LITE);
    ck_assert(db_is_offline(t.conn));
    ck_assert(!db_can_read(t.conn));
    ck_assert(!db_executes(t.conn));
    ck_assert(!db_can_copy(t.conn));
    ck_assert_int_eq(db_conn_dialect(t.conn), DIALECT_SQLITE);
    ck_assert_str_eq(db_current_user(t.conn), "");
    db_result *r = NULL;
    rb_error err;
    rb_error_init(&err);
    ck_capture cap;
    ck_capture_begin(&cap);
    int rc = db_exec(t.conn, "SELECT 1", 0, NULL, &r, NULL, &err);
    int rc_read = db_begin_locked_read(t.conn, 1, "SELECT 1", &r, &err);
    char *out = ck_capture_end(&cap);
    close_offline(&t);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(rc_read, -1);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(err.message, "--sql") != NULL, "message: %s", err.message);
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

/* --sql on a SQLite URL never creates the file. */
START_TEST(test_no_file_created)
{
    char dir[64];
    ck_tmpdir(dir);
    char *path = ck_path(dir, "never.db");
    char url[256];
    snprintf(url, sizeof url, "sqlite:%s", path);
    offline_db t;
    open_offline(&t, url);
    rb_error err;
    rb_error_init(&err);
    ck_capture cap;
    ck_capture_begin(&cap);
    int rc = db_run(t.conn, "CREATE TABLE t (x int)", &err);
    free(ck_capture_end(&cap));
    close_offline(&t);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(!ck_file_exists(path), "offline mode created '%s'", path);
    free(path);
    ck_rmdir(dir);
}
END_TEST

/* db_exec_script in --sql: the script as written, which psql and sqlite3 read themselves,
 * with a terminating ';' where the last statement lacks one (the next line written is
 * COMMIT), even after a trailing comment; $1 in a script is text, not a parameter. */
static const struct {
    const char *url, *script, *want;
} script_cases[] = {
    {PG, "CREATE TABLE a (x int);\n-- two; statements\nCREATE TABLE b (s text DEFAULT 'x;y');\n",
     "CREATE TABLE a (x int);\n-- two; statements\nCREATE TABLE b (s text DEFAULT 'x;y');\n"},
    {PG, "CREATE FUNCTION f(int) RETURNS int AS $$ SELECT $1; $$ LANGUAGE sql",
     "CREATE FUNCTION f(int) RETURNS int AS $$ SELECT $1; $$ LANGUAGE sql;\n"},
    {LITE, "CREATE TABLE a (x int);\nCREATE INDEX a_x ON a (x) -- last",
     "CREATE TABLE a (x int);\nCREATE INDEX a_x ON a (x) -- last\n;\n"},
};

START_TEST(test_script)
{
    offline_db t;
    open_offline(&t, script_cases[_i].url);
    rb_error err;
    rb_error_init(&err);
    int stmt_no = -1, line = -1;
    ck_capture cap;
    ck_capture_begin(&cap);
    int rc = db_exec_script(t.conn, script_cases[_i].script, &stmt_no, &line, &err);
    char *out = ck_capture_end(&cap);
    close_offline(&t);
    ck_assert_msg(rc == 0, "db_exec_script: %s", err.message);
    ck_assert_str_eq(out, script_cases[_i].want);
    ck_assert_int_eq(stmt_no, 0);
    free(out);
}
END_TEST

Suite *make_offline_suite(void)
{
    Suite *s = suite_create("offline");
    TCase *tc = tcase_create("substitution");
    tcase_add_loop_test(tc, test_substitution, 0, (int)(sizeof cases / sizeof *cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("driver");
    tcase_add_loop_test(tc, test_transaction_lines, 0,
                        (int)(sizeof transaction_cases / sizeof *transaction_cases));
    tcase_add_test(tc, test_cannot_read);
    tcase_add_test(tc, test_no_file_created);
    tcase_add_loop_test(tc, test_script, 0, (int)(sizeof script_cases / sizeof *script_cases));
    suite_add_tcase(s, tc);
    return s;
}
