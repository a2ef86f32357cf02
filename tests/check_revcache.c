/* check_revcache.c: the metadata cache of a migrations directory. Each test works in a
 * fresh directory with a private cache directory, and passes "now" explicitly so that the
 * two-second settling rule is under the test's control. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "check_rbacmig.h"
#include "revcache.h"

typedef struct fixture {
    char dir[64];        /* the "migrations directory" */
    char cache[64];      /* the cache directory */
    char *file;          /* dir/a.lua */
    struct stat st;
} fixture;

static void setup(fixture *f)
{
    ck_tmpdir(f->dir);
    ck_tmpdir(f->cache);
    f->file = ck_write_in(f->dir, "a.lua", "return {}\n");
    ck_assert_int_eq(stat(f->file, &f->st), 0);
}

static void teardown(fixture *f)
{
    free(f->file);
    ck_rmdir(f->dir);
    ck_rmdir(f->cache);
}

/* Long enough after the file's last change for its key to be trusted. */
static double settled(const fixture *f)
{
    return (double)f->st.st_ctim.tv_sec + 10.0;
}

static void make_revision(revision *r, const char *id)
{
    memset(r, 0, sizeof *r);
    r->id = strdup(id);
    r->message = strdup("a message: with \"quotes\",\nnewlines and 12:colons");
    r->path = strdup("ignored");
    r->create_date = strdup("2026-12-01 10:00:00");
    r->transactional = false;
    ck_assert_int_eq(str_list_push(&r->down, "p1"), 0);
    ck_assert_int_eq(str_list_push(&r->down, "p2"), 0);
    ck_assert_int_eq(str_list_push(&r->branch_labels, "core"), 0);
    ck_assert_int_eq(str_list_push(&r->depends_on, "d1"), 0);
    memset(r->sha256, 'a', 64);
    r->sha256[64] = '\0';
}

/* Stores r under "a.lua" in a new cache and saves it. */
static void store_and_save(fixture *f, const revision *r)
{
    revcache *c = revcache_open_at(f->dir, f->cache, settled(f));
    ck_assert_ptr_nonnull(c);
    revcache_store(c, "a.lua", &f->st, r);
    revcache_save(c);
    revcache_free(c);
}

/* A fresh fixture whose cache holds r (made by make_revision) for "a.lua". */
static void setup_stored(fixture *f, revision *r)
{
    setup(f);
    make_revision(r, "abc123");
    store_and_save(f, r);
}

/* Opens the cache again and looks "a.lua" up with st (and sha256, if not NULL). */
static bool lookup(fixture *f, const struct stat *st, const char *sha256, revision *out)
{
    revcache *c = revcache_open_at(f->dir, f->cache, settled(f));
    ck_assert_ptr_nonnull(c);
    bool hit = revcache_lookup(c, "a.lua", st, f->file, sha256, out);
    revcache_free(c);
    return hit;
}

/* The cache file in f->cache (the one *.revs file), malloc'd path, or NULL. */
static char *cache_file(const fixture *f)
{
    DIR *d = opendir(f->cache);
    ck_assert_ptr_nonnull(d);
    char *found = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".revs") == 0) {
            ck_assert_ptr_null(found);
            found = ck_path(f->cache, e->d_name);
        }
    }
    closedir(d);
    return found;
}

START_TEST(test_round_trip)
{
    fixture f;
    revision r, got;
    setup_stored(&f, &r);
    char other_sha[65];
    memset(other_sha, 'b', 64);
    other_sha[64] = '\0';
    ck_assert_msg(!lookup(&f, &f.st, other_sha, &got), "an entry is not used for other bytes");
    ck_assert_msg(lookup(&f, &f.st, r.sha256, &got), "a stored entry is found again");
    ck_assert_str_eq(got.id, "abc123");
    ck_assert_str_eq(got.message, r.message);
    ck_assert_str_eq(got.path, f.file);
    ck_assert_str_eq(got.create_date, "2026-12-01 10:00:00");
    ck_assert(!got.transactional);
    ck_assert_int_eq(got.down.count, 2);
    ck_assert_str_eq(got.down.items[0], "p1");
    ck_assert_str_eq(got.down.items[1], "p2");
    ck_assert_int_eq(got.branch_labels.count, 1);
    ck_assert_str_eq(got.branch_labels.items[0], "core");
    ck_assert_int_eq(got.depends_on.count, 1);
    ck_assert_str_eq(got.depends_on.items[0], "d1");
    ck_assert_str_eq(got.sha256, r.sha256);
    revision_release(&got);

    /* No create date, transactional, no lists, no checksum. */
    revision_release(&r);
    memset(&r, 0, sizeof r);
    r.id = strdup("x");
    r.message = strdup("");
    r.transactional = true;
    store_and_save(&f, &r);
    ck_assert(lookup(&f, &f.st, NULL, &got));
    ck_assert_ptr_null(got.create_date);
    ck_assert(got.transactional);
    ck_assert_int_eq(got.down.count + got.branch_labels.count + got.depends_on.count, 0);
    ck_assert_str_eq(got.sha256, "");
    revision_release(&got);
    ck_assert_msg(!lookup(&f, &f.st, other_sha, &got), "an entry without a checksum cannot "
                  "stand in where one is needed");
    revision_release(&r);
    teardown(&f);
}
END_TEST

