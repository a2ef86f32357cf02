/* fuzz_dotenv.c: .env parsing (dotenv_lookup) and database URL handling (config_mask_url,
 * config_url_dialect, config_sqlite_path, secret registration and out_mask).
 *
 * The input is written to a scratch .env file and looked up for DATABASE_URL and
 * PGPASSWORD; the input as a string (up to its first NUL), and any DATABASE_URL the file
 * yields, are then treated as database URLs. Beyond "no sanitizer report":
 *   - a value found survives a round trip through a double-quoted, a single-quoted and an
 *     unquoted line, and a later assignment overrides it;
 *   - masking leaves sqlite: URLs and URLs without a password alone;
 *   - where the password can be told simply, it must not survive masking. Three sound
 *     cases: a postgres:// URI's user:password@ as libpq reads it; a key=value string
 *     libpq parses (password spans found by a copy of libpq's lexer, cross-checked with
 *     PQconninfoParse's decoded value); a plain "key=value word ..." string, valid or not
 *     (a connection string with a typo still carries the password the user typed);
 *   - config_url_dialect's error message never shows those passwords, and after it has
 *     registered a URI's secrets, out_mask hides the password as written.
 *
 * Depends on config.h and output.h, and libpq for the reference parse. */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"
#include "output.h"

static char *env_path, *roundtrip_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    env_path = fuzz_scratch_path(".env");
    roundtrip_path = fuzz_scratch_path("roundtrip.env");
    return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Occurrences of a non-empty needle, overlapping ones included. */
static int count_occurrences(const char *hay, const char *needle)
{
    int count = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        count++;
    return count;
}

/* ---- .env ------------------------------------------------------------------------- */

static char *lookup(const char *path, const char *key, int *rc)
{
    char *value = (char *)"untouched";
    rb_error err;
    rb_error_init(&err);
    *rc = dotenv_lookup(path, key, &value, &err);
    if (*rc != 0) {
        FUZZ_CHECK(*rc == -1 && value == NULL, "failed lookup of %s left a value", key);
        FUZZ_CHECK(err.code == RB_EXIT_FAILURE && starts_with(err.message, path),
                   "error does not name the file: %s", err.message);
    } else {
        FUZZ_CHECK(err.code == 0, "lookup of %s succeeded with an error set", key);
    }
    return value;
}

/* Writes `KEY=<text>` (text already encoded) and checks the lookup gives value back. */
static void expect_roundtrip(const char *key, const char *encoded, const char *value,
                             const char *how)
{
    size_t n = strlen(key) + strlen(encoded) + 3;
    char *line = malloc(n);
    FUZZ_CHECK(line != NULL, "out of memory");
    snprintf(line, n, "%s=%s\n", key, encoded);
    fuzz_write_file(roundtrip_path, (const uint8_t *)line, strlen(line));
    int rc;
    char *back = lookup(roundtrip_path, key, &rc);
    FUZZ_CHECK(rc == 0 && back && strcmp(back, value) == 0,
               "%s round trip of '%s' (written %s) gave rc %d, '%s'", how, value, line, rc,
               back ? back : "(none)");
    free(back);
    free(line);
}

static void check_roundtrips(const char *key, const char *value)
{
    size_t n = strlen(value);
    /* Double quotes take \n, \t, \" and \\; every other byte may stand as it is. */
    char *dq = malloc(2 * n + 3), *q = dq;
    FUZZ_CHECK(dq != NULL, "out of memory");
    *q++ = '"';
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *q++ = '\\';
            *q++ = *p;
        } else if (*p == '\n') {
            *q++ = '\\';
            *q++ = 'n';
        } else {
            *q++ = *p;
        }
    }
    *q++ = '"';
    *q = '\0';
    expect_roundtrip(key, dq, value, "double-quoted");
    free(dq);

    /* Single quotes take everything but a quote and a newline, literally. */
    if (!strchr(value, '\'') && !strchr(value, '\n')) {
        size_t len = n + 3;
        char *sq = malloc(len);
        FUZZ_CHECK(sq != NULL, "out of memory");
        snprintf(sq, len, "'%s'", value);
        expect_roundtrip(key, sq, value, "single-quoted");
        free(sq);
    }

    /* Unquoted: no leading blank or quote, no trailing space, no " #" comment. */
    bool plain = n > 0 && !strchr(value, '\n') && value[0] != ' ' && value[0] != '\t' &&
                 value[0] != '"' && value[0] != '\'' && !isspace((unsigned char)value[n - 1]);
    for (size_t i = 1; plain && i < n; i++)
        if (value[i] == '#' && (value[i - 1] == ' ' || value[i - 1] == '\t'))
            plain = false;
    if (plain)
        expect_roundtrip(key, value, value, "unquoted");
}

