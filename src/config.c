/* config.c: settings precedence, .env files, database URL parsing and masking. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "output.h"
#include "textfile.h"

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
    cfg->schema_dir = xstrdup("schema");
    cfg->version_table = xstrdup("rbacmig_version");
    cfg->history_table = xstrdup("rbacmig_history");
    cfg->schema = xstrdup("public");
    cfg->lock_timeout_ms = 10000; /* documented default: fail rather than queue behind a long lock */
    cfg->keep_shadows = true;     /* autogenerate's shadows, kept between runs (shadow.h) */
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
    free(cfg->schema_dir);
    free(cfg->version_table);
    free(cfg->history_table);
    free(cfg->schema);
    str_list_release(&cfg->managed_schemas);
    str_list_release(&cfg->test_dialects);
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
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    free(*field);
    *field = copy;
    return 0;
}

int config_add_x(config *cfg, const char *arg, rb_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return rb_errorf(err, RB_ERR_USAGE, "-x takes KEY=VALUE, got '%s'", arg);
    config_kv *grown = realloc(cfg->x, sizeof *grown * (size_t)(cfg->x_count + 1));
    if (!grown)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    cfg->x = grown;
    config_kv *kv = &cfg->x[cfg->x_count];
    kv->key = strndup(arg, (size_t)(eq - arg));
    kv->value = strdup(eq + 1);
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
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
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
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
            return rb_errorf(err, RB_ERR_FAILURE, "%s:%d: unterminated %c-quoted value", path,
                             lineno, quote);
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#') {
            free(v);
            return rb_errorf(err, RB_ERR_FAILURE, "%s:%d: unexpected text after quoted value",
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
    textfile tf;
    if (textfile_read(path, &tf, err) != 0) {
        if (errno != ENOENT)
            return -1;
        rb_error_init(err); /* no .env is no error */
        return 0;
    }
    int lineno = 0, rc = 0;
    size_t keylen = strlen(key);
    for (char *line = tf.text, *next; line < tf.text + tf.len; line = next) {
        /* One line at a time, cut in place; a NUL inside one ends it, as it ends a string. */
        char *nl = memchr(line, '\n', (size_t)(tf.text + tf.len - line));
        next = nl ? nl + 1 : tf.text + tf.len;
        if (nl)
            *nl = '\0';
        lineno++;
        size_t len = strlen(line);
        while (len > 0 && line[len - 1] == '\r')
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
            rc = rb_errorf(err, RB_ERR_FAILURE, "%s:%d: expected KEY=VALUE", path, lineno);
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
    textfile_release(&tf);
    if (rc != 0) {
        free(*value);
        *value = NULL;
    }
    return rc;
}

/* ---- building text ------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->oom = true;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_add(sbuf *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

/* The string built, or NULL when out of memory. Ownership passes to the caller. */
static char *sb_take(sbuf *b)
{
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    if (!b->p)
        return strdup("");
    return b->p;
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static void sb_add_pct(sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p)) {
            sb_addn(b, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_addn(b, e, 3);
        }
    }
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0'
           : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10
                                        : -1;
}

/* s[0, n) percent-decoded, or NULL when a '%' is not followed by two hex digits or decodes
 * to a NUL byte (libpq refuses both). Caller frees. */
static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *o++ = s[i];
            continue;
        }
        int hi = i + 2 < n + 1 && i + 1 < n ? hexval(s[i + 1]) : -1;
        int lo = hi >= 0 && i + 2 < n ? hexval(s[i + 2]) : -1;
        if (lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(hi * 16 + lo);
        i += 2;
    }
    *o = '\0';
    return out;
}

