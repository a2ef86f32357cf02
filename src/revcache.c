/* revcache.c: the per-directory cache of migration metadata (see revcache.h).
 *
 * The file is one header, then length-prefixed fields ("<decimal length>:<bytes>", so any
 * byte may appear in a message), then a checksum line:
 *
 *   rbacmig-revcache 1\n
 *   <field: binary identity> <field: directory> <field: entry count>
 *   per entry: name, key, sha256, id, message, flags, create_date,
 *              then down_revision, branch_labels and depends_on, each a count and items
 *   \n<16 hex digits: FNV-1a 64 of everything before this line>\n
 *
 * Anything that does not parse exactly is a cache that is not there. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "revcache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "textfile.h"
#include "version.h"

#define MAGIC "rbacmig-revcache 1\n"
/* A file whose mtime or ctime is this close to now could change again within one
 * timestamp tick (some file systems keep whole seconds) and keep its key. */
#define SETTLE_SECONDS 2.0
#define MAX_LIST 4096 /* parents, labels or dependencies of one revision */

typedef struct file_key {
    uint64_t dev, ino;
    int64_t size, mtime_s, mtime_ns, ctime_s, ctime_ns;
} file_key;

/* An entry loaded from the file stays in its serialised form (raw, in the cache's data)
 * until a lookup parses it straight into the caller's revision: a run reads each entry
 * once, so parsing them all up front would only double the allocations. */
typedef struct cache_entry {
    char *name;        /* the file name in the migrations directory */
    file_key key;
    const char *raw;   /* loaded: the fields after the key, in revcache.data; else NULL */
    size_t raw_len;
    revision rev;      /* stored in this run (raw NULL); path unset */
    bool present;      /* seen (looked up or stored) in this run */
} cache_entry;

struct revcache {
    char *file;        /* the cache file */
    char *identity;    /* the binary that reads and writes it */
    char *dir;         /* the migrations directory, as given */
    char *data;        /* the cache file as read: what loaded entries point into */
    double now;
    cache_entry *entries;
    int count, cap;
    int *slots;        /* open addressing: name -> entry index + 1 */
    int nslots;
    bool dirty;
};

