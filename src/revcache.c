/* revcache.c: the per-directory cache of migration metadata (see revcache.h), kept in an
 * SQLite file: SQLite gives the atomic, concurrent writes and the structure checks a
 * hand-made format needed its own code for.
 *
 * The file (application_id "rbmc") holds one meta row (the binary that wrote it and the
 * migrations directory it describes) and one row per migration file: its name, its
 * identity on disk (the file_key struct's bytes), then the revision's fields, each a byte
 * string (lists as NUL-terminated items), and a digest of all of them (FNV-1a 64: it
 * guards against damage, not against the user who owns the file). A new format needs no
 * version number: it comes with a new binary, whose files these are not. SQLite notices a
 * file that is not a database or whose pages do not hold together; the digest notices a
 * row whose bytes changed. Either way the cache is not used, and the next save builds a
 * new one.
 *
 * A run works on an in-memory database with the file attached as "cache": the entries it
 * stored (`pending`) and, when it saves, the names it saw (`seen`) are tables there, so
 * that saving is one transaction of two statements. The entries are read in one scan
 * when the cache opens (a run looks up nearly all of them, and a query per lookup costs
 * three times a scan's step), into one buffer indexed by name; each is checked and
 * turned into a revision only when it is looked up.
 *
 * The price on a PostgreSQL run is SQLite's code, not its data: whatever SQL runs, opening a
 * connection makes nearly all of libsqlite3's text resident (the kernel maps code in 64 kB
 * blocks), about 0.9 MB of shared pages in the peak RSS; its heap here is about 0.1 MB
 * (bench/RESULTS.md, "Peak memory"). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "revcache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hashmap.h"
#include "sha256.h"
#include "textfile.h"
#include "version.h"

/* A file whose mtime or ctime is this close to now could change again within one
 * timestamp tick (some file systems keep whole seconds) and keep its key. */
#define SETTLE_SECONDS 2.0
#define APPLICATION_ID 1919053155 /* 0x72626d63, "rbmc" */
#define STR(x) #x
#define XSTR(x) STR(x)

typedef struct file_key {
    uint64_t dev, ino;
    int64_t size, mtime_s, mtime_ns, ctime_s, ctime_ns;
} file_key;

/* An entry's columns in table order, each covered by the row's digest (the last column). */
enum { COL_NAME, COL_KEY, COL_SHA256, COL_ID, COL_MESSAGE, COL_TRANSACTIONAL, COL_DATE,
       COL_DOWN, COL_LABELS, COL_DEPENDS, NCOLS };
#define ENTRY_COLUMNS                                                                          \
    "(name TEXT PRIMARY KEY, key BLOB, sha256 BLOB, id BLOB, message BLOB, transactional "    \
    "BLOB, create_date BLOB, down BLOB, branch_labels BLOB, depends_on BLOB, digest BLOB)"

typedef struct bytes {
    const char *p;
    int len;  /* -1: SQL NULL (a revision without create_date) */
} bytes;

/* A row as read: its columns and digest, one after another in revcache.data, each followed
 * by a NUL (so that the name is a C string for the index). */
typedef struct entry {
    size_t off;
    int len[NCOLS + 1]; /* the digest last */
    bool seen;          /* looked up in this run: a save keeps it */
} entry;

struct revcache {
    sqlite3 *db;          /* in memory, with the cache file attached as "cache" */
    char *file;           /* the cache file */
    char *identity;       /* the binary that reads and writes it */
    char *dir;            /* the migrations directory, resolved */
    double now;
    bool attached;        /* the file is attached (it may still be untrusted) */
    bool trusted;         /* attached, and its meta row says it is ours */
    char *data;           /* the entries' bytes */
    size_t size, cap;
    entry *entries;
    int count, entries_cap;
    hashmap index;        /* name -> entry; keys point into data */
};

static file_key key_of(const struct stat *st)
{
    return (file_key){
        .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino, .size = (int64_t)st->st_size,
        .mtime_s = (int64_t)st->st_mtim.tv_sec, .mtime_ns = (int64_t)st->st_mtim.tv_nsec,
        .ctime_s = (int64_t)st->st_ctim.tv_sec, .ctime_ns = (int64_t)st->st_ctim.tv_nsec,
    };
}

static uint64_t row_digest(const bytes cols[NCOLS])
{
    uint64_t h = HASHMAP_FNV1A_INIT;
    for (int i = 0; i < NCOLS; i++) {
        int32_t len = cols[i].len; /* framed, so that no two rows hash the same bytes */
        h = hashmap_fnv1a(h, &len, sizeof len);
        if (len > 0)
            h = hashmap_fnv1a(h, cols[i].p, (size_t)len);
    }
    return h;
}

