/* fuzz_dotenv.c: .env parsing (dotenv_lookup) and database URL handling (config_mask_url,
 * config_url_dialect, config_sqlite_path, secret registration and out_mask).
 *
 * The input is written to a scratch .env file and looked up for DATABASE_URL and
 * PGPASSWORD; the input as a string (up to its first NUL), and any DATABASE_URL the file
 * yields, are then treated as database URLs. Beyond "no sanitizer report":
 *   - a value found survives a round trip through a double-quoted, a single-quoted and an
 *     unquoted line, and a later assignment overrides it;
 *   - sqlite: URLs are shown as they are; a key=value string libpq cannot parse is not
 *     shown at all;
 *   - the display of a string libpq parses (a key=value string, or a postgres URI whose
 *     userinfo libpq reads soundly) parses back to the same options, passwords "****";
 *   - of any other URI, no run of 4+ letters and digits from its secret region (from "://"
 *     to the last '@', and from a password-like query value to the end) shows, unless the
 *     run is also outside the region; nor in config_url_dialect's error;
 *   - once registered, the URL printed as given shows as its display (out_masked), and the
 *     --sql script's text with no credential in it is never changed (out_mask_sql).
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
#include <strings.h>
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

/* ---- .env ------------------------------------------------------------------------- */

static char *lookup(const char *path, const char *key, int *rc)
{
    char *value = (char *)"untouched";
    rb_error err;
    rb_error_init(&err);
    *rc = dotenv_lookup(path, key, &value, &err);
    if (*rc != 0) {
        FUZZ_CHECK(*rc == -1 && value == NULL, "failed lookup of %s left a value", key);
        FUZZ_CHECK(err.kind == RB_ERR_FAILURE && starts_with(err.message, path),
                   "error does not name the file: %s", err.message);
    } else {
        FUZZ_CHECK(err.kind == 0, "lookup of %s succeeded with an error set", key);
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

static bool is_pg_uri(const char *s)
{
    return starts_with(s, "postgresql://") || starts_with(s, "postgres://");
}

static bool has_password_word(const char *s, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++)
        if (strncasecmp(s + i, "password", 8) == 0)
            return true;
    return false;
}

static int hexdigit(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Where a password may be in a URI whatever libpq makes of it: [*a0, *a1) from "://" to the
 * last '@' if a ':' comes before it, and [*b0, end) from the value of the first "?KEY=" or "&KEY=" whose KEY says
 * "password" (in any case). Empty ranges when absent. */
static void uri_secret_region(const char *s, size_t *a0, size_t *a1, size_t *b0)
{
    const char *auth = strstr(s, "://") + 3;
    const char *at = strrchr(auth, '@');
    *a0 = *a1 = (size_t)(auth - s);
    if (at && memchr(auth, ':', (size_t)(at - auth)))
        *a1 = (size_t)(at - s);
    *b0 = strlen(s);
    for (const char *p = auth; *p; p++) {
        if (*p != '?' && *p != '&')
            continue;
        size_t keylen = strcspn(p + 1, "=&?");
        /* The key may be percent-encoded: "%70assword" counts too. */
        char key[4096];
        size_t kn = 0;
        for (size_t i = 0; i < keylen && kn + 1 < sizeof key; i++) {
            int hi = i + 2 < keylen ? hexdigit(p[1 + i + 1]) : -1;
            int lo = i + 2 < keylen ? hexdigit(p[1 + i + 2]) : -1;
            if (p[1 + i] == '%' && hi >= 0 && lo >= 0) {
                key[kn++] = (char)(hi * 16 + lo);
                i += 2;
            } else {
                key[kn++] = p[1 + i];
            }
        }
        if (p[1 + keylen] == '=' && (has_password_word(p + 1, keylen) || has_password_word(key, kn))) {
            *b0 = (size_t)(p + 1 + keylen + 1 - s);
            break;
        }
    }
}

/* Every run of 4+ letters and digits inside s's secret region that occurs nowhere else in s
 * must be absent from text. */
static void expect_region_hidden(const char *s, size_t a0, size_t a1, size_t b0,
                                 const char *text, const char *what)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        bool in = (i >= a0 && i < a1) || i >= b0;
        size_t k = i;
        while (k < n && isalnum((unsigned char)s[k]) && ((k >= a0 && k < a1) || k >= b0))
            k++;
        if (!in || k - i < 4) {
            i = k > i ? k : i + 1;
            continue;
        }
        char run[4096];
        snprintf(run, sizeof run, "%.*s", (int)(k - i), s + i);
        /* Elsewhere in s: outside the region (shown legitimately). */
        bool elsewhere = false;
        for (const char *p = strstr(s, run); p && !elsewhere; p = strstr(p + 1, run)) {
            size_t at = (size_t)(p - s);
            elsewhere = (at + (k - i) <= a0) || (at >= a1 && at + (k - i) <= b0);
        }
        if (!elsewhere)
            FUZZ_CHECK(!strstr(text, run), "%s shows '%s' of the secret region of '%s': %s",
                       what, run, s, text);
        i = k;
    }
}

