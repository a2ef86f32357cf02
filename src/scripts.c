/* scripts.c: the migrations directory on disk: each file read once (textfile.c), hashed,
 * its header read, its text handed to the Lua host; new revision files and scaffolds. */
#include "scripts.h"

#include "embedded_files.h"
#include "output.h"
#include "revcache.h"
#include "sha256.h"
#include "textfile.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The "Create Date:" of a generated header comment, if any. */
static char *header_create_date(const char *text)
{
    const char *p = strstr(text, "-- Create Date:");
    if (!p || p - text > 2048)
        return NULL;
    p += strlen("-- Create Date:");
    while (*p == ' ')
        p++;
    return strndup(p, strcspn(p, "\r\n"));
}

/* ---- a migration's SQL files -------------------------------------------------------- */

/* The SQL files of migration M.lua are the files M.<part>.sql beside it (the ones
 * `revision --sql` writes are M.up.sql and M.down.sql). They are found by name, with no
 * need to run the migration, so the checksum is known when the directory is loaded, and
 * they are the only files db:exec_file reads (lua_db.c). */
static bool is_sql_file_of(const char *name, const char *stem, size_t stem_len)
{
    size_t n = strlen(name);
    return n > stem_len + 5 && strncmp(name, stem, stem_len) == 0 && name[stem_len] == '.' &&
           strcmp(name + n - 4, ".sql") == 0;
}

/* The checksum of a migration with SQL files: SHA-256 over the file's own hex digest, then
 * each SQL file's name and digest (normalised as the file's, in name order). Without SQL
 * files it stays the file's own digest, so no recorded checksum changes. names[0..n) are
 * the SQL files' names in dir, sorted. */
static int checksum_with_sql(const char *dir, char *const *names, int n, char hex[65],
                             rb_error *err)
{
    if (n == 0)
        return 0;
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, hex, 64);
    sha256_update(&ctx, "\n", 1);
    for (int i = 0; i < n; i++) {
        char *path = malloc(strlen(dir) + strlen(names[i]) + 2);
        textfile tf;
        char file_hex[65];
        if (!path)
            return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        sprintf(path, "%s/%s", dir, names[i]);
        int rc = textfile_read(path, &tf, err);
        free(path);
        if (rc != 0)
            return -1;
        sha256_hex_normalised(tf.text, tf.len, file_hex);
        textfile_release(&tf);
        sha256_update(&ctx, names[i], strlen(names[i]));
        sha256_update(&ctx, "\n", 1);
        sha256_update(&ctx, file_hex, 64);
        sha256_update(&ctx, "\n", 1);
    }
    unsigned char digest[32];
    sha256_final(&ctx, digest);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", digest[i]);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The SQL files of the migration file `name`, from sorted (a directory's *.sql names, in
 * order): they begin with its stem and a dot, so they sit together, found by binary search
 * and copied (borrowed pointers) into *out, which the caller frees. */