static bool has_password_word(const char *s, size_t n)
{
    static const char word[] = "password";
    for (size_t i = 0; i + 8 <= n; i++)
        if (strncasecmp(s + i, word, 8) == 0)
            return true;
    return false;
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

/* Any scheme://..., so a mistyped scheme still has its password masked. */
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

/* What is shown for a key=value string libpq cannot parse: nothing of it, since where its
 * password begins and ends is unknown (a `password="a b"` is cut at the blank). */
#define CONFIG_UNPARSED_SHOWN "(a connection string that libpq cannot parse)"

/* libpq's reading of a URI's user:password@ is trusted only when the URI has no '@' or one
 * that libpq took for the end of the userinfo (no '/' before it). With a '/' or an '@' in
 * the password libpq reads part of it as host, port or database, and a renderer of its
 * reading would print that part: such a URI is shown masked from "://" to its last '@'. */
static bool uri_userinfo_clean(const char *url)
{
    const char *auth = strstr(url, "://") + 3;
    const char *at = strchr(auth, '@');
    if (!at)
        return true;
    return !strchr(at + 1, '@') && !memchr(auth, '/', (size_t)(at - auth));
}

/* A query key that, decoded, contains "password" in any case: libpq takes "password" and
 * "sslpassword", and anything near them may be a user's misspelling of them. */
static bool param_is_password(const char *key, size_t keylen)
{
    /* Decoded leniently: an escape that is not one stays as written. */
    char *decoded = malloc(keylen + 1);
    if (!decoded)
        return true; /* out of memory: mask rather than show */
    size_t n = 0;
    for (size_t i = 0; i < keylen; i++) {
        int hi = i + 2 < keylen ? hexval(key[i + 1]) : -1;
        int lo = i + 2 < keylen ? hexval(key[i + 2]) : -1;
        if (key[i] == '%' && hi >= 0 && lo >= 0) {
            decoded[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            decoded[n++] = key[i];
        }
    }
    bool secret = has_password_word(decoded, n) || has_password_word(key, keylen);
    free(decoded);
    return secret;
}

static const char *opt_val(const PQconninfoOption *opts, const char *keyword)
{
    for (const PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, keyword) == 0)
            return o->val;
    return NULL;
}

static bool is_password_option(const char *keyword)
{
    return strcmp(keyword, "password") == 0 || strcmp(keyword, "sslpassword") == 0;
}

/* Counts the entries of a comma-separated list (libpq's host and port lists). */
static int list_count(const char *s)
{
    int n = 1;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

/* A host as a URI writes it: an IPv6 address in brackets, anything else percent-encoded. */
static void sb_add_host(sbuf *b, const char *host, size_t n)
{
    bool ipv6 = memchr(host, ':', n) != NULL;
    for (size_t i = 0; i < n && ipv6; i++)
        ipv6 = isxdigit((unsigned char)host[i]) || host[i] == ':' || host[i] == '.';
    char *h = strndup(host, n);
    if (!h) {
        b->oom = true;
        return;
    }
    if (ipv6) {
        sb_add(b, "[");
        sb_add(b, h);
        sb_add(b, "]");
    } else {
        sb_add_pct(b, h);
    }
    free(h);
}

/* scheme://user:****@host:port,.../dbname?key=value&...: libpq's reading of a URI, written
 * back with the passwords replaced. */
static char *render_uri(const char *url, const PQconninfoOption *opts)
{
    sbuf b = {0};
    sb_addn(&b, url, (size_t)(strstr(url, "://") + 3 - url));
    const char *user = opt_val(opts, "user"), *password = opt_val(opts, "password");
    if (user || password) {
        sb_add_pct(&b, user ? user : "");
        if (password)
            sb_add(&b, ":****");
        sb_add(&b, "@");
    }
    const char *host = opt_val(opts, "host"), *port = opt_val(opts, "port");
    /* Host i goes with port i. A list without its port list (libpq would read one back,
     * ",") or with one of another length goes to the query, as libpq has it. */
    bool in_authority = host && (port ? list_count(port) == list_count(host)
                                      : !strchr(host, ','));
    if (in_authority && host) {
        const char *h = host, *p = port;
        for (;;) {
            size_t hn = strcspn(h, ",");
            sb_add_host(&b, h, hn);
            if (p) {
                size_t pn = strcspn(p, ",");
                if (pn) {
                    sb_add(&b, ":");
                    char *one = strndup(p, pn);
                    if (!one)
                        b.oom = true;
                    else
                        sb_add_pct(&b, one);
                    free(one);
                }
                p += pn + (p[pn] == ',');
            }
            if (h[hn] != ',')
                break;
            sb_add(&b, ",");
            h += hn + 1;
        }
    }
    const char *dbname = opt_val(opts, "dbname");
    if (dbname) {
        sb_add(&b, "/");
        sb_add_pct(&b, dbname);
    }
    char sep = '?';
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        bool placed = strcmp(o->keyword, "user") == 0 || strcmp(o->keyword, "password") == 0 ||
                      strcmp(o->keyword, "dbname") == 0 ||
                      (in_authority && (strcmp(o->keyword, "host") == 0 ||
                                        strcmp(o->keyword, "port") == 0));
        if (!o->val || placed)
            continue;
        sb_addn(&b, &sep, 1);
        sep = '&';
        sb_add(&b, o->keyword);
        sb_add(&b, "=");
        if (is_password_option(o->keyword))
            sb_add(&b, "****");
        else
            sb_add_pct(&b, o->val);
    }
    return sb_take(&b);
}

/* key=value ... in libpq's order, quoting where libpq needs it, passwords replaced. */
static char *render_kv(const PQconninfoOption *opts)
{
    sbuf b = {0};
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (b.n)
            sb_add(&b, " ");
        sb_add(&b, o->keyword);
        sb_add(&b, "=");
        const char *v = o->val;
        if (is_password_option(o->keyword)) {
            sb_add(&b, "****");
        } else if (v[0] && !v[strcspn(v, " \t\n\r\f\v'\\=")]) {
            sb_add(&b, v);
        } else {
            sb_add(&b, "'");
            for (; *v; v++) {
                if (*v == '\'' || *v == '\\')
                    sb_add(&b, "\\");
                sb_addn(&b, v, 1);
            }
            sb_add(&b, "'");
        }
    }
    return sb_take(&b);
}

