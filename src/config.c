/* config.c: settings precedence, .env files, database URL parsing and masking. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void config_init(config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->config_file = xstrdup("rbacmig.lua");
    cfg->migrations_dir = xstrdup("migrations");
    cfg->rbac_dir = xstrdup("rbac");
    cfg->lua_dir = xstrdup("lua");
    cfg->version_table = xstrdup("rbacmig_version");
    cfg->history_table = xstrdup("rbacmig_history");
    cfg->schema = xstrdup("public");
    cfg->lock_timeout_ms = 10000; /* documented default: fail rather than queue behind a long lock */
}

void config_release(config *cfg)
{
    free(cfg->flag_url);
    free(cfg->file_url);
    free(cfg->database_url);
    free(cfg->config_file);
    free(cfg->migrations_dir);
    free(cfg->rbac_dir);
    free(cfg->lua_dir);
    free(cfg->version_table);
    free(cfg->history_table);
    free(cfg->schema);
    for (int i = 0; i < cfg->x_count; i++) {
        free(cfg->x[i].key);
        free(cfg->x[i].value);
    }
    free(cfg->x);
    memset(cfg, 0, sizeof *cfg);
}

int config_set(char **field, const char *value, rb_error *err)
{
    char *copy = NULL;
    if (value && !(copy = strdup(value)))
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    free(*field);
    *field = copy;
    return 0;
}

int config_add_x(config *cfg, const char *arg, rb_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return rb_errorf(err, RB_EXIT_USAGE, "-x takes KEY=VALUE, got '%s'", arg);
    config_kv *grown = realloc(cfg->x, sizeof *grown * (size_t)(cfg->x_count + 1));
    if (!grown)
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    cfg->x = grown;
    config_kv *kv = &cfg->x[cfg->x_count];
    kv->key = strndup(arg, (size_t)(eq - arg));
    kv->value = strdup(eq + 1);
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    }
    cfg->x_count++;
    return 0;
}

/* ---- .env ------------------------------------------------------------------------ */