static int sql_files_in(const str_list *sorted, const char *name, char ***out, int *n)
{
    size_t stem_len = strlen(name) - 4;
    int lo = 0, hi = sorted->count;
    *out = NULL;
    *n = 0;
    while (lo < hi) { /* the first name not below "<stem>." */
        int mid = lo + (hi - lo) / 2;
        int c = strncmp(sorted->items[mid], name, stem_len);
        if (c == 0)
            c = (unsigned char)sorted->items[mid][stem_len] - (unsigned char)'.';
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int end = lo;
    while (end < sorted->count && strncmp(sorted->items[end], name, stem_len) == 0 &&
           sorted->items[end][stem_len] == '.')
        end++;
    if (end == lo)
        return 0;
    if (!(*out = malloc(sizeof **out * (size_t)(end - lo))))
        return -1;
    for (int i = lo; i < end; i++)
        if (is_sql_file_of(sorted->items[i], name, stem_len))
            (*out)[(*n)++] = sorted->items[i];
    return 0;
}

/* The SQL files of the migration at path, sorted, into *out (the caller releases it). */
static int list_sql_files(const char *path, str_list *out, rb_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    const char *base = slash ? slash + 1 : path;
    size_t stem_len = strlen(base) > 4 ? strlen(base) - 4 : 0;
    DIR *d = dir ? opendir(dir) : NULL;
    int rc = 0;
    if (!d) {
        rc = dir ? rb_errorf(err, RB_ERR_FAILURE, "cannot open '%s': %s", dir, strerror(errno))
                 : rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        free(dir);
        return rc;
    }
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (is_sql_file_of(e->d_name, base, stem_len) && str_list_push(out, e->d_name) != 0)
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    closedir(d);
    free(dir);
    if (rc == 0 && out->count > 1)
        qsort(out->items, (size_t)out->count, sizeof *out->items, compare_names);
    return rc;
}

/* Reads the migration name (at path) into *r: from the cache while its entry matches, else
 * run by the host. The file is read at most once: its text is hashed and handed to the
 * host, and a cache hit that needs no checksum needs no read at all. */
static int load_one(lua_host *host, revcache *cache, const char *dir, const char *name,
                    const char *path, char *const *sql_names, int nsql, bool checksums,
                    revision *r, rb_error *err)
{
    textfile tf = {0};
    struct stat st;
    char sha256[65] = "";
    int rc = -1;
    /* The identity before the read (fstat of the open file): a file changed during the read
     * gets a key that no longer matches, never a key that matches other bytes. */
    bool have_key;
    if (checksums) {
        if (textfile_read(path, &tf, err) != 0)
            return -1;
        sha256_hex_normalised(tf.text, tf.len, sha256);
        if (checksum_with_sql(dir, sql_names, nsql, sha256, err) != 0)
            goto done;
        st = tf.st;
        have_key = cache && tf.len == (size_t)st.st_size; /* else it grew during the read */
    } else {
        have_key = cache && stat(path, &st) == 0;
    }
    /* Where a checksum is recorded or compared, an entry must match the file's bytes, not
     * only its identity on disk (revcache.h). */
    if (have_key && revcache_lookup(cache, name, &st, path, checksums ? sha256 : NULL, r)) {
        rc = 0;
        goto done;
    }
    if ((!tf.text && textfile_read(path, &tf, err) != 0) ||
        lua_host_read_revision(host, path, tf.text, tf.len, r, err) != 0)
        goto done;
    r->create_date = header_create_date(tf.text);
    memcpy(r->sha256, sha256, sizeof r->sha256);
    if (have_key && lua_host_last_read_self_contained(host))
        revcache_store(cache, name, &st, r);
    rc = 0;
done:
    textfile_release(&tf);
    return rc;
}

int scripts_run_migration(lua_host *host, const revision *rev, const char *function,
                          db_conn *conn, rb_error *err)
{
    textfile tf;
    char now[65];
    str_list sql = {0};
    if (textfile_read(rev->path, &tf, err) != 0)
        return -1;
    int rc = 0;
    if (rev->sha256[0]) {
        const char *slash = strrchr(rev->path, '/');
        char *dir = slash ? strndup(rev->path, (size_t)(slash - rev->path)) : strdup(".");
        sha256_hex_normalised(tf.text, tf.len, now);
        if (!dir)
            rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        else if (list_sql_files(rev->path, &sql, err) != 0 ||
                 checksum_with_sql(dir, sql.items, sql.count, now, err) != 0)
            rc = -1;
        free(dir);
        if (rc == 0 && strcmp(now, rev->sha256) != 0) {
            rc = rb_errorf(err, RB_ERR_FAILURE, "%s %s while rbacmig was running "
                           "(SHA-256 %.12s... when read, %.12s... now); nothing of it ran",
                           rev->path, sql.count ? "or its SQL files changed" : "changed",
                           rev->sha256, now);
            rb_strlcpy(err->hint, "run the command again", sizeof err->hint);
        }
    }
    if (rc == 0)
        rc = lua_host_run_migration(host, rev->path, tf.text, tf.len, function, conn, err);
    str_list_release(&sql);
    textfile_release(&tf);
    return rc;
}

int scripts_load(lua_host *host, const char *dir, bool checksums, graph *g, rb_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        rb_errorf(err, RB_ERR_FAILURE, "cannot open migrations directory '%s': %s", dir,
                  strerror(errno));
        if (errno == ENOENT)
            rb_strlcpy(err->hint, "run 'rbacmig init' to create a project, or set 'migrations' "
                       "in rbacmig.lua", sizeof err->hint);
        return -1;
    }
    char **names = NULL;
    str_list sql = {0}; /* every *.sql, for the migrations' SQL files */
    revcache *cache = NULL;
    int count = 0, cap = 0, rc = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 4 && e->d_name[0] != '.' && strcmp(e->d_name + n - 4, ".sql") == 0 &&
            str_list_push(&sql, e->d_name) != 0)
            goto oom;
        if (n < 5 || e->d_name[0] == '.' || strcmp(e->d_name + n - 4, ".lua") != 0)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 256;
            char **grown = realloc(names, sizeof *grown * (size_t)cap);
            if (!grown)
                goto oom;
            names = grown;
        }
        if (!(names[count] = strdup(e->d_name)))
            goto oom;
        count++;
    }
    if (count > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(names, (size_t)count, sizeof *names, compare_names);
    if (sql.count > 1)
        qsort(sql.items, (size_t)sql.count, sizeof *sql.items, compare_names);
    size_t dirlen = strlen(dir);
    cache = revcache_open(dir);
    for (int i = 0; i < count; i++) {
        char *path = malloc(dirlen + strlen(names[i]) + 2);
        if (!path)
            goto oom;
        sprintf(path, "%s/%s", dir, names[i]);
        char **mine;
        int nsql;
        if (sql_files_in(&sql, names[i], &mine, &nsql) != 0) {
            free(path);
            goto oom;
        }
        revision r;
        int failed = load_one(host, cache, dir, names[i], path, mine, nsql, checksums, &r, err);
        free(mine);
        free(path);
        if (failed || graph_add(g, &r, err) != 0)
            goto done;
    }
    rc = graph_build(g, err);
    goto done;
oom:
    rb_errorf(err, RB_ERR_FAILURE, "out of memory");
done:
    if (rc == 0) /* a failed load saw only some files: it would drop the others' entries */
        revcache_save(cache);
    revcache_free(cache);
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    str_list_release(&sql);
    closedir(d);
    return rc;
}