/* Where the value of the first password-like parameter begins ("?KEY=" or "&KEY=" anywhere
 * after "://"), or NULL. */
static const char *first_password_value(const char *url)
{
    for (const char *p = strstr(url, "://") + 3; *p; p++) {
        if (*p != '?' && *p != '&')
            continue;
        size_t keylen = strcspn(p + 1, "=&?");
        if (p[1 + keylen] == '=' && param_is_password(p + 1, keylen))
            return p + 1 + keylen + 1;
    }
    return NULL;
}

/* A URI libpq cannot read (or not soundly). Where a password ends is then unknown, so what
 * could be one is masked: from "://" to the last '@' when a ':' comes before it, and from
 * the value of the first password-like query parameter to the end. */
static char *render_unparsed_uri(const char *url)
{
    sbuf b = {0};
    const char *auth = strstr(url, "://") + 3;
    const char *at = strrchr(auth, '@');
    const char *value = first_password_value(url);
    sb_addn(&b, url, (size_t)(auth - url));
    const char *tail = auth;
    if (at && memchr(auth, ':', (size_t)(at - auth))) { /* without a ':', a user name only */
        sb_add(&b, "****");
        tail = at;
    }
    if (!value) {
        sb_add(&b, tail);
    } else if (value >= tail) { /* else the '@' was in the value: all of it is masked */
        sb_addn(&b, tail, (size_t)(value - tail));
        sb_add(&b, "****");
    }
    return sb_take(&b);
}

/* libpq's parse of url: only for the strings libpq itself would parse (a postgres URI or a
 * key=value string; libpq would read "mysql://..." as a broken key=value string). */