static uint64_t fnv1a(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t revcache_checksum(const void *data, size_t len)
{
    return fnv1a(data, len);
}

/* Whether the cache may hold a file with this identity: the key is written with unsigned
 * numbers and a list as long as the reader accepts. */
static bool storable(const struct stat *st, const revision *r)
{
    return st->st_size >= 0 && st->st_mtim.tv_sec >= 0 && st->st_ctim.tv_sec >= 0 &&
           r->down.count <= MAX_LIST && r->branch_labels.count <= MAX_LIST &&
           r->depends_on.count <= MAX_LIST;
}

static file_key key_of(const struct stat *st)
{
    return (file_key){
        .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino, .size = (int64_t)st->st_size,
        .mtime_s = (int64_t)st->st_mtim.tv_sec, .mtime_ns = (int64_t)st->st_mtim.tv_nsec,
        .ctime_s = (int64_t)st->st_ctim.tv_sec, .ctime_ns = (int64_t)st->st_ctim.tv_nsec,
    };
}

static bool key_equal(const file_key *a, const file_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns &&
           a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns;
}

/* ---- the name index ------------------------------------------------------------------ */

static int find_slot(const revcache *c, const char *name)
{
    if (!c->nslots)
        return -1;
    unsigned mask = (unsigned)c->nslots - 1;
    for (unsigned s = (unsigned)fnv1a(name, strlen(name)) & mask;; s = (s + 1) & mask) {
        if (c->slots[s] == 0 || strcmp(c->entries[c->slots[s] - 1].name, name) == 0)
            return (int)s;
    }
}

static int find_entry(const revcache *c, const char *name)
{
    int s = find_slot(c, name);
    return s < 0 || c->slots[s] == 0 ? -1 : c->slots[s] - 1;
}

/* Keeps the table at most half full; rebuilds it from the entries when it grows. */
static int index_reserve(revcache *c, int count)
{
    if (count * 2 <= c->nslots)
        return 0;
    int n = c->nslots ? c->nslots : 64;
    while (count * 2 > n)
        n *= 2;
    int *slots = calloc((size_t)n, sizeof *slots);
    if (!slots)
        return -1;
    free(c->slots);
    c->slots = slots;
    c->nslots = n;
    for (int i = 0; i < c->count; i++)
        c->slots[find_slot(c, c->entries[i].name)] = i + 1;
    return 0;
}

/* Appends an entry (taking ownership of name and, if rev is not NULL, of *rev's fields;
 * else it is the serialised raw span) and indexes it. */
static int add_entry(revcache *c, char *name, const file_key *key, revision *rev,
                     const char *raw, size_t raw_len)
{
    if (index_reserve(c, c->count + 1) != 0)
        return -1;
    if (c->count == c->cap) {
        int cap = c->cap ? c->cap * 2 : 64;
        cache_entry *grown = realloc(c->entries, sizeof *grown * (size_t)cap);
        if (!grown)
            return -1;
        c->entries = grown;
        c->cap = cap;
    }
    cache_entry *e = &c->entries[c->count];
    e->name = name;
    e->key = *key;
    e->raw = rev ? NULL : raw;
    e->raw_len = rev ? 0 : raw_len;
    memset(&e->rev, 0, sizeof e->rev);
    if (rev) {
        e->rev = *rev;
        memset(rev, 0, sizeof *rev);
    }
    e->present = false;
    c->slots[find_slot(c, name)] = ++c->count;
    return 0;
}

/* ---- reading the file ---------------------------------------------------------------- */

typedef struct cursor {
    const char *p, *end;
} cursor;

/* The next "<len>:<bytes>" field; false when there is none or it is malformed. */
static bool next_field(cursor *cur, const char **s, size_t *len)
{
    size_t n = 0;
    const char *p = cur->p;
    if (p == cur->end || *p < '0' || *p > '9')
        return false;
    while (p < cur->end && *p >= '0' && *p <= '9') {
        if (n > (SIZE_MAX - 9) / 10)
            return false;
        n = n * 10 + (size_t)(*p++ - '0');
    }
    if (p == cur->end || *p++ != ':' || (size_t)(cur->end - p) < n)
        return false;
    *s = p;
    *len = n;
    cur->p = p + n;
    return true;
}

/* A field as a new string; NUL bytes (a Lua string may hold them) make it malformed, as
 * rbacmig's strings are C strings. */
static char *next_string(cursor *cur)
{
    const char *s;
    size_t len;
    if (!next_field(cur, &s, &len) || memchr(s, '\0', len))
        return NULL;
    return strndup(s, len);
}

static bool next_count(cursor *cur, long *out, long max)
{
    const char *s;
    size_t len;
    if (!next_field(cur, &s, &len) || len == 0 || len > 9)
        return false;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        n = n * 10 + (s[i] - '0');
    }
    *out = n;
    return n <= max;
}

/* Seven space-separated decimal numbers, digits only (the writer's "%" PRIu64 forms; the
 * signed fields are never negative for files this cache stores). */
static bool next_key(cursor *cur, file_key *k)
{
    const char *s;
    size_t len;
    if (!next_field(cur, &s, &len))
        return false;
    uint64_t v[7];
    const char *p = s, *end = s + len;
    for (int i = 0; i < 7; i++) {
        if (i > 0 && (p == end || *p++ != ' '))
            return false;
        if (p == end || *p < '0' || *p > '9')
            return false;
        uint64_t n = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (n > (UINT64_MAX - 9) / 10)
                return false;
            n = n * 10 + (uint64_t)(*p++ - '0');
        }
        v[i] = n;
    }
    for (int i = 2; i < 7; i++)
        if (v[i] > INT64_MAX)
            return false;
    *k = (file_key){v[0], v[1], (int64_t)v[2], (int64_t)v[3], (int64_t)v[4], (int64_t)v[5],
                    (int64_t)v[6]};
    return p == end;
}

