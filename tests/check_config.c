/* check_config.c: .env parsing, database URL dialects and SQLite paths, password masking
 * and registration, -x arguments and the URL precedence of config_resolve_url. Where the
 * cases share their arrange/act/assert they are rows of a table, each run as a case of its
 * own (tcase_add_loop_test); the tests that follow a sequence of steps stay as they are. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_rbacmig.h"
#include "config.h"
#include "output.h"

/* Cases of a table-driven test: tcase_add_loop_test runs it once per row, as _i. */
#define N_CASES(table) ((int)(sizeof(table) / sizeof *(table)))

/* ---- .env ---------------------------------------------------------------------------- */

/* A temporary .env file with the given text; path must hold 64 bytes. */
static void dotenv_file(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/rbacmig-check-env-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp: %s", strerror(errno));
    close(fd);
    ck_write_text(path, text);
}

/* dotenv_lookup of key in a file holding text; returns rc, *value malloc'd or NULL. */
static int lookup_in(const char *text, const char *key, char **value, rb_error *err)
{
    char path[64];
    dotenv_file(path, text);
    rb_error_init(err);
    int rc = dotenv_lookup(path, key, value, err);
    unlink(path);
    return rc;
}

/* Asserts that key has `want` (NULL: absent) in a file holding text. */
static void expect_dotenv(const char *text, const char *key, const char *want)
{
    char *value = (char *)"untouched";
    rb_error err;
    int rc = lookup_in(text, key, &value, &err);
    ck_assert_msg(rc == 0, "dotenv_lookup(%s) of %s failed: %s", key, text, err.message);
    if (!want) {
        ck_assert_msg(value == NULL, "%s should be absent from %s, got '%s'", key, text, value);
        return;
    }
    ck_assert_msg(value != NULL, "%s not found in %s", key, text);
    ck_assert_msg(strcmp(value, want) == 0, "%s in %s: got '%s', want '%s'", key, text, value,
                  want);
    free(value);
}

/* One value looked up in one file's text: each row is a case of its own (tcase_add_loop_test
 * runs test_dotenv_value once per row; a failure names the text and the key). */
typedef struct dotenv_case {
    const char *text, *key;
    const char *want; /* NULL: the key is absent */
} dotenv_case;

static const dotenv_case dotenv_cases[] = {
    {"DATABASE_URL=postgresql://u@h/db\n", "DATABASE_URL", "postgresql://u@h/db"},
    {"A=1\nB=two\nC=3\n", "B", "two"},
    /* No newline at the end of the file, and blanks around '=' and the value. */
    {"KEY = value  ", "KEY", "value"},
    {"KEY=", "KEY", ""},
    /* CRLF line endings, and a UTF-8 byte order mark before the first key. */
    {"KEY=value\r\nOTHER=x\r\n", "KEY", "value"},
    {"\xEF\xBB\xBFKEY=bom\n", "KEY", "bom"},
    /* A key that only starts with the one asked for is another key. */
    {"KEY_LONG=1\nKE=2\n", "KEY", NULL},

    /* export */
    {"export DATABASE_URL=sqlite:x.db\n", "DATABASE_URL", "sqlite:x.db"},
    {"export\tKEY='v'\n", "KEY", "v"},
    /* A variable called export is not the keyword. */
    {"export=1\n", "export", "1"},

    /* Single quotes: no escapes, no comments inside. */
    {"KEY='a b # not a comment'\n", "KEY", "a b # not a comment"},
    {"KEY='a\\nb'\n", "KEY", "a\\nb"},
    {"KEY='say \"hi\"'  # comment\n", "KEY", "say \"hi\""},

    /* Double quotes take \n, \" and \\. */
    {"KEY=\"a b\"\n", "KEY", "a b"},
    {"KEY=\"line1\\nline2\"\n", "KEY", "line1\nline2"},
    {"KEY=\"say \\\"hi\\\"\"\n", "KEY", "say \"hi\""},
    {"KEY=\"back\\\\slash\"\n", "KEY", "back\\slash"},
    {"KEY=\"it's # here\" # trailing comment\n", "KEY", "it's # here"},

    /* Inline comments need a blank before the '#'. */
    {"KEY=value # a comment\n", "KEY", "value"},
    {"KEY=value\t# a comment\n", "KEY", "value"},
    /* '#' without a blank before it is part of the value (a URL fragment, a password). */
    {"KEY=pa#ss\n", "KEY", "pa#ss"},

    /* Comments and blank lines. */
    {"# a comment\n"
     "\n"
     "   \n"
     "   # an indented comment\n"
     "#KEY=commented-out\n"
     "KEY=real\n"
     "\n",
     "KEY", "real"},
    {"# only comments\n\n# KEY=x\n", "KEY", NULL},

    /* The later assignment wins. */
    {"KEY=first\nOTHER=x\nKEY=second\n", "KEY", "second"},
    {"KEY=first\nexport KEY=\"third\"\n", "KEY", "third"},

    /* A missing key. */
    {"A=1\nB=2\n", "KEY", NULL},
    {"", "KEY", NULL},
};