/* Parses the value part of a .env line into a new string. */
static int dotenv_value(const char *p, const char *path, int lineno, char **out, rb_error *err)
{
    size_t cap = strlen(p) + 1, n = 0;
    char *v = malloc(cap);
    if (!v)
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    if (*p == '"' || *p == '\'') {
        char quote = *p++;
        for (; *p && *p != quote; p++) {
            if (quote == '"' && *p == '\\' && p[1]) {
                p++;
                v[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            } else {
                v[n++] = *p;
            }
        }
        if (*p != quote) {
            free(v);
            return rb_errorf(err, RB_EXIT_FAILURE, "%s:%d: unterminated %c-quoted value", path,
                             lineno, quote);
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#') {
            free(v);
            return rb_errorf(err, RB_EXIT_FAILURE, "%s:%d: unexpected text after quoted value",
                             path, lineno);
        }
    } else {
        /* Unquoted: up to an inline " #" comment, trailing blanks dropped. */
        for (; *p; p++) {
            if (*p == '#' && n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                break;
            v[n++] = *p;
        }
        while (n > 0 && isspace((unsigned char)v[n - 1]))
            n--;
    }
    v[n] = '\0';
    *out = v;
    return 0;
}

int dotenv_lookup(const char *path, const char *key, char **value, rb_error *err)
{
    *value = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return rb_errorf(err, RB_EXIT_FAILURE, "cannot read '%s': %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    size_t keylen = strlen(key);
    while ((len = getline(&line, &cap, f)) != -1) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *p = line;
        if (lineno == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF)
            p += 3;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
            p += 6;
            while (*p == ' ' || *p == '\t')
                p++;
        }
        char *name = p;
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')
            p++;
        size_t namelen = (size_t)(p - name);
        while (*p == ' ' || *p == '\t')
            p++;
        if (namelen == 0 || *p != '=') {
            rc = rb_errorf(err, RB_EXIT_FAILURE, "%s:%d: expected KEY=VALUE", path, lineno);
            break;
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        char *v = NULL;
        if ((rc = dotenv_value(p, path, lineno, &v, err)) != 0)
            break;
        /* Later assignments win, as in a shell. */
        if (namelen == keylen && strncmp(name, key, keylen) == 0) {
            free(*value);
            *value = v;
        } else {
            free(v);
        }
    }
    free(line);
    fclose(f);
    if (rc != 0) {
        free(*value);
        *value = NULL;
    }
    return rc;
}

/* ---- URLs ------------------------------------------------------------------------ */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_pg_uri(const char *url)
{
    return starts_with(url, "postgresql://") || starts_with(url, "postgres://");
}

/* Any scheme://user:pass@host form, so a mistyped scheme still has its password masked. */
static bool is_uri(const char *url)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return false;
    for (const char *p = url; p < sep; p++)
        if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
            return false;
    return true;
}

int config_url_dialect(const char *url, db_dialect *dialect, rb_error *err)
{
    *dialect = DIALECT_NONE;
    /* Registered first: every message below may quote the URL (libpq's parse errors do). */
    config_register_url_secrets(url);
    if (starts_with(url, "sqlite:")) {
        *dialect = DIALECT_SQLITE;
        return 0;
    }
    if (is_pg_uri(url) || (strchr(url, '=') && !strstr(url, "://"))) {
        char *msg = NULL;
        PQconninfoOption *opts = PQconninfoParse(url, &msg);
        if (!opts) {
            char *masked = config_mask_url(url);
            char reason[512] = "invalid connection string";
            if (msg) {
                rb_strlcpy(reason, msg, sizeof reason);
                reason[strcspn(reason, "\n")] = '\0';
                PQfreemem(msg);
            }
            rb_errorf(err, RB_EXIT_USAGE, "invalid database URL '%s': %s", masked ? masked : "",
                      reason);
            out_mask(err->message);
            free(masked);
            return -1;
        }
        PQconninfoFree(opts);
        *dialect = DIALECT_POSTGRESQL;
        return 0;
    }
    char *masked = config_mask_url(url);
    rb_errorf(err, RB_EXIT_USAGE,
              "unsupported database URL '%s': expected postgresql://..., key=value pairs, or "
              "sqlite:PATH",
              masked ? masked : "");
    out_mask(err->message);
    free(masked);
    return -1;
}

int config_sqlite_path(const char *url, char **path, rb_error *err)
{
    *path = NULL;
    const char *rest = url + strlen("sqlite:");
    if (starts_with(rest, "///"))
        rest += 3; /* sqlite:///rel -> rel, sqlite:////abs -> /abs */
    else if (starts_with(rest, "//"))
        return rb_errorf(err, RB_EXIT_USAGE,
                         "invalid database URL '%s': use sqlite:PATH, sqlite:///relative or "
                         "sqlite:////absolute",
                         url);
    if (*rest == '\0')
        return rb_errorf(err, RB_EXIT_USAGE, "invalid database URL '%s': no file name", url);
    if (!(*path = strdup(rest)))
        return rb_errorf(err, RB_EXIT_FAILURE, "out of memory");
    return 0;
}

/* Where the password of scheme://user:password@host sits. libpq ends the userinfo at the
 * first '@' before any '/', other parsers at the last: the span covers both readings, from
 * the first ':' to the last '@' (so a '?', '#' or '@' in a password stays inside it), and
 * *first_len is where libpq's reading ends. False when there is no password. */
static bool uri_password_span(const char *url, size_t *start, size_t *len, size_t *first_len)
{
    const char *auth = strstr(url, "://");
    if (!auth)
        return false;
    auth += 3;
    const char *slash = auth + strcspn(auth, "/");
    const char *first_at = memchr(auth, '@', (size_t)(slash - auth));
    if (!first_at)
        return false;
    const char *last_at = first_at;
    for (const char *p = first_at; p < slash; p++)
        if (*p == '@')
            last_at = p;
    const char *colon = memchr(auth, ':', (size_t)(first_at - auth));
    if (!colon || first_at == colon + 1)
        return false;
    *start = (size_t)(colon + 1 - url);
    *len = (size_t)(last_at - colon - 1);
    if (first_len)
        *first_len = (size_t)(first_at - colon - 1);
    return true;
}

/* The start of the query string: the first '?' after the userinfo. */
static const char *uri_query(const char *url)
{
    size_t start, len;
    const char *from = uri_password_span(url, &start, &len, NULL) ? url + start + len : url;
    return strchr(from, '?');
}

/* A URI's passwords as written, still percent-encoded. */
static void register_uri_raw_secrets(const char *url)
{
    size_t start, len, first_len;
    if (uri_password_span(url, &start, &len, &first_len)) {
        char *raw = strndup(url + start, len);
        out_register_secret(raw);
        raw[first_len] = '\0'; /* libpq's reading, when it is shorter */
        out_register_secret(raw);
        free(raw);
    }
    for (const char *q = uri_query(url); q; q = strchr(q + 1, '&')) {
        const char *name = q + 1;
        if (starts_with(name, "password=") || starts_with(name, "sslpassword=")) {
            const char *v = strchr(name, '=') + 1;
            char *raw = strndup(v, strcspn(v, "&#"));
            out_register_secret(raw);
            free(raw);
        }
    }
}

void config_register_url_secrets(const char *url)
{
    if (!url || starts_with(url, "sqlite:"))
        return;
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &msg);
    if (msg)
        PQfreemem(msg);
    if (opts) {
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (o->val && (strcmp(o->keyword, "password") == 0 ||
                           strcmp(o->keyword, "sslpassword") == 0))
                out_register_secret(o->val);
        PQconninfoFree(opts);
    }
    if (is_uri(url))
        register_uri_raw_secrets(url);
}

