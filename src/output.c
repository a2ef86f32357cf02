/* output.c: masked printing. The secret list is process-wide on purpose: a password must be
 * masked in every line, whichever module prints it. */
#include "output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SECRETS 8

static char *secrets[MAX_SECRETS];
static int secret_count;
static bool quiet, verbose, stdout_is_sql;

void out_register_secret(const char *secret)
{
    /* A secret made only of '*' would match its own mask forever. */
    if (!secret || !secret[0] || strspn(secret, "*") == strlen(secret) || secret_count == MAX_SECRETS)
        return;
    for (int i = 0; i < secret_count; i++)
        if (strcmp(secrets[i], secret) == 0)
            return;
    char *copy = strdup(secret);
    if (copy)
        secrets[secret_count++] = copy;
}

void out_forget_secrets(void)
{
    for (int i = 0; i < secret_count; i++)
        free(secrets[i]);
    secret_count = 0;
}

void out_mask(char *text)
{
    for (int i = 0; i < secret_count; i++) {
        size_t n = strlen(secrets[i]);
        char *hit;
        /* "****" is never longer than a secret of 4+ bytes; shorter ones are padded out
         * with '*' so the replacement stays in place without reallocating. */
        while ((hit = strstr(text, secrets[i])) != NULL) {
            if (n >= 4) {
                memcpy(hit, "****", 4);
                memmove(hit + 4, hit + n, strlen(hit + n) + 1);
            } else {
                memset(hit, '*', n);
            }
        }
    }
}

void out_set_quiet(bool q) { quiet = q; }
void out_set_verbose(bool v) { verbose = v; }
bool out_verbose(void) { return verbose; }
void out_set_stdout_is_sql(bool sql) { stdout_is_sql = sql; }

static void vprint_masked(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    char stackbuf[4096];
    char *buf = stackbuf;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, copy);
    va_end(copy);
    if (n >= (int)sizeof stackbuf && (buf = malloc((size_t)n + 1)) != NULL)
        vsnprintf(buf, (size_t)n + 1, fmt, ap);
    else if (!buf)
        buf = stackbuf;
    out_mask(buf);
    fprintf(f, "%s%s\n", prefix, buf);
    if (buf != stackbuf)
        free(buf);
}

void out_print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint_masked(stdout, "", fmt, ap);
    va_end(ap);
}

void out_progress(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprint_masked(stdout_is_sql ? stderr : stdout, "", fmt, ap);
    va_end(ap);
    fflush(stdout_is_sql ? stderr : stdout);
}

void out_note(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprint_masked(stderr, "rbacmig: ", fmt, ap);
    va_end(ap);
}

void out_debug(const char *fmt, ...)
{
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprint_masked(stderr, "rbacmig: debug: ", fmt, ap);
    va_end(ap);
}

void out_sql(const char *text)
{
    size_t n = strlen(text);
    char *buf = malloc(n + 1);
    if (!buf)
        return;
    memcpy(buf, text, n + 1);
    out_mask(buf);
    fputs(buf, stdout);
    free(buf);
}

static void print_field(const char *label, const char *value)
{
    if (!value[0])
        return;
    /* Each line of a multi-line field is indented under its label. */
    const char *line = value;
    bool first = true;
    while (*line) {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        /* Lua indents traceback lines with a tab; two spaces keep the block aligned. */
        int tabs = 0;
        while (tabs < len && line[tabs] == '\t')
            tabs++;
        fprintf(stderr, "  %s%.*s\n", first ? label : "  ", len - tabs, line + tabs);
        first = false;
        line += len + (nl ? 1 : 0);
    }
}

/* The server's error position (a character count, 1-based) as a line and a character of
 * the statement, which is how a reader finds it in a migration's multi-line SQL. Characters,
 * not bytes: UTF-8 continuation bytes do not count. */
static void print_position(const char *statement, int position)
{
    if (position <= 0)
        return;
    int line = 1, column = 0, chars = 0;
    for (const unsigned char *p = (const unsigned char *)statement; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        if (++chars == position)
            break;
        if (*p == '\n') {
            line++;
            column = 0;
        } else {
            column++;
        }
    }
    if (chars < position) /* the statement was cut to fit, or is not the one the server saw */
        fprintf(stderr, "  POSITION: character %d of the statement\n", position);
    else
        fprintf(stderr, "  POSITION: line %d, character %d of the statement\n", line, column + 1);
}

void out_report_error(const rb_error *err)
{
    rb_error masked = *err;
    out_mask(masked.message);
    out_mask(masked.detail);
    out_mask(masked.hint);
    out_mask(masked.statement);
    out_mask(masked.traceback);
    fprintf(stderr, "rbacmig: error: %s\n", masked.message);
    if (masked.sqlstate[0])
        fprintf(stderr, "  SQLSTATE: %s\n", masked.sqlstate);
    print_field("DETAIL: ", masked.detail);
    print_field("HINT: ", masked.hint);
    print_field("STATEMENT: ", masked.statement);
    print_position(err->statement, err->position);
    print_field("", masked.traceback);
}