START_TEST(test_dotenv_value)
{
    const dotenv_case *c = &dotenv_cases[_i];
    expect_dotenv(c->text, c->key, c->want);
}
END_TEST

START_TEST(test_dotenv_missing_file)
{
    char *value = (char *)"untouched";
    rb_error err;
    rb_error_init(&err);
    int rc = dotenv_lookup("/tmp/rbacmig-check-no-such-dir/.env", "KEY", &value, &err);
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_null(value);
    ck_assert_int_eq(err.kind, 0);
}
END_TEST

/* A file dotenv_lookup refuses: the error names path:line, and no value is returned, not
 * even one found before the bad line. */
typedef struct dotenv_error_case {
    const char *text;
    int line;
} dotenv_error_case;

static const dotenv_error_case dotenv_error_cases[] = {
    {"# header\nGOOD=1\nthis is not an assignment\nKEY=x\n", 3},
    {"KEY=x\n=novalue\n", 2},
    /* Unterminated quotes, and text after a closing one. */
    {"A=1\nKEY=\"open\n", 2},
    {"KEY='a' trailing\n", 1},
};

START_TEST(test_dotenv_error)
{
    const dotenv_error_case *c = &dotenv_error_cases[_i];
    char path[64], want[128];
    dotenv_file(path, c->text);
    char *value = NULL;
    rb_error err;
    rb_error_init(&err);
    int rc = dotenv_lookup(path, "KEY", &value, &err);
    unlink(path);
    ck_assert_msg(rc == -1, "dotenv_lookup of %s should fail", c->text);
    ck_assert_ptr_null(value);
    ck_assert_int_ne(err.kind, 0);
    snprintf(want, sizeof want, "%s:%d", path, c->line);
    ck_assert_msg(strstr(err.message, want) != NULL, "message '%s' should name '%s'",
                  err.message, want);
}
END_TEST

/* ---- URL dialects -------------------------------------------------------------------- */

typedef struct dialect_case {
    const char *url;
    db_dialect want;
} dialect_case;

static const dialect_case dialect_cases[] = {
    {"postgresql://user@localhost:5432/app", DIALECT_POSTGRESQL},
    {"postgres://user:pw@localhost/app?sslmode=disable", DIALECT_POSTGRESQL},
    {"host=localhost dbname=app user=me", DIALECT_POSTGRESQL},
    {"dbname=app", DIALECT_POSTGRESQL},
    {"sqlite:app.db", DIALECT_SQLITE},
    {"sqlite:///rel.db", DIALECT_SQLITE},
    {"sqlite::memory:", DIALECT_SQLITE},
};

START_TEST(test_dialect)
{
    const dialect_case *c = &dialect_cases[_i];
    db_dialect d = (db_dialect)-1;
    rb_error err;
    rb_error_init(&err);
    int rc = config_url_dialect(c->url, &d, &err);
    ck_assert_msg(rc == 0, "config_url_dialect('%s') failed: %s", c->url, err.message);
    ck_assert_msg(d == c->want, "config_url_dialect('%s') = %d, want %d", c->url, (int)d,
                  (int)c->want);
}
END_TEST

/* A URL config_url_dialect refuses with a one-line usage error, which shows `has` (if not
 * NULL) and never `lacks` (a password, or what libpq could not parse). */
typedef struct bad_url_case {
    const char *url, *has, *lacks;
} bad_url_case;

static const bad_url_case bad_url_cases[] = {
    {"mysql://x", "mysql://x", NULL},
    {"http://example.com/db", NULL, NULL},
    {"app.db", NULL, NULL},
    {"", NULL, NULL},
    /* Regression (bug found and fixed): a mistyped scheme still carries the user's
     * password; for a URL of an unknown scheme config_mask_url did not mask it, so it
     * reached the message (and stderr, as config_register_url_secrets registered nothing
     * for such a URL either). The message names the URL masked. */
    {"postgresq://bob:hunter2secret@db.example.com/app", "postgresq://", "hunter2secret"},
    {"postgresql://[::1/db", "invalid database URL", NULL},
    /* libpq's reason, without what it quotes of the string (a password, maybe). */
    {"host=localhost dbname", "missing \"=\" after", NULL},
    /* A key=value string that libpq cannot parse is not echoed. */
    {"nosuchoption=1", "invalid connection option", "nosuchoption"},
    /* Regression (bug found and fixed): libpq quotes the whole URI in its reason ('... in
     * URI: "postgresql://bob:s3cretpass@[::1/db"'), which was copied verbatim, so the
     * password appeared although the URL itself was masked. */
    {"postgresql://bob:s3cretpass@[::1/db", NULL, "s3cretpass"},
};

