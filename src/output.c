/* output.c: masked printing. The secret list is process-wide on purpose: a password must be
 * masked in every line, whichever module prints it. */
#include "output.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One registered text. A credential is a text that can only mean a login (the URL as given,
 * ":password@", "password=..."): it is masked everywhere, the --sql script included. A bare
 * secret (the password itself) is masked only in diagnostics, and only where it stands as a
 * whole token, so that a password "postgres" or "at" leaves "postgres_fdw" and "created_at"
 * alone while an error quoting the password still hides it. */
typedef struct secret {
    char *text;
    char *shown;     /* what replaces it */
    char *fit;       /* the same, never longer than text: for masking in place */
    size_t len;
    bool credential;
} secret;

static secret *secrets;   /* longest first, so a URL is replaced before its parts */
static int secret_count, secret_cap;
static bool quiet, verbose, stdout_is_sql, colour_stdout, colour_stderr;

/* "****", or as many '*' as the text has bytes when it is shorter. */
static char *stars_for(size_t len)
{
    size_t n = len < 4 ? len : 4;
    char *s = malloc(n + 1);
    if (s) {
        memset(s, '*', n);
        s[n] = '\0';
    }
    return s;
}

static void add_secret(const char *text, const char *shown, bool credential)
{
    /* A text made only of '*' would match its own mask. */
    if (!text || !text[0] || strspn(text, "*") == strlen(text))
        return;
    size_t len = strlen(text);
    for (int i = 0; i < secret_count; i++)
        if (strcmp(secrets[i].text, text) == 0) {
            secrets[i].credential |= credential;
            return;
        }
    if (secret_count == secret_cap) {
        int cap = secret_cap ? secret_cap * 2 : 16;
        secret *grown = realloc(secrets, sizeof *grown * (size_t)cap);
        if (!grown)
            return;
        secrets = grown;
        secret_cap = cap;
    }
    secret e = {.text = strdup(text), .len = len, .credential = credential};
    e.shown = shown ? strdup(shown) : stars_for(len);
    e.fit = shown && strlen(shown) <= len ? strdup(shown) : stars_for(len);
    if (!e.text || !e.shown || !e.fit) {
        free(e.text);
        free(e.shown);
        free(e.fit);
        return;
    }
    int at = secret_count;
    while (at > 0 && secrets[at - 1].len < len)
        at--;
    memmove(&secrets[at + 1], &secrets[at], sizeof *secrets * (size_t)(secret_count - at));
    secrets[at] = e;
    secret_count++;
}

void out_register_secret(const char *secret_text)
{
    add_secret(secret_text, NULL, false);
}

void out_register_credential(const char *text, const char *shown)
{
    add_secret(text, shown, true);
}

void out_register_shown(const char *text)
{
    add_secret(text, text, true);
}

void out_forget_secrets(void)
{
    for (int i = 0; i < secret_count; i++) {
        free(secrets[i].text);
        free(secrets[i].shown);
        free(secrets[i].fit);
    }
    free(secrets);
    secrets = NULL;
    secret_count = secret_cap = 0;
}

/* A byte of an identifier or a word: bytes of UTF-8 sequences count, so a password is never
 * cut out of the middle of a word in another script. */
