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

Suite *make_sql_lex_suite(void)
{
    Suite *s = suite_create("sql_lex");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_tokens, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_loop_test(tc, test_is_blank, 0, (int)(sizeof blank_cases / sizeof blank_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}