START_TEST(test_dialect_bad_url)
{
    const bad_url_case *c = &bad_url_cases[_i];
    db_dialect d = DIALECT_POSTGRESQL;
    rb_error err;
    rb_error_init(&err);
    int rc = config_url_dialect(c->url, &d, &err);
    ck_assert_msg(rc == -1, "config_url_dialect('%s') should fail", c->url);
    ck_assert_msg(err.kind == RB_ERR_USAGE, "config_url_dialect('%s'): code %d, want %d",
                  c->url, err.kind, RB_ERR_USAGE);
    ck_assert_int_eq(d, DIALECT_NONE);
    ck_assert_msg(!c->has || strstr(err.message, c->has), "message '%s' of '%s' lacks '%s'",
                  err.message, c->url, c->has);
    ck_assert_msg(!c->lacks || !strstr(err.message, c->lacks),
                  "message '%s' of '%s' shows '%s'", err.message, c->url, c->lacks);
    ck_assert_msg(strchr(err.message, '\n') == NULL, "message should be one line: %s",
                  err.message);
}
END_TEST

/* ---- SQLite paths -------------------------------------------------------------------- */

typedef struct sqlite_path_case {
    const char *url;
    const char *want; /* NULL: a usage error naming the URL */
} sqlite_path_case;

static const sqlite_path_case sqlite_path_cases[] = {
    {"sqlite:foo.db", "foo.db"},
    {"sqlite:dir/foo.db", "dir/foo.db"},
    {"sqlite:/abs/foo.db", "/abs/foo.db"},
    {"sqlite:///rel.db", "rel.db"},
    {"sqlite:////abs/x.db", "/abs/x.db"},
    {"sqlite::memory:", ":memory:"},
    {"sqlite://host/x", NULL},
    {"sqlite:", NULL},
    {"sqlite:///", NULL},
};

START_TEST(test_sqlite_path)
{
    const sqlite_path_case *c = &sqlite_path_cases[_i];
    char *path = (char *)"untouched";
    rb_error err;
    rb_error_init(&err);
    int rc = config_sqlite_path(c->url, &path, &err);
    if (c->want) {
        ck_assert_msg(rc == 0, "config_sqlite_path('%s') failed: %s", c->url, err.message);
        ck_assert_msg(path && strcmp(path, c->want) == 0,
                      "config_sqlite_path('%s') = '%s', want '%s'", c->url,
                      path ? path : "(null)", c->want);
        free(path);
        return;
    }
    ck_assert_msg(rc == -1, "config_sqlite_path('%s') should fail, got '%s'", c->url,
                  rc == 0 && path ? path : "");
    ck_assert_ptr_null(path);
    ck_assert_int_eq(err.kind, RB_ERR_USAGE);
    ck_assert_msg(strstr(err.message, c->url) != NULL, "message '%s' should name '%s'",
                  err.message, c->url);
}
END_TEST

/* ---- masking ------------------------------------------------------------------------- */

/* How config_mask_url shows a URL, exactly; `secret` (if not NULL) must not be in it. */
typedef struct mask_case {
    const char *url, *want, *secret;
} mask_case;

static const mask_case mask_cases[] = {
    /* user:password@ */
    {"postgresql://bob:secret@db.example.com:5432/app",
     "postgresql://bob:****@db.example.com:5432/app", "secret"},
    {"postgres://bob:x@h/db", "postgres://bob:****@h/db", NULL},
    {"postgresql://:secret@h/db", "postgresql://:****@h/db", "secret"},
    /* libpq would read "ss@h" as the host: masked from "://" to the last '@'. */
    {"postgresql://bob:p@ss@h/db", "postgresql://****@h/db", "ss"},
    /* The issue's base64 password: a '/' ends the userinfo for libpq. */
    {"postgresql://app_user:Xk9/q+Zr2Lm=@db.example.internal:5432/postgres",
     "postgresql://****@db.example.internal:5432/postgres", "Xk9"},
    /* Nothing to mask. */
    {"postgresql://bob@h/db", "postgresql://bob@h/db", NULL},
    {"postgresql://h/db", "postgresql://h/db", NULL},
    {"postgresql://[::1]:5433,h2/db", "postgresql://[::1]:5433,h2/db", NULL},
    {"sqlite:app.db", "sqlite:app.db", NULL},

    /* Percent-encoded: neither the encoded nor the decoded ("p@ss:word") password shows. */
    {"postgresql://bob:p%40ss%3Aword@h/db", "postgresql://bob:****@h/db", "p%40ss"},

    /* The display is libpq's reading: a query password is the password. */
    {"postgresql://bob@h/db?password=secret", "postgresql://bob:****@h/db", "secret"},
    {"postgresql://h/db?sslmode=require&sslpassword=keypass&application_name=x",
     "postgresql://h/db?application_name=x&sslmode=require&sslpassword=****", "keypass"},
    {"postgresql://bob:one1@h/db?password=two2&sslpassword=three3",
     "postgresql://bob:****@h/db?sslpassword=****", "two2"},
    /* Keys libpq refuses: the URL does not parse, the values are masked all the same. */
    {"postgresql://u@h/d?Password=secret2", "postgresql://u@h/d?Password=****", "secret2"},
    {"postgresql://h/d?PASSWORD=secret3&x=1", "postgresql://h/d?PASSWORD=****", "secret3"},

    /* key=value strings */
    {"host=h password=secret dbname=app", "password=**** dbname=app host=h", "secret"},
    {"host=h password='a b' dbname=app", "password=**** dbname=app host=h", "a b"},
    {"password = secret", "password=****", "secret"},
    {"password='it\\'s mine' host=h", "password=**** host=h", "mine"},
    {"host=h sslpassword=keypass", "host=h sslpassword=****", "keypass"},
    /* A quoted value of another key with "password=" in it is not a password. */
    {"host=h application_name='password=x'", "host=h application_name='password=x'", NULL},
    {"host=h dbname=app", "dbname=app host=h", NULL},
    /* Strings libpq refuses are not shown at all. */
    {"host=h password=\"a b\"", "(a connection string that libpq cannot parse)", "a b"},
    {"host=h PASSWORD=secret", "(a connection string that libpq cannot parse)", "secret"},

    /* Regressions found by fuzz/fuzz_dotenv: each used to print the password. */
    {"foo password=hunter2", "(a connection string that libpq cannot parse)", "hunter2"},
    {"host=h password=se\\ cret", "password=**** host=h", "cret"},
    {"postgresql://u:se?cret@h/d", "postgresql://u:****@h/d", "cret"},
};