START_TEST(test_changed_file_misses)
{
    fixture f;
    revision r, got;
    setup_stored(&f, &r);
    /* The same size, the mtime set back: only the ctime tells, and it must. */
    ck_write_text(f.file, "return {}\n");
    struct utimbuf times = {f.st.st_atime, f.st.st_mtime};
    ck_assert_int_eq(utime(f.file, &times), 0);
    struct stat now;
    ck_assert_int_eq(stat(f.file, &now), 0);
    struct stat changed = f.st;
    changed.st_ctim = now.st_ctim;
    if (changed.st_ctim.tv_sec != f.st.st_ctim.tv_sec ||
        changed.st_ctim.tv_nsec != f.st.st_ctim.tv_nsec)
        ck_assert_msg(!lookup(&f, &changed, NULL, &got), "a new ctime is a miss");
    /* Each part of the key on its own. */
    changed = f.st;
    changed.st_size++;
    ck_assert(!lookup(&f, &changed, NULL, &got));
    changed = f.st;
    changed.st_ino++;
    ck_assert(!lookup(&f, &changed, NULL, &got));
    changed = f.st;
    changed.st_mtim.tv_nsec = (changed.st_mtim.tv_nsec + 1) % 1000000000;
    ck_assert(!lookup(&f, &changed, NULL, &got));
    changed = f.st;
    changed.st_dev++;
    ck_assert(!lookup(&f, &changed, NULL, &got));
    ck_assert(lookup(&f, &f.st, NULL, &got));
    revision_release(&got);
    revision_release(&r);
    teardown(&f);
}
END_TEST

START_TEST(test_recent_change_not_stored)
{
    fixture f;
    setup(&f);
    revision r, got;
    make_revision(&r, "abc123");
    revcache *c = revcache_open_at(f.dir, f.cache, (double)f.st.st_ctim.tv_sec + 1.0);
    ck_assert_ptr_nonnull(c);
    revcache_store(c, "a.lua", &f.st, &r);
    revcache_save(c);
    revcache_free(c);
    char *file = cache_file(&f);
    ck_assert_msg(file == NULL, "a file changed a second ago is not cached");
    ck_assert(!lookup(&f, &f.st, NULL, &got));
    revision_release(&r);
    teardown(&f);
}
END_TEST

START_TEST(test_corrupt_cache_ignored)
{
    fixture f;
    revision r, got;
    setup_stored(&f, &r);
    char *file = cache_file(&f);
    ck_assert_ptr_nonnull(file);
    char *text = ck_read_file(file);
    size_t len = strlen(text);
    /* Every single flipped byte, and every truncation, is a cache that is not there. */
    for (size_t i = 0; i < len; i += 7) {
        text[i] ^= 0x20;
        ck_write_bytes(file, text, len);
        ck_assert_msg(!lookup(&f, &f.st, NULL, &got), "byte %zu flipped", i);
        text[i] ^= 0x20;
        ck_write_bytes(file, text, i);
        ck_assert_msg(!lookup(&f, &f.st, NULL, &got), "truncated at %zu", i);
    }
    ck_write_bytes(file, text, len);
    ck_assert(lookup(&f, &f.st, NULL, &got));
    revision_release(&got);
    /* A cache of another directory under this one's name. */
    fixture other;
    setup(&other);
    revcache *c = revcache_open_at(other.dir, f.cache, settled(&other));
    revcache_store(c, "a.lua", &f.st, &r);
    revcache_save(c);
    revcache_free(c);
    DIR *d = opendir(f.cache);
    struct dirent *e;
    char *other_file = NULL;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strcmp(strrchr(file, '/') + 1, e->d_name) != 0)
            other_file = ck_path(f.cache, e->d_name);
    closedir(d);
    ck_assert_ptr_nonnull(other_file);
    ck_assert_int_eq(rename(other_file, file), 0);
    ck_assert_msg(!lookup(&f, &f.st, NULL, &got), "another directory's cache is not used");
    free(other_file);
    teardown(&other);
    free(text);
    free(file);
    revision_release(&r);
    teardown(&f);
}
END_TEST

