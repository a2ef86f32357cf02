/* fuzz_sql_lex.c: the SQL scanner (src/sql_lex.c), which the --sql writer and the SQLite
 * driver trust to say where parameters and statement ends are.
 *
 * The input, up to its first NUL, is scanned. Beyond "no sanitizer report":
 *   - the tokens cover the text in order, without gaps or empty tokens, and end at its end;
 *   - each token starts and (unless flagged unterminated) ends as its kind says: quotes
 *     close with the quote they opened with, comments with their closer, a dollar quote
 *     with its own tag, a parameter is '$' and digits, a statement end one ';';
 *   - only the last token may be unterminated;
 *   - sql_lex_is_blank is true exactly when every token is a blank, comment or ';'.
 *
 * Depends on sql_lex.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "sql_lex.h"

static void check_token(const sql_token *t)
{
    const char *s = t->start, *e = t->start + t->len; /* e: one past the token */
    bool closed = !t->unterminated;
    switch (t->kind) {
    case SQL_TOK_STRING:
    case SQL_TOK_IDENT:
        FUZZ_CHECK(s[0] == (t->kind == SQL_TOK_STRING ? '\'' : '"'), "opening quote");
        FUZZ_CHECK(!closed || (t->len >= 2 && e[-1] == s[0] && !memchr(s + 1, s[0], t->len - 2)),
                   "a quote closes at its first closer");
        break;
    case SQL_TOK_LINE_COMMENT:
        FUZZ_CHECK(s[0] == '-' && s[1] == '-' && !memchr(s, '\n', t->len) && closed,
                   "line comment");
        break;
    case SQL_TOK_BLOCK_COMMENT:
        FUZZ_CHECK(s[0] == '/' && s[1] == '*', "block comment opener");
        FUZZ_CHECK(!closed || (t->len >= 4 && e[-2] == '*' && e[-1] == '/'), "block comment end");
        break;
    case SQL_TOK_DOLLAR: {
        size_t tag = (size_t)(strchr(s + 1, '$') - s) + 1;
        FUZZ_CHECK(!closed || (t->len >= 2 * tag && memcmp(e - tag, s, tag) == 0),
                   "a dollar quote closes with its tag");
        break;
    }
    case SQL_TOK_PARAM:
        FUZZ_CHECK(s[0] == '$' && t->len >= 2 && strspn(s + 1, "0123456789") == t->len - 1 &&
                       t->number >= 1 && closed,
                   "parameter");
        break;
    case SQL_TOK_END:
        FUZZ_CHECK(t->len == 1 && s[0] == ';' && closed, "statement end");
        break;
    case SQL_TOK_SPACE:
        FUZZ_CHECK(strspn(s, " \t\n\r\f\v") >= t->len && closed, "blanks");
        break;
    case SQL_TOK_OTHER:
        FUZZ_CHECK(closed, "other");
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = fuzz_cstr(data, size);
    sql_lexer lx;
    sql_token t;
    const char *at = sql;
    bool blank = true, open = false;
    sql_lex_init(&lx, sql);
    while (sql_lex_next(&lx, &t)) {
        FUZZ_CHECK(t.start == at && t.len > 0, "tokens cover the text: gap at %zu",
                   (size_t)(at - sql));
        FUZZ_CHECK(!open, "only the last token is unterminated");
        check_token(&t);
        open = t.unterminated;
        at = t.start + t.len;
        blank = blank && (t.kind == SQL_TOK_SPACE || t.kind == SQL_TOK_LINE_COMMENT ||
                          t.kind == SQL_TOK_BLOCK_COMMENT || t.kind == SQL_TOK_END);
    }
    FUZZ_CHECK(*at == '\0', "the tokens end at the text's end");
    FUZZ_CHECK(sql_lex_is_blank(sql) == blank, "sql_lex_is_blank agrees with the tokens");
    free(sql);
    return 0;
}