START_TEST(test_mask)
{
    const mask_case *c = &mask_cases[_i];
    char *m = config_mask_url(c->url);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(strcmp(m, c->want) == 0, "config_mask_url('%s') = '%s', want '%s'", c->url,
                  m, c->want);
    ck_assert_msg(!c->secret || strstr(m, c->secret) == NULL, "'%s' still shows '%s'", m,
                  c->secret);
    free(m);
}
END_TEST

/* A regression found by fuzz/fuzz_dotenv: a registered password with '%' and '?' in it. */
START_TEST(test_mask_fuzz_registered)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://u:s%41?x@h/d");
    char text[] = "error: could not connect as u:s%41?x to h";
    out_mask(text);
    ck_assert_msg(!strstr(text, "s%41?x"), "registered secret still printed: %s", text);
    out_forget_secrets();
}
END_TEST

/* ---- every password form, with hard passwords (issue 12, item 1) ------------------------ */

static const char *const hard_passwords[] = {
    "postgres",
    "at",
    "Xk9/Qr7@Lm3#Pq7?Yy8:Ww4'Tt6\"Uu2\\Vv5%Hh1 Gg0", /* / @ # ? : ' " \ % and a space */
    "q8Zr2LmXk9TBw4vNe7Hs1JpYc6UdFa3Gt5Ko0RiE",        /* 40 random characters */
};

/* pw percent-encoded (everything but letters and digits). */
static void pct_encode(const char *pw, char *out)
{
    for (; *pw; pw++)
        out += isalnum((unsigned char)*pw) ? sprintf(out, "%c", *pw)
                                           : sprintf(out, "%%%02X", (unsigned char)*pw);
}

/* pw in libpq's single quotes ('\'' and '\\' escaped), or with " around it as is. */
static void kv_quote(const char *pw, char quote, char *out)
{
    *out++ = quote;
    for (; *pw; pw++) {
        if (quote == '\'' && (*pw == '\'' || *pw == '\\'))
            *out++ = '\\';
        *out++ = *pw;
    }
    *out++ = quote;
    *out = '\0';
}

/* True when needle occurs in text not glued to a letter or digit on either side (a leak
 * shows that way: ":pw@", "=pw&", "'pw'"; "at" inside "database" is no leak). */
static bool has_token(const char *text, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) {
        bool left = p == text || !isalnum((unsigned char)p[-1]) || !isalnum((unsigned char)*needle);
        bool right = !isalnum((unsigned char)p[n]) || !isalnum((unsigned char)needle[n - 1]);
        if (left && right)
            return true;
    }
    return false;
}

/* Neither pw nor any run of 3+ letters and digits of it may stand in text (outside the
 * scheme "postgres[ql]://"). */
static void expect_no_password(const char *text, const char *pw, const char *where,
                               const char *url)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", text);
    for (char *p = strstr(copy, "postgres"); p; p = strstr(p + 1, "postgres"))
        if (strncmp(p + 8, "://", 3) == 0 || strncmp(p + 8, "ql://", 5) == 0)
            memcpy(p, "SCHEMEXX", 8);
    ck_assert_msg(!has_token(copy, pw), "%s of '%s' shows the password: %s", where, url, text);
    for (const char *p = pw; *p;) {
        size_t n = 0;
        while (isalnum((unsigned char)p[n]))
            n++;
        if (n >= 3) {
            char piece[64];
            snprintf(piece, sizeof piece, "%.*s", (int)n, p);
            ck_assert_msg(!has_token(copy, piece), "%s of '%s' shows '%s' of the password: %s",
                          where, url, piece, text);
        }
        p += n ? n : 1;
    }
}