/* The error names the URL only as its display, in single quotes; what else it quotes in
 * double quotes (libpq's reason quotes a token, a parameter or the whole URI) is "..." or
 * one punctuation character such as "=". */
static void expect_error_quotes_nothing(const char *message, const char *display, const char *s)
{
    char rest[2048];
    snprintf(rest, sizeof rest, "%s", message);
    size_t n = strlen(display);
    for (char *p = strchr(rest, '\''); p && n; p = strchr(p + 1, '\''))
        if (strncmp(p + 1, display, n) == 0 && p[1 + n] == '\'') {
            memmove(p, p + n + 2, strlen(p + n + 2) + 1);
            break;
        }
    /* A key=value string is never echoed (the fixed texts have no '=' but in "="). */
    if (strchr(s, '=') && strlen(s) >= 4)
        FUZZ_CHECK(!strstr(rest, s), "the error echoes '%s': %s", s, message);
    for (const char *q = strchr(rest, '"'); q; q = strchr(q + 1, '"')) {
        const char *close = strchr(q + 1, '"');
        FUZZ_CHECK(close != NULL, "unbalanced quote in the error about '%s': %s", s, message);
        size_t len = (size_t)(close - q - 1);
        FUZZ_CHECK((len == 3 && strncmp(q + 1, "...", 3) == 0) ||
                       (len == 1 && ispunct((unsigned char)q[1])),
                   "the error about '%s' quotes '%.*s': %s", s, (int)len, q + 1, message);
        q = close;
    }
}

/* libpq reads the userinfo of a URI soundly: no '@', or one with no '/' before it. */
static bool userinfo_clean(const char *s)
{
    const char *auth = strstr(s, "://") + 3;
    const char *at = strchr(auth, '@');
    return !at || (!strchr(at + 1, '@') && !memchr(auth, '/', (size_t)(at - auth)));
}

/* The display of a string libpq parses is libpq's reading written back: parsing it again
 * gives every option the same value, save the passwords, which read "****". */
static void expect_roundtrip_display(const char *s, PQconninfoOption *want, const char *m)
{
    char *msg = NULL;
    PQconninfoOption *got = PQconninfoParse(m, &msg);
    FUZZ_CHECK(got != NULL, "display '%s' of '%s' does not parse: %s", m, s, msg ? msg : "");
    for (int i = 0; want[i].keyword; i++) {
        const char *k = want[i].keyword, *w = want[i].val, *g = got[i].val;
        FUZZ_CHECK(strcmp(k, got[i].keyword) == 0, "option order differs");
        bool secret = strcmp(k, "password") == 0 || strcmp(k, "sslpassword") == 0;
        if (secret)
            FUZZ_CHECK((!w && !g) || (w && g && strcmp(g, "****") == 0),
                       "%s of '%s' shown as '%s' in '%s'", k, s, g ? g : "(unset)", m);
        else
            FUZZ_CHECK((!w && !g) || (w && g && strcmp(w, g) == 0),
                       "%s of '%s' is '%s', its display '%s' reads '%s'", k, s, w ? w : "(unset)",
                       m, g ? g : "(unset)");
    }
    PQconninfoFree(got);
}