START_TEST(test_removed_files_pruned)
{
    fixture f;
    setup(&f);
    revision r, got;
    make_revision(&r, "abc123");
    revcache *c = revcache_open_at(f.dir, f.cache, settled(&f));
    revcache_store(c, "a.lua", &f.st, &r);
    revcache_store(c, "b.lua", &f.st, &r);
    revcache_save(c);
    revcache_free(c);
    /* A run that sees only a.lua keeps only a.lua. */
    c = revcache_open_at(f.dir, f.cache, settled(&f));
    ck_assert(revcache_lookup(c, "a.lua", &f.st, f.file, NULL, &got));
    revision_release(&got);
    revcache_save(c);
    revcache_free(c);
    c = revcache_open_at(f.dir, f.cache, settled(&f));
    ck_assert(revcache_lookup(c, "a.lua", &f.st, f.file, NULL, &got));
    revision_release(&got);
    ck_assert_msg(!revcache_lookup(c, "b.lua", &f.st, f.file, NULL, &got),
                  "the entry of a removed file is dropped");
    revcache_free(c);
    revision_release(&r);
    teardown(&f);
}
END_TEST

START_TEST(test_many_entries_and_nowhere_to_write)
{
    fixture f;
    setup(&f);
    revision r, got;
    make_revision(&r, "abc123");
    revcache *c = revcache_open_at(f.dir, f.cache, settled(&f));
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "m%04d.lua", i);
        revcache_store(c, name, &f.st, &r);
    }
    revcache_save(c);
    revcache_free(c);
    c = revcache_open_at(f.dir, f.cache, settled(&f));
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "m%04d.lua", i);
        ck_assert_msg(revcache_lookup(c, name, &f.st, f.file, r.sha256, &got), "%s", name);
        ck_assert_str_eq(got.id, "abc123");
        revision_release(&got);
    }
    revcache_free(c);
    /* A cache directory that cannot be made: no cache, no error. */
    char *blocked = ck_write_in(f.cache, "file", "x");
    char *below = ck_path(blocked, "sub");
    c = revcache_open_at(f.dir, below, settled(&f)); /* NULL, or a cache that cannot save */
    revcache_store(c, "a.lua", &f.st, &r);
    revcache_save(c);
    revcache_free(c);
    ck_assert(!ck_file_exists(below));
    free(below);
    free(blocked);
    /* A cache directory others can write to is not used, nor a cache file behind a link. */
    ck_assert_int_eq(chmod(f.cache, 0777), 0);
    ck_assert_ptr_null(revcache_open_at(f.dir, f.cache, settled(&f)));
    ck_assert_int_eq(chmod(f.cache, 0700), 0);
    char *file = cache_file(&f);
    char *moved = ck_path(f.dir, "moved.revs");
    ck_assert_int_eq(rename(file, moved), 0);
    ck_assert_int_eq(symlink(moved, file), 0);
    c = revcache_open_at(f.dir, f.cache, settled(&f));
    ck_assert_msg(!revcache_lookup(c, "m0000.lua", &f.st, f.file, NULL, &got),
                  "a cache file that is a symbolic link is not read");
    revcache_free(c);
    unlink(file);
    free(moved);
    free(file);
    /* Turned off. */
    setenv("RBACMIG_NO_CACHE", "1", 1);
    ck_assert_ptr_null(revcache_open(f.dir));
    unsetenv("RBACMIG_NO_CACHE");
    revision_release(&r);
    teardown(&f);
}
END_TEST

/* ---- malformed content behind a valid checksum ----------------------------------------- */

/* "<len>:<s>" appended to buf. */
static void put_field(char *buf, size_t size, const char *s, size_t len)
{
    size_t n = strlen(buf);
    ck_assert(n + len + 24 < size);
    n += (size_t)snprintf(buf + n, size - n, "%zu:", len);
    memcpy(buf + n, s, len);
    buf[n + len] = '\0';
}

static void put_str(char *buf, size_t size, const char *s)
{
    put_field(buf, size, s, strlen(s));
}

/* Writes header + body with a correct checksum line, as revcache.c frames its file. */
static void write_framed(const char *path, const char *header, const char *body, size_t body_len)
{
    size_t hlen = strlen(header), len = hlen + body_len;
    char *data = malloc(len + 18);
    ck_assert_ptr_nonnull(data);
    memcpy(data, header, hlen);
    memcpy(data + hlen, body, body_len);
    char trailer[19];
    snprintf(trailer, sizeof trailer, "\n%016llx\n",
             (unsigned long long)revcache_checksum(data, len));
    memcpy(data + len, trailer, 18);
    ck_write_bytes(path, data, len + 18);
    free(data);
}