START_TEST(test_every_password_form)
{
    const char *pw = hard_passwords[_i];
    char enc[256], squoted[128], dquoted[128];
    pct_encode(pw, enc);
    kv_quote(pw, '\'', squoted);
    kv_quote(pw, '"', dquoted);
    /* User, host and database hold none of the passwords' text. */
    char forms[9][512];
    snprintf(forms[0], 512, "postgresql://app_user:%s@db.example.internal:5432/appdb", pw);
    snprintf(forms[1], 512, "postgresql://app_user:%s@db.example.internal:5432/appdb", enc);
    snprintf(forms[2], 512, "postgres://app_user@db.example.internal/appdb?password=%s", enc);
    snprintf(forms[3], 512, "postgresql://app_user@db.example.internal/appdb?Password=%s", enc);
    snprintf(forms[4], 512, "postgresql://app_user@db.example.internal/appdb?password=%s", pw);
    snprintf(forms[5], 512, "host=db.example.internal user=app_user password=%s dbname=appdb",
             squoted);
    snprintf(forms[6], 512, "host=db.example.internal password=%s dbname=appdb", dquoted);
    snprintf(forms[7], 512, "host=db.example.internal PASSWORD=%s dbname=appdb", squoted);
    snprintf(forms[8], 512, "host=db.example.internal PASSWORD=%s", pw);
    for (int f = 0; f < 9; f++) {
        const char *url = forms[f];
        out_forget_secrets();
        char *m = config_mask_url(url);
        ck_assert_ptr_nonnull(m);
        expect_no_password(m, pw, "config_mask_url", url);
        bool encoded = strstr(url, enc) != NULL;
        if (encoded)
            expect_no_password(m, enc, "config_mask_url", url);

        db_dialect d;
        rb_error err;
        rb_error_init(&err);
        config_url_dialect(url, &d, &err); /* registers the secrets */
        out_mask(err.message);
        expect_no_password(err.message, pw, "the dialect error", url);

        /* What a migration or a server may print: the URL, the password as a word. */
        char text[2048];
        int len = snprintf(text, sizeof text,
                           "url %s; password \"%s\" rejected; as written %s; '%s'",
                           url, pw, encoded ? enc : pw, pw);
        /* A cut text could lose the password and pass for the wrong reason. */
        ck_assert_msg(len < (int)sizeof text, "the text of case %s is cut", url);
        out_mask(text);
        expect_no_password(text, pw, "out_mask", url);
        if (encoded)
            expect_no_password(text, enc, "out_mask", url);
        free(m);
        out_forget_secrets();
    }
}
END_TEST

/* ---- registered secrets -------------------------------------------------------------- */

/* out_mask on a copy of text. */
static char *masked(const char *text)
{
    char *copy = strdup(text);
    ck_assert_ptr_nonnull(copy);
    out_mask(copy);
    return copy;
}

START_TEST(test_register_uri_password)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://bob:p%40ss%21word@h/db");
    char *m = masked("connect failed for p@ss!word (written p%40ss%21word) as bob");
    out_forget_secrets();
    ck_assert_msg(strstr(m, "p@ss!word") == NULL, "decoded password shown: %s", m);
    ck_assert_msg(strstr(m, "p%40ss%21word") == NULL, "encoded password shown: %s", m);
    ck_assert_msg(strstr(m, "****") != NULL, "no mask in: %s", m);
    ck_assert_msg(strstr(m, "as bob") != NULL, "the rest of the text is kept: %s", m);
    free(m);
}
END_TEST

START_TEST(test_register_query_and_key_value)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://h/db?password=%41bcdef&sslpassword=keypass");
    char *m = masked("Abcdef %41bcdef keypass");
    out_forget_secrets();
    ck_assert_msg(strstr(m, "Abcdef") == NULL && strstr(m, "%41bcdef") == NULL &&
                      strstr(m, "keypass") == NULL,
                  "password shown: %s", m);
    free(m);

    config_register_url_secrets("host=h password='two words' dbname=d");
    m = masked("error: two words");
    out_forget_secrets();
    ck_assert_str_eq(m, "error: ****");
    free(m);
}
END_TEST

START_TEST(test_register_nothing_for_sqlite)
{
    out_forget_secrets();
    config_register_url_secrets("sqlite:secret.db");
    config_register_url_secrets("postgresql://bob@h/db");
    char *m = masked("sqlite:secret.db bob h db");
    out_forget_secrets();
    ck_assert_str_eq(m, "sqlite:secret.db bob h db");
    free(m);
}
END_TEST