/* A later assignment wins: appending one to a file that parses must override. */
static void check_override(const uint8_t *data, size_t size, const char *key)
{
    static const char extra[] = "\n%s=override-value\n";
    size_t n = size + sizeof extra + strlen(key);
    uint8_t *buf = malloc(n);
    FUZZ_CHECK(buf != NULL, "out of memory");
    if (size)
        memcpy(buf, data, size);
    int tail = snprintf((char *)buf + size, n - size, extra, key);
    fuzz_write_file(roundtrip_path, buf, size + (size_t)tail);
    int rc;
    char *v = lookup(roundtrip_path, key, &rc);
    FUZZ_CHECK(rc == 0 && v && strcmp(v, "override-value") == 0,
               "appended %s=override-value gave rc %d, '%s'", key, rc, v ? v : "(none)");
    free(v);
    free(buf);
}

static void check_dotenv(const uint8_t *data, size_t size, const char *key, char **found)
{
    int rc;
    char *value = lookup(env_path, key, &rc);
    *found = NULL;
    if (rc != 0)
        return;
    if (value) {
        /* A value comes from its file: the key is in there, the value no longer. */
        FUZZ_CHECK(memmem(data, size, key, strlen(key)) != NULL, "%s found but not in file",
                   key);
        FUZZ_CHECK(strlen(value) <= size, "value longer than the file");
        check_roundtrips(key, value);
    }
    check_override(data, size, key);
    *found = value;
}

/* ---- URL oracles ------------------------------------------------------------------ */

/* The password of postgres[ql]://USER:PASSWORD@... as libpq reads the URI: the userinfo
 * ends at the first '@' before any '/', and the user at its first ':'. Sets *pw_start and
 * *at (the '@') and returns true when there is a password worth checking: non-empty and
 * free of '*' (so "****" cannot be mistaken for it). */
static bool uri_password(const char *s, const char **pw_start, const char **at)
{
    const char *auth;
    if (starts_with(s, "postgresql://"))
        auth = s + strlen("postgresql://");
    else if (starts_with(s, "postgres://"))
        auth = s + strlen("postgres://");
    else
        return false;
    const char *p = auth;
    while (*p && *p != '@' && *p != '/')
        p++;
    if (*p != '@')
        return false;
    const char *colon = memchr(auth, ':', (size_t)(p - auth));
    if (!colon || p == colon + 1 || memchr(colon + 1, '*', (size_t)(p - colon - 1)))
        return false;
    *pw_start = colon + 1;
    *at = p;
    return true;
}

/* A span of the input to be replaced by "****" in the expected masking. */
typedef struct span {
    size_t start, end;
} span;
#define MAX_SPANS 64

static bool is_password_key(const char *s, size_t start, size_t end)
{
    size_t n = end - start;
    return (n == 8 && memcmp(s + start, "password", 8) == 0) ||
           (n == 11 && memcmp(s + start, "sslpassword", 11) == 0);
}

/* libpq's conninfo_parse lexer (fe-connect.c), keeping where each value was written and
 * what it decodes to. Fills the spans of non-empty password values and the decoded value
 * of the last "password". False when libpq would reject the string (or it has more
 * password values than spans). */