/* ---- rows <-> revisions --------------------------------------------------------------- */

/* The items, each followed by a NUL; *len its length. Caller frees. */
static char *pack_list(const str_list *l, int *len)
{
    size_t n = 1;
    for (int i = 0; i < l->count; i++)
        n += strlen(l->items[i]) + 1;
    char *out = n <= INT_MAX ? malloc(n) : NULL;
    if (!out)
        return NULL;
    char *p = out;
    for (int i = 0; i < l->count; i++)
        p = stpcpy(p, l->items[i]) + 1;
    *len = (int)(p - out);
    return out;
}

static bool unpack_list(bytes b, str_list *out)
{
    if (b.len < 0 || (b.len > 0 && b.p[b.len - 1] != '\0'))
        return false;
    for (const char *p = b.p; p < b.p + b.len; p += strlen(p) + 1)
        if (str_list_push(out, p) != 0)
            return false;
    return true;
}

/* A column as a new C string: NULL when it is SQL NULL or holds a NUL. */
static char *string_of(bytes b)
{
    return b.len < 0 || memchr(b.p, '\0', (size_t)b.len) ? NULL : strndup(b.p, (size_t)b.len);
}

/* The revision a (digest-checked) row holds, into *r (initialised here); false, with r
 * released, when the row is not one this code writes. */
static bool revision_of(const bytes cols[NCOLS], const char *path, revision *r)
{
    memset(r, 0, sizeof *r);
    bytes sha = cols[COL_SHA256], tx = cols[COL_TRANSACTIONAL];
    bool ok = (sha.len == 0 || sha.len == 64) && tx.len == 1 && (tx.p[0] == 'T' || tx.p[0] == 'F');
    if (ok) {
        memcpy(r->sha256, sha.p, (size_t)sha.len);
        r->sha256[sha.len] = '\0';
        r->transactional = tx.p[0] == 'T';
        ok = (r->id = string_of(cols[COL_ID])) && r->id[0] &&
             (r->message = string_of(cols[COL_MESSAGE])) &&
             (cols[COL_DATE].len < 0 || (r->create_date = string_of(cols[COL_DATE]))) &&
             unpack_list(cols[COL_DOWN], &r->down) &&
             unpack_list(cols[COL_LABELS], &r->branch_labels) &&
             unpack_list(cols[COL_DEPENDS], &r->depends_on) && (r->path = strdup(path));
    }
    if (!ok)
        revision_release(r);
    return ok;
}

/* ---- opening -------------------------------------------------------------------------- */

/* "path dev ino size mtime" of the running binary: a rebuild is another binary, whose
 * reading of migrations may differ. */