static void check_url(const char *s)
{
    out_forget_secrets();
    char *m = config_mask_url(s);
    FUZZ_CHECK(m != NULL, "config_mask_url('%s') returned NULL", s);
    bool sqlite = starts_with(s, "sqlite:");
    if (sqlite)
        FUZZ_CHECK(strcmp(m, s) == 0, "sqlite URL '%s' masked as '%s'", s, m);
    const char *sep = strstr(s, "://");
    bool uri = sep && sep > s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789+-.") == (size_t)(sep - s);
    char *msg = NULL;
    PQconninfoOption *opts = !sqlite && (!uri || is_pg_uri(s)) ? PQconninfoParse(s, &msg) : NULL;
    if (msg)
        PQfreemem(msg);
    size_t a0 = 0, a1 = 0, b0 = strlen(s);
    if (!sqlite && uri) {
        uri_secret_region(s, &a0, &a1, &b0);
        if (opts && userinfo_clean(s))
            expect_roundtrip_display(s, opts, m);
        else
            expect_region_hidden(s, a0, a1, b0, m, "the display");
    } else if (!sqlite) {
        if (opts)
            expect_roundtrip_display(s, opts, m);
        else
            FUZZ_CHECK(strcmp(m, "(a connection string that libpq cannot parse)") == 0,
                       "'%s', which libpq cannot parse, is shown as '%s'", s, m);
    }

    db_dialect d = DIALECT_NONE;
    rb_error err;
    rb_error_init(&err);
    int rc = config_url_dialect(s, &d, &err);
    if (rc == 0) {
        FUZZ_CHECK(d == (sqlite ? DIALECT_SQLITE : DIALECT_POSTGRESQL), "'%s' has dialect %d", s,
                   (int)d);
    } else {
        FUZZ_CHECK(rc == -1 && err.kind == RB_ERR_USAGE && d == DIALECT_NONE,
                   "'%s' failed with rc %d code %d dialect %d", s, rc, err.kind, (int)d);
        if (!sqlite)
            expect_error_quotes_nothing(err.message, m, s);
    }
    /* config_url_dialect registered the URL: printed as given, it shows as its display (when
     * it can hold a password: else it is no credential). */
    const char *auth = uri ? strstr(s, "://") + 3 : NULL;
    const char *last_at = auth ? strrchr(auth, '@') : NULL;
    bool may_hold = has_password_word(s, strlen(s)) ||
                    (last_at && memchr(auth, ':', (size_t)(last_at - auth)));
    if (!sqlite && may_hold && !strchr(s, '\n')) {
        char *shown = out_masked(s);
        FUZZ_CHECK(shown && strcmp(shown, m) == 0, "out_masked('%s') = '%s', want its display "
                   "'%s'", s, shown ? shown : "(null)", m);
        free(shown);
    }
    /* The --sql script keeps text with no credential in it as it is. */
    static const char script[] = "GRANT ALL ON t TO postgres; -- created_at postgres_fdw\n";
    char sql[sizeof script];
    memcpy(sql, script, sizeof script);
    out_mask_sql(sql);
    FUZZ_CHECK(strcmp(sql, script) == 0 || strstr(s, "GRANT") || strstr(s, "created") ||
                   strstr(s, "_fdw") || strstr(s, "--") || strstr(s, "\n"),
               "the --sql script changed under '%s': %s", s, sql);
    if (rc == 0 && d == DIALECT_SQLITE) {
        char *path = NULL;
        rb_error_init(&err);
        if (config_sqlite_path(s, &path, &err) == 0)
            FUZZ_CHECK(path && path[0], "empty sqlite path from '%s'", s);
        else
            FUZZ_CHECK(path == NULL && err.kind == RB_ERR_USAGE, "bad failure for '%s'", s);
        free(path);
    }
    if (opts)
        PQconninfoFree(opts);
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