START_TEST(test_malformed_entries)
{
    fixture f;
    revision r, got;
    setup_stored(&f, &r);
    char *file = cache_file(&f);
    char *valid = ck_read_file(file);
    /* The header the reader expects: the magic line, then this binary's identity and the
     * directory, each a field; everything after them is what the cases below replace. */
    const char *p = strchr(valid, '\n') + 1;
    for (int i = 0; i < 2; i++) {
        size_t len = strtoul(p, NULL, 10);
        p = strchr(p, ':') + 1 + len;
    }
    char header[8192];
    ck_assert((size_t)(p - valid) < sizeof header);
    memcpy(header, valid, (size_t)(p - valid));
    header[p - valid] = '\0';

    char key[256];
    snprintf(key, sizeof key, "%llu %llu %lld %lld %ld %lld %ld",
             (unsigned long long)f.st.st_dev, (unsigned long long)f.st.st_ino,
             (long long)f.st.st_size, (long long)f.st.st_mtim.tv_sec, (long)f.st.st_mtim.tv_nsec,
             (long long)f.st.st_ctim.tv_sec, (long)f.st.st_ctim.tv_nsec);
    /* name, key, sha, id, message, flags, date, then the three lists as count + items */
    const char *good[] = {"a.lua", key, "", "abc123", "msg", "T", "", "1", "p1", "0", "0", NULL};
    static const struct { int field; const char *value; const char *why; } cases[] = {
        {-1, NULL, "the well-formed entry (control)"},
        {1, "1 2 3", "a key with three numbers"},
        {1, "-1 2 3 4 5 6 7", "a negative number in the key"},
        {2, "abc", "a checksum that is neither empty nor 64 characters"},
        {2, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF",
         "a checksum with capitals (sha256_hex writes lowercase)"},
        {2, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
         "a checksum with a letter that is not a hex digit"},
        {3, "", "an empty revision id"},
        {5, "X", "unknown flags"},
        {5, "TDX", "flags too long"},
        {7, "99999999", "a list longer than the reader takes"},
        {7, "2", "a list shorter than its count"},
        {7, "x", "a count that is not a number"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char body[4096] = "";
        put_str(body, sizeof body, "1");
        for (int i = 0; good[i]; i++)
            put_str(body, sizeof body, (int)cases[c].field == i ? cases[c].value : good[i]);
        write_framed(file, header, body, strlen(body));
        bool hit = lookup(&f, &f.st, NULL, &got);
        if (cases[c].field < 0) {
            ck_assert_msg(hit, "%s", cases[c].why);
            ck_assert_str_eq(got.id, "abc123");
            ck_assert_int_eq(got.down.count, 1);
            revision_release(&got);
        } else {
            ck_assert_msg(!hit, "%s is not used", cases[c].why);
        }
    }
    /* Framing errors: a length past the end, a NUL in a name, an entry named twice, more
     * entries announced than there are, bytes after the last entry. */
    const char *framing[] = {"1", "1", "2", "2"};
    for (int c = 0; c < 5; c++) {
        char body[8192] = "";
        if (c < 4)
            put_str(body, sizeof body, framing[c]);
        else
            put_str(body, sizeof body, "1");
        for (int copy = 0; copy < (c == 2 ? 2 : 1); copy++)
            for (int i = 0; good[i] && !(c == 0 && i == 4) && !(c == 1 && i == 1); i++) {
                if (c == 1 && i == 0)
                    put_field(body, sizeof body, "a.l\0ua", 6);
                else
                    put_str(body, sizeof body, good[i]);
            }
        if (c == 0)
            strcat(body, "999:msg"); /* the message's length runs past the end */
        if (c == 4)
            strcat(body, "junk");
        /* the NUL case (its name is the last field): strlen stops at the NUL */
        size_t len = strlen(body);
        if (c == 1)
            len += strlen(body + len + 1) + 1;
        write_framed(file, header, body, len);
        ck_assert_msg(!lookup(&f, &f.st, NULL, &got), "framing case %d is not used", c);
    }
    free(valid);
    free(file);
    revision_release(&r);
    teardown(&f);
}
END_TEST

Suite *make_revcache_suite(void)
{
    Suite *s = suite_create("revcache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_changed_file_misses);
    tcase_add_test(tc, test_recent_change_not_stored);
    tcase_add_test(tc, test_corrupt_cache_ignored);
    tcase_add_test(tc, test_removed_files_pruned);
    tcase_add_test(tc, test_many_entries_and_nowhere_to_write);
    tcase_add_test(tc, test_malformed_entries);
    suite_add_tcase(s, tc);
    return s;
}
