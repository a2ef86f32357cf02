/* output.h: everything rbacmig prints goes through here, so that no registered secret
 * (a database password) can reach stdout, stderr or --sql output, and no text that merely
 * resembles one is changed in the --sql script.
 *
 * Progress lines go to stdout, or to stderr when stdout carries --sql output. Errors are
 * reported once, by main.c, with out_report_error. */
#ifndef RBACMIG_OUTPUT_H
#define RBACMIG_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "error.h"

/* The masking rule (README, "Configuration"). Two kinds of registered text, both copied:
 * - a credential: a text that can only be a login, such as the database URL exactly as
 *   given, ":password@" or "password=..."; replaced by `shown` (NULL or longer than the
 *   text: "****") wherever it appears, in diagnostics and in the --sql script alike;
 * - a secret: a password itself, decoded or as written; replaced by "****" (by as many '*'
 *   when shorter) in diagnostics only, and only where it stands as a whole token: not when
 *   a word byte touches it on a side where it begins or ends with one. So a password
 *   "postgres" is masked in `role "postgres"` but leaves `postgres_fdw` and the --sql script
 *   as they are. */
void out_register_secret(const char *secret);
void out_register_credential(const char *text, const char *shown);
/* A text known to hold no secret (a masked URL): printed as it is, even where a secret's
 * text is part of it. */
void out_register_shown(const char *text);
void out_forget_secrets(void);

/* Masks diagnostics (messages, notes, progress, Lua print): credentials and secrets, in
 * place (the result is never longer). */
void out_mask(char *text);
/* Masks --sql output: credentials only, in place. */
void out_mask_sql(char *text);
/* out_mask into a new string, where a credential may show as its longer masked form (a URL
 * with a 2-byte password as "...:****@..."). NULL when out of memory; caller frees. */
char *out_masked(const char *text);

void out_set_quiet(bool quiet);
void out_set_verbose(bool verbose);
bool out_verbose(void);
/* When stdout carries SQL (--sql), progress goes to stderr instead. */
void out_set_stdout_is_sql(bool sql);
/* Colour on stdout / stderr (cli.c decides: a terminal, no --no-color, no NO_COLOR). Only
 * the "error:" prefix and the step lines ("Running upgrade ...", "done in") are coloured,
 * never --sql output nor progress while stdout carries SQL. */
void out_set_colour(bool on_stdout, bool on_stderr);

/* A result line for the user (stdout). */
void out_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress (stdout, or stderr under --sql); silenced by -q. */
void out_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether progress lines reach a terminal (then a run of many steps counts them). */
bool out_progress_on_terminal(void);
/* A step line of a run of `steps` steps: as out_progress, prefixed "[step/steps] " on a
 * terminal when there are several (the colour stays on the text after it). */
void out_progress_step(int step, int steps, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A note on stderr ("rbacmig: ..."); silenced by -q. */
void out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A debug line on stderr, only with -v. */
void out_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A JSON document (--format json) on stdout: jansson's text with sorted keys and a two-space
 * indent, so equal values print the same bytes, masked as out_print is. Takes the reference
 * to value (NULL: out of memory). */
struct json_t;
int out_json(struct json_t *value, rb_error *err);
/* Raw text to stdout (for --sql output), with credentials masked (out_mask_sql). */
void out_sql(const char *text);

/* s as one printable line: text from a file or a database (a message, a label) must not
 * forge output lines or reach the terminal as an escape sequence. Control characters become
 * \n, \r, \t or \xHH; the rest is kept. NULL when out of memory; caller frees. */
char *out_printable(const char *s);

/* `rbacmig: error: message`, then indented detail lines. */
void out_report_error(const rb_error *err);

#endif