static PQconninfoOption *parse_conninfo(const char *url, char **msg)
{
    *msg = NULL;
    if (is_uri(url) && !is_pg_uri(url))
        return NULL;
    return PQconninfoParse(url, msg);
}

char *config_mask_url(const char *url)
{
    if (!url)
        return strdup("");
    if (starts_with(url, "sqlite:"))
        return strdup(url);
    char *msg = NULL;
    PQconninfoOption *opts = parse_conninfo(url, &msg);
    if (msg)
        PQfreemem(msg);
    char *shown;
    if (is_uri(url))
        shown = opts && uri_userinfo_clean(url) ? render_uri(url, opts) : render_unparsed_uri(url);
    else
        shown = opts ? render_kv(opts) : strdup(CONFIG_UNPARSED_SHOWN);
    if (opts)
        PQconninfoFree(opts);
    return shown;
}

/* Registers a password: bare (as written and percent-decoded) and in the credential form
 * that can only be a login, ":PASSWORD@". */
static void register_password(const char *pw, size_t n)
{
    char *raw = strndup(pw, n);
    if (!raw || !raw[0]) {
        free(raw);
        return;
    }
    char *decoded = pct_decode(raw, n);
    const char *forms[2] = {raw, decoded};
    for (int i = 0; i < 2; i++) {
        if (!forms[i] || !forms[i][0])
            continue;
        out_register_secret(forms[i]);
        size_t len = strlen(forms[i]) + 3;
        char *cred = malloc(len);
        if (cred) {
            snprintf(cred, len, ":%s@", forms[i]);
            out_register_credential(cred, ":****@");
        }
        free(cred);
    }
    free(decoded);
    free(raw);
}

/* "KEY=VALUE" as written (key and value as the text has them) is a credential. */
static void register_assignment(const char *text, size_t len)
{
    char *cred = strndup(text, len);
    const char *eq = cred ? strchr(cred, '=') : NULL;
    if (eq && eq[1]) {
        size_t keep = (size_t)(eq + 1 - cred);
        char *shown = malloc(keep + 5);
        if (shown) {
            memcpy(shown, cred, keep);
            memcpy(shown + keep, "****", 5);
        }
        out_register_credential(cred, shown);
        free(shown);
    }
    free(cred);
}

/* The passwords of a URI as written: the userinfo's, read up to the first '@' (libpq) and up
 * to the last (every other reader), and those of password-like query parameters. */
static void register_uri_raw(const char *url)
{
    const char *auth = strstr(url, "://") + 3;
    const char *first_at = strchr(auth, '@'), *last_at = strrchr(auth, '@');
    if (first_at) {
        const char *colon = memchr(auth, ':', (size_t)(first_at - auth));
        if (colon)
            register_password(colon + 1, (size_t)(first_at - colon - 1));
        if (!colon)
            colon = memchr(auth, ':', (size_t)(last_at - auth));
        if (colon)
            register_password(colon + 1, (size_t)(last_at - colon - 1));
    }
    for (const char *p = strstr(url, "://") + 3; *p; p++) {
        if (*p != '?' && *p != '&')
            continue;
        size_t len = strcspn(p + 1, "&");
        size_t keylen = strcspn(p + 1, "=&?");
        if (p[1 + keylen] != '=' || !param_is_password(p + 1, keylen))
            continue;
        const char *v = p + 1 + keylen + 1;
        register_password(v, len - keylen - 1);
        register_password(v, strlen(v));
        register_assignment(p + 1, len);
    }
}

/* The passwords of a key=value string as written, valid for libpq or not: each value of a
 * key containing "password" in any case, quoted with ' (as libpq reads it) or with " (as a
 * user may have meant it), or up to a blank that no backslash escapes. */