static bool next_list(cursor *cur, str_list *l)
{
    long n;
    if (!next_count(cur, &n, MAX_LIST))
        return false;
    for (long i = 0; i < n; i++) {
        char *s = next_string(cur);
        bool ok = s && str_list_push(l, s) == 0;
        free(s);
        if (!ok)
            return false;
    }
    return true;
}

static bool field_is(cursor *cur, const char *expected)
{
    const char *s;
    size_t len;
    return next_field(cur, &s, &len) && len == strlen(expected) && memcmp(s, expected, len) == 0;
}

/* The fields after the key (sha256, id, message, flags, create date, the three lists) into
 * *r, which it initialises; false (r released) when they do not parse. */
static bool parse_fields(cursor *cur, revision *r)
{
    memset(r, 0, sizeof *r);
    const char *s;
    size_t len;
    /* Empty, or the 64 lowercase hex digits sha256_hex writes: a NUL or any other byte
     * would make a shorter or different checksum than the one stored. */
    bool ok = next_field(cur, &s, &len) && (len == 0 || len == 64);
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (ok) {
        memcpy(r->sha256, s, len);
        r->sha256[len] = '\0';
        ok = (r->id = next_string(cur)) != NULL && r->id[0] &&
             (r->message = next_string(cur)) != NULL && next_field(cur, &s, &len) &&
             (len == 1 || len == 2) && (s[0] == 'T' || s[0] == 'F') && (len == 1 || s[1] == 'D');
    }
    if (ok) {
        r->transactional = s[0] == 'T';
        bool has_date = len == 2;
        char *date = next_string(cur);
        ok = date != NULL;
        if (has_date)
            r->create_date = date;
        else
            free(date);
    }
    ok = ok && next_list(cur, &r->down) && next_list(cur, &r->branch_labels) &&
         next_list(cur, &r->depends_on);
    if (!ok)
        revision_release(r);
    return ok;
}

/* Steps over the fields parse_fields reads, checking only their framing. */
static bool skip_fields(cursor *cur)
{
    const char *s;
    size_t len;
    for (int i = 0; i < 5; i++)  /* sha256, id, message, flags, create date */
        if (!next_field(cur, &s, &len))
            return false;
    for (int l = 0; l < 3; l++) {
        long n;
        if (!next_count(cur, &n, MAX_LIST))
            return false;
        for (long i = 0; i < n; i++)
            if (!next_field(cur, &s, &len))
                return false;
    }
    return true;
}

/* One entry: its name and key now, the rest left serialised. */
static bool index_entry(revcache *c, cursor *cur)
{
    file_key key;
    char *name = next_string(cur);
    bool ok = name && name[0] && find_entry(c, name) < 0 && next_key(cur, &key);
    const char *raw = cur->p;
    ok = ok && skip_fields(cur) &&
         add_entry(c, name, &key, NULL, raw, (size_t)(cur->p - raw)) == 0;
    if (!ok)
        free(name);
    return ok;
}

/* Reads the whole cache file; false when it is not there or not ours to trust. */
static bool load_file(revcache *c)
{
    bool ok = false;
    textfile tf;
    rb_error ignored; /* a cache that cannot be read is simply not used */
    if (textfile_read_ex(c->file, TEXTFILE_NOFOLLOW, 256L * 1024 * 1024, &tf, &ignored) != 0)
        return false;
    char *data = tf.text;
    size_t size = tf.len;
    if (tf.st.st_uid != geteuid() || size < sizeof MAGIC)
        goto done;
    /* The checksum line: "\n" + 16 hex digits + "\n". */
    if (size < sizeof MAGIC - 1 + 18 || data[size - 18] != '\n' || data[size - 1] != '\n')
        goto done;
    char want[17];
    snprintf(want, sizeof want, "%016" PRIx64, fnv1a(data, size - 18));
    if (memcmp(want, data + size - 17, 16) != 0 || memcmp(data, MAGIC, sizeof MAGIC - 1) != 0)
        goto done;
    cursor cur = {data + sizeof MAGIC - 1, data + size - 18};
    long count;
    if (!field_is(&cur, c->identity) || !field_is(&cur, c->dir) ||
        !next_count(&cur, &count, 10000000))
        goto done;
    for (long i = 0; i < count; i++)
        if (!index_entry(c, &cur))
            goto done;
    ok = cur.p == cur.end;
done:
    if (ok)
        c->data = data; /* the loaded entries point into it */
    else
        free(data);
    return ok;
}