START_TEST(test_forget_secrets)
{
    out_forget_secrets();
    config_register_url_secrets("postgresql://bob:hunter22@h/db");
    char *m = masked("hunter22");
    ck_assert_str_eq(m, "****");
    free(m);
    out_forget_secrets();
    m = masked("hunter22");
    ck_assert_str_eq(m, "hunter22");
    free(m);
}
END_TEST

/* ---- -x ------------------------------------------------------------------------------ */

START_TEST(test_add_x)
{
    config cfg;
    config_init(&cfg);
    rb_error err;
    rb_error_init(&err);
    ck_assert_int_eq(config_add_x(&cfg, "tenant=acme", &err), 0);
    ck_assert_int_eq(config_add_x(&cfg, "expr=a=b", &err), 0);
    ck_assert_int_eq(config_add_x(&cfg, "empty=", &err), 0);
    ck_assert_int_eq(cfg.x_count, 3);
    ck_assert_str_eq(cfg.x[0].key, "tenant");
    ck_assert_str_eq(cfg.x[0].value, "acme");
    ck_assert_str_eq(cfg.x[1].key, "expr");
    ck_assert_str_eq(cfg.x[1].value, "a=b");
    ck_assert_str_eq(cfg.x[2].key, "empty");
    ck_assert_str_eq(cfg.x[2].value, "");

    ck_assert_int_eq(config_add_x(&cfg, "=v", &err), -1);
    ck_assert_int_eq(err.kind, RB_ERR_USAGE);
    ck_assert_msg(strstr(err.message, "=v") != NULL, "message: %s", err.message);
    rb_error_init(&err);
    ck_assert_int_eq(config_add_x(&cfg, "k", &err), -1);
    ck_assert_int_eq(err.kind, RB_ERR_USAGE);
    ck_assert_msg(strstr(err.message, "'k'") != NULL, "message: %s", err.message);
    ck_assert_int_eq(cfg.x_count, 3);
    config_release(&cfg);
}
END_TEST

START_TEST(test_config_init_defaults)
{
    config cfg;
    config_init(&cfg);
    ck_assert_str_eq(cfg.migrations_dir, "migrations");
    ck_assert_str_eq(cfg.version_table, "rbacmig_version");
    ck_assert_str_eq(cfg.history_table, "rbacmig_history");
    ck_assert_str_eq(cfg.schema, "public");
    ck_assert_ptr_null(cfg.database_url);
    rb_error err;
    ck_assert_int_eq(config_set(&cfg.schema, "app", &err), 0);
    ck_assert_str_eq(cfg.schema, "app");
    ck_assert_int_eq(config_set(&cfg.schema, NULL, &err), 0);
    ck_assert_ptr_null(cfg.schema);
    config_release(&cfg);
    ck_assert_ptr_null(cfg.migrations_dir);
}
END_TEST

/* ---- URL precedence ------------------------------------------------------------------ */

/* The process state config_resolve_url reads, saved so each test can restore it. */
typedef struct saved_env {
    char cwd[4096];
    char *database_url;
    char dir[64];
} saved_env;

static void env_enter(saved_env *s)
{
    ck_assert_ptr_nonnull(getcwd(s->cwd, sizeof s->cwd));
    const char *v = getenv("DATABASE_URL");
    s->database_url = v ? strdup(v) : NULL;
    unsetenv("DATABASE_URL");
    ck_tmpdir(s->dir);
    ck_assert_int_eq(chdir(s->dir), 0);
    out_forget_secrets();
}

static void env_leave(saved_env *s)
{
    ck_assert_int_eq(chdir(s->cwd), 0);
    ck_rmdir(s->dir);
    if (s->database_url)
        setenv("DATABASE_URL", s->database_url, 1);
    else
        unsetenv("DATABASE_URL");
    free(s->database_url);
    out_forget_secrets();
}

/* Resolves cfg and copies the result out before anything can fail. */
static int resolve(config *cfg, char url[512], const char **source, rb_error *err)
{
    rb_error_init(err);
    int rc = config_resolve_url(cfg, err);
    rb_strlcpy(url, cfg->database_url ? cfg->database_url : "(null)", 512);
    *source = cfg->url_source;
    return rc;
}