static bool pq_lex(const char *s, span *spans, int *nspans, char *last_pw, size_t pw_size)
{
    size_t i = 0;
    *nspans = 0;
    last_pw[0] = '\0';
    while (s[i]) {
        while (isspace((unsigned char)s[i]))
            i++;
        if (!s[i])
            break;
        size_t kstart = i, kend;
        while (s[i] && s[i] != '=' && !isspace((unsigned char)s[i]))
            i++;
        kend = i;
        while (isspace((unsigned char)s[i]))
            i++;
        if (s[i] != '=')
            return false;
        i++;
        while (isspace((unsigned char)s[i]))
            i++;
        size_t vstart = i, nv = 0;
        char decoded[4096];
        /* A backslash takes the next character literally (a blank or a quote too); a
         * backslash at the very end is dropped. */
        if (s[i] != '\'') {
            while (s[i] && !isspace((unsigned char)s[i])) {
                if (s[i] == '\\' && !s[++i])
                    break;
                if (nv + 1 < sizeof decoded)
                    decoded[nv++] = s[i];
                i++;
            }
        } else {
            for (i++;;) {
                if (!s[i])
                    return false; /* unterminated quoted string */
                if (s[i] == '\'') {
                    i++;
                    break;
                }
                if (s[i] == '\\' && !s[++i])
                    continue;
                if (nv + 1 < sizeof decoded)
                    decoded[nv++] = s[i];
                i++;
            }
        }
        decoded[nv] = '\0';
        if (is_password_key(s, kstart, kend)) {
            if (i > vstart && *nspans == MAX_SPANS)
                return false; /* too many to check: no verdict */
            if (i > vstart)
                spans[(*nspans)++] = (span){vstart, i};
            if (kend - kstart == 8)
                snprintf(last_pw, pw_size, "%s", decoded);
        }
    }
    return true;
}

/* A plain connection string, valid or not: whitespace-separated tokens, each either
 * key=value (key of lowercase letters and '_', value without quotes, backslashes or
 * blanks) or a bare word (letters, digits, '_', '.', '-'). Fills the spans of password
 * values; false when s is not of that shape or a password value holds '*'. */
static bool plain_kv(const char *s, span *spans, int *nspans)
{
    size_t i = 0;
    *nspans = 0;
    bool any = false;
    while (s[i]) {
        while (isspace((unsigned char)s[i]))
            i++;
        if (!s[i])
            break;
        size_t start = i;
        while (s[i] && !isspace((unsigned char)s[i]))
            i++;
        const char *eq = memchr(s + start, '=', i - start);
        any = true;
        if (!eq) {
            for (size_t k = start; k < i; k++)
                if (!isalnum((unsigned char)s[k]) && !strchr("_.-", s[k]))
                    return false;
            continue;
        }
        size_t kend = (size_t)(eq - s);
        if (kend == start || kend + 1 == i)
            return false;
        for (size_t k = start; k < kend; k++)
            if (!islower((unsigned char)s[k]) && s[k] != '_')
                return false;
        for (size_t k = kend + 1; k < i; k++)
            if (s[k] == '\'' || s[k] == '\\' || s[k] == '"')
                return false;
        if (is_password_key(s, start, kend)) {
            if (memchr(s + kend + 1, '*', i - kend - 1) || *nspans == MAX_SPANS)
                return false;
            spans[(*nspans)++] = (span){kend + 1, i};
        }
    }
    return any;
}

/* s with each span replaced by "****" (caller frees). */
static char *apply_spans(const char *s, const span *spans, int n)
{
    char *out = malloc(strlen(s) + 4 * (size_t)n + 1), *o = out;
    FUZZ_CHECK(out != NULL, "out of memory");
    size_t at = 0;
    for (int k = 0; k < n; k++) {
        memcpy(o, s + at, spans[k].start - at);
        o += spans[k].start - at;
        memcpy(o, "****", 4);
        o += 4;
        at = spans[k].end;
    }
    strcpy(o, s + at);
    return out;
}

/* The decoded "password" libpq reads from a key=value string, or NULL. */
static char *libpq_password(const char *s)
{
    char *msg = NULL, *pw = NULL;
    PQconninfoOption *opts = PQconninfoParse(s, &msg);
    if (msg)
        PQfreemem(msg);
    if (!opts)
        return NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "password") == 0 && o->val)
            pw = strdup(o->val);
    PQconninfoFree(opts);
    return pw ? pw : strdup("");
}

