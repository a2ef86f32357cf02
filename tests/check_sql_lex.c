/* check_sql_lex.c: the SQL scanner (src/sql_lex.c). Each case is a statement and the
 * tokens it must split into, written as kind letters and texts. */
#include "check_rbacmig.h"
#include "sql_lex.h"

/* One letter per kind, to write expected token streams compactly. */
static char kind_letter(sql_tok_kind k)
{
    return "o_sidlbp;"[k];
}

/* "kind:text|kind:text|...", with '!' after the kind of an unterminated token and the
 * parameter's number after a 'p'. */
static char *describe(const char *sql)
{
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    ck_assert_ptr_nonnull(f);
    sql_lexer lx;
    sql_token t;
    sql_lex_init(&lx, sql);
    const char *expect = sql;
    for (int i = 0; sql_lex_next(&lx, &t); i++) {
        ck_assert_ptr_eq(t.start, expect); /* tokens cover the text, in order, no gaps */
        ck_assert_uint_gt(t.len, 0);
        expect = t.start + t.len;
        fprintf(f, "%s%c%s", i ? "|" : "", kind_letter(t.kind), t.unterminated ? "!" : "");
        if (t.kind == SQL_TOK_PARAM)
            fprintf(f, "%ld", t.number);
        fprintf(f, ":%.*s", (int)t.len, t.start);
    }
    ck_assert_int_eq(*expect, '\0');
    fclose(f);
    return out;
}

static const struct {
    const char *sql, *tokens;
} cases[] = {
    {"", ""},
    {"SELECT 1;", "o:SELECT|_: |o:1|;:;"},
    {"x = $1", "o:x|_: |o:=|_: |p1:$1"},
    {"$12,$3", "p12:$12|o:,|p3:$3"},
    {"'it''s $1'", "s:'it'|s:'s $1'"},
    {"\"a;b\"", "i:\"a;b\""},
    {"-- $1 ;\nx", "l:-- $1 ;|_:\n|o:x"},
    {"/* $1; */x", "b:/* $1; */|o:x"},
    {"/* open", "b!:/* open"},
    {"'open", "s!:'open"},
    {"$$ $1; $$;", "d:$$ $1; $$|;:;"},
    {"$fn$ a $$ b $fn$", "d:$fn$ a $$ b $fn$"},
    {"$a1$x$a1$", "d:$a1$x$a1$"},
    {"$body$ never", "d!:$body$ never"},
    {"$0 $", "o:$|o:0|_: |o:$"},
    {"a-b/c", "o:a|o:-|o:b|o:/|o:c"},
    {"$99999999999999999999999", "p9223372036854775807:$99999999999999999999999"},
};

START_TEST(test_tokens)
{
    char *got = describe(cases[_i].sql);
    ck_assert_msg(strcmp(got, cases[_i].tokens) == 0, "%s: got %s, want %s", cases[_i].sql, got,
                  cases[_i].tokens);
    free(got);
}
END_TEST

static const struct {
    const char *sql;
    bool blank;
} blank_cases[] = {
    {"", true},
    {" ;\n;\t", true},
    {"-- done\n/* and */ ;", true},
    {"/* never closed", true},
    {"; SELECT 2", false},
    {"''", false},
    {"$$x$$", false},
    {"$1", false},
};

START_TEST(test_is_blank)
{
    ck_assert_msg(sql_lex_is_blank(blank_cases[_i].sql) == blank_cases[_i].blank, "'%s'",
                  blank_cases[_i].sql);
}
END_TEST

/* A script as its statements: "line:kind:keyword|..." with kind o (other), t (transaction),
 * i (COPY FROM STDIN), u (COPY TO STDOUT); keyword only for t. */
static char *statements(const char *sql)
{
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    ck_assert_ptr_nonnull(f);
    sql_script sc;
    sql_statement st;
    sql_script_init(&sc, sql);
    for (int i = 1; sql_script_next(&sc, &st); i++) {
        ck_assert_int_eq(st.number, i);
        ck_assert_ptr_nonnull(st.start);
        ck_assert(st.end > st.start);
        fprintf(f, "%s%d:%c%s%s", i > 1 ? "|" : "", st.line, "otiu"[st.kind],
                st.kind == SQL_STMT_TRANSACTION ? ":" : "", st.keyword);
    }
    fclose(f);
    return out;
}