START_TEST(test_resolve_precedence)
{
    saved_env s;
    env_enter(&s);
    ck_write_text(".env", "DATABASE_URL=sqlite:from-dotenv.db\n");
    setenv("DATABASE_URL", "sqlite:from-env.db", 1);

    config cfg;
    config_init(&cfg);
    rb_error err;
    char url[512];
    const char *source = NULL;
    config_set(&cfg.flag_url, "sqlite:from-flag.db", &err);
    config_set(&cfg.file_url, "sqlite:from-file.db", &err);

    int rc1 = resolve(&cfg, url, &source, &err);
    char url1[512];
    const char *source1 = source;
    rb_strlcpy(url1, url, sizeof url1);

    config_set(&cfg.flag_url, NULL, &err);
    int rc2 = resolve(&cfg, url, &source, &err);
    char url2[512];
    const char *source2 = source;
    rb_strlcpy(url2, url, sizeof url2);

    unsetenv("DATABASE_URL");
    int rc3 = resolve(&cfg, url, &source, &err);
    char url3[512];
    const char *source3 = source;
    rb_strlcpy(url3, url, sizeof url3);

    /* An empty DATABASE_URL is a mistake, not "unset" (issue 12, item 13). */
    setenv("DATABASE_URL", "", 1);
    int rc3b = resolve(&cfg, url, &source, &err);
    char msg3b[512];
    rb_strlcpy(msg3b, err.message, sizeof msg3b);
    int code3b = err.kind;
    unsetenv("DATABASE_URL");

    unlink(".env");
    int rc4 = resolve(&cfg, url, &source, &err);
    char url4[512];
    const char *source4 = source;
    rb_strlcpy(url4, url, sizeof url4);

    /* A .env without DATABASE_URL falls through too. */
    ck_write_text(".env", "OTHER=1\n");
    config_set(&cfg.file_url, NULL, &err);
    int rc5 = resolve(&cfg, url, &source, &err);
    char url5[512];
    const char *source5 = source;
    rb_strlcpy(url5, url, sizeof url5);

    config_release(&cfg);
    env_leave(&s);

    ck_assert_int_eq(rc1, 0);
    ck_assert_str_eq(url1, "sqlite:from-flag.db");
    ck_assert_pstr_eq(source1, "--database-url");
    ck_assert_int_eq(rc2, 0);
    ck_assert_str_eq(url2, "sqlite:from-env.db");
    ck_assert_pstr_eq(source2, "DATABASE_URL");
    ck_assert_int_eq(rc3, 0);
    ck_assert_str_eq(url3, "sqlite:from-dotenv.db");
    ck_assert_pstr_eq(source3, ".env");
    ck_assert_int_eq(rc3b, -1);
    ck_assert_int_eq(code3b, RB_ERR_USAGE);
    ck_assert_str_eq(msg3b, "DATABASE_URL is set but empty (from the environment)");
    ck_assert_int_eq(rc4, 0);
    ck_assert_str_eq(url4, "sqlite:from-file.db");
    ck_assert_ptr_nonnull(source4);
    ck_assert_str_ne(source4, "default");
    ck_assert_str_ne(source4, ".env");
    ck_assert_int_eq(rc5, 0);
    ck_assert_str_eq(url5, CONFIG_DEFAULT_URL);
    ck_assert_str_eq(url5, "sqlite:rbacmig.db");
    ck_assert_pstr_eq(source5, "default");
}
END_TEST

/* A URL set but empty is a usage error naming where it was set, never a fall-through to
 * the next source (issue 12, item 13). */
START_TEST(test_resolve_empty_url)
{
    saved_env s;
    env_enter(&s);
    config cfg;
    rb_error err;
    char url[512];
    const char *source;

    ck_write_text(".env", "DATABASE_URL=\n");
    config_init(&cfg);
    config_set(&cfg.file_url, "sqlite:from-file.db", &err);
    int rc1 = resolve(&cfg, url, &source, &err);
    char msg1[512];
    rb_strlcpy(msg1, err.message, sizeof msg1);
    int code1 = err.kind;
    unlink(".env");

    config_set(&cfg.file_url, "", &err);
    int rc2 = resolve(&cfg, url, &source, &err);
    char msg2[512];
    rb_strlcpy(msg2, err.message, sizeof msg2);

    config_set(&cfg.flag_url, "", &err);
    int rc3 = resolve(&cfg, url, &source, &err);
    char msg3[512];
    rb_strlcpy(msg3, err.message, sizeof msg3);
    config_release(&cfg);
    env_leave(&s);

    ck_assert_int_eq(rc1, -1);
    ck_assert_int_eq(code1, RB_ERR_USAGE);
    ck_assert_str_eq(msg1, "DATABASE_URL is set but empty (from .env)");
    ck_assert_int_eq(rc2, -1);
    ck_assert_str_eq(msg2, "database_url is set but empty (from rbacmig.lua)");
    ck_assert_int_eq(rc3, -1);
    ck_assert_str_eq(msg3, "the database URL is empty (from --database-url)");
}
END_TEST