static void register_kv_raw(const char *s)
{
    size_t i = 0;
    while (s[i]) {
        while (isspace((unsigned char)s[i]))
            i++;
        size_t key = i;
        while (s[i] && s[i] != '=' && !isspace((unsigned char)s[i]))
            i++;
        size_t keyend = i;
        while (isspace((unsigned char)s[i]))
            i++;
        if (s[i] != '=') {
            if (keyend == key && s[i])
                i++;
            continue;
        }
        i++;
        while (isspace((unsigned char)s[i]))
            i++;
        size_t inner = i, inner_end;
        if (s[i] == '\'' || s[i] == '"') {
            char quote = s[i];
            inner = ++i;
            while (s[i] && s[i] != quote)
                i += s[i] == '\\' && s[i + 1] ? 2 : 1;
            inner_end = i;
            if (s[i])
                i++;
        } else {
            while (s[i] && !isspace((unsigned char)s[i]))
                i += s[i] == '\\' && s[i + 1] ? 2 : 1;
            inner_end = i;
        }
        if (!has_password_word(s + key, keyend - key) || inner_end == inner)
            continue;
        /* Where an unquoted value with a blank, or one in double quotes (libpq has none)
         * holding one, was meant to end is unknown: up to the last quote, and to the end. */
        if (s[inner - 1] == '"' && strrchr(s, '"') > s + inner_end)
            register_password(s + inner, (size_t)(strrchr(s, '"') - (s + inner)));
        register_password(s + inner, strlen(s + inner));
        register_password(s + inner, inner_end - inner);
        /* Decoded: a backslash takes the next byte. */
        char *plain = malloc(inner_end - inner + 1), *o = plain;
        for (size_t k = inner; plain && k < inner_end; k++)
            *o++ = s[k] == '\\' && k + 1 < inner_end ? s[++k] : s[k];
        if (plain) {
            *o = '\0';
            register_password(plain, strlen(plain));
        }
        free(plain);
        register_assignment(s + key, i - key);
    }
}

/* A user:password@ (a ':' before an '@' after "://") or a key with "password" in it. */
static bool may_hold_password(const char *url)
{
    if (has_password_word(url, strlen(url)))
        return true;
    const char *auth = is_uri(url) ? strstr(url, "://") + 3 : NULL;
    const char *at = auth ? strrchr(auth, '@') : NULL;
    return at && memchr(auth, ':', (size_t)(at - auth));
}

void config_register_url_secrets(const char *url)
{
    if (!url || !url[0] || starts_with(url, "sqlite:"))
        return;
    /* The whole text as given (a migration may print it) shows as its masked form, if it
     * can hold a password at all: "dbname=app" or "po" is no credential, and masking it
     * would change a --sql script that only happens to contain it. */
    if (may_hold_password(url)) {
        char *shown = config_mask_url(url);
        out_register_credential(url, shown);
        /* The masked form itself holds no password, and a password equal to the user name
         * ("postgres") must not turn it into "****:****@". */
        out_register_shown(shown);
        free(shown);
    }
    char *msg = NULL;
    PQconninfoOption *opts = parse_conninfo(url, &msg);
    if (msg)
        PQfreemem(msg);
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val || !o->val[0] || !is_password_option(o->keyword))
            continue;
        out_register_secret(o->val);
        size_t len = strlen(o->val) + 16;
        char *cred = malloc(len);
        if (cred) {
            snprintf(cred, len, ":%s@", o->val);
            out_register_credential(cred, ":****@");
            snprintf(cred, len, "password=%s", o->val);
            out_register_credential(cred, "password=****");
        }
        free(cred);
    }
    if (opts)
        PQconninfoFree(opts);
    if (is_uri(url))
        register_uri_raw(url);
    else
        register_kv_raw(url);
}

/* libpq's message about a string it cannot parse, without what it quotes of that string (a
 * token, a parameter or the whole URI, any of which may hold a password): `"..."` stands for
 * each quoted part, save a single punctuation character such as "=". */
