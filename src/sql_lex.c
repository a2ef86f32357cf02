/* sql_lex.c: the SQL scanner (see sql_lex.h). */
#include "sql_lex.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
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

/* ---- a script, statement by statement ------------------------------------------------ */

void sql_script_init(sql_script *sc, const char *sql)
{
    sql_lex_init(&sc->lx, sql);
    sc->line = 1;
    sc->number = 0;
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

/* The next word of a run of SQL_TOK_OTHER from *i on ("(SELECT", "x=1" hold one and two),
 * upper-cased into word (cut at WORD_MAX - 1 bytes, which no keyword reaches); false when
 * none is left. */
enum { WORD_MAX = 20 };
static bool next_word(const sql_token *t, size_t *i, char word[WORD_MAX])
{
    while (*i < t->len && !is_word_char(t->start[*i]))
        (*i)++;
    if (*i >= t->len)
        return false;
    size_t k = 0;
    for (; *i < t->len && is_word_char(t->start[*i]); (*i)++)
        if (k + 1 < WORD_MAX)
            word[k++] = (char)toupper((unsigned char)t->start[*i]);
    word[k] = '\0';
    return true;
}

/* What a statement is, from its first words (w, n of them) and whether its words hold FROM
 * STDIN or TO STDOUT. */
static sql_stmt_kind classify(char w[][WORD_MAX], int n, bool stdin_, bool stdout_,
                              char *keyword, size_t size)
{
    const char *first = n > 0 ? w[0] : "", *second = n > 1 ? w[1] : "";
    if (strcmp(first, "COPY") == 0 && (stdin_ || stdout_))
        return stdin_ ? SQL_STMT_COPY_STDIN : SQL_STMT_COPY_STDOUT;
    bool tx = strcmp(first, "BEGIN") == 0 || strcmp(first, "COMMIT") == 0 ||
              strcmp(first, "END") == 0 || strcmp(first, "ABORT") == 0 ||
              (strcmp(first, "START") == 0 && strcmp(second, "TRANSACTION") == 0) ||
              (strcmp(first, "PREPARE") == 0 && strcmp(second, "TRANSACTION") == 0);
    if (strcmp(first, "ROLLBACK") == 0) {
        /* ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name stays in the transaction. */
        int i = 1;
        if (i < n && (strcmp(w[i], "WORK") == 0 || strcmp(w[i], "TRANSACTION") == 0))
            i++;
        tx = !(i < n && strcmp(w[i], "TO") == 0);
    }
    if (!tx)
        return SQL_STMT_OTHER;
    bool two = strcmp(first, "START") == 0 || strcmp(first, "PREPARE") == 0;
    /* The longest is "PREPARE TRANSACTION"; the precisions say so to the compiler. */
    snprintf(keyword, size, "%.8s%s%.11s", first, two ? " " : "", two ? second : "");
    return SQL_STMT_TRANSACTION;
}

/* Whether a statement starting with these words may hold a BEGIN ... END body: CREATE [OR
 * REPLACE] FUNCTION | PROCEDURE (PostgreSQL's BEGIN ATOMIC, as psql reads it) and CREATE
 * [TEMP | TEMPORARY] TRIGGER (SQLite's, as sqlite3_complete() reads it); a column named
 * "begin" elsewhere opens nothing. */
static bool has_body(char w[][WORD_MAX], int n)
{
    if (n < 2 || strcmp(w[0], "CREATE") != 0)
        return false;
    int i = 1;
    if (n > 2 && strcmp(w[1], "OR") == 0 && strcmp(w[2], "REPLACE") == 0)
        i = 3;
    else if (strcmp(w[1], "TEMP") == 0 || strcmp(w[1], "TEMPORARY") == 0)
        i = 2;
    return i < n && (strcmp(w[i], "FUNCTION") == 0 || strcmp(w[i], "PROCEDURE") == 0 ||
                     strcmp(w[i], "TRIGGER") == 0);
}

bool sql_script_next(sql_script *sc, sql_statement *st)
{
    enum { FIRST_WORDS = 4 };
    char first[FIRST_WORDS][WORD_MAX], prev[WORD_MAX] = "";
    int nfirst = 0, depth = 0;
    bool create = false, stdin_ = false, stdout_ = false;
    sql_token t;
    *st = (sql_statement){0};
    while (sql_lex_next(&sc->lx, &t)) {
        bool noise = t.kind == SQL_TOK_SPACE || t.kind == SQL_TOK_LINE_COMMENT ||
                     t.kind == SQL_TOK_BLOCK_COMMENT;
        if (!st->start && !noise && t.kind != SQL_TOK_END) {
            st->start = t.start;
            st->line = sc->line;
        }
        for (size_t i = 0; i < t.len; i++)
            sc->line += t.start[i] == '\n';
        if (t.kind == SQL_TOK_END && st->start && depth == 0) {
            st->end = t.start + 1;
            break;
        }
        if (t.kind != SQL_TOK_OTHER || !st->start)
            continue;
        char w[WORD_MAX];
        for (size_t i = 0; next_word(&t, &i, w);) {
            if (nfirst < FIRST_WORDS)
                memcpy(first[nfirst++], w, WORD_MAX);
            create = create || has_body(first, nfirst);
            /* A body's BEGIN ... END (and CASE ... END inside it) holds ';'. */
            if (create && (strcmp(w, "BEGIN") == 0 || (depth > 0 && strcmp(w, "CASE") == 0)))
                depth++;
            else if (create && strcmp(w, "END") == 0 && depth > 0)
                depth--;
            stdin_ = stdin_ || (strcmp(prev, "FROM") == 0 && strcmp(w, "STDIN") == 0);
            stdout_ = stdout_ || (strcmp(prev, "TO") == 0 && strcmp(w, "STDOUT") == 0);
            memcpy(prev, w, WORD_MAX);
        }
    }
    if (!st->start)
        return false;
    if (!st->end)
        st->end = sc->lx.p;
    st->number = ++sc->number;
    st->kind = classify(first, nfirst, stdin_, stdout_, st->keyword, sizeof st->keyword);
    return true;
}
