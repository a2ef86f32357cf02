/* error.h: the error value every fallible function fills and returns up to main.c.
 *
 * Functions return 0 on success or -1 after filling an rb_error; only the command layer
 * prints it (cli_main, through output.c's out_report_error) and turns `code` into the exit
 * status. Fixed-size buffers
 * keep the value free of ownership questions: it can be copied, dropped, or overwritten. */
#ifndef RBACMIG_ERROR_H
#define RBACMIG_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Exit codes, documented in README.md ("Exit codes"). */
enum {
    RB_EXIT_OK = 0,
    RB_EXIT_FAILURE = 1,  /* a migration, database, file or configuration failure */
    RB_EXIT_USAGE = 2,    /* unknown command, option or target; bad arguments */
    RB_EXIT_DENIED = 3,   /* `rbacmig can` answered "denied" */
    RB_EXIT_DIFFERENCES = 4, /* `rbacmig diff` found differences */
    RB_EXIT_WEAKENING = 5,   /* ... and at least one of them weakens security */
    /* Interrupted by that signal. Set from the record the signal handler left (runner.c,
     * lua_host.c), never from an error's text: a migration may raise "interrupted" itself. */
    RB_EXIT_SIGINT = 130,
    RB_EXIT_SIGTERM = 143,
};

typedef struct rb_error {
    int code;               /* one of RB_EXIT_*; 0 while no error is set */
    char message[2048];     /* the one line: what failed, the subject quoted */
    char sqlstate[8];       /* PostgreSQL SQLSTATE, or "" */
    char detail[1024];      /* server DETAIL */
    char hint[1024];        /* server HINT, or our advice */
    char statement[2048];   /* the SQL that failed, if any */
    int position;           /* server's error position: a 1-based character of statement, or 0 */
    char traceback[4096];   /* Lua traceback, if any */
} rb_error;

void rb_error_init(rb_error *err);

/* Sets code and message (printf-style) and clears the other fields. Returns -1, so
 * `return rb_errorf(err, RB_EXIT_FAILURE, "cannot open '%s'", path);` reads naturally. */
int rb_errorf(rb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rb_verrorf(rb_error *err, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prepends "prefix: " to the message (keeps the other fields). Returns -1. */
int rb_error_prefix(rb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Bounded copy that always terminates dst. */
void rb_strlcpy(char *dst, const char *src, size_t size);

#endif