static void libpq_reason(const char *msg, char *out, size_t size)
{
    sbuf b = {0};
    size_t line = strcspn(msg, "\n");
    for (size_t i = 0; i < line;) {
        if (msg[i] != '"') {
            sb_addn(&b, msg + i, 1);
            i++;
        } else if (i + 2 < line && ispunct((unsigned char)msg[i + 1]) && msg[i + 1] != '"' &&
                   msg[i + 2] == '"') {
            sb_addn(&b, msg + i, 3);
            i += 3;
        } else {
            /* What libpq quotes may hold quotes itself: it ends at the line's last one. */
            sb_add(&b, "\"...\"");
            const char *last = msg + i + 1;
            for (const char *p = last; p < msg + line; p++)
                if (*p == '"')
                    last = p;
            i = *last == '"' && last > msg + i ? (size_t)(last - msg) + 1 : line;
        }
    }
    char *text = sb_take(&b);
    rb_strlcpy(out, text ? text : "invalid connection string", size);
    free(text);
}

int config_url_dialect(const char *url, db_dialect *dialect, rb_error *err)
{
    *dialect = DIALECT_NONE;
    /* Registered first: every message below may quote the URL. */
    config_register_url_secrets(url);
    if (starts_with(url, "sqlite:")) {
        *dialect = DIALECT_SQLITE;
        return 0;
    }
    bool uri = is_uri(url);
    if (uri && !is_pg_uri(url)) {
        char *masked = config_mask_url(url);
        rb_errorf(err, RB_ERR_USAGE,
                  "unsupported database URL '%s': expected postgresql://..., key=value pairs, "
                  "or sqlite:PATH",
                  masked ? masked : "");
        free(masked);
        return -1;
    }
    if (!uri && !strchr(url, '='))
        return rb_errorf(err, RB_ERR_USAGE,
                         "unsupported database URL (not shown: it may hold a password): "
                         "expected postgresql://..., key=value pairs, or sqlite:PATH");
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &msg);
    if (!opts) {
        char reason[512];
        libpq_reason(msg ? msg : "invalid connection string", reason, sizeof reason);
        if (msg)
            PQfreemem(msg);
        if (!uri)
            return rb_errorf(err, RB_ERR_USAGE, "invalid database URL %s: %s",
                             CONFIG_UNPARSED_SHOWN, reason);
        char *masked = config_mask_url(url);
        rb_errorf(err, RB_ERR_USAGE, "invalid database URL '%s': %s", masked ? masked : "",
                  reason);
        free(masked);
        return -1;
    }
    /* A '/' or '@' left raw in a password makes libpq read part of the password as the
     * host, port or database; connecting would only echo that part back in an error. */
    bool misread = false;
    static const char *const parts[] = {"host", "hostaddr", "port", "dbname"};
    for (size_t i = 0; uri && i < sizeof parts / sizeof *parts; i++) {
        const char *v = opt_val(opts, parts[i]);
        misread |= v && strchr(v, '@');
    }
    PQconninfoFree(opts);
    if (misread) {
        char *masked = config_mask_url(url);
        rb_errorf(err, RB_ERR_USAGE,
                  "invalid database URL '%s': libpq reads part of it as the host, port or "
                  "database name; write '@' as %%40 and '/' as %%2F in the user name and "
                  "password",
                  masked ? masked : "");
        free(masked);
        return -1;
    }
    *dialect = DIALECT_POSTGRESQL;
    return 0;
}

int config_sqlite_path(const char *url, char **path, rb_error *err)
{
    *path = NULL;
    const char *rest = url + strlen("sqlite:");
    if (starts_with(rest, "///"))
        rest += 3; /* sqlite:///rel -> rel, sqlite:////abs -> /abs */
    else if (starts_with(rest, "//"))
        return rb_errorf(err, RB_ERR_USAGE,
                         "invalid database URL '%s': use sqlite:PATH, sqlite:///relative or "
                         "sqlite:////absolute",
                         url);
    if (*rest == '\0')
        return rb_errorf(err, RB_ERR_USAGE, "invalid database URL '%s': no file name", url);
    if (!(*path = strdup(rest)))
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    return 0;
}


