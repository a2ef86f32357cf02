/* check_revcache.c: the metadata cache of a migrations directory. Each test works in a
 * fresh directory with a private cache directory, and passes "now" explicitly so that the
 * two-second settling rule is under the test's control. The cache is an SQLite file; the
 * tests damage it byte by byte and with SQL, and check that what a lookup returns is
 * either exactly what was stored or nothing. */
#include <sqlite3.h>
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
    char *file = cache_file(&f);
    struct stat st;
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_msg((st.st_mode & 077) == 0, "the cache file is private (mode %o)",
                  (unsigned)(st.st_mode & 0777));
    free(file);
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

/* A lookup on a damaged cache: a miss, or exactly the revision stored. */
static void assert_miss_or_same(fixture *f, const revision *r, const char *what, size_t at)
{
    revision got;
    if (!lookup(f, &f->st, NULL, &got))
        return;
    ck_assert_msg(strcmp(got.id, r->id) == 0 && strcmp(got.message, r->message) == 0 &&
                      strcmp(got.sha256, r->sha256) == 0 && got.down.count == r->down.count &&
                      strcmp(got.down.items[1], r->down.items[1]) == 0 &&
                      strcmp(got.depends_on.items[0], r->depends_on.items[0]) == 0 &&
                      got.transactional == r->transactional,
                  "%s at %zu: a damaged cache returned other metadata", what, at);
    revision_release(&got);
}

/* Stores r again and checks that the cache works afterwards: a damaged file is rebuilt. */
static void assert_rebuilt(fixture *f, const revision *r)
{
    revision got;
    store_and_save(f, r);
    ck_assert_msg(lookup(f, &f->st, NULL, &got), "a damaged cache is rebuilt by the next save");
    ck_assert_str_eq(got.id, r->id);
    revision_release(&got);
}

START_TEST(test_corrupt_cache_ignored)
{
    fixture f;
    revision r, got;
    setup_stored(&f, &r);
    char *file = cache_file(&f);
    ck_assert_ptr_nonnull(file);
    size_t len = 0;
    char *data = ck_read_bytes(file, &len);
    ck_assert_uint_gt(len, 512);
    /* Flipped bytes and truncations all over the file (about 200 places, an odd stride so
     * that every offset within a page is hit somewhere): never other metadata. */
    for (size_t i = 0; i < len; i += (len / 200) | 1) {
        data[i] ^= 0x20;
        ck_write_bytes(file, data, len);
        assert_miss_or_same(&f, &r, "byte flipped", i);
        data[i] ^= 0x20;
        ck_write_bytes(file, data, i);
        assert_miss_or_same(&f, &r, "truncated", i);
    }
    /* Not a database at all (as an older rbacmig's cache file is): ignored, then replaced. */
    ck_write_text(file, "rbacmig-revcache 1\nanything\n");
    ck_assert(!lookup(&f, &f.st, NULL, &got));
    assert_rebuilt(&f, &r);
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
    assert_rebuilt(&f, &r);
    free(other_file);
    teardown(&other);
    free(data);
    free(file);
    revision_release(&r);
    teardown(&f);
}
END_TEST

/* Runs sql on the cache file directly. */
static void cache_sql(const fixture *f, const char *sql)
{
    char *file = cache_file(f);
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
    char *msg = NULL;
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", sql,
                  msg ? msg : "");
    sqlite3_close(db);
    free(file);
}

/* Rows and files changed behind the cache's back, each well-formed SQLite: none is used,
 * and the next save makes the cache work again. */
static const struct {
    const char *sql, *why;
} tamper_cases[] = {
    {"SELECT 1", "nothing changed (control)"},
    {"UPDATE entries SET message = CAST('other' AS BLOB)", "a message changed"},
    {"UPDATE entries SET id = CAST('def456' AS BLOB)", "a revision id changed"},
    {"UPDATE entries SET down = CAST('p1' || char(0) AS BLOB)", "a parent dropped"},
    {"UPDATE entries SET sha256 = CAST(upper(CAST(sha256 AS TEXT)) AS BLOB)", "a checksum changed"},
    {"UPDATE entries SET create_date = NULL", "a date removed"},
    {"UPDATE entries SET digest = NULL", "no digest"},
    {"UPDATE entries SET key = zeroblob(56)", "another key (with no digest to match)"},
    {"UPDATE meta SET identity = 'another build'", "written by another binary"},
    {"DELETE FROM meta", "no meta row"},
    {"INSERT INTO meta SELECT * FROM meta", "two meta rows"},
    {"PRAGMA application_id = 7", "another application's file"},
    {"DROP TABLE entries; CREATE TABLE entries (name TEXT)", "another table"},
};

START_TEST(test_tampered_cache_ignored)
{
    fixture f;
    revision r, got;
    setup_stored(&f, &r);
    cache_sql(&f, tamper_cases[_i].sql);
    bool hit = lookup(&f, &f.st, NULL, &got);
    if (_i == 0) {
        ck_assert_msg(hit, "%s", tamper_cases[_i].why);
        revision_release(&got);
    } else {
        ck_assert_msg(!hit, "%s: not used", tamper_cases[_i].why);
        assert_rebuilt(&f, &r);
    }
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

/* A cache directory that can no longer be written: lookups still work, saving fails
 * quietly and leaves the file as it was. */
START_TEST(test_read_only_cache_dir)
{
    if (geteuid() == 0)
        return; /* root writes anyway */
    fixture f;
    revision r, got;
    setup_stored(&f, &r);
    ck_assert_int_eq(chmod(f.cache, 0500), 0);
    revcache *c = revcache_open_at(f.dir, f.cache, settled(&f));
    ck_assert(revcache_lookup(c, "a.lua", &f.st, f.file, NULL, &got));
    revision_release(&got);
    revcache_store(c, "b.lua", &f.st, &r);
    revcache_save(c);
    revcache_free(c);
    ck_assert_msg(lookup(&f, &f.st, NULL, &got), "the file is intact");
    revision_release(&got);
    ck_assert_int_eq(chmod(f.cache, 0700), 0);
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
    tcase_add_loop_test(tc, test_tampered_cache_ignored, 0,
                        (int)(sizeof tamper_cases / sizeof tamper_cases[0]));
    tcase_add_test(tc, test_read_only_cache_dir);
    suite_add_tcase(s, tc);
    return s;
}