/* ---- opening ------------------------------------------------------------------------- */

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

static void release_cache(revcache *c)
{
    for (int i = 0; i < c->count; i++) {
        free(c->entries[i].name);
        revision_release(&c->entries[i].rev);
    }
    free(c->entries);
    free(c->slots);
    free(c->data);
    c->entries = NULL;
    c->slots = NULL;
    c->data = NULL;
    c->count = c->cap = c->nslots = 0;
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
    if (!c->file || !c->identity || !c->dir) {
        revcache_free(c);
        return NULL;
    }
    snprintf(c->file, len, "%s/%s.revs", cache_dir, name);
    if (!load_file(c))
        release_cache(c); /* start empty; a write replaces the bad file */
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

/* ---- lookups ------------------------------------------------------------------------- */

static int copy_list(str_list *dst, const str_list *src)
{
    for (int i = 0; i < src->count; i++)
        if (str_list_push(dst, src->items[i]) != 0)
            return -1;
    return 0;
}

/* A deep copy of the metadata fields of src, with path. */
static int copy_revision(revision *dst, const revision *src, const char *path)
{
    memset(dst, 0, sizeof *dst);
    dst->id = strdup(src->id);
    dst->message = strdup(src->message);
    dst->path = strdup(path);
    dst->create_date = src->create_date ? strdup(src->create_date) : NULL;
    dst->transactional = src->transactional;
    memcpy(dst->sha256, src->sha256, sizeof dst->sha256);
    if (!dst->id || !dst->message || !dst->path || (src->create_date && !dst->create_date) ||
        copy_list(&dst->down, &src->down) != 0 ||
        copy_list(&dst->branch_labels, &src->branch_labels) != 0 ||
        copy_list(&dst->depends_on, &src->depends_on) != 0) {
        revision_release(dst);
        return -1;
    }
    return 0;
}

bool revcache_lookup(revcache *c, const char *name, const struct stat *st, const char *path,
                     const char *sha256, revision *out)
{
    if (!c)
        return false;
    int i = find_entry(c, name);
    if (i < 0)
        return false;
    cache_entry *e = &c->entries[i];
    e->present = true;
    file_key key = key_of(st);
    if (!key_equal(&e->key, &key))
        return false;
    if (e->raw) {
        cursor cur = {e->raw, e->raw + e->raw_len};
        if (!parse_fields(&cur, out))
            return false;
        if ((sha256 && strcmp(out->sha256, sha256) != 0) || !(out->path = strdup(path))) {
            revision_release(out);
            return false;
        }
        return true;
    }
    if (sha256 && strcmp(e->rev.sha256, sha256) != 0)
        return false;
    return copy_revision(out, &e->rev, path) == 0;
}

void revcache_store(revcache *c, const char *name, const struct stat *st, const revision *r)
{
    if (!c)
        return;
    double changed = (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9;
    double ctime = (double)st->st_ctim.tv_sec + st->st_ctim.tv_nsec / 1e9;
    if (ctime > changed)
        changed = ctime;
    if (c->now - changed < SETTLE_SECONDS || !storable(st, r))
        return;
    file_key key = key_of(st);
    revision copy;
    char *owned = NULL;
    if (copy_revision(&copy, r, "") != 0)
        return;
    free(copy.path);
    copy.path = NULL;
    int i = find_entry(c, name);
    if (i >= 0) {
        revision_release(&c->entries[i].rev);
        c->entries[i].rev = copy;   /* the entry owns it now */
        c->entries[i].raw = NULL;
        c->entries[i].key = key;
        c->entries[i].present = true;
    } else {
        if (!(owned = strdup(name)) || add_entry(c, owned, &key, &copy, NULL, 0) != 0)
            goto fail;
        c->entries[c->count - 1].present = true;
    }
    c->dirty = true;
    return;
fail:
    free(owned);
    revision_release(&copy);
}

/* ---- writing ------------------------------------------------------------------------- */

static void put_bytes(FILE *f, const char *s, size_t len)
{
    fprintf(f, "%zu:", len);
    fwrite(s, 1, len, f);
}

static void put_string(FILE *f, const char *s)
{
    put_bytes(f, s, strlen(s));
}

static void put_list(FILE *f, const str_list *l)
{
    char n[16];
    snprintf(n, sizeof n, "%d", l->count);
    put_string(f, n);
    for (int i = 0; i < l->count; i++)
        put_string(f, l->items[i]);
}

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

static void save_file(revcache *c)
{
    char *data = NULL, *tmp = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&data, &size);
    if (!f)
        return;
    int present = 0;
    for (int i = 0; i < c->count; i++)
        present += c->entries[i].present;
    char n[16];
    fputs(MAGIC, f);
    put_string(f, c->identity);
    put_string(f, c->dir);
    snprintf(n, sizeof n, "%d", present);
    put_string(f, n);
    for (int i = 0; i < c->count; i++) {
        const cache_entry *e = &c->entries[i];
        if (!e->present)
            continue;
        char key[256];
        snprintf(key, sizeof key, "%" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64
                 " %" PRId64 " %" PRId64, e->key.dev, e->key.ino, e->key.size, e->key.mtime_s,
                 e->key.mtime_ns, e->key.ctime_s, e->key.ctime_ns);
        put_string(f, e->name);
        put_string(f, key);
        if (e->raw) { /* loaded and unchanged: the same bytes again */
            fwrite(e->raw, 1, e->raw_len, f);
            continue;
        }
        put_string(f, e->rev.sha256);
        put_string(f, e->rev.id);
        put_string(f, e->rev.message);
        put_string(f, e->rev.transactional ? (e->rev.create_date ? "TD" : "T")
                                           : (e->rev.create_date ? "FD" : "F"));
        put_string(f, e->rev.create_date ? e->rev.create_date : "");
        put_list(f, &e->rev.down);
        put_list(f, &e->rev.branch_labels);
        put_list(f, &e->rev.depends_on);
    }
    bool written = !ferror(f);
    if (fclose(f) != 0 || !written || !data)
        goto done;

    const char *slash = strrchr(c->file, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - c->file), c->file);
    size_t len = strlen(c->file) + 8;
    if (make_dirs(dir) != 0 || !(tmp = malloc(len)))
        goto done;
    snprintf(tmp, len, "%s.XXXXXX", c->file);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        tmp = NULL;
        goto done;
    }
    char trailer[19];
    snprintf(trailer, sizeof trailer, "\n%016" PRIx64 "\n", fnv1a(data, size));
    bool ok = write(fd, data, size) == (ssize_t)size && write(fd, trailer, 18) == 18;
    ok = close(fd) == 0 && ok;
    /* Several runs may save at once: each writes its own temporary file, the last rename
     * wins, and every version is whole. */
    if (!ok || rename(tmp, c->file) != 0)
        unlink(tmp);
done:
    free(tmp);
    free(data);
}

void revcache_save(revcache *c)
{
    if (!c)
        return;
    bool pruned = false;
    for (int i = 0; i < c->count && !pruned; i++)
        pruned = !c->entries[i].present;
    if (c->dirty || pruned)
        save_file(c);
}

void revcache_free(revcache *c)
{
    if (!c)
        return;
    release_cache(c);
    free(c->file);
    free(c->identity);
    free(c->dir);
    free(c);
}