static void check_url(const char *s)
{
    out_forget_secrets();
    char *m = config_mask_url(s);
    FUZZ_CHECK(m != NULL, "config_mask_url('%s') returned NULL", s);
    if (starts_with(s, "sqlite:"))
        FUZZ_CHECK(strcmp(m, s) == 0, "sqlite URL '%s' masked as '%s'", s, m);
    /* Without user:password@ or a password key there is nothing to hide. */
    if (!strchr(s, '@') && !strstr(s, "password"))
        FUZZ_CHECK(strcmp(m, s) == 0, "'%s' has no password but was masked as '%s'", s, m);

    /* The oracles. `shown` is a fragment that must appear in no masked output. */
    char *shown = NULL;
    const char *pw = NULL, *at = NULL;
    span spans[MAX_SPANS];
    int nspans = 0;
    bool plain = false;
    if (uri_password(s, &pw, &at)) {
        FUZZ_CHECK(strncmp(m, s, (size_t)(at - s)) != 0,
                   "URI password '%.*s' survives masking: '%s' -> '%s'", (int)(at - pw), pw, s,
                   m);
        /* USER:PASSWORD@ as written; checked in messages when the input has it once. */
        const char *user = strstr(s, "://") + 3;
        char *frag = strndup(user, (size_t)(at - user) + 1);
        FUZZ_CHECK(frag != NULL, "out of memory");
        if (count_occurrences(s, frag) == 1)
            shown = frag;
        else
            free(frag);
    } else if (!strstr(s, "://")) {
        char decoded[4096];
        if ((plain = plain_kv(s, spans, &nspans))) {
            char *want = apply_spans(s, spans, nspans);
            FUZZ_CHECK(strcmp(m, want) == 0,
                       "connection string '%s' masked as '%s', want '%s'", s, m, want);
            free(want);
        } else if (pq_lex(s, spans, &nspans, decoded, sizeof decoded)) {
            char *libpq = libpq_password(s);
            /* Only when libpq agrees with the lexer copy (else the copy is what's wrong). */
            if (libpq && strcmp(libpq, decoded) == 0) {
                char *want = apply_spans(s, spans, nspans);
                FUZZ_CHECK(strcmp(m, want) == 0,
                           "connection string '%s' masked as '%s', want '%s' (libpq reads "
                           "password '%s')", s, m, want, libpq);
                free(want);
            }
            free(libpq);
        }
    }

    db_dialect d = DIALECT_NONE;
    rb_error err;
    rb_error_init(&err);
    int rc = config_url_dialect(s, &d, &err);
    if (rc == 0) {
        FUZZ_CHECK(d == (starts_with(s, "sqlite:") ? DIALECT_SQLITE : DIALECT_POSTGRESQL),
                   "'%s' has dialect %d", s, (int)d);
    } else {
        FUZZ_CHECK(rc == -1 && err.code == RB_EXIT_USAGE && d == DIALECT_NONE,
                   "'%s' failed with rc %d code %d dialect %d", s, rc, err.code, (int)d);
        if (shown)
            FUZZ_CHECK(!strstr(err.message, shown), "error shows '%s': %s", shown, err.message);
        for (int k = 0; plain && k < nspans; k++) {
            /* "password=VALUE" of a plain string, if nothing else in it contains that. */
            size_t from = spans[k].start;
            while (from > 0 && !isspace((unsigned char)s[from - 1]))
                from--;
            char *kv = strndup(s + from, spans[k].end - from);
            FUZZ_CHECK(kv != NULL, "out of memory");
            if (count_occurrences(s, kv) == 1)
                FUZZ_CHECK(!strstr(err.message, kv), "error shows '%s': %s", kv, err.message);
            free(kv);
        }
    }
    /* config_url_dialect registered the URL's secrets: out_mask must hide the password
     * as written (as for masking: the text up to the '@' must not survive). */
    if (pw) {
        char *copy = strdup(s);
        FUZZ_CHECK(copy != NULL, "out of memory");
        out_mask(copy);
        FUZZ_CHECK(strncmp(copy, s, (size_t)(at - s)) != 0,
                   "password '%.*s' of '%s' not registered: out_mask gives '%s'",
                   (int)(at - pw), pw, s, copy);
        free(copy);
    }
    if (rc == 0 && d == DIALECT_SQLITE) {
        char *path = NULL;
        rb_error_init(&err);
        if (config_sqlite_path(s, &path, &err) == 0)
            FUZZ_CHECK(path && path[0], "empty sqlite path from '%s'", s);
        else
            FUZZ_CHECK(path == NULL && err.code == RB_EXIT_USAGE, "bad failure for '%s'", s);
        free(path);
    }
    free(shown);
    free(m);
    out_forget_secrets();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_file(env_path, data, size);
    char *url = NULL, *pgpassword = NULL;
    check_dotenv(data, size, "DATABASE_URL", &url);
    check_dotenv(data, size, "PGPASSWORD", &pgpassword);
    free(pgpassword);

    char *s = fuzz_cstr(data, size);
    check_url(s);
    free(s);
    if (url)
        check_url(url);
    free(url);
    return 0;
}