/* dir/path for a relative path (malloc'd into *field); an absolute one is left alone. */
static int rebase_path(char **field, const char *dir, size_t dirlen, rb_error *err)
{
    if (!*field || (*field)[0] == '/')
        return 0;
    size_t n = dirlen + strlen(*field) + 2;
    char *joined = malloc(n);
    if (!joined)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    snprintf(joined, n, "%.*s/%s", (int)dirlen, dir, *field);
    free(*field);
    *field = joined;
    return 0;
}

/* With -c FILE, the project's relative paths are FILE's directory's, as Alembic's %(here)s
 * makes them: migrations, rbac, lua (set in the file or left at their defaults) and the
 * path of a sqlite: database_url written in the file. rbacmig.lua found in the working
 * directory needs nothing. */
static int resolve_config_paths(config *cfg, rb_error *err)
{
    const char *slash = cfg->config_file ? strrchr(cfg->config_file, '/') : NULL;
    if (!cfg->config_file_given || !slash)
        return 0;
    const char *dir = cfg->config_file;
    size_t dirlen = slash == dir ? 1 : (size_t)(slash - dir); /* "/x.lua": "/" */
    if (dirlen == 1 && dir[0] == '/')
        dirlen = 0; /* joined as "/path" */
    if (rebase_path(&cfg->migrations_dir, dir, dirlen, err) != 0 ||
        rebase_path(&cfg->rbac_dir, dir, dirlen, err) != 0 ||
        rebase_path(&cfg->lua_dir, dir, dirlen, err) != 0 ||
        rebase_path(&cfg->schema_dir, dir, dirlen, err) != 0)
        return -1;
    if (!cfg->file_url || !starts_with(cfg->file_url, "sqlite:") ||
        strcmp(cfg->file_url, "sqlite::memory:") == 0)
        return 0;
    char *path = NULL;
    if (config_sqlite_path(cfg->file_url, &path, err) != 0)
        return -1;
    int rc = rebase_path(&path, dir, dirlen, err);
    if (rc == 0) {
        size_t n = strlen(path) + sizeof "sqlite:";
        char *url = malloc(n);
        if (!url) {
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        } else {
            snprintf(url, n, "sqlite:%s", path);
            free(cfg->file_url);
            cfg->file_url = url;
        }
    }
    free(path);
    return rc;
}

int config_resolve_url(config *cfg, rb_error *err)
{
    if (resolve_config_paths(cfg, err) != 0)
        return -1;
    /* An empty URL set anywhere is a mistake (a CI secret that is missing): falling through
     * to the next source would run, and "succeed", on another database. */
    const char *chosen = NULL;
    char *from_dotenv = NULL;
    const char *env = getenv("DATABASE_URL");
    if (cfg->flag_url) {
        if (!cfg->flag_url[0])
            return rb_errorf(err, RB_ERR_USAGE, "the database URL is empty (from "
                             "--database-url)");
        chosen = cfg->flag_url;
        cfg->url_source = "--database-url";
    } else if (env) {
        if (!env[0])
            return rb_errorf(err, RB_ERR_USAGE, "DATABASE_URL is set but empty (from the "
                             "environment)");
        chosen = env;
        cfg->url_source = "DATABASE_URL";
    } else {
        if (dotenv_lookup(".env", "DATABASE_URL", &from_dotenv, err) != 0)
            return -1;
        if (from_dotenv) {
            if (!from_dotenv[0]) {
                free(from_dotenv);
                return rb_errorf(err, RB_ERR_USAGE, "DATABASE_URL is set but empty (from "
                                 ".env)");
            }
            chosen = from_dotenv;
            cfg->url_source = ".env";
        } else if (cfg->file_url) {
            if (!cfg->file_url[0])
                return rb_errorf(err, RB_ERR_USAGE, "database_url is set but empty (from "
                                 "%s)", cfg->config_file ? cfg->config_file : "the config file");
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