static char *binary_identity(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    struct stat st;
    if (n <= 0 || (exe[n] = '\0', stat(exe, &st) != 0))
        return NULL;
    char buf[PATH_MAX + 128];
    snprintf(buf, sizeof buf, "%s %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 ".%09ld " RBACMIG_VERSION,
             exe, (uint64_t)st.st_dev, (uint64_t)st.st_ino, (int64_t)st.st_size,
             (int64_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    return strdup(buf);
}

/* A cache directory is only used when it is this user's and nobody else can write in it
 * (or when it does not exist yet: it is then made so). */
static bool cache_dir_is_ours(const char *cache_dir)
{
    struct stat st;
    if (lstat(cache_dir, &st) != 0)
        return errno == ENOENT;
    return S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

static int attach(revcache *c)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "ATTACH ?1 AS cache", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, c->file, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_finalize(st);
    c->attached = rc == SQLITE_OK;
    /* A crash loses at most the cache, which is then rebuilt: no fsync for it. The file is
     * read once, front to back, into revcache.data: SQLite need not keep its pages too. */
    return rc == SQLITE_OK ? sqlite3_exec(c->db, "PRAGMA cache.synchronous = OFF; "
                                          "PRAGMA cache.cache_size = 16", NULL, NULL, NULL)
                           : -1;
}

/* The first column of sql's first row; -1 when there is none. */
static long long query_int(revcache *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK &&
                          sqlite3_step(st) == SQLITE_ROW
                      ? sqlite3_column_int64(st, 0)
                      : -1;
    sqlite3_finalize(st);
    return v;
}

/* Whether the attached file is a cache of this binary for this directory. */
static bool is_ours(revcache *c)
{
    sqlite3_stmt *st = NULL;
    bool ours = query_int(c, "PRAGMA cache.application_id") == APPLICATION_ID &&
                sqlite3_prepare_v2(c->db, "SELECT identity = ?1 AND dir = ?2 FROM cache.meta",
                                   -1, &st, NULL) == SQLITE_OK &&
                sqlite3_bind_text(st, 1, c->identity, -1, SQLITE_STATIC) == SQLITE_OK &&
                sqlite3_bind_text(st, 2, c->dir, -1, SQLITE_STATIC) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1 &&
                sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ours;
}

static bool append(revcache *c, const void *p, int len)
{
    size_t need = c->size + (size_t)(len > 0 ? len : 0) + 1;
    if (need > c->cap) {
        size_t cap = c->cap ? c->cap : 1 << 16;
        while (cap < need)
            cap *= 2;
        char *grown = realloc(c->data, cap);
        if (!grown)
            return false;
        c->data = grown;
        c->cap = cap;
    }
    if (len > 0)
        memcpy(c->data + c->size, p, (size_t)len);
    c->size += (size_t)(len > 0 ? len : 0);
    c->data[c->size++] = '\0';
    return true;
}

/* The current row of st (name, the other columns, the digest) as a new entry. */
static bool add_entry(revcache *c, sqlite3_stmt *st)
{
    if (c->count == c->entries_cap) {
        int cap = c->entries_cap ? 2 * c->entries_cap : 256;
        entry *grown = realloc(c->entries, sizeof *grown * (size_t)cap);
        if (!grown)
            return false;
        c->entries = grown;
        c->entries_cap = cap;
    }
    entry *e = &c->entries[c->count];
    *e = (entry){.off = c->size};
    for (int i = 0; i <= NCOLS; i++) {
        const void *p = sqlite3_column_blob(st, i);
        /* Only create_date is ever written NULL; elsewhere a NULL reads as empty, which the
         * digest then rejects. */
        e->len[i] = i == COL_DATE && sqlite3_column_type(st, i) == SQLITE_NULL
                        ? -1
                        : sqlite3_column_bytes(st, i);
        if (!append(c, p, e->len[i]))
            return false;
    }
    c->count++;
    return true;
}

/* Every entry of the attached file into memory, indexed by name; false (nothing kept)
 * when the file cannot be read through. */
static bool read_entries(revcache *c)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db,
                                "SELECT name, key, sha256, id, message, transactional, "
                                "create_date, down, branch_labels, depends_on, digest "
                                "FROM cache.entries",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = add_entry(c, st) ? SQLITE_OK : SQLITE_NOMEM;
    sqlite3_finalize(st);
    bool ok = rc == SQLITE_DONE && hashmap_reserve(&c->index, c->count) == 0;
    /* A name is the table's key: each is there once. */
    for (int i = 0; ok && i < c->count; i++)
        ok = c->entries[i].len[COL_NAME] >= 0 &&
             hashmap_put(&c->index, c->data + c->entries[i].off, i) == 0;
    if (!ok) {
        hashmap_release(&c->index);
        c->count = 0;
    }
    return ok;
}

/* Attaches the cache file if there is one this user owns (the directory is the user's
 * alone, checked before, so the file cannot be swapped after the check) and reads it if
 * it is ours. */
static void load_file(revcache *c)
{
    struct stat st;
    if (lstat(c->file, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        attach(c) != 0)
        return;
    c->trusted = is_ours(c) && read_entries(c);
}

revcache *revcache_open_at(const char *dir, const char *cache_dir, double now)
{
    char real[PATH_MAX];
    if (!cache_dir_is_ours(cache_dir) || !realpath(dir, real))
        return NULL;
    unsigned char digest[32];
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, real, strlen(real));
    sha256_final(&ctx, digest);
    char name[2 * 16 + 1];
    for (int i = 0; i < 16; i++) {
        name[2 * i] = "0123456789abcdef"[digest[i] >> 4];
        name[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
    }
    name[32] = '\0';

    revcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t len = strlen(cache_dir) + sizeof name + 16;
    c->file = malloc(len);
    c->identity = binary_identity();
    c->dir = strdup(real);
    c->now = now;
    if (!c->file || !c->identity || !c->dir ||
        sqlite3_open_v2(":memory:", &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        /* One connection, a few statements: the 120 KB of per-connection lookaside memory
         * would be most of what SQLite holds. */
        sqlite3_db_config(c->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0) != SQLITE_OK) {
        revcache_free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 200); /* another run saving */
    snprintf(c->file, len, "%s/%s.revs", cache_dir, name);
    load_file(c);
    return c;
}

revcache *revcache_open(const char *dir)
{
    const char *off = getenv("RBACMIG_NO_CACHE");
    if (off && off[0] && strcmp(off, "0") != 0)
        return NULL;
    char cache_dir[PATH_MAX];
    const char *env = getenv("RBACMIG_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (env && env[0])
        n = snprintf(cache_dir, sizeof cache_dir, "%s", env);
    else if (xdg && xdg[0] == '/')
        n = snprintf(cache_dir, sizeof cache_dir, "%s/rbacmig", xdg);
    else if (home && home[0] == '/')
        n = snprintf(cache_dir, sizeof cache_dir, "%s/.cache/rbacmig", home);
    else
        return NULL;
    if (n < 0 || (size_t)n >= sizeof cache_dir)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return revcache_open_at(dir, cache_dir, (double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* ---- lookups and stores --------------------------------------------------------------- */

bool revcache_lookup(revcache *c, const char *name, const struct stat *st, const char *path,
                     const char *sha256, revision *out)
{
    int i = c && c->trusted ? hashmap_get(&c->index, name) : -1;
    if (i < 0)
        return false;
    entry *e = &c->entries[i];
    e->seen = true;
    bytes cols[NCOLS + 1];
    const char *p = c->data + e->off;
    for (int k = 0; k <= NCOLS; k++) {
        cols[k] = (bytes){p, e->len[k]};
        p += (e->len[k] > 0 ? e->len[k] : 0) + 1;
    }
    uint64_t digest = row_digest(cols);
    file_key key = key_of(st);
    if (cols[NCOLS].len != (int)sizeof digest || memcmp(cols[NCOLS].p, &digest, sizeof digest) != 0 ||
        !revision_of(cols, path, out)) {
        c->trusted = false; /* a damaged row: the next save builds a new file */
        return false;
    }
    if (cols[COL_KEY].len != (int)sizeof key || memcmp(cols[COL_KEY].p, &key, sizeof key) != 0 ||
        (sha256 && strcmp(out->sha256, sha256) != 0)) {
        revision_release(out);
        return false;
    }
    return true;
}

/* The in-memory tables a store or a save works with, made when first needed: most runs
 * neither store nor save. */
static bool ensure_tables(revcache *c)
{
    return sqlite3_exec(c->db, "CREATE TABLE IF NOT EXISTS seen (name TEXT PRIMARY KEY); "
                        "CREATE TABLE IF NOT EXISTS pending " ENTRY_COLUMNS,
                        NULL, NULL, NULL) == SQLITE_OK;
}

static bool settled(const revcache *c, const struct stat *st)
{
    double changed = (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9;
    double ctime = (double)st->st_ctim.tv_sec + st->st_ctim.tv_nsec / 1e9;
    return c->now - (ctime > changed ? ctime : changed) >= SETTLE_SECONDS;
}

void revcache_store(revcache *c, const char *name, const struct stat *st, const revision *r)
{
    if (!c || !settled(c, st) || !ensure_tables(c))
        return;
    file_key key = key_of(st);
    char *lists[3] = {NULL, NULL, NULL};
    int lens[3] = {0, 0, 0};
    sqlite3_stmt *ins = NULL;
    if (!(lists[0] = pack_list(&r->down, &lens[0])) ||
        !(lists[1] = pack_list(&r->branch_labels, &lens[1])) ||
        !(lists[2] = pack_list(&r->depends_on, &lens[2])))
        goto done;
    bytes cols[NCOLS] = {
        {name, (int)strlen(name)},
        {(const char *)&key, (int)sizeof key},
        {r->sha256, (int)strlen(r->sha256)},
        {r->id, (int)strlen(r->id)},
        {r->message, (int)strlen(r->message)},
        {r->transactional ? "T" : "F", 1},
        {r->create_date ? r->create_date : "", r->create_date ? (int)strlen(r->create_date) : -1},
        {lists[0], lens[0]}, {lists[1], lens[1]}, {lists[2], lens[2]},
    };
    uint64_t digest = row_digest(cols);
    int rc = sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO pending VALUES (?1, ?2, ?3, ?4, "
                                "?5, ?6, ?7, ?8, ?9, ?10, ?11)", -1, &ins, NULL);
    /* The name is text (the key lookups compare); the rest are bytes as they are. */
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(ins, 1, name, -1, SQLITE_STATIC);
    for (int i = 1; i < NCOLS && rc == SQLITE_OK; i++)
        rc = cols[i].len < 0 ? sqlite3_bind_null(ins, i + 1)
                             : sqlite3_bind_blob(ins, i + 1, cols[i].p, cols[i].len, SQLITE_STATIC);
    if (rc == SQLITE_OK &&
        sqlite3_bind_blob(ins, NCOLS + 1, &digest, sizeof digest, SQLITE_STATIC) == SQLITE_OK)
        sqlite3_step(ins); /* a failure leaves the cache as it was: nothing to undo */
done:
    sqlite3_finalize(ins);
    for (int i = 0; i < 3; i++)
        free(lists[i]);
}

/* ---- saving --------------------------------------------------------------------------- */

/* mkdir -p, private to this user: the cache says what the migrations are. */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* Replaces a missing, foreign or damaged cache file by a new, empty one, attached. */
static int recreate_file(revcache *c)
{
    char journal[PATH_MAX + 16];
    snprintf(journal, sizeof journal, "%s-journal", c->file);
    if (c->attached && sqlite3_exec(c->db, "DETACH cache", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    c->attached = false;
    unlink(c->file);
    unlink(journal); /* a journal left by a crash would be played into the new file */
    const char *slash = strrchr(c->file, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - c->file), c->file);
    if (make_dirs(dir) != 0)
        return -1;
    /* Made here, private, for SQLite to fill (it would create it readable by all, and its
     * journal takes the file's mode): the cache says what the migrations are. */
    int fd = open(c->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    return attach(c);
}

/* The tables of a new cache file and its meta row; inside the saving transaction, so that
 * no reader sees a file half made. */
static int create_schema(revcache *c)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_exec(c->db,
                          "PRAGMA cache.application_id = " XSTR(APPLICATION_ID) "; "
                          "CREATE TABLE cache.meta (identity TEXT, dir TEXT); "
                          "CREATE TABLE cache.entries " ENTRY_COLUMNS " WITHOUT ROWID",
                          NULL, NULL, NULL) == SQLITE_OK &&
                     sqlite3_prepare_v2(c->db, "INSERT INTO cache.meta VALUES (?1, ?2)", -1, &st,
                                        NULL) == SQLITE_OK &&
                     sqlite3_bind_text(st, 1, c->identity, -1, SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_bind_text(st, 2, c->dir, -1, SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_step(st) == SQLITE_DONE
                 ? 0
                 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* The names of the entries looked up in this run into the seen table, for the save's
 * DELETE (what is stored is written anew after it). */
static bool fill_seen(revcache *c)
{
    sqlite3_stmt *st = NULL;
    bool ok = ensure_tables(c) && sqlite3_prepare_v2(c->db, "INSERT INTO seen VALUES (?1)", -1,
                                                     &st, NULL) == SQLITE_OK;
    for (int i = 0; ok && i < c->count; i++) {
        if (!c->entries[i].seen)
            continue;
        ok = sqlite3_bind_text(st, 1, c->data + c->entries[i].off, -1, SQLITE_STATIC) ==
                 SQLITE_OK &&
             sqlite3_step(st) == SQLITE_DONE;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return ok;
}

void revcache_save(revcache *c)
{
    if (!c)
        return;
    bool write = query_int(c, "SELECT EXISTS (SELECT 1 FROM pending)") == 1; /* -1: no table */
    for (int i = 0; !write && c->trusted && i < c->count; i++)
        write = !c->entries[i].seen; /* a file that is gone */
    if (!write)
        return;
    /* Whatever is not ours is replaced; the file's own transaction makes the new version
     * whole for every reader, also when several runs save at once. */
    bool ok = (c->trusted || recreate_file(c) == 0) &&
              sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
              (c->trusted || create_schema(c) == 0) && fill_seen(c) &&
              sqlite3_exec(c->db,
                           "DELETE FROM cache.entries WHERE name NOT IN (SELECT name FROM seen); "
                           "INSERT OR REPLACE INTO cache.entries SELECT * FROM pending; COMMIT",
                           NULL, NULL, NULL) == SQLITE_OK;
    if (!ok && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

void revcache_free(revcache *c)
{
    if (!c)
        return;
    sqlite3_close(c->db);
    hashmap_release(&c->index);
    free(c->entries);
    free(c->data);
    free(c->file);
    free(c->identity);
    free(c->dir);
    free(c);
}