/* Replaces text[start, start+len) with "****" in a new string. */
static char *splice_mask(char *text, size_t start, size_t len)
{
    size_t n = strlen(text);
    char *out = malloc(n - len + 5);
    if (!out) {
        free(text);
        return NULL;
    }
    memcpy(out, text, start);
    memcpy(out + start, "****", 4);
    memcpy(out + start + 4, text + start + len, n - start - len + 1);
    free(text);
    return out;
}

char *config_mask_url(const char *url)
{
    char *s = strdup(url ? url : "");
    if (!s || starts_with(s, "sqlite:"))
        return s;
    if (is_uri(s)) {
        size_t start, len;
        if (uri_password_span(s, &start, &len, NULL) && !(s = splice_mask(s, start, len)))
            return NULL;
        for (char *q = (char *)uri_query(s); q; q = strchr(q + 1, '&')) {
            char *name = q + 1;
            if (starts_with(name, "password=") || starts_with(name, "sslpassword=")) {
                char *v = strchr(name, '=') + 1;
                size_t off = (size_t)(v - s);
                if (!(s = splice_mask(s, off, strcspn(v, "&#"))))
                    return NULL;
                q = s + off;
            }
        }
        return s;
    }
    /* key=value form: mask the value of password / sslpassword, quoted or not. */
    for (size_t i = 0; s[i];) {
        while (isspace((unsigned char)s[i]))
            i++;
        size_t key = i;
        while (s[i] && s[i] != '=' && !isspace((unsigned char)s[i]))
            i++;
        size_t keylen = i - key;
        while (isspace((unsigned char)s[i]))
            i++;
        if (s[i] != '=') {
            /* A word without '=' (not valid for libpq, but it may be in an error message):
             * skip it and keep looking for password= after it. */
            if (keylen == 0 && s[i])
                i++;
            continue;
        }
        i++;
        while (isspace((unsigned char)s[i]))
            i++;
        size_t vstart = i;
        if (s[i] == '\'') {
            for (i++; s[i] && s[i] != '\''; i++)
                if (s[i] == '\\' && s[i + 1])
                    i++;
            if (s[i])
                i++;
        } else {
            /* libpq reads "\ " in an unquoted value as an escaped blank, part of the value. */
            while (s[i] && !isspace((unsigned char)s[i]))
                i += s[i] == '\\' && s[i + 1] ? 2 : 1;
        }
        bool secret = (keylen == 8 && strncmp(s + key, "password", 8) == 0) ||
                      (keylen == 11 && strncmp(s + key, "sslpassword", 11) == 0);
        if (secret && i > vstart) {
            if (!(s = splice_mask(s, vstart, i - vstart)))
                return NULL;
            i = vstart + 4;
        }
    }
    return s;
}

int config_resolve_url(config *cfg, rb_error *err)
{
    const char *chosen = NULL;
    char *from_dotenv = NULL;
    if (cfg->flag_url) {
        chosen = cfg->flag_url;
        cfg->url_source = "--database-url";
    } else if (getenv("DATABASE_URL") && getenv("DATABASE_URL")[0]) {
        chosen = getenv("DATABASE_URL");
        cfg->url_source = "DATABASE_URL";
    } else {
        if (dotenv_lookup(".env", "DATABASE_URL", &from_dotenv, err) != 0)
            return -1;
        if (from_dotenv && from_dotenv[0]) {
            chosen = from_dotenv;
            cfg->url_source = ".env";
        } else if (cfg->file_url) {
            chosen = cfg->file_url;
            cfg->url_source = "config file";
        } else {
            chosen = CONFIG_DEFAULT_URL;
            cfg->url_source = "default";
        }
    }
    config_register_url_secrets(chosen);
    int rc = config_set(&cfg->database_url, chosen, err);
    free(from_dotenv);
    return rc;
}
