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

/* ---- a script, statement by statement ------------------------------------------------
 * The statements of a script as PostgreSQL and sqlite3 split it: at ';' outside quotes,
 * dollar quotes and comments, and not inside the BEGIN ... END of a CREATE statement (a
 * SQLite trigger's body, a PostgreSQL BEGIN ATOMIC function body; CASE ... END nests there),
 * as psql and sqlite3_complete() do. Empty statements are not counted (PostgreSQL gives them
 * no result either). Each statement is also classified by its leading keywords, for what a
 * migration's script must not hold (lua_db.c refuses it before the script runs). */

typedef enum sql_stmt_kind {
    SQL_STMT_OTHER,
    /* Ends or opens a transaction: BEGIN, START TRANSACTION, COMMIT, END, ABORT, ROLLBACK
     * (not ROLLBACK TO a savepoint), PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED. */
    SQL_STMT_TRANSACTION,
    SQL_STMT_COPY_STDIN,  /* COPY ... FROM STDIN: its rows would have to follow in the script */
    SQL_STMT_COPY_STDOUT, /* COPY ... TO STDOUT */
} sql_stmt_kind;

typedef struct sql_statement {
    const char *start; /* its first token (past blanks and comments) */
    const char *end;   /* past its ';', or the end of the text */
    int number;        /* from 1 */
    int line;          /* the line it starts on, from 1 */
    sql_stmt_kind kind;
    char keyword[24];  /* SQL_STMT_TRANSACTION: "COMMIT", "START TRANSACTION", ... upper case */
} sql_statement;

typedef struct sql_script {
    sql_lexer lx;
    int line;   /* the line lx is on */
    int number; /* statements returned so far */
} sql_script;

void sql_script_init(sql_script *sc, const char *sql);
/* The next statement into *st; false when only blanks and comments are left. */
bool sql_script_next(sql_script *sc, sql_statement *st);

#endif
