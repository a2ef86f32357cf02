/* sql_lex.h: the one SQL scanner. It splits statement text into the pieces whose insides
 * must not be read as SQL (quoted strings, quoted identifiers, dollar-quoted bodies,
 * comments) and the rest, so that callers can find parameters ($N) and statement ends (;)
 * only where they mean something. It does not parse: words, numbers and operators come
 * back as runs of SQL_TOK_OTHER.
 *
 * Dialect notes, as PostgreSQL and SQLite read them: '' and "" inside quotes are the
 * quote character itself (the scanner just sees two quoted pieces side by side, which is
 * the same text); $tag$...$tag$ is PostgreSQL's; block comments do not nest. An
 * unterminated quote or comment runs to the end of the text (flagged in the token).
 * Depends on nothing. */
#ifndef RBACMIG_SQL_LEX_H
#define RBACMIG_SQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sql_tok_kind {
    SQL_TOK_OTHER,         /* anything else: words, numbers, operators, a lone $ */
    SQL_TOK_SPACE,         /* blanks, tabs, newlines */
    SQL_TOK_STRING,        /* '...' */
    SQL_TOK_IDENT,         /* "..." */
    SQL_TOK_DOLLAR,        /* $$...$$ or $tag$...$tag$ */
    SQL_TOK_LINE_COMMENT,  /* -- up to (not including) the newline */
    SQL_TOK_BLOCK_COMMENT, /* slash-star ... star-slash */
    SQL_TOK_PARAM,         /* $1, $2, ...: number holds N */
    SQL_TOK_END,           /* ; */
} sql_tok_kind;

typedef struct sql_token {
    sql_tok_kind kind;
    const char *start;  /* into the scanned text */
    size_t len;
    long number;        /* SQL_TOK_PARAM: N (saturates at LONG_MAX) */
    bool unterminated;  /* a quote or comment that the text ends inside */
} sql_token;

typedef struct sql_lexer {
    const char *p;
} sql_lexer;

void sql_lex_init(sql_lexer *lx, const char *sql);

/* The next token into *t; false at the end of the text. */
bool sql_lex_next(sql_lexer *lx, sql_token *t);

/* True when text holds nothing but blanks, comments and statement ends. */
bool sql_lex_is_blank(const char *sql);

#endif
