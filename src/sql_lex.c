/* sql_lex.c: the SQL scanner (see sql_lex.h). */
#include "sql_lex.h"

#include <limits.h>
#include <string.h>

void sql_lex_init(sql_lexer *lx, const char *sql)
{
    lx->p = sql;
}

static bool is_tag_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* Length of a dollar-quote opener at p ("$$" or "$tag$"), or 0. */
static size_t dollar_tag_len(const char *p)
{
    size_t i = 1;
    while (is_tag_char(p[i], i == 1))
        i++;
    return p[i] == '$' ? i + 1 : 0;
}

/* From an opening quote at p to its closing one; *unterminated when there is none. */
static size_t quoted_len(const char *p, bool *unterminated)
{
    const char *close = strchr(p + 1, *p);
    *unterminated = !close;
    return close ? (size_t)(close + 1 - p) : strlen(p);
}

static size_t dollar_len(const char *p, size_t tag, bool *unterminated)
{
    for (const char *q = p + tag; *q; q++)
        if (*q == '$' && strncmp(q, p, tag) == 0)
            return (size_t)(q + tag - p);
    *unterminated = true;
    return strlen(p);
}

/* Where a run of SQL_TOK_OTHER stops: at anything another token may start with. */
static size_t other_len(const char *p)
{
    size_t n = 1;
    while (p[n] && !strchr("'\"-/$; \t\n\r\f\v", p[n]))
        n++;
    return n;
}

bool sql_lex_next(sql_lexer *lx, sql_token *t)
{
    const char *p = lx->p;
    if (!*p)
        return false;
    *t = (sql_token){.kind = SQL_TOK_OTHER, .start = p};
    size_t n = 1;
    if (strchr(" \t\n\r\f\v", *p)) {
        t->kind = SQL_TOK_SPACE;
        n = strspn(p, " \t\n\r\f\v");
    } else if (*p == '\'' || *p == '"') {
        t->kind = *p == '\'' ? SQL_TOK_STRING : SQL_TOK_IDENT;
        n = quoted_len(p, &t->unterminated);
    } else if (p[0] == '-' && p[1] == '-') {
        t->kind = SQL_TOK_LINE_COMMENT;
        n = strcspn(p, "\n");
    } else if (p[0] == '/' && p[1] == '*') {
        const char *end = strstr(p + 2, "*/");
        t->kind = SQL_TOK_BLOCK_COMMENT;
        t->unterminated = !end;
        n = end ? (size_t)(end + 2 - p) : strlen(p);
    } else if (*p == '$' && dollar_tag_len(p) > 0) {
        t->kind = SQL_TOK_DOLLAR;
        n = dollar_len(p, dollar_tag_len(p), &t->unterminated);
    } else if (*p == '$' && p[1] >= '1' && p[1] <= '9') {
        t->kind = SQL_TOK_PARAM;
        n = 1 + strspn(p + 1, "0123456789");
        for (size_t i = 1; i < n; i++)
            t->number = t->number > (LONG_MAX - 9) / 10 ? LONG_MAX : t->number * 10 + (p[i] - '0');
    } else if (*p == ';') {
        t->kind = SQL_TOK_END;
    } else if (*p != '$' && *p != '-' && *p != '/') {
        n = other_len(p);
    }
    t->len = n;
    lx->p = p + n;
    return true;
}

bool sql_lex_is_blank(const char *sql)
{
    sql_lexer lx;
    sql_token t;
    sql_lex_init(&lx, sql);
    while (sql_lex_next(&lx, &t))
        if (t.kind == SQL_TOK_OTHER || t.kind == SQL_TOK_STRING || t.kind == SQL_TOK_IDENT ||
            t.kind == SQL_TOK_DOLLAR || t.kind == SQL_TOK_PARAM)
            return false;
    return true;
}