/* -c FILE: relative paths are FILE's directory's (issue 12, item 19). */
START_TEST(test_resolve_config_paths)
{
    saved_env s;
    env_enter(&s);
    config cfg;
    rb_error err;
    char url[512];
    const char *source;
    config_init(&cfg);
    config_set(&cfg.config_file, "proj/conf/rbacmig.lua", &err);
    cfg.config_file_given = true;
    config_set(&cfg.rbac_dir, "/abs/rbac", &err);
    config_set(&cfg.lua_dir, "../shared/lua", &err);
    config_set(&cfg.file_url, "sqlite:///data/app.db", &err);
    int rc = resolve(&cfg, url, &source, &err);
    char url1[512], migrations[256], rbac[256], lua[256];
    rb_strlcpy(url1, url, sizeof url1);
    rb_strlcpy(migrations, cfg.migrations_dir, sizeof migrations);
    rb_strlcpy(rbac, cfg.rbac_dir, sizeof rbac);
    rb_strlcpy(lua, cfg.lua_dir, sizeof lua);
    config_release(&cfg);

    /* Without -c nothing moves, and neither does a URL from the environment. */
    config_init(&cfg);
    setenv("DATABASE_URL", "sqlite:env.db", 1);
    config_set(&cfg.config_file, "proj/rbacmig.lua", &err);
    cfg.config_file_given = true;
    int rc2 = resolve(&cfg, url, &source, &err);
    char url2[512];
    rb_strlcpy(url2, url, sizeof url2);
    config_release(&cfg);
    unsetenv("DATABASE_URL");
    config_init(&cfg);
    int rc3 = resolve(&cfg, url, &source, &err);
    char migrations3[256];
    rb_strlcpy(migrations3, cfg.migrations_dir, sizeof migrations3);
    config_release(&cfg);
    env_leave(&s);

    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(migrations, "proj/conf/migrations");
    ck_assert_str_eq(rbac, "/abs/rbac");
    ck_assert_str_eq(lua, "proj/conf/../shared/lua");
    ck_assert_str_eq(url1, "sqlite:proj/conf/data/app.db");
    ck_assert_int_eq(rc2, 0);
    ck_assert_str_eq(url2, "sqlite:env.db");
    ck_assert_int_eq(rc3, 0);
    ck_assert_str_eq(migrations3, "migrations");
}
END_TEST

START_TEST(test_resolve_bad_dotenv)
{
    saved_env s;
    env_enter(&s);
    ck_write_text(".env", "not an assignment\n");
    config cfg;
    config_init(&cfg);
    rb_error err;
    char url[512];
    const char *source;
    int rc = resolve(&cfg, url, &source, &err);
    /* With the URL given as a flag, .env is not read at all. */
    config_set(&cfg.flag_url, "sqlite:x.db", &err);
    rb_error err2;
    int rc2 = resolve(&cfg, url, &source, &err2);
    config_release(&cfg);
    env_leave(&s);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.message, ".env:1") != NULL, "message: %s", err.message);
    ck_assert_int_eq(rc2, 0);
    ck_assert_str_eq(url, "sqlite:x.db");
}
END_TEST

START_TEST(test_resolve_registers_secrets)
{
    saved_env s;
    env_enter(&s);
    ck_write_text(".env", "DATABASE_URL='postgresql://bob:dotenvpass@h/db'\n");
    config cfg;
    config_init(&cfg);
    rb_error err;
    char url[512];
    const char *source;
    int rc = resolve(&cfg, url, &source, &err);
    char *m = masked("password dotenvpass rejected");
    config_release(&cfg);
    env_leave(&s);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(url, "postgresql://bob:dotenvpass@h/db");
    ck_assert_str_eq(m, "password **** rejected");
    free(m);
}
END_TEST

Suite *make_config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("dotenv");
    tcase_add_loop_test(tc, test_dotenv_value, 0, N_CASES(dotenv_cases));
    tcase_add_loop_test(tc, test_dotenv_error, 0, N_CASES(dotenv_error_cases));
    tcase_add_test(tc, test_dotenv_missing_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("url");
    tcase_add_loop_test(tc, test_dialect, 0, N_CASES(dialect_cases));
    tcase_add_loop_test(tc, test_dialect_bad_url, 0, N_CASES(bad_url_cases));
    tcase_add_loop_test(tc, test_sqlite_path, 0, N_CASES(sqlite_path_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("mask");
    tcase_add_loop_test(tc, test_mask, 0, N_CASES(mask_cases));
    tcase_add_test(tc, test_mask_fuzz_registered);
    tcase_add_test(tc, test_register_uri_password);
    tcase_add_test(tc, test_register_query_and_key_value);
    tcase_add_test(tc, test_register_nothing_for_sqlite);
    tcase_add_test(tc, test_forget_secrets);
    tcase_add_loop_test(tc, test_every_password_form, 0, N_CASES(hard_passwords));
    suite_add_tcase(s, tc);

    tc = tcase_create("settings");
    tcase_add_test(tc, test_add_x);
    tcase_add_test(tc, test_config_init_defaults);
    tcase_add_test(tc, test_resolve_precedence);
    tcase_add_test(tc, test_resolve_bad_dotenv);
    tcase_add_test(tc, test_resolve_empty_url);
    tcase_add_test(tc, test_resolve_config_paths);
    tcase_add_test(tc, test_resolve_registers_secrets);
    suite_add_tcase(s, tc);
    return s;
}