static bool is_word_byte(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* True when text[at, at+len) is not glued to a word on a side where the secret itself begins
 * or ends with a word byte. */
static bool stands_alone(const char *text, size_t at, const secret *e)
{
    const unsigned char *t = (const unsigned char *)text;
    const unsigned char *s = (const unsigned char *)e->text;
    if (at > 0 && is_word_byte(t[at - 1]) && is_word_byte(s[0]))
        return false;
    unsigned char next = t[at + e->len];
    return !(next && is_word_byte(next) && is_word_byte(s[e->len - 1]));
}

/* One pass left to right, longest match first; what a replacement wrote is never scanned
 * again. Writes to out (at least strlen(text) + 1 bytes when !grow); with grow, returns a
 * new string (NULL when out of memory). */
static char *mask_text(const char *text, char *out, bool bare_too, bool grow)
{
    size_t cap = strlen(text) + 1, w = 0;
    if (grow && !(out = malloc(cap)))
        return NULL;
    for (size_t r = 0; text[r];) {
        const secret *hit = NULL;
        for (int i = 0; i < secret_count && !hit; i++) {
            const secret *e = &secrets[i];
            if ((e->credential || bare_too) && text[r] == e->text[0] &&
                strncmp(text + r, e->text, e->len) == 0 &&
                (e->credential || stands_alone(text, r, e)))
                hit = e;
        }
        const char *put = hit ? (grow ? hit->shown : hit->fit) : text + r;
        size_t n = hit ? strlen(put) : 1;
        if (grow && w + n + 1 > cap) {
            cap = (w + n + 1) * 2;
            char *bigger = realloc(out, cap);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        memmove(out + w, put, n);
        w += n;
        r += hit ? hit->len : 1;
    }
    out[w] = '\0';
    return out;
}

void out_mask(char *text)
{
    mask_text(text, text, true, false); /* in place: every `fit` is at most as long */
}

void out_mask_sql(char *text)
{
    mask_text(text, text, false, false);
}

char *out_masked(const char *text)
{
    return mask_text(text, NULL, true, true);
}

static char *out_masked_sql(const char *text)
{
    return mask_text(text, NULL, false, true);
}

void out_set_quiet(bool q) { quiet = q; }
void out_set_verbose(bool v) { verbose = v; }
bool out_verbose(void) { return verbose; }
void out_set_stdout_is_sql(bool sql) { stdout_is_sql = sql; }
void out_set_colour(bool on_stdout, bool on_stderr)
{
    colour_stdout = on_stdout;
    colour_stderr = on_stderr;
}

/* A step line's colour (bold "Running ...", green "done in"), or NULL: none elsewhere. */
static const char *step_colour(const char *fmt)
{
    if (stdout_is_sql || !colour_stdout)
        return NULL;
    if (strncmp(fmt, "Running ", 8) == 0)
        return "\033[1m";
    if (strncmp(fmt, "  done in ", 10) == 0)
        return "\033[32m";
    return NULL;
}

static void vprint_masked(FILE *f, const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
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
    char *masked = out_masked(buf);
    fprintf(f, "%s%s\n", prefix, masked ? masked : "(out of memory)");
    free(masked);
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

static void vprogress(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vprogress(const char *prefix, const char *fmt, va_list ap)
{
    const char *colour = step_colour(fmt);
    FILE *f = stdout_is_sql ? stderr : stdout;
    fputs(prefix, f);
    if (colour)
        fputs(colour, stdout);
    vprint_masked(f, "", fmt, ap);
    if (colour) /* after the newline: a line cut short by a signal keeps no colour */
        fputs("\033[0m", stdout);
    fflush(f);
}

void out_progress(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprogress("", fmt, ap);
    va_end(ap);
}

bool out_progress_on_terminal(void)
{
    return isatty(fileno(stdout_is_sql ? stderr : stdout)) == 1;
}

void out_progress_step(int step, int steps, const char *fmt, ...)
{
    if (quiet)
        return;
    char prefix[48] = "";
    if (steps > 1 && out_progress_on_terminal())
        snprintf(prefix, sizeof prefix, "[%d/%d] ", step, steps);
    va_list ap;
    va_start(ap, fmt);
    vprogress(prefix, fmt, ap);
    va_end(ap);
}

int out_json(json_t *value, rb_error *err)
{
    if (!value)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(value);
    if (!text)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    out_print("%s", text);
    free(text);
    return 0;
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
    char *masked = out_masked_sql(text);
    if (masked)
        fputs(masked, stdout);
    free(masked);
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

char *out_printable(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += ((unsigned char)*p < 0x20 || *p == 0x7f) ? 4 : 1;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *o++ = '\\';
            *o++ = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            o += sprintf(o, "\\x%02x", *p);
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

void out_report_error(const rb_error *err)
{
    char *message = out_masked(err->message), *detail = out_masked(err->detail),
         *hint = out_masked(err->hint), *statement = out_masked(err->statement),
         *traceback = out_masked(err->traceback);
    fprintf(stderr, "rbacmig: %serror:%s %s\n", colour_stderr ? "\033[1;31m" : "",
            colour_stderr ? "\033[0m" : "", message ? message : "(out of memory)");
    if (err->sqlstate[0])
        fprintf(stderr, "  SQLSTATE: %s\n", err->sqlstate);
    print_field("DETAIL: ", detail ? detail : "");
    print_field("HINT: ", hint ? hint : "");
    print_field("STATEMENT: ", statement ? statement : "");
    print_position(err->statement, err->position);
    print_field("", traceback ? traceback : "");
    free(message);
    free(detail);
    free(hint);
    free(statement);
    free(traceback);
}
