/* output.h: everything rbacmig prints goes through here, so that no registered secret
 * (a database password) can reach stdout, stderr or --sql output.
 *
 * Progress lines go to stdout, or to stderr when stdout carries --sql output. Errors are
 * reported once, by main.c, with out_report_error. */
#ifndef RBACMIG_OUTPUT_H
#define RBACMIG_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

/* Remember a string that must never be printed (it is replaced by "****"). Copied. */
void out_register_secret(const char *secret);
void out_forget_secrets(void);

/* Replaces every registered secret in `text` (in place; the result is never longer). */
void out_mask(char *text);

void out_set_quiet(bool quiet);
void out_set_verbose(bool verbose);
bool out_verbose(void);
/* When stdout carries SQL (--sql), progress goes to stderr instead. */
void out_set_stdout_is_sql(bool sql);

/* A result line for the user (stdout). */
void out_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress (stdout, or stderr under --sql); silenced by -q. */
void out_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A note on stderr ("rbacmig: ..."); silenced by -q. */
void out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A debug line on stderr, only with -v. */
void out_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Raw text to stdout (for --sql output), masked. */
void out_sql(const char *text);

/* `rbacmig: error: message`, then indented detail lines. */
void out_report_error(const rb_error *err);

#endif