static int random_hex(char *out, size_t digits, rb_error *err)
{
    unsigned char bytes[32];
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, bytes, (digits + 1) / 2) != (ssize_t)((digits + 1) / 2)) {
        if (fd >= 0)
            close(fd);
        return rb_errorf(err, RB_ERR_FAILURE, "cannot read /dev/urandom: %s", strerror(errno));
    }
    close(fd);
    for (size_t i = 0; i < digits; i++)
        out[i] = "0123456789abcdef"[(bytes[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    out[digits] = '\0';
    return 0;
}

/* "Add initial RBAC tables!" -> "add_initial_rbac_tables" (at most 40 characters). */
static void slugify(const char *message, char *slug, size_t size)
{
    size_t n = 0;
    bool gap = false;
    for (const char *p = message; *p && n + 1 < size && n < 40; p++) {
        if (isalnum((unsigned char)*p)) {
            if (gap && n > 0)
                slug[n++] = '_';
            if (n + 1 < size)
                slug[n++] = (char)tolower((unsigned char)*p);
            gap = false;
        } else {
            gap = true;
        }
    }
    slug[n] = '\0';
}

/* Writes a Lua string literal for s (quotes and control characters escaped). */
static void write_lua_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20 || *s == 0x7f)
            fprintf(f, "\\%03d", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void write_id_list(FILE *f, const str_list *l)
{
    if (l->count == 0) {
        fputs("nil", f);
    } else if (l->count == 1) {
        write_lua_string(f, l->items[0]);
    } else {
        fputs("{ ", f);
        for (int i = 0; i < l->count; i++) {
            if (i)
                fputs(", ", f);
            write_lua_string(f, l->items[i]);
        }
        fputs(" }", f);
    }
}

/* Creates path for writing, never over an existing file (O_EXCL: two runs racing for the
 * same id never overwrite each other). */
static FILE *create_new_file(const char *path, rb_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        rb_errorf(err, RB_ERR_FAILURE, "cannot create '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

/* Closes a file create_new_file made. A write that failed (a full disk) removes it: a
 * truncated revision would load as a broken one, and the command reports the failure. */
static int finish_new_file(FILE *f, const char *path, rb_error *err)
{
    bool failed = ferror(f) != 0;
    if (fclose(f) == 0 && !failed)
        return 0;
    rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", path, strerror(errno));
    unlink(path);
    return -1;
}

/* Writes a revision's SQL file (--sql) with a header comment; refuses to overwrite. */
static int write_sql_file(const char *dir, const char *stem, const char *part,
                          const char *comment, const char *id, str_list *paths, rb_error *err)
{
    size_t n = strlen(dir) + strlen(stem) + strlen(part) + 8;
    char *p = malloc(n);
    if (!p)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    snprintf(p, n, "%s/%s.%s.sql", dir, stem, part);
    FILE *f = create_new_file(p, err);
    if (!f) {
        free(p);
        return -1;
    }
    fprintf(f, "-- %s (%s of revision %s)\n"
               "--\n"
               "-- Run as one script by db:exec_file in %s.lua, inside the\n"
               "-- migration's transaction. The file is part of the revision's checksum:\n"
               "-- `rbacmig check` reports an edit once it is applied. End every statement\n"
               "-- with ';'.\n\n",
            comment, strcmp(part, "up") == 0 ? "upgrade" : "downgrade", id, stem);
    if (finish_new_file(f, p, err) != 0) {
        free(p);
        return -1;
    }
    int rc = 0;
    if (paths && str_list_push(paths, p) != 0)
        rc = rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    free(p);
    return rc;
}

/* The new revision's id: --rev-id as given, once checked, since it becomes part of a file
 * name and a Lua string; else 12 random hex digits, as Alembic makes them. */
static int new_revision_id(const char *rev_id, char *id, size_t size, rb_error *err)
{
    if (!rev_id)
        return random_hex(id, 12, err);
    size_t n = strlen(rev_id);
    if (n == 0 || n > 40 || strspn(rev_id, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return rb_errorf(err, RB_ERR_USAGE,
                         "--rev-id '%s' is not a revision id (1 to 40 lowercase letters, "
                         "digits or '_')", rev_id);
    rb_strlcpy(id, rev_id, size);
    return 0;
}

/* The header comment an Alembic user knows (message, Revision ID, Revises, Create Date): the
 * file says what it is before it is read as code. Lua ends a `--` comment at a newline or a
 * carriage return, so the header shows the message with control characters escaped
 * (comment); the table's `message` keeps it exactly. */
static void write_header(FILE *f, const new_revision *spec, const char *id, const char *comment)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(f, "-- %s", comment);
    fprintf(f, "\n--\n-- Revision ID: %s\n-- Revises: ", id);
    for (int i = 0; i < spec->parents->count; i++)
        fprintf(f, "%s%s", i ? ", " : "", spec->parents->items[i]);
    fprintf(f, "\n-- Create Date: %s\n\n", date);
}

/* A function's body as given (revision --autogenerate: its statements already indented
 * into place), ending in a newline; nothing for NULL. */
static void write_body(FILE *f, const char *body)
{
    size_t n = body ? strlen(body) : 0;
    if (n > 0)
        fprintf(f, "%s%s", body, body[n - 1] == '\n' ? "" : "\n");
}

/* The revision table with only the fields it needs (a field left out reads as nil, as the
 * hand-written ones do), and empty functions to fill in (or the bodies given); with --sql,
 * functions that run the revision's two SQL files, which the user fills in instead. */
static void write_table(FILE *f, const new_revision *spec, const char *id, const char *stem)
{
    fprintf(f, "return {\n  revision = \"%s\",\n  down_revision = ", id);
    write_id_list(f, spec->parents);
    fputs(",\n", f);
    if (spec->branch_label) {
        fputs("  branch_labels = { ", f);
        write_lua_string(f, spec->branch_label);
        fputs(" },\n", f);
    }
    if (spec->depends_on && spec->depends_on->count) {
        fputs("  depends_on = ", f);
        write_id_list(f, spec->depends_on);
        fputs(",\n", f);
    }
    fputs("  message = ", f);
    write_lua_string(f, spec->message);
    if (spec->sql)
        fprintf(f, ",\n\n  upgrade = function(db)\n    db:exec_file(\"%s.up.sql\")\n  end,\n\n"
                   "  downgrade = function(db)\n    db:exec_file(\"%s.down.sql\")\n  end,\n}\n",
                stem, stem);
    else {
        fputs(",\n\n  upgrade = function(db)\n", f);
        write_body(f, spec->upgrade_body);
        fputs("  end,\n\n  downgrade = function(db)\n", f);
        write_body(f, spec->downgrade_body);
        fputs("  end,\n}\n", f);
    }
}

/* --sql: the up and down files. A failure removes what was written of them, so that the
 * caller, removing the revision too, leaves nothing half made. */
static int write_sql_files(const char *dir, const char *stem, const char *comment,
                           const char *id, str_list *sql_paths, rb_error *err)
{
    if (write_sql_file(dir, stem, "up", comment, id, sql_paths, err) != 0)
        return -1;
    if (write_sql_file(dir, stem, "down", comment, id, sql_paths, err) == 0)
        return 0;
    char *up = malloc(strlen(dir) + strlen(stem) + 16);
    if (up) {
        sprintf(up, "%s/%s.up.sql", dir, stem);
        unlink(up);
        free(up);
    }
    return -1;
}

int scripts_write_revision(const char *dir, const new_revision *spec, char **path,
                           str_list *sql_paths, rb_error *err)
{
    char id[64], slug[64], stem[160];
    char *p = NULL, *comment = NULL;
    FILE *f = NULL;
    int rc = -1;
    *path = NULL;
    if (new_revision_id(spec->rev_id, id, sizeof id, err) != 0)
        return -1;
    slugify(spec->message, slug, sizeof slug);
    snprintf(stem, sizeof stem, "%s%s%s", id, slug[0] ? "_" : "", slug);
    size_t len = strlen(dir) + strlen(stem) + 6;
    if (!(p = malloc(len)) || !(comment = out_printable(spec->message))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    snprintf(p, len, "%s/%s.lua", dir, stem);
    if (!(f = create_new_file(p, err)))
        goto done;
    write_header(f, spec, id, comment);
    write_table(f, spec, id, stem);
    if (finish_new_file(f, p, err) != 0)
        goto done;
    /* The SQL files after the revision: a failure removes the revision as well, so that no
     * revision is left that runs a file that is not there. */
    if (spec->sql && write_sql_files(dir, stem, comment, id, sql_paths, err) != 0) {
        unlink(p);
        goto done;
    }
    *path = p; /* the caller's now */
    p = NULL;
    rc = 0;
done:
    free(comment);
    free(p);
    return rc;
}

/* "dir/name", or name itself when it is absolute or dir is "."; NULL when out of memory.
 * Caller frees. */
static char *join_path(const char *dir, const char *name)
{
    if (name[0] == '/' || strcmp(dir, ".") == 0)
        return strdup(name);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Creates path with the n bytes of text unless it exists (init never overwrites a user's
 * file); *created says which. */
static int write_new_file_n(const char *path, const char *text, size_t n, bool *created,
                            rb_error *err)
{
    *created = false;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        return rb_errorf(err, RB_ERR_FAILURE, "cannot create '%s': %s", path, strerror(errno));
    }
    ssize_t wrote = write(fd, text, n);
    int saved = errno;
    if (close(fd) != 0 && wrote == (ssize_t)n) {
        saved = errno;
        wrote = -1;
    }
    if (wrote != (ssize_t)n) {
        unlink(path); /* a half-written file would pass for the user's on the next init */
        return rb_errorf(err, RB_ERR_FAILURE, "cannot write '%s': %s", path,
                         wrote < 0 ? strerror(saved) : "short write");
    }
    *created = true;
    return 0;
}

static int write_new_file(const char *path, const char *text, bool *created, rb_error *err)
{
    return write_new_file_n(path, text, strlen(text), created, err);
}

/* mkdir -p; *created when the last component was made here. */
static int make_dirs(const char *path, bool *created, rb_error *err)
{
    *created = false;
    char *copy = strdup(path);
    if (!copy)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    int rc = 0;
    for (char *p = copy + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0755) == 0) {
            *created = saved == '\0';
        } else if (errno != EEXIST) {
            rc = rb_errorf(err, RB_ERR_FAILURE, "cannot create '%s': %s", copy, strerror(errno));
            break;
        } else if (saved == '\0') {
            struct stat st;
            if (stat(copy, &st) != 0 || !S_ISDIR(st.st_mode)) {
                rc = rb_errorf(err, RB_ERR_FAILURE, "cannot create directory '%s': a file "
                               "has that name", copy);
                break;
            }
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    free(copy);
    return rc;
}

/* Where the embedded file f goes: "migrations/X" into the project's migrations directory,
 * "rbac/X" into its rbac directory. *shown is that path as the project names it (relative
 * to dir, for init's list), *full the one to open; both owned by the caller, and what they
 * held before (the previous file's, in a loop over the files) is freed here. */
static int rbac_file_paths(const char *dir, const char *migrations_dir, const char *rbac_dir,
                           const embedded_file *f, char **shown, char **full, rb_error *err)
{
    const char *slash = strchr(f->name, '/');
    bool migration = strncmp(f->name, "migrations/", 11) == 0;
    free(*shown);
    free(*full);
    *full = NULL;
    *shown = join_path(migration ? migrations_dir : rbac_dir, slash ? slash + 1 : f->name);
    if (*shown && !(*full = join_path(dir, *shown))) {
        free(*shown);
        *shown = NULL;
    }
    return *full ? 0 : rb_errorf(err, RB_ERR_FAILURE, "out of memory");
}

static bool is_shipped_migration(const char *base)
{
    for (const embedded_file *f = embedded_rbac_files; f->name; f++)
        if (strncmp(f->name, "migrations/", 11) == 0 && strcmp(f->name + 11, base) == 0)
            return true;
    return false;
}

/* A migrations directory that holds revisions of its own but not yet the shipped chain
 * would get a second root (91759229c32b), which no graph may have: refused, naming the
 * first such file, before anything is written. */
static int check_no_other_root(const char *migrations_path, rb_error *err)
{
    DIR *d = opendir(migrations_path);
    if (!d)
        return errno == ENOENT ? 0 : rb_errorf(err, RB_ERR_FAILURE, "cannot open '%s': %s",
                                               migrations_path, strerror(errno));
    char *other = NULL;
    bool oom = false;
    struct dirent *e;
    while (!oom && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0 && !is_shipped_migration(e->d_name) &&
            (!other || strcmp(e->d_name, other) < 0)) {
            free(other);
            oom = !(other = strdup(e->d_name));
        }
    }
    closedir(d);
    if (oom)
        return rb_errorf(err, RB_ERR_FAILURE, "out of memory");
    if (!other)
        return 0;
    rb_errorf(err, RB_ERR_FAILURE, "'%s/%s' is a revision already: init --rbac adds the RBAC "
              "migrations from their root (91759229c32b), and a project has one root",
              migrations_path, other);
    free(other);
    return -1;
}

/* init --rbac, before anything is written: every shipped file either is missing or holds
 * exactly the shipped bytes (kept); any other file of that name is refused, naming it. */
static int check_rbac_files(const char *dir, const char *migrations_dir, const char *rbac_dir,
                            rb_error *err)
{
    bool migration_missing = false;
    char *shown = NULL, *full = NULL, *migrations_path = NULL;
    textfile tf = {0};
    int rc = -1;
    for (const embedded_file *f = embedded_rbac_files; f->name; f++) {
        if (rbac_file_paths(dir, migrations_dir, rbac_dir, f, &shown, &full, err) != 0)
            goto done;
        rb_error ignored;
        struct stat st;
        if (lstat(full, &st) != 0) {
            if (errno != ENOENT) {
                rb_errorf(err, RB_ERR_FAILURE, "cannot read '%s': %s", full, strerror(errno));
                goto done;
            }
            migration_missing |= strncmp(f->name, "migrations/", 11) == 0;
        } else if (textfile_read_ex(full, TEXTFILE_NOFOLLOW, f->length + 1, &tf, &ignored) != 0 ||
                   tf.len != f->length || memcmp(tf.text, f->data, f->length) != 0) {
            rb_errorf(err, RB_ERR_FAILURE, "'%s' exists and is not the file rbacmig ships: "
                      "init --rbac never overwrites a file", full);
            goto done;
        }
        textfile_release(&tf);
    }
    if (migration_missing) {
        if (!(migrations_path = join_path(dir, migrations_dir))) {
            rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            goto done;
        }
        if (check_no_other_root(migrations_path, err) != 0)
            goto done;
    }
    rc = 0;
done:
    textfile_release(&tf);
    free(shown);
    free(full);
    free(migrations_path);
    return rc;
}

/* init --rbac: writes each shipped file that is missing, listing it in res. */
static int write_rbac_files(const char *dir, const char *migrations_dir, const char *rbac_dir,
                            scripts_init_result *res, rb_error *err)
{
    char *shown = NULL, *full = NULL, *rbac_path = NULL;
    int rc = -1;
    bool created;
    if (!(rbac_path = join_path(dir, rbac_dir))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (make_dirs(rbac_path, &created, err) != 0)
        goto done;
    for (const embedded_file *f = embedded_rbac_files; f->name; f++) {
        if (rbac_file_paths(dir, migrations_dir, rbac_dir, f, &shown, &full, err) != 0 ||
            write_new_file_n(full, f->data, f->length, &created, err) != 0)
            goto done;
        if (str_list_push(created ? &res->rbac_created : &res->rbac_kept, shown) != 0) {
            rb_errorf(err, RB_ERR_FAILURE, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    free(shown);
    free(full);
    free(rbac_path);
    return rc;
}

int scripts_init_project(const char *dir, const char *config_file, const char *migrations_dir,
                         const char *rbac_dir, scripts_init_result *res, rb_error *err)
{
    char *config_path = NULL, *migrations_path = NULL, *env_path = NULL;
    bool made_dir;
    int rc = -1;
    memset(res, 0, sizeof *res);
    if (rbac_dir && check_rbac_files(dir, migrations_dir, rbac_dir, err) != 0)
        goto done;
    if (make_dirs(dir, &made_dir, err) != 0)
        goto done;
    if (!(config_path = join_path(dir, config_file)) ||
        !(migrations_path = join_path(dir, migrations_dir)) ||
        !(env_path = join_path(dir, ".env.example"))) {
        rb_errorf(err, RB_ERR_FAILURE, "out of memory");
        goto done;
    }
    if (make_dirs(migrations_path, &res->created_migrations, err) != 0 ||
        write_new_file(config_path,
            "-- rbacmig configuration. Every key is optional.\n"
            "return {\n"
            "  -- The database URL; DATABASE_URL (environment or .env) and -d override it.\n"
            "  -- database_url = \"sqlite:rbacmig.db\",\n"
            "  migrations = \"migrations\",\n"
            "  rbac = \"rbac\",\n"
            "  version_table = \"rbacmig_version\",\n"
            "  schema = \"public\",          -- PostgreSQL schema for rbacmig's tables\n"
            "  lock_timeout = 10,           -- seconds a migration waits for a table lock\n"
            "}\n", &res->created_config, err) != 0 ||
        write_new_file(env_path,
            "# Copy to .env (never commit .env). The environment wins over this file.\n"
            "# DATABASE_URL=postgresql://postgres:PASSWORD@db.REF.supabase.co:5432/postgres\n"
            "DATABASE_URL=sqlite:rbacmig.db\n", &res->created_env, err) != 0)
        goto done;
    if (rbac_dir && write_rbac_files(dir, migrations_dir, rbac_dir, res, err) != 0)
        goto done;
    rc = 0;
done:
    free(config_path);
    free(migrations_path);
    free(env_path);
    return rc;
}

void scripts_init_result_release(scripts_init_result *res)
{
    str_list_release(&res->rbac_created);
    str_list_release(&res->rbac_kept);
}
