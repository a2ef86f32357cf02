/* error.h: the error value every fallible function fills and returns up to the command layer.
 *
 * Functions return 0 on success or -1 after filling an rb_error; only the command layer
 * prints it (cli_main, through output.c's out_report_error). An error carries its kind as a
 * value, set where the condition is known (a driver that sees a missing table, the lock wait
 * that timed out, the signal record): control flow tests kinds, never message text or a
 * SQLSTATE, and the exit status follows from the kind in one place, rb_error_exit_code.
 * Fixed-size buffers keep the value free of ownership questions: it can be copied, dropped,
 * or overwritten. */
#ifndef RBACMIG_ERROR_H
#define RBACMIG_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* What went wrong, as far as anything above the failing call needs to know (libgit2's
 * GIT_ENOTFOUND and friends). Every kind but USAGE, DENIED and INTERRUPTED exits 1. */
typedef enum rb_error_kind {
    RB_ERR_NONE = 0,      /* no error set */
    RB_ERR_FAILURE,       /* a migration, database, file or configuration failure */
    RB_ERR_USAGE,         /* unknown command, option or target; bad arguments */
    RB_ERR_DENIED,        /* `rbacmig can` answered "denied" */
    RB_ERR_NOT_FOUND,     /* the table named does not exist (a fresh database's version table) */
    RB_ERR_LOCK_TIMEOUT,  /* waited for a lock past the timeout */
    /* SQLite: a migration rebuilds a table others reference and must run again with foreign
     * keys off. Only the rebuild engine raises it, through a channel no migration can forge
     * (lua_host.c: a metatable only rbacmig's own modules are given). */
    RB_ERR_NEEDS_FK_OFF,
    RB_ERR_INTERRUPTED,   /* stopped by a signal; `signo` says which */
} rb_error_kind;

typedef struct rb_error {
    rb_error_kind kind;     /* RB_ERR_NONE while no error is set */
    int signo;              /* RB_ERR_INTERRUPTED: SIGINT or SIGTERM */
    char message[2048];     /* the one line: what failed, the subject quoted */
    char sqlstate[8];       /* PostgreSQL SQLSTATE, or "": shown, never tested */
    char detail[1024];      /* server DETAIL */
    char hint[1024];        /* server HINT, or our advice */
    char statement[2048];   /* the SQL that failed, if any */
    int position;           /* server's error position: a 1-based character of statement, or 0 */
    char traceback[4096];   /* Lua traceback, if any */
} rb_error;

void rb_error_init(rb_error *err);

/* Sets kind and message (printf-style) and clears the other fields. Returns -1, so
 * `return rb_errorf(err, RB_ERR_FAILURE, "cannot open '%s'", path);` reads naturally. */
int rb_errorf(rb_error *err, rb_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rb_verrorf(rb_error *err, rb_error_kind kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* rb_errorf for a stop by signal signo (RB_ERR_INTERRUPTED). */
int rb_error_interrupted(rb_error *err, int signo, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to the message (keeps the kind and the other fields; an error without
 * a kind becomes a failure). Returns -1. */
int rb_error_prefix(rb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The process exit status for err (README.md, "Exit codes"): 0 for no error, 2 for usage,
 * 3 for denied, 128 + the signal for an interrupt, 1 for everything else. The one place a
 * kind becomes a number. */
int rb_error_exit_code(const rb_error *err);

/* Bounded copy that always terminates dst. */
void rb_strlcpy(char *dst, const char *src, size_t size);

#endif