static const struct {
    const char *sql, *statements;
} script_cases[] = {
    {"", ""},
    {" ;\n; -- nothing\n", ""},
    {"SELECT 1; SELECT 2", "1:o|1:o"},
    {"CREATE TABLE a (x int);\nCOMMIT;\n\nbegin;", "1:o|2:t:COMMIT|4:t:BEGIN"},
    {"end transaction; ABORT; Start Transaction; prepare transaction 'x'",
     "1:t:END|1:t:ABORT|1:t:START TRANSACTION|1:t:PREPARE TRANSACTION"},
    {"ROLLBACK; rollback work; ROLLBACK TO SAVEPOINT s; ROLLBACK TRANSACTION TO s",
     "1:t:ROLLBACK|1:t:ROLLBACK|1:o|1:o"},
    {"COMMIT PREPARED 'x'; SAVEPOINT s; RELEASE s; START x", "1:t:COMMIT|1:o|1:o|1:o"},
    /* Words in strings, quoted names, comments and bodies are not statements. */
    {"SELECT 'x;\nCOMMIT'; /* ;\nCOMMIT; */ SELECT \"a;\nCOMMIT\"; -- ;COMMIT\nSELECT 1",
     "1:o|3:o|5:o"},
    {"CREATE FUNCTION f() RETURNS int AS $$ BEGIN; COMMIT; END $$ LANGUAGE plpgsql; COMMIT",
     "1:o|1:t:COMMIT"},
    /* A SQLite trigger's body and a PostgreSQL BEGIN ATOMIC body, with CASE ... END. */
    {"CREATE TEMP TRIGGER t AFTER INSERT ON x BEGIN\n  UPDATE x SET a = CASE WHEN 1 THEN 2 "
     "END;\n  DELETE FROM y;\nEND;\nCOMMIT",
     "1:o|5:t:COMMIT"},
    {"create or replace function f(n int) returns int language sql begin atomic\n"
     "  select case when n < 0 then -1 else 1 end;\nend; end",
     "1:o|3:t:END"},
    /* A column called begin opens no body. */
    {"CREATE TABLE b (begin int); COMMIT", "1:o|1:t:COMMIT"},
    {"COPY t (a, b) FROM STDIN; copy t from stdin with (format csv); COPY t FROM 'stdin'",
     "1:i|1:i|1:o"},
    {"COPY (SELECT 1) TO STDOUT; COPY t TO '/tmp/x'; COPY t FROM /* x */ STDIN",
     "1:u|1:o|1:i"},
    {"SELECT 1 FROM stdin; INSERT INTO t SELECT 1 FROM stdin", "1:o|1:o"},
};

START_TEST(test_statements)
{
    char *got = statements(script_cases[_i].sql);
    ck_assert_msg(strcmp(got, script_cases[_i].statements) == 0, "%s: got %s, want %s",
                  script_cases[_i].sql, got, script_cases[_i].statements);
    free(got);
}
END_TEST

/* The statement's text: from its first token to its ';'. */
START_TEST(test_statement_bounds)
{
    const char *sql = "-- a\n  CREATE TABLE a (x int) ;\n\tSELECT 'x;y'";
    sql_script sc;
    sql_statement st;
    sql_script_init(&sc, sql);
    ck_assert(sql_script_next(&sc, &st));
    ck_assert_int_eq(st.line, 2);
    ck_assert_str_eq(st.start, "CREATE TABLE a (x int) ;\n\tSELECT 'x;y'");
    ck_assert_int_eq((int)(st.end - st.start), (int)strlen("CREATE TABLE a (x int) ;"));
    ck_assert(sql_script_next(&sc, &st));
    ck_assert_int_eq(st.line, 3);
    ck_assert_str_eq(st.start, "SELECT 'x;y'");
    ck_assert_ptr_eq(st.end, sql + strlen(sql));
    ck_assert(!sql_script_next(&sc, &st));
}
END_TEST

Suite *make_sql_lex_suite(void)
{
    Suite *s = suite_create("sql_lex");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_tokens, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_loop_test(tc, test_is_blank, 0, (int)(sizeof blank_cases / sizeof blank_cases[0]));
    tcase_add_loop_test(tc, test_statements, 0,
                        (int)(sizeof script_cases / sizeof script_cases[0]));
    tcase_add_test(tc, test_statement_bounds);
    suite_add_tcase(s, tc);
    return s;
}
